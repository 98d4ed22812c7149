"""The proxy doing its sockets' I/O in its own thread.

A source socket whose only peer is a tcp/ipc connection is read by the proxy's thread
(plain messages parsed straight out of the bytes read), and the destinations' connections
are written by it after each burst.  These tests hold that to the proxy's contract: every
message, whole and in order, whatever mix of sizes and parts; high-water marks still stop
the producer; and when the proxy ends, the sockets work as before for their owner.
"""

from __future__ import annotations

import random
from typing import Any, List

import pytest
import zmq as pyzmq

import puremq
import puremq.devices

from ..conftest import endpoint_for
from .helpers import WAIT_S, Background, term_in_time

IMPLS = {"puremq": puremq, "pyzmq": pyzmq}


def _mixed_messages(count: int, seed: int) -> List[List[bytes]]:
    """Short, long (8-byte size) and multipart messages, numbered, in a random mix."""
    rng = random.Random(seed)
    messages = []
    for number in range(count):
        kind = rng.random()
        head = b"%d:" % number
        if kind < 0.7:
            messages.append([head + b"s" * rng.randrange(0, 200)])
        elif kind < 0.85:
            messages.append([head + b"L" * rng.randrange(256, 70_000)])
        else:
            messages.append([head, b"part" * rng.randrange(0, 100), b""])
    return messages


def _proxy(ctx: Any, front: Any, back: Any) -> Background:
    def run() -> str:
        try:
            puremq.proxy(front, back)
        except puremq.ContextTerminated:
            return "ETERM"
        return "returned"
    return Background(run, owned=[front, back])


@pytest.mark.parametrize("peers", ["puremq", "pyzmq"])
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_a_stream_of_mixed_messages_arrives_whole_and_in_order(transport: str, peers: str,
                                                               ipc_dir: str,
                                                               zctx: Any) -> None:
    """PUSH -> proxy(PULL, PUSH) -> PULL with one peer on each side: the proxy reads and
    writes itself; every message arrives once, whole, in the order sent."""
    ctx = puremq.Context()
    front = ctx.socket(puremq.PULL)
    back = ctx.socket(puremq.PUSH)
    front.bind(endpoint_for(transport, ipc_dir))
    back.bind(endpoint_for(transport, ipc_dir))
    proxy = _proxy(ctx, front, back)
    peer_ctx = ctx if peers == "puremq" else zctx
    zmq = IMPLS[peers]
    producer = peer_ctx.socket(zmq.PUSH)
    consumer = peer_ctx.socket(zmq.PULL)
    consumer.setsockopt(zmq.RCVTIMEO, int(WAIT_S * 1000))
    messages = _mixed_messages(3000, seed=7)
    try:
        consumer.connect(back.last_endpoint.decode())
        producer.connect(front.last_endpoint.decode())
        for msg in messages:
            producer.send_multipart(msg)
        for msg in messages:
            assert consumer.recv_multipart() == msg
    finally:
        producer.close(linger=0)
        consumer.close(linger=0)
        term_in_time(ctx)
        proxy.join()
    assert proxy.error is None, proxy.error


def test_single_part_back_pressure_stops_the_producer() -> None:
    """With the consumer stalled, the proxy stops reading its source: the producer's
    sends fail with EAGAIN after a bounded number of messages, and nothing is lost."""
    ctx = puremq.Context()
    front = ctx.socket(puremq.PULL)
    back = ctx.socket(puremq.PUSH)
    for sock in (front, back):
        sock.setsockopt(puremq.SNDHWM, 5)
        sock.setsockopt(puremq.RCVHWM, 5)
    front.bind("tcp://127.0.0.1:*")
    back.bind("tcp://127.0.0.1:*")
    proxy = _proxy(ctx, front, back)
    producer = ctx.socket(puremq.PUSH)
    producer.setsockopt(puremq.SNDHWM, 5)
    producer.setsockopt(puremq.SNDTIMEO, 500)
    producer.connect(front.last_endpoint.decode())
    consumer = ctx.socket(puremq.PULL)
    consumer.setsockopt(puremq.RCVHWM, 5)
    consumer.setsockopt(puremq.RCVBUF, 4096)
    consumer.connect(back.last_endpoint.decode())
    payload = b"p" * 100
    sent = 0
    try:
        with pytest.raises(puremq.Again):
            for _ in range(2_000_000):
                producer.send(b"%d:" % sent + payload)
                sent += 1
        assert 10 <= sent < 2_000_000
        consumer.setsockopt(puremq.RCVTIMEO, int(WAIT_S * 1000))
        for expected in range(sent):
            assert consumer.recv() == b"%d:" % expected + payload
        consumer.setsockopt(puremq.RCVTIMEO, 50)
        with pytest.raises(puremq.Again):
            consumer.recv()
    finally:
        producer.close(linger=0)
        consumer.close(linger=0)
        term_in_time(ctx)
        proxy.join()
    assert proxy.error is None, proxy.error


