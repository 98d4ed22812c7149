"""asyncio against real libzmq (pyzmq), both ways, 100 concurrent peers.

* a puremq.asyncio ROUTER serving 100 pyzmq zmq.asyncio DEALERs, all in one loop;
* a pyzmq zmq.asyncio ROUTER serving 100 puremq.asyncio DEALERs;
* on a loop without add_reader (where zmq.asyncio cannot run), the puremq ROUTER serves
  100 plain pyzmq DEALERs driven by a thread.

Each DEALER makes several requests in a row, with a payload naming it and the round; the
server echoes them back with its own frame in front.  Every client must get exactly its
own replies, in order.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, List

import pytest

import puremq
import puremq.asyncio
import zmq as pyzmq
import zmq.asyncio

from .conftest import HAVE_UVLOOP, run_in

CLIENTS = 100
ROUNDS = 5
TIMEOUT = 15.0
LOOPS = ["asyncio"] + (["uvloop"] if HAVE_UVLOOP else [])


async def _serve(router: Any, total: int) -> None:
    for _ in range(total):
        ident, *msg = await router.recv_multipart()
        await router.send_multipart([ident, b"echo"] + msg)


async def _client(dealer: Any, who: int) -> None:
    for index in range(ROUNDS):
        payload = [b"client-%d" % who, b"round-%d" % index, b"z" * (who * 7)]
        await dealer.send_multipart(payload)
        reply = await dealer.recv_multipart()
        assert reply == [b"echo"] + payload


def _scenario(server_mod: Any, client_mod: Any, sync_server: Any, sync_client: Any,
              transport: str, ipc_dir: str) -> Any:
    async def body() -> None:
        server_ctx = server_mod.Context()
        client_ctx = client_mod.Context()
        dealers: List[Any] = []
        router = server_ctx.socket(sync_server.ROUTER)
        router.linger = 0
        try:
            if transport == "tcp":
                router.bind("tcp://127.0.0.1:*")
                endpoint = router.last_endpoint.decode()
            else:
                endpoint = f"ipc://{ipc_dir}/router"
                router.bind(endpoint)
            server = asyncio.ensure_future(_serve(router, CLIENTS * ROUNDS))
            for who in range(CLIENTS):
                dealer = client_ctx.socket(sync_client.DEALER)
                dealer.linger = 0
                dealer.connect(endpoint)
                dealers.append(dealer)
            await asyncio.wait_for(
                asyncio.gather(*(_client(d, w) for w, d in enumerate(dealers))), TIMEOUT)
            await asyncio.wait_for(server, TIMEOUT)
        finally:
            for dealer in dealers:
                dealer.close(0)
            router.close(0)
            server_ctx.term()
            client_ctx.term()
    return body


@pytest.mark.parametrize("loop_kind", LOOPS)
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_puremq_router_serves_100_libzmq_dealers(loop_kind: str, transport: str,
                                                 ipc_dir: str) -> None:
    run_in(loop_kind, _scenario(puremq.asyncio, zmq.asyncio, puremq, pyzmq, transport,
                                ipc_dir), 30)


@pytest.mark.parametrize("loop_kind", LOOPS)
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_libzmq_router_serves_100_puremq_dealers(loop_kind: str, transport: str,
                                                 ipc_dir: str) -> None:
    run_in(loop_kind, _scenario(zmq.asyncio, puremq.asyncio, pyzmq, puremq, transport,
                                ipc_dir), 30)


def test_puremq_router_on_a_loop_without_add_reader_serves_libzmq_dealers() -> None:
    """The loop lacks add_reader (puremq falls back on its watcher thread); the 100 libzmq
    DEALERs run in a thread with a plain zmq.Poller."""
    errors: List[BaseException] = []
    done = threading.Event()

    def clients(endpoint: str) -> None:
        ctx = pyzmq.Context()
        dealers = []
        try:
            poller = pyzmq.Poller()
            for who in range(CLIENTS):
                dealer = ctx.socket(pyzmq.DEALER)
                dealer.linger = 0
                dealer.connect(endpoint)
                dealers.append(dealer)
                poller.register(dealer, pyzmq.POLLIN)
            expected = {}
            for who, dealer in enumerate(dealers):
                payload = [b"client-%d" % who, b"round-0"]
                dealer.send_multipart(payload)
                expected[dealer] = (who, 0)
            finished = 0
            while finished < CLIENTS:
                ready = dict(poller.poll(int(TIMEOUT * 1000)))
                assert ready, "no reply within the timeout"
                for dealer in ready:
                    who, index = expected[dealer]
                    assert dealer.recv_multipart() == [b"echo", b"client-%d" % who,
                                                       b"round-%d" % index]
                    if index + 1 == ROUNDS:
                        finished += 1
                        continue
                    expected[dealer] = (who, index + 1)
                    dealer.send_multipart([b"client-%d" % who, b"round-%d" % (index + 1)])
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            for dealer in dealers:
                dealer.close(0)
            ctx.term()
            done.set()

    async def body() -> None:
        ctx = puremq.asyncio.Context()
        router = ctx.socket(puremq.ROUTER)
        router.linger = 0
        router.bind("tcp://127.0.0.1:*")
        thread = threading.Thread(target=clients, args=(router.last_endpoint.decode(),),
                                  daemon=True)
        thread.start()
        try:
            await _serve(router, CLIENTS * ROUNDS)
            await asyncio.get_running_loop().run_in_executor(None, done.wait, TIMEOUT)
        finally:
            router.close(0)
            ctx.term()
        thread.join(TIMEOUT)

    run_in("noreader", body, 30)
    assert errors == []
    assert done.is_set()
