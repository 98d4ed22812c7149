"""Constants with libzmq's numeric values, as plain names and as pyzmq's enum classes.

The numbers are libzmq 4.3's (include/zmq.h); pyzmq exposes the same values both as
module-level names (``zmq.PUSH``, ``zmq.EVENT_CONNECTED``) and as enum members
(``zmq.SocketType.PUSH``, ``zmq.Event.CONNECTED``).  Both spellings are offered here.
"""

from __future__ import annotations

import errno as _errno
from enum import IntEnum, IntFlag

__all__ = [
    "SocketType", "SocketOption", "Flag", "Event", "PollEvent", "Errno", "MessageOption",
    "ContextOption", "SecurityMechanism", "RouterNotify", "NormMode", "ReconnectStop",
    "DeviceType",
]

#: errno values libzmq defines itself (ZMQ_HAUSNUMERO + n); the rest are the host's.
_HAUSNUMERO = 156384712


class SocketType(IntEnum):
    PAIR = 0
    PUB = 1
    SUB = 2
    REQ = 3
    REP = 4
    DEALER = 5
    ROUTER = 6
    PULL = 7
    PUSH = 8
    XPUB = 9
    XSUB = 10
    STREAM = 11
    XREQ = 5
    XREP = 6
    SERVER = 12
    CLIENT = 13
    RADIO = 14
    DISH = 15
    GATHER = 16
    SCATTER = 17
    DGRAM = 18
    PEER = 19
    CHANNEL = 20


class SocketOption(IntEnum):
    HWM = 1
    AFFINITY = 4
    ROUTING_ID = 5
    SUBSCRIBE = 6
    UNSUBSCRIBE = 7
    RATE = 8
    RECOVERY_IVL = 9
    SNDBUF = 11
    RCVBUF = 12
    RCVMORE = 13
    FD = 14
    EVENTS = 15
    TYPE = 16
    LINGER = 17
    RECONNECT_IVL = 18
    BACKLOG = 19
    RECONNECT_IVL_MAX = 21
    MAXMSGSIZE = 22
    SNDHWM = 23
    RCVHWM = 24
    MULTICAST_HOPS = 25
    RCVTIMEO = 27
    SNDTIMEO = 28
    LAST_ENDPOINT = 32
    ROUTER_MANDATORY = 33
    TCP_KEEPALIVE = 34
    TCP_KEEPALIVE_CNT = 35
    TCP_KEEPALIVE_IDLE = 36
    TCP_KEEPALIVE_INTVL = 37
    IMMEDIATE = 39
    XPUB_VERBOSE = 40
    ROUTER_RAW = 41
    IPV6 = 42
    MECHANISM = 43
    PLAIN_SERVER = 44
    PLAIN_USERNAME = 45
    PLAIN_PASSWORD = 46
    CURVE_SERVER = 47
    CURVE_PUBLICKEY = 48
    CURVE_SECRETKEY = 49
    CURVE_SERVERKEY = 50
    PROBE_ROUTER = 51
    REQ_CORRELATE = 52
    REQ_RELAXED = 53
    CONFLATE = 54
    ZAP_DOMAIN = 55
    ROUTER_HANDOVER = 56
    TOS = 57
    CONNECT_ROUTING_ID = 61
    GSSAPI_SERVER = 62
    GSSAPI_PRINCIPAL = 63
    GSSAPI_SERVICE_PRINCIPAL = 64
    GSSAPI_PLAINTEXT = 65
    HANDSHAKE_IVL = 66
    SOCKS_PROXY = 68
    XPUB_NODROP = 69
    BLOCKY = 70
    XPUB_MANUAL = 71
    XPUB_WELCOME_MSG = 72
    STREAM_NOTIFY = 73
    INVERT_MATCHING = 74
    HEARTBEAT_IVL = 75
    HEARTBEAT_TTL = 76
    HEARTBEAT_TIMEOUT = 77
    XPUB_VERBOSER = 78
    CONNECT_TIMEOUT = 79
    TCP_MAXRT = 80
    THREAD_SAFE = 81
    MULTICAST_MAXTPDU = 84
    VMCI_BUFFER_SIZE = 85
    VMCI_BUFFER_MIN_SIZE = 86
    VMCI_BUFFER_MAX_SIZE = 87
    VMCI_CONNECT_TIMEOUT = 88
    USE_FD = 89
    GSSAPI_PRINCIPAL_NAMETYPE = 90
    GSSAPI_SERVICE_PRINCIPAL_NAMETYPE = 91
    BINDTODEVICE = 92
    IDENTITY = 5
    CONNECT_RID = 61
    TCP_ACCEPT_FILTER = 38
    IPC_FILTER_PID = 58
    IPC_FILTER_UID = 59
    IPC_FILTER_GID = 60
    IPV4ONLY = 31
    DELAY_ATTACH_ON_CONNECT = 39
    FAIL_UNROUTABLE = 33
    ROUTER_BEHAVIOR = 33
    ZAP_ENFORCE_DOMAIN = 93
    LOOPBACK_FASTPATH = 94
    METADATA = 95
    MULTICAST_LOOP = 96
    ROUTER_NOTIFY = 97
    XPUB_MANUAL_LAST_VALUE = 98
    SOCKS_USERNAME = 99
    SOCKS_PASSWORD = 100
    IN_BATCH_SIZE = 101
    OUT_BATCH_SIZE = 102
    WSS_KEY_PEM = 103
    WSS_CERT_PEM = 104
    WSS_TRUST_PEM = 105
    WSS_HOSTNAME = 106
    WSS_TRUST_SYSTEM = 107
    ONLY_FIRST_SUBSCRIBE = 108
    RECONNECT_STOP = 109
    HELLO_MSG = 110
    DISCONNECT_MSG = 111
    PRIORITY = 112
    BUSY_POLL = 113
    HICCUP_MSG = 114
    XSUB_VERBOSE_UNSUBSCRIBE = 115
    TOPICS_COUNT = 116
    NORM_MODE = 117
    NORM_UNICAST_NACK = 118
    NORM_BUFFER_SIZE = 119
    NORM_SEGMENT_SIZE = 120
    NORM_BLOCK_SIZE = 121
    NORM_NUM_PARITY = 122
    NORM_NUM_AUTOPARITY = 123
    NORM_PUSH = 124


