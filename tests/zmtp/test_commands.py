"""Commands (ZMTP_NOTES.md sections 3, 5 and 7): READY, ERROR, SUBSCRIBE, CANCEL, PING, PONG."""

from __future__ import annotations

import pytest

from puremq.zmtp import (Command, HandshakeComplete, PingReceived, ProtocolError, State,
                         encode_command)
from puremq.zmtp.framing import FrameDecoder, parse_command

from ._util import (OUR_NULL_GREETING, ZMTP_MALFORMED_COMMAND_ERROR,
                    ZMTP_MALFORMED_COMMAND_UNSPECIFIED, ZMTP_READY_DEALER, ZMTP_READY_SUB,
                    ZMTP_UNEXPECTED_COMMAND, active_stream, command, error_command,
                    every_chunking, greeting, message, messages_of, new_connection,
                    parse_commands, ready, single_failure)

PING_LOL = b"\x04\x0a\x04PING\x00\x00LOL"
PONG_LOL = b"\x04\x08\x04PONG" + b"LOL"
OVERSIZED_PING = b"\x04\x41\x04PING\x00\x00LOL" + b"z" * 55       # body 0x41 = 65 bytes
TRUNCATED_PONG = b"\x04\x15\x04PONG" + b"LOL" + b"z" * 13         # context cut to 16
SUBSCRIBE_A = b"\x04\x0b\x09SUBSCRIBEA"
CANCEL_A = b"\x04\x08\x06CANCELA"


def _active(socket_type: str = "DEALER", peer: bytes = b"ROUTER", minor: int = 1, **kw):
    """A connection plus the stream that makes it ACTIVE, and what it sent so far."""
    conn = new_connection(socket_type, **kw)
    identity = b"" if peer in (b"REQ", b"DEALER", b"ROUTER") else None
    return conn, greeting(minor=minor) + ready(peer, identity)


def _after_handshake(conn) -> bytes:
    """What the connection sent after its greeting and READY."""
    sent = conn.bytes_to_send()
    assert sent.startswith(OUR_NULL_GREETING)
    frames = parse_commands(sent[64:])
    assert frames[0][0] == b"READY"
    first = sent[64:]
    ready_len = 2 + first[1] if first[0] == 0x04 else 9 + int.from_bytes(first[1:9], "big")
    return first[ready_len:]


# -- READY ---------------------------------------------------------------------------------------
def test_vectors_are_the_sizes_libzmq_gives():
    assert len(ZMTP_READY_DEALER) == 43 and len(ZMTP_READY_SUB) == 27
    assert ready(b"DEALER", b"") == ZMTP_READY_DEALER and ready(b"SUB") == ZMTP_READY_SUB


@pytest.mark.parametrize("socket_type,expected", [("DEALER", ZMTP_READY_DEALER),
                                                  ("SUB", ZMTP_READY_SUB)], ids=["DEALER", "SUB"])
@every_chunking(max_examples=3)
def test_our_ready_matches_libzmq_testutil_vectors(feed, socket_type, expected):
    """libzmq tests/testutil.hpp zmtp_ready_dealer (43 bytes) and zmtp_ready_sub (27 bytes)."""
    conn = new_connection(socket_type)
    assert feed(conn, greeting()) == []
    assert conn.bytes_to_send() == OUR_NULL_GREETING + expected


@pytest.mark.parametrize("socket_type", ["PAIR", "PUB", "SUB", "REQ", "REP", "DEALER",
                                         "ROUTER", "PULL", "PUSH", "XPUB", "XSUB"])
@every_chunking(max_examples=2)
def test_ready_carries_socket_type_and_identity_only_for_req_dealer_router(feed, socket_type):
    """libzmq sends Socket-Type always, Identity only from REQ, DEALER, ROUTER (even empty)."""
    conn = new_connection(socket_type, identity=b"\x01me")
    assert feed(conn, greeting()) == []
    sends_identity = socket_type in ("REQ", "DEALER", "ROUTER")
    expected = ready(socket_type.encode(), b"\x01me" if sends_identity else None)
    assert conn.bytes_to_send()[64:] == expected


def test_ready_carries_application_metadata_after_the_standard_properties():
    conn = new_connection("PUSH", extra={"X-Color": b"blue"})
    conn.receive_data(greeting())
    assert conn.bytes_to_send()[64:] == ready(
        b"PUSH", None, b"\x07X-Color\x00\x00\x00\x04blue")


