"""RFC 30/PIPELINE: the PULL socket type, one test per clause, on inproc, tcp and ipc."""

from __future__ import annotations

import puremq as zmq

from .conftest import (assert_again, assert_errno, assert_quiet, peer_count, wait_for,
                       wait_queued)

SERVICES = 5


def test_only_receives(net):
    """MAY be connected to any number of PUSH peers, and SHALL only receive messages."""
    pull = net.socket(zmq.PULL)
    net.bind(pull)
    assert_errno(zmq.ENOTSUP, lambda: pull.send(b"x", zmq.DONTWAIT))
    assert not pull.poll(0, zmq.POLLOUT)


def test_incoming_messages_not_modified(net):
    """SHALL not filter or modify incoming messages in any way."""
    pull = net.socket(zmq.PULL)
    push = net.socket(zmq.PUSH)
    push.connect(net.bind(pull))
    message = [b"\x00", b"", b"\xff" * 70000, b"\x01"]
    push.send_multipart(message)
    assert pull.recv_multipart() == message


def test_fair_queue_in(net):
    """SHALL receive incoming messages from its peers using a fair-queuing strategy."""
    pull = net.socket(zmq.PULL)
    address = net.bind(pull)
    pushes = [net.socket(zmq.PUSH) for _ in range(SERVICES)]
    for push in pushes:
        push.connect(address)
    # Each peer sends two messages back to back: A,F / B,G / C,H / ...
    for index, push in enumerate(pushes):
        push.send(bytes([ord("A") + index]))
        push.send(bytes([ord("A") + SERVICES + index]))
    wait_queued(pull, 2 * SERVICES)
    first = {pull.recv() for _ in range(SERVICES)}
    second = {pull.recv() for _ in range(SERVICES)}
    assert first == {bytes([ord("A") + i]) for i in range(SERVICES)}
    assert second == {bytes([ord("A") + SERVICES + i]) for i in range(SERVICES)}


def test_fair_queue_does_not_let_a_busy_peer_starve_others(net):
    """SHALL receive incoming messages from its peers using a fair-queuing strategy."""
    pull = net.socket(zmq.PULL)
    address = net.bind(pull)
    busy = net.socket(zmq.PUSH)
    quiet = net.socket(zmq.PUSH)
    busy.connect(address)
    quiet.connect(address)
    for i in range(100):
        busy.send(b"busy %d" % i)
    quiet.send(b"quiet")
    wait_queued(pull, 101)
    first_two = {pull.recv(), pull.recv()}
    assert b"quiet" in first_two


def test_queue_exists_before_the_connection(net):
    """SHALL create this queue when initiating an outgoing connection to a peer, and SHALL
    maintain the queue whether or not the connection is established."""
    address = net.unbound_endpoint()
    pull = net.socket(zmq.PULL)
    pull.connect(address)
    push = net.socket(zmq.PUSH)
    push.bind(address)
    push.send(b"late binder")
    assert pull.recv() == b"late binder"


def test_local_disconnect_destroys_the_queue(net):
    """SHALL create this queue when initiating an outgoing connection to a peer ... If this
    peer disconnects, the PULL socket SHALL destroy its queue and SHALL discard any messages
    it contains.  (libzmq's test: after zmq_disconnect nothing old is received.)"""
    push = net.socket(zmq.PUSH)
    address = net.bind(push)
    pull = net.socket(zmq.PULL)
    pull.connect(address)
    push.send(b"old 1")
    push.send(b"old 2")
    wait_queued(pull, 2)
    pull.disconnect(address)
    assert_again(lambda: pull.recv(zmq.DONTWAIT))
    # (the pusher must notice the old connection is gone, or "new" could go down it)
    wait_for(lambda: peer_count(push) == 0, what="the pusher to drop the old peer")
    pull.connect(address)
    assert_again(lambda: pull.recv(zmq.DONTWAIT))
    push.send(b"new")
    assert pull.recv() == b"new"


def test_delivers_to_the_application(net):
    """SHALL deliver these to its calling application."""
    pull = net.socket(zmq.PULL, rcvtimeo=100)
    address = net.bind(pull)
    assert_again(pull.recv)
    push = net.socket(zmq.PUSH)
    push.connect(address)
    push.send_multipart([b"a", b"b"])
    assert pull.poll(2000, zmq.POLLIN)
    assert pull.recv() == b"a"
    assert pull.getsockopt(zmq.RCVMORE) == 1
    assert pull.recv() == b"b"
    assert pull.getsockopt(zmq.RCVMORE) == 0
    assert_quiet(pull)
