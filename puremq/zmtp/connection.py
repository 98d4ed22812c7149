"""One ZMTP 3.x connection as a sans-IO state machine.

Theory of operation
-------------------
A :class:`ZmtpConnection` is fed the bytes a peer sent (:meth:`receive_data`) and asked for
the bytes to send back (:meth:`data_to_send`).  It never touches a socket, a thread or a
clock: timers (handshake interval, heartbeats) belong to the engine that drives it.

States and what moves them::

    GREETING  --64 valid bytes-->            HANDSHAKE
    HANDSHAKE --mechanism READY + checks-->  ACTIVE      (emits HandshakeComplete)
    any       --protocol fault / ERROR-->    CLOSED      (emits ConnectionFailed)

Our greeting is queued at construction, whole: libzmq peers accept 64 bytes at once, and a
peer that reads a full greeting must also send one, so nobody waits on anybody.  The
mechanism's first commands follow as soon as the peer's greeting proved it speaks ZMTP 3.x
with the same mechanism.

:meth:`receive_data` returns a list of items in arrival order: a complete message is a
``list`` of frame bodies; anything else is one of the event classes below.  Checking
``type(item) is list`` is the fast path a receiver needs.  Protocol faults are reported as
a :class:`ConnectionFailed` item (after the items that arrived intact before the fault),
never as a half-delivered message.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from .errors import ZMTP_INVALID_METADATA, ZMTP_MALFORMED_COMMAND_UNSPECIFIED, \
    ZMTP_UNEXPECTED_COMMAND, ProtocolError
from .framing import Buffer, Command, DefaultFrameEncoder, FrameDecoder, frame_small_message
from .greeting import GREETING_SIZE, PeerGreeting, check_partial_greeting, encode_greeting, \
    parse_greeting
from .mechanisms.base import Mechanism, MechanismStatus
from .mechanisms.null import PeerSentError, encode_error_data, parse_error
from .sockettypes import SENDS_IDENTITY, compatible

#: Handshake commands larger than this are refused (CVE-2019-13132's lesson: bound what an
#: unauthenticated peer can make us hold).
HANDSHAKE_COMMAND_LIMIT = (1 << 20) + 4096
PING_CONTEXT_MAX = 16


class State(enum.Enum):
    GREETING = "greeting"
    HANDSHAKE = "handshake"
    ACTIVE = "active"
    CLOSED = "closed"


@dataclass(frozen=True)
class HandshakeComplete:
    """The peer is authenticated and compatible; messages may flow."""

    peer_socket_type: Optional[str]
    peer_identity: bytes
    properties: Dict[str, bytes] = field(default_factory=dict)
    zmtp_minor: int = 1


@dataclass(frozen=True)
class PingReceived:
    """A PING arrived (a PONG is already queued); ``ttl`` in milliseconds, 0 for none."""

    ttl: int


@dataclass(frozen=True)
class ConnectionFailed:
    """The connection is unusable and must be closed.

    ``peer_error`` is set when the peer sent ERROR (libzmq: no reconnect); ``code`` is the
    ZMTP error code for HANDSHAKE_FAILED_PROTOCOL; ``during_handshake`` tells which monitor
    event applies.
    """

    reason: str
    code: int
    errno: int
    during_handshake: bool
    peer_error: Optional[bytes] = None


_SUBSCRIBERS_OF = frozenset({"PUB", "XPUB"})


class ZmtpConnection:
    """Sans-IO ZMTP 3.1 connection (accepts 3.0 peers)."""

    def __init__(self, socket_type: str, mechanism: Mechanism, *, maxmsgsize: int = -1,
                 handshake_command_limit: int = HANDSHAKE_COMMAND_LIMIT,
                 body_type: Callable[[int], bytearray] = bytearray) -> None:
        self.socket_type = socket_type
        self.mechanism = mechanism
        self.maxmsgsize = maxmsgsize
        self.state = State.GREETING
        self.peer: Optional[PeerGreeting] = None
        self.peer_properties: Dict[str, bytes] = {}
        self.peer_identity = b""
        self.peer_socket_type: Optional[str] = None
        self._greeting = b""
        if 0 <= maxmsgsize < handshake_command_limit:
            # libzmq's decoder applies MAXMSGSIZE to every frame, handshake commands too
            handshake_command_limit = maxmsgsize
        self._decoder = FrameDecoder(maxmsgsize=-1, max_command_size=handshake_command_limit,
                                     body_type=body_type)
        self._decoder.commands_only = True
        self._encoder = DefaultFrameEncoder()
        self._encoder.raw(encode_greeting(mechanism.name, mechanism.as_server))
        self._wants_subscriptions = socket_type in _SUBSCRIBERS_OF
        self.failure: Optional[ConnectionFailed] = None
        #: set when the last batch may hold events besides messages; the caller clears it
        self.had_events = False

    # -- receiving --------------------------------------------------------------------
    def receive_data(self, data: Buffer) -> list:
        """Feed received bytes; returns messages and events in arrival order."""
        state = self.state
        if state is State.ACTIVE:
            decoder = self._decoder
            try:
                items = decoder.decode(data)
            except ProtocolError as exc:
                self.had_events = True
                return self._fail_with(exc, getattr(exc, "items", []))
            if decoder.saw_command:
                decoder.saw_command = False
                self.had_events = True
                return self._active_items(items)
            return items
        if state is State.CLOSED:
            return []
        self.had_events = True
        out: list = []
        decoder = self._decoder
        try:
            if state is State.GREETING:
                data = self._receive_greeting(data)
                if self.state is State.GREETING:
                    return []
            # One handshake command at a time: the command that completes the handshake
            # changes how the bytes after it are decoded (MAXMSGSIZE, messages allowed).
            while self.state is State.HANDSHAKE:
                items = decoder.decode(data)
                data = b""
                decoder.saw_command = False
                if not items:
                    return out
                out += self._handshake_items(items)
        except ProtocolError as exc:
            return self._fail_with(exc, out)
        if self.state is State.ACTIVE:
            out += self.receive_data(b"")  # traffic that followed in the same read
        return out

    def take_unparsed(self) -> Optional[bytes]:
        """Exchanging messages and between two of them: the bytes held of a frame begun
        (b"" if none), no longer held; the I/O layer then parses the stream on from there
        itself (zmtp.inbox) and feeds back what it leaves.  None otherwise."""
        if self.state is not State.ACTIVE:
            return None
        return self._decoder.take_tail()

    def body_buffer(self) -> Optional[memoryview]:
        """Where the I/O layer may ``recv_into`` the large body being received, if any."""
        if self.state is State.ACTIVE and self._decoder.in_body_mode:
            return self._decoder.body_buffer()
        return None

    def body_received(self, nbytes: int) -> list:
        try:
            items = self._decoder.body_received(nbytes)
        except ProtocolError as exc:
            self.had_events = True
            return self._fail_with(exc, getattr(exc, "items", []))
        if self._decoder.saw_command:
            self._decoder.saw_command = False
            self.had_events = True
            return self._active_items(items)
        return items

    def _receive_greeting(self, data: Buffer) -> Buffer:
        need = GREETING_SIZE - len(self._greeting)
        self._greeting += bytes(data[:need])
        check_partial_greeting(self._greeting)
        if len(self._greeting) < GREETING_SIZE:
            return b""
        self.peer = parse_greeting(self._greeting, self.mechanism.name)
        self.state = State.HANDSHAKE
        for name, payload in self.mechanism.start():
            self._encoder.command(name, payload)
        return data[need:]

    def _handshake_items(self, items: list) -> list:
        out: list = []
        for index, item in enumerate(items):
            if self.state is not State.HANDSHAKE:
                # The handshake finished inside this batch: the rest is traffic.
                return out + self._active_items(items[index:])
            try:
                if type(item) is list:
                    raise ProtocolError("message frame received during the handshake",
                                        ZMTP_UNEXPECTED_COMMAND)
                for name, payload in self.mechanism.process(item):
                    self._encoder.command(name, payload)
                if self.mechanism.status is MechanismStatus.READY:
                    out.append(self._complete_handshake())
            except ProtocolError as exc:
                return self._fail_with(exc, out)
        return out

    def _complete_handshake(self) -> HandshakeComplete:
        props = self.mechanism.peer_properties
        peer_type_raw = props.get("Socket-Type")
        peer_type = None
        if peer_type_raw is not None:
            peer_type = peer_type_raw.decode("ascii", "replace")
            if not compatible(self.socket_type, peer_type):
                self._encoder.command(b"ERROR", encode_error_data(b"Invalid socket type"))
                raise ProtocolError(
                    f"peer socket type {peer_type} cannot talk to {self.socket_type}",
                    ZMTP_INVALID_METADATA)
        identity = props.get("Identity", b"")
        if len(identity) > 255:
            raise ProtocolError("peer Identity longer than 255 octets", ZMTP_INVALID_METADATA)
        self.peer_properties = props
        self.peer_identity = identity
        self.peer_socket_type = peer_type
        self.state = State.ACTIVE
        self._decoder.maxmsgsize = self.maxmsgsize
        # libzmq's decoder applies MAXMSGSIZE to every frame, commands included
        self._decoder.max_command_size = self.maxmsgsize
        self._decoder.commands_only = False
        assert self.peer is not None
        return HandshakeComplete(peer_type, identity, dict(props), self.peer.minor)

    def _active_items(self, items: list) -> list:
        out: list = []
        for item in items:
            if type(item) is list:
                out.append(item)
                continue
            try:
                event = self._active_command(item)
            except ProtocolError as exc:
                return self._fail_with(exc, out)
            if event is not None:
                out.append(event)
        return out

    def _active_command(self, command: Command) -> object:
        name = command.name
        if name == b"PING":
            data = command.data
            if len(data) < 2:
                raise ProtocolError("PING shorter than its TTL field",
                                    ZMTP_MALFORMED_COMMAND_UNSPECIFIED)
            ttl = int.from_bytes(data[:2], "big") * 100
            self._encoder.command(b"PONG", bytes(data[2:2 + PING_CONTEXT_MAX]))
            return PingReceived(ttl)
        if name == b"PONG":
            return None
        if name == b"SUBSCRIBE":
            return [b"\x01" + bytes(command.data)] if self._wants_subscriptions else None
        if name == b"CANCEL":
            return [b"\x00" + bytes(command.data)] if self._wants_subscriptions else None
        if name == b"ERROR":
            raise PeerSentError(parse_error(command.data))
        return None  # unknown commands are ignored after the handshake, as libzmq does

    def _fail_with(self, exc: ProtocolError, out: list) -> list:
        was_handshake = self.state is not State.ACTIVE
        self.state = State.CLOSED
        self.failure = ConnectionFailed(
            exc.reason, exc.code, exc.errno, was_handshake,
            exc.peer_reason if isinstance(exc, PeerSentError) else None)
        return list(out) + [self.failure]

    # -- sending ----------------------------------------------------------------------
    @property
    def is_zmtp31(self) -> bool:
        return self.peer is not None and self.peer.is_zmtp31

    def send_message(self, frames: List[Buffer]) -> None:
        self._encoder.message(frames)

    def frame_alone(self, frames: List[Any]) -> Optional[bytes]:
        """``frames`` framed as one ``bytes`` for a writer to send at once, on its own:
        only while nothing else is encoded and waiting (it would have to go first) and
        only for a message of small ``bytes`` frames (framing.frame_small_message); else
        None, and the message goes through the encoder as usual.  A mechanism that
        transformed frames (CURVE's MESSAGE boxes) would have to refuse this too."""
        if self._encoder.pending or self.state is not State.ACTIVE:
            return None
        return frame_small_message(frames)

    def send_framed(self, data: Buffer) -> None:
        """Whole message frames, already in ZMTP framing (a relay forwarding what another
        connection read), sent as they are.  A mechanism that transformed frames (CURVE's
        MESSAGE boxes) would have to refuse this."""
        if self.state is not State.ACTIVE:
            raise RuntimeError("messages before the handshake completed")
        self._encoder.raw(data)

    def send_shared(self, data: bytes) -> None:
        """Whole message frames, already framed, that other connections send too (a
        publisher's shared log): sent as they are, without a copy of their own.  A
        mechanism that transformed frames would have to refuse this too."""
        if self.state is not State.ACTIVE:
            raise RuntimeError("messages before the handshake completed")
        self._encoder.shared(data)

    def send_messages(self, items: Any, limit: int) -> None:
        """Encode messages from the deque ``items`` until it is empty or ``limit`` bytes
        are pending (the batch a writer takes in one go)."""
        self._encoder.drain(items, limit)

    def send_subscription(self, topic: bytes, subscribe: bool) -> None:
        """SUBSCRIBE/CANCEL as a 3.1 command, or the 3.0 message form for older peers."""
        if self.is_zmtp31:
            self._encoder.command(b"SUBSCRIBE" if subscribe else b"CANCEL", topic)
        else:
            self._encoder.message([(b"\x01" if subscribe else b"\x00") + bytes(topic)])

    def send_ping(self, ttl_ms: int, context: bytes = b"") -> None:
        deciseconds = min(ttl_ms // 100, 0xFFFF)
        self._encoder.command(b"PING", deciseconds.to_bytes(2, "big") + context[:PING_CONTEXT_MAX])

    def send_error(self, reason: bytes) -> None:
        self._encoder.command(b"ERROR", encode_error_data(reason))

    def data_to_send(self) -> List[Buffer]:
        """Segments to write, in order (hand them to one scatter-gather write)."""
        return self._encoder.take()

    @property
    def pending_output(self) -> int:
        return self._encoder.pending

    def bytes_to_send(self) -> bytes:
        return b"".join(bytes(s) for s in self._encoder.take())

    @property
    def identity_to_send(self) -> bool:
        return self.socket_type in SENDS_IDENTITY


def null_metadata(socket_type: str, identity: bytes = b"",
                  extra: Optional[Dict[str, bytes]] = None) -> Dict[str, bytes]:
    """The READY properties libzmq sends: Socket-Type, then Identity for REQ/DEALER/ROUTER."""
    props: Dict[str, bytes] = {"Socket-Type": socket_type.encode("ascii")}
    if socket_type in SENDS_IDENTITY:
        props["Identity"] = bytes(identity)
    if extra:
        props.update(extra)
    return props


__all__ = [
    "ZmtpConnection", "State", "HandshakeComplete", "PingReceived", "ConnectionFailed",
    "null_metadata", "HANDSHAKE_COMMAND_LIMIT",
]
