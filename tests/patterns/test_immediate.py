"""IMMEDIATE: with IMMEDIATE=1 a connect() queues nothing until the connection is up
(libzmq's test_immediate); over inproc it has no effect, as in libzmq."""

from __future__ import annotations

import pytest

import puremq as zmq

from .conftest import assert_again, assert_quiet, recv_within, wait_for

stream_transports = pytest.mark.parametrize("transport", ["tcp", "ipc"])


@stream_transports
def test_no_queue_for_a_peer_that_is_not_connected(net):
    push = net.socket(zmq.PUSH, immediate=1, sndtimeo=100)
    push.connect(net.unbound_endpoint())
    assert_again(lambda: push.send(b"x", zmq.DONTWAIT))
    assert_again(lambda: push.send(b"x"))
    assert not push.poll(0, zmq.POLLOUT)


@stream_transports
def test_messages_go_only_to_connected_peers(net):
    push = net.socket(zmq.PUSH, immediate=1)
    live = net.socket(zmq.PULL)
    dead_address = net.unbound_endpoint()
    push.connect(dead_address)
    push.connect(net.bind(live))
    for i in range(10):
        push.send(b"%d" % i)  # the first waits for the live connection
    assert [live.recv() for _ in range(10)] == [b"%d" % i for i in range(10)]
    # Once the second peer exists, it gets its share.
    late = net.socket(zmq.PULL)
    late.bind(dead_address)
    got_late = None
    for i in range(200):
        push.send(b"later %d" % i)
        got_late = recv_within(late, 10)
        if got_late is not None:
            break
    assert got_late is not None and got_late[0].startswith(b"later ")


@stream_transports
def test_without_immediate_the_queue_exists_before_the_connection(net):
    push = net.socket(zmq.PUSH)
    address = net.unbound_endpoint()
    push.connect(address)
    push.send(b"queued", zmq.DONTWAIT)
    pull = net.socket(zmq.PULL)
    pull.bind(address)
    assert pull.recv() == b"queued"


def test_inproc_ignores_immediate(ctx):
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.immediate = 1
    address = "inproc://immediate-%d" % id(ctx)
    push.connect(address)
    push.send(b"queued anyway", zmq.DONTWAIT)
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    pull.bind(address)
    assert pull.recv(zmq.DONTWAIT) == b"queued anyway"
    assert_quiet(pull)


@stream_transports
def test_peer_lost_means_no_queue_again(net):
    push = net.socket(zmq.PUSH, immediate=1)
    pull = net.socket(zmq.PULL)
    push.connect(net.bind(pull))
    push.send(b"up")
    assert pull.recv() == b"up"
    pull.close()
    # Once the connection is gone, nothing is accepted any more.
    wait_for(lambda: not push.poll(0, zmq.POLLOUT), what="the lost peer's queue to go")
    assert_again(lambda: push.send(b"x", zmq.DONTWAIT))
