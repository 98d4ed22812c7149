"""RFC 28/REQREP: the REP socket type, one test per clause, on inproc, tcp and ipc."""

from __future__ import annotations

import time

import puremq as zmq

from .conftest import (assert_again, assert_errno, assert_quiet, peer_count, wait_for,
                       wait_queued)

SERVICES = 5


def _rep_with_dealer(net, **dealer_options):
    rep = net.socket(zmq.REP)
    dealer = net.socket(zmq.DEALER, **dealer_options)
    dealer.connect(net.bind(rep))
    return rep, dealer


def test_serves_req_and_dealer(net):
    """MAY be connected to any number of REQ or DEALER peers."""
    rep = net.socket(zmq.REP)
    address = net.bind(rep)
    req = net.socket(zmq.REQ)
    dealer = net.socket(zmq.DEALER)
    req.connect(address)
    dealer.connect(address)
    req.send(b"from req")
    dealer.send_multipart([b"", b"from dealer"])
    for _ in range(2):
        request = rep.recv()
        rep.send(b"re: " + request)
    assert req.recv() == b"re: from req"
    assert dealer.recv_multipart() == [b"", b"re: from dealer"]


def test_body_not_modified(net):
    """SHALL not filter or modify outgoing or incoming messages in any way."""
    rep, dealer = _rep_with_dealer(net)
    body = [b"\x00", b"x" * 10000, b"\xff\xfe"]
    dealer.send_multipart([b""] + body)
    assert rep.recv_multipart() == body
    rep.send_multipart(body[::-1])
    assert dealer.recv_multipart() == [b""] + body[::-1]


def test_receive_then_send_one_at_a_time(net):
    """SHALL receive and then send exactly one message at a time."""
    rep, dealer = _rep_with_dealer(net)
    assert_errno(zmq.EFSM, lambda: rep.send(b"unasked"))
    assert not rep.poll(0, zmq.POLLOUT)
    dealer.send_multipart([b"", b"one"])
    dealer.send_multipart([b"", b"two"])
    assert rep.recv() == b"one"
    assert_errno(zmq.EFSM, lambda: rep.recv(zmq.DONTWAIT))
    assert not rep.poll(0, zmq.POLLIN)  # even with "two" waiting
    rep.send(b"1")
    assert_errno(zmq.EFSM, lambda: rep.send(b"again"))
    assert rep.recv() == b"two"
    rep.send(b"2")
    assert dealer.recv_multipart() == [b"", b"1"]
    assert dealer.recv_multipart() == [b"", b"2"]


def test_wire_format_envelope_delimiter_data(net):
    """The request and reply messages SHALL have this format on the wire:
    * An address envelope consisting of zero or more frames, each containing one identity.
    * A delimiter, consisting of an empty frame.
    * One or more data frames, comprising the message visible to the application."""
    rep, dealer = _rep_with_dealer(net)
    dealer.send_multipart([b"", b"A"])  # minimal envelope
    assert rep.recv_multipart() == [b"A"]
    rep.send(b"A")
    assert dealer.recv_multipart() == [b"", b"A"]
    dealer.send_multipart([b"X", b"Y", b"", b"A", b"B"])  # big envelope
    assert rep.recv_multipart() == [b"A", b"B"]
    rep.send(b"A")
    assert dealer.recv_multipart() == [b"X", b"Y", b"", b"A"]


def test_fair_queue_in(net):
    """SHALL receive incoming messages from its peers using a fair-queuing strategy."""
    rep = net.socket(zmq.REP)
    address = net.bind(rep)
    dealers = [net.socket(zmq.DEALER) for _ in range(SERVICES)]
    for dealer in dealers:
        dealer.connect(address)
    for index, dealer in enumerate(dealers):
        dealer.send_multipart([b"", b"first %d" % index])
        dealer.send_multipart([b"", b"second %d" % index])
    wait_queued(rep, 2 * SERVICES)
    order = []
    for _ in range(2 * SERVICES):
        order.append(rep.recv())
        rep.send(b"ok")
    assert set(order[:SERVICES]) == {b"first %d" % i for i in range(SERVICES)}
    assert set(order[SERVICES:]) == {b"second %d" % i for i in range(SERVICES)}


