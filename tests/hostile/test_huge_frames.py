"""HOSTILE_INPUT case 1: frames that claim a huge size (the lesson of CVE-2019-6250).

"A frame that claims a huge size (06 + 8-byte length of 2^63, 2^64-1, or just over
MAXMSGSIZE), before and after the handshake: the connection is dropped; nothing near that
size is ever allocated. Never pre-allocate what a peer claims."

"Before the handshake" means after a valid greeting and before READY; "after" means a
completed NULL handshake as a DEALER.  Each test ends with the libzmq DEALER that was
connected all along completing a round trip, and nothing else arriving at the ROUTER.
"""

from __future__ import annotations

import pytest

from ._servers import assert_round_trip, good_dealer, router_server
from ._wire import GREETING, RawPeer, command, long_header, memory_watch, message, prop, \
    ready, short_frame

MiB = 1 << 20
#: Peak memory growth allowed during one hostile episode (it includes the I/O thread's
#: ordinary work; a pre-allocation of any claimed size would be orders of magnitude more).
MEMORY_BOUND = 4 * MiB


def open_raw(endpoint: str, phase: str) -> RawPeer:
    """A raw peer that has sent a valid greeting, and READY as a DEALER if ``phase`` is after."""
    peer = RawPeer.connect(endpoint)
    if phase == "after":
        peer.handshake(b"DEALER")
    else:
        peer.send(GREETING)
        peer.read_greeting()
        name, _data = peer.read_command()  # puremq's READY: it is waiting for ours
        assert name == b"READY"
    return peer


@pytest.mark.parametrize("phase", ["before", "after"])
@pytest.mark.parametrize("size", [2**63, 2**64 - 1], ids=["2^63", "2^64-1"])
@pytest.mark.parametrize("flags", [0x02, 0x03, 0x06], ids=["msg", "msg+more", "command"])
def test_size_with_the_top_bit_set_drops_the_connection(ctx, zctx, phase, size, flags):
    """A long size has at most 63 bits (RFC 37: 0..2^63-1); anything larger is fatal."""
    router, endpoint = router_server(ctx)
    dealer = good_dealer(zctx, endpoint)
    assert_round_trip(router, dealer)
    with memory_watch() as memory:
        with open_raw(endpoint, phase) as peer:
            peer.send(long_header(flags, size) + b"\x00" * 64)
            peer.wait_closed()
    assert memory.within(MEMORY_BOUND), memory.peak_growth
    assert_round_trip(router, dealer)


@pytest.mark.parametrize("phase", ["before", "after"])
@pytest.mark.parametrize("encoding", ["short", "long"])
def test_message_frame_just_over_maxmsgsize_drops_the_connection(ctx, zctx, phase, encoding):
    """libzmq v2_decoder: a frame larger than ZMQ_MAXMSGSIZE gives EMSGSIZE and the
    connection is dropped; the check is per frame and is made on the header."""
    limit = 100 if encoding == "short" else 1000
    router, endpoint = router_server(ctx, maxmsgsize=limit)
    dealer = good_dealer(zctx, endpoint)
    assert_round_trip(router, dealer)
    if encoding == "short":
        header = bytes((0x00, limit + 1))
    else:
        header = long_header(0x02, limit + 1)
    with memory_watch() as memory:
        with open_raw(endpoint, phase) as peer:
            # a first frame with MORE, then the oversized header: no body follows yet
            peer.send(short_frame(0x01, b"head") + header)
            peer.wait_closed()
    assert memory.within(MEMORY_BOUND), memory.peak_growth
    assert_round_trip(router, dealer)


def test_command_frame_just_over_maxmsgsize_drops_the_connection(ctx, zctx):
    """libzmq applies MAXMSGSIZE to every frame its decoder reads, commands included."""
    router, endpoint = router_server(ctx, maxmsgsize=1000)
    dealer = good_dealer(zctx, endpoint)
    with open_raw(endpoint, "after") as peer:
        peer.send(long_header(0x06, 1001) + b"\x04PING\x00\x00")
        peer.wait_closed()
    assert_round_trip(router, dealer)


def test_frame_of_exactly_maxmsgsize_is_delivered(ctx, zctx):
    """The control for the tests above: MAXMSGSIZE is inclusive."""
    router, endpoint = router_server(ctx, maxmsgsize=1000)
    dealer = good_dealer(zctx, endpoint)
    with open_raw(endpoint, "after") as peer:
        peer.send(message(b"A" * 1000))
        assert router.poll(5000)
        frames = router.recv_multipart()
        assert frames[1:] == [b"A" * 1000]
        assert peer.is_open_after(0.05)
    assert_round_trip(router, dealer)


def test_oversized_message_in_the_same_segment_as_ready_is_not_delivered(ctx, zctx):
    """MAXMSGSIZE holds from the first message on, even when the peer's greeting, READY and
    first message arrive in one read."""
    router, endpoint = router_server(ctx, maxmsgsize=1000)
    dealer = good_dealer(zctx, endpoint)
    with RawPeer.connect(endpoint) as peer:
        peer.send(GREETING + ready(b"DEALER") + message(b"B" * 1500))
        peer.wait_closed()
    assert_round_trip(router, dealer)


