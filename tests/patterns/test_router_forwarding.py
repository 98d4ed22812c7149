"""A ROUTER driven by a forwarding loop (a proxy, a monitored queue), which runs the socket's
queued commands once per burst and then calls the pattern directly for each message."""

from __future__ import annotations

import uuid
from typing import Iterator

import pytest

import puremq as zmq


@pytest.fixture
def ctx() -> Iterator[zmq.Context]:
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


def test_a_message_for_a_peer_whose_attach_is_still_queued_reaches_it(
        ctx: zmq.Context) -> None:
    """A message routed to a peer that connected after the loop last ran the ROUTER's
    commands SHALL reach that peer, not be dropped as unroutable: the peer is there, only
    its attach waits for the ROUTER's thread (libzmq runs the commands at every send)."""
    address = f"inproc://{uuid.uuid4().hex}"
    router = ctx.socket(zmq.ROUTER)
    router.bind(address)
    engine = ctx.socket(zmq.DEALER)
    engine.routing_id = b"engine-1"
    engine.rcvtimeo = 2000
    engine.connect(address)
    pattern = router._pattern
    assert pattern.commands  # (the attach, not run yet: the case under test)
    assert pattern.xsend([b"engine-1", b"task"])
    assert engine.recv() == b"task"
