"""Large bodies handed back by recv(copy=True) on interpreters without reference counts.

On PyPy a decoder cannot tell when a body it handed out is free again; recv(copy=True)
can, and returns the buffer to its socket for the next large body.  On CPython the
decoder's reference counts do this (tests/zmtp/test_framing.py) and these tests skip.
"""

from __future__ import annotations

from typing import Any, List

import pytest

import puremq
from puremq.frame import RecyclableBody

pytestmark = pytest.mark.skipif(RecyclableBody is None,
                                reason="reference counts recycle bodies here")

SIZE = 200 * 1024
WAIT_MS = 10000


def _pair(ctx: Any) -> "tuple[Any, Any]":
    pull = ctx.socket(puremq.PULL)
    pull.rcvtimeo = WAIT_MS
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = ctx.socket(puremq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    return push, pull


def _body(index: int) -> bytes:
    return bytes([index % 251]) * SIZE


def test_a_body_copied_out_by_recv_receives_the_next_large_message(ctx: Any) -> None:
    """recv(copy=True) SHALL hand the body it copied back to its socket, and the next large
    body SHALL be received into that buffer."""
    push, pull = _pair(ctx)
    push.send(_body(1))
    assert pull.recv() == _body(1)
    [recycled] = list(pull._free_bodies)
    push.send(_body(2))
    assert pull.recv() == _body(2)
    assert list(pull._free_bodies) == [recycled] and pull._free_bodies[0] is recycled


def test_bodies_in_flight_are_never_overwritten(ctx: Any) -> None:
    """Every message SHALL arrive intact while bodies are recycled: many large messages
    queued before the first is received."""
    push, pull = _pair(ctx)
    for index in range(40):
        push.send(_body(index))
    received: List[bytes] = [pull.recv() for _ in range(40)]
    assert received == [_body(index) for index in range(40)]


def test_a_frame_handed_out_is_never_reused(ctx: Any) -> None:
    """A body handed out by recv(copy=False) SHALL stay the application's: the messages
    received after it leave it intact, and it never joins the free list."""
    push, pull = _pair(ctx)
    push.send(_body(7))
    kept = pull.recv(copy=False)
    assert isinstance(kept, puremq.Frame) and kept.bytes == _body(7)
    for index in range(10):
        push.send(_body(index))
        assert pull.recv() == _body(index)
    assert kept.bytes == _body(7)
    assert all(body is not kept for body in pull._free_bodies)



def test_the_bodies_kept_stay_within_a_byte_budget(ctx: Any, monkeypatch: Any) -> None:
    """The bodies a socket keeps for reuse SHALL together stay within SPARE_BYTES (one
    body is kept whatever its size)."""
    from puremq.zmtp import framing
    monkeypatch.setattr(framing, "SPARE_BYTES", SIZE + SIZE // 2)
    push, pull = _pair(ctx)
    for index in range(6):
        push.send(_body(index))
    received = [pull.recv() for _ in range(6)]
    assert received == [_body(index) for index in range(6)]
    assert len(pull._free_bodies) == 1
