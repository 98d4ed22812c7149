"""The loop side: the watcher thread that stands in for add_reader, shadows of plain
sockets and contexts, context termination, and the deprecated names pyzmq keeps."""

from __future__ import annotations

import asyncio
import platform
import socket
import threading
import time
import warnings
from typing import Any, List

import pytest

import puremq
import puremq.asyncio
from puremq import _future

from .conftest import ENVS, Env, NoReaderLoop, bind_any, inproc, run_in

TIMEOUT = 5.0


def _watcher_threads() -> List[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "puremq-fd-watcher"]


def _wait_no_watcher(deadline_s: float = 5.0) -> None:
    deadline = time.monotonic() + deadline_s
    while _watcher_threads():
        assert time.monotonic() < deadline, "the watcher thread did not end"
        time.sleep(0.01)


def test_loop_without_add_reader_gets_a_watcher_thread_that_ends() -> None:
    _wait_no_watcher()
    ctx = puremq.asyncio.Context()

    async def body() -> None:
        pull = ctx.socket(puremq.PULL)
        push = ctx.socket(puremq.PUSH)
        push.connect(bind_any(pull))
        waiting = pull.recv()
        await asyncio.sleep(0.01)
        assert len(_watcher_threads()) == 1  # one for the loop, however many sockets
        await push.send(b"via the thread")
        assert await asyncio.wait_for(waiting, TIMEOUT) == b"via the thread"
        pull.close()
        push.close()

    try:
        run_in("noreader", body)
    finally:
        ctx.destroy(linger=0)
    _wait_no_watcher()  # nothing registered any more: the thread is gone


def test_watcher_thread_ends_when_its_loop_closes_under_it() -> None:
    _wait_no_watcher()
    ctx = puremq.asyncio.Context()
    pull = ctx.socket(puremq.PULL)
    pull.bind(inproc())
    loop = NoReaderLoop()
    try:
        future = loop.run_until_complete(_start_recv(pull))
        assert not future.done()
        assert len(_watcher_threads()) == 1
    finally:
        loop.close()
    push = ctx.socket(puremq.PUSH, socket_class=puremq.Socket)
    push.connect(pull.last_endpoint)
    push.send(b"nobody listens")  # the thread finds the loop closed, and ends
    try:
        _wait_no_watcher()
    finally:
        ctx.destroy(linger=0)


async def _start_recv(sock: Any) -> Any:
    future = sock.recv()
    await asyncio.sleep(0.01)
    return future


def test_watcher_reports_callback_errors_to_the_loop() -> None:
    """A failing callback goes to the loop's exception handler and does not stop the
    watcher: the fd is watched again."""
    errors: List[Any] = []
    calls: List[int] = []
    rsock, wsock = socket.socketpair()

    async def body() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: errors.append(context))
        done = loop.create_future()

        def on_readable() -> None:
            calls.append(1)
            data = rsock.recv(1)
            if data == b"1":
                raise ValueError("first callback fails")
            done.set_result(data)
        io = _future._watch(loop, rsock.fileno(), 1, on_readable)
        assert isinstance(io, _future._ThreadWatcher)
        try:
            wsock.send(b"1")
            await asyncio.sleep(0.05)
            wsock.send(b"2")
            assert await asyncio.wait_for(done, TIMEOUT) == b"2"
        finally:
            _future._unwatch(io, rsock.fileno(), 1)

    try:
        run_in("noreader", body)
    finally:
        rsock.close()
        wsock.close()
    assert len(calls) == 2
    assert [type(c["exception"]) for c in errors] == [ValueError]
    _wait_no_watcher()


# pyzmq's cffi backend (PyPy) cannot shadow: the reference runs on CPython only
SHADOW_ENVS = [e for e in ENVS if e[0] == "puremq" or platform.python_implementation()
               == "CPython"]


@pytest.fixture(params=SHADOW_ENVS, ids=lambda p: f"{p[0]}-{p[1]}")
def shadow_env(request: Any) -> Any:
    env = Env(*request.param)
    yield env
    env.close()


def test_async_socket_from_a_plain_socket(shadow_env: Env) -> None:
    """pyzmq's Socket.from_socket / Socket(plain_socket): an async handle on the same
    socket."""
    aenv = shadow_env
    zmq = aenv.zmq

    async def body() -> None:
        plain_ctx = zmq.Context()
        try:
            plain = plain_ctx.socket(zmq.PAIR)
            plain.linger = 0
            peer = plain_ctx.socket(zmq.PAIR)
            peer.linger = 0
            name = inproc()
            plain.bind(name)
            peer.connect(name)
            async_sock = aenv.azmq.Socket.from_socket(plain)
            also = aenv.azmq.Socket(plain)
            peer.send(b"to the shadow")
            assert await asyncio.wait_for(async_sock.recv(), TIMEOUT) == b"to the shadow"
            await also.send(b"from the shadow")
            assert peer.recv() == b"from the shadow"
            assert async_sock.get(zmq.TYPE) == zmq.PAIR
            also.close() if aenv.impl == "pyzmq" else None
            plain.close()
            peer.close()
        finally:
            plain_ctx.term()
    aenv.run(body)


