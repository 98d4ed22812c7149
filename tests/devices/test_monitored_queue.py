"""monitored_queue: pyzmq's semantics (identity swap for ROUTER-ROUTER, a prefix frame on
every copy), compared with pyzmq's own monitored_queue where both can run the scenario."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

import pytest
import zmq as pyzmq
import zmq.devices as pyzmq_devices

import puremq
import puremq.devices as devices

from .helpers import WAIT_S, Background, term_in_time

IMPLS = {"puremq": (puremq, devices), "pyzmq": (pyzmq, pyzmq_devices)}


def _queue_thread(zmq: Any, module: Any, ins: Any, outs: Any, mons: Any,
                  *prefixes: bytes) -> Background:
    def run() -> str:
        try:
            module.monitored_queue(ins, outs, mons, *prefixes)
        except zmq.ContextTerminated:
            return "ETERM"
        return "returned"
    return Background(run, owned=[ins, outs, mons])


def _router_router(impl: str) -> Dict[str, List[List[bytes]]]:
    """A ROUTER-ROUTER queue: clients address engines by routing id, and back."""
    zmq, module = IMPLS[impl]
    ctx = zmq.Context()
    name = uuid.uuid4().hex
    ins, outs, mons = ctx.socket(zmq.ROUTER), ctx.socket(zmq.ROUTER), ctx.socket(zmq.PUSH)
    for sock, side in ((ins, "in"), (outs, "out"), (mons, "mon")):
        sock.bind(f"inproc://{name}-{side}")
    queue = _queue_thread(zmq, module, ins, outs, mons)
    peers = {}
    for peer, side, identity in (("client", "in", b"client-1"),
                                 ("engine", "out", b"engine-1")):
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.ROUTING_ID, identity)
        sock.setsockopt(zmq.RCVTIMEO, int(WAIT_S * 1000))
        sock.connect(f"inproc://{name}-{side}")
        peers[peer] = sock
    tap = ctx.socket(zmq.PULL)
    tap.setsockopt(zmq.RCVTIMEO, int(WAIT_S * 1000))
    tap.connect(f"inproc://{name}-mon")
    seen: Dict[str, List[List[bytes]]] = {"engine": [], "client": [], "monitor": []}
    try:
        peers["client"].send_multipart([b"engine-1", b"task", b"args"])
        seen["engine"].append(peers["engine"].recv_multipart())
        peers["engine"].send_multipart([b"client-1", b"result"])
        seen["client"].append(peers["client"].recv_multipart())
        seen["monitor"] = [tap.recv_multipart() for _ in range(2)]
        return seen
    finally:
        for sock in list(peers.values()) + [tap]:
            sock.close(linger=0)
        term_in_time(ctx)
        assert queue.join().result == "ETERM"


def test_router_router_queue_swaps_the_routing_ids_like_pyzmq() -> None:
    """With ROUTER on both sides the first two frames are swapped: the engine sees the
    client's id first (so it can reply to it), the client the engine's; the monitor gets
    the message as it was sent on, after the prefix."""
    ours = _router_router("puremq")
    assert ours == _router_router("pyzmq")
    assert ours["engine"] == [[b"client-1", b"task", b"args"]]
    assert ours["client"] == [[b"engine-1", b"result"]]
    assert ours["monitor"] == [[b"in", b"engine-1", b"client-1", b"task", b"args"],
                               [b"out", b"client-1", b"engine-1", b"result"]]


@pytest.mark.parametrize("impl", IMPLS)
def test_every_copy_carries_its_prefix(impl: str) -> None:
    """ROUTER | queue | DEALER with REQ clients and REP workers, custom prefixes: each
    request and each reply appears once on the monitor, after its side's prefix."""
    zmq, module = IMPLS[impl]
    ctx = zmq.Context()
    name = uuid.uuid4().hex
    ins, outs, mons = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER), ctx.socket(zmq.PUSH)
    for sock, side in ((ins, "in"), (outs, "out"), (mons, "mon")):
        sock.bind(f"inproc://{name}-{side}")
    queue = _queue_thread(zmq, module, ins, outs, mons, b"request:", b"reply:")
    req, rep, tap = ctx.socket(zmq.REQ), ctx.socket(zmq.REP), ctx.socket(zmq.PULL)
    for sock, side in ((req, "in"), (rep, "out"), (tap, "mon")):
        sock.setsockopt(zmq.RCVTIMEO, int(WAIT_S * 1000))
        sock.connect(f"inproc://{name}-{side}")
    try:
        for n in range(20):
            req.send_multipart([b"q%d" % n, b""])
            assert rep.recv_multipart() == [b"q%d" % n, b""]
            rep.send(b"a%d" % n)
            assert req.recv() == b"a%d" % n
        copies = [tap.recv_multipart() for _ in range(40)]
        assert tap.poll(50) == 0
        for n in range(20):
            request, reply = copies[2 * n], copies[2 * n + 1]
            # [prefix, REQ's routing id, REQ's empty delimiter, body...]
            assert request[0] == b"request:" and request[2:] == [b"", b"q%d" % n, b""]
            assert reply[0] == b"reply:" and reply[2:] == [b"", b"a%d" % n]
            assert request[1] == reply[1]
    finally:
        for sock in (req, rep, tap):
            sock.close(linger=0)
        term_in_time(ctx)
        assert queue.join().result == "ETERM"


