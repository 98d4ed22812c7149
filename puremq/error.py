"""Errors with libzmq's errno values, shaped like pyzmq's ``zmq.error``."""

from __future__ import annotations

import errno as _errno
import os
from typing import Optional

from .constants import Errno

__all__ = [
    "ZMQBaseError", "ZMQError", "ZMQBindError", "Again", "ContextTerminated",
    "NotDone", "InterruptedSystemCall", "ZMQVersionError", "strerror", "zmq_errno",
]

_ZMQ_MESSAGES = {
    Errno.EFSM: "Operation cannot be accomplished in current state",
    Errno.ENOCOMPATPROTO: "The protocol is not compatible with the socket type",
    Errno.ETERM: "Context was terminated",
    Errno.EMTHREAD: "No thread available",
    Errno.EHOSTUNREACH: "Host unreachable",  # libzmq's own text, not the OS's
}

_last_errno = 0


def strerror(errno: int) -> str:
    """The text libzmq gives for an errno."""
    if errno in _ZMQ_MESSAGES:
        return _ZMQ_MESSAGES[Errno(errno)]
    return os.strerror(errno)


def zmq_errno() -> int:
    """The errno of the last ZMQError raised in this process (pyzmq compatibility)."""
    return _last_errno


class ZMQBaseError(Exception):
    """Base of every puremq exception."""


class ZMQError(ZMQBaseError):
    """An error with libzmq's errno: ``errno`` and ``strerror`` as pyzmq has them."""

    errno: Optional[int] = None
    strerror: str = ""

    def __init__(self, errno: Optional[int] = None, msg: Optional[str] = None) -> None:
        global _last_errno
        if errno is None:
            errno = _last_errno
        self.errno = errno
        if msg is None:
            msg = strerror(errno)
        self.strerror = msg
        _last_errno = errno
        super().__init__(errno, msg)

    def __str__(self) -> str:
        return self.strerror

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.strerror!r})"


class ZMQBindError(ZMQBaseError):
    """bind_to_random_port found no free port."""


class Again(ZMQError):
    """The operation would block (EAGAIN)."""

    def __init__(self, errno: Optional[int] = None, msg: Optional[str] = None) -> None:
        super().__init__(Errno.EAGAIN if errno is None else errno, msg)


class ContextTerminated(ZMQError):
    """The context was terminated (ETERM)."""

    def __init__(self, errno: Optional[int] = None, msg: Optional[str] = None) -> None:
        super().__init__(Errno.ETERM if errno is None else errno, msg)


class InterruptedSystemCall(ZMQError, InterruptedError):
    """A blocking call was interrupted by a signal (EINTR)."""

    def __init__(self, errno: Optional[int] = None, msg: Optional[str] = None) -> None:
        super().__init__(_errno.EINTR if errno is None else errno, msg)

    def __str__(self) -> str:
        return self.strerror + ": This call should have been retried."


class NotDone(ZMQBaseError):
    """MessageTracker.wait timed out."""


class ZMQVersionError(NotImplementedError):
    """A feature that the libzmq version puremq matches does not have."""

    def __init__(self, min_version: str, msg: str = "Feature") -> None:
        self.min_version = min_version
        self.msg = msg
        super().__init__(f"{msg} requires libzmq >= {min_version}")


def error_for(errno: int, msg: Optional[str] = None) -> ZMQError:
    """The ZMQError subclass pyzmq would raise for ``errno``."""
    if errno == Errno.EAGAIN:
        return Again(errno, msg)
    if errno == Errno.ETERM:
        return ContextTerminated(errno, msg)
    if errno == _errno.EINTR:
        return InterruptedSystemCall(errno, msg)
    return ZMQError(errno, msg)