def test_async_context_shadowing_a_plain_one(shadow_env: Env) -> None:
    aenv = shadow_env
    zmq = aenv.zmq

    async def body() -> None:
        plain_ctx = zmq.Context()
        try:
            actx = aenv.azmq.Context(plain_ctx)
            name = inproc()
            plain = plain_ctx.socket(zmq.PAIR)
            plain.linger = 0
            plain.bind(name)
            async_sock = actx.socket(zmq.PAIR)  # same context: inproc reaches it
            async_sock.linger = 0
            async_sock.connect(name)
            plain.send(b"across")
            assert await asyncio.wait_for(async_sock.recv(), TIMEOUT) == b"across"
            async_sock.close()
            plain.close()
        finally:
            plain_ctx.term()
    aenv.run(body)


def test_pending_recv_fails_with_eterm_when_the_context_terminates(penv: Env) -> None:
    """ctx.term() in another thread: a pending recv raises ContextTerminated, as a
    blocking recv does (pyzmq's future just stays pending); closing the socket then lets
    term() finish."""
    async def body() -> None:
        ctx = puremq.asyncio.Context()
        pull = ctx.socket(puremq.PULL)
        pull.bind(inproc())
        waiting = pull.recv()
        loop = asyncio.get_running_loop()
        terminating = loop.run_in_executor(None, ctx.term)
        with pytest.raises(puremq.ContextTerminated):
            await asyncio.wait_for(waiting, TIMEOUT)
        pull.close()
        await asyncio.wait_for(terminating, TIMEOUT)
    penv.run(body)


def test_outside_a_running_loop_warns_as_pyzmq(aenv: Env) -> None:
    """A call outside any running loop warns (RuntimeWarning) and uses the thread's loop."""
    zmq = aenv.zmq
    ctx = aenv.context()
    sock = aenv.socket(ctx, zmq.PULL)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        with pytest.warns(RuntimeWarning):
            future = sock.recv()
        assert not future.done()
        sock.close()
        assert future.cancelled()
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_deprecated_names(aenv: Env) -> None:
    with pytest.warns(DeprecationWarning):
        aenv.azmq.install()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        loop = aenv.azmq.ZMQEventLoop()
    assert isinstance(loop, asyncio.SelectorEventLoop)
    loop.close()


def test_send_behind_a_cancelled_send_on_a_writable_socket(penv: Env) -> None:
    """A send queued behind a cancelled one, on a socket that became writable while the
    loop looked away (its FD's edge consumed by someone else): it goes at once."""
    async def body() -> None:
        ctx = puremq.asyncio.Context()
        try:
            push = ctx.socket(puremq.PUSH)
            push.linger = 0
            push.sndhwm = 1
            pull = ctx.socket(puremq.PULL, socket_class=puremq.Socket)
            pull.linger = 0
            pull.rcvhwm = 1
            name = inproc()
            pull.bind(name)
            push.connect(name)
            pull.rcvtimeo = 1000
            await push.send(b"warm-up")  # the socket is now watched by the loop
            assert pull.recv() == b"warm-up"
            await asyncio.sleep(0.01)
            sent = 0
            while True:  # fill the pipe until a send has to wait
                future = push.send(b"%d" % sent)
                if not future.done():
                    break
                sent += 1
            future.cancel()
            for _ in range(sent):
                pull.recv()
            push._engine.poll_events()  # the edge is gone: the loop will not be woken
            await asyncio.wait_for(push.send(b"after"), TIMEOUT)
            assert pull.recv() == b"after"
        finally:
            ctx.destroy(linger=0)
    penv.run(body)


def test_pending_recv_fails_when_a_shadow_closes_the_socket(penv: Env) -> None:
    """The socket closed through another handle: a pending recv ends with ENOTSOCK (once
    the loop looks at the socket again) instead of waiting forever."""
    async def body() -> None:
        ctx = puremq.asyncio.Context()
        try:
            sock = ctx.socket(puremq.PULL)
            sock.bind(inproc())
            waiting = sock.recv()
            await asyncio.sleep(0.01)
            other = puremq.asyncio.Socket.from_socket(sock)
            other.close()
            assert sock.closed
            sock._schedule()  # the loop looks at the socket again (no FD fires for this)
            with pytest.raises(puremq.ZMQError) as info:
                await asyncio.wait_for(waiting, TIMEOUT)
            assert info.value.errno == puremq.ENOTSOCK
        finally:
            ctx.destroy(linger=0)
    penv.run(body)
