"""Socket.FD and EVENTS with pyzmq's edge-triggered semantics.

libzmq (zmq_getsockopt, ZMQ_FD): the fd signals that the socket's state *may* have
changed; it is edge-triggered, so after a wake-up the application reads EVENTS and
works until the operation would block, and must check EVENTS again before sleeping.
A PULL driven only this way, with select.poll on the FD, must receive every message a
producer thread sends: a lost wake-up shows up as a poll that times out.
"""

from __future__ import annotations

import os
import random
import select
import threading
import time
import uuid
from typing import Any, List

import pytest

MESSAGES = 1000
WAKEUP_TIMEOUT_MS = 5000


def _endpoint(transport: str, ipc_dir: str) -> str:
    if transport == "tcp":
        return "tcp://127.0.0.1:*"
    if transport == "ipc":
        return f"ipc://{os.path.join(ipc_dir, 'fd-events')}"
    return f"inproc://{uuid.uuid4().hex}"


def _produce(ctx: Any, zmq: Any, endpoint: str, errors: List[BaseException]) -> None:
    """Send MESSAGES numbered messages in bursts of random size with short pauses."""
    push = ctx.socket(zmq.PUSH)
    try:
        push.sndtimeo = 10000
        push.connect(endpoint)
        rng = random.Random(1234)
        index = 0
        while index < MESSAGES:
            for _ in range(rng.randint(1, 40)):
                if index == MESSAGES:
                    break
                push.send(b"%d" % index)
                index += 1
            if rng.random() < 0.3:
                time.sleep(0.001)
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)
    finally:
        push.close(linger=5000)


@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_edge_triggered_fd_loses_no_wakeup(mctx: Any, zmq_mod: Any, ipc_dir: str,
                                           transport: str) -> None:
    pull = mctx.socket(zmq_mod.PULL)
    pull.bind(_endpoint(transport, ipc_dir))
    endpoint = pull.last_endpoint.decode()
    waiter = select.poll()
    waiter.register(pull.FD, select.POLLIN)
    errors: List[BaseException] = []
    producer = threading.Thread(target=_produce, args=(mctx, zmq_mod, endpoint, errors),
                                daemon=True)
    producer.start()
    received: List[int] = []
    wakeups = 0
    try:
        while len(received) < MESSAGES:
            if not pull.EVENTS & zmq_mod.POLLIN:
                fired = waiter.poll(WAKEUP_TIMEOUT_MS)
                assert fired, (f"lost wake-up: {len(received)} of {MESSAGES} received and "
                               f"the FD stayed quiet for {WAKEUP_TIMEOUT_MS} ms")
                wakeups += 1
                continue
            while True:
                try:
                    received.append(int(pull.recv(zmq_mod.NOBLOCK)))
                except zmq_mod.Again:
                    break
    finally:
        producer.join(10)
    assert errors == []
    assert received == list(range(MESSAGES))
    assert wakeups >= 1


def test_fd_becomes_readable_when_a_message_arrives(mctx: Any, zmq_mod: Any) -> None:
    pull, push = mctx.socket(zmq_mod.PULL), mctx.socket(zmq_mod.PUSH)
    pull.bind("tcp://127.0.0.1:*")
    push.connect(pull.last_endpoint)
    assert pull.EVENTS == 0  # reading EVENTS re-arms the edge
    waiter = select.poll()
    waiter.register(pull.FD, select.POLLIN)
    deadline = time.monotonic() + 5
    push.send(b"ping")
    while not pull.EVENTS & zmq_mod.POLLIN:
        assert time.monotonic() < deadline, "message never became visible"
        waiter.poll(1000)
    assert pull.recv(zmq_mod.NOBLOCK) == b"ping"
    assert pull.EVENTS == 0


def test_events_pollout_follows_the_high_water_mark(mctx: Any, zmq_mod: Any) -> None:
    pull, push = mctx.socket(zmq_mod.PULL), mctx.socket(zmq_mod.PUSH)
    push.sndhwm = 5
    pull.rcvhwm = 5
    name = f"inproc://{uuid.uuid4().hex}"
    pull.bind(name)
    push.connect(name)
    assert push.EVENTS & zmq_mod.POLLOUT
    sent = 0
    while push.EVENTS & zmq_mod.POLLOUT:
        push.send(b"x", zmq_mod.NOBLOCK)
        sent += 1
        assert sent < 100
    with pytest.raises(zmq_mod.Again):
        push.send(b"x", zmq_mod.NOBLOCK)
    # the reader frees room: the writer's FD wakes and POLLOUT comes back
    waiter = select.poll()
    waiter.register(push.FD, select.POLLIN)
    for _ in range(sent):
        pull.recv()
    deadline = time.monotonic() + 5
    while not push.EVENTS & zmq_mod.POLLOUT:
        assert time.monotonic() < deadline
        waiter.poll(1000)
    push.send(b"again", zmq_mod.NOBLOCK)
