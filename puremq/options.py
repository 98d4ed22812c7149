"""Socket options: libzmq's defaults, value checks and which socket types accept which.

One table drives setsockopt/getsockopt so that every option behaves the same way: a bad
value or an option the socket type does not have is EINVAL, as in libzmq.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple

from .constants import SocketOption as O
from .constants import SocketType as T
from .error import ZMQError
from .constants import Errno

INT = "int"
BYTES = "bytes"


def _at_least(minimum: int) -> Callable[[int], bool]:
    return lambda v: v >= minimum


def _flag(v: int) -> bool:
    return v in (0, 1)


def _routing_id(v: bytes) -> bool:
    return 1 <= len(v) <= 255


def _any(v: Any) -> bool:
    return True


def _deciseconds(ms: int) -> int:
    """ms / 100 truncated toward zero, as libzmq's C division."""
    return ms // 100 if ms >= 0 else -((-ms) // 100)


_ALL = None  # every socket type
_ROUTERS = frozenset({T.ROUTER, T.REP})  # libzmq's rep_t is a router_t
_PROBERS = frozenset({T.ROUTER, T.DEALER, T.REQ, T.REP})
_XPUBS = frozenset({T.XPUB, T.PUB})
_SUBS = frozenset({T.SUB})
_REQ = frozenset({T.REQ})

# option: (kind, default, check, socket types (None = all), readable, writable)
_Spec = Tuple[str, Any, Callable[[Any], bool], Optional[frozenset], bool, bool]
SPECS: Dict[int, _Spec] = {
    O.SNDHWM: (INT, 1000, _at_least(0), _ALL, True, True),
    O.RCVHWM: (INT, 1000, _at_least(0), _ALL, True, True),
    O.AFFINITY: (INT, 0, _any, _ALL, True, True),
    O.ROUTING_ID: (BYTES, b"", _routing_id, _ALL, True, True),
    O.RATE: (INT, 100, _at_least(1), _ALL, True, True),
    O.RECOVERY_IVL: (INT, 10000, _at_least(0), _ALL, True, True),
    O.SNDBUF: (INT, -1, _at_least(-1), _ALL, True, True),
    O.RCVBUF: (INT, -1, _at_least(-1), _ALL, True, True),
    O.LINGER: (INT, -1, _at_least(-1), _ALL, True, True),
    O.RECONNECT_IVL: (INT, 100, _at_least(-1), _ALL, True, True),
    O.RECONNECT_IVL_MAX: (INT, 0, _at_least(0), _ALL, True, True),
    O.BACKLOG: (INT, 100, _at_least(0), _ALL, True, True),
    O.MAXMSGSIZE: (INT, -1, _any, _ALL, True, True),
    O.MULTICAST_HOPS: (INT, 1, _at_least(1), _ALL, True, True),
    O.RCVTIMEO: (INT, -1, _at_least(-1), _ALL, True, True),
    O.SNDTIMEO: (INT, -1, _at_least(-1), _ALL, True, True),
    O.IPV6: (INT, 0, _flag, _ALL, True, True),
    O.IMMEDIATE: (INT, 0, _flag, _ALL, True, True),
    O.TCP_KEEPALIVE: (INT, -1, lambda v: v in (-1, 0, 1), _ALL, True, True),
    O.TCP_KEEPALIVE_CNT: (INT, -1, _at_least(-1), _ALL, True, True),
    O.TCP_KEEPALIVE_IDLE: (INT, -1, _at_least(-1), _ALL, True, True),
    O.TCP_KEEPALIVE_INTVL: (INT, -1, _at_least(-1), _ALL, True, True),
    O.TCP_MAXRT: (INT, 0, _at_least(0), _ALL, True, True),
    O.TOS: (INT, 0, _at_least(0), _ALL, True, True),
    O.CONFLATE: (INT, 0, _flag, _ALL, True, True),
    O.HANDSHAKE_IVL: (INT, 30000, _at_least(0), _ALL, True, True),
    O.HEARTBEAT_IVL: (INT, 0, _at_least(0), _ALL, True, True),
    O.HEARTBEAT_TTL: (INT, 0, lambda v: 0 <= _deciseconds(v) <= 65535, _ALL, True, True),
    O.HEARTBEAT_TIMEOUT: (INT, -1, _at_least(0), _ALL, True, True),
    O.CONNECT_TIMEOUT: (INT, 0, _at_least(0), _ALL, True, True),
    O.MECHANISM: (INT, 0, _any, _ALL, True, False),
    O.ZAP_DOMAIN: (BYTES, b"", _routing_id, _ALL, True, True),
    O.INVERT_MATCHING: (INT, 0, _any, _ALL, True, True),
    # type-specific, write-only as in libzmq
    O.ROUTER_MANDATORY: (INT, 0, _at_least(0), _ROUTERS, False, True),
    O.ROUTER_HANDOVER: (INT, 0, _at_least(0), _ROUTERS, False, True),
    O.CONNECT_ROUTING_ID: (BYTES, b"", lambda v: len(v) >= 1, _ROUTERS, False, True),
    O.PROBE_ROUTER: (INT, 0, _at_least(0), _PROBERS, False, True),
    O.REQ_RELAXED: (INT, 0, _at_least(0), _REQ, False, True),
    O.REQ_CORRELATE: (INT, 0, _at_least(0), _REQ, False, True),
    O.XPUB_VERBOSE: (INT, 0, _at_least(0), _XPUBS, False, True),
    O.XPUB_VERBOSER: (INT, 0, _at_least(0), _XPUBS, False, True),
    O.XPUB_NODROP: (INT, 0, _at_least(0), _XPUBS, False, True),
    O.SUBSCRIBE: (BYTES, b"", _any, _SUBS, False, True),
    O.UNSUBSCRIBE: (BYTES, b"", _any, _SUBS, False, True),
}

