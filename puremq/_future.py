"""Future-returning sockets for event loops: what puremq.asyncio and puremq.eventloop.future
are made of.

Theory of operation
-------------------
An async socket is a puremq Socket whose send/recv/poll methods return futures.  It waits
the way every puremq integration waits: on the socket's FD, with pyzmq's edge-triggered
semantics.  The FD turns readable when the socket's state may have changed; reading EVENTS
(``engine.poll_events``) drains it and re-arms it.  So:

* An operation is first tried at once (a send with DONTWAIT; a recv when EVENTS says
  POLLIN).  If it can complete, the caller gets a finished future and nothing is queued.
* Otherwise it becomes an ``_Op`` at the end of the socket's recv or send queue.  The check
  that failed has just re-armed the FD, so the next change of state makes it readable.
* The loop calls ``_on_fd`` when the FD is readable.  ``_on_fd`` reads EVENTS (draining the
  FD) and serves the queues in order, each operation only when EVENTS allows it, until the
  head of a queue would block -- that last check re-arms the FD again.  Sends and recvs are
  served in turn until neither makes progress, because one can enable the other (REP).
* Anything else that reads EVENTS of a socket with queued operations (a user's
  ``sock.EVENTS``, a Poller) may have consumed the edge they wait for, so it schedules
  ``_on_fd`` once on the loop.

Where the loop has ``add_reader`` (the selector loops, uvloop), the FD is registered with it
once, when the socket is first used in that loop.  Where it has not (Windows' Proactor loop,
or any loop whose add_reader raises NotImplementedError), a ``_ThreadWatcher`` stands in for
it: one thread per loop waits on the registered FDs with a selector, one-shot, and hands
readiness to the loop with ``call_soon_threadsafe``; the loop re-arms the FD after running
the callback.  The socket code cannot tell the two apart.

Cancellation loses no message
-----------------------------
A queued recv takes its message out of the socket only when it completes its future, and a
cancelled future is never completed.  The one window left is between the future's
completion and the resumption of the task awaiting it: a ``task.cancel()`` there makes
asyncio throw CancelledError into the task instead of handing it the result.  Pending recv
futures are therefore ``_RecvFuture``s, whose ``__await__`` catches whatever is thrown into
it while its result is undelivered and gives the message back to the socket (in front of
everything else, so order is kept), after which the future reports itself cancelled.
A queued send runs (all of a multipart message, or none of it: puremq's send_multipart is
atomic) only when its future is completed, so a cancelled send sent nothing, and a send
whose task was cancelled after its future completed sent everything.
"""

from __future__ import annotations

import asyncio
import errno as _errno
import json
import pickle
import selectors
import socket as _socket
import threading
import warnings
import weakref
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Tuple

from .constants import Errno, Flag, PollEvent, SocketOption
from .context import Context as _SyncContext
from .error import Again, ContextTerminated, ZMQError
from .frame import Frame
from .poll import Poller as _SyncPoller
from .poll import zmq_poll as _zmq_poll
from .socket import Socket as _SyncSocket

__all__ = ["_AsyncSocket", "_AsyncPoller", "_AsyncContext", "_RecvFuture"]

_DONTWAIT = int(Flag.DONTWAIT)
_SNDMORE = int(Flag.SNDMORE)
_POLLIN = int(PollEvent.POLLIN)
_POLLOUT = int(PollEvent.POLLOUT)
_EVENTS = int(SocketOption.EVENTS)
_RCVTIMEO = int(SocketOption.RCVTIMEO)
_SNDTIMEO = int(SocketOption.SNDTIMEO)
#: queues are swept of abandoned (cancelled, timed out) operations past this length
_SWEEP_AT = 64


# ------------------------------------------------------------------------------------------
# readiness of file descriptors: the loop's add_reader, or a watcher thread
# ------------------------------------------------------------------------------------------

