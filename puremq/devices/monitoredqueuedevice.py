"""MonitoredQueue and its thread/process forms: monitored_queue as a device."""

from __future__ import annotations

from ..constants import SocketType
from .monitoredqueue import monitored_queue
from .proxydevice import ProcessProxy, Proxy, ProxyBase, ThreadProxy

__all__ = ["MonitoredQueue", "ThreadMonitoredQueue", "ProcessMonitoredQueue"]


class MonitoredQueueBase(ProxyBase):
    """A Proxy whose monitor copies start with ``in_prefix`` or ``out_prefix``."""

    _in_prefix = b""
    _out_prefix = b""

    def __init__(self, in_type: int, out_type: int, mon_type: int = SocketType.PUB,
                 in_prefix: bytes = b"in", out_prefix: bytes = b"out") -> None:
        ProxyBase.__init__(self, in_type=in_type, out_type=out_type, mon_type=mon_type)
        self._in_prefix = in_prefix
        self._out_prefix = out_prefix

    def run_device(self) -> None:
        ins, outs, mons = self._setup_sockets()
        monitored_queue(ins, outs, mons, self._in_prefix, self._out_prefix)


class MonitoredQueue(MonitoredQueueBase, Proxy):
    """monitored_queue as a device (run with start()); ROUTER on both sides works."""


class ThreadMonitoredQueue(MonitoredQueueBase, ThreadProxy):
    """MonitoredQueue in a background thread."""


class ProcessMonitoredQueue(MonitoredQueueBase, ProcessProxy):
    """MonitoredQueue in a child process."""
