"""RFC 28/REQREP: the REQ socket type, one test per clause, on inproc, tcp and ipc; plus
libzmq's REQ_RELAXED and REQ_CORRELATE (test_req_relaxed, test_req_correlate)."""

from __future__ import annotations

import time

import puremq as zmq

from .conftest import assert_again, assert_errno, assert_quiet, wait_peers, wait_queued

SERVICES = 5


def _req_to_router(net, **req_options):
    router = net.socket(zmq.ROUTER)
    req = net.socket(zmq.REQ, routing_id=b"R", **req_options)
    req.connect(net.bind(router))
    return req, router


def test_connects_to_rep_and_router(net):
    """MAY be connected to any number of REP or ROUTER peers."""
    rep = net.socket(zmq.REP)
    router = net.socket(zmq.ROUTER)
    req = net.socket(zmq.REQ, routing_id=b"R")
    req.connect(net.bind(rep))
    req.connect(net.bind(router))
    req.send(b"one")
    assert rep.recv() == b"one"
    rep.send(b"from rep")
    assert req.recv() == b"from rep"
    req.send(b"two")
    assert router.recv_multipart() == [b"R", b"", b"two"]
    router.send_multipart([b"R", b"", b"from router"])
    assert req.recv() == b"from router"


def test_send_then_receive_one_at_a_time(net):
    """SHALL send and then receive exactly one message at a time."""
    req, router = _req_to_router(net)
    assert_errno(zmq.EFSM, lambda: req.recv(zmq.DONTWAIT))
    req.send(b"request")
    assert_errno(zmq.EFSM, lambda: req.send(b"second request"))
    assert_errno(zmq.EFSM, lambda: req.send(b"second", zmq.SNDMORE))
    assert not req.poll(0, zmq.POLLOUT)
    assert router.recv_multipart() == [b"R", b"", b"request"]
    router.send_multipart([b"R", b"", b"reply"])
    assert req.recv() == b"reply"
    assert_errno(zmq.EFSM, lambda: req.recv(zmq.DONTWAIT))
    assert req.poll(0, zmq.POLLOUT)
    req.send(b"next")
    assert router.recv_multipart() == [b"R", b"", b"next"]


def test_wire_format_is_delimiter_then_data(net):
    """The request and reply messages SHALL have this format on the wire:
    * A delimiter, consisting of an empty frame, added by the REQ socket.
    * One or more data frames, comprising the message visible to the application."""
    req, router = _req_to_router(net)
    req.send_multipart([b"ABC", b"DEF"])
    identity = router.recv()
    assert identity == b"R"
    assert router.getsockopt(zmq.RCVMORE)
    assert router.recv_multipart() == [b"", b"ABC", b"DEF"]
    router.send(identity, zmq.SNDMORE)
    router.send_multipart([b"", b"GHI"])
    assert req.recv_multipart() == [b"GHI"]


def test_prefixes_an_empty_delimiter(net):
    """SHALL prefix the outgoing message with an empty delimiter frame."""
    req, router = _req_to_router(net)
    req.send(b"")  # even an empty request gets its own delimiter in front
    assert router.recv_multipart() == [b"R", b"", b""]


def test_round_robin_to_connected_peers(net):
    """SHALL route outgoing messages to connected peers using a round-robin strategy."""
    req = net.socket(zmq.REQ)
    reps = [net.socket(zmq.REP) for _ in range(SERVICES)]
    for rep in reps:
        req.connect(net.bind(rep))
    for _ in range(2):
        for index, rep in enumerate(reps):
            req.send(b"ABC")
            assert rep.recv() == b"ABC"
            rep.send(b"DEF %d" % index)
            assert req.recv() == b"DEF %d" % index


