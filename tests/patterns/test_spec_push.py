"""RFC 30/PIPELINE: the PUSH socket type, one test per clause, on inproc, tcp and ipc."""

from __future__ import annotations

import time

import pytest

import puremq as zmq

from .conftest import (assert_again, assert_errno, assert_quiet, peer_count,
                       recv_within, wait_for, wait_peers)

SERVICES = 5


def test_only_sends(net):
    """MAY be connected to any number of PULL peers, and SHALL only send messages."""
    push = net.socket(zmq.PUSH)
    net.bind(push)
    assert_errno(zmq.ENOTSUP, lambda: push.recv(zmq.DONTWAIT))
    assert not push.poll(0, zmq.POLLIN)


def test_outgoing_messages_not_modified(net):
    """SHALL not filter or modify outgoing messages in any way."""
    push = net.socket(zmq.PUSH)
    pull = net.socket(zmq.PULL)
    push.connect(net.bind(pull))
    message = [b"", b"\x01topic", b"\x00", b"z" * 1000, b""]
    push.send_multipart(message)
    assert pull.recv_multipart() == message


@pytest.mark.parametrize("side", ["connect", "bind"])
def test_round_robin_to_peers(net, side):
    """SHALL route outgoing messages to available peers using a round-robin strategy."""
    push = net.socket(zmq.PUSH)
    pulls = [net.socket(zmq.PULL) for _ in range(SERVICES)]
    if side == "connect":
        for pull in pulls:  # queues exist from connect(): no waiting needed
            push.connect(net.bind(pull))
    else:
        address = net.bind(push)
        for pull in pulls:
            pull.connect(address)
        wait_peers(push, SERVICES)
    for _ in range(SERVICES):
        push.send(b"ABC")
    for _ in range(SERVICES):
        push.send(b"DEF")
    for pull in pulls:
        assert pull.recv() == b"ABC"
        assert pull.recv() == b"DEF"
    assert_quiet(*pulls)


def test_queue_per_peer_and_available_only_when_not_full(net):
    """SHALL maintain an outgoing message queue for each connected peer.
    SHALL consider a peer as available only when it has a outgoing queue that is not full."""
    push = net.socket(zmq.PUSH, sndhwm=2, sndbuf=4096)
    stuck = net.socket(zmq.PULL, rcvhwm=2, rcvbuf=4096)
    flowing = net.socket(zmq.PULL, rcvhwm=0)
    push.connect(net.bind(stuck))
    push.connect(net.bind(flowing))
    payload = b"w" * 16384
    total = 200
    for i in range(total):
        push.send(b"%d " % i + payload)  # never blocks for long: 'flowing' is available
    got_stuck = 0
    while recv_within(stuck, net.fill_ms) is not None:
        got_stuck += 1
    for _ in range(total - got_stuck):
        assert recv_within(flowing) is not None
    assert_quiet(flowing)
    if net.transport == "inproc":
        assert got_stuck == 4  # SNDHWM + RCVHWM, then it was skipped
    else:
        assert got_stuck < total // 2  # strict alternation would have given it half


def test_queue_exists_before_the_connection(net):
    """SHALL create this queue when initiating an outgoing connection to a peer, and SHALL
    maintain the queue whether or not the connection is established."""
    address = net.unbound_endpoint()
    push = net.socket(zmq.PUSH)
    push.connect(address)
    for i in range(5):
        push.send(b"early %d" % i, zmq.DONTWAIT)
    pull = net.socket(zmq.PULL)
    pull.bind(address)
    assert [pull.recv() for _ in range(5)] == [b"early %d" % i for i in range(5)]


def test_queue_destroyed_when_peer_disconnects(net):
    """SHALL create this queue when a peer connects to it. If this peer disconnects, the
    PUSH socket SHALL destroy its queue and SHALL discard any messages it contains."""
    push = net.socket(zmq.PUSH, sndhwm=1, sndbuf=4096)
    address = net.bind(push)
    pull = net.socket(zmq.PULL, rcvhwm=1, rcvbuf=4096)
    pull.connect(address)
    payload = b"s" * 65536
    push.send(b"first " + payload)   # waits until the peer is attached
    push.sndtimeo = net.fill_ms
    stale = 1
    while True:
        try:
            push.send(b"stale " + payload)
        except zmq.Again:
            break
        stale += 1
    pull.close()
    wait_for(lambda: peer_count(push) == 0, what="the peer to leave")
    assert_again(lambda: push.send(b"nobody", zmq.DONTWAIT))
    successor = net.socket(zmq.PULL)
    successor.connect(address)
    push.sndtimeo = 2000
    push.send(b"fresh")
    assert successor.recv() == b"fresh"
    assert_quiet(successor)


def test_blocks_or_errors_without_peers(net):
    """SHALL block on sending, or return a suitable error, when it has no available peers."""
    push = net.socket(zmq.PUSH, sndtimeo=100)
    net.bind(push)
    assert_again(lambda: push.send(b"", zmq.DONTWAIT))
    started = time.monotonic()
    assert_again(lambda: push.send(b""))
    assert time.monotonic() - started >= 0.09


def test_blocks_or_errors_when_all_peers_are_full(net):
    """SHALL block on sending, or return a suitable error, when it has no available peers.
    SHALL not accept further messages when it has no available peers."""
    push = net.socket(zmq.PUSH, sndhwm=1, sndbuf=4096)
    pulls = [net.socket(zmq.PULL, rcvhwm=1, rcvbuf=4096) for _ in range(2)]
    for pull in pulls:
        push.connect(net.bind(pull))
    payload = b"f" * 65536
    push.sndtimeo = net.fill_ms
    accepted = 0
    while True:
        try:
            push.send(payload)
        except zmq.Again:
            break
        accepted += 1
    if net.transport == "inproc":
        assert accepted == 4
    assert_again(lambda: push.send(b"more", zmq.DONTWAIT))
    assert not push.poll(0, zmq.POLLOUT)
    # One peer draining makes the socket available again.
    while recv_within(pulls[0], net.fill_ms) is not None:
        pass
    assert push.poll(2000, zmq.POLLOUT)
    push.send(b"more", zmq.DONTWAIT)


def test_does_not_discard_what_it_cannot_queue(net):
    """SHALL NOT discard messages that it cannot queue."""
    push = net.socket(zmq.PUSH, sndhwm=2, sndbuf=4096)
    pull = net.socket(zmq.PULL, rcvhwm=2, rcvbuf=4096)
    push.connect(net.bind(pull))
    payload = b"k" * 32768
    push.sndtimeo = net.fill_ms
    accepted = 0
    while True:
        try:
            push.send(b"%d " % accepted + payload)
        except zmq.Again:
            break
        accepted += 1
    # The refused message is the caller's to keep: everything accepted arrives, in order,
    # and nothing else.
    received = [pull.recv().split(b" ", 1)[0] for _ in range(accepted)]
    assert received == [b"%d" % i for i in range(accepted)]
    assert_quiet(pull)


def test_send_waits_for_a_peer_then_delivers(net):
    """SHALL block on sending ... when it has no available peers (and deliver once one
    appears)."""
    push = net.socket(zmq.PUSH)
    address = net.bind(push)
    pull = net.socket(zmq.PULL)
    pull.connect(address)
    push.send(b"waited")  # blocks until the pull is attached (at most SNDTIMEO)
    assert pull.recv() == b"waited"
