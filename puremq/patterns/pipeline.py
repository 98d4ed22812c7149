"""PUSH and PULL (RFC 30 pipeline): load-balanced out, fair-queued in."""

from __future__ import annotations

from typing import Any, List, Optional

from ..routing.loadbalance import LoadBalancer
from ..routing.pipe import Pipe
from .base import SocketPattern


class Push(SocketPattern):
    type_name = "PUSH"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lb = LoadBalancer()

    def xattach(self, pipe: Pipe) -> None:
        self.lb.attach(pipe)

    def xdetach(self, pipe: Pipe) -> None:
        self.lb.detach(pipe)

    def xsend(self, frames: List[Any]) -> bool:
        return self.lb.send(frames) is not None

    def xhas_out(self) -> bool:
        return self.lb.pick() is not None

    def xwait_for_space(self) -> bool:
        return self.lb.wait_for_space()


class Pull(SocketPattern):
    type_name = "PULL"

    def xrecv(self) -> Optional[List[Any]]:
        return self.fq.take()

    def xhas_in(self) -> bool:
        return self.fq.has_messages()
