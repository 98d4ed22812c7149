"""Many tasks on one socket: first come, first served; nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

from .conftest import Env, bind_any, inproc, new_loop

TIMEOUT = 10.0


def test_many_tasks_awaiting_recv_are_served_in_order(aenv: Env) -> None:
    """200 tasks await recv_multipart on one PULL before anything is sent: the i-th task to
    ask gets the i-th message."""
    zmq = aenv.zmq
    tasks_n = 200

    async def body() -> None:
        ctx = aenv.context()
        pull = aenv.socket(ctx, zmq.PULL)
        push = aenv.socket(ctx, zmq.PUSH)
        push.connect(bind_any(pull))

        async def one() -> List[bytes]:
            return await pull.recv_multipart()
        tasks = [asyncio.ensure_future(one()) for _ in range(tasks_n)]
        await asyncio.sleep(0.01)  # every task is now waiting
        assert not any(t.done() for t in tasks)
        for index in range(tasks_n):
            await push.send_multipart([b"%d" % index, b"body"])
        results = await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)
        assert [int(msg[0]) for msg in results] == list(range(tasks_n))
    aenv.run(body)


def test_mixed_recv_kinds_share_one_queue(aenv: Env) -> None:
    zmq = aenv.zmq

    async def body() -> None:
        ctx = aenv.context()
        pull = aenv.socket(ctx, zmq.PULL)
        push = aenv.socket(ctx, zmq.PUSH)
        endpoint = inproc()
        pull.bind(endpoint)
        push.connect(endpoint)
        futures = [pull.recv_json(), pull.recv_string(), pull.recv_multipart(),
                   pull.recv_pyobj(), pull.recv()]
        await asyncio.sleep(0)
        await push.send_json({"n": 1})
        await push.send_string("two")
        await push.send_multipart([b"3", b"three"])
        await push.send_pyobj((4,))
        await push.send(b"5")
        results = await asyncio.wait_for(asyncio.gather(*futures), TIMEOUT)
        assert results == [{"n": 1}, "two", [b"3", b"three"], (4,), b"5"]
    aenv.run(body)


def test_many_senders_with_backpressure(aenv: Env) -> None:
    """50 tasks send 20 messages each through a PUSH with a small HWM: all 1000 arrive,
    each sender's messages in its order."""
    zmq = aenv.zmq
    senders, each = 50, 20

    async def body() -> None:
        ctx = aenv.context()
        pull = aenv.socket(ctx, zmq.PULL, rcvhwm=10)
        push = aenv.socket(ctx, zmq.PUSH, sndhwm=10)
        push.connect(bind_any(pull))

        async def send(who: int) -> None:
            for index in range(each):
                await push.send_multipart([b"%d" % who, b"%d" % index])
        tasks = [asyncio.ensure_future(send(who)) for who in range(senders)]
        seen: Dict[int, List[int]] = {}
        for _ in range(senders * each):
            who, index = await asyncio.wait_for(pull.recv_multipart(), TIMEOUT)
            seen.setdefault(int(who), []).append(int(index))
        await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)
        assert seen == {who: list(range(each)) for who in range(senders)}
    aenv.run(body)


def test_router_serves_concurrent_dealer_tasks(aenv: Env) -> None:
    """One ROUTER, 30 DEALERs each with its own task, 10 round trips each, interleaved."""
    zmq = aenv.zmq
    dealers_n, rounds = 30, 10

    async def body() -> None:
        ctx = aenv.context()
        router = aenv.socket(ctx, zmq.ROUTER)
        endpoint = bind_any(router)

        async def serve() -> None:
            for _ in range(dealers_n * rounds):
                ident, *msg = await router.recv_multipart()
                await router.send_multipart([ident, b"re"] + msg)

        async def client(who: int) -> None:
            dealer = aenv.socket(ctx, zmq.DEALER)
            dealer.connect(endpoint)
            for index in range(rounds):
                await dealer.send_multipart([b"%d" % who, b"%d" % index])
                assert await dealer.recv_multipart() == [b"re", b"%d" % who, b"%d" % index]
            dealer.close()
        server = asyncio.ensure_future(serve())
        await asyncio.wait_for(asyncio.gather(*(client(w) for w in range(dealers_n))), TIMEOUT)
        await asyncio.wait_for(server, TIMEOUT)
    aenv.run(body)


def test_socket_moves_to_a_new_loop(aenv: Env) -> None:
    """A socket used in one loop, then (that loop closed) in another, keeps working."""
    zmq = aenv.zmq
    ctx = aenv.context()
    pull = aenv.socket(ctx, zmq.PULL)
    push = aenv.socket(ctx, zmq.PUSH)
    push.connect(bind_any(pull))

    async def round_trip(tag: bytes) -> None:
        waiting = pull.recv()
        await asyncio.sleep(0.005)
        await push.send(tag)
        assert await asyncio.wait_for(waiting, TIMEOUT) == tag

    for tag in (b"first loop", b"second loop"):
        loop = new_loop(aenv.loop_kind)
        try:
            loop.run_until_complete(round_trip(tag))
        finally:
            loop.close()
