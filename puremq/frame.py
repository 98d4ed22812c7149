"""Frame (alias Message) and MessageTracker, shaped like pyzmq's.

A Frame is what ``recv(copy=False)`` returns and what ``send`` accepts: one message part
with the buffer interface.  On Python 3.12+ a Frame exports the very buffer the engine
received (``__buffer__``, PEP 688), so ``numpy.frombuffer(frame)`` costs nothing.  Before
3.12 a pure-Python class cannot export a buffer, so there Frame is a ``bytearray``
subclass, and the engine receives large bodies straight into Frames (``RECEIVE_BODY_TYPE``)
so that there too ``recv(copy=False)`` of a large message copies nothing.
"""

from __future__ import annotations

import gc
import platform
import sys
import threading
import time
from typing import Any, Callable, Dict, Optional, Union

from .constants import MessageOption
from .error import NotDone, ZMQError
from .constants import Errno

__all__ = ["Frame", "Message", "MessageTracker", "as_send_buffer", "FINISHED_TRACKER",
           "RECEIVE_BODY_TYPE"]

BUFFER_PROTOCOL_EXPORT = sys.version_info >= (3, 12)


class MessageTracker:
    """Tells when zero-copy sends are done with their buffers (pyzmq's MessageTracker).

    ``done`` becomes true once every watched send has handed its bytes to the kernel (for
    inproc: to the receiving socket), after which the buffer may be reused.
    """

    def __init__(self, *towatch: Any) -> None:
        self.events = set()
        self.peers = set()
        for obj in towatch:
            if isinstance(obj, threading.Event):
                self.events.add(obj)
            elif isinstance(obj, MessageTracker):
                self.peers.add(obj)
            elif getattr(obj, "tracker", None) is not None:
                self.peers.add(obj.tracker)
            else:
                raise TypeError(f"Require Events or MessageTrackers, not {type(obj)}")

    @property
    def done(self) -> bool:
        if self._done_now():
            return True
        if _COLLECT_FOR_FINALIZERS:
            gc.collect()  # the events are set by buffer finalizers (see _wait_event)
            return self._done_now()
        return False

    def _done_now(self) -> bool:
        return all(e.is_set() for e in self.events) and all(p.done for p in self.peers)

    def wait(self, timeout: Union[float, int] = -1) -> None:
        """Wait until done, at most ``timeout`` seconds (-1: forever); NotDone on timeout."""
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
        for event in self.events:
            if not _wait_event(event, deadline):
                raise NotDone()
        for peer in self.peers:
            remaining = -1 if deadline is None else max(0.0, deadline - time.monotonic())
            peer.wait(remaining)


#: Tracker events are set by weakref finalizers of the sent buffers (puremq.socket).
#: CPython runs those the moment the engine drops its last reference; other
#: implementations (PyPy) only when the garbage collector runs, so there waiting collects.
_COLLECT_FOR_FINALIZERS = platform.python_implementation() != "CPython"


def _wait_event(event: threading.Event, deadline: Optional[float]) -> bool:
    if not _COLLECT_FOR_FINALIZERS:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        return event.wait(remaining)
    while not event.is_set():
        gc.collect()
        if event.is_set():
            break
        remaining = 0.01 if deadline is None else min(0.01, deadline - time.monotonic())
        if remaining <= 0:
            return False
        event.wait(remaining)
    return True


def _finished() -> MessageTracker:
    event = threading.Event()
    event.set()
    return MessageTracker(event)


FINISHED_TRACKER = _finished()


def as_send_buffer(data: Any, copy: bool, copy_threshold: int) -> Any:
    """What goes into a pipe for ``data``: bytes, or a flat memoryview for zero-copy."""
    if type(data) is bytes:
        return data
    if BUFFER_PROTOCOL_EXPORT and isinstance(data, Frame):
        return data.buffer
    if isinstance(data, str):
        raise TypeError("unicode not allowed, use send_string")
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"Expected bytes or an object with the buffer interface, "
                        f"got {type(data).__name__}") from None
    if copy or view.nbytes < copy_threshold:
        return view.tobytes()
    if not view.contiguous:
        return view.tobytes()
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    if not view.readonly:
        return view
    return view


class _FrameMixin:
    """What Frame offers, whichever way it holds its data."""

    more: bool
    tracker: Optional[MessageTracker]
    properties: Optional[Dict[str, Any]]

    def get(self, option: Union[int, str]) -> Any:
        """MORE (int) or a metadata property by name: 'Socket-Type', 'Peer-Address', ..."""
        if isinstance(option, int):
            if option == MessageOption.MORE:
                return int(self.more)
            raise ZMQError(Errno.EINVAL)
        props = self.properties or {}
        key = option
        if key == "Identity":
            key = "Routing-Id" if "Routing-Id" in props else key
        if key not in props:
            lowered = key.lower()
            for name in props:
                if name.lower() == lowered:
                    key = name
                    break
            else:
                raise ZMQError(Errno.EINVAL, f"No such property: {option!r}")
        value = props[key]
        return value.decode("utf8", "replace") if isinstance(value, (bytes, bytearray)) \
            else str(value)

    def set(self, option: int, value: Any) -> None:
        raise ZMQError(Errno.EINVAL, "Frame options cannot be set")

    @property
    def tracker_event(self) -> Optional[threading.Event]:
        return None