def test_round_robin_when_bound(net):
    """SHALL route outgoing messages to connected peers using a round-robin strategy."""
    req = net.socket(zmq.REQ)
    address = net.bind(req)
    reps = [net.socket(zmq.REP) for _ in range(SERVICES)]
    for rep in reps:
        rep.connect(address)
    wait_peers(req, SERVICES)
    served = []
    poller = zmq.Poller()
    for rep in reps:
        poller.register(rep, zmq.POLLIN)
    for _ in range(2 * SERVICES):
        req.send(b"ABC")
        ready = dict(poller.poll(2000))
        assert len(ready) == 1
        (rep,) = ready
        assert rep.recv() == b"ABC"
        rep.send(b"DEF")
        assert req.recv() == b"DEF"
        served.append(reps.index(rep))
    # every peer once per round, in the same order both rounds
    assert sorted(served[:SERVICES]) == list(range(SERVICES))
    assert served[SERVICES:] == served[:SERVICES]


def test_blocks_or_errors_without_peers(net):
    """SHALL block on sending, or return a suitable error, when it has no connected peers."""
    req = net.socket(zmq.REQ, sndtimeo=100)
    net.bind(req)
    assert_again(lambda: req.send(b"", zmq.DONTWAIT))
    started = time.monotonic()
    assert_again(lambda: req.send(b""))
    assert time.monotonic() - started >= 0.09
    # a refused request leaves the state machine where it was
    assert_errno(zmq.EFSM, lambda: req.recv(zmq.DONTWAIT))


def test_does_not_discard_what_it_cannot_yet_send(net):
    """SHALL NOT discard messages that it cannot send to a connected peer."""
    address = net.unbound_endpoint()
    req = net.socket(zmq.REQ)
    req.connect(address)
    req.send(b"patient request")  # queued: the peer is not there yet
    rep = net.socket(zmq.REP)
    rep.bind(address)
    assert rep.recv() == b"patient request"
    rep.send(b"eventually")
    assert req.recv() == b"eventually"


def test_accepts_only_the_last_peer_and_discards_others(net):
    """SHALL accept an incoming message only from the last peer that it sent a request to.
    SHALL discard silently any messages received from other peers."""
    req = net.socket(zmq.REQ, routing_id=b"A")
    routers = [net.socket(zmq.ROUTER, router_mandatory=1) for _ in range(3)]
    for router in routers:
        req.connect(net.bind(router))
    for i, router in enumerate(routers):
        req.send(b"ABC")
        assert router.recv_multipart() == [b"A", b"", b"ABC"]
        # Peers asked before (their pipes are no longer the one REQ listens to) answer too,
        # and their answers are there before the right one.
        for earlier in routers[:i]:
            earlier.send_multipart([b"A", b"", b"WRONG"])
        wait_queued(req, i)
        router.send_multipart([b"A", b"", b"GOOD"])
        assert req.recv() == b"GOOD"


def test_malformed_replies_are_discarded(net):
    """(libzmq) A reply without the empty delimiter is not a reply: it is dropped."""
    req, router = _req_to_router(net)
    req.send(b"request")
    assert router.recv_multipart() == [b"R", b"", b"request"]
    router.send_multipart([b"R", b"no delimiter"])
    router.send_multipart([b"R", b"not empty", b"body"])
    router.send_multipart([b"R", b""])  # a delimiter and nothing else
    router.send_multipart([b"R", b"", b"proper"])
    assert req.recv_multipart() == [b"proper"]
    assert_errno(zmq.EFSM, lambda: req.recv(zmq.DONTWAIT))


def test_reply_waits_for_its_peer(net):
    """SHALL accept an incoming message only from the last peer that it sent a request to."""
    req, router = _req_to_router(net, rcvtimeo=100)
    req.send(b"q")
    router.recv_multipart()
    assert_again(req.recv)  # no reply yet: EAGAIN, and still waiting for one
    router.send_multipart([b"R", b"", b"late reply"])
    req.rcvtimeo = 2000
    assert req.recv() == b"late reply"


# -- REQ_RELAXED (libzmq test_req_relaxed) -------------------------------------------------

def _relaxed_req_and_reps(net, correlate=True):
    req = net.socket(zmq.REQ, req_relaxed=1, req_correlate=int(correlate), rcvtimeo=100)
    reps = [net.socket(zmq.REP) for _ in range(SERVICES)]
    for rep in reps:
        req.connect(net.bind(rep))
    return req, reps


