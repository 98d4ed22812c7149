"""ProxySteerable and its thread/process forms: a Proxy with a control socket that takes
PAIR/REP commands PAUSE, RESUME, TERMINATE and STATISTICS (see puremq.proxy)."""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

from ..constants import SocketType
from ..proxy import proxy_steerable
from ..socket import Socket
from .basedevice import Device
from .proxydevice import ProcessProxy, Proxy, ThreadProxy

__all__ = ["ProxySteerable", "ThreadProxySteerable", "ProcessProxySteerable"]


class ProxySteerableBase:
    """Adds the control socket: bind_ctrl, connect_ctrl, setsockopt_ctrl, ..."""

    def __init__(self, in_type: int, out_type: int, mon_type: int = SocketType.PUB,
                 ctrl_type: Optional[int] = None) -> None:
        super().__init__(in_type=in_type, out_type=out_type,  # type: ignore[call-arg]
                         mon_type=mon_type)
        self.ctrl_type = ctrl_type
        self._ctrl_binds: List[str] = []
        self._ctrl_connects: List[str] = []
        self._ctrl_sockopts: List[Tuple[int, Any]] = []

    def bind_ctrl(self, addr: str) -> None:
        """Queue ``ctrl_socket.bind(addr)``."""
        self._ctrl_binds.append(addr)

    def bind_ctrl_to_random_port(self, addr: str, *args: Any, **kwargs: Any) -> int:
        """Pick a free port on ``addr`` now and queue the control socket's bind to it."""
        port = self._reserve_random_port(addr, *args, **kwargs)  # type: ignore[attr-defined]
        self.bind_ctrl(f"{addr}:{port}")
        return port

    def connect_ctrl(self, addr: str) -> None:
        """Queue ``ctrl_socket.connect(addr)``."""
        self._ctrl_connects.append(addr)

    def setsockopt_ctrl(self, opt: int, value: Any) -> None:
        """Queue ``ctrl_socket.setsockopt(opt, value)``."""
        self._ctrl_sockopts.append((opt, value))

    def _setup_sockets(self) -> Tuple[Socket, ...]:  # type: ignore[override]
        ins, outs, mons = super()._setup_sockets()  # type: ignore[misc]
        if self.ctrl_type is None:
            raise TypeError("ctrl_type must be specified")
        ctrls = self._context.socket(self.ctrl_type)  # type: ignore[attr-defined]
        self._sockets.append(ctrls)  # type: ignore[attr-defined]
        Device._configure(ctrls, self._ctrl_sockopts, self._ctrl_binds, self._ctrl_connects)
        return ins, outs, mons, ctrls

    def run_device(self) -> None:
        ins, outs, mons, ctrls = self._setup_sockets()
        proxy_steerable(ins, outs, mons, ctrls)


class ProxySteerable(ProxySteerableBase, Proxy):
    """A Proxy steered through its control socket (run with start())."""


class ThreadProxySteerable(ProxySteerableBase, ThreadProxy):
    """ProxySteerable in a background thread."""


class ProcessProxySteerable(ProxySteerableBase, ProcessProxy):
    """ProxySteerable in a child process."""
