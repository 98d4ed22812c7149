"""What every socket type shares: its pipes, its command queue and the send/recv contract.

Theory of operation
-------------------
A pattern object lives in the thread that owns the socket and is only touched from there.
Other threads (the I/O thread, an inproc peer) reach it in two ways only:

* through the lanes of its pipes (pipe.py explains the wake-up protocol), and
* through ``commands``: a deque of zero-argument callables that the owning thread runs,
  in order, at the start of every operation (:meth:`process_commands`).  Attaching a new
  peer, detaching a lost one and learning a peer's routing id travel this way, so the
  routing tables are never mutated from two threads.

Whenever the owner may need to look again (a message arrived, a pipe drained, a command was
queued) the producer calls ``wake``, which the layer above turns into a signal on the
socket's file descriptor.

Sending and receiving work on whole messages: ``xsend(frames)`` returns False when it
would block (the caller waits or raises EAGAIN), ``xrecv()`` returns None when nothing is
there.  Errors are ZMQErrors with libzmq's errno.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Deque, List, Optional

from ..constants import Errno
from ..error import ZMQError
from ..options import Options
from ..routing.fairqueue import FairQueue
from ..routing.pipe import Pipe


def _no_room(pipe: Pipe) -> bool:
    return False


class SocketPattern:
    """Base of every socket type; subclasses fill in the ``x*`` hooks."""

    #: the name carried in READY's Socket-Type
    type_name = ""
    #: subscriptions and other pattern-level commands travel as ``[b"\x01topic"]`` messages
    sends_subscriptions = False
    #: xrecv hands out messages exactly as the peer's connection delivered them, in order
    #: and unfiltered (PULL, DEALER, PAIR): the socket may then parse them straight out
    #: of the bytes read (zmtp.inbox) instead of through the pipe
    plain_receive = False
    #: with one peer, xsend queues a single-part message to it unchanged (PUSH, DEALER,
    #: PAIR): a relay may then hand that peer's connection messages already framed
    plain_send = False
    #: a request or reply as a REQ or REP sends it -- an empty delimiter frame, then one
    #: body frame -- may be taken straight out of the bytes read (REQ, REP) and handed to
    #: accept_message, as xrecv hands it what it takes from the pipe
    receives_delimited = False
    #: what arrives matters only to the application's receives, so the socket's thread
    #: may read its only peer itself (while it waits in recv, in a forwarding loop, and
    #: when it finds the I/O thread's messages queued: SocketEngine.retake_reading); not
    #: a publisher, whose subscriptions change what it sends as soon as they arrive,
    #: whatever its thread does next
    owner_may_read = True

    def __init__(self, options: Options, wake: Callable[[], None]) -> None:
        self.options = options
        self.wake = wake
        self.commands: Deque[Callable[[], None]] = deque()
        self.pipes: List[Pipe] = []
        self.fq = FairQueue()
        #: called by a pattern that would drop a message on a full outbound lane: the
        #: engine writes that pipe out in the sending thread (under one GIL the I/O thread
        #: may not get to run for milliseconds); True if the lane has room now
        self.write_out: Callable[[Pipe], bool] = _no_room

    def accept_message(self, pipe: Pipe, msg: List[Any]) -> Optional[List[Any]]:
        """What the application receives of ``msg``, which arrived from ``pipe``, with its
        effect on the pattern's state; None if the pattern drops it.  The patterns whose
        xrecv filters or strips (REQ, REP) decide here, for messages from the pipe and
        from the bytes read alike; the others hand out every message as it came."""
        return msg

    # -- wiring a pipe (any thread, before the pipe is shared) ---------------------------
    def prepare_pipe(self, pipe: Pipe) -> None:
        """Connect ``pipe``'s lanes to this socket's wake-ups (before anyone uses it)."""
        pipe.inbound.on_items = self.fq.signal_for(pipe, self.wake)
        pipe.outbound.on_space = self.wake

    # -- commands from other threads ------------------------------------------------------
    def post(self, command: Callable[[], None]) -> None:
        """Queue ``command`` for the owning thread and wake it (thread-safe)."""
        self.commands.append(command)
        self.wake()

    def process_commands(self) -> None:
        commands = self.commands
        while commands:
            commands.popleft()()

    # -- pipe lifecycle (owning thread) --------------------------------------------------
    def attach(self, pipe: Pipe) -> None:
        if pipe.attached:
            return
        # A peer that went away before this attach ran is still read to the end; the
        # detach queued after this command removes it.
        if pipe.terminated and not pipe.inbound.items:
            return
        pipe.attached = True
        self.pipes.append(pipe)
        self.xattach(pipe)

    def detach(self, pipe: Pipe) -> None:
        """The peer is gone: nothing more will be sent to it; what it sent stays readable."""
        pipe.terminated = True
        if not pipe.attached:
            return
        pipe.attached = False
        try:
            self.pipes.remove(pipe)
        except ValueError:
            pass
        self.xdetach(pipe)

    def identify(self, pipe: Pipe) -> None:
        """A connect-side pipe learned its peer's routing id and properties."""

    # -- hooks --------------------------------------------------------------------------
    def xattach(self, pipe: Pipe) -> None:
        pass

    def xdetach(self, pipe: Pipe) -> None:
        pass

    def xsend(self, frames: List[Any]) -> bool:
        raise ZMQError(Errno.ENOTSUP, "Operation not supported by socket")

    def xrecv(self) -> Optional[List[Any]]:
        raise ZMQError(Errno.ENOTSUP, "Operation not supported by socket")

    def xhas_in(self) -> bool:
        return False

    def xhas_out(self) -> bool:
        return False

    def xwait_for_space(self) -> bool:
        """Before blocking in send: ask to be woken when room appears; True if ready now."""
        return False

    def xsetsockopt(self, option: int, value: Any) -> bool:
        """Handle a pattern-specific option; False when it is just stored."""
        return False

    def check_send(self) -> None:
        """Raise EFSM here if the state machine forbids starting a message now."""

    def check_first_frame(self, frame: Any) -> None:
        """Raise here if the first part alone dooms the message (ROUTER_MANDATORY)."""

    def accepts_new_pipe(self) -> bool:
        """PAIR refuses a second peer; everyone else takes them all."""
        return True

    def close(self) -> None:
        for pipe in list(self.pipes):
            self.detach(pipe)


def send_subscription(pipe: Pipe, frame: bytes) -> None:
    """Subscriptions ignore the high-water mark: losing one would silently lose data."""
    pipe.outbound.push([frame])
