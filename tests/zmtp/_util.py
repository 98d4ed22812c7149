"""Shared tools for the sans-IO wire-layer tests.

Two kinds of things live here:

* Byte builders written by hand from ZMTP_NOTES.md, so that the vectors the tests feed do not
  come from puremq's own encoder (a bug there must not hide the same bug in the decoder).
* Feeders: ways of cutting one byte stream into receive calls.  Every test that feeds a
  stream runs under :func:`every_chunking`, which gives it the whole stream at once, one byte
  at a time, one byte at a time through ``body_buffer()/body_received()`` (what the engine
  does for large bodies), and random chunkings drawn by hypothesis.
"""

from __future__ import annotations

import itertools
import struct
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from hypothesis import example, given, settings
from hypothesis import strategies as st

from puremq.zmtp import ConnectionFailed, HandshakeComplete, ProtocolError, ZmtpConnection
from puremq.zmtp.connection import null_metadata
from puremq.zmtp import framing
from puremq.zmtp.framing import FrameDecoder
from puremq.zmtp.mechanisms.null import NullMechanism

# -- libzmq's include/zmq.h values (ZMQ_PROTOCOL_ERROR_*), written out independently -------
ZMTP_UNSPECIFIED = 0x10000000
ZMTP_UNEXPECTED_COMMAND = 0x10000001
ZMTP_MALFORMED_COMMAND_UNSPECIFIED = 0x10000011
ZMTP_MALFORMED_COMMAND_ERROR = 0x10000015
ZMTP_INVALID_METADATA = 0x10000018
ZMTP_MECHANISM_MISMATCH = 0x11000002
EPROTO = 71
EMSGSIZE = 90


# -- byte builders (by hand, from ZMTP_NOTES.md) ---------------------------------------------
def greeting(major: int = 3, minor: int = 1, mechanism: bytes = b"NULL", as_server: int = 0,
             padding: bytes = b"\x00" * 8, filler: bytes = b"\x00" * 31) -> bytes:
    """A peer's 64-byte greeting, every field settable."""
    assert len(padding) == 8 and len(filler) == 31 and len(mechanism) <= 20
    out = (b"\xff" + padding + b"\x7f" + bytes((major, minor))
           + mechanism + b"\x00" * (20 - len(mechanism)) + bytes((as_server,)) + filler)
    assert len(out) == 64
    return out


#: What puremq must send for NULL (ZMTP_NOTES.md section 1), spelled out field by field.
OUR_NULL_GREETING = bytes(
    [0xFF] + [0x00] * 8 + [0x7F]            # signature with zero padding
    + [0x03, 0x01]                          # version 3.1
    + list(b"NULL") + [0x00] * 16           # mechanism, NUL-padded to 20
    + [0x00]                                # as-server
    + [0x00] * 31)                          # filler

#: libzmq tests/testutil.hpp zmtp_ready_dealer (43 bytes).
ZMTP_READY_DEALER = (b"\x04\x29\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER"
                     b"\x08Identity\x00\x00\x00\x00")
#: libzmq tests/testutil.hpp zmtp_ready_sub (27 bytes).
ZMTP_READY_SUB = b"\x04\x19\x05READY\x0bSocket-Type\x00\x00\x00\x03SUB"


def frame(flags: int, body: bytes) -> bytes:
    """One frame with the size encoding the flags ask for (LONG = 0x02)."""
    if flags & 0x02:
        return bytes((flags,)) + struct.pack(">Q", len(body)) + body
    assert len(body) < 256
    return bytes((flags, len(body))) + body


def message(*frames: bytes) -> bytes:
    """A multipart message, short sizes below 256 and long ones above (the SHOULD rule)."""
    out = b""
    for index, body in enumerate(frames):
        more = 0x01 if index < len(frames) - 1 else 0x00
        out += frame(more | (0x02 if len(body) > 255 else 0x00), body)
    return out


def command(name: bytes, data: bytes = b"") -> bytes:
    body = bytes((len(name),)) + name + data
    return frame(0x04 if len(body) < 256 else 0x06, body)


def prop(name: bytes, value: bytes) -> bytes:
    return bytes((len(name),)) + name + struct.pack(">I", len(value)) + value


