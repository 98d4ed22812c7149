"""Proxy, ThreadProxy, ProcessProxy: a device that also copies every message to a third,
monitor socket (PUB by default)."""

from __future__ import annotations

from typing import Any, List, Tuple

from ..constants import SocketType
from ..proxy import proxy
from ..socket import Socket
from .basedevice import Device, ProcessDevice, ThreadDevice

__all__ = ["Proxy", "ThreadProxy", "ProcessProxy"]


class ProxyBase:
    """Adds the monitor socket: bind_mon, connect_mon, setsockopt_mon, ..."""

    def __init__(self, in_type: int, out_type: int, mon_type: int = SocketType.PUB) -> None:
        Device.__init__(self, in_type=in_type, out_type=out_type)  # type: ignore[arg-type]
        self.mon_type = mon_type
        self._mon_binds: List[str] = []
        self._mon_connects: List[str] = []
        self._mon_sockopts: List[Tuple[int, Any]] = []

    def bind_mon(self, addr: str) -> None:
        """Queue ``mon_socket.bind(addr)``."""
        self._mon_binds.append(addr)

    def bind_mon_to_random_port(self, addr: str, *args: Any, **kwargs: Any) -> int:
        """Pick a free port on ``addr`` now and queue the monitor socket's bind to it."""
        port = self._reserve_random_port(addr, *args, **kwargs)  # type: ignore[attr-defined]
        self.bind_mon(f"{addr}:{port}")
        return port

    def connect_mon(self, addr: str) -> None:
        """Queue ``mon_socket.connect(addr)``."""
        self._mon_connects.append(addr)

    def setsockopt_mon(self, opt: int, value: Any) -> None:
        """Queue ``mon_socket.setsockopt(opt, value)``."""
        self._mon_sockopts.append((opt, value))

    def _setup_sockets(self) -> Tuple[Socket, Socket, Socket]:  # type: ignore[override]
        ins, outs = Device._setup_sockets(self)  # type: ignore[arg-type]
        mons = self._context.socket(self.mon_type)  # type: ignore[attr-defined]
        self._sockets.append(mons)  # type: ignore[attr-defined]
        Device._configure(mons, self._mon_sockopts, self._mon_binds, self._mon_connects)
        return ins, outs, mons

    def run_device(self) -> None:
        ins, outs, mons = self._setup_sockets()
        proxy(ins, outs, mons)


class Proxy(ProxyBase, Device):
    """A proxy whose every message also goes to the monitor socket (run with start())."""


class ThreadProxy(ProxyBase, ThreadDevice):
    """Proxy in a background thread."""


class ProcessProxy(ProxyBase, ProcessDevice):
    """Proxy in a child process."""
