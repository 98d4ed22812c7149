"""HOSTILE_INPUT case 12: malformed and lying READY metadata.

"READY metadata truncated, zero-length property name, trailing bytes, wrong or missing
Socket-Type, incompatible Socket-Type (e.g. PUSH to PUB), an Identity starting with 0x00."

ZMTP_NOTES §4: ``property = name-len(u8 1..255) name value-len(u32) value``; libzmq gives
EPROTO for trailing bytes or a truncated property, accepts a missing Socket-Type, refuses a
wrong one (EINVAL), and compares the names "Socket-Type" and "Identity" case-sensitively.
A peer whose handshake failed must never become a routing target, and nothing it sent may
be delivered.
"""

from __future__ import annotations

import struct

import pytest
import zmq as libzmq

import puremq

from ._servers import assert_round_trip, good_dealer, router_server
from ._wire import GREETING, RawListener, RawPeer, WAIT, assert_nothing_more, \
    last_endpoint, message, prop, ready, ready_body

DEALER_EVIL = prop(b"Socket-Type", b"DEALER") + prop(b"Identity", b"evil")

BAD_METADATA = {
    "name cut short": DEALER_EVIL + b"\x0bSock",
    "value length cut short": DEALER_EVIL + b"\x05X-Foo\x00\x00",
    "value cut short": DEALER_EVIL + b"\x05X-Foo\x00\x00\x00\x09abc",
    "value length 2^32-1": DEALER_EVIL + b"\x05X-Foo\xff\xff\xff\xff" + b"v" * 16,
    "value length 2^31": DEALER_EVIL + b"\x05X-Foo\x80\x00\x00\x00" + b"v" * 16,
    "identity value cut short": (prop(b"Socket-Type", b"DEALER")
                                 + b"\x08Identity\x00\x00\x00\x09evil"),
    "zero-length name": DEALER_EVIL + b"\x00\x00\x00\x00\x01v",
    "zero-length name first": b"\x00\x00\x00\x00\x00" + DEALER_EVIL,
    "one trailing byte": DEALER_EVIL + b"\x01",
    "trailing zero bytes": DEALER_EVIL + b"\x00\x00",
    "name with a space": DEALER_EVIL + prop(b"X Foo", b"v"),
    "wrong socket type": prop(b"Socket-Type", b"PUSH") + prop(b"Identity", b"evil"),
    "unknown socket type": prop(b"Socket-Type", b"BOGUS") + prop(b"Identity", b"evil"),
    "lower-case socket type value": prop(b"Socket-Type", b"dealer") + prop(b"Identity", b"evil"),
    "socket type with a NUL": prop(b"Socket-Type", b"DEALER\x00") + prop(b"Identity", b"evil"),
    "identity of 256 bytes": prop(b"Socket-Type", b"DEALER") + prop(b"Identity", b"e" * 256),
    "identity of 64 KiB": prop(b"Socket-Type", b"DEALER") + prop(b"Identity", b"e" * 65536),
}


@pytest.mark.parametrize("metadata", list(BAD_METADATA.values()), ids=list(BAD_METADATA))
def test_bad_ready_metadata_fails_the_handshake(ctx, zctx, metadata):
    """The connection is closed, the peer never becomes routable (ROUTER_MANDATORY gives
    EHOSTUNREACH for the identity it claimed), and the message it sent is not delivered."""
    router, endpoint = router_server(ctx, router_mandatory=1)
    dealer = good_dealer(zctx, endpoint)
    assert_round_trip(router, dealer)
    with RawPeer.connect(endpoint) as peer:
        peer.send(GREETING + ready_body(metadata) + message(b"smuggled"))
        peer.wait_closed()
        after_ready = peer.received
    for claimed in (b"evil", b"e" * 256):
        with pytest.raises(puremq.ZMQError) as info:
            router.send_multipart([claimed, b"secret"])
        assert info.value.errno == puremq.EHOSTUNREACH
    assert_nothing_more(router)
    assert_round_trip(router, dealer)
    assert b"secret" not in after_ready


