"""Poller, zmq.select and zmq_poll over sockets and plain file descriptors together."""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import Any, Iterator, Tuple

import pytest

TIMEOUT_MS = 5000


@pytest.fixture
def pipe_fds() -> Iterator[Tuple[int, int]]:
    read_fd, write_fd = os.pipe()
    yield read_fd, write_fd
    os.close(read_fd)
    os.close(write_fd)


def _pair(ctx: Any, zmq: Any) -> Tuple[Any, Any]:
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    name = f"inproc://{uuid.uuid4().hex}"
    a.bind(name)
    b.connect(name)
    return a, b


def test_register_modify_unregister(mctx: Any, zmq_mod: Any, pipe_fds: Any) -> None:
    a, b = _pair(mctx, zmq_mod)
    read_fd, write_fd = pipe_fds
    poller = zmq_mod.Poller()
    poller.register(a, zmq_mod.POLLIN)
    poller.register(read_fd, zmq_mod.POLLIN)
    assert a in poller and read_fd in poller and b not in poller
    assert poller.poll(0) == []
    b.send(b"x")
    os.write(write_fd, b"!")
    ready = dict(poller.poll(TIMEOUT_MS))
    deadline = time.monotonic() + 5
    while len(ready) < 2 and time.monotonic() < deadline:
        ready.update(poller.poll(100))
    assert ready == {a: zmq_mod.POLLIN, read_fd: zmq_mod.POLLIN}
    # modify: now also interested in POLLOUT
    poller.modify(a, zmq_mod.POLLIN | zmq_mod.POLLOUT)
    assert dict(poller.poll(0))[a] == zmq_mod.POLLIN | zmq_mod.POLLOUT
    # register again = modify
    poller.register(a, zmq_mod.POLLOUT)
    assert dict(poller.poll(0))[a] == zmq_mod.POLLOUT
    # flags 0 unregisters
    poller.register(a, 0)
    assert a not in poller
    poller.unregister(read_fd)
    assert read_fd not in poller
    assert poller.poll(0) == []
    with pytest.raises(KeyError):
        poller.unregister(b)


def test_poll_with_sockets_and_fds_mixed(mctx: Any, zmq_mod: Any, pipe_fds: Any) -> None:
    a, b = _pair(mctx, zmq_mod)
    read_fd, write_fd = pipe_fds
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        poller = zmq_mod.Poller()
        poller.register(a, zmq_mod.POLLIN)
        poller.register(read_fd, zmq_mod.POLLIN)
        poller.register(listener, zmq_mod.POLLIN)  # any object with fileno()
        poller.register(write_fd, zmq_mod.POLLOUT)
        assert dict(poller.poll(0)) == {write_fd: zmq_mod.POLLOUT}
        poller.unregister(write_fd)
        # only the pipe fires
        os.write(write_fd, b"!")
        assert poller.poll(TIMEOUT_MS) == [(read_fd, zmq_mod.POLLIN)]
        os.read(read_fd, 1)
        # only the zmq socket fires
        b.send(b"x")
        assert poller.poll(TIMEOUT_MS) == [(a, zmq_mod.POLLIN)]
        a.recv()
        # only the Python socket fires
        client = socket.create_connection(listener.getsockname())
        try:
            # pyzmq reports an object registered through fileno() by its fd number
            assert poller.poll(TIMEOUT_MS) == [(listener.fileno(), zmq_mod.POLLIN)]
            assert zmq_mod.select([listener], [], [], 5) == ([listener.fileno()], [], [])
        finally:
            client.close()
    finally:
        listener.close()


def test_poll_timeout_returns_empty_after_about_the_timeout(mctx: Any, zmq_mod: Any,
                                                            pipe_fds: Any) -> None:
    a, _b = _pair(mctx, zmq_mod)
    poller = zmq_mod.Poller()
    poller.register(a, zmq_mod.POLLIN)
    poller.register(pipe_fds[0], zmq_mod.POLLIN)
    for timeout_ms in (0, 200):
        began = time.monotonic()
        assert poller.poll(timeout_ms) == []
        elapsed = time.monotonic() - began
        assert timeout_ms / 1000 * 0.9 <= elapsed < timeout_ms / 1000 + 1.0


def test_poll_wakes_when_a_message_arrives_from_a_thread(mctx: Any, zmq_mod: Any) -> None:
    import threading
    a, b = _pair(mctx, zmq_mod)
    poller = zmq_mod.Poller()
    poller.register(a, zmq_mod.POLLIN)
    timer = threading.Timer(0.1, lambda: b.send(b"late"))
    timer.start()
    try:
        began = time.monotonic()
        assert poller.poll(TIMEOUT_MS) == [(a, zmq_mod.POLLIN)]
        assert time.monotonic() - began < 2.0
        assert a.recv() == b"late"
    finally:
        timer.join()


def test_select(mctx: Any, zmq_mod: Any, pipe_fds: Any) -> None:
    a, b = _pair(mctx, zmq_mod)
    read_fd, write_fd = pipe_fds
    began = time.monotonic()
    assert zmq_mod.select([a, read_fd], [], [], 0.2) == ([], [], [])
    assert 0.18 <= time.monotonic() - began < 1.5
    b.send(b"x")
    os.write(write_fd, b"!")
    deadline = time.monotonic() + 5
    readable: Any = []
    while len(readable) < 2 and time.monotonic() < deadline:
        readable, writable, errored = zmq_mod.select([a, read_fd], [b], [], 5)
        assert writable == [b] and errored == []
    assert set(readable) == {a, read_fd}


def test_zmq_poll_function(mctx: Any, zmq_mod: Any) -> None:
    a, b = _pair(mctx, zmq_mod)
    assert zmq_mod.zmq_poll([(a, zmq_mod.POLLIN)], 0) == []
    b.send(b"x")
    assert zmq_mod.zmq_poll([(a, zmq_mod.POLLIN), (b, zmq_mod.POLLIN)], TIMEOUT_MS) == [
        (a, zmq_mod.POLLIN)]

