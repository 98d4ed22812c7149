"""RFC 29/PUBSUB: the XPUB socket type, one test per clause, on inproc, tcp and ipc; plus
libzmq's XPUB_VERBOSE, XPUB_VERBOSER and XPUB_NODROP."""

from __future__ import annotations

import time

import puremq as zmq

from .conftest import (assert_again, assert_quiet, peer_count, recv_within,
                       sync_subscriber, sync_subscribers, wait_for, wait_peers, wait_queued)


def _xpub_with_subs(net, count=1, sub_options=None, **xpub_options):
    xpub = net.socket(zmq.XPUB, **xpub_options)
    address = net.bind(xpub)
    subs = [net.socket(zmq.SUB, **(sub_options or {})) for _ in range(count)]
    for sub in subs:
        sub.connect(address)
    # every connection up first: a subscriber whose handshake completed only after the
    # others had subscribed and unsubscribed would look like a new subscriber then
    wait_peers(xpub, count)
    return xpub, subs


def test_sends_and_receives(net):
    """MAY be connected to any number of SUB or XSUB subscribers, and MAY both send and
    receive messages."""
    xpub = net.socket(zmq.XPUB)
    address = net.bind(xpub)
    sub = net.socket(zmq.SUB)
    xsub = net.socket(zmq.XSUB)
    sub.connect(address)
    xsub.connect(address)
    sub.subscribe(b"s")
    assert xpub.recv() == b"\x01s"
    xsub.send(b"\x01x")
    assert xpub.recv() == b"\x01x"
    xsub.send(b"upstream data")
    assert xpub.recv() == b"upstream data"
    xpub.send(b"s for sub")
    xpub.send(b"x for xsub")
    assert sub.recv() == b"s for sub"
    assert xsub.recv() == b"x for xsub"


def test_double_queue_per_subscriber(net):
    """SHALL maintain a double queue for each connected subscriber, allowing outgoing and
    incoming messages to be queued independently."""
    xpub = net.socket(zmq.XPUB)
    xsub = net.socket(zmq.XSUB)
    xsub.connect(net.bind(xpub))
    xsub.send(b"\x01")
    assert xpub.recv() == b"\x01"
    for i in range(5):
        xsub.send(b"up %d" % i)
        xpub.send(b"down %d" % i)
    wait_queued(xpub, 5)
    assert [xpub.recv() for _ in range(5)] == [b"up %d" % i for i in range(5)]
    assert [xsub.recv() for _ in range(5)] == [b"down %d" % i for i in range(5)]


def test_queue_exists_before_the_connection(net):
    """SHALL create a double queue when initiating an outgoing connection to a subscriber, and
    SHALL maintain the double queue whether or not the connection is established."""
    address = net.unbound_endpoint()
    xpub = net.socket(zmq.XPUB)
    xpub.connect(address)
    sub = net.socket(zmq.SUB)
    sub.subscribe(b"late")
    sub.bind(address)
    # A bound socket attaches a new peer (and a SUB replays its subscriptions to it) when
    # its owner next uses it, as in libzmq: keep polling it until the XPUB hears.
    deadline = time.monotonic() + 2
    while not xpub.poll(0, zmq.POLLIN):
        assert time.monotonic() < deadline, "the subscription never arrived"
        sub.poll(5, zmq.POLLIN)
    assert xpub.recv() == b"\x01late"
    xpub.send(b"late news")
    assert sub.recv() == b"late news"


def test_queue_destroyed_when_subscriber_disconnects(net):
    """SHALL create a double queue when a subscriber connects to it. If this subscriber
    disconnects, the XPUB socket SHALL destroy its double queue and SHALL discard any
    messages it contains."""
    xpub, (first,) = _xpub_with_subs(net, sndhwm=5)
    first.subscribe(b"")
    assert xpub.recv() == b"\x01"
    for _ in range(20):
        xpub.send(b"stale")
    address = xpub.getsockopt(zmq.LAST_ENDPOINT).decode()
    first.close()
    assert xpub.recv() == b"\x00"
    wait_for(lambda: peer_count(xpub) == 0, what="the subscriber to leave")
    second = net.socket(zmq.SUB)
    second.subscribe(b"")
    second.connect(address)
    assert xpub.recv() == b"\x01"
    xpub.send(b"fresh")
    assert second.recv() == b"fresh"
    assert_quiet(second)


