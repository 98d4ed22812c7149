"""zmq.proxy: whole messages, both directions, capture, high-water marks, and its end.

Where a behaviour can be measured on libzmq too, the same scenario runs on pyzmq's
zmq.proxy and the two are compared.
"""

from __future__ import annotations

import os
import random
import threading
import uuid
from typing import Any, List, Tuple

import pytest
import zmq as pyzmq

import puremq

from ..conftest import endpoint_for
from .helpers import WAIT_S, Background, end_device

IMPLS = {"puremq": puremq, "pyzmq": pyzmq}


def _proxy_thread(zmq: Any, ctx: Any, front: Any, back: Any, capture: Any = None
                  ) -> Background:
    """zmq.proxy in a thread that owns the three sockets and closes them when it ends."""
    def run() -> str:
        try:
            zmq.proxy(front, back, capture)
        except zmq.ContextTerminated:
            return "ETERM"
        return "returned"
    owned = [s for s in (front, back, capture) if s is not None]
    return Background(run, owned=owned)


def _end(ctx: Any, proxy: Background, *socks: Any) -> None:
    end_device(ctx, proxy, *socks)
    assert proxy.result == "ETERM"


@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_request_reply_through_a_router_dealer_queue(transport: str, ipc_dir: str) -> None:
    """The classic queue device: REQ clients -> ROUTER | proxy | DEALER -> REP workers;
    every reply reaches the client that asked."""
    ctx = puremq.Context()
    front = ctx.socket(puremq.ROUTER)
    back = ctx.socket(puremq.DEALER)
    front.bind(endpoint_for(transport, ipc_dir))
    back.bind(endpoint_for(transport, ipc_dir))
    front_ep, back_ep = front.last_endpoint.decode(), back.last_endpoint.decode()
    proxy = _proxy_thread(puremq, ctx, front, back)
    workers = []
    for _ in range(2):
        rep = ctx.socket(puremq.REP)
        rep.rcvtimeo = int(WAIT_S * 1000)
        rep.connect(back_ep)
        workers.append(rep)
    clients = []
    for _ in range(3):
        req = ctx.socket(puremq.REQ)
        req.rcvtimeo = int(WAIT_S * 1000)
        req.connect(front_ep)
        clients.append(req)

    stop = threading.Event()

    def serve(rep: Any) -> None:
        while not stop.is_set():
            if rep.poll(50):
                parts = rep.recv_multipart()
                rep.send_multipart([b"re:" + parts[0]] + parts[1:])
    servers = [Background(serve, rep, owned=[rep]) for rep in workers]
    try:
        for round_ in range(10):
            for number, req in enumerate(clients):
                req.send_multipart([b"%d-%d" % (number, round_), b"tail"])
            for number, req in enumerate(clients):
                assert req.recv_multipart() == [b"re:%d-%d" % (number, round_), b"tail"]
    finally:
        stop.set()
        for server in servers:
            server.join()
        _end(ctx, proxy, *clients)


def test_multipart_messages_are_never_split() -> None:
    """Three producers send multipart messages of 1 to 5 parts through the proxy at once:
    every message arrives whole, and each producer's messages in order."""
    ctx = puremq.Context()
    front = ctx.socket(puremq.PULL)
    back = ctx.socket(puremq.PUSH)
    front.bind("tcp://127.0.0.1:*")
    back.bind("tcp://127.0.0.1:*")
    front_ep, back_ep = front.last_endpoint.decode(), back.last_endpoint.decode()
    proxy = _proxy_thread(puremq, ctx, front, back)
    sink = ctx.socket(puremq.PULL)
    sink.rcvtimeo = int(WAIT_S * 1000)
    sink.connect(back_ep)
    per_producer = 300
    rng = random.Random(7)
    plans = {p: [rng.randint(1, 5) for _ in range(per_producer)] for p in range(3)}

    def produce(producer: int) -> None:
        pctx = puremq.Context()
        push = pctx.socket(puremq.PUSH)
        push.connect(front_ep)
        for seq, parts in enumerate(plans[producer]):
            push.send_multipart([b"%d:%d:%d:%d" % (producer, seq, parts, i)
                                 for i in range(parts)])
        push.close(linger=-1)
        pctx.term()
    producers = [Background(produce, p) for p in plans]
    try:
        next_seq = {p: 0 for p in plans}
        for _ in range(3 * per_producer):
            msg = sink.recv_multipart()
            producer, seq, parts, _ = (int(x) for x in msg[0].split(b":"))
            assert seq == next_seq[producer], "a producer's messages came out of order"
            next_seq[producer] += 1
            assert len(msg) == parts == plans[producer][seq]
            assert msg == [b"%d:%d:%d:%d" % (producer, seq, parts, i) for i in range(parts)]
        for producer in producers:
            assert producer.join().error is None
    finally:
        _end(ctx, proxy, sink)


