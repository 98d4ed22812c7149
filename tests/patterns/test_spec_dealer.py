"""RFC 28/REQREP: the DEALER socket type, one test per clause, on inproc, tcp and ipc."""

from __future__ import annotations

import time

import puremq as zmq

from .conftest import (assert_again, assert_quiet, peer_count, recv_within,
                       wait_for, wait_queued)

SERVICES = 5


def _fill(sock, payload, timeout_ms):
    """Send until the socket stays full for timeout_ms; returns how many it took."""
    sock.sndtimeo = timeout_ms
    sent = 0
    while True:
        try:
            sock.send(b"%d " % sent + payload)
        except zmq.Again:
            return sent
        sent += 1


def test_talks_to_rep_and_router_both_ways(net):
    """MAY be connected to any number of REP or ROUTER peers, and MAY both send and receive
    messages."""
    rep = net.socket(zmq.REP)
    router = net.socket(zmq.ROUTER)
    dealer = net.socket(zmq.DEALER)
    dealer.connect(net.bind(rep))
    dealer.connect(net.bind(router))
    dealer.send_multipart([b"", b"to rep"])
    dealer.send_multipart([b"to router"])
    assert rep.recv() == b"to rep"
    rep.send(b"from rep")
    identity, body = router.recv_multipart()
    assert body == b"to router"
    router.send_multipart([identity, b"from router"])
    replies = {tuple(dealer.recv_multipart()) for _ in range(2)}
    assert replies == {(b"", b"from rep"), (b"from router",)}


def test_messages_not_modified(net):
    """SHALL not filter or modify outgoing or incoming messages in any way."""
    a = net.socket(zmq.DEALER)
    b = net.socket(zmq.DEALER)
    b.connect(net.bind(a))
    message = [b"", b"", b"\x00", b"x" * 5000, b"\xff"]
    b.send_multipart(message)
    assert a.recv_multipart() == message
    a.send_multipart(message[1:])
    assert b.recv_multipart() == message[1:]


def test_double_queue_per_peer(net):
    """SHALL maintain a double queue for each connected peer, allowing outgoing and incoming
    messages to be queued independently."""
    dealer = net.socket(zmq.DEALER)
    peers = [net.socket(zmq.DEALER) for _ in range(2)]
    for peer in peers:
        dealer.connect(net.bind(peer))
    for i in range(4):
        dealer.send(b"out %d" % i)
    for index, peer in enumerate(peers):
        for i in range(3):
            peer.send(b"in %d.%d" % (index, i))
    wait_queued(dealer, 6)
    assert sorted(dealer.recv() for _ in range(6)) == sorted(
        b"in %d.%d" % (p, i) for p in range(2) for i in range(3))
    assert [peers[0].recv() for _ in range(2)] == [b"out 0", b"out 2"]
    assert [peers[1].recv() for _ in range(2)] == [b"out 1", b"out 3"]


def test_queue_exists_before_the_connection(net):
    """SHALL create a double queue when initiating an outgoing connection to a peer, and SHALL
    maintain the double queue whether or not the connection is established."""
    address = net.unbound_endpoint()
    dealer = net.socket(zmq.DEALER)
    dealer.connect(address)
    for i in range(3):
        dealer.send(b"early %d" % i, zmq.DONTWAIT)
    router = net.socket(zmq.ROUTER)
    router.bind(address)
    for i in range(3):
        assert router.recv_multipart()[1] == b"early %d" % i


def test_queue_destroyed_when_peer_disconnects(net):
    """SHALL create a double queue when a peer connects to it. If this peer disconnects, the
    DEALER socket SHALL destroy its double queue and SHALL discard any messages it contains."""
    dealer = net.socket(zmq.DEALER, sndhwm=2)
    address = net.bind(dealer)
    peer = net.socket(zmq.DEALER, rcvhwm=2)
    peer.connect(address)
    peer.send(b"hello")
    assert dealer.recv() == b"hello"
    for _ in range(2):
        dealer.send(b"stale", zmq.DONTWAIT)
    peer.close()
    wait_for(lambda: peer_count(dealer) == 0, what="the peer to leave")
    assert_again(lambda: dealer.send(b"nobody", zmq.DONTWAIT))
    successor = net.socket(zmq.DEALER)
    successor.connect(address)
    dealer.send(b"fresh")
    assert successor.recv() == b"fresh"
    assert_quiet(successor)


