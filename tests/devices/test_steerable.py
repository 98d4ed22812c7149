"""zmq.proxy_steerable: PAUSE, RESUME, TERMINATE and STATISTICS on the control socket.

The reference is zmq_proxy_steerable(3): PAUSE stops the transfer, RESUME restarts it,
TERMINATE makes the function return 0, STATISTICS is answered with eight u64 parts
(frontend received count/bytes, frontend sent count/bytes, then the backend's; "Message
totals count each part in a multipart message individually"); a REP control socket gets
an empty reply to the other commands, other types get none.

libzmq 4.3.5 itself (pyzmq's) got two of those wrong, fixed right after its release
(libzmq PR 4600): PAUSE and RESUME are swapped, and every command is answered whatever the
control socket's type.  The comparisons with it below are on what it does right: the
replies a REP control socket gets, and the statistics.
"""

from __future__ import annotations

import struct
import uuid
from typing import Any, List

import pytest
import zmq as pyzmq

import puremq

from .conftest import PYZMQ_CFFI
from .helpers import WAIT_S, Background, term_in_time

IMPLS = {"puremq": puremq, "pyzmq": pyzmq}


class Steered:
    """A PULL | proxy_steerable | PUSH pipeline over inproc, with a control socket of
    ``control_type`` bound in the proxy and its peer here."""

    def __init__(self, zmq: Any, control_type: int, peer_type: int,
                 front_type: int = 0, back_type: int = 0) -> None:
        self.zmq = zmq
        self.ctx = ctx = zmq.Context()
        name = uuid.uuid4().hex
        front = ctx.socket(front_type or zmq.PULL)
        back = ctx.socket(back_type or zmq.PUSH)
        control = ctx.socket(control_type)
        front.bind(f"inproc://{name}-f")
        back.bind(f"inproc://{name}-b")
        control.bind(f"inproc://{name}-c")

        def run() -> Any:
            return zmq.proxy_steerable(front, back, None, control)
        # the reply to TERMINATE is still on its way when the proxy returns: linger
        self.proxy = Background(run, owned=[front, back, control], linger=1000)
        self.source = ctx.socket(zmq.PUSH if not front_type else zmq.DEALER)
        self.source.connect(f"inproc://{name}-f")
        self.sink = ctx.socket(zmq.PULL if not back_type else zmq.DEALER)
        self.sink.connect(f"inproc://{name}-b")
        self.control = ctx.socket(peer_type)
        self.control.connect(f"inproc://{name}-c")
        for sock in (self.source, self.sink, self.control):
            sock.setsockopt(zmq.RCVTIMEO, int(WAIT_S * 1000))
            sock.setsockopt(zmq.LINGER, 0)

    def command(self, text: bytes) -> None:
        self.control.send(text)

    def statistics(self) -> List[int]:
        self.control.send(b"STATISTICS")
        frames = self.control.recv_multipart()
        assert [len(f) for f in frames] == [8] * 8
        return [struct.unpack("=Q", f)[0] for f in frames]

    def terminate(self) -> Any:
        """TERMINATE; the proxy must return 0 (pyzmq's cffi backend returns None)."""
        self.control.send(b"TERMINATE")
        if self.control.type == self.zmq.REQ:
            assert self.control.recv_multipart() == [b""]
        self.proxy.join()
        assert self.proxy.error is None, self.proxy.error
        if self.zmq is pyzmq and PYZMQ_CFFI and self.proxy.result is None:
            return 0
        return self.proxy.result

    def close(self) -> None:
        for sock in (self.source, self.sink, self.control):
            sock.close(linger=0)
        if self.proxy.alive:
            term_in_time(self.ctx)
            self.proxy.join()
        else:
            term_in_time(self.ctx)


def test_pause_holds_messages_until_resume() -> None:
    """PAUSE: "the proxy will cease transferring messages between its endpoints"; RESUME:
    "the proxy will resume transferring"; nothing is lost or reordered meanwhile."""
    steered = Steered(puremq, puremq.REP, puremq.REQ)
    try:
        steered.source.send(b"before")
        assert steered.sink.recv() == b"before"
        steered.command(b"PAUSE")
        assert steered.control.recv_multipart() == [b""]
        for n in range(5):
            steered.source.send_multipart([b"during", b"%d" % n])
        assert steered.sink.poll(300) == 0, "forwarded while paused"
        assert steered.statistics()[0] == 1  # still one message received by the frontend
        steered.command(b"RESUME")
        assert steered.control.recv_multipart() == [b""]
        for n in range(5):
            assert steered.sink.recv_multipart() == [b"during", b"%d" % n]
        assert steered.terminate() == 0
    finally:
        steered.close()


