"""Ending a test's context, pyzmq's or puremq's, whatever the interpreter."""

from __future__ import annotations

import gc
import platform
from typing import Any

#: only PyPy collects sockets without reference counts, at moments of its own
_DEFERRED_FINALIZERS = platform.python_implementation() == "PyPy"


def destroy_context(context: Any) -> None:
    """``context.destroy(linger=0)``, after the finalizers of the sockets a test dropped.

    pyzmq's destroy closes the sockets its context still knows (a WeakSet) and then waits
    in libzmq for all of them.  On PyPy a socket the test dropped may already have left
    that set while its ``__del__``, which closes it, is still queued: libzmq then waits
    for it forever, with the interpreter stuck in the call that would have run it (a CI
    run under PyPy hung 60 s in zmq_ctx_destroy this way).  A full collection first runs
    those finalizers."""
    if _DEFERRED_FINALIZERS:
        gc.collect()
    context.destroy(linger=0)
