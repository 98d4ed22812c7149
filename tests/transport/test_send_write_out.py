"""A blocking send on a full pipe: small pipes are written out by the sending thread,
large ones are left to the I/O thread (whose kernel copy runs without the GIL)."""

from __future__ import annotations

import threading
from typing import Any, List

import pytest

import puremq
from puremq.engine.socket_engine import WRITE_OUT_MAX_BYTES, SocketEngine

WAIT_S = 10.0


def _connected_push(ctx: Any, sndhwm: int) -> "tuple[Any, Any]":
    pull = ctx.socket(puremq.PULL)
    pull.rcvtimeo = int(WAIT_S * 1000)
    # little room anywhere between the two: the sender meets its full pipe soon
    pull.rcvhwm = sndhwm
    pull.rcvbuf = 64 * 1024
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = ctx.socket(puremq.PUSH)
    push.sndhwm = sndhwm
    push.sndtimeo = int(WAIT_S * 1000)
    push.sndbuf = 64 * 1024
    push.connect(f"tcp://127.0.0.1:{port}")
    push.send(b"hello")
    assert pull.recv() == b"hello"
    return push, pull


@pytest.mark.parametrize("size, written_out", [(16, True), (WRITE_OUT_MAX_BYTES, False)])
def test_the_sender_writes_out_a_full_pipe_only_while_it_is_small(
        ctx: Any, monkeypatch: Any, size: int, written_out: bool) -> None:
    """A sender about to block on a full pipe SHALL write the pipe out itself when it
    holds at most WRITE_OUT_MAX_BYTES, and leave a larger one to the I/O thread."""
    hwm = 8
    push, _pull = _connected_push(ctx, hwm)
    engine = push._engine
    pipe = engine.pattern.pipes[0]
    stream = pipe.peer.current_stream
    asked: List[Any] = []
    monkeypatch.setattr(SocketEngine, "_write_out_pipe",
                        lambda self, full_pipe: asked.append(full_pipe) or False)
    frame = b"x" * size
    with stream.io_lock:  # the I/O thread cannot write the pipe meanwhile
        lane = pipe.outbound
        while not lane.full():
            lane.items.append([frame])
        engine._write_full_pipes(True)
        lane.items.clear()
    assert asked == ([pipe] if written_out else [])


def test_a_sender_blocked_on_a_large_full_pipe_is_released_by_the_io_thread(
        ctx: Any) -> None:
    """A send blocked on a full pipe of large messages SHALL complete once the peer reads:
    the I/O thread writes the pipe out, and every message arrives whole and in order."""
    push, pull = _connected_push(ctx, 4)
    count, size = 200, 64 * 1024
    assert 4 * size > WRITE_OUT_MAX_BYTES
    errors: List[BaseException] = []

    def produce() -> None:
        try:
            for index in range(count):
                push.send(index.to_bytes(4, "big") * (size // 4))
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    producer.join(0.2)
    assert producer.is_alive(), "12.8 MB cannot all fit in the kernel and the pipes"
    for index in range(count):
        message = pull.recv()
        assert len(message) == size and message[:4] == index.to_bytes(4, "big")
    producer.join(WAIT_S)
    assert not producer.is_alive() and not errors
