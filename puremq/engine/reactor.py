"""The I/O thread: one readiness loop that owns every OS connection of its context.

Theory of operation
-------------------
Other threads hand work to the reactor (an owner thread that reads or writes a
connection itself does so under that connection's I/O lock, and may change what the
poller watches for it: register, modify and unregister are safe from any thread, the
handler table being one dict operation under the GIL and epoll_ctl safe during a wait):

* :meth:`Reactor.post` queues a callable to run in the I/O thread,
* :meth:`Reactor.schedule_flush` queues a connection whose outbound lane has new messages.

Both wake the thread through its own eventfd, and only when it is asleep (or about to be):
the loop sets ``sleeping`` before it checks its queues one last time and polls, and a poster
appends before it reads ``sleeping``; whichever goes second sees the other's write, so a
wake-up is never lost and a busy stream costs no syscall per message.

Each pass runs posted callables, flushes scheduled connections, polls (epoll on Linux) with
the time to the next timer as timeout, dispatches readiness to the registered handlers and
fires due timers.  Handlers are ``handler(events)`` with select.POLLIN/POLLOUT bits.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import select
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from .signaler import Signaler
from .sweep import Sweep

log = logging.getLogger("puremq.engine")

READ = select.POLLIN
WRITE = select.POLLOUT
ERROR = select.POLLERR | select.POLLHUP

_monotonic = time.monotonic
_sleep = time.sleep


class Timer:
    __slots__ = ("deadline", "callback", "cancelled")

    def __init__(self, deadline: float, callback: Callable[[], None]) -> None:
        self.deadline = deadline
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class _EpollPoller:
    """epoll where available, poll otherwise; both report POLLIN/POLLOUT-style bits."""

    def __init__(self) -> None:
        if hasattr(select, "epoll"):
            self._impl: Any = select.epoll()
            self._read, self._write = select.EPOLLIN, select.EPOLLOUT
            self._err = select.EPOLLERR | select.EPOLLHUP
            self._is_epoll = True
            self._native_bits = (self._read == READ and self._write == WRITE
                                 and self._err == ERROR)
        else:  # pragma: no cover - non-Linux
            self._impl = select.poll()
            self._read, self._write = select.POLLIN, select.POLLOUT
            self._err = select.POLLERR | select.POLLHUP
            self._is_epoll = False

    def _mask(self, events: int) -> int:
        mask = 0
        if events & READ:
            mask |= self._read
        if events & WRITE:
            mask |= self._write
        return mask

    def register(self, fd: int, events: int) -> None:
        self._impl.register(fd, self._mask(events))

    def modify(self, fd: int, events: int) -> None:
        self._impl.modify(fd, self._mask(events))

    def unregister(self, fd: int) -> None:
        try:
            self._impl.unregister(fd)
        except (KeyError, OSError, ValueError):
            pass

    def poll(self, timeout: Optional[float]) -> List[Tuple[int, int]]:
        if self._is_epoll:
            raw = self._impl.poll(-1 if timeout is None else timeout)
            if self._native_bits:
                # epoll's bits are READ/WRITE/ERROR's own: only an error needs READ added
                # (so that the handler's read finds it), and errors are rare
                for _fd, mask in raw:
                    if mask & ERROR:
                        return [(fd, mask | READ if mask & ERROR else mask)
                                for fd, mask in raw]
                return raw
        else:  # pragma: no cover
            raw = self._impl.poll(None if timeout is None else timeout * 1000)
        out = []
        read_bit, write_bit, err_bits = self._read, self._write, self._err
        for fd, mask in raw:
            events = 0
            if mask & (read_bit | err_bits):
                events |= READ
            if mask & write_bit:
                events |= WRITE
            if mask & err_bits:
                events |= ERROR
            out.append((fd, events))
        return out

    def close(self) -> None:
        if self._is_epoll:
            self._impl.close()


class Reactor:
    """One I/O thread."""

    def __init__(self, name: str = "puremq-io") -> None:
        self._poller = _EpollPoller()
        self._handlers: Dict[int, Tuple[Callable[[int], None], int]] = {}
        self._posted: Deque[Callable[[], None]] = deque()
        self._flushes: Deque[Any] = deque()
        self._timers: List[Tuple[float, int, Timer]] = []
        self._timer_seq = itertools.count()
        self._sweeps: Dict[float, Sweep] = {}
        self._sweeps_lock = threading.Lock()
        self._waker = Signaler()
        # The waker is closed by whichever of stop() and the I/O thread's exit comes last:
        # stop() writes it after posting the halt, and the thread may have run the halt by
        # then; closing it on the way out made that write meet a closed pipe (EPIPE) or,
        # worse, an fd number already reused by someone else.
        self._waker_holders = 2
        self._waker_lock = threading.Lock()
        self._stop_called = False
        self.sleeping = False
        self._running = True
        self._poller.register(self._waker.fileno(), READ)
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    # -- from any thread ---------------------------------------------------------------
    def post(self, callback: Callable[[], None]) -> None:
        self._posted.append(callback)
        if self.sleeping:
            self._waker.set()

    def schedule_flush(self, connection: Any) -> None:
        self._flushes.append(connection)
        if self.sleeping:
            self._waker.set()

    def in_io_thread(self) -> bool:
        return threading.current_thread() is self.thread

    def stop(self, timeout: Optional[float] = 5.0) -> None:
        with self._waker_lock:
            if self._stop_called:
                return
            self._stop_called = True

        def halt() -> None:
            self._running = False
        self.post(halt)
        self._waker.set()
        if not self.in_io_thread():
            self.thread.join(timeout)
        self._release_waker()

    def _release_waker(self) -> None:
        with self._waker_lock:
            self._waker_holders -= 1
            last = self._waker_holders == 0
        if last:
            self._waker.close()

    # -- the I/O thread's own (register/modify/unregister also from a connection's owner) --
    def register(self, fd: int, events: int, handler: Callable[[int], None]) -> None:
        if fd in self._handlers:
            self._poller.modify(fd, events)
        else:
            self._poller.register(fd, events)
        self._handlers[fd] = (handler, events)

    def modify(self, fd: int, events: int) -> None:
        entry = self._handlers.get(fd)
        if entry is None or entry[1] == events:
            return
        self._handlers[fd] = (entry[0], events)
        self._poller.modify(fd, events)

    def unregister(self, fd: int) -> None:
        if self._handlers.pop(fd, None) is not None:
            self._poller.unregister(fd)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` in the I/O thread after ``delay`` seconds (any thread)."""
        timer = Timer(_monotonic() + delay, callback)
        entry = (timer.deadline, next(self._timer_seq), timer)
        if threading.current_thread() is self.thread:
            heapq.heappush(self._timers, entry)
        else:
            self.post(lambda: heapq.heappush(self._timers, entry))
        return timer

    def sweep(self, interval: float) -> Sweep:
        """This reactor's Sweep every ``interval`` seconds (made at first use; any thread)."""
        with self._sweeps_lock:
            sweep = self._sweeps.get(interval)
            if sweep is None:
                sweep = self._sweeps[interval] = Sweep(self, interval)
            return sweep

    def _run(self) -> None:
        posted = self._posted
        flushes = self._flushes
        handlers = self._handlers
        poller = self._poller
        waker = self._waker
        waker_fd = waker.fileno()
        timers = self._timers
        while self._running:
            try:
                while posted:
                    posted.popleft()()
                if flushes:
                    while flushes:
                        flushes.popleft().flush()
                    # Let a sending thread that waits for the GIL run before this thread
                    # sleeps: awake, it is not woken (no write to the waker) for each
                    # message that finds its lane empty again, and it finds longer lanes
                    # to write at once.  Without this, a stream of 16-byte messages made
                    # the sender wake this thread every ~200 messages: 1.31M msg/s
                    # against 1.73M with it (bench/run.py, thr tcp 16 B).
                    _sleep(0)
                if not self._running:
                    break
                timeout: Optional[float] = None
                if timers:
                    timeout = max(0.0, timers[0][0] - _monotonic())
                self.sleeping = True
                if posted or flushes:
                    timeout = 0.0
                events = poller.poll(timeout)
                self.sleeping = False
                for fd, mask in events:
                    if fd == waker_fd:
                        waker.clear()
                        continue
                    entry = handlers.get(fd)
                    if entry is not None:
                        entry[0](mask)
                if timers:
                    now = _monotonic()
                    while timers and timers[0][0] <= now:
                        timer = heapq.heappop(timers)[2]
                        if not timer.cancelled:
                            timer.callback()
            except Exception:  # a bug in a handler must not kill the I/O thread
                log.exception("puremq I/O thread: unexpected error")
        self._poller.close()
        self._release_waker()
