"""asyncio support, shaped like pyzmq's ``zmq.asyncio``.

``puremq.asyncio.Context`` makes sockets whose ``send*``/``recv*``/``poll`` return asyncio
futures; ``Poller.poll()`` returns a future too.  Options, bind/connect and close stay
synchronous.  They work on any asyncio loop: selector loops and uvloop through
``add_reader`` on the socket's FD, and loops without ``add_reader`` (Windows' Proactor loop)
through a watcher thread that puremq starts for them (see ``puremq._future``).

A cancelled ``recv`` loses no message: a message taken for a task that was cancelled before
it saw it goes back to the socket.  A cancelled ``send_multipart`` sent all of the message or
none of it.
"""

from __future__ import annotations

import asyncio
import selectors
import warnings
from typing import Optional

from . import _future

__all__ = ["Context", "Socket", "Poller", "ZMQEventLoop", "install"]


class Poller(_future._AsyncPoller):
    """Poller whose poll() returns an asyncio Future for [(socket, events)]."""


class Socket(_future._AsyncSocket):
    """Socket whose send/recv/poll methods return asyncio Futures."""

    _poller_class = Poller


Poller._socket_class = Socket  # type: ignore[attr-defined]


class Context(_future._AsyncContext):
    """Context for creating asyncio-compatible Sockets."""

    _socket_class = Socket
    _instance = None  # not shared with puremq.Context.instance()


class ZMQEventLoop(asyncio.SelectorEventLoop):
    """DEPRECATED (as in pyzmq 17): any asyncio loop works."""

    def __init__(self, selector: Optional[selectors.BaseSelector] = None) -> None:
        _deprecated()
        super().__init__(selector)


def install() -> None:
    """DEPRECATED (as in pyzmq 17): no longer needed."""
    _deprecated()


def _deprecated() -> None:
    warnings.warn("ZMQEventLoop and puremq.asyncio.install are deprecated: special event "
                  "loop integration is not needed.", DeprecationWarning, stacklevel=3)

