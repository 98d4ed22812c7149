"""ZMQStream: callbacks for a puremq socket on a tornado IOLoop, shaped like pyzmq's
``zmq.eventloop.zmqstream``.

The stream watches the socket's FD with ``io_loop.add_handler`` and follows the FD's
edge-triggered semantics: on a wake-up it reads EVENTS, handles one message each way, and
if the socket still has events it cares about it schedules itself again with
``add_callback`` (the FD will not fire for what is already there).  On a loop without
``add_reader`` the FD is watched by puremq's watcher thread instead (see puremq._future).

Callbacks:

* ``on_recv(callback, copy=True)``: ``callback(msg)`` for every message received (a list of
  frames, as ``recv_multipart`` returns it); ``on_recv_stream`` passes the stream too.
* ``on_send(callback)``: ``callback(msg, status)`` after every send; ``status`` is what
  ``send_multipart`` returned (a MessageTracker or None) or the ZMQError it raised.
* ``send``/``send_multipart``/``send_string``/``send_json``/``send_pyobj`` queue a message
  that is sent when the socket can take it.

Callbacks may be coroutines; their exceptions are logged.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import selectors
import warnings
from queue import Queue
from typing import Any, Callable, Optional, Sequence

from tornado.ioloop import IOLoop
from tornado.log import gen_log

from ..constants import Errno, Flag, PollEvent
from ..error import ContextTerminated, ZMQError
from ..poll import Poller
from ..socket import Socket
from .._future import _AsyncSocket, _ShadowSocket, _unwatch, _watch

__all__ = ["ZMQStream"]

POLLIN = int(PollEvent.POLLIN)
POLLOUT = int(PollEvent.POLLOUT)
NOBLOCK = int(Flag.NOBLOCK)


def _ignore(*_args: Any) -> None:
    return None


class ZMQStream:
    """Register callbacks for when a socket receives or has sent a message (tornado)."""

    socket: Any
    io_loop: IOLoop

    def __init__(self, socket: Socket, io_loop: Optional[IOLoop] = None) -> None:
        if isinstance(socket, _AsyncSocket):
            warnings.warn("ZMQStream only supports the base puremq.Socket class; the stream "
                          "uses a plain handle on the same socket.", RuntimeWarning,
                          stacklevel=2)
            socket = _ShadowSocket(socket)
        self.socket = socket
        self.io_loop = io_loop or IOLoop.current()
        self.poller = Poller()
        self._fd = socket.FD
        self._send_queue: "Queue[Any]" = Queue()
        self._recv_callback: Optional[Callable[..., Any]] = None
        self._send_callback: Optional[Callable[..., Any]] = None
        self._close_callback: Optional[Callable[..., Any]] = None
        self._recv_copy = False
        self._flushed = False
        self._state = 0
        self._watcher: Any = None
        self._init_io_state()

        # the socket's own methods, as pyzmq's stream exposes them
        self.bind = socket.bind
        self.bind_to_random_port = socket.bind_to_random_port
        self.connect = socket.connect
        self.setsockopt = socket.setsockopt
        self.getsockopt = socket.getsockopt
        self.setsockopt_string = socket.setsockopt_string
        self.getsockopt_string = socket.getsockopt_string
        self.setsockopt_unicode = socket.setsockopt_unicode
        self.getsockopt_unicode = socket.getsockopt_unicode

    # -- callbacks -----------------------------------------------------------------------
    def stop_on_recv(self) -> None:
        """Disable the recv callback and automatic receiving."""
        return self.on_recv(None)

    def stop_on_send(self) -> None:
        """Disable the send callback."""
        return self.on_send(None)

    def stop_on_err(self) -> None:
        """DEPRECATED, does nothing."""
        gen_log.warning("on_err does nothing, and will be removed")

    def on_err(self, callback: Callable[..., Any]) -> None:
        """DEPRECATED, does nothing."""
        gen_log.warning("on_err does nothing, and will be removed")

    def on_recv(self, callback: Optional[Callable[[Any], Any]], copy: bool = True) -> None:
        """Call ``callback(msg)`` for every message received; None stops receiving."""
        self._check_closed()
        assert callback is None or callable(callback)
        self._recv_callback = callback
        self._recv_copy = copy
        if callback is None:
            self._drop_io_state(POLLIN)
        else:
            self._add_io_state(POLLIN)

    def on_recv_stream(self, callback: Optional[Callable[[Any, Any], Any]],
                       copy: bool = True) -> None:
        """As on_recv, with the stream as first argument: ``callback(stream, msg)``."""
        if callback is None:
            self.stop_on_recv()
            return
        self.on_recv(lambda msg: callback(self, msg), copy=copy)

    def on_send(self, callback: Optional[Callable[[Any, Any], Any]]) -> None:
        """Call ``callback(msg, status)`` after every send; None stops it."""
        self._check_closed()
        assert callback is None or callable(callback)
        self._send_callback = callback

    def on_send_stream(self, callback: Optional[Callable[[Any, Any, Any], Any]]) -> None:
        """As on_send, with the stream as first argument: ``callback(stream, msg, status)``."""
        if callback is None:
            self.stop_on_send()
            return
        self.on_send(lambda msg, status: callback(self, msg, status))

    # -- sending -------------------------------------------------------------------------
    def send(self, msg: Any, flags: int = 0, copy: bool = True, track: bool = False,
             callback: Optional[Callable[..., Any]] = None, **kwargs: Any) -> None:
        """Queue a one-part message; ``callback`` also becomes the on_send callback."""
        return self.send_multipart([msg], flags=flags, copy=copy, track=track,
                                   callback=callback, **kwargs)

    def send_multipart(self, msg: Sequence[Any], flags: int = 0, copy: bool = True,
                       track: bool = False, callback: Optional[Callable[..., Any]] = None,
                       **kwargs: Any) -> None:
        """Queue a multipart message; ``callback`` also becomes the on_send callback."""
        kwargs.update(flags=flags, copy=copy, track=track)
        self._send_queue.put((msg, kwargs))
        callback = callback or self._send_callback
        self.on_send(callback if callback is not None else _ignore)
        self._add_io_state(POLLOUT)

    def send_string(self, u: str, flags: int = 0, encoding: str = "utf-8",
                    callback: Optional[Callable[..., Any]] = None, **kwargs: Any) -> None:
        """Queue ``u`` encoded with ``encoding``."""
        if not isinstance(u, str):
            raise TypeError("unicode/str objects only")
        return self.send(u.encode(encoding), flags=flags, callback=callback, **kwargs)

    send_unicode = send_string

    def send_json(self, obj: Any, flags: int = 0,
                  callback: Optional[Callable[..., Any]] = None, **kwargs: Any) -> None:
        """Queue ``obj`` serialized as JSON."""
        msg = json.dumps(obj).encode("utf8")
        return self.send(msg, flags=flags, callback=callback, **kwargs)

    def send_pyobj(self, obj: Any, flags: int = 0, protocol: int = -1,
                   callback: Optional[Callable[..., Any]] = None, **kwargs: Any) -> None:
        """Queue ``obj`` pickled with ``protocol``."""
        msg = pickle.dumps(obj, protocol)
        return self.send(msg, flags, callback=callback, **kwargs)

    # -- flushing ------------------------------------------------------------------------
    def _finish_flush(self) -> None:
        self._flushed = False

    def flush(self, flag: int = POLLIN | POLLOUT, limit: Optional[int] = None) -> int:
        """Handle pending messages now, through the callbacks; returns how many.

        Stops when nothing matching ``flag`` is pending or after ``limit`` messages (both
        directions count).  With POLLIN in ``flag``, received messages are taken even if no
        recv callback is registered (a way to drop them).  The loop's own handling is
        skipped for the rest of this iteration.
        """
        self._check_closed()
        already_flushed = self._flushed
        self._flushed = False
        count = 0

        def wanted() -> int:
            return (flag & POLLIN) | (POLLOUT if self.sending() and flag & POLLOUT else 0)

        mask = wanted()
        if not mask:
            return 0
        self.poller.register(self.socket, mask)
        events = self.poller.poll(0)
        while events and (not limit or count < limit):
            _sock, event = events[0]
            if event & POLLIN:
                self._handle_recv()
                count += 1
                if self.socket is None:
                    break
            if event & POLLOUT and self.sending():
                self._handle_send()
                count += 1
                if self.socket is None:
                    break
            mask = wanted()
            if mask:
                self.poller.register(self.socket, mask)
                events = self.poller.poll(0)
            else:
                events = []
        if count:
            self._flushed = True  # the loop's handler skips this iteration
            if not already_flushed:
                self.io_loop.add_callback(self._finish_flush)
        elif already_flushed:
            self._flushed = True
        self._rebuild_io_state()
        return count

    # -- state ---------------------------------------------------------------------------
    def set_close_callback(self, callback: Optional[Callable[[], Any]]) -> None:
        """Call ``callback()`` when the stream is closed."""
        self._close_callback = callback

    def close(self, linger: Optional[int] = None) -> None:
        """Stop watching the socket and close it."""
        if self.socket is None:
            return
        if self.socket.closed:
            warnings.warn(f"Unregistering FD {self._fd} after closing socket. This could "
                          f"result in unregistering handlers for the wrong socket. Please "
                          f"use stream.close() instead of closing the socket directly.",
                          stacklevel=2)
            self._clear_io_state()
        else:
            self._clear_io_state()
            self.socket.close(linger)
        self.socket = None
        if self._close_callback:
            self._run_callback(self._close_callback)

    def receiving(self) -> bool:
        """True while a recv callback is registered."""
        return self._recv_callback is not None

    def sending(self) -> bool:
        """True while messages are queued for sending."""
        return not self._send_queue.empty()

    def closed(self) -> bool:
        """True once the stream (or its socket) is closed."""
        if self.socket is None:
            return True
        if self.socket.closed:
            self.close()  # closed under us: clean up
            return True
        return False

    # -- the loop's side -------------------------------------------------------------------
    def _run_callback(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        try:
            result = callback(*args, **kwargs)
        except Exception:
            gen_log.error("Uncaught exception in ZMQStream callback", exc_info=True)
            raise
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            future = asyncio.ensure_future(result)
            future.add_done_callback(_log_callback_error)

    def _handle_events(self, fd: Any = None, events: int = 0) -> None:
        """The FD fired (or events were left over): dispatch to recv and send."""
        if not self.socket:
            gen_log.warning("Got events for closed stream %s", self)
            return
        try:
            zmq_events = self.socket.EVENTS
        except ContextTerminated:
            gen_log.warning("Got events for stream %s after terminating context", self)
            self.closed()
            return
        except ZMQError as exc:
            if self.closed():
                gen_log.warning("Got events for stream %s attached to closed socket: %s",
                                self, exc)
            else:
                gen_log.error("Error getting events for %s: %s", self, exc)
            return
        try:
            if zmq_events & POLLIN and self.receiving():
                self._handle_recv()
                if not self.socket:
                    return
            if zmq_events & POLLOUT and self.sending():
                self._handle_send()
                if not self.socket:
                    return
            self._rebuild_io_state()
        except Exception:
            gen_log.error("Uncaught exception in zmqstream callback", exc_info=True)
            raise

    def _handle_recv(self) -> None:
        if self._flushed:
            return
        try:
            msg = self.socket.recv_multipart(NOBLOCK, copy=self._recv_copy)
        except ZMQError as exc:
            if exc.errno == Errno.EAGAIN:
                return  # the state changed since EVENTS was read
            raise
        if self._recv_callback:
            self._run_callback(self._recv_callback, msg)

    def _handle_send(self) -> None:
        if self._flushed:
            return
        if not self.sending():
            gen_log.error("Shouldn't have handled a send event")
            return
        msg, kwargs = self._send_queue.get()
        try:
            status: Any = self.socket.send_multipart(msg, **kwargs)
        except ZMQError as exc:
            gen_log.error("SEND Error: %s", exc)
            status = exc
        if self._send_callback:
            self._run_callback(self._send_callback, msg, status)

    def _check_closed(self) -> None:
        if not self.socket:
            raise OSError("Stream is closed")

    def _rebuild_io_state(self) -> None:
        if self.socket is None:
            return
        state = 0
        if self.receiving():
            state |= POLLIN
        if self.sending():
            state |= POLLOUT
        self._state = state
        self._update_handler(state)

    def _add_io_state(self, state: int) -> None:
        self._state |= state
        self._update_handler(self._state)

    def _drop_io_state(self, state: int) -> None:
        self._state &= ~state
        self._update_handler(self._state)

    def _update_handler(self, state: int) -> None:
        if self.socket is None:
            return
        if state & self.socket.EVENTS:
            # already there: the edge-triggered FD will not fire for it
            self.io_loop.add_callback(lambda: self._handle_events(self._fd, 0))

    def _init_io_state(self) -> None:
        try:
            self.io_loop.add_handler(self._fd, self._handle_events, IOLoop.READ)
        except NotImplementedError:
            # an asyncio loop without add_reader: puremq's watcher thread stands in
            self.io_loop.remove_handler(self._fd)  # tornado filed it before it failed
            self._watcher = _watch(self.io_loop.asyncio_loop,  # type: ignore[attr-defined]
                                   self._fd, selectors.EVENT_READ,
                                   lambda: self._handle_events(self._fd, 0))

    def _clear_io_state(self) -> None:
        if self._watcher is not None:
            _unwatch(self._watcher, self._fd, selectors.EVENT_READ)
            self._watcher = None
            return
        try:
            self.io_loop.remove_handler(self._fd)
        except (KeyError, ValueError, OSError):
            pass


def _log_callback_error(future: Any) -> None:
    try:
        future.result()
    except Exception:
        gen_log.error("Uncaught exception in ZMQStream callback", exc_info=True)
