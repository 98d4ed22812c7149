"""HOSTILE_INPUT case 4: broken greetings and old protocol versions.

"Truncated greeting (0..63 bytes then close); first byte not 0xFF; ZMTP 1.0/2.0 greetings:
rejected clearly; a 1.0-style message is never delivered."

puremq speaks ZMTP 3.x only (ZMTP_NOTES §1: libzmq's version detection is byte0 != 0xFF ->
1.0, (byte9 & 1) == 0 -> 1.0 with a long length, byte10 in (1, 2) -> 1.0/2.0 framing).
Each peer here follows its old greeting with a message that must never reach the
application.
"""

from __future__ import annotations

import socket
import struct

import pytest
import zmq as libzmq

import puremq

from ._servers import assert_round_trip, good_dealer, router_server
from ._wire import GREETING, RawListener, RawPeer, WAIT, assert_nothing_more, message, ready

CUTS = [0, 1, 5, 9, 10, 11, 12, 31, 32, 33, 63]

#: ZMTP 1.0: an identity frame (length, flags, body) then frames of the same shape.
ZMTP10 = b"\x01\x00" + b"\x06\x00hello"
#: ZMTP 1.0 with an 8-octet length: 0xFF, length, flags (bit 0 clear in byte 9).
ZMTP10_LONG = b"\xff" + struct.pack(">Q", 1) + b"\x00" + b"\x06\x00hello"


def zmtp20(revision: int) -> bytes:
    """A ZMTP 2.0-style greeting (signature, revision, socket type PUSH, empty identity)
    followed by a one-frame message."""
    return (b"\xff" + b"\x00" * 8 + b"\x7f" + bytes((revision, 0x08)) + b"\x00\x00"
            + b"\x00\x05hello")


def assert_is_greeting_prefix(data: bytes) -> None:
    """What puremq sent is (part of) its greeting and nothing after it: no READY before it
    has the peer's whole, valid greeting."""
    assert len(data) <= 64, data
    assert data == GREETING[:len(data)] or (data[:10] == GREETING[:10] and data[10] == 3), data


@pytest.mark.parametrize("cut", CUTS)
def test_truncated_greeting_then_close(ctx, zctx, cut):
    """The peer sends ``cut`` bytes of a valid greeting and closes its side: puremq closes
    the connection, having sent nothing past its own greeting."""
    router, endpoint = router_server(ctx)
    dealer = good_dealer(zctx, endpoint)
    with RawPeer.connect(endpoint) as peer:
        if cut:
            peer.send(GREETING[:cut])
        peer.sock.shutdown(socket.SHUT_WR)
        peer.wait_closed()
        assert_is_greeting_prefix(peer.received)
    assert_nothing_more(router)
    assert_round_trip(router, dealer)


def test_63_bytes_are_not_a_greeting(ctx, zctx):
    """One byte short of a greeting and still open: puremq waits (no READY, no close)."""
    router, endpoint = router_server(ctx)
    dealer = good_dealer(zctx, endpoint)
    with RawPeer.connect(endpoint) as peer:
        peer.send(GREETING[:63])
        assert peer.is_open_after(0.2)
        assert len(peer.received) == 64
        assert_is_greeting_prefix(peer.received)
        peer.read_greeting()  # consume it from the buffer
        assert_round_trip(router, dealer)
        # the last byte completes it: now puremq's READY comes
        peer.send(GREETING[63:] + ready(b"DEALER", b"late"))
        name, _data = peer.read_command()
        assert name == b"READY"
        peer.send(message(b"after"))
        assert router.poll(int(WAIT * 1000))
        assert router.recv_multipart() == [b"late", b"after"]
    assert_round_trip(router, dealer)


@pytest.mark.parametrize("first", [b"\x00", b"\x01", b"\x7f", b"\xfe", b"GET / HTTP/1.1\r\n\r\n"],
                         ids=["00", "01", "7f", "fe", "http"])
