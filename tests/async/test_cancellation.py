"""Cancellation: a cancelled recv loses no message, a cancelled send sent all of its
message or none of it.

The hard window is the one between a recv future's completion (the message is out of the
socket) and the resumption of the task awaiting it: ``task.cancel()`` there makes asyncio
throw CancelledError into the task instead of handing it the message.  pyzmq's zmq.asyncio
drops the message in that window; puremq's recv futures give it back to the socket.  The
fuzz tests cancel at random points, that window included, under a fixed seed.
"""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any, Callable, List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import Env, bind_any, inproc, run_in

TIMEOUT = 5.0


def _seeds(*fixed: int) -> List[int]:
    """The fuzz tests' seeds: the fixed ones, and PUREMQ_FUZZ_SEEDS more when that is set
    (a race that shows once in hundreds of schedules is found by running many:
    ``PUREMQ_FUZZ_SEEDS=300 pytest tests/async/test_cancellation.py -k fuzz``)."""
    extra = int(os.environ.get("PUREMQ_FUZZ_SEEDS", "0"))
    return list(fixed) + list(range(1000 * fixed[0], 1000 * fixed[0] + extra))


async def _cancel_at_handover(future: Any) -> Any:
    """A task awaiting ``future`` that is cancelled in the very iteration the future
    completes, before the task resumes (our callback runs before the task's wake-up).
    Returns once the task is waiting."""
    holder: List[Any] = []
    future.add_done_callback(lambda _f: holder[0].cancel())

    async def wait() -> Any:
        return await future
    task = asyncio.ensure_future(wait())
    holder.append(task)
    await asyncio.sleep(0)
    assert not future.done()
    return task


def _pushpull(env: Env, transport: str = "inproc", **options: Any) -> Tuple[Any, Any]:
    zmq = env.zmq
    ctx = env.context()
    pull = env.socket(ctx, zmq.PULL)
    push = env.socket(ctx, zmq.PUSH)
    for name, value in options.items():
        setattr(pull, name, value)
    push.connect(bind_any(pull, transport))
    return pull, push


@pytest.mark.parametrize("kind", ["recv_multipart", "recv", "recv_string", "recv_json",
                                  "recv_pyobj", "recv_serialized", "recv_into"])
def test_message_taken_for_a_cancelled_task_is_given_back(penv: Env, kind: str) -> None:
    zmq = penv.zmq
    import json
    import pickle
    payload = {"recv_multipart": [b"m1", b"m2"], "recv": [b"f1", b"f2"],
               "recv_string": [b"text"], "recv_json": [json.dumps([1, 2]).encode()],
               "recv_pyobj": [pickle.dumps({"k": 1})], "recv_serialized": [b"s1", b"s2"],
               "recv_into": [b"into"]}[kind]
    buffers = [bytearray(16), bytearray(16)]

    def start(sock: Any, round_: int) -> Any:
        if kind == "recv_serialized":
            return sock.recv_serialized(lambda frames: [bytes(f) for f in frames])
        if kind == "recv_into":
            return sock.recv_into(buffers[round_])
        return getattr(sock, kind)()

    async def body() -> None:
        pull, push = _pushpull(penv, "tcp")
        first = start(pull, 0)
        task = await _cancel_at_handover(first)
        await push.send_multipart(payload)
        await push.send(b"second")
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled()
        assert first.cancelled()  # the future no longer claims its message
        with pytest.raises(asyncio.CancelledError):
            first.result()
        again = await asyncio.wait_for(start(pull, 1), TIMEOUT)
        expected = {"recv_multipart": payload, "recv": b"f1", "recv_string": "text",
                    "recv_json": [1, 2], "recv_pyobj": {"k": 1},
                    "recv_serialized": payload, "recv_into": 4}[kind]
        assert again == expected
        if kind == "recv_into":
            assert bytes(buffers[1][:4]) == b"into"
        if kind == "recv":
            assert pull.rcvmore
            assert await pull.recv() == b"f2"
            assert not pull.rcvmore
        assert await asyncio.wait_for(pull.recv(), TIMEOUT) == b"second"
    penv.run(body)


