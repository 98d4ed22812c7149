"""Harness for the interop suite: puremq against the libzmq inside pyzmq (tcp and ipc).

Vocabulary used by every test file here:

- a *pair* is two compatible socket types (RFC 37's table, classic types only), named by its
  ends ``a`` and ``b`` (``a`` is the sending/requesting/publishing end where there is one);
- a *case* is a pair plus which end puremq plays (the other end is libzmq), which
  implementation binds (the other connects) and the transport;
- a *link* is the two connected sockets of a case, with the envelope rules of the pair:
  ``link.send(side, payload)`` / ``link.recv(side)`` speak in application payloads, adding
  and checking the REQ delimiter, the DEALER-to-REP delimiter and ROUTER routing ids, so one
  test function can run over every pair.

Every wait has a timeout (RCVTIMEO / SNDTIMEO / poll); nothing sleeps to synchronise.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import pytest
import zmq

import puremq

TIMEOUT_MS = 5000
TIMEOUT_S = TIMEOUT_MS / 1000.0

IMPLS = ("pm", "lz")  # puremq, libzmq (pyzmq's bundled libzmq)
MODULE = {"pm": puremq, "lz": zmq}
TRANSPORTS = ("tcp", "ipc")

ZMQ_ERRORS = (zmq.ZMQError, puremq.ZMQError)
AGAIN_ERRORS = (zmq.Again, puremq.Again)

PUBLISHERS = ("PUB", "XPUB")
SUBSCRIBERS = ("SUB", "XSUB")

#: published until it arrives, to learn that a subscription reached the publisher
SYNC_TOPIC = b"sync:"
SYNC = [b"sync:interop"]


def other_impl(impl: str) -> str:
    return "lz" if impl == "pm" else "pm"


def other_side(side: str) -> str:
    return "b" if side == "a" else "a"


@dataclass(frozen=True)
class Pair:
    a: str
    b: str

    @property
    def name(self) -> str:
        return f"{self.a}-{self.b}"

    @property
    def symmetric(self) -> bool:
        return self.a == self.b

    @property
    def pubsub(self) -> bool:
        return self.a in PUBLISHERS

    @property
    def one_way(self) -> bool:
        """Messages only flow from a to b (PUSH-PULL and the pub-sub family)."""
        return self.a == "PUSH" or self.pubsub


PAIRS = [Pair(a, b) for a, b in [
    ("PAIR", "PAIR"), ("PUB", "SUB"), ("PUB", "XSUB"), ("XPUB", "SUB"), ("XPUB", "XSUB"),
    ("PUSH", "PULL"), ("REQ", "REP"), ("REQ", "ROUTER"), ("DEALER", "REP"),
    ("DEALER", "DEALER"), ("DEALER", "ROUTER"), ("ROUTER", "ROUTER"),
]]
PAIR_BY_NAME = {pair.name: pair for pair in PAIRS}


@dataclass(frozen=True)
class Case:
    pair: Pair
    pm_side: str   # "a" or "b": the end puremq plays; libzmq plays the other
    binder: str    # "pm" or "lz": the implementation that binds; the other connects
    transport: str

    def impl(self, side: str) -> str:
        return "pm" if side == self.pm_side else "lz"

    def binds(self, side: str) -> bool:
        return self.impl(side) == self.binder

    @property
    def id(self) -> str:
        return (f"{self.impl('a')}{self.pair.a}-{self.impl('b')}{self.pair.b}"
                f"-{self.binder}_binds-{self.transport}")


def cases(pair_names: Optional[Iterable[str]] = None) -> List[Any]:
    """Every case of the named pairs (default: all): each end played by each implementation
    (once for symmetric pairs), each implementation binding, each transport."""
    pairs = PAIRS if pair_names is None else [PAIR_BY_NAME[name] for name in pair_names]
    params = []
    for pair in pairs:
        for pm_side in (("a",) if pair.symmetric else ("a", "b")):
            for binder in IMPLS:
                for transport in TRANSPORTS:
                    case = Case(pair, pm_side, binder, transport)
                    params.append(pytest.param(case, id=case.id))
    return params


def assert_frames_equal(got: Sequence[bytes], expected: Sequence[bytes]) -> None:
    """Frame-by-frame equality that reports sizes and the first bad offset instead of
    making pytest diff megabytes."""
    got = [bytes(frame) for frame in got]
    if len(got) == len(expected) and all(len(g) < 1024 for g in got) \
            and all(len(e) < 1024 for e in expected):
        assert got == list(expected)
        return
    assert [len(g) for g in got] == [len(e) for e in expected], "frame sizes differ"
    for index, (g, e) in enumerate(zip(got, expected)):
        if g != e:
            offset = next(i for i in range(len(e)) if g[i] != e[i])
            pytest.fail(f"frame {index} differs first at byte {offset} of {len(e)}")


class Net:
    """Creates sockets of either implementation and closes them all (linger 0) at teardown."""

    def __init__(self, zctx: zmq.Context, pctx: puremq.Context, ipc_dir: str) -> None:
        self.ctx = {"pm": pctx, "lz": zctx}
        self.ipc_dir = ipc_dir
        self.sockets: List[Any] = []

    def socket(self, impl: str, type_name: str,
               options: Sequence[Tuple[str, Any]] = ()) -> Any:
        module = MODULE[impl]
        sock = self.ctx[impl].socket(getattr(module, type_name))
        self.sockets.append(sock)
        sock.setsockopt(module.LINGER, 0)
        sock.setsockopt(module.RCVTIMEO, TIMEOUT_MS)
        sock.setsockopt(module.SNDTIMEO, TIMEOUT_MS)
        for name, value in options:
            sock.setsockopt(getattr(module, name), value)
        return sock

    def endpoint(self, transport: str) -> str:
        if transport == "tcp":
            return "tcp://127.0.0.1:*"
        return f"ipc://{os.path.join(self.ipc_dir, uuid.uuid4().hex[:12])}"

    def bind(self, sock: Any, transport: str) -> str:
        """Bind to a fresh endpoint and return the address a peer connects to."""
        endpoint = self.endpoint(transport)
        sock.bind(endpoint)
        if transport == "tcp":
            return sock.getsockopt(zmq.LAST_ENDPOINT).decode()
        return endpoint

    def close_all(self) -> None:
        for sock in reversed(self.sockets):
            if not sock.closed:
                sock.close(linger=0)
        self.sockets.clear()

    def link(self, case: Case, topics: Sequence[bytes] = (b"",),
             options_a: Sequence[Tuple[str, Any]] = (),
             options_b: Sequence[Tuple[str, Any]] = (), sync: bool = True,
             existing: Optional[Tuple[str, Any, Optional[str]]] = None) -> "Link":
        """Create, bind and connect the two ends of ``case``, then wait until they talk.

        ``topics`` are the subscriber's subscriptions, made before it connects (SUBSCRIBE
        option on SUB, subscription messages on XSUB); the sync topic is always added.
        ``existing = (side, socket, address)`` uses an already made socket for that end: if
        it is bound (``address`` is where) the new end connects to it, otherwise the new
        end binds and the existing socket connects to it.
        """
        pair = case.pair
        options = {"a": list(options_a), "b": list(options_b)}
        if pair.a == "ROUTER" and pair.b == "ROUTER":
            for side in "ab":
                options[side] += [("ROUTING_ID", b"router-" + side.encode()),
                                  ("ROUTER_MANDATORY", 1)]
        topics = [SYNC_TOPIC] + list(topics) if pair.pubsub else []
        sockets = {}
        for side in "ab":
            if existing is not None and existing[0] == side:
                sockets[side] = existing[1]
            else:
                sockets[side] = self.socket(case.impl(side), getattr(pair, side),
                                            options[side])
        for topic in topics:
            if pair.b == "SUB":
                sockets["b"].setsockopt(MODULE[case.impl("b")].SUBSCRIBE, topic)
            else:
                sockets["b"].send(b"\x01" + topic)
        if existing is None:
            binder = "a" if case.binds("a") else "b"
            address = self.bind(sockets[binder], case.transport)
            sockets[other_side(binder)].connect(address)
        else:
            side, _, bound_at = existing
            # libzmq handles the end of a dropped connection (its pipe's termination) only
            # when the socket is next used, and connect() attaches its new pipe before
            # that: a PAIR would refuse the new peer, a PUSH would route into the dead
            # pipe.  Touch the socket first, as any application using it would have.
            sockets[side].poll(0)
            if bound_at is not None:
                address = bound_at
                sockets[other_side(side)].connect(address)
            else:
                address = self.bind(sockets[other_side(side)], case.transport)
                sockets[side].connect(address)
        link = Link(case, sockets["a"], sockets["b"], address)
        if sync:
            link.wait_ready(topics)
        return link


class Link:
    """The two connected ends of a case, with the pair's envelope rules."""

    def __init__(self, case: Case, a: Any, b: Any, address: str) -> None:
        self.case = case
        self.pair = case.pair
        self.address = address
        self.sock = {"a": a, "b": b}
        self.type = {"a": case.pair.a, "b": case.pair.b}
        #: the routing id each ROUTER end addresses its peer by (learned from the first
        #: message it receives, or known up front between two ROUTERs with ROUTING_ID set)
        self.peer_id: Dict[str, Optional[bytes]] = {"a": None, "b": None}
        if self.type["a"] == "ROUTER" and self.type["b"] == "ROUTER":
            self.peer_id = {"a": b"router-b", "b": b"router-a"}
        #: marker messages the subscriber skips (sync and fence messages, published
        #: repeatedly, so extra copies may still be in flight)
        self.markers: List[List[bytes]] = [SYNC]

    # -- readiness ---------------------------------------------------------------------------
    def wait_ready(self, topics: Sequence[bytes]) -> None:
        if self.pair.pubsub:
            if self.type["a"] == "XPUB":
                expected = sorted(b"\x01" + topic for topic in topics)
                got = sorted(self.recv_nudging_peer("a", len(expected)))
                assert got == expected, "XPUB did not see the subscriptions made before connect"
            self.publish_until(SYNC)
        elif self.type["a"] == "ROUTER" and self.type["b"] == "ROUTER":
            # the connecting ROUTER learns the other's routing id during the handshake; its
            # mandatory sends fail with EHOSTUNREACH until then
            connector = "b" if self.case.binds("a") else "a"
            self.transfer(connector, [b"hello"])

    def recv_nudging_peer(self, side: str, count: int,
                          timeout: float = TIMEOUT_S) -> List[bytes]:
        """Receive ``count`` single frames on ``side`` while polling the other end.

        libzmq attaches a peer accepted by a *bound* socket only when that socket's
        application thread next touches it (its "bind" command waits in the socket's
        mailbox), so a bound libzmq SUB sends its subscriptions only once used; the poll on
        the peer is that touch.
        """
        sock, peer = self.sock[side], self.sock[other_side(side)]
        got: List[bytes] = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            if sock.poll(20):
                got.append(sock.recv())
                continue
            peer.poll(0)
            if time.monotonic() > deadline:
                pytest.fail(f"only {got!r} of {count} messages arrived within {timeout} s")
        return got

    def publish_until(self, message: List[bytes], timeout: float = TIMEOUT_S) -> None:
        """Publish ``message`` from a until b receives it: proof that b's subscription to it
        has reached the publisher.  Earlier markers still in flight are skipped."""
        if message not in self.markers:
            self.markers.append(message)
        pub, sub = self.sock["a"], self.sock["b"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pub.send_multipart(message)
            while sub.poll(20):
                got = sub.recv_multipart()
                if got == message:
                    return
                assert got in self.markers, f"unexpected message while syncing: {got!r}"
        pytest.fail(f"{message!r} never reached the subscriber within {timeout} s")

    # -- sending and receiving payloads ------------------------------------------------------
    def send(self, src: str, payload: Sequence[bytes]) -> None:
        dst = other_side(src)
        frames = list(payload)
        src_type, dst_type = self.type[src], self.type[dst]
        if src_type == "ROUTER":
            if dst_type == "REQ":
                frames.insert(0, b"")
            peer = self.peer_id[src]
            assert peer is not None, "ROUTER does not know its peer's routing id yet"
            frames.insert(0, peer)
        elif src_type == "DEALER" and dst_type == "REP":
            frames.insert(0, b"")
        if src_type == "ROUTER" and dst_type == "ROUTER":
            send_until_routable(self.sock[src], frames)
        else:
            self.sock[src].send_multipart(frames)

    def recv(self, dst: str) -> List[bytes]:
        src = other_side(dst)
        sock = self.sock[dst]
        frames = sock.recv_multipart()
        if self.pair.pubsub:
            while frames in self.markers:
                frames = sock.recv_multipart()
        src_type, dst_type = self.type[src], self.type[dst]
        if dst_type == "ROUTER":
            assert len(frames) >= 2, f"ROUTER got a message without routing id: {frames!r}"
            rid = frames.pop(0)
            if self.peer_id[dst] is None:
                self.peer_id[dst] = rid
            assert rid == self.peer_id[dst], "ROUTER saw a different routing id for its peer"
            if src_type == "REQ":
                assert frames[:1] == [b""], f"REQ envelope lacks its delimiter: {frames!r}"
                del frames[0]
        elif dst_type == "DEALER" and src_type == "REP":
            assert frames[:1] == [b""], f"REP reply lacks the delimiter: {frames!r}"
            del frames[0]
        return frames

    def transfer(self, src: str, payload: Sequence[bytes]) -> None:
        """Send ``payload`` from ``src`` and check the other end receives exactly it."""
        self.send(src, payload)
        assert_frames_equal(self.recv(other_side(src)), payload)

    def exchange(self, payload: Sequence[bytes]) -> None:
        """a to b, then (unless the pair is one-way) b to a: a request and its reply."""
        self.transfer("a", payload)
        if not self.pair.one_way:
            self.transfer("b", payload)

    # -- pub-sub helpers ------------------------------------------------------------------------
    def subscribe(self, topic: bytes) -> None:
        """Subscribe b to ``topic`` now; if a is an XPUB, check it sees the subscription."""
        self._change_subscription(b"\x01", topic)

    def unsubscribe(self, topic: bytes) -> None:
        self._change_subscription(b"\x00", topic)

    def _change_subscription(self, prefix: bytes, topic: bytes) -> None:
        sub = self.sock["b"]
        if self.type["b"] == "XSUB":
            sub.send(prefix + topic)
        else:
            option = "SUBSCRIBE" if prefix == b"\x01" else "UNSUBSCRIBE"
            sub.setsockopt(getattr(MODULE[self.case.impl("b")], option), topic)
        if self.type["a"] == "XPUB":
            assert self.sock["a"].recv() == prefix + topic, "XPUB did not see the change"

    def fence(self, name: bytes) -> None:
        """Subscribe to a new topic and publish on it until it arrives: every subscription
        change b made before is then known to be in force at the publisher (one connection
        carries them in order)."""
        self.subscribe(b"fence:" + name)
        self.publish_until([b"fence:" + name])


def send_until_routable(sock: Any, frames: List[bytes], timeout: float = TIMEOUT_S) -> None:
    """Send from a ROUTER with ROUTER_MANDATORY, retrying while the peer is not yet
    routable (EHOSTUNREACH: its handshake has not finished)."""
    deadline = time.monotonic() + timeout
    while True:
        # with ROUTER_MANDATORY a ROUTER is writable only once some peer is routable
        remaining_ms = max(0, int((deadline - time.monotonic()) * 1000))
        sock.poll(remaining_ms, zmq.POLLOUT)
        try:
            sock.send_multipart(frames)
            return
        except ZMQ_ERRORS as exc:
            if exc.errno != zmq.EHOSTUNREACH or time.monotonic() > deadline:
                raise


def stream(link: Link, src: str, count: int, window: int = 250) -> None:
    """Send ``count`` numbered messages from ``src``, in windows below the default HWM (so
    PUB and ROUTER never drop), and check all of them arrive complete and in order.

    The window is a quarter of the HWM, not half: a libzmq writer learns what its reader
    consumed only every low-water mark (HWM/2) messages, so it may count up to 500 messages
    that are already gone; with 500-message windows a libzmq PUB dropped the last message
    of a window now and then (seen under PyPy, with libzmq on both sides)."""
    dst = other_side(src)
    for start in range(0, count, window):
        numbers = range(start, min(count, start + window))
        for number in numbers:
            link.send(src, [b"%06d" % number])
        got = [link.recv(dst) for _ in numbers]
        assert got == [[b"%06d" % number] for number in numbers]