class _ThreadWatcher:
    """add_reader/add_writer for a loop that lacks them.

    A thread waits on the registered fds with a selector.  An fd that fires is taken out
    of the set (one-shot) and reported to the loop with ``call_soon_threadsafe``; the loop
    runs the callback and then puts the fd back, so an fd that stays readable is reported
    once per callback run, not in a spin.  The thread ends when nothing is registered and
    is started again on demand.
    """

    def __init__(self, loop: Any) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        #: (fd, event) -> callback; touched by the loop's thread only
        self._callbacks: Dict[Tuple[int, int], Callable[[], Any]] = {}
        #: fd -> events the thread should wait for; shared, under the lock
        self._armed: Dict[int, int] = {}
        self._thread: Optional[threading.Thread] = None
        self._wake_r, self._wake_w = _socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._finalizer = weakref.finalize(self, _close_all, self._wake_r, self._wake_w)

    # -- the loop's side ------------------------------------------------------------------
    def add_reader(self, fd: int, callback: Callable[..., Any], *args: Any) -> None:
        self._add(fd, selectors.EVENT_READ, callback, args)

    def add_writer(self, fd: int, callback: Callable[..., Any], *args: Any) -> None:
        self._add(fd, selectors.EVENT_WRITE, callback, args)

    def remove_reader(self, fd: int) -> bool:
        return self._remove(fd, selectors.EVENT_READ)

    def remove_writer(self, fd: int) -> bool:
        return self._remove(fd, selectors.EVENT_WRITE)

    def _add(self, fd: int, event: int, callback: Callable[..., Any], args: Tuple) -> None:
        fd = _fileno(fd)
        self._callbacks[(fd, event)] = (lambda: callback(*args)) if args else callback
        self._arm(fd, event)

    def _remove(self, fd: int, event: int) -> bool:
        fd = _fileno(fd)
        if self._callbacks.pop((fd, event), None) is None:
            return False
        with self._lock:
            mask = self._armed.get(fd, 0) & ~event
            if mask:
                self._armed[fd] = mask
            else:
                self._armed.pop(fd, None)
        self._poke()
        return True

    def _arm(self, fd: int, event: int) -> None:
        with self._lock:
            self._armed[fd] = self._armed.get(fd, 0) | event
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="puremq-fd-watcher")
                self._thread.start()
        self._poke()

    def _poke(self) -> None:
        try:
            self._wake_w.send(b"\x00")
        except (BlockingIOError, InterruptedError):
            pass  # already full of pokes: the thread will look anyway
        except OSError:
            pass  # closed at interpreter exit

    def _dispatch(self, fired: List[Tuple[int, int]]) -> None:
        for fd, events in fired:
            for event in (selectors.EVENT_READ, selectors.EVENT_WRITE):
                if not events & event:
                    continue
                callback = self._callbacks.get((fd, event))
                if callback is None:
                    continue
                try:
                    callback()
                except (SystemExit, KeyboardInterrupt):
                    raise
                except BaseException as exc:  # noqa: BLE001 - reported as the loop would
                    self._loop.call_exception_handler({
                        "message": "Exception in callback of a puremq fd watcher",
                        "exception": exc})
                if (fd, event) in self._callbacks:
                    self._arm(fd, event)

    # -- the thread -------------------------------------------------------------------------
    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._wake_r, selectors.EVENT_READ)
        watching: Dict[int, int] = {}
        try:
            while True:
                with self._lock:
                    if not self._armed and not self._callbacks:
                        self._thread = None
                        return
                    wanted = dict(self._armed)
                for fd in [fd for fd in watching if fd not in wanted]:
                    del watching[fd]
                    try:
                        selector.unregister(fd)
                    except (KeyError, ValueError, OSError):
                        pass
                fired: List[Tuple[int, int]] = []
                for fd, events in wanted.items():
                    if watching.get(fd) == events:
                        continue
                    try:
                        if fd in watching:
                            selector.modify(fd, events)
                        else:
                            selector.register(fd, events)
                        watching[fd] = events
                    except (KeyError, ValueError, OSError):
                        watching.pop(fd, None)
                        fired.append((fd, events))  # a bad fd: let its owner find out
                if not fired:
                    try:
                        selected = selector.select()
                    except OSError:  # an fd closed under us: register afresh
                        for fd in watching:
                            try:
                                selector.unregister(fd)
                            except (KeyError, ValueError, OSError):
                                pass
                        watching.clear()
                        continue
                    for key, events in selected:
                        if key.fileobj is self._wake_r:
                            _drain(self._wake_r)
                        else:
                            fired.append((key.fd, events))
                if not fired:
                    continue
                with self._lock:
                    for fd, events in fired:
                        mask = self._armed.get(fd, 0) & ~events
                        if mask:
                            self._armed[fd] = mask
                        else:
                            self._armed.pop(fd, None)
                try:
                    self._loop.call_soon_threadsafe(self._dispatch, fired)
                except RuntimeError:  # the loop is closed: nobody is listening any more
                    with self._lock:
                        self._armed.clear()
                        self._thread = None
                    return
        finally:
            selector.close()


def _close_all(*socks: Any) -> None:
    for sock in socks:
        sock.close()


def _drain(sock: Any) -> None:
    try:
        while sock.recv(4096):
            pass
    except (BlockingIOError, InterruptedError, OSError):
        pass


def _fileno(fd: Any) -> int:
    return fd if isinstance(fd, int) else fd.fileno()