def test_frame_given_back_in_the_middle_of_a_message(penv: Env) -> None:
    """Two recv() pending; the one that got the second part is cancelled at hand-over:
    the part comes back as the second part, with RCVMORE as it was."""
    async def body() -> None:
        pull, push = _pushpull(penv)
        first, second = pull.recv(), pull.recv()
        holder: List[Any] = []
        second.add_done_callback(lambda _f: holder[1].cancel())

        async def wait(future: Any) -> Any:
            return await future
        holder.extend([asyncio.ensure_future(wait(first)), asyncio.ensure_future(wait(second))])
        await asyncio.sleep(0)
        await push.send_multipart([b"a", b"b", b"c"])
        assert await asyncio.wait_for(holder[0], TIMEOUT) == b"a"
        with pytest.raises(asyncio.CancelledError):
            await holder[1]
        assert pull.rcvmore
        assert await asyncio.wait_for(pull.recv(), TIMEOUT) == b"b"
        assert pull.rcvmore
        assert await asyncio.wait_for(pull.recv(), TIMEOUT) == b"c"
        assert not pull.rcvmore
    penv.run(body)


def test_whole_message_given_back_behind_a_half_read_one(penv: Env) -> None:
    """A recv_multipart cancelled at hand-over while another recv() has started on the
    next message: neither message is lost or mixed with the other."""
    async def body() -> None:
        pull, push = _pushpull(penv)
        whole = pull.recv_multipart()
        holder: List[Any] = []
        whole.add_done_callback(lambda _f: holder[0].cancel())

        async def wait() -> Any:
            return await whole
        holder.append(asyncio.ensure_future(wait()))
        await asyncio.sleep(0)  # the task now awaits `whole`
        await push.send_multipart([b"w1", b"w2"])
        await push.send_multipart([b"p1", b"p2"])
        part = pull.recv()  # served with `whole`: the first part of the next message
        with pytest.raises(asyncio.CancelledError):
            await holder[0]
        assert await asyncio.wait_for(part, TIMEOUT) == b"p1"
        assert await asyncio.wait_for(pull.recv(), TIMEOUT) == b"p2"
        assert await asyncio.wait_for(pull.recv_multipart(), TIMEOUT) == [b"w1", b"w2"]
    penv.run(body)


@pytest.mark.parametrize("kind", ["recv_multipart", "recv"])
def test_messages_given_back_in_either_order_stay_whole(penv: Env, kind: str) -> None:
    """A receive that took a message given back before, itself given back after a later
    message was: both messages SHALL come out whole, not merged into one, and RCVMORE
    SHALL be false after each.  (The task awaiting the first is resumed last: its
    awaitable is driven by hand, as asyncio drives it.)"""
    a, b = ([b"A", b"a"], [b"B", b"b"]) if kind == "recv_multipart" else ([b"A"], [b"B"])

    async def body() -> None:
        pull, push = _pushpull(penv)
        receive = getattr(pull, kind)
        first = await _cancel_at_handover(receive())
        taker = receive()
        resumption = taker.__await__()
        assert next(resumption) is taker  # waiting, like a task's await
        await push.send_multipart(a)
        with pytest.raises(asyncio.CancelledError):
            await first  # A went back to the socket, and `taker` took it from there
        await asyncio.wait_for(asyncio.shield(taker), TIMEOUT)
        later = await _cancel_at_handover(receive())
        await push.send_multipart(b)
        with pytest.raises(asyncio.CancelledError):
            await later  # B went back
        with pytest.raises(asyncio.CancelledError):
            resumption.throw(asyncio.CancelledError())  # and now A, a second time
        got = []
        for _ in range(2):
            got.append(await asyncio.wait_for(pull.recv_multipart(), TIMEOUT))
            assert not pull.rcvmore
        assert sorted(got) == [a, b]
        assert await pull.poll(20) == 0
    penv.run(body)


