"""Property-based round trips: whatever multipart messages go in come out, in order, however
the byte stream is cut."""

from __future__ import annotations

from typing import List

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from puremq.zmtp import FrameDecoder, FrameEncoder, PingReceived, encode_message
from puremq.zmtp.framing import JoiningFrameEncoder, encode_command

from ._util import (BYTEWISE, BYTEWISE_ENGINE, Feeder, connected_pair, feeders, messages_of,
                    parse_frames, small_body_mode)

#: Sizes around every boundary of the codec: short/long (255/256), zero-copy segment
#: (16 KiB), body mode (64 KiB), and the small-body-mode threshold used below (300/512).
EDGE_SIZES = [0, 1, 2, 254, 255, 256, 257, 299, 300, 301, 511, 512, 513, 1000,
              16383, 16384, 16385]
BIG_SIZES = [65535, 65536, 65537, 70_000, 140_000]

frame_sizes = st.one_of(st.sampled_from(EDGE_SIZES), st.integers(0, 600),
                        st.sampled_from(BIG_SIZES))
_PATTERNS = [bytes((seed + i) % 256 for i in range(256)) for seed in range(256)]


def _body(size: int, seed: int) -> bytes:
    pattern = _PATTERNS[seed % 256]
    return (pattern * (size // 256 + 1))[:size]


@st.composite
def message_lists(draw, max_big: int = 2) -> List[List[bytes]]:
    """1..8 messages of 1..6 frames.  Per example, frames are either all small (under 1 KiB:
    half of the examples, so that many streams are small enough to feed byte by byte), or
    may reach 16 KiB, or may include up to ``max_big`` frames over 64 KiB."""
    level = draw(st.sampled_from([0, 0, 1, 2]), label="size level")
    ceiling = {0: 1000, 1: 16385, 2: 1 << 30}[level]
    messages = []
    big = 0
    for m in range(draw(st.integers(1, 8))):
        frames = []
        for f in range(draw(st.integers(1, 6))):
            size = draw(frame_sizes)
            if size > 65535:
                big += 1
            if size > ceiling or big > max_big:
                size = size % 300
            frames.append(_body(size, m * 7 + f))
        messages.append(frames)
    return messages


def _as_kinds(frames: List[bytes], kinds: List[int]) -> list:
    """The same frames as bytes, bytearray or memoryview (what send_message may be given)."""
    made = []
    for index, body in enumerate(frames):
        kind = kinds[index % len(kinds)]
        made.append(body if kind == 0 else bytearray(body) if kind == 1 else memoryview(body))
    return made


def _check_canonical(stream: bytes, messages: List[List[bytes]]) -> None:
    """Parsed independently: one frame per body, MORE on all but the last, short size iff
    the body is under 256, no COMMAND or reserved bits."""
    frames = parse_frames(stream)
    expected = [(body, index < len(msg) - 1) for msg in messages
                for index, body in enumerate(msg)]
    assert len(frames) == len(expected)
    for (flags, was_long, body), (want, more) in zip(frames, expected):
        assert body == want
        assert flags == (0x01 if more else 0x00) | (0x02 if len(want) > 255 else 0x00)
        assert was_long == (len(want) > 255)


def _pick_feeder(data, total: int) -> Feeder:
    """Byte by byte when the stream is small enough to afford it, random cuts otherwise."""
    if total <= 20_000:
        feed = data.draw(st.one_of(st.sampled_from([BYTEWISE, BYTEWISE_ENGINE]), feeders()),
                         label="feed")
        event("bytewise" if feed.sizes == [1] else "random cuts of a small stream")
        return feed
    event("random cuts of a stream over 64 KiB" if total > 65536 else "random cuts")
    return data.draw(feeders(coarse=True), label="feed")


#: the bytearray encoder (CPython's) and the joining one (PyPy's): both run everywhere
ENCODERS = [FrameEncoder, JoiningFrameEncoder]


@pytest.mark.parametrize("encoder_class", ENCODERS)
@settings(max_examples=50, deadline=None, database=None)
@given(messages=message_lists(), kinds=st.lists(st.integers(0, 2), min_size=1, max_size=4),
       small_body=st.booleans(), data=st.data())
def test_frame_encoder_to_frame_decoder(encoder_class, messages, kinds, small_body, data):
    encoder = encoder_class()
    for msg in messages:
        encoder.message(_as_kinds(msg, kinds))
    segments = encoder.take()
    stream = b"".join(bytes(s) for s in segments)
    assert not encoder and encoder.take() == []
    _check_canonical(stream, messages)
    assert stream == b"".join(encode_message(msg) for msg in messages)
    feed = _pick_feeder(data, len(stream))
    with small_body_mode() if small_body else _nothing():
        decoder = FrameDecoder()
        items = feed(decoder, stream)
    assert items == messages
    assert not decoder.mid_message and decoder.buffered == 0


@settings(max_examples=50, deadline=None, database=None)
@given(messages=message_lists(), kinds=st.lists(st.integers(0, 2), min_size=1, max_size=4),
       pings=st.lists(st.booleans(), min_size=1, max_size=8), per_segment=st.booleans(),
       small_body=st.booleans(), data=st.data())
def test_connection_to_connection(messages, kinds, pings, per_segment, small_body, data):
    """send_message on one ZmtpConnection, receive_data (or body_buffer) on its peer; PINGs
    sent between messages come out between the same messages."""
    sender, receiver = connected_pair("DEALER", "ROUTER")
    expected: list = []
    for index, msg in enumerate(messages):
        sender.send_message(_as_kinds(msg, kinds))
        expected.append(msg)
        if pings[index % len(pings)]:
            sender.send_ping(100 * index, b"%d" % index)
            expected.append(PingReceived(100 * index))
    segments = sender.data_to_send()
    stream = b"".join(bytes(s) for s in segments)
    with small_body_mode() if small_body else _nothing():
        if per_segment:
            items = []
            for segment in segments:
                items += receiver.receive_data(bytes(segment))
        else:
            items = _pick_feeder(data, len(stream))(receiver, stream)
    assert [[bytes(f) for f in i] if type(i) is list else i for i in items] == expected
    pongs = [body for flags, _long, body in parse_frames(receiver.bytes_to_send())]
    assert pongs == [b"\x04PONG%d" % i for i, msg in enumerate(messages)
                     if pings[i % len(pings)]]


@settings(max_examples=25, deadline=None, database=None)
@given(messages=message_lists(max_big=1), data=st.data())
def test_both_directions_at_once(messages, data):
    """Each side sends the other the same messages; both streams decode exactly."""
    a, b = connected_pair("PAIR", "PAIR")
    for msg in messages:
        a.send_message(msg)
        b.send_message(msg[::-1])
    stream_a, stream_b = a.bytes_to_send(), b.bytes_to_send()
    items_b = _pick_feeder(data, len(stream_a))(b, stream_a)
    items_a = _pick_feeder(data, len(stream_b))(a, stream_b)
    assert messages_of(items_b) == messages
    assert messages_of(items_a) == [msg[::-1] for msg in messages]


@pytest.mark.parametrize("encoder_class", ENCODERS)
@pytest.mark.parametrize("size", [0, 255, 256, 16383, 16384, 65536, 200_000])
def test_zero_copy_segments_keep_large_bodies(encoder_class, size):
    """Bodies of 16 KiB and up go out as their own segment (no copy); smaller ones are
    coalesced with the headers."""
    body = _body(size, 3)
    encoder = encoder_class()
    encoder.message([b"h", body, b"t"])
    segments = encoder.take()
    assert b"".join(bytes(s) for s in segments) == encode_message([b"h", body, b"t"])
    assert any(s is body for s in segments) == (size >= 16384)


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("encoder_class", ENCODERS)
@settings(max_examples=50, deadline=None, database=None)
@given(messages=message_lists(), limit=st.integers(1, 300_000))
def test_drain_encodes_queued_messages_as_message_does(encoder_class, messages, limit):
    """drain (the writer's batch loop, with single frames inlined) takes messages from the
    queue in order until ``limit`` bytes are pending, and encodes each exactly as
    encode_message does, with commands written in between kept in place."""
    from collections import deque
    queue = deque(messages)
    encoder = encoder_class()
    encoder.command(b"PING", b"\x00\x01")
    segments = []
    while queue:
        before = encoder.pending
        encoder.drain(queue, limit)
        if queue:  # it stopped at the limit, not before
            assert encoder.pending >= limit
        assert encoder.pending > before or before >= limit
        segments += encoder.take()
    stream = b"".join(bytes(s) for s in segments)
    expected = encode_command(b"PING", b"\x00\x01") + b"".join(
        encode_message(msg) for msg in messages)
    assert stream == expected