_watchers: "weakref.WeakKeyDictionary[Any, _ThreadWatcher]" = weakref.WeakKeyDictionary()
_watchers_by_id: Dict[int, Tuple[Any, _ThreadWatcher]] = {}
_watchers_lock = threading.Lock()


def _watcher_of(loop: Any, create: bool) -> Optional[_ThreadWatcher]:
    with _watchers_lock:
        try:
            watcher = _watchers.get(loop)
        except TypeError:  # a loop that takes no weak references
            entry = _watchers_by_id.get(id(loop))
            watcher = entry[1] if entry is not None and entry[0] is loop else None
            if watcher is None and create:
                watcher = _ThreadWatcher(loop)
                _watchers_by_id[id(loop)] = (loop, watcher)
            return watcher
        if watcher is None and create:
            watcher = _watchers[loop] = _ThreadWatcher(loop)
        return watcher


def _watch(loop: Any, fd: int, event: int, callback: Callable[[], Any]) -> Any:
    """Call ``callback`` in ``loop`` while ``fd`` is ready for ``event``; returns the object
    to unwatch with (the loop itself, or the watcher thread standing in for it)."""
    watcher = _watcher_of(loop, False)
    if watcher is None:
        try:
            if event == selectors.EVENT_READ:
                loop.add_reader(fd, callback)
            else:
                loop.add_writer(fd, callback)
            return loop
        except NotImplementedError:
            watcher = _watcher_of(loop, True)
    assert watcher is not None
    if event == selectors.EVENT_READ:
        watcher.add_reader(fd, callback)
    else:
        watcher.add_writer(fd, callback)
    return watcher


def _unwatch(io: Any, fd: int, event: int) -> None:
    try:
        if isinstance(io, _ThreadWatcher) or not io.is_closed():
            if event == selectors.EVENT_READ:
                io.remove_reader(fd)
            else:
                io.remove_writer(fd)
    except (ValueError, OSError, RuntimeError):
        pass  # the fd or the loop is already gone


# ------------------------------------------------------------------------------------------
# futures
# ------------------------------------------------------------------------------------------

class _RecvFuture(asyncio.Future):
    """A pending recv's future: if the awaiting task is cancelled after the message was
    taken but before the task saw it, the message goes back to the socket."""

    _record: Any = None
    _socket: Any = None
    _given_back = False

    def __await__(self) -> Any:
        if not self.done():
            self._asyncio_future_blocking = True
            try:
                yield self
            except BaseException:
                self._give_back()
                raise
        if not self.done():
            raise RuntimeError("await wasn't used with future")
        return self.result()

    __iter__ = __await__

    def _give_back(self) -> None:
        record = self._record
        if record is None or not self.done() or asyncio.Future.cancelled(self):
            return
        if asyncio.Future.exception(self) is not None:
            return
        self._record = None
        self._given_back = True
        socket = self._socket
        if socket is not None:
            socket._give_back(record)

    def cancelled(self) -> bool:
        return self._given_back or asyncio.Future.cancelled(self)

    def result(self) -> Any:
        if self._given_back:
            raise asyncio.CancelledError()
        return asyncio.Future.result(self)

    def exception(self) -> Any:
        if self._given_back:
            raise asyncio.CancelledError()
        return asyncio.Future.exception(self)


class _Op:
    """A queued send or recv: run ``take(socket, *args)`` once EVENTS allows it."""

    __slots__ = ("future", "take", "args", "timer")

    def __init__(self, future: Any, take: Callable[..., Any], args: Tuple) -> None:
        self.future = future
        self.take = take
        self.args = args
        self.timer: Any = None


# what a recv took, to give back: (single frame?, frames or frame, first part of a message?,
# more parts of that message after it?)
_Record = Tuple[bool, Any, bool, bool]


def _raw(frame: Any) -> Any:
    return frame.buffer if isinstance(frame, Frame) else frame


def _take_multipart(sock: "_AsyncSocket", copy: bool, track: bool) -> Tuple[Any, _Record]:
    first = _next_is_first_part(sock)
    msg = _SyncSocket.recv_multipart(sock, _DONTWAIT, copy, track)
    return msg, (False, msg, first, False)


def _take_frame(sock: "_AsyncSocket", copy: bool, track: bool) -> Tuple[Any, _Record]:
    first = _next_is_first_part(sock)
    frame = _SyncSocket.recv(sock, _DONTWAIT, copy, track)
    return frame, (True, frame, first, sock._rcvmore)


