"""The NULL handshake between two ZmtpConnections and the Socket-Type table of RFC 37
(ZMTP_NOTES.md sections 4-6)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puremq.zmtp import COMPATIBLE, ConnectionFailed, HandshakeComplete, State

from ._util import (BYTEWISE, BYTEWISE_ENGINE, OUR_NULL_GREETING, WHOLE, ZMTP_INVALID_METADATA,
                    ZMTP_UNEXPECTED_COMMAND, every_chunking, feeders, greeting, handshake,
                    messages_of, new_connection, parse_commands, prop, ready, single_failure)

#: RFC 37 §Socket-Type, as tabled in ZMTP_NOTES.md section 6 (written out, not imported).
RFC37_VALID_PEERS = {
    "REQ": {"REP", "ROUTER"},
    "REP": {"REQ", "DEALER"},
    "DEALER": {"REP", "DEALER", "ROUTER"},
    "ROUTER": {"REQ", "DEALER", "ROUTER"},
    "PUB": {"SUB", "XSUB"},
    "XPUB": {"SUB", "XSUB"},
    "SUB": {"PUB", "XPUB"},
    "XSUB": {"PUB", "XPUB"},
    "PUSH": {"PULL"},
    "PULL": {"PUSH"},
    "PAIR": {"PAIR"},
    "CLIENT": {"SERVER"},
    "SERVER": {"CLIENT"},
    "RADIO": {"DISH"},
    "DISH": {"RADIO"},
    "SCATTER": {"GATHER"},
    "GATHER": {"SCATTER"},
    "PEER": {"PEER"},
    "CHANNEL": {"CHANNEL"},
}
TYPES = sorted(RFC37_VALID_PEERS)
ALL_PAIRS = list(itertools.product(TYPES, TYPES))
VALID_PAIRS = [(a, b) for a, b in ALL_PAIRS if b in RFC37_VALID_PEERS[a]]
INVALID_PAIRS = [(a, b) for a, b in ALL_PAIRS if b not in RFC37_VALID_PEERS[a]]
SENDS_IDENTITY = {"REQ", "DEALER", "ROUTER"}


def test_compatibility_table_is_rfc37():
    assert {k: set(v) for k, v in COMPATIBLE.items()} == RFC37_VALID_PEERS


def _handshake_valid(a_type: str, b_type: str, feed) -> None:
    a = new_connection(a_type, identity=b"id-" + a_type.encode())
    b = new_connection(b_type, identity=b"id-" + b_type.encode())
    items_a, items_b = handshake(a, b, feed)
    for conn, items, own, peer in ((a, items_a, a_type, b_type), (b, items_b, b_type, a_type)):
        assert len(items) == 1 and isinstance(items[0], HandshakeComplete), items
        done = items[0]
        assert done.peer_socket_type == peer and conn.peer_socket_type == peer
        expected_identity = b"id-" + peer.encode() if peer in SENDS_IDENTITY else b""
        assert done.peer_identity == expected_identity
        assert done.properties["Socket-Type"] == peer.encode()
        assert ("Identity" in done.properties) == (peer in SENDS_IDENTITY)
        assert done.zmtp_minor == 1
        assert conn.state is State.ACTIVE and conn.failure is None
    # Traffic flows both ways afterwards.
    a.send_message([b"to", b"b"])
    b.send_message([b"to-a"])
    assert messages_of(feed(b, a.bytes_to_send())) == [[b"to", b"b"]]
    assert messages_of(feed(a, b.bytes_to_send())) == [[b"to-a"]]


def _handshake_invalid(a_type: str, b_type: str, feed) -> None:
    a = new_connection(a_type)
    b = new_connection(b_type)
    items_a, items_b = [], []
    sent_a, sent_b = b"", b""
    for _round in range(2):
        out_a, out_b = a.bytes_to_send(), b.bytes_to_send()
        sent_a += out_a
        sent_b += out_b
        items_b += feed(b, out_a)
        items_a += feed(a, out_b)
    # Both sides see an incompatible peer (the table is symmetric), during the handshake.
    for conn, items in ((a, items_a), (b, items_b)):
        failure = single_failure(items)
        assert failure.during_handshake and failure.peer_error is None
        assert failure.code == ZMTP_INVALID_METADATA
        assert conn.state is State.CLOSED
        assert not any(isinstance(i, HandshakeComplete) for i in items)
        # After its greeting and READY, the ERROR the RFC says the peer SHOULD get.
        sent = sent_a + a.bytes_to_send() if conn is a else sent_b + b.bytes_to_send()
        assert sent[:64] == OUR_NULL_GREETING
        names = [name for name, _data in parse_commands(sent[64:])]
        assert names == [b"READY", b"ERROR"], names


@pytest.mark.parametrize("a_type,b_type", VALID_PAIRS, ids=[f"{a}-{b}" for a, b in VALID_PAIRS])
def test_every_valid_pair_completes_a_handshake(a_type, b_type):
    """Every pair of RFC 37's table completes the NULL handshake, fed whole, byte by byte and
    byte by byte through body_buffer()."""
    for feed in (WHOLE, BYTEWISE, BYTEWISE_ENGINE):
        _handshake_valid(a_type, b_type, feed)


@pytest.mark.parametrize("a_type", TYPES)
def test_every_invalid_pair_fails_during_the_handshake(a_type):
    """Any pair not in the table fails with ConnectionFailed during the handshake, and each
    side queues an ERROR command for its peer."""
    for b_type in TYPES:
        if b_type in RFC37_VALID_PEERS[a_type]:
            continue
        for feed in (WHOLE, BYTEWISE, BYTEWISE_ENGINE):
            _handshake_invalid(a_type, b_type, feed)


@settings(max_examples=60, deadline=None, database=None)
@given(pair=st.sampled_from(ALL_PAIRS), feed=feeders())
def test_any_pair_in_random_chunkings(pair, feed):
    a_type, b_type = pair
    if b_type in RFC37_VALID_PEERS[a_type]:
        _handshake_valid(a_type, b_type, feed)
    else:
        _handshake_invalid(a_type, b_type, feed)


@every_chunking()
def test_the_error_for_an_incompatible_peer_reaches_a_compatible_listener(feed):
    """What a PUSH sends after refusing a PUB peer (greeting, READY, ERROR) makes a PULL that
    reads it complete its handshake and then fail with the ERROR's reason."""
    push = new_connection("PUSH")
    assert single_failure(push.receive_data(greeting() + ready(b"PUB"))).during_handshake
    pull = new_connection("PULL")
    items = feed(pull, push.bytes_to_send())
    assert isinstance(items[0], HandshakeComplete) and items[0].peer_socket_type == "PUSH"
    failure = single_failure(items)
    assert failure.peer_error and not failure.during_handshake