def test_binary_prefix_filtering_of_outgoing_messages(net):
    """MAY, depending on the transport, send messages only to subscribers who have a matching
    subscription.
    SHALL perform a binary comparison of the subscription against the start of the first
    frame of the message.
    SHALL not modify outgoing messages in any way."""
    xpub, (sub,) = _xpub_with_subs(net)
    sub.subscribe(b"\x00\x01")
    assert xpub.recv() == b"\x01\x00\x01"
    xpub.send_multipart([b"\x00\x01 match", b"", b"tail"])
    xpub.send(b"\x00\x02 no")
    xpub.send_multipart([b"no", b"\x00\x01"])
    xpub.send(b"\x00\x01")
    assert sub.recv_multipart() == [b"\x00\x01 match", b"", b"tail"]
    assert sub.recv() == b"\x00\x01"
    assert_quiet(sub)


def test_full_subscriber_queue_drops_without_blocking(net):
    """SHALL silently drop the message if the queue for a subscriber is full.
    SHALL NOT block on sending."""
    xpub, (sub,) = _xpub_with_subs(net, 1, dict(rcvhwm=2, rcvbuf=4096), sndhwm=2,
                                   sndbuf=4096, sndtimeo=-1)
    sub.subscribe(b"")
    assert xpub.recv() == b"\x01"
    started = time.monotonic()
    for i in range(1000):
        xpub.send(b"%d " % i + b"x" * 4096)
    assert time.monotonic() - started < 5
    got = 0
    while recv_within(sub, net.fill_ms) is not None:
        got += 1
    assert 0 < got < 1000
    if net.transport == "inproc":
        assert got == 4


def test_nodrop_gives_eagain_at_the_high_water_mark(net):
    """(libzmq XPUB_NODROP) Instead of dropping, a full subscriber makes send say EAGAIN."""
    xpub = net.socket(zmq.XPUB, xpub_nodrop=1, sndhwm=2, sndbuf=4096)
    address = net.bind(xpub)
    sub = net.socket(zmq.SUB, rcvhwm=2, rcvbuf=4096)
    sub.subscribe(b"")
    sub.connect(address)
    assert xpub.recv() == b"\x01"
    xpub.sndtimeo = net.fill_ms
    sent = 0
    while sent < 10000:
        try:
            xpub.send(b"%d " % sent + b"n" * 16384)
        except zmq.Again:
            break
        sent += 1
    assert sent < 10000
    if net.transport == "inproc":
        assert sent == 4
    assert_again(lambda: xpub.send(b"more", zmq.DONTWAIT))
    received = [sub.recv().split(b" ", 1)[0] for _ in range(sent)]
    assert received == [b"%d" % i for i in range(sent)]  # nothing was dropped
    xpub.send(b"room again")
    assert sub.recv() == b"room again"


def test_receives_upstream_messages_from_all_subscribers(net):
    """SHALL receive incoming messages from its subscribers using a fair-queuing strategy.
    SHALL deliver these messages to its calling application.
    (libzmq's XPUB reads each subscriber's queue out in one go when it becomes readable, so
    only delivery and per-subscriber order are common ground; checked against libzmq.)"""
    xpub = net.socket(zmq.XPUB)
    address = net.bind(xpub)
    xsubs = [net.socket(zmq.XSUB) for _ in range(3)]
    for xsub in xsubs:
        xsub.connect(address)
    for index, xsub in enumerate(xsubs):
        xsub.send(b"%d first" % index)
        xsub.send_multipart([b"%d second" % index, b"part"])
    got = [xpub.recv_multipart() for _ in range(6)]
    for index in range(3):
        mine = [m for m in got if m[0].startswith(b"%d " % index)]
        assert mine == [[b"%d first" % index], [b"%d second" % index, b"part"]]
    assert_quiet(xpub)


def test_delivers_subscriptions_to_the_application(net):
    """SHALL receive subscribe and unsubscribe requests from subscribers depending on the
    transport protocol used.
    SHALL deliver these commands to its calling application."""
    xpub, (sub,) = _xpub_with_subs(net)
    sub.subscribe(b"topic")
    assert xpub.recv() == b"\x01topic"
    sub.unsubscribe(b"topic")
    assert xpub.recv() == b"\x00topic"
    sub.subscribe(b"")
    assert xpub.recv() == b"\x01"


