"""The NULL mechanism (RFC 23/37 §NULL): each side sends READY with its metadata.

libzmq behaves symmetrically (each peer sends READY as soon as it has the greeting), which
is what this does; ERROR from the peer ends the handshake.
"""

from __future__ import annotations

from ..errors import (ZMTP_INVALID_METADATA, ZMTP_MALFORMED_COMMAND_ERROR,
                      ZMTP_UNEXPECTED_COMMAND, ProtocolError)
from ..framing import Command
from ..metadata import decode_properties, encode_properties
from .base import Mechanism, MechanismStatus, Outgoing


class PeerSentError(ProtocolError):
    """The peer sent an ERROR command: fatal, and no reconnect with the same settings."""

    def __init__(self, reason: bytes) -> None:
        super().__init__(f"peer sent ERROR: {reason.decode('ascii', 'replace')}")
        self.peer_reason = reason


def parse_error(data: bytes) -> bytes:
    """The reason of an ERROR command: ``reason-len(u8) reason``."""
    if not data or data[0] + 1 != len(data):
        raise ProtocolError("malformed ERROR command", ZMTP_MALFORMED_COMMAND_ERROR)
    return bytes(data[1:])


def encode_error_data(reason: bytes) -> bytes:
    reason = reason[:255]
    return bytes((len(reason),)) + reason


class NullMechanism(Mechanism):
    name = b"NULL"

    def start(self) -> Outgoing:
        return [(b"READY", encode_properties(self.metadata))]

    def process(self, command: Command) -> Outgoing:
        if command.name == b"READY":
            self.peer_properties = decode_properties(command.data, ZMTP_INVALID_METADATA)
            self.status = MechanismStatus.READY
            return []
        if command.name == b"ERROR":
            self.status = MechanismStatus.ERROR
            raise PeerSentError(parse_error(command.data))
        raise ProtocolError(f"unexpected command {command.name!r} during NULL handshake",
                            ZMTP_UNEXPECTED_COMMAND)