@pytest.mark.parametrize("impl", IMPLS)
def test_capture_gets_each_message_whole_in_both_directions(impl: str) -> None:
    """Requests (frontend -> backend) and replies (backend -> frontend) are both copied to
    the capture socket, each as the whole message that crossed -- as with libzmq."""
    zmq = IMPLS[impl]
    ctx = zmq.Context()
    name = uuid.uuid4().hex
    front = ctx.socket(zmq.ROUTER)
    back = ctx.socket(zmq.DEALER)
    capture = ctx.socket(zmq.PUSH)
    front.bind(f"inproc://{name}-f")
    back.bind(f"inproc://{name}-b")
    capture.bind(f"inproc://{name}-c")
    tap = ctx.socket(zmq.PULL)
    tap.rcvtimeo = int(WAIT_S * 1000)
    tap.connect(f"inproc://{name}-c")
    client = ctx.socket(zmq.DEALER)
    client.setsockopt(zmq.ROUTING_ID, b"client")
    client.rcvtimeo = int(WAIT_S * 1000)
    client.connect(f"inproc://{name}-f")
    worker = ctx.socket(zmq.DEALER)
    worker.rcvtimeo = int(WAIT_S * 1000)
    worker.connect(f"inproc://{name}-b")
    proxy = _proxy_thread(zmq, ctx, front, back, capture)
    try:
        client.send_multipart([b"q1", b"q2"])
        request = worker.recv_multipart()
        assert request == [b"client", b"q1", b"q2"]
        worker.send_multipart([b"client", b"r1", b"", b"r3"])
        assert client.recv_multipart() == [b"r1", b"", b"r3"]
        assert tap.recv_multipart() == [b"client", b"q1", b"q2"]
        assert tap.recv_multipart() == [b"client", b"r1", b"", b"r3"]
        assert tap.poll(50) == 0
    finally:
        _end(ctx, proxy, tap, client, worker)


def _accepted_until_full(zmq: Any, reverse: bool, hwm: int) -> Tuple[int, List[bytes]]:
    """Fill the path producer -> proxy -> consumer (inproc, every HWM = ``hwm``) while the
    consumer reads nothing; returns how many messages the producer could queue, and what
    the consumer then reads."""
    ctx = zmq.Context()
    name = uuid.uuid4().hex
    pull = ctx.socket(zmq.PULL)
    push = ctx.socket(zmq.PUSH)
    pull.setsockopt(zmq.RCVHWM, hwm)
    push.setsockopt(zmq.SNDHWM, hwm)
    pull.bind(f"inproc://{name}-in")
    push.bind(f"inproc://{name}-out")
    # reverse: the same path, but through the proxy's backend -> frontend direction
    front, back = (push, pull) if reverse else (pull, push)
    proxy = _proxy_thread(zmq, ctx, front, back)
    producer = ctx.socket(zmq.PUSH)
    producer.setsockopt(zmq.SNDHWM, hwm)
    producer.connect(f"inproc://{name}-in")
    consumer = ctx.socket(zmq.PULL)
    consumer.setsockopt(zmq.RCVHWM, hwm)
    consumer.connect(f"inproc://{name}-out")
    accepted = 0
    try:
        # Send while the producer is writable.  Up to what the path surely holds (see the
        # test) the proxy must make room, however slowly the machine runs: wait long for
        # it; past that, no room within 300 ms means the path is full.
        while accepted <= 100 * hwm:
            patience = WAIT_S * 1000 if accepted < 3 * hwm + 2 else 300
            if not producer.poll(patience, zmq.POLLOUT):
                break
            producer.send_multipart([b"%d" % accepted, b"x" * 10], zmq.DONTWAIT)
            accepted += 1
        consumer.setsockopt(zmq.RCVTIMEO, 1000)
        received = []
        while len(received) < accepted:
            received.append(consumer.recv_multipart()[0])
        assert consumer.poll(50) == 0
        return accepted, received
    finally:
        _end(ctx, proxy, producer, consumer)