def test_identical_subscriptions_are_normalized(net):
    """MAY, depending on configuration, normalize commands delivered to its calling
    application so that multiple identical subscriptions result in a single command only."""
    xpub, (a, b) = _xpub_with_subs(net, 2)
    a.subscribe(b"A")
    b.subscribe(b"A")
    a.subscribe(b"A")
    b.subscribe(b"B")
    assert xpub.recv() == b"\x01A"
    assert xpub.recv() == b"\x01B"  # the repeated A's were not delivered
    a.unsubscribe(b"A")
    a.unsubscribe(b"A")   # a is out of A, b is still in: nothing to say
    b.unsubscribe(b"B")
    assert xpub.recv() == b"\x00B"
    b.unsubscribe(b"A")
    assert xpub.recv() == b"\x00A"
    assert_quiet(xpub)


def test_verbose_delivers_every_subscription(net):
    """(libzmq XPUB_VERBOSE) Every subscribe is delivered; unsubscribes still only when the
    last subscriber of a topic leaves."""
    xpub, (a, b) = _xpub_with_subs(net, 2, xpub_verbose=1)
    a.subscribe(b"A")
    b.subscribe(b"A")
    a.subscribe(b"A")
    assert [xpub.recv() for _ in range(3)] == [b"\x01A"] * 3
    a.unsubscribe(b"A")
    a.unsubscribe(b"A")
    b.unsubscribe(b"A")
    assert xpub.recv() == b"\x00A"
    assert_quiet(xpub)


def test_verboser_delivers_every_unsubscription_too(net):
    """(libzmq XPUB_VERBOSER) Subscribes and unsubscribes are all delivered."""
    xpub, (a, b) = _xpub_with_subs(net, 2, xpub_verboser=1)
    a.subscribe(b"C")
    b.subscribe(b"C")
    assert [xpub.recv() for _ in range(2)] == [b"\x01C"] * 2
    a.unsubscribe(b"C")
    b.unsubscribe(b"C")
    assert [xpub.recv() for _ in range(2)] == [b"\x00C"] * 2


def test_disconnect_generates_unsubscribe(net):
    """SHALL, if the subscriber peer disconnects prematurely, generate a suitable unsubscribe
    request for the calling application."""
    xpub, (a, b) = _xpub_with_subs(net, 2)
    a.subscribe(b"only a")
    a.subscribe(b"shared")
    b.subscribe(b"shared")
    got = {xpub.recv() for _ in range(2)}
    assert got == {b"\x01only a", b"\x01shared"}
    sync_subscribers(xpub, [a, b], b"shared")  # b's (not notified) subscription is there
    a.close()
    assert xpub.recv() == b"\x00only a"  # "shared" still has b
    assert_quiet(xpub)
    b.close()
    assert xpub.recv() == b"\x00shared"


def test_unsubscribed_subscriber_gets_nothing_more(net):
    xpub, (sub,) = _xpub_with_subs(net)
    sub.subscribe(b"T")
    assert xpub.recv() == b"\x01T"
    sub.unsubscribe(b"T")
    assert xpub.recv() == b"\x00T"
    xpub.send(b"T after")
    sub.subscribe(b"U")
    assert xpub.recv() == b"\x01U"
    xpub.send(b"U after")
    assert sub.recv() == b"U after"
    assert_quiet(sub)


def test_pub_side_counts_one_subscriber_once(net):
    """A subscriber with two identical subscriptions gets each message once."""
    pub = net.socket(zmq.XPUB)
    sub = net.socket(zmq.SUB)
    sub.subscribe(b"D")
    sub.subscribe(b"D")
    sub.subscribe(b"")
    sub.connect(net.bind(pub))
    sync_subscriber(pub, sub, b"D")
    pub.send(b"D once")
    assert sub.recv() == b"D once"
    assert_quiet(sub)


def test_inproc_bind_attaches_earlier_connects_at_once(ctx):
    """(libzmq) Over inproc, bind() itself attaches the peers that connected before it, so an
    idle SUB's subscriptions reach an XPUB that connected first."""
    address = "inproc://xpub-first-%d" % id(ctx)
    xpub = ctx.socket(zmq.XPUB)
    xpub.linger = 0
    xpub.connect(address)
    sub = ctx.socket(zmq.SUB)
    sub.linger = 0
    sub.subscribe(b"late")
    sub.bind(address)
    assert xpub.poll(2000, zmq.POLLIN)
    assert xpub.recv() == b"\x01late"