@every_chunking()
def test_peer_ready_vector_completes_the_handshake(feed):
    """A ROUTER accepts libzmq's zmtp_ready_dealer: peer type DEALER, empty identity."""
    conn = new_connection("ROUTER")
    items = feed(conn, greeting() + ZMTP_READY_DEALER)
    assert items == [HandshakeComplete("DEALER", b"", {"Socket-Type": b"DEALER",
                                                       "Identity": b""}, 1)]
    assert conn.peer_socket_type == "DEALER" and conn.peer_identity == b""


# -- ERROR ---------------------------------------------------------------------------------------
def test_send_error_encoding():
    """error = command-size 05 "ERROR" reason-len(u8) reason; reason capped at 255."""
    conn, _ = _active()
    conn.bytes_to_send()
    conn.send_error(b"Invalid socket type")
    assert conn.bytes_to_send() == b"\x04\x1a\x05ERROR\x13Invalid socket type"
    conn.send_error(b"r" * 300)
    sent = conn.bytes_to_send()
    assert parse_commands(sent) == [(b"ERROR", b"\xff" + b"r" * 255)]
    assert sent[:2] == b"\x06\x00" and len(sent) == 9 + 1 + 5 + 1 + 255


@pytest.mark.parametrize("reason", [b"", b"400", b"Invalid socket type", b"x" * 255],
                         ids=["empty", "400", "text", "255"])
@every_chunking(max_examples=4)
def test_error_during_handshake_fails_with_peer_error(feed, reason):
    """ERROR is fatal: ConnectionFailed carries the peer's reason (libzmq: no reconnect)."""
    conn = new_connection("DEALER")
    items = feed(conn, greeting() + error_command(reason) + ready(b"ROUTER", b""))
    failure = single_failure(items)
    assert failure.peer_error == reason and failure.during_handshake
    assert conn.state is State.CLOSED


@every_chunking()
def test_error_after_the_handshake_fails_with_peer_error(feed):
    """puremq treats ERROR as fatal at any time (ZMTP_NOTES section 5).  libzmq never sends
    ERROR after the handshake (and drops one it receives then), so this choice cannot hurt
    interoperability; messages before the ERROR are still delivered."""
    conn, stream = _active()
    items = feed(conn, stream + message(b"m") + error_command(b"bye") + message(b"lost"))
    assert isinstance(items[0], HandshakeComplete)
    assert messages_of(items) == [[b"m"]]
    failure = single_failure(items)
    assert failure.peer_error == b"bye" and not failure.during_handshake


@pytest.mark.parametrize("data", [b"", b"\x05abc", b"\x01", b"\x00x"],
                         ids=["empty", "len-over", "len-over-1", "len-under"])
@pytest.mark.parametrize("handshaken", [False, True])
@every_chunking(max_examples=3)
def test_malformed_error_command(feed, data, handshaken):
    """reason-len must match the rest of the command: ZMTP_MALFORMED_COMMAND_ERROR."""
    conn, stream = _active()
    if not handshaken:
        stream = greeting()
    items = feed(conn, stream + command(b"ERROR", data))
    failure = single_failure(items)
    assert failure.code == ZMTP_MALFORMED_COMMAND_ERROR and failure.peer_error is None
    assert failure.during_handshake is not handshaken


# -- SUBSCRIBE / CANCEL ----------------------------------------------------------------------------
@pytest.mark.parametrize("socket_type", ["PUB", "XPUB"])
@pytest.mark.parametrize("minor", [0, 1])
@every_chunking(max_examples=4)
def test_subscriptions_reach_pub_and_xpub_as_messages(feed, socket_type, minor):
    """SUBSCRIBE/CANCEL become b"\\x01topic"/b"\\x00topic"; the 3.0 message form passes as is;
    XPUB accepts both forms from any version."""
    conn, stream = _active(socket_type, b"SUB", minor)
    long_topic = bytes(range(256)) * 2
    stream += (SUBSCRIBE_A + CANCEL_A + command(b"SUBSCRIBE") + command(b"CANCEL", long_topic)
               + b"\x00\x02\x01B" + b"\x00\x02\x00B" + command(b"SUBSCRIBE", b"\x00\xff"))
    items = feed(conn, stream)
    assert isinstance(items[0], HandshakeComplete)
    assert items[1:] == [[b"\x01A"], [b"\x00A"], [b"\x01"], [b"\x00" + long_topic],
                         [b"\x01B"], [b"\x00B"], [b"\x01\x00\xff"]]


@pytest.mark.parametrize("socket_type,peer", [("SUB", b"PUB"), ("XSUB", b"XPUB"),
                                              ("DEALER", b"ROUTER"), ("PAIR", b"PAIR")])