@pytest.mark.parametrize("reverse", [False, True], ids=["front-to-back", "back-to-front"])
def test_high_water_marks_hold_on_both_sides(reverse: bool) -> None:
    """With the consumer stalled, the producer can queue no more than the queues on the
    path hold (producer->proxy and proxy->consumer: SNDHWM + RCVHWM each, libzmq's inproc
    capacity) plus the one message the proxy may hold back; and once the consumer reads,
    every message arrives, in order.

    libzmq's proxy, in the same set-up, fills both queues exactly (4 * hwm).  puremq may
    stop a little earlier: a producer stopped at its mark is woken when its queue is down
    to the low-water mark (half), so if the proxy had to stop taking from it just above
    that, the producer's queue stays between half-full and full."""
    hwm = 10
    accepted, received = _accepted_until_full(puremq, reverse, hwm)
    reference, _ = _accepted_until_full(pyzmq, reverse, hwm)
    capacity = 2 * hwm  # of each inproc queue
    moved = capacity + 1  # the proxy->consumer queue, full, and the message held back
    assert moved + (capacity + 1) // 2 + 1 <= accepted <= moved + capacity
    assert reference == 4 * hwm
    assert received == [b"%d" % n for n in range(accepted)]


def test_back_pressure_over_tcp() -> None:
    """Over tcp the kernel buffers too, but the proxy still stops reading when the consumer
    stalls: the producer blocks (EAGAIN) after a bounded number of messages, and nothing
    is lost."""
    ctx = puremq.Context()
    front = ctx.socket(puremq.PULL)
    back = ctx.socket(puremq.PUSH)
    for sock in (front, back):
        sock.setsockopt(puremq.SNDHWM, 5)
        sock.setsockopt(puremq.RCVHWM, 5)
    front.bind("tcp://127.0.0.1:*")
    back.bind("tcp://127.0.0.1:*")
    front_ep, back_ep = front.last_endpoint.decode(), back.last_endpoint.decode()
    proxy = _proxy_thread(puremq, ctx, front, back)
    producer = ctx.socket(puremq.PUSH)
    producer.setsockopt(puremq.SNDHWM, 5)
    producer.setsockopt(puremq.SNDTIMEO, 500)
    producer.connect(front_ep)
    consumer = ctx.socket(puremq.PULL)
    consumer.setsockopt(puremq.RCVHWM, 5)
    consumer.setsockopt(puremq.RCVBUF, 4096)
    consumer.connect(back_ep)
    payload = b"p" * 8192
    sent = 0
    try:
        with pytest.raises(puremq.Again):
            for _ in range(100_000):
                producer.send_multipart([b"%d" % sent, payload])
                sent += 1
        assert 10 <= sent < 100_000
        consumer.setsockopt(puremq.RCVTIMEO, int(WAIT_S * 1000))
        for expected in range(sent):
            assert consumer.recv_multipart() == [b"%d" % expected, payload]
    finally:
        _end(ctx, proxy, producer, consumer)


def test_forwarder_carries_subscriptions_upstream() -> None:
    """XSUB | proxy | XPUB: a subscriber's subscription crosses the proxy to the publisher
    side, so only what it asked for comes through."""
    ctx = puremq.Context()
    xsub = ctx.socket(puremq.XSUB)
    xpub = ctx.socket(puremq.XPUB)
    xsub.bind("tcp://127.0.0.1:*")
    xpub.bind("tcp://127.0.0.1:*")
    pub_ep, sub_ep = xsub.last_endpoint.decode(), xpub.last_endpoint.decode()
    proxy = _proxy_thread(puremq, ctx, xsub, xpub)
    pub = ctx.socket(puremq.PUB)
    pub.connect(pub_ep)
    sub = ctx.socket(puremq.SUB)
    sub.connect(sub_ep)
    sub.subscribe(b"weather")
    try:
        for _ in range(int(WAIT_S / 0.02)):
            pub.send_multipart([b"weather", b"warm-up"])
            if sub.poll(20):
                break
        else:
            pytest.fail("the subscription never crossed the proxy")
        while sub.poll(100):
            sub.recv_multipart()
        pub.send_multipart([b"sports", b"2-1"])
        pub.send_multipart([b"weather", b"sunny"])
        sub.setsockopt(puremq.RCVTIMEO, int(WAIT_S * 1000))
        assert sub.recv_multipart() == [b"weather", b"sunny"]
        assert sub.poll(100) == 0
    finally:
        _end(ctx, proxy, pub, sub)


