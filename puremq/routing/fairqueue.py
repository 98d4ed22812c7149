"""Fair queuing over inbound pipes: one message from each pipe in turn.

The ring holds the pipes that may have messages.  Producers add a pipe when its lane goes
from idle to busy (see pipe.Lane); the owning socket's thread is the only one that takes.
A pipe can sit in the ring twice after a benign race; an entry whose lane turns out empty is
dropped, so duplicates cost a check, never a message.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Deque, Optional

from .pipe import Pipe


class FairQueue:
    __slots__ = ("ring", "last_pipe")

    def __init__(self) -> None:
        self.ring: Deque[Pipe] = deque()
        #: the pipe the last message came from (ROUTER and REP need it)
        self.last_pipe: Optional[Pipe] = None

    def signal_for(self, pipe: Pipe, wake: Callable[[], None]) -> Callable[[], None]:
        """The ``on_items`` callback of ``pipe``'s inbound lane."""
        ring_append = self.ring.append

        def arrived() -> None:
            ring_append(pipe)
            wake()
        return arrived

    def take(self) -> Any:
        """The next message in fair order, or None.

        The hot path of every receiving socket: the pipe at the front of the ring gives one
        message and moves to the back, or leaves the ring once its lane is really idle (the
        producers only ever append to the right, so ``ring[0]`` is still this pipe).
        """
        ring = self.ring
        while ring:
            pipe = ring[0]
            lane = pipe.inbound
            items = lane.items
            if items:
                msg = items.popleft()
                if not items:
                    # the lane's idle() protocol, inlined
                    lane.signaled = False
                    if items and not lane.signaled:
                        lane.signaled = True
                        if len(ring) > 1:
                            ring.rotate(-1)
                    else:
                        ring.popleft()
                elif len(ring) > 1:
                    ring.rotate(-1)
                if lane.waiting and len(items) <= lane.lwm:
                    lane.took()
                self.last_pipe = pipe
                return msg
            ring.popleft()
            if not lane.idle():
                ring.append(pipe)
        return None

    def has_messages(self) -> bool:
        ring = self.ring
        while ring:
            pipe = ring[0]
            if pipe.inbound.items:
                return True
            ring.popleft()
            if not pipe.inbound.idle():
                ring.append(pipe)
        return False

    def discard(self, pipe: Pipe) -> None:
        """Forget a pipe and what it still holds (used when a peer's messages must go)."""
        try:
            while True:
                self.ring.remove(pipe)
        except ValueError:
            pass
