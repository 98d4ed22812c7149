"""RFC 28/REQREP: the ROUTER socket type, one test per clause, on inproc, tcp and ipc;
plus libzmq's ROUTER options (MANDATORY, HANDOVER, CONNECT_ROUTING_ID, PROBE_ROUTER)."""

from __future__ import annotations

import time

import pytest

import puremq as zmq

from .conftest import (assert_again, assert_errno, assert_quiet, peer_count,
                       recv_within, wait_for, wait_peers, wait_queued)

SERVICES = 5


def _router_with_dealer(net, identity=None, dealer_options=None, **router_options):
    router = net.socket(zmq.ROUTER, **router_options)
    address = net.bind(router)
    dealer = net.socket(zmq.DEALER, **(dealer_options or {}))
    if identity is not None:
        dealer.routing_id = identity
    dealer.connect(address)
    dealer.send(b"hello")
    rid, body = router.recv_multipart()
    assert body == b"hello"
    return router, dealer, rid, address


def test_talks_to_req_dealer_and_router_both_ways(net):
    """MAY be connected to any number of REQ, DEALER, or ROUTER peers, and MAY both send and
    receive messages."""
    router = net.socket(zmq.ROUTER)
    address = net.bind(router)
    req = net.socket(zmq.REQ, routing_id=b"req")
    dealer = net.socket(zmq.DEALER, routing_id=b"dealer")
    peer = net.socket(zmq.ROUTER, routing_id=b"router")
    peer.connect_routing_id = b"server"
    for sock in (req, dealer, peer):
        sock.connect(address)
    req.send(b"from req")
    dealer.send(b"from dealer")
    peer.send_multipart([b"server", b"from router"])
    got = sorted(tuple(router.recv_multipart()) for _ in range(3))
    assert got == [(b"dealer", b"from dealer"), (b"req", b"", b"from req"),
                   (b"router", b"from router")]
    router.send_multipart([b"req", b"", b"to req"])
    router.send_multipart([b"dealer", b"to dealer"])
    router.send_multipart([b"router", b"to router"])
    assert req.recv() == b"to req"
    assert dealer.recv() == b"to dealer"
    assert peer.recv_multipart() == [b"server", b"to router"]


def test_double_queue_per_peer(net):
    """SHALL maintain a double queue for each connected peer, allowing outgoing and incoming
    messages to be queued independently."""
    router, dealer, rid, _ = _router_with_dealer(net)
    for i in range(5):
        router.send_multipart([rid, b"out %d" % i])
        dealer.send(b"in %d" % i)
    assert [router.recv_multipart()[1] for _ in range(5)] == [b"in %d" % i for i in range(5)]
    assert [dealer.recv() for _ in range(5)] == [b"out %d" % i for i in range(5)]


def test_queue_exists_before_the_connection(net):
    """SHALL create a double queue when initiating an outgoing connection to a peer, and SHALL
    maintain the double queue whether or not the connection is established."""
    address = net.unbound_endpoint()
    router = net.socket(zmq.ROUTER, router_mandatory=1)
    router.connect_routing_id = b"later"
    router.connect(address)
    router.send_multipart([b"later", b"queued"])  # known and writable before any connection
    dealer = net.socket(zmq.DEALER)
    dealer.bind(address)
    assert dealer.recv() == b"queued"


def test_queue_destroyed_when_peer_disconnects(net):
    """SHALL create a double queue when a peer connects to it. If this peer disconnects, the
    ROUTER socket SHALL destroy its double queue and SHALL discard any messages it contains."""
    router, dealer, _, address = _router_with_dealer(net, b"B", router_mandatory=1)
    router.send_multipart([b"B", b"stale"])
    dealer.close()
    wait_for(lambda: peer_count(router) == 0, what="the peer to leave")
    assert_errno(zmq.EHOSTUNREACH, lambda: router.send_multipart([b"B", b"x"], zmq.DONTWAIT))
    again = net.socket(zmq.DEALER, routing_id=b"B")
    again.connect(address)
    again.send(b"back")
    assert router.recv_multipart() == [b"B", b"back"]
    router.send_multipart([b"B", b"fresh"])
    assert again.recv() == b"fresh"
    assert_quiet(again)


