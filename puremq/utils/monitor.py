"""Socket event monitoring: libzmq's event messages, and the machinery behind
``Socket.monitor``.

A monitored socket publishes its events on an inproc PAIR socket bound to the address given
to ``Socket.monitor``; the application connects its own PAIR there (``get_monitor_socket``
does both) and reads two-frame messages, as libzmq 4.x writes them:

* frame 1, 6 bytes: the event number (u16) then its value (u32), in the host's byte order
  (libzmq copies the integers with memcpy; little-endian on every common platform);
* frame 2: the endpoint the event is about.

Events are raised in the application thread (LISTENING, BIND_FAILED, MONITOR_STOPPED) and in
the I/O thread (everything about connections), so the sending end is shared by threads; a
lock serialises it.  Unlike libzmq, which blocks the raising thread while the monitor's queue
is full or nobody has connected to it yet, puremq never blocks there: such events are
dropped.
"""

from __future__ import annotations

import struct
import threading
from typing import Any, Dict, List, Optional

from ..constants import Event, Flag, SocketType
from ..error import ZMQError

__all__ = ["parse_monitor_message", "recv_monitor_message"]

_EVENT = struct.Struct("=HI")  # what libzmq writes (native order, no padding)
_PARSE = struct.Struct("=hi")  # what pyzmq reads
_MONITOR_STOPPED = int(Event.MONITOR_STOPPED)
_ALL_V1 = 0xFFFF


def _as_event(number: int) -> Any:
    try:
        return Event(number)
    except ValueError:
        return number


def parse_monitor_message(msg: List[bytes]) -> Dict[str, Any]:
    """Decode one monitor message: ``{'event': Event, 'value': int, 'endpoint': bytes}``.

    Raises RuntimeError for anything but libzmq's two-frame layout (as pyzmq).
    """
    if len(msg) != 2 or len(msg[0]) != 6:
        raise RuntimeError(f"Invalid event message format: {msg}")
    event, value = _PARSE.unpack(bytes(msg[0]))
    return {"event": _as_event(event), "value": _as_event(value), "endpoint": bytes(msg[1])}


def recv_monitor_message(socket: Any, flags: int = 0) -> Dict[str, Any]:
    """Receive one event from a monitor socket (see ``Socket.get_monitor_socket``) and
    decode it with :func:`parse_monitor_message`."""
    return parse_monitor_message(socket.recv_multipart(flags))


def encode_event(event: int, value: int, endpoint: Any) -> List[bytes]:
    """The two frames libzmq sends for one event."""
    if isinstance(endpoint, str):
        endpoint = endpoint.encode("utf-8", "surrogateescape")
    return [_EVENT.pack(event & 0xFFFF, value & 0xFFFFFFFF), bytes(endpoint)]


class EventSink:
    """The monitored socket's end: an inproc PAIR bound to the monitor address.

    Instances are the engine's ``monitor_hook``: called with (event, value, endpoint) from
    whichever thread saw the event.
    """

    def __init__(self, socket: Any, addr: str, events: int) -> None:
        from ..socket import Socket
        context = socket.context
        # a plain (synchronous) socket whatever the context makes: an asyncio context's
        # sockets want an event loop, and events are raised in the I/O thread
        pair = Socket(context, SocketType.PAIR)
        # Private to the monitored socket, which closes it: keep it out of the context's
        # list so that destroy() does not close it under an I/O thread that is sending.
        context._rm_socket(pair)
        try:
            pair.bind(addr)
        except BaseException:
            pair.close(linger=0)
            raise
        self.events = int(events)
        self._pair: Optional[Any] = pair
        self._lock = threading.Lock()

    def __call__(self, event: int, value: int, endpoint: Any) -> None:
        event = int(event)
        if not event & self.events:
            return
        frames = encode_event(event, int(value), endpoint)
        with self._lock:
            pair = self._pair
            if pair is None:
                return
            try:
                pair.send_multipart(frames, Flag.DONTWAIT)
            except ZMQError:
                pass  # nobody connected yet, or the reader fell behind by a full queue

    def stop(self, send_stopped: bool = True) -> None:
        """MONITOR_STOPPED (if asked for), then close: what the reader already has, or
        what is queued for it, stays readable."""
        with self._lock:
            pair = self._pair
            if pair is None:
                return
            self._pair = None
            if send_stopped and self.events & _MONITOR_STOPPED:
                try:
                    pair.send_multipart(encode_event(_MONITOR_STOPPED, 0, b""), Flag.DONTWAIT)
                except ZMQError:
                    pass
            pair.close(linger=0)


def check_monitor_args(addr: Any, events: int) -> str:
    """libzmq's checks for zmq_socket_monitor: inproc only, version-1 events only."""
    from ..constants import Errno
    from ..transport import endpoint as ep
    if isinstance(addr, bytes):
        addr = addr.decode("utf-8")
    if not isinstance(addr, str):
        raise TypeError(f"monitor address must be a string, not {type(addr).__name__}")
    if int(events) & ~_ALL_V1:
        raise ZMQError(Errno.EINVAL, "Invalid argument")
    if "://" not in addr:
        raise ZMQError(Errno.EINVAL, "Invalid argument")
    transport = addr.split("://", 1)[0]
    if transport != "inproc":
        raise ZMQError(Errno.EPROTONOSUPPORT, "Protocol not supported")
    ep.parse(addr)  # the same errors bind would give
    return addr