#: Options whose default differs by socket type (libzmq's XSUB/SUB linger 0).
TYPE_DEFAULTS: Dict[Tuple[int, int], Any] = {
    (O.LINGER, T.SUB): 0,
    (O.LINGER, T.XSUB): 0,
}

BOOL_VALUED = frozenset()

#: How libzmq stores a value it accepted (what getsockopt then returns).
NORMALIZE: Dict[int, Callable[[int], int]] = {
    O.INVERT_MATCHING: lambda v: int(v != 0),
    O.HEARTBEAT_TTL: lambda v: _deciseconds(v) * 100,  # kept in deciseconds
}

#: int64 options; every other int option is a C int, as pyzmq passes it.
INT64_OPTIONS = frozenset({O.AFFINITY, O.MAXMSGSIZE})


def _einval(msg: str) -> ZMQError:
    return ZMQError(Errno.EINVAL, msg)


class Options:
    """The option values of one socket, validated on the way in."""

    def __init__(self, socket_type: int) -> None:
        self.socket_type = socket_type
        values: Dict[int, Any] = {}
        for option, (_kind, default, _check, types, _r, _w) in SPECS.items():
            if types is None or socket_type in types:
                values[option] = TYPE_DEFAULTS.get((option, socket_type), default)
        self.values = values

    def spec(self, option: int) -> _Spec:
        spec = SPECS.get(option)
        if spec is None:
            raise _einval(f"option {option} is not supported")
        types = spec[3]
        if types is not None and self.socket_type not in types:
            raise _einval(f"option {option} does not apply to this socket type")
        return spec

    def coerce(self, option: int, value: Any) -> Any:
        kind, _default, check, _types, _r, writable = self.spec(option)
        if not writable:
            raise _einval(f"option {option} is read-only")
        if kind == INT:
            if isinstance(value, bool):
                value = int(value)
            if not isinstance(value, int):
                raise TypeError(f"option {option} takes an int, not {type(value).__name__}")
            bits = 63 if option in INT64_OPTIONS else 31
            if not -(1 << bits) <= value < (1 << bits):
                raise OverflowError(f"value {value} out of range for option {option}")
        else:
            if isinstance(value, str):
                raise TypeError("unicode not allowed, use setsockopt_string")
            try:
                value = bytes(memoryview(value))
            except TypeError:
                raise TypeError(f"option {option} takes bytes, not {type(value).__name__}") \
                    from None
        if not check(value):
            raise _einval(f"invalid value {value!r} for option {option}")
        normalize = NORMALIZE.get(option)
        return value if normalize is None else normalize(value)

    def set(self, option: int, value: Any) -> Any:
        value = self.coerce(option, value)
        self.values[option] = value
        return value

    def get(self, option: int) -> Any:
        _kind, _default, _check, _types, readable, _w = self.spec(option)
        if not readable:
            raise _einval(f"option {option} is write-only")
        return self.values[option]

    def __getitem__(self, option: int) -> Any:
        return self.values.get(option)
