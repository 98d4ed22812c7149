"""PUSH and PULL (RFC 30 pipeline): load-balanced out, fair-queued in."""

from __future__ import annotations

from typing import Any, List, Optional

from ..routing.loadbalance import LoadBalancer
from ..routing.pipe import Pipe
from .base import SocketPattern


class Push(SocketPattern):
    type_name = "PUSH"
    plain_send = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lb = LoadBalancer()
        # xsend/xrecv are the strategies' own methods: one call less per message
        self.xsend = self.lb.send_message  # type: ignore[method-assign]

    def xattach(self, pipe: Pipe) -> None:
        self.lb.attach(pipe)

    def xdetach(self, pipe: Pipe) -> None:
        self.lb.detach(pipe)

    def xhas_out(self) -> bool:
        return self.lb.pick() is not None

    def xwait_for_space(self) -> bool:
        return self.lb.wait_for_space()


class Pull(SocketPattern):
    type_name = "PULL"
    plain_receive = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        # xrecv is the fair queue's own method: one call less per message
        self.xrecv = self.fq.take  # type: ignore[method-assign]

    def xhas_in(self) -> bool:
        return self.fq.has_messages()
