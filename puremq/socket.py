"""Socket: pyzmq's Socket API over puremq's engine.

The hot paths (``send``, ``recv``, ``send_multipart``, ``recv_multipart``) call the socket
type's pattern directly and only go to the engine when they must wait; everything a user
can get wrong ends in a ZMQError with libzmq's errno.
"""

from __future__ import annotations

import errno as _errno
import json
import pickle
import random
import threading
import weakref
from collections import deque
from typing import Any, Callable, List, Optional, Sequence, Tuple, TypeVar, Union

from .constants import Errno, Flag, PollEvent, SocketOption, SocketType
from .error import ZMQBindError, ZMQError
from .frame import (FINISHED_TRACKER, Frame, MessageTracker, RecyclableBody, as_send_buffer,
                    recycling_body_type)
from .constants import COPY_THRESHOLD
from .zmtp.framing import keep_spare
from .zmtp.inbox import unpack_u64 as _unpack_u64

__all__ = ["Socket"]

_DONTWAIT = int(Flag.DONTWAIT)
_SNDMORE = int(Flag.SNDMORE)
_RCVTIMEO = SocketOption.RCVTIMEO
_EVENT_ALL = 0xFFFF
_SNDTIMEO = SocketOption.SNDTIMEO
_BYTES_OPTIONS = frozenset({SocketOption.ROUTING_ID, SocketOption.SUBSCRIBE,
                            SocketOption.UNSUBSCRIBE, SocketOption.LAST_ENDPOINT,
                            SocketOption.CONNECT_ROUTING_ID, SocketOption.ZAP_DOMAIN,
                            SocketOption.PLAIN_USERNAME, SocketOption.PLAIN_PASSWORD,
                            SocketOption.CURVE_PUBLICKEY, SocketOption.CURVE_SECRETKEY,
                            SocketOption.CURVE_SERVERKEY, SocketOption.SOCKS_PROXY,
                            SocketOption.BINDTODEVICE, SocketOption.METADATA})

T = TypeVar("T", bound="Socket")


def _closed_error() -> ZMQError:
    return ZMQError(Errno.ENOTSOCK)


class _EndpointContext:
    """What bind/connect return: usable as a context manager that undoes them (pyzmq 26)."""

    def __init__(self, socket: "Socket", kind: str, addr: str) -> None:
        self.socket = socket
        self.kind = kind
        self.addr = addr

    def __enter__(self) -> "Socket":
        return self.socket

    def __exit__(self, *exc: Any) -> None:
        if self.socket.closed:
            return
        if self.kind == "bind":
            self.socket.unbind(self.addr)
        else:
            self.socket.disconnect(self.addr)

    def __repr__(self) -> str:
        return f"<{self.kind} {self.addr!r} on {self.socket!r}>"


