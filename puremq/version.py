"""Versions: puremq's own, the libzmq whose wire and behaviour it matches, pyzmq's API level."""

from __future__ import annotations

from typing import Tuple

__version__ = "0.1.0"
LIBZMQ_VERSION: Tuple[int, int, int] = (4, 3, 5)
PYZMQ_API_VERSION: Tuple[int, int, int] = (27, 0, 0)


def zmq_version_info() -> Tuple[int, int, int]:
    """The libzmq version puremq's protocol and behaviour match."""
    return LIBZMQ_VERSION


def zmq_version() -> str:
    return "%i.%i.%i" % LIBZMQ_VERSION


def pyzmq_version_info() -> Tuple[int, int, int]:
    """The pyzmq API level puremq offers."""
    return PYZMQ_API_VERSION


def pyzmq_version() -> str:
    return "%i.%i.%i" % PYZMQ_API_VERSION


_CAPABILITIES = {"ipc": True, "pgm": False, "tipc": False, "norm": False, "curve": False,
                 "gssapi": False, "draft": False, "vmci": False, "ws": False, "wss": False}


def has(capability: str) -> bool:
    """Whether puremq supports a libzmq capability ('ipc', 'curve', 'draft', ...)."""
    return _CAPABILITIES.get(capability, False)