@pytest.mark.parametrize("impl", IMPLS)
def test_rep_control_socket_gets_an_empty_reply_to_each_command(impl: str) -> None:
    """"REP control socket will reply with an empty message" to PAUSE, RESUME and TERMINATE
    (and to anything else, as REP must answer every request): same with libzmq."""
    zmq = IMPLS[impl]
    steered = Steered(zmq, zmq.REP, zmq.REQ)
    try:
        for command in (b"PAUSE", b"RESUME", b"NONSENSE", b"pause"):
            steered.command(command)
            assert steered.control.recv_multipart() == [b""]
        assert steered.terminate() == 0
    finally:
        steered.close()


def test_pair_control_socket_gets_no_reply_but_statistics() -> None:
    """"No response otherwise": a PAIR control socket hears back only for STATISTICS."""
    steered = Steered(puremq, puremq.PAIR, puremq.PAIR)
    try:
        steered.command(b"PAUSE")
        steered.command(b"RESUME")
        steered.command(b"NONSENSE")
        assert steered.statistics() == [0] * 8
        assert steered.control.poll(100) == 0
        assert steered.terminate() == 0
    finally:
        steered.close()


def _traffic_statistics(zmq: Any) -> List[int]:
    """Multipart messages both ways through a ROUTER | proxy | DEALER pair; STATISTICS."""
    steered = Steered(zmq, zmq.REP, zmq.REQ, front_type=zmq.ROUTER, back_type=zmq.DEALER)
    try:
        client, worker = steered.source, steered.sink
        for n in range(4):
            client.send_multipart([b"q" * n, b"request", b""])
            envelope = worker.recv_multipart()
            worker.send_multipart(envelope[:1] + [b"reply-%d" % n, b"x" * 100])
            assert client.recv_multipart() == [b"reply-%d" % n, b"x" * 100]
        stats = steered.statistics()
        assert steered.terminate() == 0
        return stats
    finally:
        steered.close()


def test_statistics_count_every_part_as_libzmq_does() -> None:
    """STATISTICS: eight u64 parts, "message totals count each part in a multipart message
    individually"; the same traffic gives the same numbers from libzmq's proxy."""
    ours = _traffic_statistics(puremq)
    theirs = _traffic_statistics(pyzmq)
    assert ours == theirs
    front_in, front_in_bytes, front_out, front_out_bytes = ours[:4]
    back_in, back_in_bytes, back_out, back_out_bytes = ours[4:]
    # requests: routing id (5 bytes) + 3 parts; replies: routing id + 2 parts
    assert (front_in, back_out) == (16, 16)
    assert (back_in, front_out) == (12, 12)
    assert front_in_bytes == back_out_bytes == 4 * (5 + 7) + (0 + 1 + 2 + 3)
    assert back_in_bytes == front_out_bytes == 4 * (5 + 7 + 100)


def test_terminate_returns_zero_even_while_paused() -> None:
    """TERMINATE: "the proxy function will exit with a return value of 0" -- paused or not,
    with messages still queued."""
    steered = Steered(puremq, puremq.PAIR, puremq.PAIR)
    try:
        steered.command(b"PAUSE")
        steered.source.send(b"stuck")
        assert steered.terminate() == 0
        assert steered.sink.poll(100) == 0
    finally:
        steered.close()


def test_without_a_control_socket_it_is_proxy(ctx: puremq.Context) -> None:
    """"When the control socket is NULL the two functions operate identically": it forwards
    and ends only with the context."""
    own = puremq.Context()
    name = uuid.uuid4().hex
    front = own.socket(puremq.PULL)
    back = own.socket(puremq.PUSH)
    front.bind(f"inproc://{name}-f")
    back.bind(f"inproc://{name}-b")

    def run() -> str:
        try:
            puremq.proxy_steerable(front, back)
        except puremq.ContextTerminated:
            return "ETERM"
        return "returned"
    proxy = Background(run, owned=[front, back])
    push = own.socket(puremq.PUSH)
    push.connect(f"inproc://{name}-f")
    pull = own.socket(puremq.PULL)
    pull.rcvtimeo = int(WAIT_S * 1000)
    pull.connect(f"inproc://{name}-b")
    push.send(b"through")
    assert pull.recv() == b"through"
    push.close(linger=0)
    pull.close(linger=0)
    term_in_time(own)
    assert proxy.join().result == "ETERM"