def test_frontend_may_be_the_backend() -> None:
    """proxy(s, s): what the socket receives it sends back out (a ROUTER echoes to the
    sender: the routing id it received is the one it routes by)."""
    ctx = puremq.Context()
    router = ctx.socket(puremq.ROUTER)
    router.bind("tcp://127.0.0.1:*")
    endpoint = router.last_endpoint.decode()
    proxy = _proxy_thread(puremq, ctx, router, router)
    dealers = [ctx.socket(puremq.DEALER) for _ in range(2)]
    try:
        for number, dealer in enumerate(dealers):
            dealer.rcvtimeo = int(WAIT_S * 1000)
            dealer.connect(endpoint)
            dealer.send_multipart([b"echo", b"%d" % number])
        for number, dealer in enumerate(dealers):
            assert dealer.recv_multipart() == [b"echo", b"%d" % number]
    finally:
        _end(ctx, proxy, *dealers)


@pytest.mark.parametrize("impl", IMPLS)
def test_context_termination_ends_the_proxy(impl: str) -> None:
    """The documented way to stop zmq.proxy: terminate the context; the proxy raises
    ContextTerminated (ETERM), with pyzmq as with puremq."""
    zmq = IMPLS[impl]
    ctx = zmq.Context()
    front = ctx.socket(zmq.PULL)
    back = ctx.socket(zmq.PUSH)
    front.bind("tcp://127.0.0.1:*")
    back.bind("tcp://127.0.0.1:*")
    proxy = _proxy_thread(zmq, ctx, front, back)
    assert proxy.alive
    _end(ctx, proxy)


@pytest.mark.parametrize("device_type", ["QUEUE", "FORWARDER", "STREAMER"])
def test_device_is_proxy_whatever_the_type(device_type: str) -> None:
    """zmq.device(type, frontend, backend) is pyzmq's deprecated name for proxy: the type
    is not looked at."""
    ctx = puremq.Context()
    name = uuid.uuid4().hex
    front = ctx.socket(puremq.PULL)
    back = ctx.socket(puremq.PUSH)
    front.bind(f"inproc://{name}-f")
    back.bind(f"inproc://{name}-b")

    def run() -> str:
        try:
            puremq.device(getattr(puremq, device_type), front, back)
        except puremq.ContextTerminated:
            return "ETERM"
        return "returned"
    proxy = Background(run, owned=[front, back])
    push = ctx.socket(puremq.PUSH)
    push.connect(f"inproc://{name}-f")
    pull = ctx.socket(puremq.PULL)
    pull.rcvtimeo = int(WAIT_S * 1000)
    pull.connect(f"inproc://{name}-b")
    push.send_multipart([b"a", b"b"])
    assert pull.recv_multipart() == [b"a", b"b"]
    _end(ctx, proxy, push, pull)


def test_closed_or_foreign_sockets_are_refused(ctx: puremq.Context) -> None:
    """A closed socket is ENOTSOCK; something that is not a puremq socket is a TypeError."""
    a = ctx.socket(puremq.PULL)
    b = ctx.socket(puremq.PUSH)
    b.close()
    with pytest.raises(puremq.ZMQError) as info:
        puremq.proxy(a, b)
    assert info.value.errno == puremq.ENOTSOCK
    with pytest.raises(TypeError):
        puremq.proxy(a, object())
    a.close()


def test_a_libzmq_client_through_a_puremq_proxy_to_a_libzmq_worker(zctx: Any) -> None:
    """Interop: pyzmq REQ -> tcp -> puremq ROUTER | proxy | DEALER -> tcp -> pyzmq REP, with
    multipart requests and replies, empty frames included."""
    ctx = puremq.Context()
    front = ctx.socket(puremq.ROUTER)
    back = ctx.socket(puremq.DEALER)
    front.bind("tcp://127.0.0.1:*")
    back.bind("tcp://127.0.0.1:*")
    front_ep, back_ep = front.last_endpoint.decode(), back.last_endpoint.decode()
    proxy = _proxy_thread(puremq, ctx, front, back)
    worker = zctx.socket(pyzmq.REP)
    worker.connect(back_ep)

    def serve(count: int) -> None:
        for _ in range(count):
            request = worker.recv_multipart()
            worker.send_multipart([b"done"] + request[::-1])
    server = Background(serve, 30, owned=[worker])
    client = zctx.socket(pyzmq.REQ)
    client.rcvtimeo = int(WAIT_S * 1000)
    client.connect(front_ep)
    try:
        for n in range(30):
            request = [b"job-%d" % n, b"", os.urandom(n * 100)]
            client.send_multipart(request)
            assert client.recv_multipart() == [b"done"] + request[::-1]
        assert server.join().error is None
    finally:
        client.close(linger=0)
        _end(ctx, proxy)