@pytest.mark.parametrize("length", [0, 1, 255])
def test_identity_up_to_255_bytes_is_used_as_the_routing_id(ctx, zctx, length):
    """The control: a valid Identity (0..255 octets, not starting with 0x00) is accepted and
    used (an empty one gets a generated id)."""
    router, endpoint = router_server(ctx)
    dealer = good_dealer(zctx, endpoint)
    identity = b"i" * length
    with RawPeer.connect(endpoint) as peer:
        peer.handshake(b"DEALER", identity)
        peer.send(message(b"hello"))
        assert router.poll(int(WAIT * 1000))
        rid, body = router.recv_multipart()
        assert body == b"hello"
        if length:
            assert rid == identity
        else:
            assert rid[:1] == b"\x00" and len(rid) == 5
        router.send_multipart([rid, b"reply"])
        assert peer.read_message() == [b"reply"]
    assert_round_trip(router, dealer)


@pytest.mark.parametrize("identity", [b"\x00", b"\x00abcd", b"\x00" * 5, b"\x00" + b"z" * 254])
def test_identity_starting_with_0x00_is_not_used_as_given(ctx, zctx, identity):
    """RFC 37: the first octet of an Identity SHALL NOT be 0x00 (reserved for generated
    ids). puremq's ROUTER ignores such an Identity and gives the peer a generated id: the
    peer still works, and the id it asked for does not reach it."""
    router, endpoint = router_server(ctx, router_mandatory=1)
    dealer = good_dealer(zctx, endpoint)
    with RawPeer.connect(endpoint) as peer:
        peer.handshake(b"DEALER", identity)
        peer.send(message(b"who am i"))
        assert router.poll(int(WAIT * 1000))
        rid, body = router.recv_multipart()
        assert body == b"who am i"
        assert rid != identity
        assert rid[:1] == b"\x00" and len(rid) == 5  # a generated id
        router.send_multipart([rid, b"you are"])
        assert peer.read_message() == [b"you are"]
        with pytest.raises(puremq.ZMQError) as info:
            router.send_multipart([identity, b"not for you"])
        assert info.value.errno == puremq.EHOSTUNREACH
        assert peer.is_open_after(0.02)
        assert peer.received == b""
    assert_round_trip(router, dealer)


def test_peer_cannot_take_over_a_generated_id(ctx, zctx):
    """A hostile peer that learned the id generated for a well-behaved peer (0x00 + 4
    octets) and claims it as its Identity does not receive that peer's replies."""
    router, endpoint = router_server(ctx)
    dealer = good_dealer(zctx, endpoint)
    dealer.send(b"hi")
    assert router.poll(int(WAIT * 1000))
    good_id, _body = router.recv_multipart()
    assert good_id[:1] == b"\x00"
    with RawPeer.connect(endpoint) as thief:
        thief.handshake(b"DEALER", good_id)
        thief.send(message(b"i am them"))
        assert router.poll(int(WAIT * 1000))
        thief_id, _body = router.recv_multipart()
        assert thief_id != good_id
        router.send_multipart([good_id, b"for the good peer"])
        assert dealer.poll(int(WAIT * 1000))
        assert dealer.recv() == b"for the good peer"
        assert thief.is_open_after(0.05)
        assert thief.received == b""
    assert_round_trip(router, dealer)


# -- Socket-Type on a PULL ----------------------------------------------------------------------
@pytest.fixture
def pull_server(ctx, zctx):
    """(puremq PULL bound on tcp, its endpoint, a libzmq PUSH connected to it)."""
    pull = ctx.socket(puremq.PULL)
    pull.linger = 0
    pull.bind("tcp://127.0.0.1:*")
    endpoint = last_endpoint(pull)
    push = zctx.socket(libzmq.PUSH)
    push.linger = 0
    push.connect(endpoint)
    return pull, endpoint, push


