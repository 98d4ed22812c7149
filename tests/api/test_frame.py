"""Frame (Message): contents, buffer, length, MORE, and message properties as libzmq
gives them (compared with pyzmq on tcp, ipc and inproc); zero-copy numpy round trips."""

from __future__ import annotations

import os
import socket
import uuid
from typing import Any, Tuple

import pytest

import puremq

from ._compare import errno_of

TIMEOUT_MS = 5000


def _free_tcp_port() -> int:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
    finally:
        probe.close()


def _connected(ctx: Any, zmq: Any, endpoint: str, bind_type: int, connect_type: int
               ) -> Tuple[Any, Any]:
    bound, connected = ctx.socket(bind_type), ctx.socket(connect_type)
    for sock in (bound, connected):
        sock.rcvtimeo = TIMEOUT_MS
    bound.bind(endpoint)
    connected.connect(bound.last_endpoint)
    return bound, connected


def test_frame_contents_buffer_and_length(zmq_mod: Any) -> None:
    frame = zmq_mod.Frame(b"payload")
    assert frame.bytes == b"payload" == bytes(frame)
    assert len(frame) == 7
    view = frame.buffer
    assert isinstance(view, memoryview)
    assert view.tobytes() == b"payload"
    assert frame.more is False
    assert zmq_mod.Message is zmq_mod.Frame
    with pytest.raises(TypeError):
        zmq_mod.Frame("text is not bytes")


@pytest.mark.cython_reference
def test_received_frame(mctx: Any, zmq_mod: Any) -> None:
    bound, connected = _connected(mctx, zmq_mod, "tcp://127.0.0.1:*", zmq_mod.PAIR,
                                  zmq_mod.PAIR)
    connected.send_multipart([b"first", b"x" * 100000])
    first = bound.recv(copy=False)
    second = bound.recv(copy=False)
    assert (first.bytes, len(first), first.more) == (b"first", 5, True)
    assert (len(second), second.more) == (100000, False)
    assert first.get(zmq_mod.MORE) == 1 and second.get(zmq_mod.MORE) == 0
    view = second.buffer
    assert isinstance(view, memoryview)
    assert view.nbytes == 100000 and view[:3].tobytes() == b"xxx"
    if zmq_mod is puremq:
        assert view.readonly  # puremq's received buffers are never written through


@pytest.mark.cython_reference
def test_properties_over_tcp_as_libzmq(mctx: Any, zmq_mod: Any) -> None:
    bound, connected = _connected(mctx, zmq_mod, "tcp://127.0.0.1:*", zmq_mod.ROUTER,
                                  zmq_mod.DEALER)
    # (the routing id is set before connect only; set it on a second dealer)
    named = mctx.socket(zmq_mod.DEALER)
    named.routing_id = b"named-peer"
    named.connect(bound.last_endpoint)
    named.send(b"hello")
    routing_id, body = bound.recv_multipart(copy=False)
    assert routing_id.bytes == b"named-peer"
    for frame in (routing_id, body):
        assert frame.get("Socket-Type") == "DEALER"
        assert frame.get("Peer-Address") == "127.0.0.1"
        assert frame.get("Identity") == "named-peer"
        # libzmq has no Routing-Id property: EINVAL, like any unknown name
        assert errno_of(lambda: frame.get("Routing-Id")) == ("ZMQError", zmq_mod.EINVAL)
        assert errno_of(lambda: frame.get("No-Such")) == ("ZMQError", zmq_mod.EINVAL)
    connected.send(b"anonymous")
    _rid, body = bound.recv_multipart(copy=False)
    assert body.get("Identity") == ""  # a DEALER sends an empty Identity
    bound.send_multipart([_rid, b"reply"])
    reply = connected.recv(copy=False)
    assert reply.get("Socket-Type") == "ROUTER"
    assert reply.get("Peer-Address") == "127.0.0.1"