def test_peer_available_only_when_its_queue_is_not_full(net):
    """SHALL consider a peer as available only when it has a outgoing queue that is not full."""
    dealer = net.socket(zmq.DEALER, sndhwm=2, sndbuf=4096)
    stuck = net.socket(zmq.DEALER, rcvhwm=2, rcvbuf=4096)
    flowing = net.socket(zmq.DEALER, rcvhwm=0)
    dealer.connect(net.bind(stuck))
    dealer.connect(net.bind(flowing))
    payload = b"d" * 16384
    total = 200
    for i in range(total):
        dealer.send(b"%d " % i + payload)
    got_stuck = 0
    while recv_within(stuck, net.fill_ms) is not None:
        got_stuck += 1
    for _ in range(total - got_stuck):
        assert recv_within(flowing) is not None
    assert_quiet(flowing)
    if net.transport == "inproc":
        assert got_stuck == 4
    else:
        assert got_stuck < total // 2


def test_round_robin_to_available_peers(net):
    """SHALL route outgoing messages to available peers using a round-robin strategy."""
    dealer = net.socket(zmq.DEALER)
    reps = [net.socket(zmq.REP) for _ in range(SERVICES)]
    for rep in reps:
        dealer.connect(net.bind(rep))
    for i in range(SERVICES):
        dealer.send_multipart([b"", b"ABC %d" % i])
    for i, rep in enumerate(reps):
        assert rep.recv() == b"ABC %d" % i
    assert_quiet(*reps)


def test_blocks_or_errors_without_peers(net):
    """SHALL block on sending, or return a suitable error, when it has no available peers."""
    dealer = net.socket(zmq.DEALER, sndtimeo=100)
    net.bind(dealer)
    assert_again(lambda: dealer.send(b"", zmq.DONTWAIT))
    started = time.monotonic()
    assert_again(lambda: dealer.send(b""))
    assert time.monotonic() - started >= 0.09
    assert not dealer.poll(0, zmq.POLLOUT)


def test_no_further_messages_and_none_discarded_when_full(net):
    """SHALL not accept further messages when it has no available peers.
    SHALL NOT discard messages that it cannot queue."""
    dealer = net.socket(zmq.DEALER, sndhwm=2, sndbuf=4096)
    peer = net.socket(zmq.DEALER, rcvhwm=2, rcvbuf=4096)
    dealer.connect(net.bind(peer))
    accepted = _fill(dealer, b"n" * 32768, net.fill_ms)
    if net.transport == "inproc":
        assert accepted == 4
    assert_again(lambda: dealer.send(b"refused", zmq.DONTWAIT))
    received = [peer.recv().split(b" ", 1)[0] for _ in range(accepted)]
    assert received == [b"%d" % i for i in range(accepted)]
    assert_quiet(peer)
    dealer.send(b"room again")
    assert peer.recv() == b"room again"


def test_fair_queue_in(net):
    """SHALL receive incoming messages from its peers using a fair-queuing strategy."""
    receiver = net.socket(zmq.DEALER)
    address = net.bind(receiver)
    senders = [net.socket(zmq.DEALER) for _ in range(SERVICES)]
    for sender in senders:
        sender.connect(address)
    senders[0].send(b"A")
    assert receiver.recv() == b"A"
    senders[0].send(b"A")
    assert receiver.recv() == b"A"
    for index, sender in enumerate(senders):
        sender.send(b"first %d" % index)
        sender.send(b"second %d" % index)
    wait_queued(receiver, 2 * SERVICES)
    first = {receiver.recv() for _ in range(SERVICES)}
    second = {receiver.recv() for _ in range(SERVICES)}
    assert first == {b"first %d" % i for i in range(SERVICES)}
    assert second == {b"second %d" % i for i in range(SERVICES)}


def test_delivers_to_the_application(net):
    """SHALL deliver these to its calling application."""
    dealer = net.socket(zmq.DEALER, rcvtimeo=50)
    router = net.socket(zmq.ROUTER)
    dealer.connect(net.bind(router))
    assert_again(dealer.recv)
    dealer.send(b"hi")
    identity, _ = router.recv_multipart()
    router.send_multipart([identity, b"a", b"b"])
    assert dealer.poll(2000, zmq.POLLIN)
    assert dealer.recv_multipart() == [b"a", b"b"]
