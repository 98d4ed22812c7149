"""Protocol errors and libzmq's ZMTP error codes (the values monitor events carry)."""

from __future__ import annotations

import errno as _errno

# libzmq include/zmq.h, ZMQ_PROTOCOL_ERROR_*
ZMTP_UNSPECIFIED = 0x10000000
ZMTP_UNEXPECTED_COMMAND = 0x10000001
ZMTP_INVALID_SEQUENCE = 0x10000002
ZMTP_KEY_EXCHANGE = 0x10000003
ZMTP_MALFORMED_COMMAND_UNSPECIFIED = 0x10000011
ZMTP_MALFORMED_COMMAND_MESSAGE = 0x10000012
ZMTP_MALFORMED_COMMAND_HELLO = 0x10000013
ZMTP_MALFORMED_COMMAND_INITIATE = 0x10000014
ZMTP_MALFORMED_COMMAND_ERROR = 0x10000015
ZMTP_MALFORMED_COMMAND_READY = 0x10000016
ZMTP_MALFORMED_COMMAND_WELCOME = 0x10000017
ZMTP_INVALID_METADATA = 0x10000018
ZMTP_CRYPTOGRAPHIC = 0x11000001
ZMTP_MECHANISM_MISMATCH = 0x11000002
ZAP_UNSPECIFIED = 0x20000000
ZAP_MALFORMED_REPLY = 0x20000001
ZAP_BAD_REQUEST_ID = 0x20000002
ZAP_BAD_VERSION = 0x20000003
ZAP_INVALID_STATUS_CODE = 0x20000004
ZAP_INVALID_METADATA = 0x20000005


class ProtocolError(Exception):
    """The peer broke the protocol: the connection must be dropped.

    ``code`` is libzmq's ZMTP error code (what HANDSHAKE_FAILED_PROTOCOL carries),
    ``errno`` the errno libzmq would record (EPROTO, EMSGSIZE, ...).
    """

    def __init__(self, reason: str, code: int = ZMTP_UNSPECIFIED,
                 errno: int = _errno.EPROTO) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.errno = errno


class MessageTooLarge(ProtocolError):
    """A frame larger than MAXMSGSIZE (libzmq: EMSGSIZE, connection dropped)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"frame of {size} bytes exceeds MAXMSGSIZE {limit}",
                         ZMTP_UNSPECIFIED, _errno.EMSGSIZE)
        self.size = size
        self.limit = limit
