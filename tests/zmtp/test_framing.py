"""Frames (ZMTP_NOTES.md section 2): flags(u8) size(u8 | u64) body, decoded by FrameDecoder
and by a ZmtpConnection after its handshake."""

from __future__ import annotations

import collections
import itertools
import platform
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puremq.zmtp import Command, MessageTooLarge, ProtocolError, State
from puremq.zmtp import framing
from puremq.zmtp.framing import BODY_MODE_THRESHOLD, SPARE_BODIES, FrameDecoder

from ._util import (BYTEWISE, BYTEWISE_ENGINE, EMSGSIZE, EPROTO, WHOLE,
                    ZMTP_MALFORMED_COMMAND_UNSPECIFIED, Feeder, active_stream, command,
                    every_chunking, frame, greeting, message, messages_of, new_connection,
                    single_failure, small_body_mode)

#: A body just big enough for body mode (kept small: byte-at-a-time feeding is O(size)).
BIG = bytes(range(256)) * ((BODY_MODE_THRESHOLD + 3000) // 256)
assert len(BIG) > BODY_MODE_THRESHOLD


def u64(n: int) -> bytes:
    return struct.pack(">Q", n)


# -- well-formed frames --------------------------------------------------------------------------
@every_chunking()
def test_short_and_long_single_frames(feed):
    """0..255 as a 1-octet size; 256 and up as an 8-octet size."""
    stream = (frame(0x00, b"") + frame(0x00, b"hello") + frame(0x00, b"x" * 255)
              + frame(0x02, b"y" * 256) + frame(0x02, b"z" * 1000))
    assert stream[:2] == b"\x00\x00" and stream[2:9] == b"\x00\x05hello"
    items = feed(FrameDecoder(), stream)
    assert items == [[b""], [b"hello"], [b"x" * 255], [b"y" * 256], [b"z" * 1000]]


@every_chunking()
def test_long_encoding_of_a_small_size_is_accepted(feed):
    """A receiver must accept a long encoding even for small sizes."""
    stream = (b"\x02" + u64(0) + b"\x02" + u64(5) + b"hello" + b"\x03" + u64(1) + b"a"
              + b"\x02" + u64(255) + b"q" * 255 + b"\x06" + u64(6) + b"\x05READY")
    items = feed(FrameDecoder(), stream)
    assert items == [[b""], [b"hello"], [b"a", b"q" * 255], Command(b"READY", b"")]


@every_chunking()
def test_more_flag_builds_multipart_messages(feed):
    """MORE (bit 0) on all frames but the last; short (0x01) and long (0x03) forms."""
    stream = (b"\x01\x01a" + b"\x03" + u64(300) + b"b" * 300 + b"\x01\x00" + b"\x00\x01c"
              + b"\x00\x01d")
    items = feed(FrameDecoder(), stream)
    assert items == [[b"a", b"b" * 300, b"", b"c"], [b"d"]]


@every_chunking()
def test_command_frames_short_and_long(feed):
    """COMMAND (bit 2): 0x04 short, 0x06 long; name-len(u8) name data."""
    long_data = b"t" * 400
    stream = (b"\x04\x0b\x09SUBSCRIBEA" + b"\x06" + u64(1 + 6 + 400) + b"\x06CANCEL" + long_data
              + b"\x04\x05\x04PING")
    items = feed(FrameDecoder(), stream)
    assert items == [Command(b"SUBSCRIBE", b"A"), Command(b"CANCEL", long_data),
                     Command(b"PING", b"")]


@settings(max_examples=40, deadline=None, database=None)
@given(reserved=st.lists(st.integers(1, 31), min_size=4, max_size=4),
       feed=st.sampled_from([WHOLE, BYTEWISE, BYTEWISE_ENGINE]))
def test_reserved_flag_bits_are_ignored(reserved, feed):
    """Bits 3-7 MUST be 0 but libzmq masks them out: they change nothing."""
    r = [bits << 3 for bits in reserved]
    stream = (bytes((0x01 | r[0], 1)) + b"a" + bytes((0x02 | r[1],)) + u64(2) + b"bc"
              + bytes((0x04 | r[2], 5, 4)) + b"PONG" + bytes((0x06 | r[3],)) + u64(5) + b"\x04PING")
    items = feed(FrameDecoder(), stream)
    assert items == [[b"a", b"bc"], Command(b"PONG", b""), Command(b"PING", b"")]


# -- malformed frames ---------------------------------------------------------------------------
@pytest.mark.parametrize("flags", [0x02, 0x03, 0x06])
@pytest.mark.parametrize("size", [2**63, 2**63 + 5, 2**64 - 1])
@every_chunking(max_examples=3)
def test_long_size_with_the_msb_set_is_rejected_on_its_header(feed, flags, size):
    """The spec caps a long size at 2^63-1: MSB set = invalid, rejected once the 9-byte
    header is in (nothing of the body is needed)."""
    prefix = frame(0x00, b"ok")
    stream = prefix + bytes((flags,)) + u64(size) + b"\x00" * 64
    with pytest.raises(ProtocolError) as info:
        feed(FrameDecoder(), stream)
    assert not isinstance(info.value, MessageTooLarge)
    assert info.value.all_items == [[b"ok"]]
    if feed.sizes == [1]:
        assert info.value.offset == len(prefix) + 9


@pytest.mark.parametrize("flags", [0x05, 0x07])
@every_chunking(max_examples=3)
def test_more_on_a_command_is_rejected(feed, flags):
    """MORE SHALL be 0 on commands."""
    body = b"\x04PING\x00\x00"
    header = bytes((flags, len(body))) if flags == 0x05 else bytes((flags,)) + u64(len(body))
    with pytest.raises(ProtocolError) as info:
        feed(FrameDecoder(), header + body)
    assert info.value.code == ZMTP_MALFORMED_COMMAND_UNSPECIFIED
    if feed.sizes == [1]:
        assert info.value.offset == len(header)


@pytest.mark.parametrize("limit", [0, 1, 100, 255, 256, 5000])
@every_chunking(max_examples=3)
def test_maxmsgsize_is_per_frame_and_checked_on_the_header(feed, limit):
    """A frame larger than MAXMSGSIZE gives EMSGSIZE as soon as its size is known; a frame of
    exactly MAXMSGSIZE is fine (also in body mode), and the limit applies per frame, not
    per message."""
    ok = b"m" * limit
    over = ok + b"!"
    header = bytes((0x02,)) + u64(len(over)) if len(over) > 255 else bytes((0, len(over)))
    with small_body_mode():
        decoder = FrameDecoder(maxmsgsize=limit)
        accepted = feed(decoder, message(ok, ok, ok))
        assert accepted == [[ok, ok, ok]]
        with pytest.raises(MessageTooLarge) as info:
            feed(decoder, header + over + message(b""))
    assert info.value.errno == EMSGSIZE
    assert info.value.size == limit + 1 and info.value.limit == limit
    if feed.sizes == [1]:
        assert info.value.offset == len(header)


# -- huge claims: never allocate what a peer merely claims -----------------------------------------
class _AllocationProbe:
    """Stands in for bytearray/bytes inside framing.py and records the largest object made."""

    def __init__(self, real: type) -> None:
        self.real = real
        self.largest = 0

    def __call__(self, *args: object) -> object:
        made = self.real(*args)
        self.largest = max(self.largest, len(made))
        return made


def _peak_allocation(action) -> int:
    """Largest allocation made by ``action``: tracemalloc's peak on CPython, plus (on every
    implementation) the largest bytes/bytearray framing.py itself constructs."""
    probes = {"bytearray": _AllocationProbe(bytearray), "bytes": _AllocationProbe(bytes)}
    missing = object()
    saved = {name: framing.__dict__.get(name, missing) for name in probes}
    for name, probe in probes.items():
        setattr(framing, name, probe)
    peak = 0
    try:
        if platform.python_implementation() == "CPython":
            import tracemalloc
            tracemalloc.start()
            try:
                action()
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        else:
            action()
    finally:
        for name, value in saved.items():
            if value is missing:
                delattr(framing, name)
            else:
                setattr(framing, name, value)
    return max([peak] + [p.largest for p in probes.values()])


@pytest.mark.parametrize("claim", [2**62, 2**63, 2**64 - 1, 1_000_001])
@pytest.mark.parametrize("flags", [0x02, 0x03, 0x06])
@every_chunking(max_examples=2)
def test_huge_claim_over_maxmsgsize_allocates_almost_nothing(feed, claim, flags):
    """CVE-2019-6250's lesson: a frame over MAXMSGSIZE is refused before anything near the
    claimed size is allocated (libzmq allocates the claimed size up front)."""
    stream = bytes((flags,)) + u64(claim) + b"\xaa" * 4096
    caught = []

    def action():
        decoder = FrameDecoder(maxmsgsize=1_000_000, max_command_size=1_000_000)
        try:
            feed(decoder, stream)
        except ProtocolError as exc:
            caught.append(exc)

    peak = _peak_allocation(action)
    assert len(caught) == 1
    if claim < 2**63:
        assert isinstance(caught[0], MessageTooLarge) and caught[0].size == claim
    assert peak < 64 * 1024, peak
    if feed.sizes == [1]:
        assert caught[0].offset == 9


@pytest.mark.parametrize("claim", [2**62, 2**63 - 1])
def test_huge_claim_without_maxmsgsize_grows_only_with_bytes_received(claim):
    """With MAXMSGSIZE unlimited a 2^62 claim is legal, but memory follows the bytes that
    actually arrive, never the claim."""
    fed = 600 * 1024
    chunk = b"\x55" * 8192
    held = []

    def action():
        decoder = FrameDecoder()
        assert decoder.decode(b"\x02" + u64(claim)) == []
        for _ in range(fed // len(chunk)):
            assert decoder.decode(chunk) == []
        held.append(decoder.buffered)
        assert decoder.in_body_mode and decoder.mid_message

    peak = _peak_allocation(action)
    assert held == [fed]
    assert peak < 3 * fed, peak


@pytest.mark.parametrize("claim", [2**62, 2**63, 2**64 - 1])
@every_chunking(max_examples=3)
def test_connection_drops_a_huge_frame_after_the_handshake(feed, claim):
    """After the handshake the connection's MAXMSGSIZE applies: EMSGSIZE (EPROTO for an MSB
    size), not during the handshake, with no allocation near the claim."""
    results = []

    def action():
        conn = new_connection("DEALER", maxmsgsize=1 << 20)
        results.extend(feed(conn, active_stream() + message(b"fine") + b"\x02" + u64(claim)
                            + b"\x00" * 1000))
        results.append(conn.state)

    peak = _peak_allocation(action)
    assert messages_of(results[:-1]) == [[b"fine"]]
    failure = single_failure(results[:-1])
    assert failure.errno == (EMSGSIZE if claim < 2**63 else EPROTO)
    assert not failure.during_handshake
    assert results[-1] is State.CLOSED
    assert peak < 64 * 1024, peak


@every_chunking(max_examples=8)
def test_message_frame_during_handshake_is_refused_on_its_header(feed):
    """Only commands are legal during the handshake: a message frame claiming 2^62 bytes
    from an unauthenticated peer is refused as soon as its header arrives, not buffered."""
    conn = new_connection("DEALER")
    stream = greeting() + b"\x02" + u64(2**62) + b"\x00" * 100
    items = feed(conn, stream)
    failure = single_failure(items)
    assert failure.during_handshake
    assert conn.state is State.CLOSED


@every_chunking(max_examples=8)
def test_maxmsgsize_applies_to_messages_that_arrive_with_ready(feed):
    """A peer's READY and its first message often share one TCP segment: the message must
    still be checked against MAXMSGSIZE (and the handshake command cap must not apply)."""
    conn = new_connection("DEALER", maxmsgsize=100)
    items = feed(conn, active_stream() + message(b"k" * 100) + message(b"o" * 101))
    assert messages_of(items) == [[b"k" * 100]]
    failure = single_failure(items)
    assert failure.errno == EMSGSIZE and not failure.during_handshake


# -- body mode -----------------------------------------------------------------------------------
@every_chunking(max_examples=15)
def test_body_mode_frames_assemble_across_many_feeds(feed):
    """Bodies over the body-mode threshold get their own buffer (filled directly via
    body_buffer()/body_received() in engine mode), which grows past its first allocation;
    every frame, message and command comes out exactly."""
    sizes = [300, 301, 511, 512, 513, 1024, 1025, 5000]
    bodies = [bytes((n + i) % 256 for i in range(n)) for n in sizes]
    stream = (message(b"head", *bodies[:4], b"", b"tail") + message(bodies[4])
              + command(b"PING", bodies[5]) + message(*bodies[6:]) + message(b"after"))
    with small_body_mode():
        decoder = FrameDecoder()
        items = feed(decoder, stream)
    assert items == [[b"head", *bodies[:4], b"", b"tail"], [bodies[4]],
                     Command(b"PING", bodies[5]), bodies[6:], [b"after"]]
    if feed is BYTEWISE_ENGINE:
        assert feed.body_calls > sum(sizes) - 300 * len(sizes)
    assert not decoder.mid_message and decoder.buffered == 0


@every_chunking(max_examples=4)
def test_body_mode_at_the_real_threshold(feed):
    """The same with the real threshold (a frame just over 64 KiB)."""
    stream = message(b"a", BIG, b"z") + message(b"after")
    items = feed(FrameDecoder(), stream)
    assert items == [[b"a", BIG, b"z"], [b"after"]]
    if feed is BYTEWISE_ENGINE:
        assert feed.body_calls > len(BIG) - BODY_MODE_THRESHOLD


@settings(max_examples=5, deadline=None, database=None)
@given(sizes=st.lists(st.integers(512, 200_000), min_size=1, max_size=5),
       engine=st.booleans(), total=st.sampled_from([300_000, 1 << 20, 3 << 20]))
def test_multi_megabyte_frames_grow_past_the_initial_chunk(sizes, engine, total):
    """Bodies larger than the real first body-mode allocation (256 KiB) keep growing
    correctly, fed in random chunkings."""
    body = bytes(range(251)) * (total // 251)
    decoder = FrameDecoder()
    feed = Feeder(f"sizes={sizes}", sizes, engine=engine)
    items = feed(decoder, message(b"a", body) + message(body[:70_000]))
    assert items == [[b"a", body], [body[:70_000]]]


@pytest.mark.parametrize("first", [1, 9, 10, 9 + 1000, 9 + 300_000])
def test_rest_of_a_large_body_and_more_frames_in_one_big_read(first):
    """Body mode entered on a small read, then one read far larger than any buffer growth
    step carries the rest of the body and the frames after it."""
    body = bytes(range(253)) * 6000  # ~1.5 MiB
    stream = message(body, b"x") + message(b"after") + message(body[:70_000])
    decoder = FrameDecoder()
    items = decoder.decode(stream[:first])
    assert items == []
    items += decoder.decode(stream[first:])
    assert items == [[body, b"x"], [b"after"], [body[:70_000]]]
    assert not decoder.mid_message


def test_body_buffer_views_never_reach_past_the_frame():
    """A recv_into the body buffer can never swallow the next frame's bytes."""
    decoder = FrameDecoder()
    body = BIG
    stream = message(body) + message(b"next")
    assert decoder.decode(stream[:100]) == []
    pos = 100
    items = []
    while decoder.in_body_mode:
        view = decoder.body_buffer()
        assert len(view) <= 9 + len(body) - pos
        take = len(view)
        view[:] = stream[pos:pos + take]
        del view
        pos += take
        items += decoder.body_received(take)
    assert pos == 9 + len(body)
    items += decoder.decode(stream[pos:])
    assert items == [[body], [b"next"]]


@every_chunking(max_examples=10)
def test_connection_body_mode_via_body_buffer(feed):
    """The engine's path: ZmtpConnection.body_buffer()/body_received() once ACTIVE."""
    conn = new_connection("DEALER")
    big = bytes(range(256)) * 8
    stream = (active_stream() + message(b"id", big) + command(b"PING", b"\x00\x00ab")
              + message(big[::-1]))
    with small_body_mode():
        items = feed(conn, stream)
    assert messages_of(items) == [[b"id", big], [big[::-1]]]
    if feed is BYTEWISE_ENGINE:
        assert feed.body_calls > 2 * (len(big) - 300)
    assert conn.bytes_to_send().endswith(b"\x04\x07\x04PONGab")


# -- atomicity -----------------------------------------------------------------------------------
@pytest.mark.parametrize("frames", [[b"a", b"b", b"c"], [b"", b""], [b"x" * 300, b"", b"y"],
                                    [b"s", b"B" * 2000, b"e"]], ids=["abc", "empties", "long", "big"])
@pytest.mark.parametrize("engine", [False, True])
def test_no_message_is_returned_before_its_last_byte(frames, engine):
    """A multipart message is atomic: all of its frames, only once the last one is in."""
    stream = message(*frames)
    with small_body_mode():
        _feed_one_by_one_checking_atomicity(stream, frames, engine)


def _feed_one_by_one_checking_atomicity(stream, frames, engine):
    decoder = FrameDecoder()
    for index in range(len(stream) - 1):
        if engine and decoder.in_body_mode:
            view = decoder.body_buffer()
            view[:1] = stream[index:index + 1]
            del view
            assert decoder.body_received(1) == []
        else:
            assert decoder.decode(stream[index:index + 1]) == []
        assert decoder.mid_message
    assert decoder.decode(stream[-1:]) == [frames]
    assert not decoder.mid_message


@every_chunking(max_examples=8)
def test_fault_mid_message_delivers_earlier_messages_only(feed):
    """Messages complete before a fault are delivered; the half-received one never is."""
    conn = new_connection("DEALER")
    stream = (active_stream() + message(b"one") + message(b"two", b"2")
              + frame(0x01, b"partial") + b"\x02" + u64(2**63) + b"rest")
    items = feed(conn, stream)
    assert messages_of(items) == [[b"one"], [b"two", b"2"]]
    failure = single_failure(items)
    assert failure.errno == EPROTO and not failure.during_handshake


def _large_message(fill: int, size: int = 3 * BODY_MODE_THRESHOLD) -> bytes:
    return b"\x02" + struct.pack(">Q", size) + bytes([fill]) * size


def _decode_in_body_mode(decoder: FrameDecoder, wire: bytes) -> list:
    """Feed a large frame as an engine does: its first bytes, then the body in place."""
    items = decoder.decode(wire[:100])
    assert decoder.in_body_mode and items == []
    view = decoder.body_buffer()
    rest = wire[100:]
    view[:len(rest)] = rest
    return decoder.body_received(len(rest))


def test_a_body_the_application_still_holds_is_never_reused():
    """A received body buffer SHALL stay the application's while it holds it: the next
    large body goes elsewhere and leaves its contents intact."""
    decoder = FrameDecoder()
    [[first]] = _decode_in_body_mode(decoder, _large_message(0x11))
    [[second]] = _decode_in_body_mode(decoder, _large_message(0x22))
    assert first is not second
    assert first == b"\x11" * len(first) and second == b"\x22" * len(second)


@pytest.mark.skipif(platform.python_implementation() != "CPython",
                    reason="reuse follows CPython's reference counts")
def test_a_body_nobody_holds_any_more_is_reused_for_the_next():
    """CPython: a body buffer dropped by everyone else SHALL be reused for the next large
    body (allocating one per message makes the C allocator fault memory in every time)."""
    decoder = FrameDecoder()
    [[first]] = _decode_in_body_mode(decoder, _large_message(0x11))
    address = id(first)
    del first
    [[second]] = _decode_in_body_mode(decoder, _large_message(0x22, 2 * BODY_MODE_THRESHOLD))
    assert id(second) == address
    assert second == b"\x22" * (2 * BODY_MODE_THRESHOLD)


@pytest.mark.skipif(platform.python_implementation() != "CPython",
                    reason="reuse follows CPython's reference counts")
def test_a_body_dropped_is_reused_while_a_later_one_is_still_held():
    """CPython: a body buffer dropped by everyone else SHALL be reused even when the body
    decoded after it is still held (a reader queues the next message before the previous
    one is consumed)."""
    made = itertools.count()

    class NumberedBody(bytearray):
        """(an id can be a freed object's: the serial tells buffers apart for sure)"""

    def numbered_body(size: int) -> bytearray:
        body = NumberedBody(size)
        body.serial = next(made)  # type: ignore[attr-defined]
        return body

    decoder = FrameDecoder(body_type=numbered_body)
    [[first]] = _decode_in_body_mode(decoder, _large_message(0x11))
    serial = first.serial
    [[second]] = _decode_in_body_mode(decoder, _large_message(0x22))
    del first
    [[third]] = _decode_in_body_mode(decoder, _large_message(0x33))
    assert third.serial == serial
    assert second == b"\x22" * len(second) and third == b"\x33" * len(third)


@pytest.mark.skipif(platform.python_implementation() != "CPython",
                    reason="reuse follows CPython's reference counts")
def test_a_decoder_keeps_at_most_a_few_bodies_for_reuse():
    """CPython: of the bodies handed out, a decoder SHALL keep at most SPARE_BODIES for
    reuse (older ones are left to the application or freed)."""
    decoder = FrameDecoder()
    held = [_decode_in_body_mode(decoder, _large_message(fill))[0][0]
            for fill in range(SPARE_BODIES + 3)]
    assert len(decoder._spares) == SPARE_BODIES
    assert all(spare is body for spare, body in zip(decoder._spares, held[-SPARE_BODIES:]))


@pytest.mark.skipif(platform.python_implementation() != "CPython",
                    reason="reuse follows CPython's reference counts")
def test_the_bodies_kept_for_reuse_stay_within_a_byte_budget(monkeypatch):
    """CPython: the bodies a decoder keeps for reuse SHALL together stay within
    SPARE_BYTES, oldest dropped first; the newest is kept whatever its size."""
    size = 3 * BODY_MODE_THRESHOLD
    monkeypatch.setattr(framing, "SPARE_BYTES", 2 * size)
    decoder = FrameDecoder()
    held = [_decode_in_body_mode(decoder, _large_message(fill, size))[0][0]
            for fill in range(SPARE_BODIES)]
    assert [spare is body for spare, body in zip(decoder._spares, held[-2:])] == [True, True]
    assert len(decoder._spares) == 2
    [[huge]] = _decode_in_body_mode(decoder, _large_message(0x77, 3 * size))
    assert len(decoder._spares) == 1 and decoder._spares[0] is huge


# -- a lone message framed as one object (frame_small_message, ZmtpConnection.frame_alone) ---
@pytest.mark.parametrize("frames", [
    [b""], [b"hello"], [b"x" * 255], [b"y" * 256], [b"z" * (framing.ZERO_COPY_THRESHOLD - 1)],
    [b"", b"request"], [b"ab", b"y" * 256], [b"x" * 255, b""], [b"id", b"", b"w" * 300, b"last"],
])
def test_a_small_message_is_framed_as_the_encoder_frames_it(frames):
    """Short sizes below 256, long ones from 256 on, MORE on every frame but the last:
    the same bytes as the hand-built vector, in one ``bytes``."""
    framed = framing.frame_small_message(list(frames))
    assert type(framed) is bytes
    assert framed == message(*frames)


@pytest.mark.parametrize("frames", [
    [b"x" * framing.ZERO_COPY_THRESHOLD], [b"", b"x" * framing.ZERO_COPY_THRESHOLD],
    [bytearray(b"abc")], [memoryview(b"abc")], [b"", memoryview(b"abc")],
])
def test_a_large_or_borrowed_frame_is_left_to_the_encoder(frames):
    """Frames of zero-copy size, or not ``bytes`` (buffers the application lent, which a
    tracker may follow), are not framed alone: None."""
    assert framing.frame_small_message(list(frames)) is None


def test_a_message_is_framed_alone_only_when_nothing_else_waits_to_go_first():
    """A connection frames a lone message for a direct write only once ACTIVE and only
    while nothing it encoded earlier (here the PONG to a PING) waits to be sent."""
    conn = new_connection("DEALER")
    assert conn.frame_alone([b"early"]) is None  # still in the handshake
    conn.receive_data(active_stream())
    conn.bytes_to_send()  # greeting and READY, written
    assert conn.frame_alone([b"now"]) == message(b"now")
    conn.receive_data(command(b"PING", b"\x00\x00"))
    assert conn.pending_output
    assert conn.frame_alone([b"after the pong"]) is None
    conn.bytes_to_send()
    assert conn.frame_alone([b"after the pong"]) == message(b"after the pong")


# -- a read of exactly one short single-frame message (decode's shortcut) --------------------
def test_a_read_of_exactly_one_short_message_is_that_message():
    decoder = FrameDecoder()
    assert decoder.decode(b"\x00\x05hello") == [[b"hello"]]
    assert decoder.decode(b"\x00\x00") == [[b""]]
    assert decoder.decode(b"\x00\x03abc") == [[b"abc"]]


def test_a_read_of_one_short_message_still_meets_the_size_limit():
    """MAXMSGSIZE applies to a message however the reads cut the stream."""
    decoder = FrameDecoder(maxmsgsize=4)
    assert decoder.decode(b"\x00\x04four") == [[b"four"]]
    with pytest.raises(MessageTooLarge):
        decoder.decode(b"\x00\x05hello")


def test_a_read_of_one_short_message_after_a_first_part_ends_that_message():
    """A final frame read alone after a MORE frame is the last part of that message."""
    decoder = FrameDecoder()
    assert decoder.decode(b"\x01\x01a") == []
    assert decoder.decode(b"\x00\x01b") == [[b"a", b"b"]]


def test_a_read_of_one_short_message_during_the_handshake_is_refused():
    decoder = FrameDecoder()
    decoder.commands_only = True
    with pytest.raises(ProtocolError):
        decoder.decode(b"\x00\x05hello")


class _TakenFromUnderneath(collections.deque):
    """A free list from which another thread pops the newest body the first time it is
    looked through (by iterating or by index), as PyPy's decoding thread may."""

    popped = False

    def _other_thread_pops(self) -> None:
        if not self.popped and len(self) > 1:
            self.popped = True
            self.pop()

    def __iter__(self):
        inner = super().__iter__()
        first = next(inner)
        self._other_thread_pops()
        yield first
        yield from inner

    def __getitem__(self, index):
        self._other_thread_pops()
        return super().__getitem__(index)


def test_keeping_a_spare_survives_another_thread_taking_one_meanwhile():
    """A body kept while another thread takes a spare from the same free list: no error,
    and what stays is within the budget."""
    spares = _TakenFromUnderneath(bytearray(10 << 20) for _ in range(3))
    framing.keep_spare(spares, bytearray(10 << 20))
    assert spares.popped
    assert 1 <= len(spares) <= framing.SPARE_BODIES
    assert sum(len(body) for body in spares) <= framing.SPARE_BYTES
