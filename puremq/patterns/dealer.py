"""DEALER (RFC 28): load-balanced out, fair-queued in, no envelope handling."""

from __future__ import annotations

from typing import Any, List, Optional

from ..constants import SocketOption
from ..routing.loadbalance import LoadBalancer
from ..routing.pipe import Pipe
from .base import SocketPattern


class Dealer(SocketPattern):
    type_name = "DEALER"
    plain_receive = True
    plain_send = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lb = LoadBalancer()
        # xsend/xrecv are the strategies' own methods: one call less per message
        self.xsend = self.lb.send_message  # type: ignore[method-assign]
        self.xrecv = self.fq.take  # type: ignore[method-assign]

    def xattach(self, pipe: Pipe) -> None:
        if self.options[SocketOption.PROBE_ROUTER]:
            pipe.outbound.push([b""])
        self.lb.attach(pipe)

    def xdetach(self, pipe: Pipe) -> None:
        self.lb.detach(pipe)

    def xhas_in(self) -> bool:
        return self.fq.has_messages()

    def xhas_out(self) -> bool:
        return self.lb.pick() is not None

    def xwait_for_space(self) -> bool:
        return self.lb.wait_for_space()
