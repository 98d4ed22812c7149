"""Pipes: the bounded queues between a socket and one of its peers.

Theory of operation
-------------------
A :class:`Lane` is a one-way queue of whole messages with exactly one producer thread and
one consumer thread (the application thread on one side, the I/O thread or an inproc peer's
thread on the other).  ``collections.deque`` gives atomic ``append``/``popleft``; two flags
avoid a wake-up per message:

* ``signaled`` -- the consumer has been told there is something to take.  The producer
  appends, and only if ``signaled`` is false sets it and calls ``on_items`` (one wake-up
  per idle->busy transition).  The consumer clears it when it finds the lane empty and then
  looks once more, so a message appended in between is never stranded.
* ``waiting`` -- the producer stopped at the high-water mark.  The consumer, after taking,
  calls ``on_space`` once the lane is down to its low-water mark.

Each side writes its flag before re-reading the other side's state, so one of them always
sees the other (the Dekker pattern; the GIL makes each step atomic).  A lost race costs at
most one spurious wake-up, never a lost one.

A :class:`Pipe` is what a socket holds per peer: an inbound lane, an outbound lane and the
peer's routing id and properties.  For inproc, two pipes share their lanes crosswise.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Deque, Dict, Optional


def _nothing() -> None:
    return None


def low_water_mark(hwm: int) -> int:
    """libzmq's: half the high-water mark, so wake-ups are far apart."""
    return (hwm + 1) // 2


class Lane:
    """One direction of a pipe: a deque with the wake-up protocol described above."""

    __slots__ = ("items", "signaled", "on_items", "waiting", "on_space", "hwm", "lwm",
                 "conflate", "__weakref__")

    def __init__(self, hwm: int = 0) -> None:
        self.items: Deque[Any] = deque()
        self.signaled = False
        self.on_items: Callable[[], None] = _nothing
        self.waiting = False
        self.on_space: Callable[[], None] = _nothing
        #: CONFLATE: keep only the newest message
        self.conflate = False
        self.set_hwm(hwm)

    def set_hwm(self, hwm: int) -> None:
        self.hwm = hwm
        self.lwm = low_water_mark(hwm) if hwm > 0 else 0

    def full(self) -> bool:
        return 0 < self.hwm <= len(self.items)

    def push(self, item: Any) -> None:
        """Append (producer side) and wake the consumer if it was idle."""
        if self.conflate:
            self.items.clear()
        self.items.append(item)
        if not self.signaled:
            self.signaled = True
            self.on_items()

    def wait_for_space(self) -> bool:
        """Producer: note that we wait; returns True if there is room after all."""
        self.waiting = True
        if not self.full():
            self.waiting = False
            return True
        return False

    def took(self) -> None:
        """Consumer: call after taking items, to wake a producer stopped at the mark."""
        if self.waiting and len(self.items) <= self.lwm:
            self.waiting = False
            self.on_space()

    def idle(self) -> bool:
        """Consumer: clear ``signaled`` when empty; True if it really stays empty."""
        self.signaled = False
        if self.items:
            if not self.signaled:
                self.signaled = True
                return False
        return True


class Pipe:
    """A socket's end of the link to one peer."""

    __slots__ = ("inbound", "outbound", "routing_id", "properties", "endpoint", "peer",
                 "attached", "terminated", "user", "__weakref__")

    def __init__(self, inbound: Lane, outbound: Lane, endpoint: str = "") -> None:
        self.inbound = inbound
        self.outbound = outbound
        #: the routing id the peer goes by (None until its handshake told us)
        self.routing_id: Optional[bytes] = None
        self.properties: Dict[str, Any] = {}
        self.endpoint = endpoint
        #: the other end (inproc) or the engine session (tcp/ipc); opaque to routing
        self.peer: Optional[Any] = None
        self.attached = False
        #: set once the peer went away: nothing more will arrive, sends are dropped
        self.terminated = False
        #: per-pattern scratch (e.g. REQ's state); owned by the socket's thread
        self.user: Any = None

    def writable(self) -> bool:
        return not self.terminated and not self.outbound.full()

    def __repr__(self) -> str:
        return (f"<Pipe {self.endpoint or 'inproc'} id={self.routing_id!r} "
                f"in={len(self.inbound.items)} out={len(self.outbound.items)}"
                f"{' terminated' if self.terminated else ''}>")


def inproc_pair(capacity_ab: int, capacity_ba: int) -> "tuple[Pipe, Pipe]":
    """Two pipes joined crosswise: what A sends is what B receives, without encoding."""
    a_to_b = Lane(capacity_ab)
    b_to_a = Lane(capacity_ba)
    a = Pipe(inbound=b_to_a, outbound=a_to_b)
    b = Pipe(inbound=a_to_b, outbound=b_to_a)
    a.peer = b
    b.peer = a
    return a, b


def inproc_capacity(sndhwm: int, rcvhwm: int) -> int:
    """libzmq joins the sender's SNDHWM and the receiver's RCVHWM; 0 on either is unlimited."""
    if sndhwm <= 0 or rcvhwm <= 0:
        return 0
    return sndhwm + rcvhwm
