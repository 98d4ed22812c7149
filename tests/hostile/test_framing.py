"""HOSTILE_INPUT case 11: odd but legal framing, and malformed commands.

"Reserved flag bits set, MORE on a command, a long encoding of a small size (must be
accepted), a zero or over-long command name, PING shorter than its TTL field, PING context
over 16 bytes (echo 16)."

All after a completed NULL handshake between a raw DEALER and a puremq ROUTER.  Where a
frame is fatal, it follows the first frame of a multipart message, which must then never be
delivered.
"""

from __future__ import annotations

import struct

import pytest

from ._servers import assert_round_trip, good_dealer, router_server
from ._wire import RawPeer, WAIT, assert_nothing_more, command, long_header, message, \
    short_frame

HALF = short_frame(0x01, b"half")  # the first frame of a message that is never finished


@pytest.fixture
def server(ctx, zctx):
    """(router, endpoint, well-behaved libzmq dealer)."""
    router, endpoint = router_server(ctx)
    dealer = good_dealer(zctx, endpoint)
    assert_round_trip(router, dealer)
    return router, endpoint, dealer


def raw_dealer(endpoint: str, identity: bytes = b"raw") -> RawPeer:
    peer = RawPeer.connect(endpoint)
    peer.handshake(b"DEALER", identity)
    return peer


def expect_message(router, frames):
    assert router.poll(int(WAIT * 1000)), f"{frames!r} was not delivered"
    assert router.recv_multipart() == frames


# -- accepted ------------------------------------------------------------------------------------
@pytest.mark.parametrize("reserved", [0x08, 0x10, 0x80, 0xF8])
def test_reserved_flag_bits_on_message_frames_are_ignored(server, reserved):
    """Bits 3-7 MUST be 0, and libzmq ignores them: the message is delivered, with MORE,
    LONG and COMMAND read from their own bits only."""
    router, endpoint, dealer = server
    with raw_dealer(endpoint) as peer:
        data = (short_frame(reserved | 0x01, b"first")
                + long_header(reserved | 0x03, 6) + b"second"
                + short_frame(reserved, b"last"))
        peer.send(data)
        expect_message(router, [b"raw", b"first", b"second", b"last"])
        assert peer.is_open_after(0.02)
    assert_round_trip(router, dealer)


def test_reserved_flag_bits_on_a_command_frame_are_ignored(server):
    """A PING whose flags carry reserved bits is still a PING: it is answered."""
    router, endpoint, dealer = server
    with raw_dealer(endpoint) as peer:
        peer.send(bytes((0xF4, 7)) + b"\x04PING\x00\x00")
        assert peer.read_command() == (b"PONG", b"")
        peer.send(message(b"still", b"here"))
        expect_message(router, [b"raw", b"still", b"here"])
    assert_round_trip(router, dealer)


@pytest.mark.parametrize("size", [0, 1, 5, 255])
def test_long_encoding_of_a_small_size_is_accepted(server, size):
    """"A receiver must accept a long encoding even for small sizes"."""
    router, endpoint, dealer = server
    body = bytes(range(size % 256)) if size else b""
    body = (body * 2)[:size]
    with raw_dealer(endpoint) as peer:
        peer.send(long_header(0x03, 3) + b"env" + long_header(0x02, size) + body)
        expect_message(router, [b"raw", b"env", body])
        # and a long-encoded command
        peer.send(long_header(0x06, 7) + b"\x04PING\x00\x00")
        assert peer.read_command() == (b"PONG", b"")
    assert_round_trip(router, dealer)


def test_unknown_command_after_the_handshake_is_ignored(server):
    """libzmq ignores commands it does not know once the connection is up (the control for
    the malformed ones below, which are fatal)."""
    router, endpoint, dealer = server
    with raw_dealer(endpoint) as peer:
        peer.send(message(b"one") + command(b"X-UNKNOWN", b"data") + message(b"two"))
        expect_message(router, [b"raw", b"one"])
        expect_message(router, [b"raw", b"two"])
        assert peer.is_open_after(0.02)
    assert_round_trip(router, dealer)


