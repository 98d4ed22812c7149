"""Tornado: ZMQStream, eventloop.future and eventloop.ioloop, each scenario proven on pyzmq's
zmq.eventloop first, then required of puremq.eventloop (also on a loop without add_reader
and on uvloop: tornado >= 6 runs on the asyncio loop underneath)."""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
import warnings
from typing import Any, List, Tuple

import pytest

tornado = pytest.importorskip("tornado")
from tornado.ioloop import IOLoop  # noqa: E402

from .conftest import Env, bind_any, inproc  # noqa: E402

TIMEOUT = 5.0


def _stream_module(env: Env) -> Any:
    name = "zmq" if env.impl == "pyzmq" else "puremq"
    return importlib.import_module(f"{name}.eventloop.zmqstream")


def _future_module(env: Env) -> Any:
    name = "zmq" if env.impl == "pyzmq" else "puremq"
    return importlib.import_module(f"{name}.eventloop.future")


def _plain(env: Env, ctx: Any, kind: int) -> Any:
    sock = ctx.socket(kind, socket_class=env.zmq.Socket)
    sock.linger = 0
    return sock


async def _until(predicate: Any, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.002)


def test_zmqstream_echo(aenv: Env) -> None:
    zmq = aenv.zmq
    zmqstream = _stream_module(aenv)
    count = 30

    async def body() -> None:
        ctx = aenv.context()
        server = zmqstream.ZMQStream(_plain(aenv, ctx, zmq.ROUTER))
        endpoint = bind_any(server.socket)
        assert server.io_loop is IOLoop.current()
        server.on_recv_stream(lambda stream, msg: stream.send_multipart(msg))
        client = zmqstream.ZMQStream(_plain(aenv, ctx, zmq.DEALER))
        client.connect(endpoint)
        replies: List[List[bytes]] = []
        sent: List[Tuple[Any, Any]] = []
        client.on_recv(replies.append)
        client.on_send(lambda msg, status: sent.append((msg, status)))
        for index in range(count):
            client.send_multipart([b"%d" % index, b"payload"])
        await _until(lambda: len(replies) == count, "the echoes")
        assert replies == [[b"%d" % i, b"payload"] for i in range(count)]
        assert sent == [([b"%d" % i, b"payload"], None) for i in range(count)]
        assert client.receiving() and not client.sending()
        server.close()
        client.close()
    aenv.run(body)


def test_zmqstream_send_helpers_and_callbacks(aenv: Env) -> None:
    zmq = aenv.zmq
    zmqstream = _stream_module(aenv)

    async def body() -> None:
        ctx = aenv.context()
        pull = aenv.socket(ctx, zmq.PULL)
        endpoint = bind_any(pull)
        stream = zmqstream.ZMQStream(_plain(aenv, ctx, zmq.PUSH))
        stream.connect(endpoint)
        statuses: List[Any] = []
        stream.send(b"raw", callback=lambda msg, status: statuses.append(("raw", msg)))
        stream.send_string("text")
        stream.send_json({"j": [1]})
        stream.send_pyobj(("py", 2))
        stream.send_multipart([b"a", b"b"], copy=False)
        assert await asyncio.wait_for(pull.recv(), TIMEOUT) == b"raw"
        assert await asyncio.wait_for(pull.recv_string(), TIMEOUT) == "text"
        assert await asyncio.wait_for(pull.recv_json(), TIMEOUT) == {"j": [1]}
        assert await asyncio.wait_for(pull.recv_pyobj(), TIMEOUT) == ("py", 2)
        assert await asyncio.wait_for(pull.recv_multipart(), TIMEOUT) == [b"a", b"b"]
        # the callback given to send() became the on_send callback for the later sends
        await _until(lambda: len(statuses) == 5, "the send callbacks")
        assert statuses[0] == ("raw", [b"raw"])
        stream.on_send_stream(lambda s, msg, status: statuses.append((s is stream, msg)))
        stream.send(b"last")
        assert await asyncio.wait_for(pull.recv(), TIMEOUT) == b"last"
        await _until(lambda: len(statuses) == 6, "on_send_stream")
        assert statuses[-1] == (True, [b"last"])
        with pytest.raises(TypeError):
            stream.send_string(b"not str")
        stream.close()
    aenv.run(body)


def test_zmqstream_flush(aenv: Env) -> None:
    zmq = aenv.zmq
    zmqstream = _stream_module(aenv)

    async def body() -> None:
        ctx = aenv.context()
        name = inproc()
        a = zmqstream.ZMQStream(_plain(aenv, ctx, zmq.PAIR))
        a.bind(name)
        b = zmqstream.ZMQStream(_plain(aenv, ctx, zmq.PAIR))
        b.connect(name)
        got: List[Any] = []
        sent: List[Any] = []
        a.on_send(lambda msg, status: sent.append(msg))
        for index in range(5):
            a.send(b"%d" % index)
        assert a.sending()
        assert a.flush(zmq.POLLOUT) == 5  # sent now, not on the next loop iteration
        assert not a.sending() and len(sent) == 5
        await _until(lambda: b.socket.poll(0) == zmq.POLLIN, "arrival")
        b.on_recv(got.append)
        assert b.flush(zmq.POLLIN, limit=2) == 2
        assert got == [[b"0"], [b"1"]]
        b.flush()
        assert got == [[b"%d" % i] for i in range(5)]
        assert b.flush() == 0
        a.close()
        b.close()
    aenv.run(body)


