"""Devices: proxies and queues that run in the background (pyzmq's ``zmq.devices``).

``Device`` and its Thread/Process forms create their sockets in the thread or process that
runs them (sockets are not thread-safe), from socket types and queued bind/connect/option
calls; ``Proxy`` adds a monitor socket, ``ProxySteerable`` a control socket, and
``MonitoredQueue`` prefixes what it copies to the monitor socket and supports ROUTER on
both sides.
"""

from __future__ import annotations

from ..constants import DeviceType  # noqa: F401  (as pyzmq's zmq.devices)
from ..proxy import proxy  # noqa: F401
from .basedevice import Device, ProcessDevice, ThreadDevice
from .monitoredqueue import monitored_queue
from .monitoredqueuedevice import MonitoredQueue, ProcessMonitoredQueue, ThreadMonitoredQueue
from .proxydevice import ProcessProxy, Proxy, ThreadProxy
from .proxysteerabledevice import ProcessProxySteerable, ProxySteerable, ThreadProxySteerable

__all__ = [
    "Device", "ThreadDevice", "ProcessDevice",
    "Proxy", "ThreadProxy", "ProcessProxy",
    "ProxySteerable", "ThreadProxySteerable", "ProcessProxySteerable",
    "monitored_queue", "MonitoredQueue", "ThreadMonitoredQueue", "ProcessMonitoredQueue",
]
