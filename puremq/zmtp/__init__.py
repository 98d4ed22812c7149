"""Sans-IO ZMTP 3.x: bytes in, messages and events out.  No sockets, threads or clocks."""

from .connection import (ConnectionFailed, HandshakeComplete, PingReceived, State,
                         ZmtpConnection, null_metadata)
from .errors import MessageTooLarge, ProtocolError
from .framing import Command, FrameDecoder, FrameEncoder, encode_command, encode_message
from .greeting import encode_greeting, parse_greeting
from .mechanisms import Mechanism, MechanismStatus, NullMechanism
from .metadata import decode_properties, encode_properties
from .sockettypes import COMPATIBLE, TYPE_NAMES, compatible

__all__ = [
    "ZmtpConnection", "State", "HandshakeComplete", "PingReceived", "ConnectionFailed",
    "null_metadata", "ProtocolError", "MessageTooLarge", "Command", "FrameDecoder",
    "FrameEncoder", "encode_command", "encode_message", "encode_greeting", "parse_greeting",
    "Mechanism", "MechanismStatus", "NullMechanism", "decode_properties",
    "encode_properties", "COMPATIBLE", "TYPE_NAMES", "compatible",
]