def test_each_queue_has_a_unique_generated_identity(net):
    """SHALL identify each double queue using a unique "identity" binary string.
    (libzmq generates 5 bytes: 0x00 and a 32-bit counter; peers may not choose ids that
    start with 0x00, so generated ones never collide with chosen ones.)"""
    router = net.socket(zmq.ROUTER)
    address = net.bind(router)
    dealers = [net.socket(zmq.DEALER) for _ in range(SERVICES)]
    for dealer in dealers:
        dealer.connect(address)
        dealer.send(b"x")
    ids = [router.recv_multipart()[0] for _ in range(SERVICES)]
    assert len(set(ids)) == SERVICES
    for rid in ids:
        assert len(rid) == 5 and rid[0] == 0


def test_peer_chooses_its_identity(net):
    """SHOULD allow the peer to specify its identity explicitly through the Identity metadata
    property."""
    _, _, rid, _ = _router_with_dealer(net, b"chosen identity")
    assert rid == b"chosen identity"


def test_queue_sizes_are_limited(net):
    """SHOULD constrain incoming and outgoing queue sizes to a runtime-configurable limit."""
    router, dealer, rid, _ = _router_with_dealer(
        net, b"D", dict(rcvhwm=3, rcvbuf=4096), router_mandatory=1, sndhwm=2, sndbuf=4096)
    router.sndtimeo = net.fill_ms
    accepted = 0
    while accepted < 100000:
        try:
            router.send_multipart([rid, b"%d " % accepted + b"h" * 32768])
        except zmq.Again:
            break
        accepted += 1
    assert accepted < 100000
    if net.transport == "inproc":
        assert accepted == 2 + 3  # the router's SNDHWM + the dealer's RCVHWM
    assert_again(lambda: router.send_multipart([rid, b"over"], zmq.DONTWAIT))


def test_fair_queue_in(net):
    """SHALL receive incoming messages from its peers using a fair-queuing strategy."""
    receiver = net.socket(zmq.ROUTER)
    address = net.bind(receiver)
    senders = [net.socket(zmq.DEALER, routing_id=bytes([ord("A") + i]))
               for i in range(SERVICES)]
    for sender in senders:
        sender.connect(address)
    senders[0].send(b"M")
    assert receiver.recv_multipart() == [b"A", b"M"]
    senders[0].send(b"M")
    assert receiver.recv_multipart() == [b"A", b"M"]
    for sender in senders:
        sender.send(b"one")
        sender.send(b"two")
    wait_queued(receiver, 2 * SERVICES)
    first = [receiver.recv_multipart() for _ in range(SERVICES)]
    second = [receiver.recv_multipart() for _ in range(SERVICES)]
    assert sorted(first) == [[bytes([ord("A") + i]), b"one"] for i in range(SERVICES)]
    assert sorted(second) == [[bytes([ord("A") + i]), b"two"] for i in range(SERVICES)]


def test_prefixes_incoming_messages_with_the_identity(net):
    """SHALL prefix each incoming message with a frame containing the identity of the
    originating double queue.
    SHALL deliver the resulting messages to its calling application."""
    router, dealer, rid, _ = _router_with_dealer(net, b"origin")
    dealer.send_multipart([b"a", b"", b"c"])
    assert router.recv() == b"origin"
    assert router.getsockopt(zmq.RCVMORE)
    assert router.recv_multipart() == [b"a", b"", b"c"]