def assert_push_delivers(push, pull, payload=(b"good", b"push")):
    push.send_multipart(list(payload))
    assert pull.poll(int(WAIT * 1000)), "the well-behaved PUSH's message did not arrive"
    assert pull.recv_multipart() == list(payload)
    assert_nothing_more(pull, 0)


@pytest.mark.parametrize("claimed", [b"PUB", b"PULL", b"SUB", b"ROUTER", b""])
def test_wrong_socket_type_is_refused_with_error(pull_server, claimed):
    """A raw peer claiming PUB (or any type but PUSH) to a PULL: puremq answers with an
    ERROR command (RFC 37 "SHOULD send ERROR") and closes; the message is not delivered."""
    pull, endpoint, push = pull_server
    assert_push_delivers(push, pull)
    with RawPeer.connect(endpoint) as peer:
        peer.send(GREETING + ready(claimed) + message(b"smuggled"))
        peer.read_greeting()
        name, _data = peer.read_command()
        assert name == b"READY"
        name, data = peer.read_command()
        assert name == b"ERROR"
        assert data[0] == len(data) - 1 and data[0] > 0  # reason-len, reason
        peer.wait_closed()
    assert_nothing_more(pull)
    assert_push_delivers(push, pull)


@pytest.mark.parametrize("metadata", [b"", prop(b"X-App", b"1"), prop(b"socket-type", b"PUB")],
                         ids=["empty", "only X-App", "lower-case name"])
def test_missing_socket_type_is_accepted(pull_server, metadata):
    """libzmq accepts a READY without Socket-Type (and reads the property name
    case-sensitively, so "socket-type" is not one): the peer's messages are delivered."""
    pull, endpoint, push = pull_server
    with RawPeer.connect(endpoint) as peer:
        peer.send(GREETING + ready_body(metadata))
        peer.expect_ready()
        peer.send(message(b"typeless", b"peer"))
        assert pull.poll(int(WAIT * 1000))
        assert pull.recv_multipart() == [b"typeless", b"peer"]
        assert peer.is_open_after(0.02)
    assert_push_delivers(push, pull)


def test_connecting_socket_refuses_a_listener_with_the_wrong_socket_type(ctx, zctx):
    """The same check on the connecting side: a puremq PULL that dials a raw listener
    claiming PUB refuses it, and keeps receiving from its good PUSH."""
    push = zctx.socket(libzmq.PUSH)
    push.linger = 0
    port = push.bind_to_random_port("tcp://127.0.0.1")
    pull = ctx.socket(puremq.PULL)
    pull.linger = 0
    pull.connect("tcp://127.0.0.1:%d" % port)
    assert_push_delivers(push, pull)
    with RawListener() as listener:
        pull.connect(listener.endpoint)
        with listener.accept() as peer:
            peer.send(GREETING + ready(b"PUB") + message(b"smuggled"))
            peer.read_greeting()
            assert peer.read_command()[0] == b"READY"
            assert peer.read_command()[0] == b"ERROR"
            peer.wait_closed()
    assert_nothing_more(pull)
    assert_push_delivers(push, pull)


def test_ready_with_large_but_valid_metadata_is_accepted(pull_server):
    """The control for the size cap: 64 KiB of application metadata in READY is within the
    handshake command limit and is accepted."""
    pull, endpoint, push = pull_server
    with RawPeer.connect(endpoint) as peer:
        metadata = prop(b"Socket-Type", b"PUSH") + prop(b"X-Big", b"b" * 65536)
        peer.send(GREETING + ready_body(metadata))
        peer.expect_ready()
        peer.send(message(b"big metadata"))
        assert pull.poll(int(WAIT * 1000))
        assert pull.recv_multipart() == [b"big metadata"]
    assert_push_delivers(push, pull)


def test_struct_layout_of_the_helpers():
    """The raw encoders match ZMTP_NOTES' worked example (libzmq testutil zmtp_ready_sub)."""
    assert ready(b"SUB") == (b"\x04\x19\x05READY\x0bSocket-Type" + struct.pack(">I", 3)
                             + b"SUB")
