"""A REQ or REP reading its only peer in its own thread takes a plain request or reply
(``[b"", body]``) straight out of the bytes it read (zmtp.inbox, next_delimited); whatever
else the read holds goes back to the connection's decoder.  Each SHALL behave exactly as
when the message comes through the pipe: RFC 28's rules, the envelope, the order."""

from __future__ import annotations

import socket
from typing import Any, Tuple

import pytest

import puremq
from tests.hostile._wire import RawPeer, last_endpoint, message

WAIT_MS = 10000


def _pair(ctx: Any, kind: int, peer_type: bytes) -> Tuple[Any, RawPeer]:
    sock = ctx.socket(kind)
    sock.rcvtimeo = WAIT_MS
    sock.sndtimeo = WAIT_MS
    sock.bind("tcp://127.0.0.1:*")
    peer = RawPeer.connect(last_endpoint(sock))
    peer.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    peer.handshake(peer_type)
    return sock, peer


def test_req_takes_its_reply_and_drops_what_came_after_it_at_the_next_request(
        ctx: Any) -> None:
    """REQ SHALL return the reply to its request (a Frame with the peer's metadata), and
    SHALL discard a reply still queued when it sends its next request, even one that
    arrived in the same read as the reply."""
    req, peer = _pair(ctx, puremq.REQ, b"REP")
    with peer:
        req.send(b"q1")
        assert peer.read_message() == [b"", b"q1"]
        peer.send(message(b"", b"r1") + message(b"", b"stale"))
        frame = req.recv(copy=False)
        assert frame.bytes == b"r1" and not frame.more
        assert frame.get("Socket-Type") == "REP"
        req.send(b"q2")
        assert peer.read_message() == [b"", b"q2"]
        peer.send(message(b"", b"r2"))
        assert req.recv() == b"r2"
        assert not req.rcvmore


def test_req_skips_a_malformed_reply_read_together_with_the_good_one(ctx: Any) -> None:
    """REQ SHALL discard a reply without the empty delimiter and return the well-formed
    one that follows it."""
    req, peer = _pair(ctx, puremq.REQ, b"REP")
    with peer:
        req.send(b"q")
        assert peer.read_message() == [b"", b"q"]
        peer.send(message(b"no delimiter") + message(b"", b"good"))
        assert req.recv() == b"good"


def test_req_receives_a_multipart_reply(ctx: Any) -> None:
    """A reply of several body frames is received whole (recv_multipart and RCVMORE)."""
    req, peer = _pair(ctx, puremq.REQ, b"REP")
    with peer:
        req.send(b"q")
        assert peer.read_message() == [b"", b"q"]
        peer.send(message(b"", b"a", b"b"))
        assert req.recv_multipart() == [b"a", b"b"]


def test_rep_answers_requests_read_together_one_at_a_time(ctx: Any) -> None:
    """REP SHALL hand out one request at a time and send each reply to its requester with
    the request's envelope, whether requests come in one read or several."""
    rep, peer = _pair(ctx, puremq.REP, b"REQ")
    with peer:
        peer.send(message(b"", b"q1") + message(b"", b"q2"))
        assert rep.recv() == b"q1"
        with pytest.raises(puremq.ZMQError) as info:
            rep.recv(puremq.NOBLOCK)
        assert info.value.errno == puremq.EFSM
        rep.send(b"a1")
        assert peer.read_message() == [b"", b"a1"]
        assert rep.recv() == b"q2"
        rep.send(b"a2")
        assert peer.read_message() == [b"", b"a2"]


def test_rep_puts_each_requests_own_envelope_on_its_reply(ctx: Any) -> None:
    """REP SHALL put back the envelope of the request it answers: a routed request's
    routing frames, then a plain request's none."""
    rep, peer = _pair(ctx, puremq.REP, b"DEALER")
    with peer:
        peer.send(message(b"hop", b"", b"routed"))
        assert rep.recv() == b"routed"
        rep.send(b"a1")
        assert peer.read_message() == [b"hop", b"", b"a1"]
        peer.send(message(b"", b"plain"))
        assert rep.recv() == b"plain"
        rep.send(b"a2")
        assert peer.read_message() == [b"", b"a2"]
