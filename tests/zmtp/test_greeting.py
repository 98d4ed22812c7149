"""The 64-octet greeting (ZMTP_NOTES.md section 1; RFC 23/37 "Formal Grammar")."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puremq.zmtp import HandshakeComplete, State, encode_greeting
from puremq.zmtp.greeting import PeerGreeting, parse_greeting

from ._util import (BYTEWISE, OUR_NULL_GREETING, ZMTP_MECHANISM_MISMATCH, ZMTP_READY_DEALER,
                    EPROTO, Feeder, every_chunking, greeting, new_connection, ready,
                    single_failure)


# -- what we send ----------------------------------------------------------------------------
def test_we_send_exactly_the_64_byte_null_greeting_and_nothing_else_first():
    """Signature FF 00*8 7F, version 3.1, "NULL" NUL-padded to 20, as-server 0, 31 zero filler;
    nothing else (no READY) before the peer's greeting arrived."""
    conn = new_connection("DEALER")
    sent = conn.bytes_to_send()
    assert sent == OUR_NULL_GREETING
    assert len(sent) == 64
    assert sent[0] == 0xFF and sent[1:9] == bytes(8) and sent[9] == 0x7F
    assert sent[10:12] == b"\x03\x01"
    assert sent[12:32] == b"NULL" + bytes(16)
    assert sent[32] == 0x00
    assert sent[33:] == bytes(31)
    # Still nothing more until the peer has spoken.
    assert conn.bytes_to_send() == b""


@pytest.mark.parametrize("mechanism,as_server", [(b"NULL", False), (b"PLAIN", True),
                                                 (b"PLAIN", False), (b"CURVE", True)])
def test_encode_greeting_fields(mechanism, as_server):
    """The mechanism is NUL-padded to 20 octets; as-server is 0x01 only for the server role."""
    data = encode_greeting(mechanism, as_server)
    assert data == greeting(mechanism=mechanism, as_server=1 if as_server else 0)


def test_encode_greeting_refuses_a_mechanism_over_20_octets():
    with pytest.raises(ValueError):
        encode_greeting(b"X" * 21, False)


def test_ready_follows_only_after_the_peer_greeting_is_complete():
    """libzmq: the mechanism's first command is sent once the peer's greeting was checked."""
    conn = new_connection("DEALER")
    conn.bytes_to_send()
    peer = greeting()
    for index in range(63):
        assert conn.receive_data(peer[index:index + 1]) == []
        assert conn.bytes_to_send() == b""
        assert conn.state is State.GREETING
    assert conn.receive_data(peer[63:]) == []
    assert conn.state is State.HANDSHAKE
    assert conn.bytes_to_send() == ZMTP_READY_DEALER


# -- versions we accept ----------------------------------------------------------------------
@pytest.mark.parametrize("major,minor,is_31", [(3, 0, False), (3, 1, True), (3, 2, True),
                                               (3, 255, True), (4, 0, True), (255, 255, True)])
@every_chunking(max_examples=4)
def test_peer_versions_3_0_3_1_and_later_are_accepted(feed, major, minor, is_31):
    """A peer MUST accept versions >= its own; 3.0 peers are accepted too (libzmq does)."""
    conn = new_connection("DEALER")
    items = feed(conn, greeting(major, minor) + ready(b"ROUTER", b""))
    assert len(items) == 1 and isinstance(items[0], HandshakeComplete), items
    assert items[0].zmtp_minor == minor
    assert conn.state is State.ACTIVE
    assert conn.is_zmtp31 is is_31
    assert conn.peer == PeerGreeting(major, minor, b"NULL", False)


# -- versions we reject, as early as the bytes allow -----------------------------------------
def _first_failing_byte(stream: bytes):
    """Feed one byte at a time; return (bytes fed when the failure appeared, the failure)."""
    conn = new_connection("DEALER")
    for index in range(len(stream)):
        items = conn.receive_data(stream[index:index + 1])
        if items:
            failure = single_failure(items)
            assert conn.state is State.CLOSED
            # Nothing more is produced once closed, whatever follows.
            assert conn.receive_data(stream[index + 1:] + b"\x00" * 64) == []
            return index + 1, failure
    raise AssertionError("the stream was never rejected")


ZMTP_10_UNVERSIONED = b"\x01\x00" + b"\x01\x00" * 40  # 1.0: length 1, flags 0, empty identity
ZMTP_10_LONG_LENGTH = b"\xff" + b"\x00" * 7 + b"\x05" + b"\x7e" + b"\x00" * 10  # byte9 & 1 == 0
ZMTP_10_VERSIONED = b"\xff" + b"\x00" * 7 + b"\x01" + b"\x7f" + b"\x00" + b"\x05" + b"\x00" * 60
ZMTP_20 = b"\xff" + b"\x00" * 7 + b"\x01" + b"\x7f" + b"\x01" + b"\x05" + b"\x00" * 60


