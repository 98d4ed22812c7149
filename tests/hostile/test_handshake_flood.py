"""HOSTILE_INPUT case 3: connections that never finish their handshake (CVE-2020-15166).

"Many raw TCP connections that send nothing, half a greeting, or only a greeting: a
legitimate client still round-trips; the half-open ones are closed after HANDSHAKE_IVL; a
peer joins the routing tables only after its handshake (and ZAP) succeeded."
"""

from __future__ import annotations

import time
from typing import List, Tuple

import pytest
import zmq as libzmq

import puremq

from ._servers import assert_round_trip, good_dealer, router_server
from ._wire import GREETING, RawPeer, WAIT, assert_nothing_more, last_endpoint, prop

FLOOD = 50

#: What each kind of half-open peer sends before it goes quiet.
STALLS = {
    "nothing": b"",
    "one byte": GREETING[:1],
    "signature": GREETING[:10],
    "half greeting": GREETING[:32],
    "greeting": GREETING,
    # a greeting and the first bytes of a READY that claims an identity
    "half ready": GREETING + bytes((0x04, 60)) + b"\x05READY" + prop(b"Identity", b"evil")[:6],
}


def flood(endpoint: str, count: int = FLOOD) -> List[Tuple[str, RawPeer, float]]:
    """``count`` raw connections cycling through the stall kinds; (kind, peer, t_connect)."""
    peers = []
    kinds = list(STALLS)
    for index in range(count):
        kind = kinds[index % len(kinds)]
        peer = RawPeer.connect(endpoint)
        started = time.monotonic()
        if STALLS[kind]:
            peer.send(STALLS[kind])
        peers.append((kind, peer, started))
    return peers


def frame_flags(data: bytes) -> List[int]:
    """The flags of the complete frames in ``data``."""
    flags = []
    pos = 0
    while pos + 2 <= len(data):
        flag = data[pos]
        if flag & 0x02:
            if pos + 9 > len(data):
                break
            size = int.from_bytes(data[pos + 1:pos + 9], "big")
            pos += 9 + size
        else:
            pos += 2 + data[pos + 1]
        if pos > len(data):
            break
        flags.append(flag)
    return flags


def close_all(peers: List[Tuple[str, RawPeer, float]]) -> None:
    for _kind, peer, _started in peers:
        peer.close()


def test_legitimate_client_round_trips_while_half_open_connections_are_held(ctx, zctx):
    """With the default HANDSHAKE_IVL (30 s) the stalled peers stay connected; they cost
    nothing the legitimate client notices."""
    router, endpoint = router_server(ctx)
    peers = flood(endpoint)
    try:
        dealer = good_dealer(zctx, endpoint)
        for _ in range(5):
            assert_round_trip(router, dealer)
        # still open: puremq did not give up on them early (so the next test is meaningful)
        for kind, peer, _started in peers[:len(STALLS)]:
            assert peer.is_open_after(0.01), kind
    finally:
        close_all(peers)
    assert_round_trip(router, dealer)


def test_half_open_connections_are_closed_after_handshake_ivl(ctx, zctx):
    """HANDSHAKE_IVL = 200 ms: every connection that has not completed its handshake by
    then is closed by puremq, whatever it sent; the legitimate client is not affected."""
    router, endpoint = router_server(ctx, handshake_ivl=200)
    dealer = good_dealer(zctx, endpoint)
    assert_round_trip(router, dealer)
    peers = flood(endpoint)
    try:
        assert_round_trip(router, dealer)
        for kind, peer, started in peers:
            peer.wait_closed(timeout=3.0)
            lived = time.monotonic() - started
            assert lived >= 0.15, f"{kind}: closed after {lived:.3f} s, before HANDSHAKE_IVL"
    finally:
        close_all(peers)
    assert_round_trip(router, dealer)
    # the legitimate connection completed its handshake long ago: the timer does not apply
    time.sleep(0.3)  # longer than HANDSHAKE_IVL, on purpose: nothing to wait on
    assert_round_trip(router, dealer)


def test_push_never_load_balances_to_a_peer_without_a_handshake(ctx, zctx):
    """PUSH round-robins over peers; a half-open connection is not a peer yet, so every
    message reaches the one legitimate PULL."""
    push = ctx.socket(puremq.PUSH)
    push.linger = 0
    push.sndtimeo = int(WAIT * 1000)
    push.bind("tcp://127.0.0.1:*")
    endpoint = last_endpoint(push)
    peers = flood(endpoint)
    try:
        pull = zctx.socket(libzmq.PULL)
        pull.linger = 0
        pull.rcvtimeo = int(WAIT * 1000)
        pull.connect(endpoint)
        count = 200
        for index in range(count):
            push.send(b"%d" % index)
        received = [pull.recv() for _ in range(count)]
        assert received == [b"%d" % index for index in range(count)]
        # the stalled connections were sent puremq's greeting and READY, never a message
        for kind, peer, _started in peers:
            assert peer.is_open_after(0.005), kind
            assert peer.received[:10] == GREETING[:10], kind
            flags = frame_flags(peer.received[64:])
            assert all(f & 0x04 for f in flags), (kind, peer.received)
    finally:
        close_all(peers)


def test_router_never_routes_to_a_peer_without_a_handshake(ctx, zctx):
    """A peer that sent only part of its READY (with Identity "evil") is not routable:
    ROUTER_MANDATORY reports EHOSTUNREACH; a peer that completed its handshake with
    Identity "fine" is routable (the control)."""
    router, endpoint = router_server(ctx, router_mandatory=1)
    peers = flood(endpoint, 12)
    try:
        with RawPeer.connect(endpoint) as fine:
            fine.handshake(b"DEALER", b"fine")
            deadline = time.monotonic() + WAIT
            while True:  # the pipe reaches the ROUTER's thread shortly after READY
                try:
                    router.send_multipart([b"fine", b"hello"])
                    break
                except puremq.ZMQError as exc:
                    assert exc.errno == puremq.EHOSTUNREACH
                    assert time.monotonic() < deadline, "completed peer never became routable"
                    time.sleep(0.01)
            assert fine.read_message() == [b"hello"]
            with pytest.raises(puremq.ZMQError) as info:
                router.send_multipart([b"evil", b"secret"])
            assert info.value.errno == puremq.EHOSTUNREACH
        dealer = good_dealer(zctx, endpoint)
        assert_round_trip(router, dealer)
        assert_nothing_more(router, 50)
    finally:
        close_all(peers)
