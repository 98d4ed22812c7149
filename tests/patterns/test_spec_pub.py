"""RFC 29/PUBSUB: the PUB socket type, one test per clause, on inproc, tcp and ipc."""

from __future__ import annotations

import time

import puremq as zmq

from .conftest import (QUIET_MS, assert_errno, assert_quiet, newest_queued, peer_count,
                       queued_in, recv_within, sync_subscriber, sync_subscribers, wait_for)


def _pub_sub(net, topic=b"", **sub_options):
    pub = net.socket(zmq.PUB)
    sub = net.socket(zmq.SUB, **sub_options)
    sub.subscribe(topic)
    sub.connect(net.bind(pub))
    sync_subscriber(pub, sub, topic)
    return pub, sub


def test_only_sends(net):
    """MAY be connected to any number of SUB or XSUB subscribers, and SHALL only send
    messages."""
    pub, sub = _pub_sub(net)
    assert_errno(zmq.ENOTSUP, lambda: pub.recv(zmq.DONTWAIT))
    pub.send(b"news")
    assert sub.recv() == b"news"


def test_one_queue_per_subscriber_and_a_full_one_drops(net):
    """SHALL maintain a single outgoing message queue for each connected subscriber.
    SHALL silently drop the message if the queue for a subscriber is full."""
    pub = net.socket(zmq.PUB, sndhwm=2, sndbuf=4096)
    address = net.bind(pub)
    slow = net.socket(zmq.SUB, rcvhwm=2, rcvbuf=4096)
    fast = net.socket(zmq.SUB, rcvhwm=0)
    for sub in (slow, fast):
        sub.subscribe(b"")
        sub.connect(address)
    sync_subscribers(pub, [slow, fast])
    total = 300
    for i in range(total):
        pub.send(b"%d " % i + b"s" * 16384)
        if i % 10 == 0:  # keep the fast one fast
            while fast.poll(0, zmq.POLLIN):
                fast.recv()
    slow_got = []
    while True:
        msg = recv_within(slow, net.fill_ms)
        if msg is None:
            break
        slow_got.append(int(msg[0].split(b" ", 1)[0]))
    assert 0 < len(slow_got) < total
    assert slow_got == sorted(slow_got)  # dropped, never reordered
    if net.transport == "inproc":
        assert slow_got == [0, 1, 2, 3]  # SNDHWM + RCVHWM, the rest dropped


def test_fast_subscriber_gets_everything_despite_a_stalled_one(net):
    """SHALL maintain a single outgoing message queue for each connected subscriber."""
    pub = net.socket(zmq.PUB, sndhwm=2)
    address = net.bind(pub)
    stalled = net.socket(zmq.SUB, rcvhwm=1)
    fast = net.socket(zmq.SUB)
    for sub in (stalled, fast):
        sub.subscribe(b"")
        sub.connect(address)
    sync_subscribers(pub, [stalled, fast])
    for i in range(100):
        pub.send(b"%d" % i)
        assert fast.recv() == b"%d" % i


def test_queue_exists_before_the_connection(net):
    """SHALL create a queue when initiating an outgoing connection to a subscriber, and SHALL
    maintain the queue whether or not the connection is established."""
    address = net.unbound_endpoint()
    pub = net.socket(zmq.PUB)
    pub.connect(address)
    pub.send(b"nobody subscribed yet")  # dropped, never an error
    sub = net.socket(zmq.SUB)
    sub.subscribe(b"")
    sub.bind(address)
    sync_subscriber(pub, sub)
    pub.send(b"now")
    assert sub.recv() == b"now"


def test_queue_destroyed_when_subscriber_disconnects(net):
    """SHALL create a queue when a subscriber connects to it. If this subscriber disconnects,
    the PUB socket SHALL destroy its queue and SHALL discard any messages it contains."""
    pub = net.socket(zmq.PUB, sndhwm=5)
    address = net.bind(pub)
    first = net.socket(zmq.SUB, rcvhwm=5)
    first.subscribe(b"")
    first.connect(address)
    sync_subscriber(pub, first)
    for _ in range(20):
        pub.send(b"stale")
    first.close()
    wait_for(lambda: peer_count(pub) == 0, what="the subscriber to leave")
    second = net.socket(zmq.SUB)
    second.subscribe(b"")
    second.connect(address)
    sync_subscriber(pub, second)
    pub.send(b"fresh")
    assert second.recv() == b"fresh"
    assert_quiet(second)


def test_discards_what_subscribers_send(net):
    """SHALL silently discard any messages that subscribers send it."""
    pub = net.socket(zmq.PUB)
    xsub = net.socket(zmq.XSUB)
    xsub.connect(net.bind(pub))
    xsub.send(b"\x01")
    sync_subscriber(pub, xsub)
    for i in range(10):
        xsub.send_multipart([b"upstream", b"%d" % i])
    pub.send(b"still publishing")
    assert xsub.recv() == b"still publishing"
    assert not pub.poll(QUIET_MS, zmq.POLLIN)
    assert_errno(zmq.ENOTSUP, lambda: pub.recv(zmq.DONTWAIT))