def test_strips_envelope_and_passes_data(net):
    """SHALL remove and store the address envelope, including the delimiter.
    SHALL pass the remaining data frames to its calling application."""
    rep, dealer = _rep_with_dealer(net)
    dealer.send_multipart([b"hop2", b"hop1", b"", b"data 1", b"data 2"])
    assert rep.recv() == b"data 1"
    assert rep.getsockopt(zmq.RCVMORE)
    assert rep.recv() == b"data 2"
    assert not rep.getsockopt(zmq.RCVMORE)


def test_replies_go_back_to_their_origin(net):
    """SHALL wait for a single reply message from its calling application.
    SHALL prepend the address envelope and delimiter.
    SHALL deliver this message back to the originating peer."""
    rep = net.socket(zmq.REP)
    address = net.bind(rep)
    reqs = [net.socket(zmq.REQ) for _ in range(SERVICES)]
    for req in reqs:
        req.connect(address)
    for index, req in enumerate(reqs):
        req.send(b"%d" % index)
    for _ in range(SERVICES):
        request = rep.recv()
        rep.send_multipart([b"answer", request])
    for index, req in enumerate(reqs):
        assert req.recv_multipart() == [b"answer", b"%d" % index]


def test_reply_to_a_departed_peer_is_discarded(net):
    """SHALL silently discard the reply, or return an error, if the originating peer is no
    longer connected."""
    rep = net.socket(zmq.REP)
    address = net.bind(rep)
    req = net.socket(zmq.REQ)
    req.connect(address)
    req.send(b"ask and leave")
    assert rep.recv() == b"ask and leave"
    req.close()
    wait_for(lambda: peer_count(rep) == 0, what="the requester to leave")
    rep.send(b"too late")  # discarded, no error
    other = net.socket(zmq.REQ)
    other.connect(address)
    other.send(b"new question")
    assert rep.recv() == b"new question"
    rep.send(b"new answer")
    assert other.recv() == b"new answer"


def test_never_blocks_on_sending(net):
    """SHALL not block on sending."""
    rep = net.socket(zmq.REP, sndhwm=1, sndbuf=4096)
    address = net.bind(rep)
    dealer = net.socket(zmq.DEALER, rcvhwm=1, rcvbuf=4096)
    dealer.connect(address)
    requests = 200
    for i in range(requests):
        dealer.send_multipart([b"", b"%d" % i])
    rep.sndtimeo = -1
    started = time.monotonic()
    for _ in range(requests):
        request = rep.recv()
        rep.send(request + b" " + b"r" * 32768)  # the dealer never reads meanwhile
    assert time.monotonic() - started < 10
    replies = 0
    while dealer.poll(200, zmq.POLLIN):
        dealer.recv_multipart()
        replies += 1
    assert 0 < replies < requests  # what did not fit was dropped, nothing waited
    if net.transport == "inproc":
        assert replies == 2


def test_multi_hop_envelope_through_router_dealer(net):
    """SHALL remove and store the address envelope ... SHALL prepend the address envelope
    and delimiter.  (Through a ROUTER-DEALER hop the envelope grows by the hop's id and the
    reply finds its way back.)"""
    frontend = net.socket(zmq.ROUTER)
    backend = net.socket(zmq.DEALER)
    rep = net.socket(zmq.REP)
    req = net.socket(zmq.REQ, routing_id=b"client")
    req.connect(net.bind(frontend))
    backend.connect(net.bind(rep))
    req.send(b"through the broker")
    request = frontend.recv_multipart()
    assert request == [b"client", b"", b"through the broker"]
    backend.send_multipart(request)
    assert rep.recv_multipart() == [b"through the broker"]
    rep.send(b"back through the broker")
    reply = backend.recv_multipart()
    assert reply == [b"client", b"", b"back through the broker"]
    frontend.send_multipart(reply)
    assert req.recv() == b"back through the broker"


def test_malformed_requests_are_dropped(net):
    """(libzmq) A request without a delimiter has no envelope to store: it is dropped."""
    rep, dealer = _rep_with_dealer(net)
    rep.rcvtimeo = 100
    dealer.send(b"no delimiter")
    dealer.send_multipart([b"id1", b"id2"])
    wait_queued(rep, 2)
    assert_again(rep.recv)
    dealer.send_multipart([b"", b"well formed"])
    rep.rcvtimeo = 2000
    assert rep.recv() == b"well formed"
    rep.send(b"answer")
    assert dealer.recv_multipart() == [b"", b"answer"]
    assert_quiet(dealer)
