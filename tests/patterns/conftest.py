"""Fixtures for the socket-semantics suite: every spec test runs on inproc, tcp and ipc.

``net`` hands out sockets of one context on the transport under test, with a 2 s
RCVTIMEO/SNDTIMEO so that a missing message fails the test instead of hanging it, LINGER 0
so that closing never waits, and RECONNECT_IVL 20 ms so that a connect made before the bind
does not wait libzmq's default 100 ms (plus jitter) to retry.

Waits are handshake-aware: a probe message that must arrive, a blocking send that needs an
attached peer, or a bounded poll of a condition; never a bare sleep.  Where no public
signal exists (all of a fair-queuing test's messages have arrived; the bind side has
attached its peers) the helpers look at the socket's own queues, read-only.
"""

from __future__ import annotations

import os
import socket as _socket
import time
import uuid
from typing import Any, Callable, List, Optional

import pytest

import puremq as zmq

TIMEOUT_MS = 2000
#: how long "nothing arrives" is watched for; a bug that delivers would deliver by then
QUIET_MS = 50
#: how long a queue must stay full (or a drained peer stay silent) to count as such: the
#: I/O thread needs time to move messages on, even on a loaded machine
FILL_MS = 200
RECONNECT_IVL_MS = 20


class Net:
    def __init__(self, ctx: zmq.Context, transport: str, ipc_dir: str) -> None:
        self.ctx = ctx
        self.transport = transport
        self.ipc_dir = ipc_dir
        self.sockets: List[zmq.Socket] = []

    def socket(self, socket_type: int, **options: Any) -> zmq.Socket:
        sock = self.ctx.socket(socket_type)
        sock.linger = 0
        sock.rcvtimeo = TIMEOUT_MS
        sock.sndtimeo = TIMEOUT_MS
        sock.reconnect_ivl = RECONNECT_IVL_MS
        for name, value in options.items():
            setattr(sock, name, value)
        self.sockets.append(sock)
        return sock

    @property
    def fill_ms(self) -> int:
        """How long to wait for a full queue to move on: inproc moves nothing by itself."""
        return 0 if self.transport == "inproc" else FILL_MS

    def endpoint(self) -> str:
        """A fresh endpoint to bind (tcp: the kernel picks the port)."""
        if self.transport == "tcp":
            return "tcp://127.0.0.1:*"
        if self.transport == "ipc":
            return f"ipc://{os.path.join(self.ipc_dir, uuid.uuid4().hex[:12])}"
        return f"inproc://{uuid.uuid4().hex}"

    def unbound_endpoint(self) -> str:
        """An address nobody listens on yet (connect first, bind later)."""
        if self.transport == "tcp":
            probe = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            probe.close()
            return f"tcp://127.0.0.1:{port}"
        return self.endpoint()

    def bind(self, sock: zmq.Socket, endpoint: Optional[str] = None) -> str:
        """Bind ``sock``; returns the address peers connect to."""
        sock.bind(endpoint or self.endpoint())
        return sock.getsockopt(zmq.LAST_ENDPOINT).decode()

    def close_all(self) -> None:
        for sock in self.sockets:
            if not sock.closed:
                sock.close(linger=0)


@pytest.fixture(params=["inproc", "tcp", "ipc"])
def transport(request: Any) -> str:
    return request.param


@pytest.fixture
def net(ctx: zmq.Context, transport: str, ipc_dir: str):
    network = Net(ctx, transport, ipc_dir)
    yield network
    network.close_all()


# -- helpers --------------------------------------------------------------------------------------

def recv_within(sock: zmq.Socket, timeout_ms: int = TIMEOUT_MS) -> Optional[List[bytes]]:
    """The next whole message, or None if none arrives in time."""
    if not sock.poll(timeout_ms, zmq.POLLIN):
        return None
    return sock.recv_multipart(zmq.DONTWAIT)


def assert_quiet(*socks: zmq.Socket, timeout_ms: int = QUIET_MS) -> None:
    """Nothing arrives on any of ``socks`` within ``timeout_ms``."""
    poller = zmq.Poller()
    for sock in socks:
        poller.register(sock, zmq.POLLIN)
    events = dict(poller.poll(timeout_ms))
    unexpected = {sock: sock.recv_multipart(zmq.DONTWAIT) for sock in events}
    assert not unexpected, f"unexpected messages: {list(unexpected.values())}"


def assert_again(action: Callable[[], Any]) -> None:
    with pytest.raises(zmq.Again):
        action()


def assert_errno(errno: int, action: Callable[[], Any]) -> None:
    with pytest.raises(zmq.ZMQError) as info:
        action()
    assert info.value.errno == errno


def wait_for(condition: Callable[[], bool], timeout: float = TIMEOUT_MS / 1000.0,
             what: str = "condition") -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.001)


def queued_in(sock: zmq.Socket) -> int:
    """Messages the socket holds for its application (no public counter exists; arrival
    over tcp/ipc is asynchronous, and fair-queuing tests need everything there first)."""
    sock.getsockopt(zmq.EVENTS)  # runs the socket's pending commands (attach/detach)
    pattern = sock._pattern
    seen = set()
    total = 0
    for pipe in list(pattern.pipes) + list(pattern.fq.ring):
        if id(pipe) not in seen:
            seen.add(id(pipe))
            total += len(pipe.inbound.items)
    return total + len(getattr(pattern, "pending", ()))  # XPUB reads ahead into "pending"


def newest_queued(sock: zmq.Socket) -> Optional[List[Any]]:
    """The newest message waiting in the socket's queues (whitebox, as queued_in)."""
    sock.getsockopt(zmq.EVENTS)
    for pipe in sock._pattern.pipes:
        if pipe.inbound.items:
            return pipe.inbound.items[-1]
    return None


def wait_queued(sock: zmq.Socket, count: int) -> None:
    wait_for(lambda: queued_in(sock) >= count, what=f"{count} messages queued")


def peer_count(sock: zmq.Socket) -> int:
    sock.getsockopt(zmq.EVENTS)
    return len(sock._pattern.pipes)


def wait_peers(sock: zmq.Socket, count: int) -> None:
    """The bind side has attached ``count`` peers (their handshakes are complete)."""
    wait_for(lambda: peer_count(sock) >= count, what=f"{count} attached peers")


def send_until_again(sock: zmq.Socket, payload: bytes = b"", limit: int = 100000,
                     flags: int = zmq.DONTWAIT) -> int:
    """Send ``payload`` until the socket refuses; returns how many it took."""
    sent = 0
    while sent < limit:
        try:
            sock.send(payload, flags)
        except zmq.Again:
            return sent
        sent += 1
    return sent


def sync_subscribers(pub: zmq.Socket, subs: List[zmq.Socket], topic: bytes = b"") -> None:
    """Publish probes on ``topic`` until every one of ``subs`` got one (their subscriptions
    reached the publisher), then flush the probes still in flight with a final marker.
    Every sub must be subscribed to (a prefix of) ``topic``."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000.0
    for sub in subs:
        while True:
            pub.send(topic + b"\x00probe")
            if sub.poll(10, zmq.POLLIN):
                break
            if time.monotonic() > deadline:
                pytest.fail("subscription never reached the publisher")
    pub.send(topic + b"\x00marker")
    for sub in subs:
        while True:
            msg = recv_within(sub)
            assert msg is not None, "probe marker lost"
            if msg[0] == topic + b"\x00marker":
                break
            assert msg[0] == topic + b"\x00probe"


def sync_subscriber(pub: zmq.Socket, sub: zmq.Socket, topic: bytes = b"") -> None:
    sync_subscribers(pub, [sub], topic)