# -- Socket-Type and Identity edge cases -----------------------------------------------------------
@every_chunking()
def test_missing_socket_type_is_accepted(feed):
    """libzmq accepts a READY without Socket-Type."""
    conn = new_connection("DEALER")
    items = feed(conn, greeting() + ready(None, b"peer"))
    assert items == [HandshakeComplete(None, b"peer", {"Identity": b"peer"}, 1)]
    assert conn.peer_socket_type is None and conn.state is State.ACTIVE


@pytest.mark.parametrize("value", [b"BOGUS", b"dealer", b"ROUTER\x00", b"", b"STREAM",
                                   b"PUB"])
@every_chunking(max_examples=3)
def test_wrong_socket_type_fails_the_handshake(feed, value):
    """Socket-Type is compared case-sensitively (libzmq); unknown or wrong types fail."""
    conn = new_connection("DEALER")
    items = feed(conn, greeting() + ready(value, b""))
    failure = single_failure(items)
    assert failure.during_handshake and failure.code == ZMTP_INVALID_METADATA
    assert [n for n, _ in parse_commands(conn.bytes_to_send()[64:])] == [b"READY", b"ERROR"]


@pytest.mark.parametrize("size,ok", [(0, True), (1, True), (255, True), (256, False),
                                     (1000, False)])