def _next_is_first_part(sock: "_AsyncSocket") -> bool:
    """Whether the next part received begins a message (for the record of the receive).

    RCVMORE says so, not whether parts are waiting: the parts waiting may be a whole
    message given back, and a receive that took all of one and is given back in its
    turn must not be taken for the rest of a message -- its frames were then put in
    front of whatever had been given back meanwhile, and the two came out as one.  A
    message given back behind another waits in ``_returned`` until the parts are empty.
    """
    parts = sock._recv_parts
    if not parts and sock._returned:
        parts.extend(sock._returned.popleft())
    return not sock._rcvmore


def _take_decoded(sock: "_AsyncSocket", decode: Callable[[Any], Any]) -> Tuple[Any, _Record]:
    frame, record = _take_frame(sock, True, False)
    return decode(frame), record


def _take_serialized(sock: "_AsyncSocket", deserialize: Callable[[Any], Any], copy: bool
                     ) -> Tuple[Any, _Record]:
    msg, record = _take_multipart(sock, copy, False)
    return deserialize(msg), record


def _take_into(sock: "_AsyncSocket", view: memoryview, nbytes: int) -> Tuple[Any, _Record]:
    frame, record = _take_frame(sock, False, False)
    source = memoryview(frame.buffer).cast("B")
    size = source.nbytes
    count = min(size, nbytes)
    view[:count] = source[:count]
    return size, record


def _send_multipart(sock: "_AsyncSocket", msg_parts: Sequence[Any], flags: int, copy: bool,
                    track: bool, kwargs: Dict[str, Any]) -> Any:
    if flags & _SNDMORE:
        # the parts open a message that later sends finish: the first may have to wait,
        # the others are only queued in the socket
        tracker = None
        for part in msg_parts:
            tracker = _SyncSocket.send(sock, part, flags, copy, track, **kwargs)
        return tracker
    return _SyncSocket.send_multipart(sock, msg_parts, flags, copy, track, **kwargs)


def _send_frame(sock: "_AsyncSocket", data: Any, flags: int, copy: bool, track: bool,
                kwargs: Dict[str, Any]) -> Any:
    return _SyncSocket.send(sock, data, flags, copy, track, **kwargs)


# ------------------------------------------------------------------------------------------
# the socket
# ------------------------------------------------------------------------------------------

