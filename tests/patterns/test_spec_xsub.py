"""RFC 29/PUBSUB: the XSUB socket type, one test per clause, on inproc, tcp and ipc."""

from __future__ import annotations

import time

import puremq as zmq

from .conftest import (assert_quiet, recv_within, sync_subscriber, wait_queued)


def _xpub_xsub(net, **xsub_options):
    xpub = net.socket(zmq.XPUB)
    xsub = net.socket(zmq.XSUB, **xsub_options)
    xsub.connect(net.bind(xpub))
    return xpub, xsub


def test_sends_and_receives(net):
    """MAY be connected to any number of PUB or XPUB publishers, and MAY both send and receive
    messages."""
    xpub, xsub = _xpub_xsub(net)
    xsub.send(b"\x01")
    assert xpub.recv() == b"\x01"
    xpub.send(b"down")
    assert xsub.recv() == b"down"
    xsub.send(b"up")
    assert xpub.recv() == b"up"


def test_double_queue_per_publisher(net):
    """SHALL maintain a double queue for each connected publisher, allowing outgoing and
    incoming messages to be queued independently."""
    xpub, xsub = _xpub_xsub(net)
    xsub.send(b"\x01")
    assert xpub.recv() == b"\x01"
    for i in range(5):
        xpub.send(b"down %d" % i)
        xsub.send(b"up %d" % i)
    wait_queued(xsub, 5)
    assert [xsub.recv() for _ in range(5)] == [b"down %d" % i for i in range(5)]
    assert [xpub.recv() for _ in range(5)] == [b"up %d" % i for i in range(5)]


def test_queue_exists_before_the_connection(net):
    """SHALL create a double queue when initiating an outgoing connection to a publisher, and
    SHALL maintain the double queue whether or not the connection is established."""
    address = net.unbound_endpoint()
    xsub = net.socket(zmq.XSUB)
    xsub.connect(address)
    xsub.send(b"\x01early")
    xsub.send(b"early data")
    xpub = net.socket(zmq.XPUB)
    xpub.bind(address)
    assert xpub.recv() == b"\x01early"
    assert xpub.recv() == b"early data"
    xpub.send(b"early reply")
    assert xsub.recv() == b"early reply"


def test_incoming_messages_not_modified_nor_filtered(net):
    """SHALL not modify incoming messages in any way.
    MAY, depending on the transport, filter messages according to subscriptions.
    (XSUB does not filter itself: what the publisher sent, it delivers.)"""
    pub = net.socket(zmq.PUB)
    xsub = net.socket(zmq.XSUB)
    xsub.connect(net.bind(pub))
    xsub.send(b"\x01A")
    sync_subscriber(pub, xsub, b"A")
    for i in range(3):
        pub.send_multipart([b"A%d" % i, b"", b"\x00"])
    wait_queued(xsub, 3)
    xsub.send(b"\x00A")  # unsubscribed now, but these were sent while subscribed
    assert [xsub.recv_multipart() for _ in range(3)] == [[b"A%d" % i, b"", b"\x00"]
                                                         for i in range(3)]


def test_full_incoming_queue_discards_silently(net):
    """SHALL silently discard messages if the incoming queue for a publisher is full."""
    pub = net.socket(zmq.PUB, sndhwm=2, sndbuf=4096)
    xsub = net.socket(zmq.XSUB, rcvhwm=2, rcvbuf=4096)
    xsub.connect(net.bind(pub))
    xsub.send(b"\x01")
    sync_subscriber(pub, xsub)
    for i in range(500):
        pub.send(b"%d " % i + b"i" * 8192)
    got = []
    while True:
        msg = recv_within(xsub, net.fill_ms)
        if msg is None:
            break
        got.append(int(msg[0].split(b" ", 1)[0]))
    assert 0 < len(got) < 500
    assert got == sorted(got)


