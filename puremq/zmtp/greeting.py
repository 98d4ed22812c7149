"""The 64-octet ZMTP 3.x greeting: encoding and incremental validation.

The greeting is validated as bytes arrive, so a ZMTP 1.0/2.0 peer or a non-ZMTP peer is
rejected as early as its bytes allow (the first byte for 1.0, byte 10 for 2.0) instead of
waiting for 64 bytes that may never come.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .errors import ZMTP_MECHANISM_MISMATCH, ZMTP_UNSPECIFIED, ProtocolError

GREETING_SIZE = 64
SIGNATURE_SIZE = 10
MAJOR_VERSION = 3
MINOR_VERSION = 1
MECHANISM_FIELD_SIZE = 20


def encode_greeting(mechanism: bytes, as_server: bool, minor: int = MINOR_VERSION) -> bytes:
    """The greeting puremq sends: signature, version 3.minor, mechanism, as-server, filler."""
    if len(mechanism) > MECHANISM_FIELD_SIZE:
        raise ValueError("mechanism name longer than 20 octets")
    return (b"\xff" + b"\x00" * 8 + b"\x7f"
            + bytes((MAJOR_VERSION, minor))
            + mechanism.ljust(MECHANISM_FIELD_SIZE, b"\x00")
            + (b"\x01" if as_server else b"\x00")
            + b"\x00" * 31)


@dataclass(frozen=True)
class PeerGreeting:
    major: int
    minor: int
    mechanism: bytes
    as_server: bool

    @property
    def is_zmtp31(self) -> bool:
        """A peer that speaks 3.1 (or later, which must accept 3.1)."""
        return self.major > 3 or self.minor >= 1


def check_partial_greeting(data: bytes) -> None:
    """Reject a peer as soon as the bytes seen so far rule out ZMTP 3.x."""
    n = len(data)
    if n >= 1 and data[0] != 0xFF:
        raise ProtocolError("peer speaks ZMTP 1.0 (no 0xFF signature): not supported",
                            ZMTP_UNSPECIFIED)
    if n >= SIGNATURE_SIZE and not data[9] & 1:
        raise ProtocolError("peer speaks ZMTP 1.0 (long length greeting): not supported",
                            ZMTP_UNSPECIFIED)
    if n >= SIGNATURE_SIZE + 1 and data[10] < MAJOR_VERSION:
        # Revision byte: 0x00 = ZMTP 1.0 (versioned), 0x01 = ZMTP 2.0 (RFC 15).
        spoken = {0: "ZMTP 1.0", 1: "ZMTP 2.0"}.get(data[10], f"ZMTP revision {data[10]}")
        raise ProtocolError(f"peer speaks {spoken}: only 3.x is supported",
                            ZMTP_UNSPECIFIED)


def parse_greeting(data: bytes, expected_mechanism: bytes) -> PeerGreeting:
    """Validate a complete 64-byte greeting against the mechanism we were configured with."""
    check_partial_greeting(data)
    if len(data) < GREETING_SIZE:
        raise ValueError("incomplete greeting")
    mechanism_field = bytes(data[12:32])
    if mechanism_field != expected_mechanism.ljust(MECHANISM_FIELD_SIZE, b"\x00"):
        shown = mechanism_field.rstrip(b"\x00").decode("ascii", "replace")
        raise ProtocolError(
            f"mechanism mismatch: peer uses {shown!r}, we use "
            f"{expected_mechanism.decode('ascii')!r}", ZMTP_MECHANISM_MISMATCH)
    return PeerGreeting(major=data[10], minor=data[11],
                        mechanism=mechanism_field.rstrip(b"\x00"),
                        as_server=bool(data[32] & 1))


def missing_bytes(data: bytes) -> Optional[int]:
    """How many greeting bytes are still to come (None once complete)."""
    remaining = GREETING_SIZE - len(data)
    return remaining if remaining > 0 else None
