"""The proxy doing its sockets' I/O in its own thread.

A source socket whose only peer is a tcp/ipc connection is read by the proxy's thread
(plain messages parsed straight out of the bytes read), and the destinations' connections
are written by it after each burst.  These tests hold that to the proxy's contract: every
message, whole and in order, whatever mix of sizes and parts; high-water marks still stop
the producer; and when the proxy ends, the sockets work as before for their owner.
"""

from __future__ import annotations

import random
import socket
import time
from typing import Any, Dict, List

import pytest
import zmq as pyzmq

import puremq
import puremq.devices

from ..conftest import endpoint_for
from ..hostile._wire import RawPeer, command, last_endpoint, message
from .helpers import WAIT_S, Background, end_device, term_in_time

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


def _send_until_again(producer: Any, payload: bytes) -> int:
    """Send numbered messages until the producer gets EAGAIN; how many it sent."""
    sent = 0
    with pytest.raises(puremq.Again):
        for _ in range(2_000_000):
            producer.send(b"%d:" % sent + payload)
            sent += 1
    return sent


def _expect_in_order(consumer: Any, sent: int, payload: bytes) -> None:
    consumer.setsockopt(puremq.RCVTIMEO, int(WAIT_S * 1000))
    for expected in range(sent):
        assert consumer.recv() == b"%d:" % expected + payload


def _proxy(ctx: Any, front: Any, back: Any) -> Background:
    def run() -> str:
        try:
            puremq.proxy(front, back)
        except puremq.ContextTerminated:
            return "ETERM"
        return "returned"
    return Background(run, owned=[front, back])


def _options(sock: Any, options: Dict[str, int]) -> Any:
    for name, value in options.items():
        sock.setsockopt(getattr(puremq, name), value)
    return sock


def _chain(ctx: Any, front: Dict[str, int], back: Dict[str, int], producer: Dict[str, int],
           consumer: Dict[str, int]) -> "tuple[Background, Any, Any]":
    """producer PUSH -> PULL front | proxy | back PUSH -> PULL consumer over tcp, each
    socket with the options given (by name); the proxy runs in the background."""
    front_sock = _options(ctx.socket(puremq.PULL), front)
    back_sock = _options(ctx.socket(puremq.PUSH), back)
    front_sock.bind("tcp://127.0.0.1:*")
    back_sock.bind("tcp://127.0.0.1:*")
    proxy = _proxy(ctx, front_sock, back_sock)
    producer_sock = _options(ctx.socket(puremq.PUSH), producer)
    consumer_sock = _options(ctx.socket(puremq.PULL), consumer)
    consumer_sock.connect(back_sock.last_endpoint.decode())
    producer_sock.connect(front_sock.last_endpoint.decode())
    return proxy, producer_sock, consumer_sock


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
        end_device(ctx, proxy, producer, consumer)


def test_single_part_back_pressure_stops_the_producer() -> None:
    """With the consumer stalled, the proxy stops reading its source: the producer's
    sends fail with EAGAIN after a bounded number of messages, and nothing is lost."""
    ctx = puremq.Context()
    proxy, producer, consumer = _chain(
        ctx, front={"SNDHWM": 5, "RCVHWM": 5}, back={"SNDHWM": 5, "RCVHWM": 5},
        producer={"SNDHWM": 5, "SNDTIMEO": 500}, consumer={"RCVHWM": 5, "RCVBUF": 4096})
    payload = b"p" * 100
    try:
        sent = _send_until_again(producer, payload)
        assert 10 <= sent < 2_000_000
        _expect_in_order(consumer, sent, payload)
        consumer.setsockopt(puremq.RCVTIMEO, 50)
        with pytest.raises(puremq.Again):
            consumer.recv()
    finally:
        end_device(ctx, proxy, producer, consumer)


