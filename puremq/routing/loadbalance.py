"""Load balancing over outbound pipes: round-robin among those below their high-water mark.

A whole message goes to one pipe (the patterns hand over complete multipart messages), and
the next message starts from the next pipe, as libzmq's lb_t does.
"""

from __future__ import annotations

from typing import List, Optional

from .pipe import Pipe


class LoadBalancer:
    __slots__ = ("pipes", "current")

    def __init__(self) -> None:
        self.pipes: List[Pipe] = []
        self.current = 0

    def attach(self, pipe: Pipe) -> None:
        self.pipes.append(pipe)

    def detach(self, pipe: Pipe) -> None:
        try:
            index = self.pipes.index(pipe)
        except ValueError:
            return
        del self.pipes[index]
        if index < self.current:
            self.current -= 1
        if self.current >= len(self.pipes):
            self.current = 0

    def pick(self) -> Optional[Pipe]:
        """The pipe the next message goes to, without advancing; None if all are full."""
        pipes = self.pipes
        count = len(pipes)
        if not count:
            return None
        start = self.current
        if start >= count:
            start = self.current = 0
        pipe = pipes[start]
        lane = pipe.outbound
        if not pipe.terminated and not 0 < lane.hwm <= len(lane.items):  # (Lane.full)
            return pipe
        for offset in range(1, count):
            index = (start + offset) % count
            pipe = pipes[index]
            if not pipe.terminated and not pipe.outbound.full():
                self.current = index
                return pipe
        return None

    def advance(self) -> None:
        count = len(self.pipes)
        if count:
            self.current = (self.current + 1) % count

    def send(self, msg: list) -> Optional[Pipe]:
        """Queue ``msg`` on the next writable pipe; returns it, or None if none can take it."""
        pipe = self.pick()
        if pipe is None:
            return None
        pipe.outbound.push(msg)
        self.advance()
        return pipe

    def send_message(self, msg: list) -> bool:
        """Queue ``msg`` on the next writable pipe; False if none can take it (hot path)."""
        pipes = self.pipes
        if len(pipes) == 1:
            pipe = pipes[0]
            lane = pipe.outbound
            items = lane.items
            hwm = lane.hwm
            if pipe.terminated or (hwm and len(items) >= hwm):
                return False
            if lane.conflate:
                items.clear()
            items.append(msg)
            if not lane.signaled:
                lane.signaled = True
                lane.on_items()
            return True
        pipe = self.pick()
        if pipe is None:
            return False
        pipe.outbound.push(msg)
        self.current = (self.current + 1) % len(pipes)
        return True

    def wait_for_space(self) -> bool:
        """Mark every full pipe as waited on; True if one has room after all."""
        ready = False
        for pipe in self.pipes:
            if not pipe.terminated and pipe.outbound.wait_for_space():
                ready = True
        return ready