@every_chunking(max_examples=3)
def test_subscription_commands_are_ignored_by_other_types(feed, socket_type, peer):
    conn, stream = _active(socket_type, peer)
    items = feed(conn, stream + SUBSCRIBE_A + CANCEL_A + message(b"m"))
    assert isinstance(items[0], HandshakeComplete)
    assert items[1:] == [[b"m"]]


@pytest.mark.parametrize("major,minor,command_form", [(3, 0, False), (3, 1, True),
                                                     (3, 2, True), (4, 0, True)])
@every_chunking(max_examples=3)
def test_we_send_the_subscription_form_the_peer_understands(feed, major, minor, command_form):
    """libzmq: command form `04 0B 09 SUBSCRIBE A` to 3.1 peers, `00 02 01 A` to 3.0 peers."""
    conn = new_connection("SUB")
    items = feed(conn, greeting(major, minor) + ready(b"PUB"))
    assert isinstance(items[0], HandshakeComplete)
    conn.bytes_to_send()
    conn.send_subscription(b"A", True)
    conn.send_subscription(b"A", False)
    conn.send_subscription(b"", True)
    sent = conn.bytes_to_send()
    if command_form:
        assert sent == SUBSCRIBE_A + CANCEL_A + b"\x04\x0a\x09SUBSCRIBE"
    else:
        assert sent == b"\x00\x02\x01A" + b"\x00\x02\x00A" + b"\x00\x01\x01"


def test_long_subscription_uses_a_long_command():
    conn = new_connection("SUB")
    conn.receive_data(greeting() + ready(b"PUB"))
    conn.bytes_to_send()
    topic = b"t" * 300
    conn.send_subscription(topic, True)
    assert conn.bytes_to_send() == b"\x06" + (310).to_bytes(8, "big") + b"\x09SUBSCRIBE" + topic


# -- PING / PONG ---------------------------------------------------------------------------------
@every_chunking()
def test_ping_lol_gets_pong_lol(feed):
    """test_heartbeats.cpp: `04 0A 04 PING 00 00 LOL` -> `04 08 04 PONG LOL`."""
    conn, stream = _active()
    items = feed(conn, stream + PING_LOL)
    assert items[1:] == [PingReceived(0)]
    assert _after_handshake(conn) == PONG_LOL


@every_chunking()
def test_oversized_ping_context_is_truncated_to_16_in_the_pong(feed):
    """test_heartbeats.cpp: a 65-byte PING body -> `04 15 04 PONG LOL + 13 z`."""
    conn, stream = _active()
    items = feed(conn, stream + OVERSIZED_PING)
    assert items[1:] == [PingReceived(0)]
    assert _after_handshake(conn) == TRUNCATED_PONG


@pytest.mark.parametrize("ttl_field,ttl_ms", [(b"\x00\x00", 0), (b"\x00\x01", 100),
                                              (b"\x00\x32", 5000), (b"\xff\xff", 6553500)])
@pytest.mark.parametrize("context", [b"", b"c", b"0123456789abcdef"])
@every_chunking(max_examples=2)
def test_ping_ttl_is_reported_in_milliseconds(feed, ttl_field, ttl_ms, context):
    conn, stream = _active()
    items = feed(conn, stream + command(b"PING", ttl_field + context))
    assert items[1:] == [PingReceived(ttl_ms)]
    assert parse_commands(_after_handshake(conn)) == [(b"PONG", context)]


@every_chunking()
def test_pong_from_the_peer_is_silent(feed):
    conn, stream = _active()
    items = feed(conn, stream + PONG_LOL + command(b"PONG") + message(b"m"))
    assert items[1:] == [[b"m"]]
    assert _after_handshake(conn) == b""


@pytest.mark.parametrize("body", [b"\x04PING", b"\x04PING\x00"])
@every_chunking(max_examples=3)
def test_ping_shorter_than_its_ttl_field_is_rejected(feed, body):
    conn, stream = _active()
    items = feed(conn, stream + bytes((0x04, len(body))) + body + message(b"lost"))
    failure = single_failure(items)
    assert failure.code == ZMTP_MALFORMED_COMMAND_UNSPECIFIED
    assert not failure.during_handshake
    assert messages_of(items) == []