# -- fatal -----------------------------------------------------------------------------------------
MALFORMED = {
    # flags 0x05 / 0x07: COMMAND with MORE ("SHALL be 0 on commands")
    "more on command": bytes((0x05, 7)) + b"\x04PING\x00\x00",
    "more on long command": long_header(0x07, 7) + b"\x04PING\x00\x00",
    "empty command": bytes((0x04, 0)),
    "zero-length name": bytes((0x04, 3)) + b"\x00ab",
    "name longer than frame": bytes((0x04, 3)) + b"\x05PI",
    "name 255 in 10 bytes": bytes((0x04, 10)) + b"\xff" + b"A" * 9,
    "ping without ttl": bytes((0x04, 5)) + b"\x04PING",
    "ping with 1-byte ttl": bytes((0x04, 6)) + b"\x04PING\x00",
}


@pytest.mark.parametrize("frame", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_command_drops_the_connection(server, frame):
    router, endpoint, dealer = server
    with raw_dealer(endpoint) as peer:
        peer.send(message(b"whole") + HALF + frame + short_frame(0x00, b"rest"))
        expect_message(router, [b"raw", b"whole"])
        peer.wait_closed()
    assert_nothing_more(router)
    assert_round_trip(router, dealer)


def test_malformed_command_split_across_reads(server):
    """The same fault delivered a byte at a time is caught the same way."""
    router, endpoint, dealer = server
    with raw_dealer(endpoint) as peer:
        data = HALF + MALFORMED["name longer than frame"]
        for index in range(len(data)):
            if not peer.try_send(data[index:index + 1]):
                break
        peer.wait_closed()
    assert_nothing_more(router)
    assert_round_trip(router, dealer)


# -- heartbeats ------------------------------------------------------------------------------------
@pytest.mark.parametrize("context", [b"", b"LOL", b"x" * 16, b"y" * 17, bytes(range(58)),
                                     b"LOL" + b"z" * 58],
                         ids=["0", "3", "16", "17", "58", "LOL+58z"])
def test_pong_echoes_at_most_16_bytes_of_the_ping_context(server, context):
    """PONG carries the PING's context, truncated to 16 bytes (libzmq; ZMTP_NOTES §7 vector:
    PING 'LOL' + 58 'z' -> ``04 15 04 'PONG' 'LOL' + 13 'z'``).  Checked byte for byte."""
    router, endpoint, dealer = server
    with raw_dealer(endpoint) as peer:
        peer.send(command(b"PING", b"\x00\x00" + context))
        echoed = context[:16]
        expected = bytes((0x04, 5 + len(echoed))) + b"\x04PONG" + echoed
        assert peer.recv_exact(len(expected)) == expected
        assert peer.is_open_after(0.02)
        assert peer.received == b""  # exactly one PONG, nothing after it
        peer.send(message(b"after ping"))
        expect_message(router, [b"raw", b"after ping"])
    assert_round_trip(router, dealer)


def test_zmtp_notes_oversized_ping_vector(server):
    """The exact vector of libzmq's tests/test_heartbeats.cpp."""
    router, endpoint, dealer = server
    with raw_dealer(endpoint) as peer:
        body = b"\x04PING" + b"\x00\x00" + b"LOL" + b"z" * 58
        assert len(body) == 68
        peer.send(bytes((0x04, len(body))) + body)
        assert peer.recv_exact(23) == b"\x04\x15\x04PONGLOL" + b"z" * 13
    assert_round_trip(router, dealer)


def test_ping_with_ttl_is_answered_and_keeps_the_connection(server):
    """A PING with a TTL (deciseconds) is answered; traffic keeps the connection alive."""
    router, endpoint, dealer = server
    with raw_dealer(endpoint) as peer:
        peer.send(command(b"PING", struct.pack(">H", 20) + b"ctx"))  # 2 s
        assert peer.read_command() == (b"PONG", b"ctx")
        peer.send(message(b"alive"))
        expect_message(router, [b"raw", b"alive"])
        assert peer.is_open_after(0.05)
    assert_round_trip(router, dealer)
