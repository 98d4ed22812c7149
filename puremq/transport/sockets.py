"""Opening the OS sockets behind tcp and ipc endpoints (non-blocking, tuned as libzmq does).

These functions only create and configure sockets; reading and writing them is the
engine's job.
"""

from __future__ import annotations

import errno as _errno
import os
import socket
import stat
from typing import Any, Optional, Tuple

from ..constants import SocketOption
from ..error import ZMQError
from ..options import Options


def os_error_to_zmq(exc: OSError, addr: str) -> ZMQError:
    code = exc.errno or _errno.EINVAL
    return ZMQError(code, f"{os.strerror(code)} (addr={addr!r})")


def listen_tcp(family: int, sockaddr: Tuple[Any, ...], options: Options,
               addr: str) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        _set_buffers(sock, options)
        sock.bind(sockaddr)
        sock.listen(max(1, options[SocketOption.BACKLOG]))
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise os_error_to_zmq(exc, addr) from None
    return sock


def listen_ipc(path: str, options: Options, addr: str) -> socket.socket:
    if not path.startswith("\0"):
        # libzmq removes a file left behind by an earlier run before binding.
        try:
            if stat.S_ISSOCK(os.stat(path).st_mode):
                os.unlink(path)
        except OSError:
            pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        _set_buffers(sock, options)
        sock.bind(path)
        sock.listen(max(1, options[SocketOption.BACKLOG]))
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise os_error_to_zmq(exc, addr) from None
    return sock


def dial(family: int, sockaddr: Any, options: Options,
         source: Optional[Tuple[Any, ...]] = None) -> Tuple[socket.socket, int]:
    """Start a non-blocking connect; returns the socket and connect_ex's errno."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        _set_buffers(sock, options)
        if source is not None:
            sock.bind(source)
        err = sock.connect_ex(sockaddr)
    except OSError:
        sock.close()
        raise
    return sock, err


def tune_stream(sock: socket.socket, options: Options) -> None:
    """Per-connection settings: no Nagle on tcp, keepalive as configured."""
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        keepalive = options[SocketOption.TCP_KEEPALIVE]
        if keepalive in (0, 1):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, keepalive)
        if keepalive == 1:
            for option, name in ((SocketOption.TCP_KEEPALIVE_IDLE, "TCP_KEEPIDLE"),
                                 (SocketOption.TCP_KEEPALIVE_INTVL, "TCP_KEEPINTVL"),
                                 (SocketOption.TCP_KEEPALIVE_CNT, "TCP_KEEPCNT")):
                value = options[option]
                if value > 0 and hasattr(socket, name):
                    sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
        tos = options[SocketOption.TOS]
        if tos and sock.family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)


def _set_buffers(sock: socket.socket, options: Options) -> None:
    sndbuf = options[SocketOption.SNDBUF]
    rcvbuf = options[SocketOption.RCVBUF]
    if sndbuf is not None and sndbuf >= 0:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    if rcvbuf is not None and rcvbuf >= 0:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
