"""One conformance suite for every transport: each property is checked on tcp, ipc and
inproc, under pyzmq (libzmq, the reference) and puremq."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ._util import TIMEOUT_MS, bind_endpoint, bind_retrying, drain, fixed_endpoint

TRANSPORTS = ["tcp", "ipc", "inproc"]


def _socket(ctx: Any, kind: int, **options: Any) -> Any:
    sock = ctx.socket(kind)
    sock.rcvtimeo = TIMEOUT_MS
    sock.sndtimeo = TIMEOUT_MS
    for name, value in options.items():
        setattr(sock, name, value)
    return sock


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_bind_then_connect(mctx: Any, zmq_mod: Any, ipc_dir: str, transport: str) -> None:
    server = _socket(mctx, zmq_mod.PAIR)
    server.bind(bind_endpoint(transport, ipc_dir))
    client = _socket(mctx, zmq_mod.PAIR)
    client.connect(server.last_endpoint.decode())
    client.send(b"ping")
    assert server.recv() == b"ping"
    server.send_multipart([b"pong", b"", b"!"])
    assert client.recv_multipart() == [b"pong", b"", b"!"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_connect_before_bind_delivers_queued_messages(mctx: Any, zmq_mod: Any,
                                                      ipc_dir: str, transport: str) -> None:
    endpoint = fixed_endpoint(transport, ipc_dir)
    push = _socket(mctx, zmq_mod.PUSH, reconnect_ivl=20)
    push.connect(endpoint)
    for index in range(5):
        push.send(b"queued-%d" % index)  # nobody bound yet: queued on the connect side
    pull = _socket(mctx, zmq_mod.PULL)
    pull.bind(endpoint)
    assert [pull.recv() for _ in range(5)] == [b"queued-%d" % i for i in range(5)]


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_reconnect_after_the_binder_closes_and_rebinds(mctx: Any, zmq_mod: Any,
                                                       ipc_dir: str, transport: str) -> None:
    endpoint = fixed_endpoint(transport, ipc_dir)
    push = _socket(mctx, zmq_mod.PUSH, reconnect_ivl=20)
    push.connect(endpoint)
    first = _socket(mctx, zmq_mod.PULL)
    first.bind(endpoint)
    push.send(b"before")
    assert first.recv() == b"before"
    first.close(linger=0)
    second = _socket(mctx, zmq_mod.PULL)
    bind_retrying(second, zmq_mod, endpoint)
    # A message sent before the pusher noticed the old peer went away may be lost (libzmq
    # too); keep sending until the new binder hears one.
    deadline = time.monotonic() + 5
    while not second.poll(50):
        assert time.monotonic() < deadline, "never reconnected to the re-bound endpoint"
        push.send(b"after")
    assert second.recv() == b"after"


def test_inproc_connection_ends_with_the_binder(mctx: Any, zmq_mod: Any) -> None:
    """inproc has no reconnection (as libzmq): a connecter whose binder closed is not
    joined to a later binder of the name; a new connect is."""
    endpoint = fixed_endpoint("inproc", "")
    push = _socket(mctx, zmq_mod.PUSH, sndtimeo=200)
    push.connect(endpoint)
    first = _socket(mctx, zmq_mod.PULL)
    first.bind(endpoint)
    push.send(b"before")
    assert first.recv() == b"before"
    first.close(linger=0)
    second = _socket(mctx, zmq_mod.PULL)
    bind_retrying(second, zmq_mod, endpoint)
    # the closing reaches the connecter asynchronously (libzmq): wait for it
    deadline = time.monotonic() + 5
    while push.poll(10, zmq_mod.POLLOUT):
        assert time.monotonic() < deadline, "the connecter never noticed the close"
    with pytest.raises(zmq_mod.Again):
        push.send(b"after")  # its only pipe is gone
    assert second.poll(200) == 0
    push.connect(endpoint)
    push.send(b"new connection")
    assert second.recv() == b"new connection"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unbind_stops_new_connections(mctx: Any, zmq_mod: Any, ipc_dir: str,
                                      transport: str) -> None:
    pull = _socket(mctx, zmq_mod.PULL)
    pull.bind(bind_endpoint(transport, ipc_dir))
    endpoint = pull.last_endpoint.decode()
    pull.unbind(endpoint)
    late = _socket(mctx, zmq_mod.PUSH, reconnect_ivl=20)
    late.connect(endpoint)
    late.send(b"to nobody")  # queued on the connect side
    assert pull.poll(300) == 0
    # the endpoint is free again: another socket can bind it and gets the queued message
    other = _socket(mctx, zmq_mod.PULL)
    bind_retrying(other, zmq_mod, endpoint)
    assert other.recv() == b"to nobody"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_disconnect(mctx: Any, zmq_mod: Any, ipc_dir: str, transport: str) -> None:
    first, second = _socket(mctx, zmq_mod.PULL), _socket(mctx, zmq_mod.PULL)
    first.bind(bind_endpoint(transport, ipc_dir))
    second.bind(bind_endpoint(transport, ipc_dir))
    push = _socket(mctx, zmq_mod.PUSH)
    push.connect(first.last_endpoint.decode())
    push.connect(second.last_endpoint.decode())
    # wait until both connections carry traffic
    deadline = time.monotonic() + 5
    seen = {"first": 0, "second": 0}
    while not (seen["first"] and seen["second"]):
        assert time.monotonic() < deadline
        push.send(b"probe")
        for name, sock in (("first", first), ("second", second)):
            seen[name] += len(drain(sock, zmq_mod, 10))
    drain(first, zmq_mod, 50)
    drain(second, zmq_mod, 50)
    push.disconnect(first.last_endpoint.decode())
    for index in range(6):
        push.send(b"%d" % index)
    assert [second.recv() for _ in range(6)] == [b"%d" % i for i in range(6)]
    assert drain(first, zmq_mod, 100) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_multiple_connects_to_one_bind(mctx: Any, zmq_mod: Any, ipc_dir: str,
                                       transport: str) -> None:
    pull = _socket(mctx, zmq_mod.PULL)
    pull.bind(bind_endpoint(transport, ipc_dir))
    endpoint = pull.last_endpoint.decode()
    pushes = [_socket(mctx, zmq_mod.PUSH) for _ in range(5)]
    for push in pushes:
        push.connect(endpoint)
    for number, push in enumerate(pushes):
        for index in range(20):
            push.send(b"%d:%d" % (number, index))
    received = [pull.recv() for _ in range(100)]
    for number in range(5):
        own = [m for m in received if m.startswith(b"%d:" % number)]
        assert own == [b"%d:%d" % (number, i) for i in range(20)]  # each sender in order


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_last_endpoint(mctx: Any, zmq_mod: Any, ipc_dir: str, transport: str) -> None:
    sock = _socket(mctx, zmq_mod.PAIR)
    asked = bind_endpoint(transport, ipc_dir)
    sock.bind(asked)
    actual = sock.last_endpoint.decode()
    if transport == "tcp":
        host, port = actual[len("tcp://"):].rsplit(":", 1)
        assert host == "127.0.0.1" and 0 < int(port) < 65536
    else:
        assert actual == asked
    peer = _socket(mctx, zmq_mod.PAIR)
    peer.connect(actual)
    assert peer.last_endpoint.decode() == actual
    peer.send(b"via LAST_ENDPOINT")
    assert sock.recv() == b"via LAST_ENDPOINT"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_large_messages(mctx: Any, zmq_mod: Any, ipc_dir: str, transport: str) -> None:
    server = _socket(mctx, zmq_mod.PAIR)
    server.bind(bind_endpoint(transport, ipc_dir))
    client = _socket(mctx, zmq_mod.PAIR)
    client.connect(server.last_endpoint.decode())
    mib = 1 << 20
    blobs = [bytes([index]) * mib for index in range(3)]
    for blob in blobs:
        client.send(blob)
    client.send_multipart([blobs[0], b"", blobs[1]])
    for blob in blobs:
        assert server.recv() == blob
    assert server.recv_multipart() == [blobs[0], b"", blobs[1]]
    server.send(blobs[2])
    assert client.recv() == blobs[2]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_many_small_messages_in_order(mctx: Any, zmq_mod: Any, ipc_dir: str,
                                      transport: str) -> None:
    pull = _socket(mctx, zmq_mod.PULL)
    pull.bind(bind_endpoint(transport, ipc_dir))
    push = _socket(mctx, zmq_mod.PUSH)
    push.connect(pull.last_endpoint.decode())
    batch = 500  # below the high-water marks, so the sender never blocks
    for start in range(0, 10000, batch):
        for index in range(start, start + batch):
            push.send(b"%d" % index + b"." * (index % 17))
        for index in range(start, start + batch):
            assert pull.recv() == b"%d" % index + b"." * (index % 17)