def test_relaxed_second_send_before_the_reply(net):
    req, reps = _relaxed_req_and_reps(net)
    req.send_multipart([b"A", b"B"])
    assert reps[0].recv_multipart() == [b"A", b"B"]
    req.send_multipart([b"C", b"D"])  # no EFSM with REQ_RELAXED
    assert reps[1].recv_multipart() == [b"C", b"D"]
    reps[0].send(b"WRONG")  # answers the abandoned request: discarded
    reps[1].send(b"OK")
    assert req.recv() == b"OK"
    # another standard cycle
    req.send(b"E")
    assert reps[2].recv() == b"E"
    reps[2].send_multipart([b"F", b"G"])
    assert req.recv_multipart() == [b"F", b"G"]


def test_relaxed_second_send_after_the_reply_arrived(net):
    req, reps = _relaxed_req_and_reps(net)
    req.send(b"H")
    assert reps[0].recv() == b"H"
    reps[0].send(b"BAD")
    wait_queued(req, 1)  # the reply is there, unread
    req.send(b"I")
    assert reps[1].recv() == b"I"
    reps[1].send(b"GOOD")
    assert req.recv() == b"GOOD"
    # two sends in a row did not drop the first peer (libzmq issue #1690)
    for rep in reps[2:] + reps[:1]:
        req.send(b"J")
        assert rep.recv() == b"J"
        rep.send(b"K")
        assert req.recv() == b"K"


def test_relaxed_without_correlate_discards_other_peers(net):
    req, reps = _relaxed_req_and_reps(net, correlate=False)
    req.send(b"1")
    assert reps[0].recv() == b"1"
    req.send(b"2")
    assert reps[1].recv() == b"2"
    reps[0].send(b"stale")
    wait_queued(req, 1)
    reps[1].send(b"fresh")
    assert req.recv() == b"fresh"


def test_relaxed_correlate_discards_replies_to_earlier_requests_on_one_pipe(net):
    """Requests that piled up before the server was there are answered in order; only the
    answer to the last one is delivered (libzmq issue #1695)."""
    address = net.unbound_endpoint()
    req = net.socket(zmq.REQ, req_relaxed=1, req_correlate=1)
    req.connect(address)
    req.send(b"TO_BE_DISCARDED")
    req.send(b"TO_BE_ANSWERED")
    router = net.socket(zmq.ROUTER)
    router.bind(address)
    for _ in range(2):
        router.send_multipart(router.recv_multipart())  # bounce as is
    assert req.recv() == b"TO_BE_ANSWERED"


# -- REQ_CORRELATE (libzmq test_req_correlate) ---------------------------------------------

def test_correlate_wire_format_and_matching(net):
    req, router = _req_to_router(net, req_correlate=1, rcvtimeo=100)
    req.send_multipart([b"ABC", b"DEF"])
    msg = router.recv_multipart()
    assert len(msg) == 5
    rid, request_id, delimiter, *body = msg
    assert rid == b"R"
    assert len(request_id) == 4
    assert delimiter == b""
    assert body == [b"ABC", b"DEF"]
    wrong_id = bytes([request_id[0] ^ 0xFF]) + request_id[1:]
    router.send_multipart([rid, wrong_id, b"", b"WRONG"])  # another request's reply
    router.send_multipart([rid, request_id, b"", b"GHI"])
    assert req.recv_multipart() == [b"GHI"]
    req.send(b"next")
    next_id = router.recv_multipart()[1]
    assert next_id != request_id  # each request has its own id


def test_correlate_drops_a_reply_without_request_id(net):
    req, router = _req_to_router(net, req_correlate=1)
    req.send(b"q")
    rid, request_id, _, _ = router.recv_multipart()
    router.send_multipart([rid, b"", b"uncorrelated"])
    router.send_multipart([rid, request_id, b"", b"correlated"])
    assert req.recv() == b"correlated"
    assert_quiet(router)