@pytest.mark.parametrize("ttl_ms,context,expected", [
    (0, b"", b"\x04\x07\x04PING\x00\x00"),
    (150, b"LOL", b"\x04\x0a\x04PING\x00\x01LOL"),
    (5000, b"LOL", b"\x04\x0a\x04PING\x00\x32LOL"),
    (6553599, b"", b"\x04\x07\x04PING\xff\xff"),
    (10**9, b"", b"\x04\x07\x04PING\xff\xff"),
    (1000, b"x" * 40, b"\x04\x17\x04PING\x00\x0a" + b"x" * 16),
])
@every_chunking(max_examples=2)
def test_send_ping_encoding(feed, ttl_ms, context, expected):
    """TTL in deciseconds (rounded down, at most 0xFFFF); context at most 16 octets."""
    conn, stream = _active()
    assert isinstance(feed(conn, stream)[0], HandshakeComplete)
    conn.bytes_to_send()
    conn.send_ping(ttl_ms, context)
    assert conn.bytes_to_send() == expected


@every_chunking(max_examples=6)
def test_ping_during_the_handshake_is_unexpected(feed):
    """Heartbeats only after the handshake; before it, NULL expects READY or ERROR."""
    conn = new_connection("DEALER")
    items = feed(conn, greeting() + PING_LOL + ready(b"ROUTER", b""))
    assert single_failure(items).code == ZMTP_UNEXPECTED_COMMAND


# -- command names -------------------------------------------------------------------------------
MALFORMED_COMMANDS = {
    "empty-body": b"\x04\x00",
    "zero-name": b"\x04\x01\x00",
    "zero-name-with-data": b"\x04\x03\x00ab",
    "name-past-end": b"\x04\x03\x05AB",
    "name-255-in-short-body": b"\x04\x05\xffPING",
    "long-empty-body": b"\x06" + bytes(8),
}


@pytest.mark.parametrize("raw", list(MALFORMED_COMMANDS.values()), ids=list(MALFORMED_COMMANDS))
@pytest.mark.parametrize("handshaken", [False, True])
@every_chunking(max_examples=2)
def test_zero_length_or_overlong_command_name_is_rejected(feed, raw, handshaken):
    conn, stream = _active()
    if not handshaken:
        stream = greeting()
    items = feed(conn, stream + raw + message(b"lost"))
    failure = single_failure(items)
    assert failure.code == ZMTP_MALFORMED_COMMAND_UNSPECIFIED
    assert failure.during_handshake is not handshaken
    assert messages_of(items) == []


def test_parse_command_bounds():
    assert parse_command(b"\x04PING") == Command(b"PING", b"")
    assert parse_command(b"\xff" + b"N" * 255 + b"data") == Command(b"N" * 255, b"data")
    for raw in (b"", b"\x00", b"\x00abc", b"\x05ABCD"):
        with pytest.raises(ProtocolError):
            parse_command(raw)
    with pytest.raises(ProtocolError):
        FrameDecoder().decode(b"\x04\x01\x00")


@pytest.mark.parametrize("name", [b"", b"N" * 256])
def test_encode_command_refuses_bad_names(name):
    with pytest.raises(ValueError):
        encode_command(name, b"")


def test_encode_command_short_and_long():
    assert encode_command(b"READY") == b"\x04\x06\x05READY"
    data = b"d" * 254
    assert encode_command(b"X", data) == b"\x06" + (256).to_bytes(8, "big") + b"\x01X" + data
    assert encode_command(b"X", data[:253]) == b"\x04\xff\x01X" + data[:253]


# -- unknown commands ----------------------------------------------------------------------------
@pytest.mark.parametrize("socket_type,peer", [("DEALER", b"ROUTER"), ("XPUB", b"SUB")])
@every_chunking(max_examples=4)
def test_unknown_commands_after_the_handshake_are_ignored(feed, socket_type, peer):
    """libzmq ignores commands it does not know once the handshake is done; names are
    case-sensitive, so `ping` and `subscribe` are unknown too."""
    conn, stream = _active(socket_type, peer)
    unknown = (command(b"HELLO") + command(b"JOIN", b"group") + command(b"LEAVE", b"g")
               + ready(b"ROUTER", b"") + command(b"ping", b"\x00\x00LOL")
               + command(b"subscribe", b"A") + command(b"N" * 255, b"x" * 300))
    items = feed(conn, stream + unknown + message(b"m"))
    assert isinstance(items[0], HandshakeComplete)
    assert items[1:] == [[b"m"]]
    assert conn.state is State.ACTIVE
    assert _after_handshake(conn) == b""


@pytest.mark.parametrize("name", [b"HELLO", b"WELCOME", b"SUBSCRIBE", b"PONG", b"ready"])
@every_chunking(max_examples=2)
def test_unknown_commands_during_the_handshake_are_unexpected(feed, name):
    conn = new_connection("DEALER")
    items = feed(conn, greeting() + command(name) + ready(b"ROUTER", b""))
    assert single_failure(items).code == ZMTP_UNEXPECTED_COMMAND
