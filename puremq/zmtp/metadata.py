"""ZMTP metadata properties: ``name-len(u8) name value-len(u32) value``, repeated.

Used by READY, INITIATE, the CURVE boxes and the ZAP reply.  Names are kept as sent
(libzmq compares "Socket-Type" and "Identity" case-sensitively); lookups that the RFC
makes case-insensitive go through :func:`get_property`.
"""

from __future__ import annotations

from typing import Dict, Iterable, Mapping, Optional, Tuple, Union

from .errors import ZMTP_INVALID_METADATA, ProtocolError

_NAME_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+")
MAX_VALUE_SIZE = 2**31 - 1

Properties = Dict[str, bytes]


def _name_bytes(name: Union[str, bytes]) -> bytes:
    raw = name.encode("ascii") if isinstance(name, str) else bytes(name)
    if not 1 <= len(raw) <= 255:
        raise ValueError("property name must be 1..255 octets")
    if not set(raw) <= _NAME_CHARS:
        raise ValueError(f"property name {raw!r} has characters outside ALPHA DIGIT - _ . +")
    return raw


def encode_properties(properties: Union[Mapping[str, bytes], Iterable[Tuple[str, bytes]]]) -> bytes:
    """Encode properties in order (a mapping or pairs)."""
    items = properties.items() if isinstance(properties, Mapping) else properties
    out = bytearray()
    for name, value in items:
        raw = _name_bytes(name)
        value = bytes(value)
        if len(value) > MAX_VALUE_SIZE:
            raise ValueError("property value too long")
        out.append(len(raw))
        out += raw
        out += len(value).to_bytes(4, "big")
        out += value
    return bytes(out)


def decode_properties(data: bytes, error_code: int = ZMTP_INVALID_METADATA) -> Properties:
    """Decode a property list; anything truncated or trailing is a protocol error."""
    props: Properties = {}
    view = memoryview(data)
    pos = 0
    end = len(view)
    while pos < end:
        name_len = view[pos]
        pos += 1
        if name_len == 0:
            raise ProtocolError("metadata property with an empty name", error_code)
        if pos + name_len + 4 > end:
            raise ProtocolError("metadata property truncated", error_code)
        name_raw = bytes(view[pos:pos + name_len])
        if not set(name_raw) <= _NAME_CHARS:
            raise ProtocolError(f"metadata property name {name_raw!r} is not valid", error_code)
        pos += name_len
        value_len = int.from_bytes(view[pos:pos + 4], "big")
        pos += 4
        if value_len > MAX_VALUE_SIZE or pos + value_len > end:
            raise ProtocolError("metadata property value truncated", error_code)
        props[name_raw.decode("ascii")] = bytes(view[pos:pos + value_len])
        pos += value_len
    return props


def get_property(props: Mapping[str, bytes], name: str) -> Optional[bytes]:
    """Case-insensitive lookup, as the RFC defines property names."""
    if name in props:
        return props[name]
    lowered = name.lower()
    for key, value in props.items():
        if key.lower() == lowered:
            return value
    return None