def ready(socket_type: Optional[bytes], identity: Optional[bytes] = None,
          extra: bytes = b"") -> bytes:
    """A NULL READY command with the properties libzmq would send."""
    props = b""
    if socket_type is not None:
        props += prop(b"Socket-Type", socket_type)
    if identity is not None:
        props += prop(b"Identity", identity)
    return command(b"READY", props + extra)


def error_command(reason: bytes) -> bytes:
    return command(b"ERROR", bytes((len(reason),)) + reason)


def parse_frames(stream: bytes) -> List[Tuple[int, bool, bytes]]:
    """Split an encoded stream into (flags byte, was_long, body), independently of puremq."""
    out = []
    pos = 0
    while pos < len(stream):
        flags = stream[pos]
        if flags & 0x02:
            size = struct.unpack(">Q", stream[pos + 1:pos + 9])[0]
            start = pos + 9
        else:
            size = stream[pos + 1]
            start = pos + 2
        assert start + size <= len(stream), "truncated frame in encoded stream"
        out.append((flags, bool(flags & 0x02), stream[start:start + size]))
        pos = start + size
    return out


def parse_commands(stream: bytes) -> List[Tuple[bytes, bytes]]:
    """(name, data) of every frame of a stream, asserting each one is a command."""
    out = []
    for flags, _long, body in parse_frames(stream):
        assert flags & 0x04 and not flags & 0x01, f"not a command frame: flags {flags:#x}"
        out.append((body[1:1 + body[0]], body[1 + body[0]:]))
    return out


@contextmanager
def small_body_mode(threshold: int = 300, initial: int = 512) -> Iterator[None]:
    """Lower framing.py's body-mode threshold and first allocation, so that body mode and
    its buffer growth are exercised with frames small enough to feed byte by byte."""
    saved = framing.BODY_MODE_THRESHOLD, framing.BODY_INITIAL_CHUNK
    framing.BODY_MODE_THRESHOLD, framing.BODY_INITIAL_CHUNK = threshold, initial
    try:
        yield
    finally:
        framing.BODY_MODE_THRESHOLD, framing.BODY_INITIAL_CHUNK = saved


# -- connections -----------------------------------------------------------------------------
def new_connection(socket_type: str, identity: bytes = b"", maxmsgsize: int = -1,
                   extra: Optional[Dict[str, bytes]] = None) -> ZmtpConnection:
    """A NULL connection configured the way the engine configures one."""
    return ZmtpConnection(socket_type,
                          NullMechanism(null_metadata(socket_type, identity, extra)),
                          maxmsgsize=maxmsgsize)


def failures(items: Sequence[object]) -> List[ConnectionFailed]:
    return [item for item in items if isinstance(item, ConnectionFailed)]


def single_failure(items: Sequence[object]) -> ConnectionFailed:
    """The one ConnectionFailed in ``items``, which must be the last item."""
    found = failures(items)
    assert len(found) == 1, f"expected exactly one ConnectionFailed in {items!r}"
    assert items[-1] is found[0], "ConnectionFailed must be the last item"
    return found[0]


def messages_of(items: Sequence[object]) -> List[List[bytes]]:
    return [[bytes(f) for f in item] for item in items if type(item) is list]


