"""One periodic check for many members, instead of a timer each.

Theory of operation
-------------------
Owner threads that read their connections themselves give reading back to the I/O thread
after a while without reading (StreamConnection's reclaim).  With a timer per connection,
a process whose thread goes round 1,000 DEALERs, reading each every ~25 ms, fired 20,000
or more timers a second: each a wake-up of the I/O thread and a GIL hand-over, and each
rescheduled because its owner had read meanwhile.  A sweep instead visits every member
once per ``interval`` in one pass of the I/O thread: a check is a comparison, and nothing
runs at all once no member is left.

Members join from any thread (:meth:`Sweep.add`) and leave (:meth:`Sweep.discard`)
under a lock of their own, which is also what their ``sweep_check(now)`` holds while it
decides: so a member that leaves in the I/O thread just as its owner makes it join again
cannot be left out.  A member is due between one and two intervals after it becomes due
by its own reckoning, the price of the single timer.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Set

if TYPE_CHECKING:  # pragma: no cover
    from .reactor import Reactor

_monotonic = time.monotonic


class Sweep:
    def __init__(self, reactor: "Reactor", interval: float) -> None:
        self.reactor = reactor
        self.interval = interval
        self.members: Set[Any] = set()
        # guards the decision to stop against a member joining meanwhile
        self._lock = threading.Lock()
        self._running = False

    def add(self, member: Any) -> None:
        """Visit ``member`` at the coming sweeps (any thread)."""
        with self._lock:
            self.members.add(member)
            if self._running:
                return
            self._running = True
        self.reactor.call_later(self.interval, self._sweep)

    def discard(self, member: Any) -> None:
        self.members.discard(member)

    def _sweep(self) -> None:
        now = _monotonic()
        members = self.members
        try:
            for member in list(members):  # (owner threads may add while this runs)
                member.sweep_check(now)
        finally:
            # (a member's failure, which the reactor logs, must not end the sweep for all)
            with self._lock:
                if not members:
                    self._running = False
                    return
            self.reactor.call_later(self.interval, self._sweep)