def test_first_byte_not_ff_is_rejected_at_once(ctx, zctx, first):
    """byte0 != 0xFF: not ZMTP 3.x; the connection is closed on that byte, without waiting
    for the 64 bytes of a greeting that will never come."""
    router, endpoint = router_server(ctx)
    dealer = good_dealer(zctx, endpoint)
    with RawPeer.connect(endpoint) as peer:
        peer.send(first)
        assert peer.wait_closed(timeout=2.0) < 2.0
        assert_is_greeting_prefix(peer.received)
    assert_nothing_more(router)
    assert_round_trip(router, dealer)


@pytest.mark.parametrize("greeting", [ZMTP10, ZMTP10_LONG, zmtp20(0), zmtp20(1), zmtp20(2)],
                         ids=["1.0", "1.0-long", "2.0-rev0", "2.0-rev1", "2.0-rev2"])
def test_old_protocol_peer_is_closed_and_its_message_never_delivered(ctx, zctx, greeting):
    router, endpoint = router_server(ctx)
    dealer = good_dealer(zctx, endpoint)
    with RawPeer.connect(endpoint) as peer:
        peer.send(greeting)
        peer.wait_closed(timeout=2.0)
        assert_is_greeting_prefix(peer.received)
    assert_nothing_more(router)
    assert_round_trip(router, dealer)


@pytest.mark.parametrize("version", [b"\x03\x00", b"\x04\x00"], ids=["3.0", "4.0"])
def test_newer_or_3_0_greeting_is_accepted(ctx, zctx, version):
    """The control for the rejections: a 3.0 peer and a future major version are accepted
    (RFC 23/37: a peer MUST accept versions >= its own; 3.1 accepts 3.0 as libzmq does)."""
    router, endpoint = router_server(ctx)
    dealer = good_dealer(zctx, endpoint)
    with RawPeer.connect(endpoint) as peer:
        peer.send(GREETING[:10] + version + GREETING[12:] + ready(b"DEALER", b"v"))
        peer.expect_ready()
        peer.send(message(b"accepted"))
        assert router.poll(int(WAIT * 1000))
        assert router.recv_multipart() == [b"v", b"accepted"]
    assert_round_trip(router, dealer)


# -- the connecting side ------------------------------------------------------------------------
def connecting_router(ctx, zctx):
    """A puremq ROUTER that connects (to a raw listener, later) and to a bound libzmq DEALER."""
    dealer = zctx.socket(libzmq.DEALER)
    dealer.linger = 0
    port = dealer.bind_to_random_port("tcp://127.0.0.1")
    router = ctx.socket(puremq.ROUTER)
    router.linger = 0
    router.connect("tcp://127.0.0.1:%d" % port)
    return router, dealer


@pytest.mark.parametrize("greeting", [ZMTP10, zmtp20(1), b"\xff" + b"\x00" * 8 + b"\x00"],
                         ids=["1.0", "2.0", "1.0-long"])
def test_connecting_socket_rejects_old_protocol_listener(ctx, zctx, greeting):
    router, dealer = connecting_router(ctx, zctx)
    with RawListener() as listener:
        router.connect(listener.endpoint)
        with listener.accept() as peer:
            peer.send(greeting + b"\x00\x05hello")
            peer.wait_closed(timeout=2.0)
            assert_is_greeting_prefix(peer.received)
        assert_nothing_more(router)
        assert_round_trip(router, dealer)


@pytest.mark.parametrize("cut", [0, 10, 63])
def test_connecting_socket_reconnects_after_a_truncated_greeting(ctx, zctx, cut):
    """A listener that closes mid-greeting is a lost connection, not a broken peer: puremq
    reconnects (RECONNECT_IVL) and the new connection works."""
    router, dealer = connecting_router(ctx, zctx)
    router.reconnect_ivl = 20
    with RawListener() as listener:
        router.connect(listener.endpoint)
        with listener.accept() as peer:
            peer.read_greeting()
            peer.send(GREETING[:cut])
        with listener.accept(timeout=WAIT) as again:
            again.send(GREETING + ready(b"DEALER", b"second"))
            again.expect_ready()
            again.send(message(b"from", b"second"))
            assert router.poll(int(WAIT * 1000))
            assert router.recv_multipart() == [b"second", b"from", b"second"]
        assert_round_trip(router, dealer)
