"""RFC 31/EXPAIR: the PAIR socket type, one test per clause, on inproc, tcp and ipc."""

from __future__ import annotations

import time

import puremq as zmq

from .conftest import assert_again, assert_quiet, peer_count, wait_for, wait_peers


def _pair(net):
    a = net.socket(zmq.PAIR)
    b = net.socket(zmq.PAIR)
    b.connect(net.bind(a))
    return a, b


def test_both_send_and_receive(net):
    """MAY be connected to at most one PAIR peers, and MAY both send and receive messages."""
    a, b = _pair(net)
    b.send(b"ping")
    assert a.recv() == b"ping"
    a.send(b"pong")
    assert b.recv() == b"pong"


def test_messages_are_not_modified(net):
    """SHALL not filter or modify outgoing or incoming messages in any way."""
    a, b = _pair(net)
    message = [b"", b"\x00\x01\xff", b"x" * 300, b"", bytes(range(256))]
    b.send_multipart(message)
    assert a.recv_multipart() == message
    a.send_multipart(message[::-1])
    assert b.recv_multipart() == message[::-1]


def test_second_peer_is_refused_while_the_first_is_attached(net):
    """MAY be connected to at most one PAIR peers."""
    a = net.socket(zmq.PAIR)
    address = net.bind(a)
    first = net.socket(zmq.PAIR)
    first.connect(address)
    first.send(b"first")
    assert a.recv() == b"first"
    second = net.socket(zmq.PAIR, sndtimeo=0)
    second.connect(address)
    try:
        second.send(b"intruder")
    except zmq.Again:
        pass  # inproc: the refused connection left it without a peer at once
    for i in range(5):
        a.send(b"reply %d" % i)
    # Everything from the bound side goes to the first peer, nothing to the second,
    # and nothing the second sent is delivered.
    for i in range(5):
        assert first.recv() == b"reply %d" % i
    assert_quiet(a, second)
    first.send(b"still here")
    assert a.recv() == b"still here"


def test_a_new_peer_is_accepted_once_the_first_has_gone(net):
    """MAY be connected to at most one PAIR peers (the one slot frees when the peer leaves)."""
    a = net.socket(zmq.PAIR)
    address = net.bind(a)
    first = net.socket(zmq.PAIR)
    first.connect(address)
    first.send(b"first")
    assert a.recv() == b"first"
    first.close()
    wait_for(lambda: peer_count(a) == 0, what="the first peer to leave")
    successor = net.socket(zmq.PAIR)
    successor.connect(address)
    successor.send(b"successor")
    assert a.recv() == b"successor"
    a.send(b"welcome")
    assert successor.recv() == b"welcome"


def test_double_queue_both_directions_independently(net):
    """SHALL maintain a double queue for its peer, allowing outgoing and incoming messages
    to be queued independently."""
    a, b = _pair(net)
    for i in range(10):
        a.send(b"a%d" % i)
        b.send(b"b%d" % i)
    assert [a.recv() for _ in range(10)] == [b"b%d" % i for i in range(10)]
    assert [b.recv() for _ in range(10)] == [b"a%d" % i for i in range(10)]


def test_queue_exists_before_the_connection_is_established(net):
    """SHALL create a double queue when initiating an outgoing connection to a peer, and
    SHALL maintain the double queue whether or not the connection is established."""
    address = net.unbound_endpoint()
    b = net.socket(zmq.PAIR)
    b.connect(address)
    for i in range(3):
        b.send(b"early %d" % i, zmq.DONTWAIT)  # queued, nobody listens yet
    a = net.socket(zmq.PAIR)
    a.bind(address)
    assert [a.recv() for _ in range(3)] == [b"early %d" % i for i in range(3)]