if BUFFER_PROTOCOL_EXPORT:

    class Frame(_FrameMixin):
        """A message part; exports its buffer without copying."""

        __slots__ = ("_data", "more", "tracker", "properties", "routing_id", "group")

        def __init__(self, data: Any = b"", track: bool = False, copy: Optional[bool] = None,
                       copy_threshold: Optional[int] = None) -> None:
            if data is None:
                data = b""
            if isinstance(data, str):
                raise TypeError("Str objects not allowed. Only: bytes, buffer interfaces.")
            if isinstance(data, Frame):
                data = data._data
            elif type(data) is not bytes and copy:
                data = memoryview(data).tobytes()
            self._data = data
            self.more = False
            self.tracker = FINISHED_TRACKER if track else None
            self.properties = None
            self.routing_id = None
            self.group = None

        def __buffer__(self, flags: int) -> memoryview:
            return memoryview(self._data)

        def __release_buffer__(self, view: memoryview) -> None:
            view.release()

        @property
        def buffer(self) -> memoryview:
            view = memoryview(self._data)
            return view.toreadonly() if not view.readonly else view

        @property
        def bytes(self) -> bytes:
            data = self._data
            return data if type(data) is bytes else bytes(data)

        def __len__(self) -> int:
            return memoryview(self._data).nbytes

        def __eq__(self, other: object) -> bool:
            if isinstance(other, Frame):
                return self.bytes == other.bytes
            try:
                return self.bytes == memoryview(other).tobytes()  # type: ignore[arg-type]
            except TypeError:
                return NotImplemented

        __hash__ = None  # type: ignore[assignment]

        def __bytes__(self) -> bytes:
            return self.bytes

        def __str__(self) -> str:
            return self.bytes.decode("utf8", "replace")

        def __repr__(self) -> str:
            nbytes = len(self)
            preview = self.bytes[:32] if nbytes > 32 else self.bytes
            return f"<puremq.Frame({preview!r}{'...' if nbytes > 32 else ''}{nbytes}B)>"

        def __copy__(self) -> "Frame":
            return self.fast_copy()

        def fast_copy(self) -> "Frame":
            twin = Frame(self._data)
            twin.more = self.more
            twin.properties = self.properties
            return twin

else:

    class Frame(_FrameMixin, bytearray):  # type: ignore[no-redef]
        """A message part: a bytearray subclass before Python 3.12.

        A pure-Python class cannot export a buffer before PEP 688, so Frame *is* its buffer
        here.  A large body is received straight into a Frame (the engine's ``body_type``),
        so ``recv(copy=False)`` hands out the received bytes themselves; a small one, which
        the decoder slices out of a read chunk, is copied once into its Frame.
        """

        def __init__(self, data: Any = b"", track: bool = False, copy: Optional[bool] = None,
                     copy_threshold: Optional[int] = None) -> None:
            if data is None:
                data = b""
            elif isinstance(data, str):
                raise TypeError("Str objects not allowed. Only: bytes, buffer interfaces.")
            elif isinstance(data, int):
                raise TypeError("Frame data must have the buffer interface, not int")
            bytearray.__init__(self, data)
            if track:
                self.tracker = FINISHED_TRACKER

        # defaults live on the class: a received frame sets only what differs
        more = False
        tracker = None
        properties = None
        routing_id = None
        group = None

        __hash__ = None  # type: ignore[assignment]

        @property
        def buffer(self) -> memoryview:
            return memoryview(self).toreadonly()

        @property
        def bytes(self) -> bytes:
            return bytes(memoryview(self))

        def __str__(self) -> str:
            return self.bytes.decode("utf8", "replace")

        def __repr__(self) -> str:
            nbytes = len(self)
            preview = self.bytes[:32]
            return f"<puremq.Frame({preview!r}{'...' if nbytes > 32 else ''}{nbytes}B)>"

        def __copy__(self) -> "Frame":
            return self.fast_copy()

        def fast_copy(self) -> "Frame":
            twin = Frame(self)
            twin.more = self.more
            twin.properties = self.properties
            return twin


def _receive_body(size: int) -> bytearray:
    """A zero-filled Frame of ``size`` bytes for the decoder to receive a large body into."""
    body = bytearray.__new__(Frame)
    bytearray.__init__(body, size)
    return body


#: what the engine receives large bodies into (see SocketEngine.body_type)
RECEIVE_BODY_TYPE = bytearray if BUFFER_PROTOCOL_EXPORT else _receive_body

if sys.implementation.name != "cpython" and not BUFFER_PROTOCOL_EXPORT:

    class RecyclableBody(Frame):
        """A large body the engine received, on an interpreter without reference counts
        (PyPy), where the decoder cannot tell when a body it handed out is free again.
        ``recv(copy=True)`` of the socket whose engine made it knows: it copied the body,
        which nobody else was given, so it hands the buffer back for the socket's next
        large body.  Allocating one per message halved PyPy's large-message receive rate.
        ``recycle_to`` is that socket's free list, and None once the body was handed out
        as a Frame (recv(copy=False)): the application's for good."""

        recycle_to: Any = None

    def recycling_body_type(free: Any) -> Callable[[int], bytearray]:
        """A body_type that takes its buffers from ``free`` (a deque) when it can."""
        def new_body(size: int) -> bytearray:
            try:
                body = free.pop()
            except IndexError:
                body = bytearray.__new__(RecyclableBody)
                bytearray.__init__(body, size)
                body.recycle_to = free
                return body
            have = len(body)
            if have > size:
                del body[size:]
            elif have < size:
                body += bytes(size - have)
            return body
        return new_body
else:
    RecyclableBody = None  # type: ignore[assignment,misc]  # reference counts do it

    def recycling_body_type(free: Any) -> Callable[[int], bytearray]:
        return RECEIVE_BODY_TYPE

Message = Frame