def test_after_a_steered_proxy_ends_its_sockets_work_for_their_owner() -> None:
    """proxy_steerable returns on TERMINATE; the sockets then send and receive as if the
    proxy had never run (what it wrote and read itself is handed back)."""
    ctx = puremq.Context()
    front = ctx.socket(puremq.PULL)
    back = ctx.socket(puremq.PUSH)
    control = ctx.socket(puremq.PAIR)
    front.bind("tcp://127.0.0.1:*")
    back.bind("tcp://127.0.0.1:*")
    control.bind("inproc://own-io-control")
    steer = ctx.socket(puremq.PAIR)
    steer.connect("inproc://own-io-control")
    producer = ctx.socket(puremq.PUSH)
    consumer = ctx.socket(puremq.PULL)
    for sock in (front, consumer):
        sock.setsockopt(puremq.RCVTIMEO, int(WAIT_S * 1000))
    producer.connect(front.last_endpoint.decode())
    consumer.connect(back.last_endpoint.decode())
    proxy = Background(puremq.proxy_steerable, front, back, None, control)
    try:
        for number in range(1000):
            producer.send(b"through %d" % number)
        for number in range(1000):
            assert consumer.recv() == b"through %d" % number
        steer.send(b"TERMINATE")
        proxy.join()
        assert proxy.error is None and proxy.result == 0
        # this thread owns them now
        back.send(b"after")
        assert consumer.recv() == b"after"
        producer.send(b"direct")
        assert front.poll(int(WAIT_S * 1000)) == puremq.POLLIN
        assert front.recv() == b"direct"
    finally:
        for sock in (front, back, control, steer, producer, consumer):
            sock.close(linger=0)
        term_in_time(ctx)


def test_monitored_queue_forwards_what_it_read_itself() -> None:
    """monitored_queue(PULL, PUSH, mon) with one producer over tcp: the messages the
    queue's thread parses out of what it read itself are forwarded and copied, in order."""
    ctx = puremq.Context()
    in_socket = ctx.socket(puremq.PULL)
    out_socket = ctx.socket(puremq.PUSH)
    mon = ctx.socket(puremq.PUSH)
    in_socket.bind("tcp://127.0.0.1:*")
    out_socket.bind("tcp://127.0.0.1:*")
    mon.bind("inproc://own-io-mon")

    def run() -> str:
        try:
            puremq.devices.monitored_queue(in_socket, out_socket, mon)
        except puremq.ContextTerminated:
            return "ETERM"
        return "returned"
    queue = Background(run, owned=[in_socket, out_socket, mon])
    producer = ctx.socket(puremq.PUSH)
    consumer = ctx.socket(puremq.PULL)
    tap = ctx.socket(puremq.PULL)
    for sock in (consumer, tap):
        sock.setsockopt(puremq.RCVTIMEO, int(WAIT_S * 1000))
    tap.connect("inproc://own-io-mon")
    consumer.connect(out_socket.last_endpoint.decode())
    producer.connect(in_socket.last_endpoint.decode())
    try:
        for number in range(2000):
            producer.send(b"message %d" % number)
        for number in range(2000):
            assert consumer.recv() == b"message %d" % number
            assert tap.recv_multipart() == [b"in", b"message %d" % number]
    finally:
        for sock in (producer, consumer, tap):
            sock.close(linger=0)
        term_in_time(ctx)
        queue.join()
    assert queue.error is None, queue.error