@every_chunking(max_examples=3)
def test_identity_over_255_octets_is_rejected(feed, size, ok):
    """Identity: 0..255 octets."""
    conn = new_connection("ROUTER")
    identity = bytes((1 + i % 255 for i in range(size)))
    items = feed(conn, greeting() + ready(b"DEALER", identity))
    if ok:
        assert [type(i) for i in items] == [HandshakeComplete]
        assert items[0].peer_identity == identity == conn.peer_identity
    else:
        failure = single_failure(items)
        assert failure.during_handshake and failure.code == ZMTP_INVALID_METADATA
        assert conn.state is State.CLOSED


@every_chunking()
def test_application_metadata_is_exposed(feed):
    conn = new_connection("PULL")
    extra = prop(b"X-Color", b"blue") + prop(b"User-Thing", b"\x00\xff")
    items = feed(conn, greeting() + ready(b"PUSH", None, extra))
    assert items == [HandshakeComplete("PUSH", b"", {"Socket-Type": b"PUSH", "X-Color": b"blue",
                                                     "User-Thing": b"\x00\xff"}, 1)]
    assert conn.peer_properties["X-Color"] == b"blue"


@every_chunking()
def test_metadata_between_two_connections(feed):
    """X-* metadata configured on one side arrives at the other."""
    a = new_connection("DEALER", identity=b"A", extra={"X-Hello": b"World"})
    b = new_connection("ROUTER")
    items_a, items_b = handshake(a, b, feed)
    assert items_b[0].properties == {"Socket-Type": b"DEALER", "Identity": b"A",
                                     "X-Hello": b"World"}
    assert items_b[0].peer_identity == b"A"


# -- ERROR and faults during the handshake ---------------------------------------------------------
@pytest.mark.parametrize("reason", [b"denied", b"", b"400"])
def test_error_from_a_peer_connection_during_the_handshake(reason):
    """A peer that answers with ERROR instead of READY: ConnectionFailed with peer_error."""
    for feed in (WHOLE, BYTEWISE, BYTEWISE_ENGINE):
        a = new_connection("DEALER")
        b = new_connection("ROUTER")
        b.send_error(reason)  # before b has read anything: greeting + ERROR, no READY
        stream_b = b.bytes_to_send()
        assert stream_b[:64] == OUR_NULL_GREETING
        items = feed(a, stream_b)
        failure = single_failure(items)
        assert failure.peer_error == reason and failure.during_handshake
        assert a.state is State.CLOSED
        assert isinstance(a.failure, ConnectionFailed) and a.failure is failure


@every_chunking()
def test_message_frame_during_the_handshake_fails(feed):
    conn = new_connection("DEALER")
    items = feed(conn, greeting() + b"\x00\x05hello" + ready(b"ROUTER", b""))
    failure = single_failure(items)
    assert failure.during_handshake and failure.code == ZMTP_UNEXPECTED_COMMAND
    assert messages_of(items) == []


@every_chunking()
def test_handshake_and_traffic_in_one_stream(feed):
    """Greeting, READY and the first messages often arrive together; all are delivered in
    order after HandshakeComplete."""
    conn = new_connection("DEALER")
    stream = (greeting() + ready(b"ROUTER", b"") + b"\x01\x00\x00\x03abc"
              + b"\x04\x0a\x04PING\x00\x00LOL" + b"\x00\x01z")
    items = feed(conn, stream)
    assert isinstance(items[0], HandshakeComplete)
    assert messages_of(items) == [[b"", b"abc"], [b"z"]]
    assert conn.bytes_to_send().endswith(b"\x04\x08\x04PONGLOL")


def test_a_closed_connection_ignores_everything():
    conn = new_connection("DEALER")
    single_failure(conn.receive_data(b"\x00"))
    assert conn.state is State.CLOSED
    assert conn.receive_data(greeting() + ready(b"ROUTER", b"")) == []
    assert conn.body_buffer() is None
