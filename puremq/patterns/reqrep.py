"""REQ and REP (RFC 28): the request-reply state machines over an envelope.

REQ prefixes each request with an empty delimiter (and, with REQ_CORRELATE, a 4-byte
request id before it), sends it to one peer chosen by load balancing, and accepts only a
well-formed reply from that same peer.  REP strips everything up to the delimiter from a
request, remembers it, and puts it back in front of the reply.
"""

from __future__ import annotations

import random
from typing import Any, List, Optional

from ..constants import Errno, SocketOption
from ..error import ZMQError
from ..routing.loadbalance import LoadBalancer
from ..routing.pipe import Pipe
from .base import SocketPattern

# plain ints: looked up on every request and reply (Options.values holds them by number)
_REQ_CORRELATE = int(SocketOption.REQ_CORRELATE)
_REQ_RELAXED = int(SocketOption.REQ_RELAXED)


def _efsm() -> ZMQError:
    return ZMQError(Errno.EFSM)


class Req(SocketPattern):
    type_name = "REQ"
    #: a plain reply, ``[b"", body]`` (with REQ_CORRELATE accept_message drops it: a
    #: correlated reply has the request id first)
    receives_delimited = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lb = LoadBalancer()
        self.receiving_reply = False
        self.reply_pipe: Optional[Pipe] = None
        self.request_id = random.getrandbits(32)

    def xattach(self, pipe: Pipe) -> None:
        if self.options[SocketOption.PROBE_ROUTER]:
            pipe.outbound.push([b""])
        self.lb.attach(pipe)

    def xdetach(self, pipe: Pipe) -> None:
        self.lb.detach(pipe)
        # A reply the peer sent before going away is still read (libzmq reads a pipe up to
        # its end before it counts as terminated): keep waiting on that pipe while it holds
        # messages.
        if pipe is self.reply_pipe and not pipe.inbound.items:
            self.reply_pipe = None

    def xsend(self, frames: List[Any]) -> bool:
        values = self.options.values
        if self.receiving_reply:
            if not values.get(_REQ_RELAXED):
                raise _efsm()
        pipe = self.lb.pick()
        if pipe is None:
            return False
        # Drop replies to earlier requests that are still queued (libzmq does the same).
        fq = self.fq
        if fq.ring:
            while fq.take() is not None:
                pass
        if values.get(_REQ_CORRELATE):
            self.request_id = (self.request_id + 1) & 0xFFFFFFFF
            frames[0:0] = [self.request_id.to_bytes(4, "little"), b""]
        else:
            frames.insert(0, b"")
        pipe.outbound.push(frames)
        lb = self.lb
        if len(lb.pipes) > 1:
            lb.advance()
        self.reply_pipe = pipe
        self.receiving_reply = True
        return True

    def check_send(self) -> None:
        if self.receiving_reply and not self.options[SocketOption.REQ_RELAXED]:
            raise _efsm()

    def xrecv(self) -> Optional[List[Any]]:
        if not self.receiving_reply:
            raise _efsm()
        fq = self.fq
        while True:
            msg = fq.take()
            if msg is None:
                return None  # (the usual answer: looked up before every wait)
            reply = self.accept_message(fq.last_pipe, msg)
            if reply is not None:
                return reply

    def accept_message(self, pipe: Pipe, msg: List[Any]) -> Optional[List[Any]]:
        """The body of the reply to the request in flight (which it ends), or None: a
        message from another pipe, without the delimiter, or without the request id that
        REQ_CORRELATE expects, is dropped."""
        if pipe is not self.reply_pipe:
            return None
        start = 0
        if self.options.values.get(_REQ_CORRELATE):
            if len(msg) < 3 or bytes(msg[0]) != self.request_id.to_bytes(4, "little"):
                return None
            start = 1
        if len(msg) < start + 2 or len(msg[start]) != 0:
            return None
        self.receiving_reply = False
        return msg[start + 1:]

    def xhas_in(self) -> bool:
        return self.receiving_reply and self.fq.has_messages()

    def xhas_out(self) -> bool:
        if self.receiving_reply and not self.options[SocketOption.REQ_RELAXED]:
            return False
        return self.lb.pick() is not None

    def xwait_for_space(self) -> bool:
        return self.lb.wait_for_space()


class Rep(SocketPattern):
    type_name = "REP"
    #: a plain request from a REQ, ``[b"", body]``
    receives_delimited = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.sending_reply = False
        self.reply_pipe: Optional[Pipe] = None
        self.envelope: List[Any] = []

    def xrecv(self) -> Optional[List[Any]]:
        if self.sending_reply:
            raise _efsm()
        fq = self.fq
        while True:
            msg = fq.take()
            if msg is None:
                return None
            request = self.accept_message(fq.last_pipe, msg)
            if request is not None:
                return request

    def accept_message(self, pipe: Pipe, msg: List[Any]) -> Optional[List[Any]]:
        """The body of a request (its envelope, up to the delimiter, kept for the reply
        to ``pipe``), or None for a request without a delimiter before its body."""
        last = len(msg) - 1
        for index in range(last):
            if len(msg[index]) == 0:
                break
        else:
            return None
        self.envelope = msg[:index + 1]
        self.reply_pipe = pipe
        self.sending_reply = True
        return msg[index + 1:]

    def check_send(self) -> None:
        if not self.sending_reply:
            raise _efsm()

    def xsend(self, frames: List[Any]) -> bool:
        if not self.sending_reply:
            raise _efsm()
        pipe = self.reply_pipe
        self.sending_reply = False
        self.reply_pipe = None
        if pipe is not None and not pipe.terminated:
            lane = pipe.outbound
            if not 0 < lane.hwm <= len(lane.items):  # (Lane.full, inlined)
                lane.push(self.envelope + frames)
        return True

    def xhas_in(self) -> bool:
        return not self.sending_reply and self.fq.has_messages()

    def xhas_out(self) -> bool:
        return self.sending_reply
