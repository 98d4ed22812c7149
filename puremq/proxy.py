"""zmq.proxy: forward whole messages between two sockets until the context ends.

Messages move only towards a side that can take them (POLLOUT), so high-water marks hold
on both sides and a multipart message is always forwarded whole.  A capture socket, if
given, gets a copy of every message.
"""

from __future__ import annotations

from typing import Any, Optional

from .constants import Flag, PollEvent
from .error import Again, ContextTerminated, ZMQError
from .constants import Errno

__all__ = ["proxy"]

_BATCH = 256


def _forward(source: Any, target: Any, capture: Optional[Any]) -> None:
    for _ in range(_BATCH):
        if not target._engine.poll_events(PollEvent.POLLOUT):
            return
        try:
            msg = source.recv_multipart(Flag.DONTWAIT, copy=False)
        except Again:
            return
        if capture is not None:
            capture.send_multipart(msg, copy=False)
        target.send_multipart(msg, copy=False)


def proxy(frontend: Any, backend: Any, capture: Optional[Any] = None) -> None:
    """Run until the context is terminated (then raise ContextTerminated, as pyzmq)."""
    from .poll import zmq_poll
    try:
        while True:
            interest = []
            if backend._engine.poll_events(PollEvent.POLLOUT) or frontend is backend:
                interest.append((frontend, PollEvent.POLLIN))
            if frontend is not backend and frontend._engine.poll_events(PollEvent.POLLOUT):
                interest.append((backend, PollEvent.POLLIN))
            if not interest:
                interest = [(frontend, PollEvent.POLLOUT), (backend, PollEvent.POLLOUT)]
            for sock, events in zmq_poll(interest, -1):
                if events & PollEvent.POLLIN:
                    if sock is frontend:
                        _forward(frontend, backend, capture)
                    else:
                        _forward(backend, frontend, capture)
    except ZMQError as exc:
        if exc.errno in (Errno.ETERM, Errno.ENOTSOCK):
            raise ContextTerminated() from None
        raise
