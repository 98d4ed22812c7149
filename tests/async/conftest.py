"""Fixtures for the event loop tests.

``aenv`` runs a test body under each (implementation, loop) pair that applies:

* pyzmq's ``zmq.asyncio`` on the default asyncio loop -- the reference behaviour;
* puremq.asyncio on the default asyncio loop;
* puremq.asyncio on a loop without add_reader/add_writer (what Windows' Proactor loop
  offers; pyzmq cannot run there without tornado's helper thread);
* puremq.asyncio on uvloop, where uvloop is installed (CPython).

Every body runs inside an overall timeout, so a lost wake-up fails instead of hanging.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import uuid
from typing import Any, Awaitable, Callable, Dict, List

import pytest

import zmq as pyzmq
import zmq.asyncio as pyzmq_asyncio

import puremq
import puremq.asyncio as puremq_asyncio

HAVE_UVLOOP = importlib.util.find_spec("uvloop") is not None
BODY_TIMEOUT = 20.0


class NoReaderLoop(asyncio.SelectorEventLoop):
    """A loop without the add_reader family, as Windows' ProactorEventLoop."""

    def add_reader(self, fd: Any, callback: Any, *args: Any) -> None:
        raise NotImplementedError

    def remove_reader(self, fd: Any) -> bool:
        raise NotImplementedError

    def add_writer(self, fd: Any, callback: Any, *args: Any) -> None:
        raise NotImplementedError

    def remove_writer(self, fd: Any) -> bool:
        raise NotImplementedError


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "noreader":
        return NoReaderLoop()
    if kind == "uvloop":
        import uvloop
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


LOOP_KINDS = ["asyncio", "noreader"] + (["uvloop"] if HAVE_UVLOOP else [])


class Env:
    """One (implementation, loop) pair: ``zmq`` is the sync module, ``azmq`` its asyncio."""

    def __init__(self, impl: str, loop_kind: str) -> None:
        self.impl = impl
        self.loop_kind = loop_kind
        self.zmq: Any = pyzmq if impl == "pyzmq" else puremq
        self.azmq: Any = pyzmq_asyncio if impl == "pyzmq" else puremq_asyncio
        self.contexts: List[Any] = []

    def __repr__(self) -> str:
        return f"{self.impl}-{self.loop_kind}"

    def context(self) -> Any:
        ctx = self.azmq.Context()
        self.contexts.append(ctx)
        return ctx

    def socket(self, ctx: Any, kind: int, **options: Any) -> Any:
        sock = ctx.socket(kind)
        sock.linger = 0
        for name, value in options.items():
            setattr(sock, name, value)
        return sock

    def run(self, body: Callable[[], Awaitable[Any]], timeout: float = BODY_TIMEOUT) -> Any:
        return run_in(self.loop_kind, body, timeout)

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.destroy(linger=0)


def run_in(loop_kind: str, body: Callable[[], Awaitable[Any]],
           timeout: float = BODY_TIMEOUT) -> Any:
    loop = new_loop(loop_kind)
    try:
        return loop.run_until_complete(asyncio.wait_for(body(), timeout))
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


ENVS = [("pyzmq", "asyncio")] + [("puremq", kind) for kind in LOOP_KINDS]


@pytest.fixture(params=ENVS, ids=lambda p: f"{p[0]}-{p[1]}")
def aenv(request: Any) -> Any:
    env = Env(*request.param)
    yield env
    env.close()


@pytest.fixture(params=LOOP_KINDS)
def penv(request: Any) -> Any:
    """puremq only (behaviour pyzmq does not have), on every loop."""
    env = Env("puremq", request.param)
    yield env
    env.close()


def inproc() -> str:
    return f"inproc://{uuid.uuid4().hex}"


def bind_any(sock: Any, transport: str = "tcp", ipc_dir: str = "") -> str:
    if transport == "tcp":
        sock.bind("tcp://127.0.0.1:*")
        return sock.last_endpoint.decode()
    if transport == "ipc":
        endpoint = f"ipc://{os.path.join(ipc_dir, uuid.uuid4().hex[:12])}"
        sock.bind(endpoint)
        return endpoint
    endpoint = inproc()
    sock.bind(endpoint)
    return endpoint


def pending(futures: Dict[Any, Any]) -> List[Any]:
    return [f for f in futures if not f.done()]
