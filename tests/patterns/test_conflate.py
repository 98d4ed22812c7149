"""CONFLATE: a conflating queue keeps only the newest message (libzmq's test_conflate).

Over inproc it is the connecting socket's option that counts, as in libzmq; over tcp/ipc
each socket's own queues conflate.
"""

from __future__ import annotations

import pytest

import puremq as zmq

from .conftest import assert_quiet, newest_queued, sync_subscriber, wait_for


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_bound_receiver_keeps_only_the_last_message(net):
    pull = net.socket(zmq.PULL, conflate=1)
    push = net.socket(zmq.PUSH)
    push.connect(net.bind(pull))
    for i in range(20):
        push.send(b"%d" % i)
    wait_for(lambda: newest_queued(pull) == [b"19"], what="the last message to arrive")
    assert pull.recv() == b"19"
    assert_quiet(pull)


def test_connecting_receiver_keeps_only_the_last_message(net):
    push = net.socket(zmq.PUSH)
    address = net.bind(push)
    pull = net.socket(zmq.PULL, conflate=1)
    pull.connect(address)
    push.send(b"first")  # waits until the receiver is attached
    for i in range(20):
        push.send(b"%d" % i)
    wait_for(lambda: newest_queued(pull) == [b"19"], what="the last message to arrive")
    assert pull.recv() == b"19"
    assert_quiet(pull)


def test_conflating_sender_before_the_connection_sends_only_the_last(net):
    address = net.unbound_endpoint()
    push = net.socket(zmq.PUSH, conflate=1)
    push.connect(address)
    for i in range(5):
        push.send(b"%d" % i, zmq.DONTWAIT)  # each replaces the one before
    pull = net.socket(zmq.PULL)
    pull.bind(address)
    assert pull.recv() == b"4"
    assert_quiet(pull)


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_conflating_subscriber_with_rcvhwm_one_sees_the_latest_value(net):
    pub = net.socket(zmq.PUB)
    sub = net.socket(zmq.SUB, rcvhwm=1, conflate=1)
    sub.subscribe(b"")
    sub.connect(net.bind(pub))
    sync_subscriber(pub, sub)
    for i in range(100):
        pub.send(b"value %d" % i)
    wait_for(lambda: newest_queued(sub) == [b"value 99"], what="the latest value")
    assert sub.recv() == b"value 99"
    assert_quiet(sub)