# -- feeders ---------------------------------------------------------------------------------
class Feeder:
    """Cuts a byte stream into receive calls on a ZmtpConnection or a FrameDecoder.

    ``sizes`` is cycled through (None = the whole rest at once).  With ``engine`` set, a
    target in body mode is filled through ``body_buffer()``/``body_received()``, as
    puremq/engine/stream.py does with ``recv_into``.
    """

    def __init__(self, name: str, sizes: Optional[Sequence[int]] = None,
                 engine: bool = False, as_memoryview: bool = False) -> None:
        self.name = name
        self.sizes = list(sizes) if sizes else None
        self.engine = engine
        self.as_memoryview = as_memoryview
        #: calls made by the last feeding (how finely the stream was cut)
        self.calls = 0
        #: how many of them went through body_buffer()/body_received()
        self.body_calls = 0

    def __repr__(self) -> str:
        return f"Feeder({self.name})"

    def _body_view(self, target: object) -> Optional[memoryview]:
        if isinstance(target, FrameDecoder):
            return target.body_buffer() if target.in_body_mode else None
        return target.body_buffer()  # type: ignore[attr-defined]

    def __call__(self, target: object, data: bytes) -> list:
        """Feed all of ``data``; returns every item produced, in order.

        A FrameDecoder's ProtocolError is re-raised with ``all_items`` = every item decoded
        before the fault (across all calls) and ``offset`` = bytes fed when it was raised.
        """
        items: list = []
        sizes = itertools.cycle(self.sizes) if self.sizes else itertools.repeat(None)
        receive: Callable = (target.decode if isinstance(target, FrameDecoder)
                             else target.receive_data)  # type: ignore[attr-defined]
        pos = 0
        self.calls = 0
        self.body_calls = 0
        end = len(data)
        while pos < end:
            size = next(sizes)
            take = end - pos if size is None else min(size, end - pos)
            self.calls += 1
            try:
                view = self._body_view(target) if self.engine else None
                if view is not None:
                    self.body_calls += 1
                    assert len(view) > 0, "body_buffer() gave no room while in body mode"
                    take = min(take, len(view))
                    view[:take] = data[pos:pos + take]
                    del view
                    pos += take
                    items += target.body_received(take)  # type: ignore[attr-defined]
                    continue
                chunk = data[pos:pos + take]
                pos += take
                items += receive(memoryview(chunk) if self.as_memoryview else chunk)
            except ProtocolError as exc:
                exc.all_items = items + list(getattr(exc, "items", []))  # type: ignore
                exc.offset = pos  # type: ignore[attr-defined]
                raise
        return items


WHOLE = Feeder("whole")
BYTEWISE = Feeder("bytewise", [1])
BYTEWISE_ENGINE = Feeder("bytewise+body_buffer", [1], engine=True)


@st.composite
def feeders(draw: Callable, coarse: bool = False) -> Feeder:
    """Random chunkings: a cycle of chunk sizes mixing tiny, frame-sized and large cuts.

    ``coarse`` adds one large cut to the cycle, so that a stream of hundreds of KiB is
    still cut in tiny pieces in places but needs few calls in all.
    """
    size = st.one_of(st.integers(1, 12), st.integers(13, 300), st.integers(301, 90_000))
    sizes = draw(st.lists(size, min_size=1, max_size=6))
    if coarse:
        sizes.insert(draw(st.integers(0, len(sizes))), draw(st.integers(20_000, 90_000)))
    engine = draw(st.booleans())
    as_memoryview = draw(st.booleans())
    return Feeder(f"sizes={sizes} engine={engine} memoryview={as_memoryview}", sizes,
                  engine, as_memoryview)


def every_chunking(max_examples: int = 12) -> Callable:
    """Run a ``test(feed)`` whole, byte by byte (plain and via body_buffer) and in random
    chunkings drawn by hypothesis."""

    def decorate(test: Callable) -> Callable:
        test = example(feed=BYTEWISE_ENGINE)(test)
        test = example(feed=BYTEWISE)(test)
        test = example(feed=WHOLE)(test)
        test = given(feed=feeders())(test)
        return settings(max_examples=max_examples, deadline=None, database=None)(test)

    return decorate


def handshake(a: ZmtpConnection, b: ZmtpConnection, feed: Feeder = WHOLE,
              rounds: int = 10) -> Tuple[list, list]:
    """Shuttle bytes between two connections until neither has anything to send."""
    items_a: list = []
    items_b: list = []
    for _ in range(rounds):
        out_a = a.bytes_to_send()
        out_b = b.bytes_to_send()
        if not out_a and not out_b:
            return items_a, items_b
        items_b += feed(b, out_a)
        items_a += feed(a, out_b)
    raise AssertionError("connections kept talking after 10 rounds")


def connected_pair(type_a: str, type_b: str, **kwargs: object) -> Tuple[ZmtpConnection,
                                                                         ZmtpConnection]:
    """Two connections that completed the NULL handshake with each other."""
    a = new_connection(type_a, **kwargs)  # type: ignore[arg-type]
    b = new_connection(type_b, **kwargs)  # type: ignore[arg-type]
    items_a, items_b = handshake(a, b)
    assert [type(i) for i in items_a] == [HandshakeComplete], items_a
    assert [type(i) for i in items_b] == [HandshakeComplete], items_b
    return a, b


def active_stream(peer_type: bytes = b"ROUTER", identity: Optional[bytes] = None,
                  minor: int = 1) -> bytes:
    """What a peer sends to bring a DEALER-compatible connection to ACTIVE."""
    return greeting(minor=minor) + ready(peer_type, identity)
