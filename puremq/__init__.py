"""puremq: ZeroMQ for Python, written in Python.

``import puremq as zmq`` runs pyzmq code: the same classes, functions, constants and
errors, speaking ZMTP 3.1 with any libzmq peer.
"""

from __future__ import annotations

from . import constants
from .constants import *  # noqa: F401,F403
from .constants import __all__ as _constant_names
from .context import Context
from .error import (Again, ContextTerminated, InterruptedSystemCall, NotDone, ZMQBaseError,
                    ZMQBindError, ZMQError, ZMQVersionError, strerror, zmq_errno)
from .frame import FINISHED_TRACKER as _FINISHED_TRACKER
from .frame import Frame, Message, MessageTracker
from .poll import Poller, select, zmq_poll
from .proxy import device, proxy, proxy_steerable
from .socket import Socket
from .version import (__version__, has, pyzmq_version, pyzmq_version_info, zmq_version,
                      zmq_version_info)

__all__ = [
    "Context", "Socket", "Frame", "Message", "MessageTracker", "Poller", "select",
    "zmq_poll", "proxy", "proxy_steerable", "device", "ZMQBaseError", "ZMQError",
    "ZMQBindError", "Again",
    "ContextTerminated", "InterruptedSystemCall", "NotDone", "ZMQVersionError",
    "strerror", "zmq_errno", "has", "pyzmq_version", "pyzmq_version_info", "zmq_version",
    "zmq_version_info", "constants", "_FINISHED_TRACKER",
] + list(_constant_names)