# -- fuzz: random cancellation, seeded --------------------------------------------------

async def _chaos_await(rng: random.Random, make: Callable[[], Any]) -> Any:
    """Await the future ``make()`` returns and cancel the wait at a random point (or not
    at all); returns the result, or raises CancelledError/TimeoutError.  As in real code,
    the future is made by the coroutine that awaits it."""
    choice = rng.random()
    holder: List[Any] = []
    if choice < 0.25:  # cancelled exactly at hand-over

        async def wait() -> Any:
            future = make()
            future.add_done_callback(lambda _f: holder[0].cancel())
            return await future
        task = asyncio.ensure_future(wait())
        holder.append(task)
        return await task
    if choice < 0.35:  # the future itself cancelled
        future = make()
        future.cancel()
        return await future
    if choice < 0.55:  # a short timeout
        return await asyncio.wait_for(make(), rng.uniform(0, 0.002))

    async def wait2() -> Any:
        return await make()
    task = asyncio.ensure_future(wait2())
    if choice < 0.8:  # the task cancelled after a few loop iterations
        for _ in range(rng.randint(0, 3)):
            await asyncio.sleep(0)
        task.cancel()
    return await task


async def _produce(push: Any, count: int, rng: random.Random,
                   make: Callable[[int], List[bytes]], pauses: float = 0.2) -> None:
    for index in range(count):
        await push.send_multipart(make(index))
        if rng.random() < pauses:
            await asyncio.sleep(0 if rng.random() < 0.5 else 0.0005)


def _message(index: int) -> List[bytes]:
    return [b"%d" % index, b"x" * (index % 50)]


async def _consume(pull: Any, count: int, rng: random.Random, got: List[int],
                   stop: "asyncio.Event") -> None:
    while len(got) < count and not stop.is_set():
        try:
            msg = await _chaos_await(rng, pull.recv_multipart)
        except (asyncio.CancelledError, asyncio.TimeoutError):
            continue
        index = int(msg[0])
        assert msg == _message(index), msg
        got.append(index)


@pytest.mark.parametrize("transport", ["tcp", "inproc"])
@pytest.mark.parametrize("seed", _seeds(1, 2))
def test_fuzz_single_consumer_keeps_every_message_in_order(penv: Env, transport: str,
                                                           seed: int) -> None:
    count = 200
    rng = random.Random(seed)

    async def body() -> None:
        pull, push = _pushpull(penv, transport)
        producer = asyncio.ensure_future(_produce(push, count, random.Random(seed + 100),
                                                  _message))
        got: List[int] = []
        await _consume(pull, count, rng, got, asyncio.Event())
        await producer
        assert got == list(range(count))
        # and nothing extra is left behind
        assert await pull.poll(20) == 0
    penv.run(body)


@pytest.mark.parametrize("seed", _seeds(3, 4))
def test_fuzz_many_consumers_lose_and_duplicate_nothing(penv: Env, seed: int) -> None:
    count = 300
    consumers = 5

    async def body() -> None:
        pull, push = _pushpull(penv, "tcp")
        producer = asyncio.ensure_future(_produce(push, count, random.Random(seed), _message))
        got: List[int] = []
        stop = asyncio.Event()

        async def one(index: int) -> None:
            await _consume(pull, count, random.Random(seed * 10 + index), got, stop)
            stop.set()
        tasks = [asyncio.ensure_future(one(i)) for i in range(consumers)]
        await stop.wait()  # the first consumer to see the count complete
        await producer
        for task in tasks:  # the others wait for messages that will not come
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert sorted(got) == list(range(count))
        assert await pull.poll(20) == 0
    penv.run(body)


