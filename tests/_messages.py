"""Streams of messages of every shape, for tests that check they arrive whole and in order."""

from __future__ import annotations

import random
from typing import List, Tuple


def mixed_messages(count: int, seed: int,
                   large: Tuple[int, int] = (100_000, 400_000)) -> List[List[bytes]]:
    """Three quarters short single frames, then long frames (250-5,000 B), frames of
    ``large`` bytes, and multipart messages with an empty frame; each starts with its
    number."""
    rng = random.Random(seed)
    out: List[List[bytes]] = []
    for number in range(count):
        tag = b"%06d:" % number
        pick = rng.random()
        if pick < 0.75:
            out.append([tag + b"s" * rng.randrange(0, 200)])
        elif pick < 0.85:
            out.append([tag + b"L" * rng.randrange(250, 5000)])
        elif pick < 0.88:
            out.append([tag + b"H" * rng.randrange(*large)])
        else:
            out.append([tag, b"", b"p" * rng.randrange(0, 300)])
    return out
