"""Endpoints and waiting helpers for the transport tests."""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import Any, List

TIMEOUT_MS = 5000


def free_tcp_port() -> int:
    """A loopback port nobody listens on right now (the kernel's pick)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
    finally:
        probe.close()


def bind_endpoint(transport: str, ipc_dir: str) -> str:
    """Something to bind to (tcp: a wildcard port, resolved by LAST_ENDPOINT)."""
    if transport == "tcp":
        return "tcp://127.0.0.1:*"
    if transport == "ipc":
        return f"ipc://{os.path.join(ipc_dir, uuid.uuid4().hex[:12])}"
    return f"inproc://{uuid.uuid4().hex}"


def fixed_endpoint(transport: str, ipc_dir: str) -> str:
    """A concrete endpoint, usable by connect() before anyone binds it."""
    if transport == "tcp":
        return f"tcp://127.0.0.1:{free_tcp_port()}"
    return bind_endpoint(transport, ipc_dir)


def bind_retrying(sock: Any, zmq: Any, endpoint: str, timeout: float = 5.0) -> None:
    """bind(), retrying while the address is still held by a socket being closed (libzmq
    closes asynchronously, so an immediate re-bind may see EADDRINUSE)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock.bind(endpoint)
            return
        except zmq.ZMQError as exc:
            if exc.errno != zmq.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def drain(sock: Any, zmq: Any, quiet_ms: int = 300) -> List[bytes]:
    """Every message that arrives until none comes for ``quiet_ms``."""
    got = []
    while sock.poll(quiet_ms):
        got.append(sock.recv(zmq.NOBLOCK))
    return got
