"""The FD / EVENTS contract that every event loop integration rests on.

libzmq (zmq_getsockopt, ZMQ_EVENTS): ZMQ_POLLIN "at least one message may be received from
the socket without blocking" -- which includes the remaining parts of a multipart message
whose first part was read.  ZMQ_FD: "the application must retrieve the actual event state
with a subsequent retrieval of the ZMQ_EVENTS option"; reading EVENTS re-arms the fd.

Every assertion is made against pyzmq (the reference) and puremq alike where both apply.
"""

from __future__ import annotations

import select
import threading
import uuid
from typing import Any

import pytest

import puremq
import zmq as pyzmq

MODULES = {"pyzmq": pyzmq, "puremq": puremq}


@pytest.fixture(params=sorted(MODULES))
def zmq_mod(request: Any) -> Any:
    return MODULES[request.param]


@pytest.fixture
def pair(zmq_mod: Any):
    ctx = zmq_mod.Context()
    a, b = ctx.socket(zmq_mod.PAIR), ctx.socket(zmq_mod.PAIR)
    for sock in (a, b):
        sock.linger = 0
        sock.rcvtimeo = sock.sndtimeo = 5000
    name = f"inproc://{uuid.uuid4().hex}"
    a.bind(name)
    b.connect(name)
    yield zmq_mod, a, b
    a.close(0)
    b.close(0)
    ctx.term()


def _readable(fd: int) -> bool:
    waiter = select.poll()
    waiter.register(fd, select.POLLIN)
    return bool(waiter.poll(0))


def test_events_reports_the_rest_of_a_multipart_message(pair: Any) -> None:
    """POLLIN while parts of a message whose first part was read are still to be read: by
    EVENTS, Socket.poll, Poller.poll and zmq.select."""
    zmq, a, b = pair
    a.send_multipart([b"1", b"2", b"3"])
    assert b.poll(5000) == zmq.POLLIN
    assert b.recv() == b"1"
    assert b.rcvmore
    assert b.get(zmq.EVENTS) & zmq.POLLIN
    assert b.poll(0) == zmq.POLLIN
    poller = zmq.Poller()
    poller.register(b, zmq.POLLIN)
    assert dict(poller.poll(0)) == {b: zmq.POLLIN}
    assert zmq.select([b], [], [], 0)[0] == [b]
    assert b.recv() == b"2"
    assert b.poll(0) == zmq.POLLIN
    assert b.recv() == b"3"
    assert not b.rcvmore
    assert b.poll(0) == 0
    assert not b.get(zmq.EVENTS) & zmq.POLLIN


def test_wake_racing_with_the_owner_leaves_no_stale_readable_fd() -> None:
    """A producer's wake-up racing with the owner re-arming (reading EVENTS): the producer
    raises the flag, then writes the fd outside the lock; an owner that re-arms in
    between finds nothing to drain yet and leaves the flag up.  The write then makes the
    fd readable once (an early wake-up, which the FD contract allows: EVENTS tells), and
    one EVENTS read afterwards drains it and leaves the fd quiet (a watcher using
    add_reader does not spin)."""
    ctx = puremq.Context()
    sock = ctx.socket(puremq.PULL)
    try:
        engine = sock._engine
        real = engine.signaler
        owner = threading.Thread(target=engine._arm)

        class Interleaved:
            """The owner re-arms from its own thread, wholly between the producer's flag
            and its write."""

            def set(self) -> None:
                owner.start()
                owner.join(5)
                assert not owner.is_alive(), "the owner's re-arm waited for the producer"
                real.set()

            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

        sock.get(puremq.EVENTS)  # armed, fd quiet
        assert not _readable(sock.FD)
        engine.signaler = Interleaved()
        try:
            engine.wake()
        finally:
            engine.signaler = real
        # the re-arm came before the write: armed again (the owner looks at the socket's
        # state next: nothing is lost), the flag still up for the write to be drained
        assert engine.armed and engine.fd_pending
        sock.get(puremq.EVENTS)
        assert not _readable(sock.FD), "EVENTS left the fd readable: a level-triggered " \
                                       "watcher would spin"
        assert not engine.fd_pending
        sock.get(puremq.EVENTS)
        assert not _readable(sock.FD)
    finally:
        sock.close(0)
        ctx.term()