class Flag(IntFlag):
    DONTWAIT = 1
    SNDMORE = 2
    NOBLOCK = 1


class Event(IntFlag):
    PROTOCOL_ERROR_WS_UNSPECIFIED = 805306368
    PROTOCOL_ERROR_ZMTP_UNSPECIFIED = 268435456
    PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND = 268435457
    PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE = 268435458
    PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE = 268435459
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED = 268435473
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE = 268435474
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO = 268435475
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE = 268435476
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR = 268435477
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY = 268435478
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME = 268435479
    PROTOCOL_ERROR_ZMTP_INVALID_METADATA = 268435480
    PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC = 285212673
    PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH = 285212674
    PROTOCOL_ERROR_ZAP_UNSPECIFIED = 536870912
    PROTOCOL_ERROR_ZAP_MALFORMED_REPLY = 536870913
    PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID = 536870914
    PROTOCOL_ERROR_ZAP_BAD_VERSION = 536870915
    PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE = 536870916
    PROTOCOL_ERROR_ZAP_INVALID_METADATA = 536870917
    CONNECTED = 1
    CONNECT_DELAYED = 2
    CONNECT_RETRIED = 4
    LISTENING = 8
    BIND_FAILED = 16
    ACCEPTED = 32
    ACCEPT_FAILED = 64
    CLOSED = 128
    CLOSE_FAILED = 256
    DISCONNECTED = 512
    MONITOR_STOPPED = 1024
    HANDSHAKE_FAILED_NO_DETAIL = 2048
    HANDSHAKE_SUCCEEDED = 4096
    HANDSHAKE_FAILED_PROTOCOL = 8192
    HANDSHAKE_FAILED_AUTH = 16384
    ALL_V1 = 65535
    ALL = 65535
    PIPES_STATS = 65536
    ALL_V2 = 131071


