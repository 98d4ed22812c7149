"""ipc specifics: file system paths, Linux abstract names (ipc://@name), the ipc://*
wildcard, path length limits and re-binding a path, compared with libzmq."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import pytest

from ..api._compare import assert_same_outcome
from ._util import TIMEOUT_MS


def _exchange(ctx: Any, zmq: Any, server: Any, endpoint: str) -> None:
    client = ctx.socket(zmq.PAIR)
    client.rcvtimeo = server.rcvtimeo = TIMEOUT_MS
    client.connect(endpoint)
    client.send(b"over ipc")
    assert server.recv() == b"over ipc"
    server.send(b"and back")
    assert client.recv() == b"and back"


def test_path(mctx: Any, zmq_mod: Any, ipc_dir: str) -> None:
    path = os.path.join(ipc_dir, "server.sock")
    server = mctx.socket(zmq_mod.PAIR)
    server.bind(f"ipc://{path}")
    assert server.last_endpoint == f"ipc://{path}".encode()
    assert os.path.exists(path)
    _exchange(mctx, zmq_mod, server, f"ipc://{path}")


def test_abstract_name(mctx: Any, zmq_mod: Any, ipc_dir: str) -> None:
    name = f"puremq-test-{uuid.uuid4().hex}"
    server = mctx.socket(zmq_mod.PAIR)
    server.bind(f"ipc://@{name}")
    assert server.last_endpoint == f"ipc://@{name}".encode()
    _exchange(mctx, zmq_mod, server, f"ipc://@{name}")
    assert not os.path.exists(f"@{name}") and not os.path.exists(name)
    other = mctx.socket(zmq_mod.PAIR)
    with pytest.raises(zmq_mod.ZMQError) as info:
        other.bind(f"ipc://@{name}")  # abstract names are taken, not files to replace
    assert info.value.errno == zmq_mod.EADDRINUSE


def test_wildcard_binds_a_fresh_path(mctx: Any, zmq_mod: Any) -> None:
    server = mctx.socket(zmq_mod.PAIR)
    server.bind("ipc://*")
    endpoint = server.last_endpoint.decode()
    assert endpoint.startswith("ipc://") and endpoint != "ipc://*"
    path = endpoint[len("ipc://"):]
    assert os.path.exists(path)
    _exchange(mctx, zmq_mod, server, endpoint)
    server.close()
    deadline = time.monotonic() + 5
    while os.path.exists(path):  # the temporary socket file goes with the socket
        assert time.monotonic() < deadline, "wildcard ipc file left behind"
        time.sleep(0.01)


def test_path_length_limits_match_libzmq(ipc_dir: str) -> None:
    """sun_path holds 107 bytes: one more is ENAMETOOLONG, for bind and connect, for
    paths and abstract names alike."""
    def run(zmq: Any) -> Any:
        ctx = zmq.Context()
        results = []
        try:
            for size in (100, 107, 108, 200):
                for kind, prefix in (("path", ipc_dir + "/"), ("abstract", "@")):
                    # os-level length: the path itself, or NUL + name for abstract names
                    endpoint = "ipc://" + prefix + "p" * (size - len(prefix))
                    for operation in ("bind", "connect"):
                        sock = ctx.socket(zmq.PAIR)
                        try:
                            getattr(sock, operation)(endpoint)
                            results.append((size, kind, operation, "ok"))
                        except zmq.ZMQError as exc:
                            results.append((size, kind, operation, int(exc.errno)))
                        finally:
                            sock.close(linger=0)
        finally:
            ctx.term()
        return results
    outcome = assert_same_outcome(run)
    assert (108, "path", "bind", 36) in outcome[1]  # ENAMETOOLONG
    assert (107, "path", "bind", "ok") in outcome[1]


def test_path_too_long_is_an_error(mctx: Any, zmq_mod: Any, ipc_dir: str) -> None:
    sock = mctx.socket(zmq_mod.PAIR)
    too_long = "ipc://" + os.path.join(ipc_dir, "x" * 200)
    for operation in (sock.bind, sock.connect):
        with pytest.raises(zmq_mod.ZMQError) as info:
            operation(too_long)
        assert info.value.errno == 36  # ENAMETOOLONG
    with pytest.raises(zmq_mod.ZMQError):
        sock.bind("ipc://@")  # an empty abstract name


def test_a_second_bind_of_a_path_takes_it_over(mctx: Any, zmq_mod: Any, ipc_dir: str) -> None:
    """libzmq replaces a socket file left at the path: the newest binder gets new peers."""
    endpoint = f"ipc://{os.path.join(ipc_dir, 'shared.sock')}"
    old, new = mctx.socket(zmq_mod.PULL), mctx.socket(zmq_mod.PULL)
    old.bind(endpoint)
    new.bind(endpoint)
    new.rcvtimeo = TIMEOUT_MS
    push = mctx.socket(zmq_mod.PUSH)
    push.connect(endpoint)
    push.send(b"to the newest")
    assert new.recv() == b"to the newest"
    assert old.poll(100) == 0


@pytest.mark.parametrize("file_removed_first", [False, True])
def test_a_wildcard_listener_removes_its_directory(file_removed_first: bool) -> None:
    """The directory an ``ipc://*`` bind made SHALL be gone once the listener closes,
    also when its socket file had been removed by someone else (CLOSE_FAILED)."""
    import puremq
    ctx = puremq.Context()
    try:
        server = ctx.socket(puremq.PAIR)
        server.bind("ipc://*")
        path = server.last_endpoint.decode()[len("ipc://"):]
        directory = os.path.dirname(path)
        assert os.path.isdir(directory)
        if file_removed_first:
            os.unlink(path)
        server.close()
        deadline = time.monotonic() + 5
        while os.path.exists(directory):  # the I/O thread closes the listener
            assert time.monotonic() < deadline, "wildcard ipc directory left behind"
            time.sleep(0.01)
    finally:
        ctx.destroy(linger=0)
