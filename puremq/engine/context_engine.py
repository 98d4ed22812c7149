"""The engine half of a context: I/O threads, the inproc registry, term()'s bookkeeping.

I/O threads start lazily, on the first tcp/ipc use, so an inproc-only context costs no
thread.  ``term()`` wakes every socket (their blocking calls raise ETERM), waits for all of
them to be closed, then for lingering connections to finish sending, then stops the I/O
threads -- libzmq's order.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, List, Optional, Set

from .inproc import InprocRegistry
from .reactor import Reactor

if TYPE_CHECKING:
    from .socket_engine import SocketEngine


class ContextEngine:
    def __init__(self, io_threads: int = 1) -> None:
        self.io_threads = max(1, io_threads)
        self.inproc = InprocRegistry()
        self.terminated = False
        self._reactors: List[Reactor] = []
        self._next_reactor = 0
        self._sockets: Set["SocketEngine"] = set()
        self._lingering: Set[Any] = set()
        self._cond = threading.Condition()

    def reactor_for(self, engine: "SocketEngine") -> Reactor:
        with self._cond:
            if len(self._reactors) < self.io_threads:
                reactor = Reactor(name=f"puremq-io-{len(self._reactors)}")
                self._reactors.append(reactor)
                return reactor
            reactor = self._reactors[self._next_reactor % len(self._reactors)]
            self._next_reactor += 1
            return reactor

    def socket_opened(self, engine: "SocketEngine") -> None:
        with self._cond:
            self._sockets.add(engine)

    def socket_closed(self, engine: "SocketEngine") -> None:
        with self._cond:
            self._sockets.discard(engine)
            self._cond.notify_all()

    def linger_begin(self, obj: Any) -> None:
        with self._cond:
            self._lingering.add(obj)

    def linger_end(self, obj: Any) -> None:
        with self._cond:
            self._lingering.discard(obj)
            self._cond.notify_all()

    def close_sockets(self, linger: Optional[int] = None) -> None:
        """Close every socket still open (Context.destroy)."""
        with self._cond:
            sockets = list(self._sockets)
        for engine in sockets:
            engine.close(linger)

    @property
    def open_sockets(self) -> int:
        with self._cond:
            return len(self._sockets)

    def term(self, timeout: Optional[float] = None) -> bool:
        """Terminate; True when everything finished within ``timeout`` (None = wait)."""
        with self._cond:
            sockets = list(self._sockets)
        for engine in sockets:
            # bytes read but not parsed yet are not handed out once terminated (ETERM)
            engine.inbox.drop()
        self.terminated = True
        for engine in sockets:
            engine.force_wake()
        with self._cond:
            finished = self._cond.wait_for(lambda: not self._sockets and not self._lingering,
                                           timeout)
        if finished:
            for reactor in self._reactors:
                reactor.stop()
            self._reactors = []
        return finished

    def new_socket(self, socket_type: int) -> "SocketEngine":
        from ..constants import Errno
        from ..error import ZMQError
        from .socket_engine import SocketEngine
        if self.terminated:
            raise ZMQError(Errno.ETERM)
        engine = SocketEngine(self, socket_type)
        self.socket_opened(engine)
        return engine

    def force_stop(self) -> None:
        """Stop the I/O threads now, whatever is still lingering (context GC'd)."""
        self.terminated = True
        for reactor in self._reactors:
            reactor.stop(timeout=1.0)
        self._reactors = []