class _AsyncSocket(_SyncSocket):
    """A Socket whose send/recv/poll return futures (mixed with a loop flavour)."""

    #: class of a pending recv's future; of every other future
    _recv_future_class: Any = _RecvFuture
    _future_class: Any = asyncio.Future
    _poller_class: Any = None

    def __init__(self, context: Any = None, socket_type: int = -1, io_loop: Any = None,
                 _from_socket: Optional[_SyncSocket] = None, **kwargs: Any) -> None:
        if isinstance(context, _SyncSocket):
            context, _from_socket = None, context
        if _from_socket is not None:
            _adopt(self, _from_socket)
        else:
            super().__init__(context, socket_type, **kwargs)
        if io_loop is not None:
            warnings.warn(f"{type(self).__name__}(io_loop) argument is deprecated in pyzmq "
                          f"22.2. The currently active loop will always be used.",
                          DeprecationWarning, stacklevel=3)
        object.__setattr__(self, "_recv_ops", deque())
        object.__setattr__(self, "_send_ops", deque())
        object.__setattr__(self, "_poll_ops", {})
        #: whole messages given back by cancelled recvs, delivered before anything else
        object.__setattr__(self, "_returned", deque())
        object.__setattr__(self, "_loop", None)
        object.__setattr__(self, "_io", None)
        object.__setattr__(self, "_fd", -1)
        object.__setattr__(self, "_scheduled", False)
        object.__setattr__(self, "_sweep_at", _SWEEP_AT)

    @classmethod
    def from_socket(cls, socket: _SyncSocket, io_loop: Any = None) -> "_AsyncSocket":
        """An async socket sharing ``socket``'s underlying socket (pyzmq's shadow)."""
        return cls(_from_socket=socket, io_loop=io_loop)

    @property
    def closed(self) -> bool:
        return self._closed or self._engine.closed

    def __del__(self) -> None:
        if not self._shadow:
            super().__del__()

    # -- the loop ------------------------------------------------------------------------
    def _default_loop(self) -> Any:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            warnings.warn("No running event loop. puremq.asyncio should be used from within "
                          "an asyncio loop.", RuntimeWarning, stacklevel=4)
        return asyncio.get_event_loop()

    def _get_loop(self) -> Any:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = self._default_loop()
        if loop is not self._loop:
            self._attach(loop)
        return loop

    def _attach(self, loop: Any) -> None:
        """Watch this socket's FD in ``loop`` (and no longer in the previous loop)."""
        self._detach()
        if self._closed:
            return
        fd = self._engine.fileno()
        object.__setattr__(self, "_fd", fd)
        object.__setattr__(self, "_io", _watch(loop, fd, selectors.EVENT_READ, self._on_fd))
        object.__setattr__(self, "_loop", loop)
        object.__setattr__(self, "_scheduled", False)
        # what arrived before the FD was watched is served now
        loop.call_soon(self._on_fd)

    def _detach(self) -> None:
        io = self._io
        if io is not None:
            object.__setattr__(self, "_io", None)
            _unwatch(io, self._fd, selectors.EVENT_READ)
        object.__setattr__(self, "_loop", None)

    def _schedule(self) -> None:
        """Serve the queues on the next loop iteration (someone consumed the FD's edge)."""
        loop = self._loop
        if not self._scheduled and loop is not None and not loop.is_closed():
            object.__setattr__(self, "_scheduled", True)
            loop.call_soon(self._run_scheduled)

    def _run_scheduled(self) -> None:
        object.__setattr__(self, "_scheduled", False)
        self._on_fd()

    # -- readiness -------------------------------------------------------------------------
    def _can_recv(self) -> bool:
        if self._recv_parts or self._returned:
            return True
        return bool(self._engine.poll_events(_POLLIN))

    def _can_send(self) -> bool:
        return bool(self._engine.poll_events(_POLLOUT))

    def _on_fd(self) -> None:
        """The FD is readable (or a wake-up was scheduled): drain it and serve."""
        if self._closed:
            return
        engine = self._engine
        if engine.closed:  # closed through another handle (a shadow): nothing will come
            self._fail_all(lambda: ZMQError(Errno.ENOTSOCK))
            return
        if engine.context.terminated:
            self._fail_all(ContextTerminated)
            return
        engine.poll_events(0)  # drains and re-arms the FD even when no queue asks
        progress = True
        while progress:
            progress = False
            if self._recv_ops and self._serve_recv():
                progress = True
            if self._send_ops and self._serve_send():
                progress = True
        if self._poll_ops:
            self._serve_polls()

    def _serve_recv(self) -> bool:
        return self._serve(self._recv_ops, self._can_recv, True)

    def _serve_send(self) -> bool:
        return self._serve(self._send_ops, self._can_send, False)

    def _serve(self, ops: Any, ready: Callable[[], bool], recording: bool) -> bool:
        """Complete the queued operations in order while the socket can do them; True if
        any future was settled.  A receive's ``take`` returns (result, record) and the
        record goes on the future (what a cancelled receive gives back)."""
        served = False
        while ops:
            op = ops[0]
            future = op.future
            if future.done():
                ops.popleft()
                continue
            if not ready():
                break
            try:
                result = op.take(self, *op.args)
            except Again:
                break
            except Exception as exc:  # noqa: BLE001 - the caller's error, in its future
                ops.popleft()
                _cancel_timer(op)
                future.set_exception(exc)
                served = True
                continue
            ops.popleft()
            _cancel_timer(op)
            if recording:
                result, future._record = result
            future.set_result(result)
            served = True
        return served

    def _serve_polls(self) -> None:
        events = int(self._engine.poll_events())
        if self._recv_parts or self._returned:
            events |= _POLLIN
        for wait, flags in list(self._poll_ops.items()):
            if events & flags:
                wait.fire()

    def _fail_all(self, error: Callable[[], BaseException]) -> None:
        for ops in (self._recv_ops, self._send_ops):
            while ops:
                op = ops.popleft()
                _cancel_timer(op)
                if not op.future.done():
                    op.future.set_exception(error())
        for wait in list(self._poll_ops):
            wait.fail(error())

    def _give_back(self, record: _Record) -> None:
        """Put back what a recv took whose task never saw it (see the module docs)."""
        if self.closed:
            return
        single, taken, first, more = record
        parts = self._recv_parts
        frames = [_raw(taken)] if single else [_raw(frame) for frame in taken]
        if not first:  # the rest of a message whose first part was read before
            parts.extendleft(reversed(frames))
            object.__setattr__(self, "_rcvmore", True)
        elif more:  # the first part of a message whose rest waits in the parts
            parts.appendleft(frames[0])
            object.__setattr__(self, "_rcvmore", False)
        elif not parts:  # a whole message
            parts.extend(frames)
            object.__setattr__(self, "_rcvmore", False)
        else:  # a whole message, behind the one waiting (half read, or given back too)
            self._returned.appendleft(frames)
        self._schedule()

    # -- queueing --------------------------------------------------------------------------
    def _queue(self, ops: Deque[_Op], op: _Op, loop: Any, timeout_ms: int) -> None:
        if timeout_ms >= 0:
            op.timer = loop.call_later(timeout_ms / 1000.0, _expire, op.future)
        if len(ops) >= self._sweep_at:
            live = [queued for queued in ops if not queued.future.done()]
            ops.clear()
            ops.extend(live)
            object.__setattr__(self, "_sweep_at", max(_SWEEP_AT, 2 * len(ops)))
        ops.append(op)

    def _recv_op(self, flags: int, take: Callable[..., Any], args: Tuple) -> Any:
        if self._closed:
            raise ZMQError(Errno.ENOTSOCK)
        loop = self._get_loop()
        if flags & _DONTWAIT or not self._recv_ops:
            try:
                if flags & _DONTWAIT or self._can_recv():
                    result, _record = take(self, *args)
                    future = self._future_class(loop=loop)
                    future.set_result(result)
                    if self._send_ops or self._poll_ops:
                        self._schedule()  # a recv can make a send possible (REP)
                    return future
            except Again as exc:
                if flags & _DONTWAIT:
                    return self._failed(loop, exc)
            except Exception as exc:  # noqa: BLE001
                return self._failed(loop, exc)
        future = self._recv_future_class(loop=loop)
        future._socket = self
        self._queue(self._recv_ops, _Op(future, take, args), loop,
                    self._options[_RCVTIMEO])
        if len(self._recv_ops) > 1 and self._can_recv():
            self._serve_recv()
        return future

    def _send_op(self, take: Callable[..., Any], data: Any, flags: int, copy: bool,
                 track: bool, kwargs: Dict[str, Any]) -> Any:
        if self._closed:
            raise ZMQError(Errno.ENOTSOCK)
        loop = self._get_loop()
        if not self._send_ops:
            try:
                result = take(self, data, flags | _DONTWAIT, copy, track, kwargs)
            except Again as exc:
                if flags & _DONTWAIT:
                    return self._failed(loop, exc)
            except Exception as exc:  # noqa: BLE001
                return self._failed(loop, exc)
            else:
                future = self._future_class(loop=loop)
                future.set_result(result)
                if self._recv_ops or self._poll_ops:
                    self._schedule()  # a send can make a recv possible (REQ)
                return future
        future = self._future_class(loop=loop)
        self._queue(self._send_ops, _Op(future, take, (data, flags | _DONTWAIT, copy, track,
                                                       kwargs)),
                    loop, self._options[_SNDTIMEO])
        if len(self._send_ops) > 1 and self._can_send():
            self._serve_send()  # those ahead may be cancelled ones on a writable socket
        return future

    def _failed(self, loop: Any, exc: BaseException) -> Any:
        future = self._future_class(loop=loop)
        future.set_exception(exc)
        return future

    # -- the awaitable API -------------------------------------------------------------------
    def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        """A future for a whole multipart message (a list of bytes, or Frames)."""
        return self._recv_op(flags, _take_multipart, (copy, track))

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        """A future for one message part (recv_multipart is usually what you want)."""
        return self._recv_op(flags, _take_frame, (copy, track))

    def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> Any:
        return self._recv_op(flags, _take_decoded, (lambda data: data.decode(encoding),))

    recv_unicode = recv_string

    def recv_json(self, flags: int = 0, **kwargs: Any) -> Any:
        return self._recv_op(flags, _take_decoded, (lambda data: json.loads(data, **kwargs),))

    def recv_pyobj(self, flags: int = 0) -> Any:
        return self._recv_op(flags, _take_decoded, (pickle.loads,))

    def recv_serialized(self, deserialize: Callable[[List[Any]], Any], flags: int = 0,
                        copy: bool = True) -> Any:
        return self._recv_op(flags, _take_serialized, (deserialize, copy))

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> Any:
        """A future for the size of the next part, which is copied into ``buffer``."""
        if nbytes < 0:
            raise ValueError(f"nbytes={nbytes!r} must be non-negative")
        view = memoryview(buffer)
        if view.readonly:
            raise TypeError("recv_into needs a writable buffer")
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        if nbytes == 0 or nbytes > view.nbytes:
            nbytes = view.nbytes
        return self._recv_op(flags, _take_into, (view, nbytes))

    def send(self, data: Any, flags: int = 0, copy: bool = True, track: bool = False,
             **kwargs: Any) -> Any:
        """A future that completes once the part is queued (its result: the tracker)."""
        return self._send_op(_send_frame, data, flags, copy, track, kwargs)

    def send_multipart(self, msg_parts: Sequence[Any], flags: int = 0, copy: bool = True,
                       track: bool = False, **kwargs: Any) -> Any:
        """A future that completes once the whole message is queued (all of it or none)."""
        if not isinstance(msg_parts, (list, tuple)):
            msg_parts = list(msg_parts)  # a generator would be spent by the first attempt
        return self._send_op(_send_multipart, msg_parts, flags, copy, track, kwargs)

    def poll(self, timeout: Optional[int] = None, flags: int = _POLLIN) -> Any:
        """A future for the events among ``flags`` within ``timeout`` ms (None: forever)."""
        if self.closed:
            raise ZMQError(Errno.ENOTSUP)
        poller = self._poller_class()
        poller.register(self, flags)
        return poller._poll(timeout, lambda ready: dict(ready).get(self, 0))

    # -- the synchronous parts -----------------------------------------------------------
    def get(self, option: int) -> Any:
        result = super().get(option)
        if option == _EVENTS:
            if self._returned:
                result |= PollEvent.POLLIN
            if self._recv_ops or self._send_ops or self._poll_ops:
                self._schedule()  # this read consumed the edge the queues wait for
        return result

    getsockopt = get

    def close(self, linger: Optional[int] = None) -> None:
        """Close; pending futures are cancelled, as in pyzmq."""
        if not self._closed:
            for ops in (self._recv_ops, self._send_ops):
                while ops:
                    op = ops.popleft()
                    _cancel_timer(op)
                    _cancel(op.future)
            for wait in list(self._poll_ops):
                wait.cancel()
            self._returned.clear()
            self._detach()
        if self._shadow:
            # a shadow does not own the socket, but closing it closes the socket
            object.__setattr__(self, "_closed", True)
            self._engine.close(linger)
            return
        super().close(linger)