def test_routes_by_the_first_frame(net):
    """SHALL remove the first frame from each outgoing message and use this as the identity
    of a double queue.
    SHALL route the message to the outgoing queue if that queue exists, and has space."""
    router = net.socket(zmq.ROUTER)
    address = net.bind(router)
    dealers = {}
    for name in (b"red", b"green", b"blue"):
        dealer = net.socket(zmq.DEALER, routing_id=name)
        dealer.connect(address)
        dealer.send(b"hi")
        dealers[name] = dealer
    for _ in dealers:
        router.recv_multipart()
    for name in (b"blue", b"red", b"green", b"red"):
        router.send_multipart([name, b"for " + name, b"part 2"])
    assert dealers[b"red"].recv_multipart() == [b"for red", b"part 2"]
    assert dealers[b"red"].recv_multipart() == [b"for red", b"part 2"]
    assert dealers[b"green"].recv_multipart() == [b"for green", b"part 2"]
    assert dealers[b"blue"].recv_multipart() == [b"for blue", b"part 2"]
    assert_quiet(*dealers.values())


def test_unroutable_messages_are_dropped_silently(net):
    """SHALL either silently drop the message, or return an error, depending on
    configuration, if the queue does not exist, or is full.  (default: drop)"""
    router, dealer, rid, _ = _router_with_dealer(net, b"known")
    router.send_multipart([b"unknown", b"lost"], zmq.DONTWAIT)
    router.send(b"unknown", zmq.SNDMORE | zmq.DONTWAIT)
    router.send(b"lost too", zmq.DONTWAIT)
    router.send_multipart([b"known", b"delivered"])
    assert dealer.recv() == b"delivered"
    assert_quiet(dealer)


def test_mandatory_unknown_identity_is_ehostunreach(net):
    """SHALL either silently drop the message, or return an error, depending on
    configuration, if the queue does not exist.  (ROUTER_MANDATORY: EHOSTUNREACH, at the
    routing-id part already, as libzmq)"""
    router = net.socket(zmq.ROUTER, router_mandatory=1)
    address = net.bind(router)
    assert_errno(zmq.EHOSTUNREACH, lambda: router.send(b"UNKNOWN", zmq.SNDMORE))
    assert_errno(zmq.EHOSTUNREACH, lambda: router.send_multipart([b"UNKNOWN", b"x"]))
    dealer = net.socket(zmq.DEALER, routing_id=b"X")
    dealer.connect(address)
    dealer.send(b"here")
    assert router.recv_multipart() == [b"X", b"here"]
    router.send(b"X", zmq.SNDMORE)
    router.send(b"reachable")
    assert dealer.recv() == b"reachable"
    assert_errno(zmq.EHOSTUNREACH, lambda: router.send_multipart([b"Y", b"x"]))


def test_mandatory_full_queue_is_eagain_and_default_drops(net):
    """SHALL either silently drop the message, or return an error, depending on
    configuration, if the queue ... is full.  (ROUTER_MANDATORY: EAGAIN)"""
    for mandatory in (1, 0):
        router = net.socket(zmq.ROUTER, router_mandatory=mandatory, sndhwm=1, sndbuf=4096)
        address = net.bind(router)
        dealer = net.socket(zmq.DEALER, routing_id=b"slow", rcvhwm=1, rcvbuf=4096)
        dealer.connect(address)
        dealer.send(b"hi")
        router.recv_multipart()
        payload = b"m" * 65536
        sent = 0
        started = time.monotonic()
        while sent < 500:
            try:
                router.send_multipart([b"slow", payload], zmq.DONTWAIT)
            except zmq.Again:
                # full for now; the I/O thread may still move some of it to the kernel
                if mandatory and router.poll(200, zmq.POLLOUT):
                    continue
                break
            sent += 1
        if mandatory:
            assert sent < 500
            assert_again(lambda: router.send_multipart([b"slow", b"x"], zmq.DONTWAIT))
            if net.transport == "inproc":
                assert sent == 2
        else:
            assert sent == 500  # never an error: what does not fit is dropped
            assert time.monotonic() - started < 5
        dealer.close()
        router.close()


