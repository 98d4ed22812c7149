"""A plain (blocking-API) socket driven only through ``loop.add_reader(sock.FD, ...)``, the
way third-party event loop integrations use pyzmq's FD.

libzmq (zmq_getsockopt, ZMQ_FD): the fd is edge-triggered; "the application must retrieve
the actual event state with a subsequent retrieval of the ZMQ_EVENTS option", and after
every operation, since the operation may have consumed the signal.  The callbacks below do
exactly that and nothing else; a lost wake-up leaves the test waiting, and it fails on its
timeout.  The same code runs against pyzmq first.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
import uuid
from typing import Any, List

import pytest

import puremq
import zmq as pyzmq

from .conftest import HAVE_UVLOOP, new_loop

MESSAGES = 2000
LOOPS = ["asyncio"] + (["uvloop"] if HAVE_UVLOOP else [])
MODULES = {"pyzmq": pyzmq, "puremq": puremq}


def _endpoint(transport: str, tmp: str) -> str:
    if transport == "tcp":
        return "tcp://127.0.0.1:*"
    if transport == "ipc":
        return f"ipc://{os.path.join(tmp, 'fd')}"
    return f"inproc://{uuid.uuid4().hex}"


def _run(loop_kind: str, body: Any) -> None:
    loop = new_loop(loop_kind)
    try:
        loop.run_until_complete(asyncio.wait_for(body(loop), 20))
    finally:
        loop.close()


@pytest.mark.parametrize("loop_kind", LOOPS)
@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
@pytest.mark.parametrize("impl", sorted(MODULES))
def test_receiving_through_add_reader_loses_no_wakeup(impl: str, transport: str,
                                                      loop_kind: str, tmp_path: Any) -> None:
    zmq = MODULES[impl]
    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    pull.bind(_endpoint(transport, str(tmp_path)))
    endpoint = pull.last_endpoint.decode()
    errors: List[BaseException] = []

    def produce() -> None:
        push = ctx.socket(zmq.PUSH)
        try:
            push.sndtimeo = 10000
            push.connect(endpoint)
            rng = random.Random(42)
            index = 0
            while index < MESSAGES:
                for _ in range(rng.randint(1, 50)):
                    if index < MESSAGES:
                        push.send_multipart([b"%d" % index, b"x" * rng.randint(0, 200)])
                        index += 1
                if rng.random() < 0.3:
                    time.sleep(0.0005)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            push.close(linger=5000)

    received: List[int] = []
    wakeups = [0]

    async def body(loop: Any) -> None:
        done = loop.create_future()

        def on_readable() -> None:
            wakeups[0] += 1
            while pull.get(zmq.EVENTS) & zmq.POLLIN:  # read EVENTS, then drain
                while True:
                    try:
                        msg = pull.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    received.append(int(msg[0]))
            if len(received) == MESSAGES and not done.done():
                done.set_result(None)
        loop.add_reader(pull.FD, on_readable)
        try:
            on_readable()  # what arrived before the reader was added
            producer = threading.Thread(target=produce, daemon=True)
            producer.start()
            await done
            producer.join(10)
        finally:
            loop.remove_reader(pull.FD)

    try:
        _run(loop_kind, body)
    finally:
        pull.close(0)
        ctx.term()
    assert errors == []
    assert received == list(range(MESSAGES))
    assert 1 <= wakeups[0]


@pytest.mark.parametrize("loop_kind", LOOPS)
@pytest.mark.parametrize("impl", sorted(MODULES))
def test_sending_through_add_reader_waits_for_pollout(impl: str, loop_kind: str) -> None:
    """A PUSH at its high-water mark: the loop sends while EVENTS has POLLOUT, then waits
    for the FD; a slow receiver thread frees room.  Every message gets through."""
    zmq = MODULES[impl]
    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.sndhwm = 5
    push.bind("tcp://127.0.0.1:*")
    endpoint = push.last_endpoint.decode()
    got: List[int] = []

    def consume() -> None:
        pull = ctx.socket(zmq.PULL)
        pull.rcvhwm = 5
        pull.rcvtimeo = 10000
        pull.connect(endpoint)
        try:
            while len(got) < MESSAGES // 4:
                got.append(int(pull.recv()))
                if len(got) % 50 == 0:
                    time.sleep(0.002)
        except zmq.Again:
            pass
        finally:
            pull.close(0)

    blocked = [0]

    async def body(loop: Any) -> None:
        done = loop.create_future()
        state = {"next": 0}

        def on_fd() -> None:
            while state["next"] < MESSAGES // 4 and push.get(zmq.EVENTS) & zmq.POLLOUT:
                try:
                    push.send(b"%d" % state["next"], zmq.NOBLOCK)
                except zmq.Again:
                    break
                state["next"] += 1
            if state["next"] == MESSAGES // 4:
                if not done.done():
                    done.set_result(None)
            else:
                blocked[0] += 1
        loop.add_reader(push.FD, on_fd)
        try:
            consumer = threading.Thread(target=consume, daemon=True)
            consumer.start()
            on_fd()
            await done
            await loop.run_in_executor(None, consumer.join, 10)
        finally:
            loop.remove_reader(push.FD)

    try:
        _run(loop_kind, body)
    finally:
        push.close(0)
        ctx.term()
    assert got == list(range(MESSAGES // 4))
    assert blocked[0] >= 1  # the sender did have to wait on the FD