class Socket:
    """A puremq socket; create it with ``Context.socket(type)``."""

    copy_threshold: int = COPY_THRESHOLD
    _closed: bool = True
    _shadow = False
    _monitor_socket = None
    _event_sink = None

    def __init__(self, ctx_or_socket: Any = None, socket_type: int = 0, *,
                 shadow: Any = 0, copy_threshold: Optional[int] = None) -> None:
        from .context import Context
        if isinstance(ctx_or_socket, Socket):
            raise ZMQError(Errno.EINVAL, "puremq sockets cannot shadow other sockets")
        if ctx_or_socket is None:
            ctx_or_socket = Context.instance()
        object.__setattr__(self, "context", ctx_or_socket)
        engine = ctx_or_socket._engine.new_socket(socket_type)
        # bodies recv(copy=True) copied come back here for the next large body (PyPy)
        object.__setattr__(self, "_free_bodies", deque())
        engine.body_type = recycling_body_type(self._free_bodies)
        object.__setattr__(self, "_engine", engine)
        object.__setattr__(self, "_pattern", engine.pattern)
        object.__setattr__(self, "_inbox", engine.inbox)
        object.__setattr__(self, "_options", engine.options)
        object.__setattr__(self, "_send_parts", [])
        object.__setattr__(self, "_recv_parts", deque())
        object.__setattr__(self, "_rcvmore", False)
        object.__setattr__(self, "_closed", False)
        object.__setattr__(self, "_send_trackers", [])
        if copy_threshold is not None:
            object.__setattr__(self, "copy_threshold", copy_threshold)
        ctx_or_socket._add_socket(self)

    # -- attribute access to options, as pyzmq's AttributeSetter --------------------------
    def __setattr__(self, key: str, value: Any) -> None:
        if key in self.__dict__ or key.startswith("_") or hasattr(type(self), key):
            object.__setattr__(self, key, value)
            return
        option = _option_named(key)
        if option is None:
            raise AttributeError(f"{type(self).__name__} has no such option: {key.upper()}")
        self._set_attr_opt(key.upper(), option, value)

    def _set_attr_opt(self, name: str, option: int, value: Any) -> None:
        if name == "HWM":
            self.set_hwm(value)
        elif isinstance(value, str) and option in _BYTES_OPTIONS:
            self.set_string(option, value)
        else:
            self.set(option, value)

    def _get_attr_opt(self, name: str, option: int) -> Any:
        if name == "HWM":
            return self.get_hwm()
        return self.get(option)

    # -- state -------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def socket_type(self) -> int:
        return self._engine.socket_type

    @property
    def type(self) -> SocketType:
        return SocketType(self._engine.socket_type)

    @property
    def underlying(self) -> int:
        return id(self._engine)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        try:
            name = SocketType(self._engine.socket_type).name
        except (ValueError, AttributeError):
            name = "?"
        return f"<puremq.Socket(puremq.{name}) at {hex(id(self))} {state}>"

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if not self._closed and getattr(self, "_engine", None) is not None:
            try:
                self.close()
            except Exception:
                pass

    def _check(self) -> None:
        if self._closed:
            raise _closed_error()

    def close(self, linger: Optional[int] = None) -> None:
        """Close; unsent messages are kept for ``linger`` ms (None: the LINGER option)."""
        if self._closed:
            return
        object.__setattr__(self, "_closed", True)
        object.__setattr__(self, "_monitor_socket", None)
        self._engine.close(linger)
        if self._event_sink is not None:
            self._stop_monitor_after_close()
        self.context._rm_socket(self)

    def fileno(self) -> int:
        self._check()
        return self._engine.fileno()

    # -- options ---------------------------------------------------------------------------
    def set(self, option: int, optval: Any) -> None:
        """setsockopt: EINVAL for a bad value or an option this type does not have."""
        self._check()
        option = int(option)
        if option == SocketOption.HWM:
            self.set_hwm(optval)
            return
        value = self._options.coerce(option, optval)
        if self._inbox.data is not None:
            # what was read but not handed out yet is subject to the new value (SUB's
            # filter, MAXMSGSIZE, ...): back to the connection, to be queued as usual
            self._engine.return_inbox()
        if self._pattern.xsetsockopt(option, value):
            return
        self._options.values[option] = value

    setsockopt = set

    def get(self, option: int) -> Any:
        """getsockopt."""
        self._check()
        option = int(option)
        if option == SocketOption.FD:
            return self._engine.fileno()
        if option == SocketOption.EVENTS:
            events = self._engine.poll_events()
            if self._recv_parts:
                events |= PollEvent.POLLIN  # the rest of a multipart message, as libzmq
            return PollEvent(events)
        if option == SocketOption.RCVMORE:
            return int(self._rcvmore)
        if option == SocketOption.TYPE:
            return SocketType(self._engine.socket_type)
        if option == SocketOption.LAST_ENDPOINT:
            return self._options.values.get(SocketOption.LAST_ENDPOINT, b"")
        if option == SocketOption.HWM:
            return self.get_hwm()
        if option == SocketOption.MECHANISM:
            return 0
        return self._options.get(option)

    getsockopt = get

    def set_string(self, option: int, optval: str, encoding: str = "utf-8") -> None:
        if not isinstance(optval, str):
            raise TypeError(f"strings only, not {type(optval)}")
        self.set(option, optval.encode(encoding))

    setsockopt_string = setsockopt_unicode = set_string

    def get_string(self, option: int, encoding: str = "utf-8") -> str:
        value = self.get(option)
        if not isinstance(value, bytes):
            raise TypeError(f"option {option} will not return a string")
        return value.decode(encoding)

    getsockopt_string = getsockopt_unicode = get_string

    def set_hwm(self, value: int) -> None:
        """Set both SNDHWM and RCVHWM."""
        self.set(SocketOption.SNDHWM, value)
        self.set(SocketOption.RCVHWM, value)

    def get_hwm(self) -> int:
        return self.get(SocketOption.SNDHWM)

    hwm = property(get_hwm, set_hwm)

    # -- endpoints ----------------------------------------------------------------------------
    def bind(self, addr: str) -> _EndpointContext:
        self._check()
        actual = self._engine.bind(addr)
        return _EndpointContext(self, "bind", actual)

    def connect(self, addr: str) -> _EndpointContext:
        self._check()
        self._engine.connect(addr)
        return _EndpointContext(self, "connect", addr)

    def unbind(self, addr: str) -> None:
        self._check()
        self._engine.unbind(addr)

    def disconnect(self, addr: str) -> None:
        self._check()
        self._engine.disconnect(addr)

    def bind_to_random_port(self, addr: str, min_port: int = 49152, max_port: int = 65536,
                            max_tries: int = 100) -> int:
        """Bind to a port chosen at random in [min_port, max_port); returns it."""
        self._check()
        if min_port == 49152 and max_port == 65536:
            # the kernel's own ephemeral choice, as pyzmq does for the default range
            self.bind(f"{addr}:*")
            endpoint = self.get(SocketOption.LAST_ENDPOINT).decode()
            return int(endpoint.rsplit(":", 1)[-1])
        for _ in range(max_tries):
            port = random.randrange(min_port, max_port)
            try:
                self.bind(f"{addr}:{port}")
            except ZMQError as exc:
                if exc.errno in (_errno.EADDRINUSE, _errno.EACCES):
                    continue
                raise
            return port
        raise ZMQBindError("Could not bind socket to random port.")

    # -- sending -------------------------------------------------------------------------------
    def _begin_multipart(self, flags: int, first: Any) -> None:
        """First part of a multipart send: fail or wait here, as libzmq does."""
        pattern = self._pattern
        if pattern.commands:
            pattern.process_commands()
        pattern.check_send()
        pattern.check_first_frame(first)
        if pattern.xhas_out():
            return
        timeout = 0 if flags & _DONTWAIT else self._options.values[_SNDTIMEO]
        self._engine.wait_until_writable(timeout)

    def send(self, data: Any, flags: int = 0, copy: bool = True, track: bool = False,
             routing_id: Optional[int] = None, group: Optional[str] = None
             ) -> Optional[MessageTracker]:
        """Send one message part; with SNDMORE, more parts follow."""
        if self._closed:
            raise _closed_error()
        if type(data) is bytes and not flags and not self._send_parts:
            # the hot path: a whole message of one part, bytes, no flags
            msg = [data]
            tracker = FINISHED_TRACKER if track else None
        else:
            msg, tracker = self._add_part(data, flags, copy, track)
            if msg is None:
                return tracker  # SNDMORE: more parts follow
        pattern = self._pattern
        if pattern.commands:
            pattern.process_commands()
        if not pattern.xsend(msg):
            self._engine.send_waiting(
                msg, 0 if flags & _DONTWAIT else self._options.values[_SNDTIMEO])
        return tracker

    def _add_part(self, data: Any, flags: int, copy: bool, track: bool
                  ) -> Tuple[Optional[List[Any]], Optional[MessageTracker]]:
        """send's general case: the whole message once ``data`` is its last part (else
        None: the part waits for the rest), and the tracker send returns."""
        tracker = None
        if type(data) is bytes:
            frame = data
            if track:
                tracker = FINISHED_TRACKER
        else:
            if isinstance(data, Frame) and data.more:
                flags |= _SNDMORE
            frame = as_send_buffer(data, copy, self.copy_threshold)
            if track:
                tracker = self._track(frame)
        parts = self._send_parts
        if flags & _SNDMORE:
            if not parts:
                self._begin_multipart(flags, frame)
            parts.append(frame)
            return None, tracker
        if parts:
            parts.append(frame)
            object.__setattr__(self, "_send_parts", [])
            return parts, tracker
        return [frame], tracker

    def _track(self, frame: Any) -> MessageTracker:
        if type(frame) is bytes:
            return FINISHED_TRACKER
        return _tracker_for(frame)

    def send_multipart(self, msg_parts: Sequence[Any], flags: int = 0, copy: bool = True,
                       track: bool = False, **kwargs: Any) -> Optional[MessageTracker]:
        """Send a whole multipart message, atomically."""
        if self._closed:
            raise _closed_error()
        frames: List[Any] = []
        trackers = []
        threshold = self.copy_threshold
        for part in msg_parts:
            if type(part) is bytes:
                frames.append(part)
                continue
            if isinstance(part, str):
                raise TypeError(f"Frame {len(frames)} ({part!r}) does not support the buffer "
                                f"interface.")
            try:
                frame = as_send_buffer(part, copy, threshold)
            except TypeError:
                raise TypeError(f"Frame {len(frames)} ({part!r}) does not support the buffer "
                                f"interface.") from None
            frames.append(frame)
            if track and type(frame) is not bytes:
                trackers.append(frame)
        if not frames:
            raise ZMQError(Errno.EINVAL, "empty multipart message")
        if flags & _SNDMORE:
            for frame in frames:
                self.send(frame, flags | _SNDMORE)
        else:
            parts = self._send_parts
            if parts:
                frames[0:0] = parts
                object.__setattr__(self, "_send_parts", [])
            pattern = self._pattern
            if pattern.commands:
                pattern.process_commands()
            if not pattern.xsend(frames):
                self._engine.send_waiting(
                    frames, 0 if flags & _DONTWAIT else self._options.values[_SNDTIMEO])
        if not track:
            return None
        if not trackers:
            return FINISHED_TRACKER
        return MessageTracker(*[_tracker_for(f) for f in trackers])

    def send_string(self, u: str, flags: int = 0, copy: bool = True, encoding: str = "utf-8",
                    **kwargs: Any) -> Optional[MessageTracker]:
        if not isinstance(u, str):
            raise TypeError("str objects only")
        return self.send(u.encode(encoding), flags=flags, copy=copy, **kwargs)

    send_unicode = send_string

    def send_pyobj(self, obj: Any, flags: int = 0, protocol: int = pickle.DEFAULT_PROTOCOL,
                   **kwargs: Any) -> Optional[MessageTracker]:
        return self.send(pickle.dumps(obj, protocol), flags=flags, **kwargs)

    def send_json(self, obj: Any, flags: int = 0, **kwargs: Any) -> Optional[MessageTracker]:
        send_kwargs = {k: kwargs.pop(k) for k in ("routing_id", "group") if k in kwargs}
        data = json.dumps(obj, **kwargs).encode("utf8")
        return self.send(data, flags=flags, **send_kwargs)

    def send_serialized(self, msg: Any, serialize: Callable[[Any], List[Any]], flags: int = 0,
                        copy: bool = True, **kwargs: Any) -> Optional[MessageTracker]:
        return self.send_multipart(serialize(msg), flags=flags, copy=copy, **kwargs)

    # -- receiving --------------------------------------------------------------------------------
    def _next_message(self, flags: int) -> List[Any]:
        pattern = self._pattern
        if pattern.commands:
            pattern.process_commands()
        msg = pattern.xrecv()
        if msg is None:
            msg = self._engine.recv_waiting(
                0 if flags & _DONTWAIT else self._options.values[_RCVTIMEO])
        return msg

    def _wrap(self, data: Any, more: bool) -> Frame:
        kind = type(data)
        if kind is Frame:
            frame = data
        elif kind is RecyclableBody:
            frame = data
            frame.recycle_to = None  # the application's now, for good
        else:
            frame = Frame(data)
        frame.more = more
        pipe = self._pattern.fq.last_pipe
        if pipe is not None:
            frame.properties = pipe.properties
        return frame

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        """Receive one message part: bytes, or a Frame with copy=False."""
        inbox = self._inbox
        data = inbox.data
        if data is not None:
            # The hottest path: the next message is a single frame in the bytes this
            # thread read from the sole peer (zmtp.inbox; PlainInbox.next_frame, inlined).
            # The inbox is emptied when the socket closes or may hold anything but this.
            pos = inbox.pos
            start = pos + 2
            end = inbox.end
            if start <= end:
                kind = data[pos]  # (not ``flags``: that is recv's DONTWAIT argument)
                if not kind:  # a final short frame
                    stop = start + data[pos + 1]
                elif kind == 2 and pos + 9 <= end:  # a final long frame
                    start = pos + 9
                    stop = start + _unpack_u64(data, pos + 1)[0]
                else:
                    stop = end + 1
                if stop <= end:
                    inbox.pos = stop
                    if stop == end:
                        # (given back now, not at the next recv: the connection may
                        # have to go back to the I/O thread before then)
                        self._engine.return_inbox()
                    if copy:
                        return data[start:stop]
                    return self._wrap(data[start:stop], False)
            self._engine.return_inbox()
        if self._closed:
            raise _closed_error()
        if self._recv_parts:
            return self._next_part(copy)
        # the hot path of every receiver: one pattern call, a single-part message
        pattern = self._pattern
        if pattern.commands:
            pattern.process_commands()
        msg = pattern.xrecv()
        if msg is None:
            msg = self._engine.recv_waiting(
                0 if flags & _DONTWAIT else self._options.values[_RCVTIMEO])
        if len(msg) == 1:
            if self._rcvmore:
                object.__setattr__(self, "_rcvmore", False)
            data = msg[0]
            if copy:
                if type(data) is bytes:
                    return data
                copied = bytes(data)
                if type(data) is RecyclableBody:
                    free = self._free_bodies
                    # made by this socket's engine, never handed out: nobody else holds it
                    if data.recycle_to is free:
                        keep_spare(free, data)
                return copied
            return self._wrap(data, False)
        self._recv_parts.extend(msg)
        return self._next_part(copy)

    def _next_part(self, copy: bool) -> Any:
        """The next part of a multipart message being received."""
        parts = self._recv_parts
        data = parts.popleft()
        more = bool(parts)
        if more is not self._rcvmore:
            object.__setattr__(self, "_rcvmore", more)
        if copy:
            return data if type(data) is bytes else bytes(data)
        return self._wrap(data, more)

    def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False
                       ) -> List[Any]:
        """Receive a whole multipart message."""
        if self._closed:
            raise _closed_error()
        parts = self._recv_parts
        if parts:
            msg = list(parts)
            parts.clear()
        else:
            msg = self._next_message(flags)
        if self._rcvmore:
            object.__setattr__(self, "_rcvmore", False)
        if copy:
            for index, frame in enumerate(msg):
                if type(frame) is not bytes:
                    msg[index] = bytes(frame)
            return msg
        last = len(msg) - 1
        return [self._wrap(frame, index < last) for index, frame in enumerate(msg)]

    def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> str:
        return self.recv(flags=flags).decode(encoding)

    recv_unicode = recv_string

    def recv_pyobj(self, flags: int = 0) -> Any:
        return pickle.loads(self.recv(flags))

    def recv_json(self, flags: int = 0, **kwargs: Any) -> Any:
        return json.loads(self.recv(flags), **kwargs)

    def recv_serialized(self, deserialize: Callable[[List[Any]], Any], flags: int = 0,
                        copy: bool = True) -> Any:
        return deserialize(self.recv_multipart(flags, copy=copy))

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> int:
        """Receive one part into ``buffer``; returns the part's full size (may exceed it)."""
        if nbytes < 0:
            raise ValueError(f"nbytes={nbytes!r} must be non-negative")
        view = memoryview(buffer)
        if view.readonly:
            raise TypeError("recv_into needs a writable buffer")
        view = view.cast("B") if view.format != "B" or view.ndim != 1 else view
        if nbytes == 0 or nbytes > view.nbytes:
            nbytes = view.nbytes
        data = self.recv(flags, copy=False)
        source = memoryview(data).cast("B") if not isinstance(data, (bytes, bytearray)) \
            else memoryview(data)
        size = source.nbytes
        count = min(size, nbytes)
        view[:count] = source[:count]
        return size

    # -- polling -----------------------------------------------------------------------------------
    def poll(self, timeout: Optional[int] = None, flags: int = PollEvent.POLLIN) -> int:
        """Wait up to ``timeout`` ms (None: forever) for ``flags``; returns the events."""
        if self._closed:
            raise ZMQError(Errno.ENOTSUP)  # what pyzmq raises for poll on a closed socket
        from .poll import Poller
        poller = Poller()
        poller.register(self, flags)
        events = dict(poller.poll(timeout))
        return events.get(self, 0)

    # -- pub-sub sugar ------------------------------------------------------------------------------
    def subscribe(self, topic: Union[str, bytes]) -> None:
        if isinstance(topic, str):
            topic = topic.encode("utf8")
        self.set(SocketOption.SUBSCRIBE, topic)

    def unsubscribe(self, topic: Union[str, bytes]) -> None:
        if isinstance(topic, str):
            topic = topic.encode("utf8")
        self.set(SocketOption.UNSUBSCRIBE, topic)

    # -- monitoring ---------------------------------------------------------------------------
    def monitor(self, addr: Optional[Union[str, bytes]], events: int = _EVENT_ALL) -> None:
        """Publish this socket's events on an inproc PAIR bound to ``addr`` (libzmq's
        zmq_socket_monitor); ``addr=None`` stops (MONITOR_STOPPED is the last event)."""
        from .utils.monitor import EventSink, check_monitor_args
        self._check()
        if addr is None:
            self._stop_monitor()
            return
        addr = check_monitor_args(addr, events)
        self._stop_monitor()  # libzmq: a new monitor replaces the old one
        sink = EventSink(self, addr, events)
        object.__setattr__(self, "_event_sink", sink)
        self._engine.monitor_hook = sink

    def get_monitor_socket(self, events: Optional[int] = None,
                           addr: Optional[str] = None) -> "Socket":
        """A PAIR socket connected to this socket's event monitor (started if needed)."""
        current = self._monitor_socket
        if current is not None and not current.closed:
            return current
        if addr is None:
            addr = f"inproc://monitor.s-{self.fileno()}"
        self.monitor(addr, _EVENT_ALL if events is None else events)
        sock = self.context.socket(SocketType.PAIR)
        sock.connect(addr)
        object.__setattr__(self, "_monitor_socket", sock)
        return sock

    def disable_monitor(self) -> None:
        """Stop the monitor started by get_monitor_socket (or monitor)."""
        object.__setattr__(self, "_monitor_socket", None)
        if not self._closed:
            self._stop_monitor()

    def _stop_monitor(self) -> None:
        sink = self._event_sink
        if sink is not None:
            object.__setattr__(self, "_event_sink", None)
            self._engine.monitor_hook = None
            sink.stop()

    def _stop_monitor_after_close(self) -> None:
        """After close: the endpoints shut down in the I/O thread and report CLOSED /
        DISCONNECTED there; MONITOR_STOPPED comes after them, as in libzmq."""
        sink = self._event_sink
        object.__setattr__(self, "_event_sink", None)
        engine = self._engine
        reactor = engine._reactor

        def stop() -> None:
            engine.monitor_hook = None
            sink.stop()
        if reactor is None:
            stop()
        else:
            reactor.post(stop)