def test_fair_queue_in(net):
    """SHALL receive incoming messages from its publishers using a fair-queuing strategy.
    SHALL deliver messages to its calling application."""
    xsub = net.socket(zmq.XSUB)
    pubs = [net.socket(zmq.PUB) for _ in range(3)]
    for pub in pubs:
        xsub.connect(net.bind(pub))
    xsub.send(b"\x01")
    for pub in pubs:
        sync_subscriber(pub, xsub)
    for index, pub in enumerate(pubs):
        pub.send(b"%d a" % index)
        pub.send(b"%d b" % index)
    wait_queued(xsub, 6)
    got = [xsub.recv() for _ in range(6)]
    assert sorted(got[:3]) == [b"%d a" % i for i in range(3)]
    assert sorted(got[3:]) == [b"%d b" % i for i in range(3)]


def test_outgoing_messages_go_unmodified_to_all_publishers(net):
    """SHALL not modify outgoing messages in any way.
    SHALL send all messages to all connected publishers."""
    xsub = net.socket(zmq.XSUB)
    xpubs = [net.socket(zmq.XPUB) for _ in range(3)]
    for xpub in xpubs:
        xsub.connect(net.bind(xpub))
    message = [b"to all", b"", b"\xff"]
    xsub.send_multipart(message)
    for xpub in xpubs:
        assert xpub.recv_multipart() == message


def test_full_outgoing_queue_drops_without_blocking(net):
    """SHALL silently drop the message if the outgoing queue for a publisher is full.
    SHALL NOT block on sending."""
    xpub = net.socket(zmq.XPUB, rcvhwm=2, rcvbuf=4096)
    xsub = net.socket(zmq.XSUB, sndhwm=2, sndbuf=4096, sndtimeo=-1)
    xsub.connect(net.bind(xpub))
    xsub.send(b"\x01")
    assert xpub.recv() == b"\x01"
    started = time.monotonic()
    for i in range(500):
        xsub.send(b"%d " % i + b"u" * 8192)  # the XPUB reads none of it meanwhile
    assert time.monotonic() - started < 5
    # A subscription still gets through: losing one would lose data silently.
    xsub.send(b"\x01after")
    got = []
    while True:
        msg = recv_within(xpub, net.fill_ms)
        if msg is None:
            break
        got.append(msg[0])
    assert got[-1] == b"\x01after"
    data = [int(m.split(b" ", 1)[0]) for m in got[:-1]]
    assert 0 < len(data) < 500
    assert data == sorted(data)
    if net.transport == "inproc":
        assert data == [0, 1, 2, 3]


def test_accepts_and_sends_subscription_commands(net):
    """SHALL accept subscription commands from its calling application.
    SHALL send subscribe and unsubscribe requests to publishers depending on the transport
    protocol used."""
    pub = net.socket(zmq.PUB)
    xpub = net.socket(zmq.XPUB, xpub_verboser=1)
    xsub = net.socket(zmq.XSUB)
    xsub.connect(net.bind(pub))
    xsub.connect(net.bind(xpub))
    xsub.send(b"\x01weather")
    assert xpub.recv() == b"\x01weather"
    sync_subscriber(pub, xsub, b"weather")
    pub.send(b"weather today")
    pub.send(b"sports today")
    assert xsub.recv() == b"weather today"
    assert_quiet(xsub)
    xsub.send(b"\x00weather")
    assert xpub.recv() == b"\x00weather"


def test_subscriptions_reach_publishers_that_come_later(net):
    """SHALL send subscribe and unsubscribe requests to publishers (each new publisher
    learns the subscriptions made before it connected)."""
    xsub = net.socket(zmq.XSUB)
    xsub.send(b"\x01first")
    xsub.send(b"\x01second")
    xsub.send(b"\x00second")
    xpub = net.socket(zmq.XPUB)
    xsub.connect(net.bind(xpub))
    assert xpub.recv() == b"\x01first"
    assert_quiet(xpub)
