"""The IPython cluster pattern with puremq: a Hub, a MonitoredQueue scheduler between
clients and engines, engines that register with the Hub, and a client; the Hub follows
every task through the scheduler's monitor stream.  Run it: ``python -m examples.cluster``.
"""

from .client import Client
from .engine import engine_main
from .hub import Hub, controller_main
from .launcher import run_cluster

__all__ = ["Client", "Hub", "controller_main", "engine_main", "run_cluster"]
