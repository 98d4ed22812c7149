"""ROUTER (RFC 28): messages in carry the sender's routing id; messages out are routed by it.

Routing ids come from the peer's Identity property, from CONNECT_ROUTING_ID for our own
connects, or are generated (``0x00`` + a 32-bit counter, as libzmq does; a peer may not
choose an id starting with 0x00, so generated ids never collide with chosen ones).
"""

from __future__ import annotations

import random
from typing import Any, Callable, Dict, List, Optional

from ..constants import Errno, SocketOption
from ..error import ZMQError
from ..routing.pipe import Pipe
from .base import SocketPattern


class Router(SocketPattern):
    type_name = "ROUTER"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.by_id: Dict[bytes, Pipe] = {}
        self._next_id = random.getrandbits(32)
        self._blocked_on: Optional[Pipe] = None
        #: set by the socket: closes a pipe's connection (ROUTER_HANDOVER evicts the old peer)
        self.kill_pipe: Callable[[Pipe], None] = lambda pipe: None

    def _generate_id(self) -> bytes:
        self._next_id = (self._next_id + 1) & 0xFFFFFFFF
        return b"\x00" + self._next_id.to_bytes(4, "big")

    def xattach(self, pipe: Pipe) -> None:
        if self.options[SocketOption.PROBE_ROUTER]:
            pipe.outbound.push([b""])
        if pipe.routing_id is not None:
            self._register(pipe)

    def identify(self, pipe: Pipe) -> None:
        if pipe.attached and pipe.user is None:
            self._register(pipe)

    def _register(self, pipe: Pipe) -> None:
        rid = pipe.routing_id or b""
        if not rid or rid[0] == 0:
            rid = self._generate_id()
        holder = self.by_id.get(rid)
        if holder is not None and holder is not pipe:
            if not self.options[SocketOption.ROUTER_HANDOVER]:
                pipe.user = False  # anonymous: its messages are ignored, it cannot be reached
                return
            del self.by_id[rid]
            holder.user = self._generate_id()
            self.by_id[holder.user] = holder
            self.kill_pipe(holder)
        pipe.user = rid
        self.by_id[rid] = pipe

    def xdetach(self, pipe: Pipe) -> None:
        rid = pipe.user
        if rid and self.by_id.get(rid) is pipe:
            del self.by_id[rid]

    def xrecv(self) -> Optional[List[Any]]:
        fq = self.fq
        while True:
            msg = fq.take()
            if msg is None:
                return None
            pipe = fq.last_pipe
            rid = pipe.user  # type: ignore[union-attr]
            if rid is None:
                # Its attach/identify command was queued before this message arrived, but
                # after we last looked: run it rather than lose the message.
                self.process_commands()
                rid = pipe.user  # type: ignore[union-attr]
            if rid:
                msg.insert(0, rid)
                return msg

    def xhas_in(self) -> bool:
        # Messages from a peer ignored for its duplicate routing id are no input: drop them
        # here, or POLLIN would be set and a blocking recv would then wait for nothing.
        fq = self.fq
        while fq.has_messages():
            if fq.ring[0].user is not False:
                return True
            fq.take()
        return False

    def xsend(self, frames: List[Any]) -> bool:
        if len(frames) < 2:
            return True  # a routing id with nothing after it is silently ignored
        rid = frames[0]
        if type(rid) is not bytes:
            rid = bytes(rid)
        pipe = self.by_id.get(rid)
        if pipe is None and self.commands:
            # A peer whose attach was queued after this thread last ran the commands (a
            # forwarding loop runs them once per burst): run them rather than drop the
            # message to a peer that is already there (libzmq runs them at every send).
            self.process_commands()
            pipe = self.by_id.get(rid)
        if pipe is None or pipe.terminated:
            if self.options[SocketOption.ROUTER_MANDATORY]:
                raise ZMQError(Errno.EHOSTUNREACH, "Host unreachable")
            return True
        lane = pipe.outbound
        items = lane.items
        if 0 < lane.hwm <= len(items):  # (Lane.full)
            if self.options[SocketOption.ROUTER_MANDATORY]:
                self._blocked_on = pipe
                return False
            return True
        del frames[0]
        # (Lane.push, inlined: the hot path of every reply)
        if lane.conflate:
            items.clear()
        items.append(frames)
        if not lane.signaled:
            lane.signaled = True
            lane.on_items()
        return True

    def check_first_frame(self, frame: Any) -> None:
        # libzmq fails the routing-id part at once, rather than waiting for a peer that
        # does not exist (with no peers at all, xhas_out would wait forever).
        if self.options[SocketOption.ROUTER_MANDATORY]:
            pipe = self.by_id.get(frame if type(frame) is bytes else bytes(frame))
            if pipe is None or pipe.terminated:
                raise ZMQError(Errno.EHOSTUNREACH, "Host unreachable")

    def xhas_out(self) -> bool:
        if not self.options[SocketOption.ROUTER_MANDATORY]:
            return True
        return any(not p.terminated and not p.outbound.full() for p in self.by_id.values())

    def xwait_for_space(self) -> bool:
        pipe = self._blocked_on
        if pipe is None or pipe.terminated:
            return True
        return pipe.outbound.wait_for_space()
