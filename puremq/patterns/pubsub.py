"""PUB, XPUB, SUB and XSUB (RFC 29): filtering on the publishing side.

Subscriptions travel upstream as ``[b"\\x01" + topic]`` / ``[b"\\x00" + topic]`` messages on
the pipes (the engine turns them into SUBSCRIBE/CANCEL commands for ZMTP 3.1 peers and back).

* The publishing side keeps, per prefix, the set of pipes subscribed to it (a pipe that
  subscribes twice to a prefix is in the set once), and sends each message to the pipes
  whose prefixes match its first frame.  A full pipe loses the message (a slow subscriber
  must not stall the publisher), unless XPUB_NODROP asks for EAGAIN instead.
* The subscribing side counts its own subscriptions (two SUBSCRIBEs need two
  UNSUBSCRIBEs), sends every subscribe upstream, a cancel only when the count reaches
  zero, replays its subscriptions to every new peer, and filters what it receives too.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Deque, List, Optional, Set

from ..constants import SocketOption
from ..routing.broadcast import BroadcastLog
from ..routing.pipe import Pipe
from ..routing.trie import RadixTrie
from ..zmtp.framing import SHORT_FINAL_HEADERS, frame_small_message
from .base import SocketPattern, send_subscription

_XPUB_NODROP = int(SocketOption.XPUB_NODROP)
_CONFLATE = int(SocketOption.CONFLATE)
#: a PUB that could not join its subscribers to the shared log (one was still writing what
#: its lane held) tries again after this many sends
LOG_RETRY_SENDS = 16


def _as_bytes(frame: Any) -> bytes:
    return frame if type(frame) is bytes else bytes(frame)


class XPub(SocketPattern):
    type_name = "XPUB"
    #: PUB never hands subscriptions or upstream messages to the application
    delivers_upstream = True
    owner_may_read = False

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.subscriptions = RadixTrie()
        self.pending: Deque[List[Any]] = deque()
        self._blocked: List[Pipe] = []
        #: the shared log (routing/broadcast.py): messages go there, framed once, while
        #: every subscriber is a stream connection subscribed to everything (and then
        #: nothing else); ``_log_dirty`` asks the next send to look again
        self._log: Optional[BroadcastLog] = None
        self._log_on = False
        self._log_dirty = False
        #: sends to let pass before trying again to join pipes that were not ready
        self._log_wait = 0

    # -- subscriptions from downstream ----------------------------------------------------
    def _read_upstream(self) -> None:
        fq = self.fq
        while True:
            msg = fq.take()
            if msg is None:
                return
            first = msg[0] if msg else b""
            if len(msg) == 1 and len(first) > 0 and first[0] in (0, 1):
                self._apply(fq.last_pipe, _as_bytes(first))  # type: ignore[arg-type]
            elif self.delivers_upstream:
                self.pending.append(msg)

    def _apply(self, pipe: Pipe, frame: bytes) -> None:
        self._log_dirty = True
        self._log_wait = 0
        topic = frame[1:]
        if frame[0] == 1:
            if pipe.terminated:
                return
            pipes: Set[Pipe] = self.subscriptions.setdefault(topic, set)
            first = not pipes
            pipes.add(pipe)
            notify = first or bool(self.options[SocketOption.XPUB_VERBOSE]
                                 or self.options[SocketOption.XPUB_VERBOSER])
        else:
            pipes = self.subscriptions.get(topic)
            if pipes is not None and pipe in pipes:
                pipes.discard(pipe)
                if not pipes:
                    self.subscriptions.delete(topic)
            notify = not pipes or bool(self.options[SocketOption.XPUB_VERBOSER])
        if notify and self.delivers_upstream:
            self.pending.append([frame])

    def xattach(self, pipe: Pipe) -> None:
        self._read_upstream()

    def xdetach(self, pipe: Pipe) -> None:
        # Drop what it still sent us, then every subscription it held.
        self._log_dirty = True
        self._log_wait = 0
        self._read_upstream()
        for topic, pipes in self.subscriptions.items():
            if pipe in pipes:
                pipes.discard(pipe)
                if not pipes:
                    self.subscriptions.delete(topic)
                    if self.delivers_upstream:
                        self.pending.append([b"\x00" + topic])

    # -- sending --------------------------------------------------------------------------
    def xsend(self, frames: List[Any]) -> bool:
        if self.fq.ring:
            self._read_upstream()
        if self._log_on or self._log_dirty:
            frame = frames[0]
            if len(frames) == 1 and type(frame) is bytes and len(frame) < 256:
                entry = SHORT_FINAL_HEADERS[len(frame)] + frame
            else:
                entry = frame_small_message(frames)
            if entry is None:
                # large or zero-copy frames: their connections' encoders must see them
                # as they are, so the lanes take over (a later send tries the log again)
                if self._log_on:
                    self._leave_log()
                    self._log_dirty = True
            else:
                if self._log_dirty:
                    if self._log_wait:
                        self._log_wait -= 1
                    else:
                        self._refresh_log()
                if self._log_on:
                    log = self._log
                    log.room -= 1
                    if log.room <= 0:
                        log.recount(self.write_out, len(entry))
                    log.append(entry)
                    return True
        first = frames[0]
        if type(first) is not bytes and type(first) is not bytearray:
            first = bytes(first)
        matches = self.subscriptions.prefix_values(first)
        if not matches:
            return True
        if len(matches) == 1:
            targets = matches[0]
        else:
            targets = set()
            for pipes in matches:
                targets |= pipes
        if self.options.values[_XPUB_NODROP]:
            blocked = [p for p in targets if p.outbound.full() and not p.terminated]
            if blocked:
                self._blocked = blocked
                return False
        # Lane.full() and Lane.push() inlined: this loop runs once per subscriber and message
        for pipe in targets:
            lane = pipe.outbound
            items = lane.items
            hwm = lane.hwm
            if hwm and len(items) >= hwm and not self.write_out(pipe):
                continue  # dropped at SNDHWM, as libzmq drops
            if lane.conflate:
                items.clear()
            items.append(frames)
            if not lane.signaled:
                lane.signaled = True
                lane.on_items()
        return True

    def xhas_out(self) -> bool:
        return True

    def xsetsockopt(self, option: int, value: Any) -> bool:
        if option == _XPUB_NODROP or option == _CONFLATE:
            self._log_dirty = True
            self._log_wait = 0
        return False

    # -- the shared log ---------------------------------------------------------------------
    def _log_members(self) -> Optional[List[Pipe]]:
        """The pipes the shared log serves, if it may: every subscription is to
        everything, every subscriber is a stream connection that sends frames as they
        are encoded, and no option needs a queue per subscriber (NODROP, CONFLATE)."""
        values = self.options.values
        if len(self.subscriptions) != 1 or values[_XPUB_NODROP] or values[_CONFLATE]:
            return None
        root = self.subscriptions.get(b"")
        if not root:
            return None
        for pipe in root:
            if pipe.terminated or not getattr(pipe.peer, "shares_frames", False):
                return None
        return list(root)

    def _refresh_log(self) -> None:
        """Subscriptions, pipes or options changed: use the shared log or the lanes.  A
        pipe joins the log only once it has written out what its lane (or an earlier stay
        in the log) held; until then the lanes carry on and the next send looks again."""
        self._log_dirty = False
        members = self._log_members()
        log = self._log
        if members is not None:
            for pipe in members:
                # what it still has to write may be written out here, in this thread
                # (unless the kernel is full: the subscriber is behind, the lanes carry on)
                if not self._ready_for_log(pipe) and (not self.write_out(pipe)
                                                       or not self._ready_for_log(pipe)):
                    self._log_dirty = True
                    self._log_wait = LOG_RETRY_SENDS
                    members = None
                    break
        if members is None:
            self._leave_log()
            return
        if log is None:
            self._log = log = BroadcastLog()
        left, joined = log.set_members(members)
        self._wake_leaving(left)
        self._log_on = joined
        if not joined:
            self._log_dirty = True

    def _ready_for_log(self, pipe: Pipe) -> bool:
        """``pipe``'s connection may take a cursor at the log's end (or has one): nothing
        it still has to write, on its lane or in an earlier stay in the log, would come
        after what the log gets next.  (Only this thread queues on the lane: once empty it
        stays empty.)"""
        cursor = pipe.peer.log_cursor
        if cursor is None:
            return not pipe.outbound.items
        return cursor.log is self._log and cursor.stop is None

    def _leave_log(self) -> None:
        """Every cursor leaves the log where it ends now; the lanes take over."""
        self._log_on = False
        if self._log is not None and self._log.cursors:
            self._wake_leaving(self._log.set_members([])[0])

    @staticmethod
    def _wake_leaving(cursors: List[Any]) -> None:
        # the writer finishes a leaving cursor's entries at its next flush: one is due
        for cursor in cursors:
            cursor.pipe.outbound.on_items()

    def xwait_for_space(self) -> bool:
        ready = True
        for pipe in self._blocked:
            if not pipe.outbound.wait_for_space():
                ready = False
        return ready

    # -- receiving (XPUB only) ---------------------------------------------------------------
    def xrecv(self) -> Optional[List[Any]]:
        self._read_upstream()
        if self.pending:
            return self.pending.popleft()
        return None

    def xhas_in(self) -> bool:
        self._read_upstream()
        return bool(self.pending)


class Pub(XPub):
    type_name = "PUB"
    delivers_upstream = False

    def xrecv(self) -> Optional[List[Any]]:
        return SocketPattern.xrecv(self)

    def xhas_in(self) -> bool:
        if self.fq.ring:
            self._read_upstream()
        return False


class XSub(SocketPattern):
    type_name = "XSUB"
    sends_subscriptions = True
    #: SUB filters what it receives; XSUB passes everything
    filters = False

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.subscriptions = RadixTrie()
        #: XSUB passes everything on; SUB does while it is subscribed to everything (then
        #: receiving is a plain take, with no lookup per message)
        self.passes_all = not self.filters

    @property
    def plain_receive(self) -> bool:  # type: ignore[override]
        return self.passes_all

    def _subscriptions_changed(self) -> None:
        self.passes_all = not self.filters or self.subscriptions.get(b"") is not None

    def xattach(self, pipe: Pipe) -> None:
        for topic, _count in self.subscriptions.items():
            send_subscription(pipe, b"\x01" + topic)

    def subscribe(self, topic: bytes) -> None:
        counter = self.subscriptions.setdefault(topic, lambda: [0])
        counter[0] += 1
        self._subscriptions_changed()
        self._upstream(b"\x01" + topic)

    def unsubscribe(self, topic: bytes) -> None:
        counter = self.subscriptions.get(topic)
        if counter is None:
            return
        counter[0] -= 1
        if counter[0] <= 0:
            self.subscriptions.delete(topic)
            self._subscriptions_changed()
            self._upstream(b"\x00" + topic)

    def _upstream(self, frame: bytes) -> None:
        for pipe in self.pipes:
            if not pipe.terminated:
                send_subscription(pipe, frame)

    def xsend(self, frames: List[Any]) -> bool:
        first = frames[0] if frames else b""
        if len(frames) == 1 and len(first) > 0 and first[0] in (0, 1):
            first = _as_bytes(first)
            if first[0] == 1:
                self.subscribe(first[1:])
            else:
                self.unsubscribe(first[1:])
            return True
        for pipe in self.pipes:
            lane = pipe.outbound
            if not pipe.terminated and (not lane.full() or self.write_out(pipe)):
                lane.push(frames)
        return True

    def xhas_out(self) -> bool:
        return True

    def xrecv(self) -> Optional[List[Any]]:
        fq = self.fq
        if self.passes_all:
            return fq.take()
        subscriptions = self.subscriptions
        while True:
            msg = fq.take()
            if msg is None:
                return None
            first = msg[0]
            if type(first) is not bytes and type(first) is not bytearray:
                first = bytes(first)
            if subscriptions.has_prefix_of(first):
                return msg

    def xhas_in(self) -> bool:
        if self.passes_all:
            return self.fq.has_messages()
        # Drop leading messages that no subscription matches, so POLLIN is truthful.
        fq = self.fq
        while fq.has_messages():
            pipe = fq.ring[0]
            msg = pipe.inbound.items[0]
            first = msg[0]
            if type(first) is not bytes and type(first) is not bytearray:
                first = bytes(first)
            if self.subscriptions.has_prefix_of(first):
                return True
            fq.take()
        return False


class Sub(XSub):
    type_name = "SUB"
    filters = True

    def xsend(self, frames: List[Any]) -> bool:
        return SocketPattern.xsend(self, frames)

    def xhas_out(self) -> bool:
        return False

    def xsetsockopt(self, option: int, value: Any) -> bool:
        if option == SocketOption.SUBSCRIBE:
            self.subscribe(value)
            return True
        if option == SocketOption.UNSUBSCRIBE:
            self.unsubscribe(value)
            return True
        return False
