"""A socket with several peers reads the one busy peer itself while it waits in recv
(SocketEngine.recv_waiting); the other peers must lose nothing by it: their messages arrive
as before, and the busy peer cannot be starved by the others' traffic."""

from __future__ import annotations

import threading
from typing import Any, Iterator, List

import pytest

import puremq

zmq = pytest.importorskip("zmq")

WAIT_MS = 10000


@pytest.fixture
def router() -> Iterator[Any]:
    context = puremq.Context()
    sock = context.socket(puremq.ROUTER)
    sock.rcvtimeo = WAIT_MS
    sock.bind("tcp://127.0.0.1:*")
    yield sock
    context.destroy(linger=0)


@pytest.fixture
def libzmq_ctx() -> Iterator[Any]:
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


def _dealer(ctx: Any, router: Any, name: bytes) -> Any:
    sock = ctx.socket(zmq.DEALER)
    sock.routing_id = name
    sock.rcvtimeo = WAIT_MS
    sock.sndtimeo = WAIT_MS
    sock.connect(router.last_endpoint)
    return sock


def _echo_round_trips(router: Any, dealer: Any, count: int) -> None:
    for number in range(count):
        dealer.send(b"%d" % number)
        identity, body = router.recv_multipart()
        router.send_multipart([identity, body])
        assert dealer.recv() == b"%d" % number


def test_a_quiet_peer_is_heard_while_recv_reads_the_busy_one(router: Any,
                                                             libzmq_ctx: Any) -> None:
    """With one peer busy in lockstep (the ROUTER reads it in its own thread), a message
    from another peer SHALL still reach a ROUTER waiting in recv."""
    busy = _dealer(libzmq_ctx, router, b"busy")
    quiet = _dealer(libzmq_ctx, router, b"quiet")
    _echo_round_trips(router, busy, 50)
    received: List[Any] = []
    waiter = threading.Thread(target=lambda: received.append(router.recv_multipart()))
    waiter.start()
    quiet.send(b"hello")
    waiter.join(WAIT_MS / 1000)
    assert received == [[b"quiet", b"hello"]]
    _echo_round_trips(router, busy, 10)


def test_the_peer_read_in_recv_is_not_starved_by_another_peers_flood(router: Any,
                                                                      libzmq_ctx: Any) -> None:
    """Fair queuing SHALL hold when recv reads one peer itself: while another peer floods
    the socket (recv never has to wait), a message from the peer it read arrives before the
    flood ends."""
    busy = _dealer(libzmq_ctx, router, b"busy")
    flooder = _dealer(libzmq_ctx, router, b"flood")
    _echo_round_trips(router, busy, 50)
    flood_size = 300000
    flood_started = threading.Event()

    def flood() -> None:
        for number in range(flood_size):
            flooder.send(b"f")
            if number == 1000:
                flood_started.set()

    flooding = threading.Thread(target=flood, daemon=True)
    flooding.start()
    flood_started.wait(WAIT_MS / 1000)
    assert router.recv_multipart()[0] == b"flood"
    busy.send(b"me too")
    flood_seen = 1
    while True:
        identity, body = router.recv_multipart()
        if identity == b"busy":
            assert body == b"me too"
            break
        flood_seen += 1
    assert flood_seen < flood_size, "the busy peer's message waited for the whole flood"
    flooding.join(WAIT_MS / 1000)
