"""RFC 29/PUBSUB: the SUB socket type, one test per clause, on inproc, tcp and ipc."""

from __future__ import annotations

import puremq as zmq

from .conftest import (assert_again, assert_errno, assert_quiet, recv_within,
                       sync_subscriber, wait_queued)


def _pub_sub(net, *topics, **sub_options):
    pub = net.socket(zmq.PUB)
    sub = net.socket(zmq.SUB, **sub_options)
    for topic in topics:
        sub.subscribe(topic)
    sub.connect(net.bind(pub))
    return pub, sub


def test_only_receives(net):
    """MAY be connected to any number of PUB or XPUB publishers, and SHALL only receive
    messages."""
    pub, sub = _pub_sub(net, b"")
    assert_errno(zmq.ENOTSUP, lambda: sub.send(b"x", zmq.DONTWAIT))
    assert not sub.poll(0, zmq.POLLOUT)
    sync_subscriber(pub, sub)


def test_one_queue_per_publisher_fair_queued(net):
    """SHALL maintain a single incoming message queue for each connected publisher.
    SHALL receive incoming messages from its publishers using a fair-queuing strategy."""
    sub = net.socket(zmq.SUB)
    sub.subscribe(b"")
    pubs = [net.socket(zmq.PUB) for _ in range(3)]
    for pub in pubs:
        sub.connect(net.bind(pub))
    for pub in pubs:
        sync_subscriber(pub, sub)
    for index, pub in enumerate(pubs):
        for round_ in range(3):
            pub.send(b"%d.%d" % (index, round_))
    wait_queued(sub, 9)
    got = [sub.recv() for _ in range(9)]
    for round_ in range(3):
        assert sorted(got[3 * round_:3 * round_ + 3]) == [b"%d.%d" % (i, round_)
                                                           for i in range(3)]


def test_queue_exists_before_the_connection(net):
    """SHALL create a queue when initiating an outgoing connection to a publisher, and SHALL
    maintain the queue whether or not the connection is established."""
    address = net.unbound_endpoint()
    sub = net.socket(zmq.SUB)
    sub.subscribe(b"T")  # before the connect: sent once the publisher is there
    sub.connect(address)
    sub.subscribe(b"U")  # after the connect, before the publisher exists
    pub = net.socket(zmq.PUB)
    pub.bind(address)
    sync_subscriber(pub, sub, b"T")
    sync_subscriber(pub, sub, b"U")
    pub.send(b"V no")
    pub.send(b"U yes")
    assert sub.recv() == b"U yes"


def test_local_disconnect_discards_the_queue(net):
    """SHALL create a queue when initiating an outgoing connection to a publisher ... If this
    publisher disconnects, the SUB socket SHALL destroy its queue and SHALL discard any
    messages it contains.  (As libzmq: after disconnect() nothing queued is delivered.)"""
    pub = net.socket(zmq.PUB)
    address = net.bind(pub)
    sub = net.socket(zmq.SUB)
    sub.subscribe(b"")
    sub.connect(address)
    sync_subscriber(pub, sub)
    for _ in range(5):
        pub.send(b"queued")
    wait_queued(sub, 5)
    sub.disconnect(address)
    assert_again(lambda: sub.recv(zmq.DONTWAIT))


def test_full_queue_discards_silently(net):
    """SHALL silently discard messages if the queue for a publisher is full."""
    pub = net.socket(zmq.PUB, sndhwm=3, sndbuf=4096)
    pub_address = net.bind(pub)
    sub = net.socket(zmq.SUB, rcvhwm=3, rcvbuf=4096)
    sub.subscribe(b"")
    sub.connect(pub_address)
    sync_subscriber(pub, sub)
    for i in range(500):
        pub.send(b"%d " % i + b"q" * 8192)
    got = []
    while True:
        msg = recv_within(sub, net.fill_ms)
        if msg is None:
            break
        got.append(int(msg[0].split(b" ", 1)[0]))
    assert 0 < len(got) < 500
    assert got == sorted(got)
    if net.transport == "inproc":
        assert got == list(range(6))


