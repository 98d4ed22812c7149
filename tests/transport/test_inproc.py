"""inproc specifics: bind and connect in either order, EADDRINUSE on a second bind of a
name, names freed by unbind/close, and names private to their context."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from ._util import TIMEOUT_MS, bind_retrying


def _name() -> str:
    return f"inproc://{uuid.uuid4().hex}"


@pytest.mark.parametrize("bind_first", [True, False])
def test_bind_and_connect_in_either_order(mctx: Any, zmq_mod: Any, bind_first: bool) -> None:
    name = _name()
    server, client = mctx.socket(zmq_mod.PAIR), mctx.socket(zmq_mod.PAIR)
    server.rcvtimeo = client.rcvtimeo = TIMEOUT_MS
    if bind_first:
        server.bind(name)
        client.connect(name)
    else:
        client.connect(name)
        client.send(b"sent before the bind")
        server.bind(name)
        assert server.recv() == b"sent before the bind"
    client.send(b"ping")
    assert server.recv() == b"ping"
    server.send(b"pong")
    assert client.recv() == b"pong"


def test_second_bind_of_a_name_is_eaddrinuse(mctx: Any, zmq_mod: Any) -> None:
    name = _name()
    first, second = mctx.socket(zmq_mod.PAIR), mctx.socket(zmq_mod.PAIR)
    first.bind(name)
    for sock in (first, second):
        with pytest.raises(zmq_mod.ZMQError) as info:
            sock.bind(name)
        assert info.value.errno == zmq_mod.EADDRINUSE


def test_unbind_and_close_free_the_name(mctx: Any, zmq_mod: Any) -> None:
    name = _name()
    first = mctx.socket(zmq_mod.PAIR)
    first.bind(name)
    first.unbind(name)
    second = mctx.socket(zmq_mod.PAIR)
    bind_retrying(second, zmq_mod, name)
    second.close()
    third = mctx.socket(zmq_mod.PAIR)
    bind_retrying(third, zmq_mod, name)


def test_names_are_private_to_their_context(zmq_mod: Any) -> None:
    name = _name()
    ctx_a, ctx_b = zmq_mod.Context(), zmq_mod.Context()
    try:
        server = ctx_a.socket(zmq_mod.PULL)
        server.bind(name)
        stranger = ctx_b.socket(zmq_mod.PUSH)
        stranger.connect(name)  # allowed: it waits for a bind in its own context
        stranger.send(b"never crosses contexts")
        assert server.poll(200) == 0
        own = ctx_b.socket(zmq_mod.PULL)
        own.rcvtimeo = TIMEOUT_MS
        own.bind(name)  # the same name is free in the other context
        assert own.recv() == b"never crosses contexts"
    finally:
        ctx_a.destroy(linger=0)
        ctx_b.destroy(linger=0)


def test_many_peers_on_one_name(mctx: Any, zmq_mod: Any) -> None:
    name = _name()
    router = mctx.socket(zmq_mod.ROUTER)
    router.rcvtimeo = TIMEOUT_MS
    dealers = []
    for index in range(20):
        dealer = mctx.socket(zmq_mod.DEALER)
        dealer.routing_id = b"d%d" % index
        dealer.connect(name)  # half before the bind, half after
        dealers.append(dealer)
        if index == 9:
            router.bind(name)
    for dealer in dealers:
        dealer.send(b"hi")
    senders = sorted(router.recv_multipart()[0] for _ in dealers)
    assert senders == sorted(b"d%d" % i for i in range(20))