def test_steered_over_tcp_from_libzmq(zctx: Any) -> None:
    """Interop: a pyzmq REQ steers a puremq proxy over tcp: PAUSE, STATISTICS, RESUME,
    TERMINATE."""
    ctx = puremq.Context()
    front = ctx.socket(puremq.PULL)
    back = ctx.socket(puremq.PUSH)
    control = ctx.socket(puremq.REP)
    for sock in (front, back, control):
        sock.bind("tcp://127.0.0.1:*")
    endpoints = [s.last_endpoint.decode() for s in (front, back, control)]

    def run() -> Any:
        return puremq.proxy_steerable(front, back, None, control)
    proxy = Background(run, owned=[front, back, control], linger=1000)
    source = zctx.socket(pyzmq.PUSH)
    source.connect(endpoints[0])
    sink = zctx.socket(pyzmq.PULL)
    sink.rcvtimeo = int(WAIT_S * 1000)
    sink.connect(endpoints[1])
    steer = zctx.socket(pyzmq.REQ)
    steer.rcvtimeo = int(WAIT_S * 1000)
    steer.connect(endpoints[2])
    try:
        source.send_multipart([b"one", b"two"])
        assert sink.recv_multipart() == [b"one", b"two"]
        steer.send(b"PAUSE")
        assert steer.recv_multipart() == [b""]
        source.send(b"held")
        assert sink.poll(300) == 0
        steer.send(b"STATISTICS")
        stats = [struct.unpack("=Q", f)[0] for f in steer.recv_multipart()]
        assert stats == [2, 6, 0, 0, 0, 0, 2, 6]
        steer.send(b"RESUME")
        assert steer.recv_multipart() == [b""]
        assert sink.recv() == b"held"
        steer.send(b"TERMINATE")
        assert steer.recv_multipart() == [b""]
        assert proxy.join().result == 0
    finally:
        for sock in (source, sink, steer):
            sock.close(linger=0)
        term_in_time(ctx)
        proxy.join()


def test_asyncio_sockets_can_be_proxied_from_a_thread() -> None:
    """Sockets of an asyncio context (their methods return futures) work in
    proxy_steerable, which runs them blocking in its own thread, control and capture
    included."""
    import puremq.asyncio as zasync
    ctx = zasync.Context()
    name = uuid.uuid4().hex
    socks = {}
    for role, kind in (("front", puremq.PULL), ("back", puremq.PUSH),
                       ("capture", puremq.PUSH), ("control", puremq.REP)):
        socks[role] = ctx.socket(kind)
        socks[role].bind(f"inproc://{name}-{role}")

    def run() -> Any:
        return puremq.proxy_steerable(socks["front"], socks["back"], socks["capture"],
                                      socks["control"])
    proxy = Background(run, owned=list(socks.values()), linger=1000)
    peers = {}
    for role, kind in (("front", puremq.PUSH), ("back", puremq.PULL),
                       ("capture", puremq.PULL), ("control", puremq.REQ)):
        # blocking peers: plain sockets of the same context (the class is per socket)
        peers[role] = puremq.Socket(ctx, kind)
        peers[role].rcvtimeo = int(WAIT_S * 1000)
        peers[role].connect(f"inproc://{name}-{role}")
    try:
        peers["front"].send_multipart([b"a", b"b"])
        assert peers["back"].recv_multipart() == [b"a", b"b"]
        assert peers["capture"].recv_multipart() == [b"a", b"b"]
        peers["control"].send(b"STATISTICS")
        assert len(peers["control"].recv_multipart()) == 8
        peers["control"].send(b"TERMINATE")
        assert peers["control"].recv_multipart() == [b""]
        assert proxy.join().result == 0
    finally:
        for sock in peers.values():
            sock.close(linger=0)
        term_in_time(ctx)