def test_incoming_messages_not_modified(net):
    """SHALL not modify incoming messages in any way."""
    pub, sub = _pub_sub(net, b"")
    sync_subscriber(pub, sub)
    message = [b"", b"\x01", b"m" * 70000]
    pub.send_multipart(message)
    assert sub.recv_multipart() == message


def test_filters_by_prefix_itself(net):
    """MAY, depending on the transport, filter messages according to subscriptions, using a
    prefix match algorithm.  (Messages already queued when a subscription goes are dropped
    by the SUB itself.)"""
    pub, sub = _pub_sub(net, b"A", b"B")
    sync_subscriber(pub, sub, b"A")
    sync_subscriber(pub, sub, b"B")
    _queue_a_and_b_then_only_b_after(pub, sub, b"A")


def _queue_a_and_b_then_only_b_after(pub, sub, topic):
    """Queue five A and five B messages at ``sub``, unsubscribe ``topic``: only the Bs
    come out, and nothing else."""
    for i in range(5):
        pub.send(b"A%d" % i)
        pub.send(b"B%d" % i)
    wait_queued(sub, 10)
    sub.unsubscribe(topic)
    assert [sub.recv() for _ in range(5)] == [b"B%d" % i for i in range(5)]
    assert_quiet(sub)
    assert not sub.poll(0, zmq.POLLIN)


def test_filters_again_once_the_subscription_to_everything_goes(net):
    """MAY ... filter messages according to subscriptions, using a prefix match algorithm.
    (A SUB subscribed to everything takes messages without looking at them; once that
    subscription goes, what is already queued is filtered again.)"""
    pub, sub = _pub_sub(net, b"", b"B")
    sync_subscriber(pub, sub)
    pub.send(b"A0")
    assert sub.recv() == b"A0"
    _queue_a_and_b_then_only_b_after(pub, sub, b"")


def test_delivers_to_the_application(net):
    """SHALL deliver messages to its calling application."""
    pub, sub = _pub_sub(net, b"")
    sub.rcvtimeo = 50
    assert_again(sub.recv)
    sync_subscriber(pub, sub)
    pub.send_multipart([b"x", b"y"])
    assert sub.poll(2000, zmq.POLLIN)
    assert sub.recv_multipart() == [b"x", b"y"]


def test_sends_subscribe_and_unsubscribe_requests(net):
    """MAY send subscribe and unsubscribe requests to publishers depending on the transport
    protocol used."""
    xpub = net.socket(zmq.XPUB)
    sub = net.socket(zmq.SUB)
    sub.connect(net.bind(xpub))
    sub.subscribe(b"topic")
    assert xpub.recv() == b"\x01topic"
    sub.unsubscribe(b"topic")
    assert xpub.recv() == b"\x00topic"


def test_subscriptions_are_counted(net):
    """Two subscriptions to one topic need two unsubscriptions (libzmq counts them)."""
    pub, sub = _pub_sub(net, b"A", b"A")
    sync_subscriber(pub, sub, b"A")
    sub.unsubscribe(b"A")
    sync_subscriber(pub, sub, b"A")  # still subscribed
    pub.send(b"A still")
    assert sub.recv() == b"A still"
    sub.unsubscribe(b"A")
    sub.subscribe(b"Z")
    sync_subscriber(pub, sub, b"Z")  # the unsubscription went before this
    pub.send(b"A no more")
    pub.send(b"Z end")
    assert sub.recv() == b"Z end"
    assert_quiet(sub)


def test_overlapping_subscriptions_deliver_once(net):
    pub, sub = _pub_sub(net, b"", b"A", b"AB")
    sync_subscriber(pub, sub, b"AB")
    pub.send(b"ABC")
    assert sub.recv() == b"ABC"
    assert_quiet(sub)


def test_unsubscribing_unknown_topic_is_harmless(net):
    pub, sub = _pub_sub(net, b"K")
    sub.unsubscribe(b"never subscribed")
    sync_subscriber(pub, sub, b"K")
    pub.send(b"K ok")
    assert sub.recv() == b"K ok"