def _option_property(name: str, option: int) -> property:
    def get(self: Socket) -> Any:
        return self._get_attr_opt(name, option)

    def set_(self: Socket, value: Any) -> None:
        self._set_attr_opt(name, option, value)
    return property(get, set_, doc=f"The {name} socket option.")


def _install_option_attributes(cls: type) -> None:
    """``sock.linger`` / ``sock.LINGER`` for every option, as properties on the class.

    Properties rather than ``__getattr__``: a class with ``__getattr__`` makes every
    attribute access of its instances slower (CPython cannot specialise them), and the
    send/recv hot paths read several.
    """
    for name, option in SocketOption.__members__.items():
        for attr in (name, name.lower()):
            if any(attr in klass.__dict__ for klass in cls.__mro__):
                continue  # a method or property of the same name wins (subscribe, type)
            setattr(cls, attr, _option_property(name, option))
    if "HWM" not in cls.__dict__:
        cls.HWM = cls.hwm  # type: ignore[attr-defined]


_install_option_attributes(Socket)


def _option_named(key: str) -> Optional[int]:
    upper = key.upper()
    if upper == "HWM":
        return SocketOption.HWM
    try:
        return SocketOption[upper]
    except KeyError:
        return None


def _tracker_for(buffer: Any) -> MessageTracker:
    """Done once nothing holds the zero-copy buffer any more: the engine drops it only
    after the kernel took the bytes (or, inproc, once the receiver let go of it)."""
    event = threading.Event()
    weakref.finalize(buffer, event.set)
    return MessageTracker(event)