def test_zmqstream_stop_on_recv_and_resume(aenv: Env) -> None:
    zmq = aenv.zmq
    zmqstream = _stream_module(aenv)

    async def body() -> None:
        ctx = aenv.context()
        stream = zmqstream.ZMQStream(_plain(aenv, ctx, zmq.PULL))
        endpoint = bind_any(stream.socket)
        push = aenv.socket(ctx, zmq.PUSH)
        push.connect(endpoint)
        got: List[Any] = []
        stream.on_recv(got.append)
        await push.send(b"one")
        await _until(lambda: got == [[b"one"]], "the first message")
        stream.stop_on_recv()
        assert not stream.receiving()
        await push.send(b"two")
        await asyncio.sleep(0.05)
        assert got == [[b"one"]]  # left in the socket
        stream.on_recv(got.append)
        await _until(lambda: got == [[b"one"], [b"two"]], "the queued message")
        stream.stop_on_send()
        stream.close()
    aenv.run(body)


def test_zmqstream_close(aenv: Env) -> None:
    zmq = aenv.zmq
    zmqstream = _stream_module(aenv)

    async def body() -> None:
        ctx = aenv.context()
        stream = zmqstream.ZMQStream(_plain(aenv, ctx, zmq.PAIR))
        closed: List[bool] = []
        stream.set_close_callback(lambda: closed.append(True))
        sock = stream.socket
        assert not stream.closed()
        stream.close(linger=0)
        assert stream.closed() and closed == [True] and sock.closed
        stream.close()  # twice is harmless
        assert closed == [True]
        with pytest.raises(OSError):
            stream.on_recv(lambda msg: None)
        # a socket closed under the stream: the stream notices
        other = zmqstream.ZMQStream(_plain(aenv, ctx, zmq.PAIR))
        other.socket.close()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert other.closed()
    aenv.run(body)


def test_zmqstream_coroutine_callbacks(aenv: Env, caplog: Any) -> None:
    zmq = aenv.zmq
    zmqstream = _stream_module(aenv)

    async def body() -> None:
        ctx = aenv.context()
        stream = zmqstream.ZMQStream(_plain(aenv, ctx, zmq.PULL))
        push = aenv.socket(ctx, zmq.PUSH)
        push.connect(bind_any(stream.socket))
        got: List[Any] = []

        async def on_msg(msg: Any) -> None:
            await asyncio.sleep(0)
            if msg == [b"boom"]:
                raise RuntimeError("callback failed")
            got.append(msg)
        stream.on_recv(on_msg)
        await push.send(b"boom")
        await push.send(b"fine")
        await _until(lambda: got == [[b"fine"]], "the coroutine callback")
        stream.close()

    with caplog.at_level(logging.ERROR):
        aenv.run(body)
    assert any("callback failed" in str(r.exc_info) for r in caplog.records if r.exc_info)


def test_zmqstream_recv_copy_false(aenv: Env) -> None:
    zmq = aenv.zmq
    zmqstream = _stream_module(aenv)

    async def body() -> None:
        ctx = aenv.context()
        stream = zmqstream.ZMQStream(_plain(aenv, ctx, zmq.PULL))
        push = aenv.socket(ctx, zmq.PUSH)
        push.connect(bind_any(stream.socket))
        got: List[Any] = []
        stream.on_recv(got.append, copy=False)
        await push.send_multipart([b"f1", b"f2"])
        await _until(lambda: got, "the frames")
        assert [frame.bytes for frame in got[0]] == [b"f1", b"f2"]
        stream.close()
    aenv.run(body)


def test_eventloop_future_sockets(aenv: Env) -> None:
    zmq = aenv.zmq
    future_mod = _future_module(aenv)

    async def body() -> None:
        ctx = future_mod.Context()
        try:
            a = ctx.socket(zmq.PAIR)
            b = ctx.socket(zmq.PAIR)
            name = inproc()
            a.bind(name)
            b.connect(name)
            assert isinstance(a, future_mod.Socket)
            waiting = b.recv_multipart()
            await a.send_multipart([b"t", b"f"])
            assert await asyncio.wait_for(waiting, TIMEOUT) == [b"t", b"f"]
            poller = future_mod.Poller()
            poller.register(b, zmq.POLLIN)
            assert await poller.poll(10) == []
            await a.send(b"p")
            assert dict(await asyncio.wait_for(poller.poll(), TIMEOUT)) == {b: zmq.POLLIN}
            assert await b.recv() == b"p"
            # tornado flavour of cancellation: the module's CancelledError, as an exception
            cancelled = b.recv()
            assert cancelled.cancel()
            assert cancelled.done() and cancelled.cancelled()
            assert isinstance(cancelled.exception(), future_mod.CancelledError)
            await a.send(b"after")
            assert await asyncio.wait_for(b.recv(), TIMEOUT) == b"after"
            a.close()
            b.close()
        finally:
            ctx.destroy(linger=0)
    aenv.run(body)


@pytest.mark.parametrize("package", ["zmq", "puremq"])
def test_module_paths_import_as_in_pyzmq(package: str) -> None:
    for path in ("asyncio", "eventloop", "eventloop.zmqstream", "eventloop.future",
                 "eventloop.ioloop"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            importlib.import_module(f"{package}.{path}")
    eventloop = importlib.import_module(f"{package}.eventloop")
    assert eventloop.IOLoop is IOLoop
    sys.modules.pop(f"{package}.eventloop.ioloop", None)
    with pytest.warns(DeprecationWarning):
        ioloop = importlib.import_module(f"{package}.eventloop.ioloop")
    assert ioloop.IOLoop is IOLoop and ioloop.ZMQIOLoop is IOLoop
    with pytest.warns(DeprecationWarning):
        ioloop.install()