@pytest.mark.pyzmq_cython_reference
@pytest.mark.parametrize("impl", IMPLS)
def test_prefixes_must_be_bytes(impl: str) -> None:
    zmq, module = IMPLS[impl]
    ctx = zmq.Context()
    socks = [ctx.socket(t) for t in (zmq.ROUTER, zmq.DEALER, zmq.PUB)]
    try:
        with pytest.raises(TypeError):
            module.monitored_queue(*socks, "in", "out")
    finally:
        for sock in socks:
            sock.close(linger=0)
        ctx.term()


def test_a_stalled_side_stops_the_queue_and_only_forwarded_messages_are_copied() -> None:
    """PULL | queue | PUSH with a consumer that reads nothing: the producer is held back
    by the high-water marks; the monitor has a copy of exactly what was handed on; when the
    consumer reads, everything arrives in order."""
    ctx = puremq.Context()
    name = uuid.uuid4().hex
    ins, outs, mons = ctx.socket(puremq.PULL), ctx.socket(puremq.PUSH), ctx.socket(puremq.PUSH)
    for sock in (ins, outs):
        sock.setsockopt(puremq.SNDHWM, 5)
        sock.setsockopt(puremq.RCVHWM, 5)
    for sock, side in ((ins, "in"), (outs, "out"), (mons, "mon")):
        sock.bind(f"inproc://{name}-{side}")
    queue = _queue_thread(puremq, devices, ins, outs, mons)
    producer, consumer, tap = (ctx.socket(t) for t in (puremq.PUSH, puremq.PULL, puremq.PULL))
    producer.setsockopt(puremq.SNDHWM, 5)
    consumer.setsockopt(puremq.RCVHWM, 5)
    for sock, side in ((producer, "in"), (consumer, "out"), (tap, "mon")):
        sock.connect(f"inproc://{name}-{side}")
    try:
        accepted = 0
        while accepted < 1000 and producer.poll(300, puremq.POLLOUT):
            producer.send_multipart([b"%d" % accepted, b"body"], puremq.DONTWAIT)
            accepted += 1
        assert 10 <= accepted <= 21
        copies = []
        while tap.poll(100):
            copies.append(tap.recv_multipart())
        assert copies == [[b"in", b"%d" % n, b"body"]
                          for n in range(len(copies))]
        assert 10 <= len(copies) <= accepted
        consumer.setsockopt(puremq.RCVTIMEO, int(WAIT_S * 1000))
        assert [consumer.recv_multipart()[0] for _ in range(accepted)] == \
            [b"%d" % n for n in range(accepted)]
    finally:
        for sock in (producer, consumer, tap):
            sock.close(linger=0)
        term_in_time(ctx)
        assert queue.join().result == "ETERM"


def test_between_pyzmq_clients_and_pyzmq_engines(zctx: Any) -> None:
    """Interop: a puremq ThreadMonitoredQueue (ROUTER | DEALER, PUB monitor) between pyzmq
    DEALER clients and pyzmq DEALER engines over tcp; a pyzmq SUB follows the monitor."""
    own = puremq.Context()
    queue = devices.ThreadMonitoredQueue(puremq.ROUTER, puremq.DEALER, puremq.PUB,
                                         b"intask", b"outtask")
    queue.context_factory = lambda: own
    front = queue.bind_in_to_random_port("tcp://127.0.0.1")
    back = queue.bind_out_to_random_port("tcp://127.0.0.1")
    mon = queue.bind_mon_to_random_port("tcp://127.0.0.1")
    queue.start()
    socks = []

    def make(kind: int, port: int, identity: bytes = b"") -> Any:
        sock = zctx.socket(kind)
        sock.setsockopt(pyzmq.RCVTIMEO, int(WAIT_S * 1000))
        if identity:
            sock.setsockopt(pyzmq.ROUTING_ID, identity)
        sock.connect(f"tcp://127.0.0.1:{port}")
        socks.append(sock)
        return sock
    sub = make(pyzmq.SUB, mon)
    sub.setsockopt(pyzmq.SUBSCRIBE, b"")
    engines = [make(pyzmq.DEALER, back) for _ in range(2)]
    clients = [make(pyzmq.DEALER, front, b"c%d" % n) for n in range(2)]
    try:
        # the SUB's subscription and both engines' connections must be in place first
        probe = clients[0]
        for _ in range(int(WAIT_S / 0.05)):
            probe.send_multipart([b"probe"])
            if sub.poll(50):
                break
        for engine in engines:
            while engine.poll(100):
                engine.recv_multipart()
        while sub.poll(100):
            sub.recv_multipart()
        for n, client in enumerate(clients):
            for k in range(5):
                client.send_multipart([b"task", b"%d-%d" % (n, k)])
        handled = 0
        poller = pyzmq.Poller()
        for engine in engines:
            poller.register(engine, pyzmq.POLLIN)
        while handled < 10:
            ready = dict(poller.poll(int(WAIT_S * 1000)))
            assert ready, "tasks missing"
            for engine in ready:
                client_id, _, body = engine.recv_multipart()
                engine.send_multipart([client_id, b"done", body])
                handled += 1
        for n, client in enumerate(clients):
            replies = sorted(client.recv_multipart()[1] for _ in range(5))
            assert replies == sorted(b"%d-%d" % (n, k) for k in range(5))
        copies = [sub.recv_multipart() for _ in range(20)]
        assert sorted(c[0] for c in copies) == [b"intask"] * 10 + [b"outtask"] * 10
        assert all(c[1] in (b"c0", b"c1") for c in copies)
    finally:
        for sock in socks:
            sock.close(linger=0)
        term_in_time(own)
        queue.join(WAIT_S)
