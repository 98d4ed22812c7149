"""Endpoint strings: ``transport://address``, checked the way libzmq checks them."""

from __future__ import annotations

import errno as _errno
import os
import socket
import tempfile
import uuid
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

from ..constants import Errno
from ..error import ZMQError

SUPPORTED = ("tcp", "ipc", "inproc")
#: transports libzmq knows of but puremq does not carry (yet)
KNOWN_UNSUPPORTED = ("pgm", "epgm", "norm", "vmci", "ws", "wss", "udp", "tipc")
IPC_PATH_MAX_LEN = 107


def _einval(addr: str) -> ZMQError:
    return ZMQError(Errno.EINVAL, f"Invalid argument (addr={addr!r})")


@dataclass(frozen=True)
class Endpoint:
    transport: str
    address: str
    text: str

    def __str__(self) -> str:
        return self.text


def parse(addr: Any) -> Endpoint:
    """Split and check an endpoint; EINVAL if malformed, EPROTONOSUPPORT if unknown."""
    if isinstance(addr, bytes):
        addr = addr.decode("utf8")
    if not isinstance(addr, str):
        raise TypeError(f"endpoint must be str, not {type(addr).__name__}")
    transport, sep, address = addr.partition("://")
    # libzmq checks the shape first: "bogus://" and "://x" are EINVAL, not EPROTONOSUPPORT
    if not sep or not transport or not address:
        raise _einval(addr)
    if transport not in SUPPORTED:
        raise ZMQError(Errno.EPROTONOSUPPORT, f"Protocol not supported (addr={addr!r})")
    return Endpoint(transport, address, addr)


# -- tcp ----------------------------------------------------------------------------------
def _split_host_port(address: str, addr: str) -> Tuple[str, str]:
    if address.startswith("["):
        close = address.find("]")
        if close < 0 or address[close + 1:close + 2] != ":":
            raise _einval(addr)
        return address[1:close], address[close + 2:]
    host, sep, port = address.rpartition(":")
    if not sep or not host:
        raise _einval(addr)
    return host, port


def _parse_port(port: str, addr: str, wildcard_ok: bool) -> int:
    if port == "*":
        if not wildcard_ok:
            raise _einval(addr)
        return 0
    if not port.isdigit():
        raise _einval(addr)
    value = int(port)
    if value > 65535:
        raise _einval(addr)
    return value


def _nic_address(name: str, ipv6: bool) -> Optional[str]:
    """The address of a network interface by name (``lo``), as libzmq allows for bind."""
    try:
        import fcntl
        import struct
    except ImportError:  # pragma: no cover - not POSIX
        return None
    if len(name) > 15 or not name.isidentifier() and not name.replace("-", "").isalnum():
        return None
    try:
        names = [n for _i, n in socket.if_nameindex()]
    except AttributeError:  # PyPy's socket module has no if_nameindex
        try:
            names = os.listdir("/sys/class/net")
        except OSError:
            return None
    except OSError:
        return None
    if name not in names:
        return None
    if ipv6 and name == "lo":
        return "::1"
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        packed = fcntl.ioctl(probe.fileno(), 0x8915,  # SIOCGIFADDR
                             struct.pack("256s", name.encode()[:15]))
        return socket.inet_ntoa(packed[20:24])
    except OSError:
        return None
    finally:
        probe.close()


def resolve_tcp_bind(address: str, ipv6: bool, addr: str) -> Tuple[int, Tuple[Any, ...]]:
    """(family, sockaddr) to bind; ENODEV for an address that is not ours (as libzmq)."""
    host, port_text = _split_host_port(address, addr)
    port = _parse_port(port_text, addr, wildcard_ok=True)
    if host == "*":
        if ipv6 and socket.has_ipv6:
            return socket.AF_INET6, ("::", port, 0, 0)
        return socket.AF_INET, ("0.0.0.0", port)
    nic = _nic_address(host, ipv6)
    if nic is not None:
        host = nic
    family = socket.AF_INET
    flags = socket.AI_PASSIVE
    if ipv6 and socket.has_ipv6:
        # libzmq (tcp_address_t::resolve): with IPV6 an IPv4 address binds as its
        # IPv4-mapped IPv6 form (LAST_ENDPOINT tcp://[::ffff:127.0.0.1]:port), so the
        # listener takes both IPv4 and IPv6 peers.
        family = socket.AF_INET6
        flags |= getattr(socket, "AI_V4MAPPED", 0)
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, 0, flags)
    except (socket.gaierror, UnicodeError):
        raise ZMQError(_errno.ENODEV, f"No such device (addr={addr!r})") from None
    family, _type, _proto, _canon, sockaddr = infos[0]
    return family, sockaddr


def split_tcp_connect(address: str, addr: str) -> Tuple[Optional[str], str, int]:
    """(source address or None, host, port) of a connect endpoint; resolution comes later."""
    source = None
    if ";" in address:
        source, address = address.split(";", 1)
    host, port_text = _split_host_port(address, addr)
    port = _parse_port(port_text, addr, wildcard_ok=False)
    if host == "*":
        raise _einval(addr)
    return source, host, port


def split_source(source: str) -> Tuple[str, int]:
    """The ``host[:port]`` before ``;`` in ``tcp://source;destination`` (port 0: any)."""
    if source.startswith("["):
        host, _sep, rest = source[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else 0
    host, sep, port = source.rpartition(":")
    if sep and port.isdigit():
        return host, int(port)
    return source, 0


def resolve_tcp_connect(host: str, port: int, ipv6: bool) -> List[Tuple[int, Tuple[Any, ...]]]:
    """Addresses to try for a connect; raises OSError when the name does not resolve."""
    family = socket.AF_UNSPEC if ipv6 else socket.AF_INET
    infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    return [(info[0], info[4]) for info in infos]


def tcp_endpoint_text(sockaddr: Tuple[Any, ...]) -> str:
    host, port = sockaddr[0], sockaddr[1]
    if ":" in host:
        return f"tcp://[{host}]:{port}"
    return f"tcp://{host}:{port}"


# -- ipc ----------------------------------------------------------------------------------
def resolve_ipc(address: str, addr: str, for_bind: bool) -> Tuple[str, str]:
    """(path for the OS, endpoint text); ``@name`` is a Linux abstract socket."""
    if address == "*":
        if not for_bind:
            raise _einval(addr)
        directory = tempfile.mkdtemp(prefix="puremq-")
        path = os.path.join(directory, "socket")
        return path, f"ipc://{path}"
    if address.startswith("@"):
        if address == "@":
            raise _einval(addr)  # libzmq: an abstract name cannot be empty
        os_path = "\0" + address[1:]
    else:
        os_path = address
    if len(os_path.encode()) > IPC_PATH_MAX_LEN:
        raise ZMQError(_errno.ENAMETOOLONG, f"File name too long (addr={addr!r})")
    return os_path, f"ipc://{address}"


def random_inproc_name() -> str:
    return uuid.uuid4().hex