def test_outgoing_messages_not_modified(net):
    """SHALL not modify outgoing messages in any way."""
    pub, sub = _pub_sub(net)
    message = [b"topic", b"", b"\x00\x01", b"p" * 9000]
    pub.send_multipart(message)
    assert sub.recv_multipart() == message


def test_sends_only_to_matching_subscribers(net):
    """MAY, depending on the transport, send messages only to subscribers who have a
    matching subscription."""
    pub = net.socket(zmq.PUB)
    address = net.bind(pub)
    weather = net.socket(zmq.SUB)
    sports = net.socket(zmq.SUB)
    weather.subscribe(b"weather")
    sports.subscribe(b"sports")
    for sub in (weather, sports):
        sub.connect(address)
    sync_subscriber(pub, weather, b"weather")
    sync_subscriber(pub, sports, b"sports")
    pub.send(b"weather: rain")
    pub.send(b"sports: 2-1")
    pub.send(b"politics: none")
    pub.send(b"weather: end")
    # Nothing unsubscribed travelled to the weather SUB (it would filter it out itself, so
    # look at what reached its queue): one connection keeps order, so once "end" is there
    # everything sent before it is too.
    wait_for(lambda: newest_queued(weather) == [b"weather: end"], what="the last message")
    assert queued_in(weather) == 2
    assert weather.recv() == b"weather: rain"
    assert weather.recv() == b"weather: end"
    assert sports.recv() == b"sports: 2-1"
    assert_quiet(weather, sports)


def test_binary_prefix_match_on_the_first_frame(net):
    """SHALL perform a binary comparison of the subscription against the start of the first
    frame of the message."""
    topic = b"\x00\xffT"
    pub, sub = _pub_sub(net, topic)
    pub.send(topic)                              # equal: matches
    pub.send(topic + b"\x00 more")               # starts with it: matches
    pub.send(b"\x00\xfeT")                       # one bit off
    pub.send(b"\x00\xff")                        # shorter than the topic
    pub.send(b"x" + topic)                       # contains it, not at the start
    pub.send(b"\x00\xFFt")                       # case matters: bytes, not text
    pub.send_multipart([b"other", topic])        # only the first frame counts
    pub.send_multipart([topic + b"!", b"tail"])  # multipart: whole message delivered
    assert sub.recv() == topic
    assert sub.recv() == topic + b"\x00 more"
    assert sub.recv_multipart() == [topic + b"!", b"tail"]
    assert_quiet(sub)


def test_empty_subscription_matches_everything(net):
    """SHALL perform a binary comparison of the subscription against the start of the first
    frame of the message.  (The empty subscription is a prefix of every message.)"""
    pub, sub = _pub_sub(net, b"")
    for first in (b"", b"a", b"\x00", b"anything at all"):
        pub.send(first)
        assert sub.recv() == first


def test_late_joiner_misses_earlier_messages(net):
    """SHALL perform a binary comparison of the subscription ... (nothing matches before a
    subscription exists: a late joiner gets nothing sent before it subscribed)."""
    pub = net.socket(zmq.PUB)
    address = net.bind(pub)
    for i in range(10):
        pub.send(b"early %d" % i)
    sub = net.socket(zmq.SUB)
    sub.subscribe(b"")
    sub.connect(address)
    sync_subscriber(pub, sub)
    pub.send(b"late")
    assert sub.recv() == b"late"
    assert_quiet(sub)


def test_never_blocks_on_sending(net):
    """SHALL NOT block on sending."""
    pub = net.socket(zmq.PUB, sndhwm=1, sndtimeo=-1)
    address = net.bind(pub)
    started = time.monotonic()
    for _ in range(100):
        pub.send(b"to nobody")  # no subscriber at all
    sub = net.socket(zmq.SUB, rcvhwm=1)
    sub.subscribe(b"")
    sub.connect(address)
    sync_subscriber(pub, sub)
    for _ in range(2000):
        pub.send(b"b" * 1024)  # the subscriber never reads
    assert time.monotonic() - started < 5
    assert pub.poll(0, zmq.POLLOUT)


def test_subscription_commands_are_not_delivered(net):
    """SHALL receive subscribe and unsubscribe requests from subscribers depending on the
    transport protocol used.
    SHALL NOT deliver these commands to its calling application."""
    pub, sub = _pub_sub(net, b"A")
    sub.subscribe(b"B")
    sub.unsubscribe(b"A")
    sync_subscriber(pub, sub, b"B")  # the commands were received and acted on
    pub.send(b"A not any more")
    pub.send(b"B yes")
    assert sub.recv() == b"B yes"
    assert not pub.poll(QUIET_MS, zmq.POLLIN)
