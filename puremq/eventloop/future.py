"""Future-returning sockets for tornado coroutines, shaped like pyzmq's
``zmq.eventloop.future``.

Tornado >= 6 runs on asyncio, so these are puremq.asyncio's sockets with pyzmq's tornado
flavour of futures: ``cancel()`` completes a future with this module's ``CancelledError``.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from tornado.ioloop import IOLoop

from .. import _future

__all__ = ["CancelledError", "Context", "Socket", "Poller"]


class CancelledError(Exception):
    """What a cancelled future of this module raises (pyzmq's tornado flavour)."""


def _tornado_cancel(future: Any) -> bool:
    if future.done():
        return False
    future.set_exception(CancelledError())
    return True


def _tornado_cancelled(future: Any) -> bool:
    return future.done() and isinstance(asyncio.Future.exception(future), CancelledError)


class _TornadoFuture(asyncio.Future):
    """tornado's Future (asyncio's since tornado 5), with cancellation reinstated."""

    def cancel(self, msg: Any = None) -> bool:
        return _tornado_cancel(self)

    def cancelled(self) -> bool:
        return _tornado_cancelled(self)


class _TornadoRecvFuture(_future._RecvFuture):
    """A pending recv's future, tornado flavour (gives its message back likewise)."""

    def cancel(self, msg: Any = None) -> bool:
        return _tornado_cancel(self)

    def cancelled(self) -> bool:
        if self._given_back:
            return True
        return _tornado_cancelled(self)


def _current_loop() -> Any:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return IOLoop.current().asyncio_loop  # type: ignore[attr-defined]


class Poller(_future._AsyncPoller):
    """Poller whose poll() returns a tornado Future."""

    _future_class = _TornadoFuture

    def _default_loop(self) -> Any:
        return _current_loop()


class Socket(_future._AsyncSocket):
    """Socket whose send/recv/poll methods return tornado Futures."""

    _future_class = _TornadoFuture
    _recv_future_class = _TornadoRecvFuture
    _poller_class = Poller

    def _default_loop(self) -> Any:
        return _current_loop()


Poller._socket_class = Socket  # type: ignore[attr-defined]


class Context(_future._AsyncContext):
    """Context for creating sockets with tornado Futures."""

    _socket_class = Socket
    _instance = None
    io_loop = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        io_loop = kwargs.pop("io_loop", None)
        if io_loop is not None:
            warnings.warn(f"{type(self).__name__}(io_loop) argument is deprecated in pyzmq "
                          f"22.2. The currently active loop will always be used.",
                          DeprecationWarning, stacklevel=2)
        super().__init__(*args, **kwargs)
