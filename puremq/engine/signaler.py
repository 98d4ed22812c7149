"""A file descriptor that becomes readable when a socket's state may have changed.

It is what ``Socket.FD`` returns, what blocking calls, Poller and event loops wait on.
eventfd where the platform has it (one fd, one 8-byte counter); a pipe otherwise.
"""

from __future__ import annotations

import errno as _errno
import os
import select
from typing import Any, Optional, Tuple

_HAS_EVENTFD = hasattr(os, "eventfd")
_ONE = (1).to_bytes(8, "little")


class Signaler:
    __slots__ = ("_read_fd", "_write_fd", "closed", "_poller", "_poller_with")

    def __init__(self) -> None:
        if _HAS_EVENTFD:
            fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)  # type: ignore[attr-defined]
            self._read_fd = self._write_fd = fd
        else:
            self._read_fd, self._write_fd = os.pipe()
            os.set_blocking(self._read_fd, False)
            os.set_blocking(self._write_fd, False)
        self.closed = False
        # poll objects kept for the owner's waits (only the owning thread waits)
        self._poller: Optional[Any] = None
        self._poller_with: Optional[Tuple[int, Any]] = None

    def fileno(self) -> int:
        return self._read_fd

    def set(self) -> None:
        """Make the fd readable (any thread)."""
        try:
            os.write(self._write_fd, _ONE if _HAS_EVENTFD else b"\x01")
        except BlockingIOError:
            pass  # already readable: the pipe is full of wake-ups
        except OSError as exc:
            # closed already (EBADF), or its reading end is (EPIPE): nobody is left to wake
            if exc.errno not in (_errno.EBADF, _errno.EPIPE):
                raise

    def clear(self) -> bool:
        """Drain: the fd is not readable afterwards until the next set().  False if
        there was nothing to drain (no set() since the last clear, or one not written
        yet); True if there was, or the fd is closed (nothing will come)."""
        try:
            if _HAS_EVENTFD:
                os.read(self._read_fd, 8)
            else:
                # a short read emptied the pipe: no second read just to hear EAGAIN
                while len(os.read(self._read_fd, 4096)) == 4096:
                    pass
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:
            if exc.errno != _errno.EBADF:
                raise
        return True

    def wait(self, timeout_ms: Optional[float]) -> bool:
        """Block until readable or ``timeout_ms`` (None = forever); True if readable."""
        poller = self._poller
        if poller is None:
            poller = self._poller = select.poll()
            poller.register(self._read_fd, select.POLLIN)
        ready = poller.poll(None if timeout_ms is None or timeout_ms < 0 else timeout_ms)
        return bool(ready)

    def wait_with(self, fd: int, timeout_ms: Optional[float]) -> None:
        """Block until this signaler or ``fd`` is readable, or ``timeout_ms`` passes."""
        cached = self._poller_with
        if cached is not None and cached[0] == fd:
            poller = cached[1]
        else:
            poller = select.poll()
            poller.register(self._read_fd, select.POLLIN)
            poller.register(fd, select.POLLIN)
            self._poller_with = (fd, poller)
        poller.poll(None if timeout_ms is None or timeout_ms < 0 else timeout_ms)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        # the writing end first: a set() racing with this meets a closed fd (EBADF), never a
        # pipe whose reader is gone (EPIPE)
        if self._write_fd != self._read_fd:
            os.close(self._write_fd)
        os.close(self._read_fd)
