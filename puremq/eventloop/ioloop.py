"""tornado's IOLoop under pyzmq's old name (deprecated there since pyzmq 17: puremq sockets
work with the default tornado and asyncio loops)."""

import warnings

from tornado.ioloop import *  # noqa: F401,F403
from tornado.ioloop import IOLoop


def _deprecated() -> None:
    warnings.warn("puremq.eventloop.ioloop is deprecated (as zmq.eventloop.ioloop is since "
                  "pyzmq 17): puremq works with the default tornado and asyncio event loops.",
                  DeprecationWarning, stacklevel=3)


_deprecated()

ZMQIOLoop = IOLoop


def install() -> None:
    """DEPRECATED: nothing to install."""
    _deprecated()