def test_message_in_the_same_segment_as_ready_is_delivered(ctx, zctx):
    """The control: what follows READY in the same read is ordinary traffic."""
    router, endpoint = router_server(ctx)
    dealer = good_dealer(zctx, endpoint)
    with RawPeer.connect(endpoint) as peer:
        peer.send(GREETING + ready(b"DEALER", b"raw") + message(b"one") + message(b"two", b"2"))
        assert router.poll(5000)
        assert router.recv_multipart() == [b"raw", b"one"]
        assert router.poll(5000)
        assert router.recv_multipart() == [b"raw", b"two", b"2"]
    assert_round_trip(router, dealer)


@pytest.mark.parametrize("flags", [0x02, 0x06], ids=["msg", "command"])
def test_legal_but_enormous_claim_is_held_without_allocating_it(ctx, zctx, flags):
    """A 2^40-byte frame is legal after the handshake (no MAXMSGSIZE): the connection is
    kept while the body arrives, but memory follows the bytes that arrived, not the claim.
    The partial message is never delivered, and other peers are served meanwhile."""
    router, endpoint = router_server(ctx)
    dealer = good_dealer(zctx, endpoint)
    with memory_watch() as memory:
        with open_raw(endpoint, "after") as peer:
            peer.send(message(b"before") + short_frame(0x01, b"part")
                      + long_header(flags, 2**40) + b"\x07" * 100_000)
            assert router.poll(5000)
            assert router.recv_multipart()[1:] == [b"before"]
            assert peer.is_open_after(0.2)
            assert_round_trip(router, dealer)
    assert memory.within(MEMORY_BOUND), memory.peak_growth
    assert_round_trip(router, dealer)  # also: the half-sent message was dropped, not delivered


@pytest.mark.parametrize("size", [2**40, 70_000, 300])
def test_message_frame_before_ready_drops_the_connection(ctx, zctx, size):
    """Before the handshake only commands are legal (NULL: READY or ERROR), so a message
    frame header ends the connection at once: an unauthenticated peer must not make puremq
    hold a body of any size until HANDSHAKE_IVL expires."""
    router, endpoint = router_server(ctx)
    dealer = good_dealer(zctx, endpoint)
    with memory_watch() as memory:
        with open_raw(endpoint, "before") as peer:
            if size >= 256:
                peer.send(long_header(0x02, size) + b"\x09" * 1000)
            else:
                peer.send(bytes((0x00, size)))
            peer.wait_closed(timeout=2.0)
    assert memory.within(MEMORY_BOUND), memory.peak_growth
    assert_round_trip(router, dealer)


def test_handshake_command_over_the_cap_drops_the_connection(ctx, zctx):
    """Handshake commands have a size cap (CVE-2019-13132's lesson): a 2^40-byte READY is
    refused on its header."""
    router, endpoint = router_server(ctx)
    dealer = good_dealer(zctx, endpoint)
    with memory_watch() as memory:
        with open_raw(endpoint, "before") as peer:
            peer.send(long_header(0x06, 2**40) + b"\x05READY")
            peer.wait_closed()
    assert memory.within(MEMORY_BOUND), memory.peak_growth
    assert_round_trip(router, dealer)


def test_huge_command_after_a_complete_frame_in_one_read(ctx, zctx):
    """A valid PING followed by a top-bit size in the same read: the PING is answered or
    not, but the connection is dropped and nothing is delivered."""
    router, endpoint = router_server(ctx)
    dealer = good_dealer(zctx, endpoint)
    with open_raw(endpoint, "after") as peer:
        peer.send(command(b"PING", b"\x00\x00") + short_frame(0x01, b"half")
                  + long_header(0x02, 2**63))
        peer.wait_closed()
    assert_round_trip(router, dealer)


def test_ready_just_over_maxmsgsize_drops_the_connection(ctx, zctx):
    """libzmq's decoder checks MAXMSGSIZE on every frame, handshake commands included: a
    READY one byte over the limit ends the connection before it is read."""
    router, endpoint = router_server(ctx, maxmsgsize=1000)
    dealer = good_dealer(zctx, endpoint)
    head = b"\x05READY" + prop(b"Socket-Type", b"DEALER")

    def ready_of(size):
        return head + prop(b"X-Pad", b"p" * (size - len(head) - len(prop(b"X-Pad", b""))))

    body = ready_of(1001)
    assert len(body) == 1001
    with open_raw(endpoint, "before") as peer:
        peer.send(long_header(0x06, len(body)) + body[:100])
        peer.wait_closed()
    assert_round_trip(router, dealer)
    # the control: a READY of exactly MAXMSGSIZE completes the handshake
    body = ready_of(1000)
    with open_raw(endpoint, "before") as peer:
        peer.send(long_header(0x06, len(body)) + body + message(b"in"))
        assert router.poll(5000)
        assert router.recv_multipart()[1:] == [b"in"]
    assert_round_trip(router, dealer)