def test_while_the_backend_is_full_the_frontend_queues_up_to_its_rcvhwm() -> None:
    """While the backend cannot take more, the frontend's messages SHALL queue up to its
    RCVHWM, as with libzmq's proxy (not only what the proxy's thread last read): the
    producer gets that far before EAGAIN.  Everything else here buffers little."""
    ctx = puremq.Context()
    proxy, producer, consumer = _chain(
        ctx, front={"RCVHWM": 1000, "RCVBUF": 4096}, back={"SNDHWM": 10, "SNDBUF": 4096},
        producer={"SNDHWM": 10, "SNDBUF": 4096, "SNDTIMEO": 1000},
        consumer={"RCVHWM": 10, "RCVBUF": 4096})
    try:
        sent = _send_until_again(producer, b"x" * 100)
        assert 1000 <= sent < 2_000_000
        _expect_in_order(consumer, sent, b"x" * 100)
    finally:
        end_device(ctx, proxy, producer, consumer)


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
        end_device(ctx, queue, producer, consumer, tap)


def test_framed_messages_wait_for_what_is_queued_before_them() -> None:
    """A connection SHALL refuse messages handed over already framed while messages
    queued before them have not been written, so the peer gets them in order."""
    ctx = puremq.Context()
    push = ctx.socket(puremq.PUSH)
    push.bind("tcp://127.0.0.1:*")
    peer = RawPeer.connect(last_endpoint(push))
    engine = push._engine
    try:
        peer.handshake(b"PULL")
        push.send(b"first")
        assert peer.read_message() == [b"first"]
        stream = engine.plain_forward_stream()
        assert stream is not None
        engine.owner_flushes = True  # as in the proxy: queued, noted, not written yet
        push.send(b"queued")
        assert engine.plain_forward_stream() is None
        assert not stream.forward_framed(message(b"framed"))
        engine.flush_owned()  # (or the I/O thread writes it, if it holds the connection)
        assert peer.read_message() == [b"queued"]
        assert engine.plain_forward_stream() is stream
        # refused only while the I/O thread holds the connection (a moment, at most)
        for _attempt in range(1000):
            if stream.forward_framed(message(b"framed") + message(b"twice")):
                break
            time.sleep(0.001)
        else:
            raise AssertionError("the connection stayed busy")
        assert [peer.read_message() for _ in range(2)] == [[b"framed"], [b"twice"]]
    finally:
        engine.owner_flushes = False
        peer.close()
        push.close(linger=0)
        term_in_time(ctx)


def test_every_message_goes_out_whole_whatever_the_reads_cut() -> None:
    """A raw producer writes single-part, long and multipart messages and PINGs in pieces
    of any size; the raw consumer behind the proxy SHALL read every message whole and in
    order: the bytes a connection sends for them, nothing cut, nothing in between."""
    rng = random.Random(11)
    ctx = puremq.Context()
    front = ctx.socket(puremq.PULL)
    back = ctx.socket(puremq.PUSH)
    front.bind("tcp://127.0.0.1:*")
    back.bind("tcp://127.0.0.1:*")
    proxy = _proxy(ctx, front, back)
    producer = RawPeer.connect(last_endpoint(front))
    consumer = RawPeer.connect(last_endpoint(back))
    producer.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    messages = _mixed_messages(4000, seed=5)
    stream = b"".join(message(*msg) + (command(b"PING", b"\x00\x00")
                                       if rng.random() < 0.02 else b"")
                      for msg in messages)
    try:
        consumer.handshake(b"PULL")
        producer.handshake(b"PUSH")
        def write() -> None:
            pos = 0
            while pos < len(stream):
                size = rng.choice((1, 3, 100, 1500, 9000, 70_000))
                producer.send(stream[pos:pos + size])
                pos += size
        writer = Background(write)
        # what a connection sends for these messages, and nothing else (the proxy has no
        # commands of its own to send here)
        expected = b"".join(message(*msg) for msg in messages)
        received = bytearray()
        consumer.sock.settimeout(WAIT_S)
        while len(received) < len(expected):
            chunk = consumer.sock.recv(1 << 20)
            assert chunk, "the proxy closed the connection"
            received += chunk
        assert received == expected
        writer.join()
        assert writer.error is None, writer.error
    finally:
        producer.close()
        consumer.close()
        end_device(ctx, proxy)