def _cancel_timer(op: _Op) -> None:
    timer = op.timer
    if timer is not None:
        op.timer = None
        timer.cancel()


def _cancel(future: Any) -> None:
    if not future.done():
        try:
            future.cancel()
        except RuntimeError:  # the loop is closing
            pass


def _expire(future: Any) -> None:
    """RCVTIMEO/SNDTIMEO ran out: EAGAIN, as pyzmq's futures fail."""
    if not future.done():
        future.set_exception(Again())


def _adopt(sock: _SyncSocket, original: _SyncSocket) -> None:
    """Make ``sock`` a second handle on ``original``'s socket: same engine, same queue of
    unread parts; its own half-built outgoing message."""
    if not isinstance(original, _SyncSocket):
        raise TypeError(f"cannot shadow {original!r}: not a puremq socket")
    if original.closed:
        raise ZMQError(Errno.ENOTSOCK)
    for key, value in original.__dict__.items():
        object.__setattr__(sock, key, value)
    object.__setattr__(sock, "_send_parts", [])
    object.__setattr__(sock, "_send_trackers", [])
    object.__setattr__(sock, "_monitor_socket", None)
    object.__setattr__(sock, "_shadow", True)
    object.__setattr__(sock, "_closed", False)


class _ShadowSocket(_SyncSocket):
    """A plain (blocking) handle on another socket's underlying socket."""

    def __init__(self, original: _SyncSocket) -> None:
        _adopt(self, original)

    @property
    def closed(self) -> bool:
        return self._closed or self._engine.closed

    def close(self, linger: Optional[int] = None) -> None:
        if not self._closed:
            object.__setattr__(self, "_closed", True)
            self._engine.close(linger)

    def __del__(self) -> None:
        return None  # a shadow does not own the socket