@pytest.mark.cython_reference
def test_properties_over_ipc_as_libzmq(mctx: Any, zmq_mod: Any, ipc_dir: str) -> None:
    bound, connected = _connected(mctx, zmq_mod, f"ipc://{ipc_dir}/props", zmq_mod.PULL,
                                  zmq_mod.PUSH)
    connected.send(b"x")
    frame = bound.recv(copy=False)
    assert frame.get("Socket-Type") == "PUSH"
    # libzmq: "<host>:<uid>:<gid>:<pid>" of the peer (SO_PEERCRED)
    assert frame.get("Peer-Address") == f"localhost:{os.getuid()}:{os.getgid()}:{os.getpid()}"


@pytest.mark.cython_reference
def test_no_properties_over_inproc_as_libzmq(mctx: Any, zmq_mod: Any) -> None:
    bound, connected = _connected(mctx, zmq_mod, f"inproc://{uuid.uuid4().hex}",
                                  zmq_mod.PAIR, zmq_mod.PAIR)
    connected.send(b"x")
    frame = bound.recv(copy=False)
    assert frame.bytes == b"x"
    for name in ("Socket-Type", "Peer-Address", "Routing-Id", "Identity"):
        assert errno_of(lambda: frame.get(name)) == ("ZMQError", zmq_mod.EINVAL)


@pytest.mark.parametrize("transport", ["tcp", "inproc"])
def test_numpy_frombuffer_on_a_received_frame(mctx: Any, zmq_mod: Any,
                                              transport: str) -> None:
    numpy = pytest.importorskip("numpy")
    endpoint = ("tcp://127.0.0.1:*" if transport == "tcp"
                else f"inproc://{uuid.uuid4().hex}")
    bound, connected = _connected(mctx, zmq_mod, endpoint, zmq_mod.PAIR, zmq_mod.PAIR)
    array = numpy.arange(50000, dtype=numpy.float64)
    connected.send(array)
    frame = bound.recv(copy=False)
    received = numpy.frombuffer(frame, dtype=numpy.float64)
    assert received.shape == array.shape
    assert numpy.array_equal(received, array)


@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_zero_copy_numpy_send_delivers_the_bytes(mctx: Any, zmq_mod: Any, ipc_dir: str,
                                                 transport: str) -> None:
    numpy = pytest.importorskip("numpy")
    endpoint = {"tcp": "tcp://127.0.0.1:*", "ipc": f"ipc://{ipc_dir}/np",
                "inproc": f"inproc://{uuid.uuid4().hex}"}[transport]
    bound, connected = _connected(mctx, zmq_mod, endpoint, zmq_mod.PULL, zmq_mod.PUSH)
    matrix = numpy.arange(300 * 400, dtype=numpy.int32).reshape(300, 400)
    small = numpy.array([1.5, -2.5], dtype=numpy.float32)
    tracker = connected.send(matrix, copy=False, track=True)
    connected.send(small, copy=False)
    connected.send_multipart([matrix, small], copy=False)
    assert bound.recv() == matrix.tobytes()
    assert bound.recv() == small.tobytes()
    assert bound.recv_multipart() == [matrix.tobytes(), small.tobytes()]
    tracker.wait(5)
    assert tracker.done


def test_zero_copy_numpy_send_tracker_pending_until_sent(mctx: Any, zmq_mod: Any) -> None:
    numpy = pytest.importorskip("numpy")
    port = _free_tcp_port()  # nobody listens there: the PUSH cannot connect yet
    push = mctx.socket(zmq_mod.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    array = numpy.arange(200000, dtype=numpy.int64)
    tracker = push.send(array, copy=False, track=True)
    with pytest.raises(zmq_mod.NotDone):
        tracker.wait(0.3)
    assert not tracker.done
    pull = mctx.socket(zmq_mod.PULL)
    pull.rcvtimeo = TIMEOUT_MS
    pull.bind(f"tcp://127.0.0.1:{port}")
    received = numpy.frombuffer(pull.recv(), dtype=numpy.int64)
    assert numpy.array_equal(received, array)
    tracker.wait(5)
    assert tracker.done