def test_queue_is_destroyed_when_the_peer_disconnects(net):
    """SHALL create a double queue when a peer connects to it. If this peer disconnects, the
    PAIR socket SHALL destroy its double queue and SHALL discard any messages it contains."""
    a = net.socket(zmq.PAIR, sndhwm=2)
    address = net.bind(a)
    first = net.socket(zmq.PAIR, rcvhwm=2)
    first.connect(address)
    first.send(b"hello")
    assert a.recv() == b"hello"
    a.send(b"stale")
    first.close()
    wait_for(lambda: peer_count(a) == 0, what="the peer to leave")
    # With the peer gone, its queue and what it held are gone: a has no peer at all.
    assert_again(lambda: a.send(b"nobody", zmq.DONTWAIT))
    successor = net.socket(zmq.PAIR)
    successor.connect(address)
    successor.send(b"hi")
    assert a.recv() == b"hi"
    a.send(b"fresh")
    assert successor.recv() == b"fresh"


def test_peer_available_only_while_its_queue_is_not_full(net):
    """SHALL consider its peer as available only when it has a outgoing queue that is not
    full."""
    a = net.socket(zmq.PAIR, sndhwm=4)
    address = net.bind(a)
    b = net.socket(zmq.PAIR, rcvhwm=4)
    b.connect(address)
    b.send(b"up")
    assert a.recv() == b"up"
    payload = b"p" * 65536
    sent = _fill(a, payload, net.fill_ms)
    if net.transport == "inproc":
        assert sent == 8  # a's SNDHWM + b's RCVHWM
    else:
        assert sent >= 8  # plus whatever the kernel buffers hold
    assert not a.poll(0, zmq.POLLOUT)
    if net.transport == "inproc":
        b.recv()  # one free slot makes the peer available again
    else:
        for _ in range(sent):  # the kernel buffers and b's queue drain in batches
            b.recv()
    assert a.poll(2000, zmq.POLLOUT)


def _fill(sock, payload, timeout_ms):
    """Send with a short timeout until the socket stays full."""
    sock.sndtimeo = timeout_ms
    sent = 0
    while True:
        try:
            sock.send(payload)
        except zmq.Again:
            return sent
        sent += 1


def test_blocks_or_errors_without_a_peer(net):
    """SHALL block on sending, or return a suitable error, when it has no available peer."""
    a = net.socket(zmq.PAIR, sndtimeo=100)
    net.bind(a)
    assert_again(lambda: a.send(b"x", zmq.DONTWAIT))
    started = time.monotonic()
    assert_again(lambda: a.send(b"x"))
    assert time.monotonic() - started >= 0.09


def test_send_blocks_until_a_peer_arrives(net):
    """SHALL block on sending ... when it has no available peer (and go on once it has one)."""
    a = net.socket(zmq.PAIR)
    address = net.bind(a)
    b = net.socket(zmq.PAIR)
    assert not a.poll(0, zmq.POLLOUT)
    b.connect(address)
    a.send(b"after the peer came")  # blocks (up to SNDTIMEO) until b is attached
    assert b.recv() == b"after the peer came"


def test_no_further_messages_accepted_and_none_discarded_when_full(net):
    """SHALL not accept further messages when it has no available peer.
    SHALL NOT discard messages that it cannot queue."""
    a = net.socket(zmq.PAIR, sndhwm=3)
    address = net.bind(a)
    b = net.socket(zmq.PAIR, rcvhwm=3)
    b.connect(address)
    b.send(b"up")
    assert a.recv() == b"up"
    payload = b"q" * 65536
    accepted = 0
    a.sndtimeo = net.fill_ms
    while True:
        try:
            a.send(b"%d:" % accepted + payload)
        except zmq.Again:
            break
        accepted += 1
    assert_again(lambda: a.send(b"refused", zmq.DONTWAIT))
    received = [b.recv() for _ in range(accepted)]
    assert [m.split(b":", 1)[0] for m in received] == [b"%d" % i for i in range(accepted)]
    assert_quiet(b)
    a.send(b"after")
    assert b.recv() == b"after"


def test_receives_from_its_single_peer(net):
    """SHALL receive incoming messages from its single peer if it has one.
    SHALL deliver these to its calling application."""
    a, b = _pair(net)
    a.rcvtimeo = 100
    assert_again(a.recv)
    b.send_multipart([b"one", b"two"])
    assert a.recv_multipart() == [b"one", b"two"]
    wait_peers(a, 1)
