"""Poller and select: wait on puremq sockets and plain file descriptors together.

Every puremq socket has a file descriptor that turns readable when its state may have
changed (Socket.FD).  A poll first asks each socket for its events (which also arms its
fd); only if nothing is ready does it make one poll(2) call over all the fds, then asks
again.  The cost is one syscall per wait, however many sockets are registered.
"""

from __future__ import annotations

import select as _select
import time
from typing import Any, Dict, List, Optional, Tuple

from .constants import PollEvent

__all__ = ["Poller", "select", "zmq_poll"]

POLLIN = int(PollEvent.POLLIN)
POLLOUT = int(PollEvent.POLLOUT)
POLLERR = int(PollEvent.POLLERR)


def _fd_of(obj: Any) -> int:
    if isinstance(obj, int):
        return obj
    if hasattr(obj, "fileno"):
        return obj.fileno()
    raise TypeError(f"cannot poll {obj!r}: it is neither a socket nor a file descriptor")


def _is_puremq_socket(obj: Any) -> bool:
    return hasattr(obj, "_engine") and hasattr(obj, "_pattern")


def zmq_poll(sockets: List[Tuple[Any, int]], timeout: Optional[float] = None
             ) -> List[Tuple[Any, int]]:
    """Poll ``[(socket_or_fd, flags)]``; ``timeout`` in ms (None or < 0: forever)."""
    if timeout is not None and timeout < 0:
        timeout = None
    deadline = None if timeout is None else time.monotonic() + timeout / 1000.0
    zsockets = [(s, f) for s, f in sockets if _is_puremq_socket(s)]
    plain = [(s, f) for s, f in sockets if not _is_puremq_socket(s)]
    while True:
        ready: List[Tuple[Any, int]] = []
        for sock, flags in zsockets:
            if sock.closed:
                from .error import ZMQError
                from .constants import Errno
                raise ZMQError(Errno.ENOTSOCK)
            if sock._engine.context.terminated:
                # term() force-wakes every socket fd: a poll blocked here must end, as
                # zmq_poll does, with ETERM (else term() waits forever for the close).
                from .error import ContextTerminated
                raise ContextTerminated()
            events = sock._engine.poll_events(flags) & flags
            if flags & POLLIN and getattr(sock, "_recv_parts", None):
                events |= POLLIN  # the rest of a multipart message is still to be read
            if events:
                ready.append((sock, events))
        poller = _select.poll()
        for sock, _flags in zsockets:
            poller.register(sock._engine.fileno(), _select.POLLIN)
        plain_by_fd: Dict[int, Tuple[Any, int]] = {}
        for obj, flags in plain:
            fd = _fd_of(obj)
            mask = 0
            if flags & POLLIN:
                mask |= _select.POLLIN | _select.POLLPRI
            if flags & POLLOUT:
                mask |= _select.POLLOUT
            if flags & POLLERR:
                mask |= _select.POLLERR
            plain_by_fd[fd] = (obj, flags)
            poller.register(fd, mask)
        if ready:
            wait_ms: Optional[float] = 0
        elif deadline is None:
            wait_ms = None
        else:
            wait_ms = max(0.0, (deadline - time.monotonic()) * 1000.0)
        try:
            fired = poller.poll(wait_ms)
        except InterruptedError:
            fired = []
        for fd, mask in fired:
            entry = plain_by_fd.get(fd)
            if entry is None:
                continue
            obj, flags = entry
            events = 0
            if mask & (_select.POLLIN | _select.POLLPRI | _select.POLLHUP):
                events |= POLLIN
            if mask & _select.POLLOUT:
                events |= POLLOUT
            if mask & (_select.POLLERR | _select.POLLNVAL):
                events |= POLLERR
            events &= flags | POLLERR
            if events:
                # pyzmq reports an object polled through its fileno() by that fd number
                ready.append((fd, events))
        if ready:
            return ready
        if not fired and deadline is not None and time.monotonic() >= deadline:
            return []
        if wait_ms == 0:
            return []


class Poller:
    """pyzmq's Poller: register sockets or fds, then poll(timeout_ms)."""

    def __init__(self) -> None:
        self.sockets: List[Tuple[Any, int]] = []
        self._map: Dict[Any, int] = {}

    def __contains__(self, socket: Any) -> bool:
        return socket in self._map

    def register(self, socket: Any, flags: int = POLLIN | POLLOUT) -> None:
        """Watch ``socket`` for ``flags``; flags=0 unregisters."""
        if not flags:
            if socket in self._map:
                self.unregister(socket)
            return
        if socket in self._map:
            self.sockets[self._map[socket]] = (socket, flags)
        else:
            self._map[socket] = len(self.sockets)
            self.sockets.append((socket, flags))

    modify = register

    def unregister(self, socket: Any) -> None:
        index = self._map.pop(socket)
        self.sockets.pop(index)
        for sock, position in list(self._map.items()):
            if position > index:
                self._map[sock] = position - 1

    def poll(self, timeout: Optional[float] = None) -> List[Tuple[Any, int]]:
        """Wait up to ``timeout`` ms (None or -1: forever); returns [(socket, events)]."""
        if timeout is None or timeout < 0:
            timeout = -1
        return zmq_poll(self.sockets, timeout)


def select(rlist: List[Any], wlist: List[Any], xlist: List[Any],
           timeout: Optional[float] = None) -> Tuple[List[Any], List[Any], List[Any]]:
    """select(2) for sockets and fds; ``timeout`` in seconds (None: forever)."""
    ms = -1 if timeout is None or timeout < 0 else timeout * 1000.0
    flags: Dict[Any, int] = {}
    for obj in rlist:
        flags[obj] = flags.get(obj, 0) | POLLIN
    for obj in wlist:
        flags[obj] = flags.get(obj, 0) | POLLOUT
    for obj in xlist:
        flags[obj] = flags.get(obj, 0) | POLLERR
    ready = zmq_poll(list(flags.items()), ms)
    readable = [s for s, e in ready if e & POLLIN]
    writable = [s for s, e in ready if e & POLLOUT]
    errored = [s for s, e in ready if e & POLLERR]
    return readable, writable, errored
