"""Holding a context's I/O thread, for tests of what the sending thread does on its own."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator


@contextmanager
def io_thread_held(reactor: Any, timeout: float = 10.0) -> Iterator[None]:
    """``reactor``'s I/O thread is parked in a callback for the block: it reads and writes
    nothing until the block ends (or ``timeout`` passes)."""
    parked, release = threading.Event(), threading.Event()
    reactor.post(lambda: (parked.set(), release.wait(timeout)))
    try:
        assert parked.wait(timeout), "the I/O thread did not park"
        yield
    finally:
        release.set()