@pytest.mark.parametrize("seed", _seeds(5, 6))
def test_fuzz_frame_by_frame(penv: Env, seed: int) -> None:
    """recv() of single parts, cancelled at random: the parts arrive in order with the
    right RCVMORE."""
    count = 150
    rng = random.Random(seed)

    def three(index: int) -> List[bytes]:
        return [b"%d" % index, b"mid", b"end"]

    async def body() -> None:
        pull, push = _pushpull(penv, "tcp")
        producer = asyncio.ensure_future(_produce(push, count, random.Random(seed), three,
                                                  pauses=0.7))
        seen: List[Tuple[bytes, bool]] = []
        while len(seen) < 3 * count:
            try:
                frame = await _chaos_await(rng, pull.recv)
            except (asyncio.CancelledError, asyncio.TimeoutError):
                continue
            seen.append((frame, bool(pull.rcvmore)))
        await producer
        expected = [(part, i < 2) for n in range(count) for i, part in enumerate(three(n))]
        assert seen == expected
    penv.run(body)


def test_fuzz_cancelled_sends_are_all_or_nothing(aenv: Env) -> None:
    """Sends queued behind a full high-water mark, cancelled at random: every message that
    arrives is whole, and exactly the sends whose future completed arrived."""
    zmq = aenv.zmq
    count = 200
    rng = random.Random(7)

    async def body() -> None:
        ctx = aenv.context()
        pull = aenv.socket(ctx, zmq.PULL, rcvhwm=4)
        push = aenv.socket(ctx, zmq.PUSH, sndhwm=4)
        endpoint = inproc()
        pull.bind(endpoint)
        push.connect(endpoint)
        futures: List[Any] = []

        async def send_all() -> None:
            for index in range(count):
                def make(index: int = index) -> Any:
                    future = push.send_multipart([b"%d" % index, b"a", b"b"])
                    futures.append((index, future))
                    return future
                try:
                    await _chaos_await(rng, make)
                except (asyncio.CancelledError, asyncio.TimeoutError):
                    pass
        sender = asyncio.ensure_future(send_all())
        received: List[int] = []
        while not sender.done() or await pull.poll(50):
            try:
                msg = await asyncio.wait_for(pull.recv_multipart(), 0.01)
            except asyncio.TimeoutError:
                continue
            index = int(msg[0])
            assert msg == [b"%d" % index, b"a", b"b"]
            received.append(index)
            if rng.random() < 0.3:
                await asyncio.sleep(0.001)  # let the sender queue up
        await sender
        completed = [i for i, f in futures
                     if f.done() and not f.cancelled() and f.exception() is None]
        assert len(received) == len(set(received))
        assert received == completed  # in order, and only those
        assert 0 < len(completed) < count  # the fuzz did cancel some and let some through
    aenv.run(body)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.booleans()),
                min_size=1, max_size=30))
def test_hypothesis_cancellation_schedules(steps: List[Tuple[int, int, bool]]) -> None:
    """Each step (mode, k, early) first sends the next message if ``early``, then starts a
    recv in a task, lets it wait one iteration and sends the next message if not
    ``early``; mode 0 lets the recv finish, mode 1 cancels the task at hand-over, mode 2
    cancels it after k more iterations.  Then the rest is drained: every message, once,
    in order."""
    env = Env("puremq", "asyncio")

    async def body() -> None:
        pull, push = _pushpull(env)
        sent = 0
        got: List[int] = []
        for mode, k, early in steps:
            if early:
                await push.send(b"%d" % sent)
                sent += 1
            holder: List[Any] = []

            async def wait(mode: int = mode) -> Any:
                future = pull.recv()
                if mode == 1:
                    future.add_done_callback(lambda _f: holder[0].cancel())
                return await future
            task = asyncio.ensure_future(wait())
            holder.append(task)
            await asyncio.sleep(0)
            if not early:
                await push.send(b"%d" % sent)
                sent += 1
            if mode == 2:
                for _ in range(k):
                    await asyncio.sleep(0)
                task.cancel()
            try:
                got.append(int(await asyncio.wait_for(task, TIMEOUT)))
            except asyncio.CancelledError:
                pass
        while len(got) < sent:
            got.append(int(await asyncio.wait_for(pull.recv(), TIMEOUT)))
        assert got == list(range(sent))
        assert await pull.poll(0) == 0
    try:
        run_in("asyncio", body)
    finally:
        env.close()