# ------------------------------------------------------------------------------------------
# the poller
# ------------------------------------------------------------------------------------------

def _poll_now(sockets: List[Tuple[Any, int]]) -> List[Tuple[Any, int]]:
    """What is ready now (one zmq_poll with timeout 0), with given-back messages."""
    ready = _zmq_poll(sockets, 0)
    for sock, flags in sockets:
        if isinstance(sock, _AsyncSocket):
            if sock._returned and flags & _POLLIN:
                for index, (other, events) in enumerate(ready):
                    if other is sock:
                        ready[index] = (sock, events | _POLLIN)
                        break
                else:
                    ready.append((sock, _POLLIN))
            if sock._recv_ops or sock._send_ops:
                sock._schedule()  # the poll consumed the edge its queues wait for
    return ready


class _PollWait:
    """One pending Poller.poll: watches every registered socket and fd until one is
    ready, the timeout passes or the future is cancelled."""

    __slots__ = ("loop", "future", "sockets", "transform", "timer", "watched", "queued",
                 "checking", "__weakref__")

    def __init__(self, loop: Any, future: Any, sockets: List[Tuple[Any, int]],
                 transform: Callable[[Any], Any]) -> None:
        self.loop = loop
        self.future = future
        self.sockets = sockets
        self.transform = transform
        self.timer: Any = None
        self.watched: List[Tuple[Any, int, int]] = []
        self.queued: List[_AsyncSocket] = []
        self.checking = False

    def start(self, timeout: float) -> None:
        loop = self.loop
        try:
            for sock, flags in self.sockets:
                if isinstance(sock, _AsyncSocket):
                    if sock._loop is not loop:
                        sock._get_loop()  # watch its FD in this loop
                    sock._poll_ops[self] = flags
                    self.queued.append(sock)
                elif isinstance(sock, _SyncSocket):
                    fd = sock._engine.fileno()
                    io = _watch(loop, fd, selectors.EVENT_READ, self.fire)
                    self.watched.append((io, fd, selectors.EVENT_READ))
                else:
                    fd = _fileno(sock)
                    if flags & _POLLIN:
                        io = _watch(loop, fd, selectors.EVENT_READ, self.fire)
                        self.watched.append((io, fd, selectors.EVENT_READ))
                    if flags & _POLLOUT:
                        io = _watch(loop, fd, selectors.EVENT_WRITE, self.fire)
                        self.watched.append((io, fd, selectors.EVENT_WRITE))
        except BaseException:
            self.cleanup()
            raise
        if timeout > 0:
            self.timer = loop.call_later(timeout / 1000.0, self.expire)
        self.future.add_done_callback(self._done)

    def fire(self) -> None:
        if not self.checking and not self.future.done():
            self.checking = True
            self.loop.call_soon(self.check)

    def check(self) -> None:
        self.checking = False
        if self.future.done():
            return
        try:
            ready = _poll_now(self.sockets)
        except Exception as exc:  # noqa: BLE001
            self.future.set_exception(exc)
            return
        if ready:  # a wake-up with nothing ready keeps waiting
            self.future.set_result(self.transform(ready))

    def expire(self) -> None:
        self.timer = None
        if self.future.done():
            return
        try:
            ready = _poll_now(self.sockets)
        except Exception as exc:  # noqa: BLE001
            self.future.set_exception(exc)
            return
        self.future.set_result(self.transform(ready))

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)
        self.cleanup()

    def cancel(self) -> None:
        _cancel(self.future)
        self.cleanup()

    def _done(self, _future: Any) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        for sock in self.queued:
            sock._poll_ops.pop(self, None)
        self.queued = []
        for io, fd, event in self.watched:
            _unwatch(io, fd, event)
        self.watched = []
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class _AsyncPoller(_SyncPoller):
    """A Poller whose poll() returns a future for the list of (socket, events)."""

    _future_class: Any = asyncio.Future

    def _default_loop(self) -> Any:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            warnings.warn("No running event loop. puremq.asyncio should be used from within "
                          "an asyncio loop.", RuntimeWarning, stacklevel=4)
        return asyncio.get_event_loop()

    def poll(self, timeout: Optional[float] = -1) -> Any:  # type: ignore[override]
        """A future for [(socket, events)]: resolves when something is ready, or with []
        after ``timeout`` ms (None or negative: no timeout)."""
        return self._poll(timeout, lambda ready: ready)

    def _poll(self, timeout: Optional[float], transform: Callable[[Any], Any]) -> Any:
        loop = self._default_loop()
        future = self._future_class(loop=loop)
        if timeout is None or timeout < 0:
            timeout = -1
        sockets = list(self.sockets)
        try:
            ready = _poll_now(sockets)
        except Exception as exc:  # noqa: BLE001
            future.set_exception(exc)
            return future
        if ready or timeout == 0:
            future.set_result(transform(ready))
            return future
        _PollWait(loop, future, sockets, transform).start(timeout)
        return future


# ------------------------------------------------------------------------------------------
# the context
# ------------------------------------------------------------------------------------------

class _AsyncContext(_SyncContext):
    """A Context whose sockets are async; it may shadow a plain puremq Context."""

    _instance = None

    def __init__(self, io_threads: Any = 1, shadow: Any = 0, **kwargs: Any) -> None:
        original = None
        if isinstance(io_threads, _SyncContext):
            original, io_threads = io_threads, 1
        elif isinstance(shadow, _SyncContext):
            original, shadow = shadow, 0
        if original is None:
            super().__init__(io_threads, shadow, **kwargs)
            return
        if original.closed:
            raise ZMQError(_errno.EFAULT, "cannot shadow a closed context")
        for key, value in original.__dict__.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "_shadow", True)

    @classmethod
    def shadow(cls, address: Any) -> "_AsyncContext":
        """A second handle on a puremq Context (passed itself: puremq has no addresses)."""
        return cls(shadow=address)

    def term(self) -> None:
        if self._shadow and self._engine.terminated:
            object.__setattr__(self, "_closed", True)
            return
        super().term()

    def __del__(self) -> None:
        if not self._shadow:
            super().__del__()
