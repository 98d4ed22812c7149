"""Metadata (ZMTP_NOTES.md section 4): property = name-len(u8 1..255) name value-len(u32) value."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puremq.zmtp import ProtocolError, decode_properties, encode_properties, errors
from puremq.zmtp.metadata import get_property

from ._util import (ZMTP_INVALID_METADATA, command, every_chunking, greeting, new_connection,
                    prop, single_failure)

NAME_CHARS = (b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+")


def test_error_codes_are_libzmqs():
    """errors.py carries libzmq's include/zmq.h ZMQ_PROTOCOL_ERROR_* values."""
    expected = {
        "ZMTP_UNSPECIFIED": 0x10000000, "ZMTP_UNEXPECTED_COMMAND": 0x10000001,
        "ZMTP_INVALID_SEQUENCE": 0x10000002, "ZMTP_KEY_EXCHANGE": 0x10000003,
        "ZMTP_MALFORMED_COMMAND_UNSPECIFIED": 0x10000011,
        "ZMTP_MALFORMED_COMMAND_MESSAGE": 0x10000012,
        "ZMTP_MALFORMED_COMMAND_HELLO": 0x10000013,
        "ZMTP_MALFORMED_COMMAND_INITIATE": 0x10000014,
        "ZMTP_MALFORMED_COMMAND_ERROR": 0x10000015,
        "ZMTP_MALFORMED_COMMAND_READY": 0x10000016,
        "ZMTP_MALFORMED_COMMAND_WELCOME": 0x10000017,
        "ZMTP_INVALID_METADATA": 0x10000018, "ZMTP_CRYPTOGRAPHIC": 0x11000001,
        "ZMTP_MECHANISM_MISMATCH": 0x11000002, "ZAP_UNSPECIFIED": 0x20000000,
        "ZAP_MALFORMED_REPLY": 0x20000001, "ZAP_BAD_REQUEST_ID": 0x20000002,
        "ZAP_BAD_VERSION": 0x20000003, "ZAP_INVALID_STATUS_CODE": 0x20000004,
        "ZAP_INVALID_METADATA": 0x20000005,
    }
    assert {name: getattr(errors, name) for name in expected} == expected


# -- encoding and round trips ----------------------------------------------------------------------
def test_encoding_layout():
    encoded = encode_properties([("Socket-Type", b"DEALER"), ("Identity", b"")])
    assert encoded == (b"\x0bSocket-Type\x00\x00\x00\x06DEALER" + b"\x08Identity\x00\x00\x00\x00")
    assert encode_properties({}) == b""
    assert decode_properties(b"") == {}


names = st.one_of(st.binary(min_size=1, max_size=30).map(
    lambda raw: bytes(NAME_CHARS[b % len(NAME_CHARS)] for b in raw).decode("ascii")),
    st.just("N" * 255), st.just("X-" + "." * 253))
values = st.one_of(st.binary(max_size=300), st.integers(0, 70_000).map(lambda n: b"v" * n))


@settings(max_examples=60, deadline=None, database=None)
@given(pairs=st.lists(st.tuples(names, values), max_size=8, unique_by=lambda p: p[0]))
def test_round_trip(pairs):
    encoded = encode_properties(pairs)
    assert encoded == b"".join(prop(n.encode(), v) for n, v in pairs)
    assert decode_properties(encoded) == dict(pairs)
    assert encode_properties(dict(pairs)) == encoded


def test_names_are_kept_as_sent_and_looked_up_case_insensitively():
    props = decode_properties(prop(b"socket-TYPE", b"PUB") + prop(b"X-a", b"1"))
    assert props == {"socket-TYPE": b"PUB", "X-a": b"1"}
    assert get_property(props, "Socket-Type") == b"PUB"
    assert get_property(props, "x-A") == b"1"
    assert get_property(props, "Identity") is None


@pytest.mark.parametrize("name", ["", "N" * 256, "has space", "a@b", "caf\u00e9", "nul\x00"])
def test_encode_refuses_invalid_names(name):
    with pytest.raises(ValueError):
        encode_properties([(name, b"v")])


# -- decoding faults -----------------------------------------------------------------------------
VALID = prop(b"Socket-Type", b"ROUTER") + prop(b"X-Big", b"q" * 300) + prop(b"E", b"")
BOUNDARIES = {0, len(prop(b"Socket-Type", b"ROUTER")),
              len(prop(b"Socket-Type", b"ROUTER") + prop(b"X-Big", b"q" * 300)), len(VALID)}


def test_every_truncation_is_detected():
    """A truncated property (anywhere, name or length or value) -> ZMTP_INVALID_METADATA;
    a cut exactly between properties is a shorter valid list."""
    for cut in range(len(VALID)):
        data = VALID[:cut]
        if cut in BOUNDARIES:
            assert len(decode_properties(data)) == sorted(BOUNDARIES).index(cut)
            continue
        with pytest.raises(ProtocolError) as info:
            decode_properties(data)
        assert info.value.code == ZMTP_INVALID_METADATA == 0x10000018, cut


BAD_METADATA = {
    "zero-length-name": b"\x00\x00\x00\x00\x00",
    "zero-length-name-after-valid": VALID + b"\x00",
    "one-trailing-byte": VALID + b"\x05",
    "trailing-partial-property": VALID + b"\x03abc\x00\x00",
    "value-longer-than-rest": prop(b"A", b"xyz")[:-1],
    "value-length-msb": b"\x01a\x80\x00\x00\x00",
    "name-longer-than-rest": b"\xffabc",
}


@pytest.mark.parametrize("data", list(BAD_METADATA.values()), ids=list(BAD_METADATA))
def test_malformed_metadata_is_a_protocol_error(data):
    with pytest.raises(ProtocolError) as info:
        decode_properties(data)
    assert info.value.code == ZMTP_INVALID_METADATA


@pytest.mark.parametrize("char", sorted(set(range(256)) - set(NAME_CHARS)))
def test_name_characters_outside_the_grammar_are_rejected(char):
    """Name chars: ALPHA DIGIT - _ . +  (every other octet is rejected)."""
    for name in (bytes((char,)), b"Ab" + bytes((char,)) + b"c"):
        with pytest.raises(ProtocolError) as info:
            decode_properties(prop(name, b"v"))
        assert info.value.code == ZMTP_INVALID_METADATA


def test_every_grammar_character_is_accepted():
    assert decode_properties(prop(NAME_CHARS, b"v")) == {NAME_CHARS.decode(): b"v"}


# -- over a connection -----------------------------------------------------------------------------
@pytest.mark.parametrize("data", list(BAD_METADATA.values())
                         + [prop(b"Socket Type", b"ROUTER")],
                         ids=list(BAD_METADATA) + ["space-in-name"])
@every_chunking(max_examples=3)
def test_bad_ready_metadata_fails_the_handshake(feed, data):
    conn = new_connection("DEALER")
    items = feed(conn, greeting() + command(b"READY", data))
    failure = single_failure(items)
    assert failure.code == ZMTP_INVALID_METADATA and failure.during_handshake
    assert failure.peer_error is None