def test_never_blocks_on_sending(net):
    """SHALL NOT block on sending."""
    router, dealer, rid, _ = _router_with_dealer(net, b"sink", sndhwm=1)
    router.sndtimeo = -1  # even an infinite timeout does not make it wait
    started = time.monotonic()
    for _ in range(3000):
        router.send_multipart([rid, b"x" * 1024])
    for _ in range(100):
        router.send_multipart([b"nobody", b"x"])
    assert time.monotonic() - started < 5
    assert dealer.recv()  # the first ones did arrive


def test_duplicate_identity_without_handover_ignores_the_newcomer(net):
    """(libzmq) A second peer claiming a routing id in use is ignored: its messages are not
    delivered and replies keep going to the first."""
    router, first, _, address = _router_with_dealer(net, b"X")
    second = net.socket(zmq.DEALER, routing_id=b"X")
    second.connect(address)
    second.send(b"from the impostor")
    wait_peers(router, 2)
    assert_quiet(router)  # and no POLLIN for a message that will never be delivered
    router.send_multipart([b"X", b"reply"])
    assert first.recv() == b"reply"
    assert_quiet(second)
    first.send(b"still the first")
    assert router.recv_multipart() == [b"X", b"still the first"]


def test_handover_gives_the_identity_to_the_newcomer(net):
    """(libzmq ROUTER_HANDOVER) A second peer with an id in use takes it over; the first
    one's connection is closed."""
    router, first, _, address = _router_with_dealer(net, b"H", router_handover=1)
    second = net.socket(zmq.DEALER, routing_id=b"H")
    second.connect(address)
    second.send(b"taking over")
    assert router.recv_multipart() == [b"H", b"taking over"]
    router.send_multipart([b"H", b"to the new one"])
    assert second.recv() == b"to the new one"
    assert_quiet(first)


def test_connect_routing_id_names_the_peer(net):
    """(libzmq CONNECT_ROUTING_ID) The id a ROUTER gives the peer it connects to; usable at
    once, before the connection is up."""
    server = net.socket(zmq.ROUTER, routing_id=b"server-self")
    address = net.bind(server)
    client = net.socket(zmq.ROUTER, routing_id=b"client", router_mandatory=1)
    client.connect_routing_id = b"alias"
    client.connect(address)
    client.send_multipart([b"alias", b"ping"])
    assert server.recv_multipart() == [b"client", b"ping"]
    server.send_multipart([b"client", b"pong"])
    assert client.recv_multipart() == [b"alias", b"pong"]
    # The option is used by one connect() only.
    assert_errno(zmq.EHOSTUNREACH, lambda: client.send_multipart([b"server-self", b"x"]))


def test_connect_routing_id_to_a_dealer(net):
    dealer = net.socket(zmq.DEALER)
    address = net.bind(dealer)
    router = net.socket(zmq.ROUTER, router_mandatory=1)
    router.connect_routing_id = b"d"
    router.connect(address)
    router.send_multipart([b"d", b"hi"])
    assert dealer.recv() == b"hi"
    dealer.send(b"back")
    assert router.recv_multipart() == [b"d", b"back"]


@pytest.mark.parametrize("prober", [zmq.DEALER, zmq.REQ, zmq.ROUTER])
def test_probe_router_announces_the_peer(net, prober):
    """(libzmq PROBE_ROUTER) The connecting socket sends an empty message at once, so the
    ROUTER learns its id without waiting for a request."""
    router = net.socket(zmq.ROUTER)
    address = net.bind(router)
    client = net.socket(prober, probe_router=1, routing_id=b"prober")
    client.connect(address)
    assert router.recv_multipart() == [b"prober", b""]
    if prober == zmq.REQ:
        # The ROUTER can address the REQ now; the REQ itself accepts only a reply.
        client.send(b"request")
        assert router.recv_multipart() == [b"prober", b"", b"request"]
        router.send_multipart([b"prober", b"", b"answer"])
        assert client.recv() == b"answer"
    elif prober == zmq.ROUTER:
        router.send_multipart([b"prober", b"welcome"])
        assert recv_within(client)[1] == b"welcome"
    else:
        router.send_multipart([b"prober", b"welcome"])
        assert client.recv() == b"welcome"
