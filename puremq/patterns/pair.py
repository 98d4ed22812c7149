"""PAIR (RFC 31): exactly one peer at a time; further peers are refused."""

from __future__ import annotations

from typing import Any, List, Optional

from ..routing.pipe import Pipe
from .base import SocketPattern


class Pair(SocketPattern):
    type_name = "PAIR"
    plain_receive = True
    plain_send = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.pipe: Optional[Pipe] = None

    def accepts_new_pipe(self) -> bool:
        return self.pipe is None

    def xattach(self, pipe: Pipe) -> None:
        if self.pipe is None:
            self.pipe = pipe

    def xdetach(self, pipe: Pipe) -> None:
        if pipe is self.pipe:
            self.pipe = None

    def xsend(self, frames: List[Any]) -> bool:
        pipe = self.pipe
        if pipe is None or pipe.terminated or pipe.outbound.full():
            return False
        pipe.outbound.push(frames)
        return True

    def xrecv(self) -> Optional[List[Any]]:
        return self.fq.take()

    def xhas_in(self) -> bool:
        return self.fq.has_messages()

    def xhas_out(self) -> bool:
        pipe = self.pipe
        return pipe is not None and pipe.writable()

    def xwait_for_space(self) -> bool:
        pipe = self.pipe
        return pipe is not None and not pipe.terminated and pipe.outbound.wait_for_space()