class PollEvent(IntFlag):
    POLLIN = 1
    POLLOUT = 2
    POLLERR = 4
    POLLPRI = 8


class Errno(IntEnum):
    EAGAIN = 11
    EFAULT = 14
    EINVAL = 22
    ENOTSUP = 95
    EPROTONOSUPPORT = 93
    ENOBUFS = 105
    ENETDOWN = 100
    EADDRINUSE = 98
    EADDRNOTAVAIL = 99
    ECONNREFUSED = 111
    EINPROGRESS = 115
    ENOTSOCK = 88
    EMSGSIZE = 90
    EAFNOSUPPORT = 97
    ENETUNREACH = 101
    ECONNABORTED = 103
    ECONNRESET = 104
    ENOTCONN = 107
    ETIMEDOUT = 110
    EHOSTUNREACH = 113
    ENETRESET = 102
    EFSM = 156384763
    ENOCOMPATPROTO = 156384764
    ETERM = 156384765
    EMTHREAD = 156384766


class MessageOption(IntEnum):
    MORE = 1
    SHARED = 3
    SRCFD = 2


class ContextOption(IntEnum):
    IO_THREADS = 1
    MAX_SOCKETS = 2
    SOCKET_LIMIT = 3
    THREAD_PRIORITY = 3
    THREAD_SCHED_POLICY = 4
    MAX_MSGSZ = 5
    MSG_T_SIZE = 6
    THREAD_AFFINITY_CPU_ADD = 7
    THREAD_AFFINITY_CPU_REMOVE = 8
    THREAD_NAME_PREFIX = 9


class SecurityMechanism(IntEnum):
    NULL = 0
    PLAIN = 1
    CURVE = 2
    GSSAPI = 3


class RouterNotify(IntFlag):
    CONNECT = 1
    DISCONNECT = 2


class NormMode(IntEnum):
    FIXED = 0
    CC = 1
    CCL = 2
    CCE = 3
    CCE_ECNONLY = 4


class ReconnectStop(IntFlag):
    CONN_REFUSED = 1
    HANDSHAKE_FAILED = 2
    AFTER_DISCONNECT = 4


class DeviceType(IntEnum):
    STREAMER = 1
    FORWARDER = 2
    QUEUE = 3


# Module-level names, spelled as pyzmq spells them.
_PREFIXES = {
    Event: "EVENT_",
    NormMode: "NORM_",
    RouterNotify: "NOTIFY_",
    ReconnectStop: "RECONNECT_STOP_",
}


def _export() -> dict:
    names: dict = {}
    for enum_class in (SocketType, SocketOption, Flag, PollEvent, Errno, MessageOption,
                       ContextOption, SecurityMechanism, DeviceType, Event, NormMode,
                       RouterNotify, ReconnectStop):
        prefix = _PREFIXES.get(enum_class, "")
        for name, member in enum_class.__members__.items():
            if enum_class is Event and name.startswith("PROTOCOL_ERROR"):
                names[name] = member
            else:
                names[prefix + name] = member
    # Aliases pyzmq keeps for older libzmq spellings.
    names["NOBLOCK"] = Flag.DONTWAIT
    names["IDENTITY"] = SocketOption.ROUTING_ID
    names["CONNECT_RID"] = SocketOption.CONNECT_ROUTING_ID
    names["DELAY_ATTACH_ON_CONNECT"] = SocketOption.IMMEDIATE
    names["FAIL_UNROUTABLE"] = SocketOption.ROUTER_MANDATORY
    names["ROUTER_BEHAVIOR"] = SocketOption.ROUTER_MANDATORY
    names["THREAD_PRIORITY"] = ContextOption.SOCKET_LIMIT
    return names


_EXPORTED = _export()
globals().update(_EXPORTED)
__all__ += sorted(_EXPORTED)

COPY_THRESHOLD = 65536
IPC_PATH_MAX_LEN = 107
DRAFT_API = False
PYZMQ_DRAFT_API = False
__all__ += ["COPY_THRESHOLD", "IPC_PATH_MAX_LEN", "DRAFT_API", "PYZMQ_DRAFT_API"]
