"""The puremq socket under attack and the well-behaved libzmq peer that must keep working."""

from __future__ import annotations

import itertools
from typing import Any, Tuple

import zmq as libzmq

import puremq

from ._wire import WAIT, assert_nothing_more, last_endpoint

_tokens = itertools.count()


def router_server(ctx: puremq.Context, **options: Any) -> Tuple[Any, str]:
    """A puremq ROUTER bound on a kernel-chosen loopback port; returns it and the endpoint."""
    router = ctx.socket(puremq.ROUTER)
    router.linger = 0
    for name, value in options.items():
        setattr(router, name, value)
    router.bind("tcp://127.0.0.1:*")
    return router, last_endpoint(router)


def good_dealer(zctx: libzmq.Context, endpoint: str) -> Any:
    """A libzmq DEALER connected to ``endpoint``: the peer that must keep being served."""
    dealer = zctx.socket(libzmq.DEALER)
    dealer.linger = 0
    dealer.connect(endpoint)
    return dealer


def assert_round_trip(router: Any, dealer: Any) -> None:
    """dealer -> router -> dealer, whole multipart messages, nothing else in between."""
    token = b"%d" % next(_tokens)
    dealer.send_multipart([b"ping", token])
    assert router.poll(int(WAIT * 1000)), "the well-behaved peer's request did not arrive"
    request = router.recv_multipart()
    assert request[1:] == [b"ping", token], request
    router.send_multipart([request[0], b"pong", token])
    assert dealer.poll(int(WAIT * 1000)), "the reply to the well-behaved peer did not arrive"
    assert dealer.recv_multipart() == [b"pong", token]
    assert_nothing_more(router, 0)