@pytest.mark.parametrize("stream,at,words", [
    (ZMTP_10_UNVERSIONED, 1, "1.0"),
    (b"GET / HTTP/1.1\r\n\r\n", 1, "1.0"),
    (ZMTP_10_LONG_LENGTH, 10, "1.0"),
    (ZMTP_10_VERSIONED, 11, "1.0"),
    (ZMTP_20, 11, "2.0"),
    (b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x02" + b"\x00" * 53, 11, "3.x"),
], ids=["1.0-unversioned", "not-zmtp", "1.0-long-length", "1.0-revision-0", "2.0-revision-1",
        "revision-2"])
def test_old_or_foreign_peers_are_rejected_at_the_first_telling_byte(stream, at, words):
    """byte0 != 0xFF -> 1.0 (after 1 byte); byte9 & 1 == 0 -> 1.0 (after 10 bytes);
    byte10 < 3 -> 1.0/2.0 (after 11 bytes).  The reason says what the peer speaks."""
    fed, failure = _first_failing_byte(stream)
    assert fed == at
    assert failure.during_handshake
    assert failure.errno == EPROTO
    assert words in failure.reason, failure.reason
    assert failure.peer_error is None


@pytest.mark.parametrize("stream", [ZMTP_10_UNVERSIONED, ZMTP_10_LONG_LENGTH, ZMTP_20],
                         ids=["1.0-unversioned", "1.0-long-length", "2.0"])
@every_chunking(max_examples=5)
def test_old_peers_are_rejected_in_any_chunking_and_never_get_ready(feed, stream):
    conn = new_connection("DEALER")
    conn.bytes_to_send()
    items = feed(conn, stream + ready(b"ROUTER", b""))
    single_failure(items)
    assert conn.state is State.CLOSED
    assert conn.bytes_to_send() == b""


# -- mechanism ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mechanism", [b"PLAIN", b"CURVE", b"GSSAPI", b"NULLX", b"null",
                                       b"NUL", b"NULL\x00\x00\x00X", b""])
@every_chunking(max_examples=3)
def test_mechanism_mismatch_fails_with_the_libzmq_code(feed, mechanism):
    """The mechanism must match over all 20 bytes (libzmq memcmp); otherwise
    ZMTP_MECHANISM_MISMATCH (0x11000002) and no READY is sent."""
    conn = new_connection("DEALER")
    conn.bytes_to_send()
    items = feed(conn, greeting(mechanism=mechanism) + ready(b"ROUTER", b""))
    failure = single_failure(items)
    assert failure.code == ZMTP_MECHANISM_MISMATCH
    assert failure.during_handshake
    assert conn.bytes_to_send() == b""


def test_mechanism_mismatch_is_detected_on_the_64th_byte():
    conn = new_connection("DEALER")
    peer = greeting(mechanism=b"PLAIN")
    for index in range(63):
        assert conn.receive_data(peer[index:index + 1]) == []
    failure = single_failure(conn.receive_data(peer[63:]))
    assert failure.code == ZMTP_MECHANISM_MISMATCH
    assert "PLAIN" in failure.reason


def test_parse_greeting_mismatch_raises_protocol_error_with_code():
    from puremq.zmtp import ProtocolError
    with pytest.raises(ProtocolError) as info:
        parse_greeting(greeting(mechanism=b"CURVE"), b"NULL")
    assert info.value.code == ZMTP_MECHANISM_MISMATCH


# -- fields a receiver must not validate --------------------------------------------------------
LIBZMQ_PADDING = b"\x00" * 7 + b"\x01"  # libzmq sends <u64 routing_id_len + 1> as padding


@pytest.mark.parametrize("padding", [LIBZMQ_PADDING, b"\x00" * 7 + b"\x06", b"\xff" * 8,
                                     b"\x00\x00\x00\x00\x00\x00\x01\x00"],
                         ids=["libzmq-empty-id", "libzmq-5-byte-id", "all-ff", "256"])
@every_chunking(max_examples=3)
def test_peer_padding_is_not_validated(feed, padding):
    """Padding is "not significant" and MUST NOT be validated (libzmq sends non-zero)."""
    conn = new_connection("DEALER")
    items = feed(conn, greeting(padding=padding) + ready(b"ROUTER", b""))
    assert [type(i) for i in items] == [HandshakeComplete]


@settings(max_examples=40, deadline=None, database=None)
@given(padding=st.binary(min_size=8, max_size=8), filler=st.binary(min_size=31, max_size=31),
       as_server=st.integers(0, 255), chunk=st.integers(1, 80))
def test_any_padding_filler_and_as_server_byte_is_accepted(padding, filler, as_server, chunk):
    """libzmq ignores the peer's as-server (each side uses its own role) and the filler."""
    conn = new_connection("DEALER")
    feed = Feeder(f"chunk={chunk}", [chunk])
    stream = greeting(padding=padding, filler=filler, as_server=as_server)
    items = feed(conn, stream + ready(b"ROUTER", b""))
    assert [type(i) for i in items] == [HandshakeComplete]


def test_greeting_split_exactly_at_the_signature_boundary():
    """libzmq sends 10 bytes, then byte 10, then the other 53: each part is accepted."""
    conn = new_connection("DEALER")
    peer = greeting(padding=LIBZMQ_PADDING)
    assert conn.receive_data(peer[:10]) == []
    assert conn.receive_data(peer[10:11]) == []
    assert conn.receive_data(peer[11:]) == []
    assert conn.state is State.HANDSHAKE
    items = BYTEWISE(conn, ready(b"ROUTER", b""))
    assert [type(i) for i in items] == [HandshakeComplete]
