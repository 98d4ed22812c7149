"""One OS stream connection (tcp or ipc) driven by a sans-IO ZMTP connection.

Theory of operation
-------------------
Lives entirely in the I/O thread.  From construction it writes its greeting, reads the
peer's, and lets :class:`~puremq.zmtp.ZmtpConnection` run the handshake.  When the
handshake completes it is given a pipe (a new one on the bind side; the dialer's lasting
one on the connect side) and from then on:

* **reading** -- ``recv`` up to a chunk (or ``recv_into`` the body buffer of a large frame),
  decode every complete message in it and append them to the pipe's inbound lane in one
  ``extend``; the application is woken once per batch.  When the lane reaches its
  high-water mark, reading stops until the application drains it to the low-water mark
  (TCP back-pressure does the rest).
* **writing** -- :meth:`flush` takes every message queued on the outbound lane (up to a
  batch), encodes them into a few segments and writes them with one ``sendmsg``; large
  bodies are segments of their own, never copied.  On EAGAIN it waits for writability
  with the rest; when the lane is empty it stops asking.

Any fault closes the connection; what happens next (reconnect, detach the pipe) is the
owner's decision (:class:`~puremq.engine.endpoints.Dialer` or the bind side's socket).
"""

from __future__ import annotations

import errno as _errno
import socket
import sys
import threading
import time
from functools import partial
from typing import TYPE_CHECKING, Any, List, Optional

from ..constants import Event, SocketOption
from ..routing.broadcast import BroadcastLog, LogCursor
from ..zmtp.connection import (ConnectionFailed, HandshakeComplete, PingReceived,
                               ZmtpConnection, null_metadata)
from ..zmtp.inbox import ALONE_NONE, PlainInbox, ping_frames, whole_message
from ..zmtp.mechanisms.null import NullMechanism
from .reactor import ERROR, READ, WRITE, Reactor, Timer

if TYPE_CHECKING:
    from ..routing.pipe import Pipe
    from .socket_engine import SocketEngine

#: The most one read asks for.  Just under 128 KiB on CPython: ``recv`` allocates the
#: whole size before it shrinks the result to what arrived, and 128 KiB is glibc's initial
#: mmap threshold (musl's is a little less).  Until glibc raises its threshold (after the
#: first free of a mapped block, which shrinking does not count as), a read of 128 KiB
#: mapped and unmapped fresh pages every time: 20 us against 4 us per small message read,
#: measured with a socketpair in a fresh CPython.
#:
#: 16 KiB on PyPy, where decoding a stream in large pieces is slower: the frame decoder
#: alone took 1 KiB frames at 2.3-2.4M a second from 124 KiB pieces against 3.7-4.3M from
#: 16 KiB pieces (CPython: the same either way), and bench/run.py's PyPy throughput rows
#: of 1 KiB to 64 KiB gained 28-118% (bench/RESULTS.md, "A faster machine").
_LARGE_READ = (128 - 4) << 10
READ_CHUNK = (16 << 10) if sys.implementation.name == "pypy" else _LARGE_READ
READS_PER_EVENT = 8
#: While the owner holds a read it has not received all of (zmtp.inbox), the I/O thread
#: reads on behind it to answer PINGs, up to this many bytes; then it stops, as at a full
#: high-water mark (the same on PyPy, whose reads are smaller).
READ_BEHIND_MAX = 4 * _LARGE_READ
WRITE_BATCH = 1 << 18
FLUSH_FAIRNESS = 1 << 22
#: A message that finds its connection idle is written by the sending thread itself when
#: the previous such write is at least this old (seconds); closer together, messages are
#: streaming and the I/O thread batches them into one write instead.  A receive that waits
#: for a message ends any stream (SocketEngine.recv_waiting sets the last kick long ago):
#: a reply or the next request is written at once however short the round trip.
DIRECT_WRITE_GAP = 50e-6
#: An owner thread that reads its connection itself gives reading back to the I/O thread
#: after this long without reading (seconds).  It bounds how late a PING is answered and
#: a lost peer noticed while the owner reads nothing (a libzmq peer with HEARTBEAT_IVL 50
#: and HEARTBEAT_TIMEOUT 250 ms stays connected: tests/interop/test_plain_receive.py; a
#: timeout near this delay would not), and it decides whether an owner that goes round many
#: sockets keeps reading each itself: 1,000 DEALERs taking turns came back to each every
#: ~25 ms, so at 20 ms every connection went back to the I/O thread between turns (one
#: more thread, and the GIL, on every message): 36.6k -> 39.9k round trips/s at 50 ms.
APP_READ_RECLAIM = 0.05
#: The same for one of several peers: the others' messages keep the owner busy without
#: reading this one, so it must not wait long for the I/O thread to read it again.
APP_READ_RECLAIM_SHARED = 0.002
#: Reclaims longer than this are checked by one sweep of the I/O thread this often
#: (engine/sweep.py), not by a timer per connection: an owner going round 1,000 sockets
#: kept 20,000 timers a second firing, each finding it had read meanwhile.
READ_RECLAIM_SWEEP = APP_READ_RECLAIM / 2

_monotonic = time.monotonic


class StreamConnection:
    def __init__(self, engine: "SocketEngine", sock: socket.socket, endpoint: str,
                 owner: Any) -> None:
        self.engine = engine
        self.reactor: Reactor = engine.reactor
        self.sock = sock
        self.fd = sock.fileno()
        self.endpoint = endpoint
        #: the Dialer or Listener this connection belongs to
        self.owner = owner
        options = engine.options
        type_name = engine.pattern.type_name
        identity = options[SocketOption.ROUTING_ID] or b""
        self.zmtp = ZmtpConnection(
            type_name, NullMechanism(null_metadata(type_name, identity)),
            maxmsgsize=options[SocketOption.MAXMSGSIZE], body_type=engine.body_type)
        self.pipe: Optional["Pipe"] = None
        self.handshaken = False
        self.closed = False
        self.read_paused = False
        self.want_write = False
        self.lingering = False
        #: the poller reported a hang-up or an error (see _update_interest), and whether
        #: the connection has left the poller for it
        self.hung_up = False
        self._left_poller = False
        self.out_segments: List[Any] = []
        #: the segments of the write in progress, whole: a zero-copy body stays referenced
        #: (and its MessageTracker pending) until the kernel has all of it
        self._inflight: List[Any] = []
        self.converts_subscriptions = engine.pattern.sends_subscriptions
        self.failure: Optional[ConnectionFailed] = None
        self._handshake_timer: Optional[Timer] = None
        self._heartbeat_timer: Optional[Timer] = None
        self._ttl_timer: Optional[Timer] = None
        self._linger_timer: Optional[Timer] = None
        self.last_rx = 0.0
        self.track_rx = False
        self._reclaim_after = APP_READ_RECLAIM
        #: the next message this (I/O) thread queues for the owner comes with the offer to
        #: read the connection itself (SocketEngine.retake_reading): an owner that finds
        #: what this thread read already queued at every call never waits, and so would
        #: never take reading over (the replies to a DEALER's requests, sent before it
        #: reads any, would each cost this thread a wake-up and the owner a GIL hand-over
        #: for good).  Made at the handshake and when reading is taken back from the owner.
        self.offer_reading = False
        self._read_sweep = engine.reactor.sweep(READ_RECLAIM_SWEEP)
        #: Serialises everything that touches the OS socket and the ZMTP state: the I/O
        #: thread holds it in every handler; an application thread holds it while it
        #: writes or reads the connection itself (kick, app_read).  Re-entrant because
        #: handlers call each other (a read that fails closes).
        self.io_lock = threading.RLock()
        #: the owning application thread reads the connection itself (the I/O thread has
        #: dropped its read interest meanwhile)
        self.app_reading = False
        self._app_read_at = 0.0
        #: the owner holds bytes read from here but not yet decoded (zmtp.inbox): what is
        #: read meanwhile (behind them, for PINGs) is decoded only after them (take_back)
        self.inbox_held = False
        #: the reclaim timer found the owner holding bytes and stopped: the owner starts
        #: it again when it gives them back (take_back)
        self._reclaim_parked = False
        #: the bytes of the owner's last read into its inbox (to find where their last
        #: whole frame ends)
        self._inbox_bytes: Optional[bytes] = None
        #: reading behind the bytes the owner holds: what was read after them, PINGs taken
        #: out (None when not), the frame the owner's bytes end inside of, and where the
        #: scan for PINGs goes on (an offset into cut + behind)
        self._behind: Optional[bytearray] = None
        self._behind_cut = b""
        self._behind_scanned = 0
        self._behind_stopped = False
        #: set when an application thread hit a fault; the I/O thread closes soon
        self.broken = False
        #: frames go out as the encoder makes them (the NULL mechanism): a publisher may
        #: hand this connection messages framed once for all its subscribers
        self.shares_frames = True
        #: this connection's place in its publisher's shared log (routing/broadcast.py)
        #: while it writes from there; None when it writes only from its lane
        self.log_cursor: Optional[LogCursor] = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        with self.io_lock:
            self._start()

    def _start(self) -> None:
        self.reactor.register(self.fd, READ, self._on_events)
        ivl = self.engine.options[SocketOption.HANDSHAKE_IVL]
        if ivl > 0:
            self._handshake_timer = self.reactor.call_later(ivl / 1000.0,
                                                            self._handshake_timeout)
        self._write_pending_output()

    def terminate(self) -> None:
        """Close from any thread (ROUTER_HANDOVER, PAIR refusing a second peer)."""
        self.reactor.post(self.close)

    def close(self, failure: Optional[ConnectionFailed] = None) -> None:
        if self.closed:
            return
        if not self.reactor.in_io_thread():
            # an application thread found the fault while doing its own I/O: the closing
            # (timers, reconnect, the owner's tables) belongs to the I/O thread
            if failure is not None and self.failure is None:
                self.failure = failure
            self.broken = True
            self.reactor.post(lambda: self.close(failure))
            return
        with self.io_lock:
            self._close(failure)

    def _close(self, failure: Optional[ConnectionFailed]) -> None:
        if self.closed:
            return
        self.closed = True
        if failure is not None:
            self.failure = failure
        for timer in (self._handshake_timer, self._heartbeat_timer, self._ttl_timer,
                      self._linger_timer):
            if timer is not None:
                timer.cancel()
        self.reactor.unregister(self.fd)
        try:
            self.sock.close()
        except OSError:
            pass
        if failure is not None:
            # libzmq reports DISCONNECTED for a connection lost, not for one we closed
            self.engine.emit(Event.DISCONNECTED, self.fd, self.endpoint)
        self.owner.stream_closed(self)
        if self.lingering:
            self.engine.lingering_done(self)

    def shutdown(self, linger_ms: int) -> None:
        """The socket is closing: send what is queued within LINGER, then close."""
        with self.io_lock:
            self._shutdown(linger_ms)

    def _shutdown(self, linger_ms: int) -> None:
        if self.closed:
            return
        if linger_ms == 0 or not self.handshaken or self.pipe is None:
            self.close()
            return
        self.lingering = True
        self.engine.lingering_started(self)
        self._pause_reading()
        if linger_ms > 0:
            self._linger_timer = self.reactor.call_later(linger_ms / 1000.0, self.close)
        self.flush()

    def _handshake_timeout(self) -> None:
        with self.io_lock:
            self._handshake_timed_out()

    def _handshake_timed_out(self) -> None:
        if not self.handshaken and not self.closed:
            # the value is errno, as libzmq's: EAGAIN is what it holds when the timer fires
            self.engine.emit(Event.HANDSHAKE_FAILED_NO_DETAIL, _errno.EAGAIN, self.endpoint)
            self.close(ConnectionFailed("handshake timed out", 0, _errno.ETIMEDOUT, True))

    # -- readiness ----------------------------------------------------------------------
    def _on_events(self, mask: int) -> None:
        with self.io_lock:
            if mask == READ and self.handshaken and not (self.read_paused or self.app_reading):
                self._read_available()  # (nearly every event: messages arrived)
            else:
                self._handle_events(mask)

    def _handle_events(self, mask: int) -> None:
        if mask & ERROR:
            self.hung_up = True
        if mask & READ and not self.read_paused:
            if not self.app_reading:
                self._on_readable()
            elif self._behind is not None:
                self._read_behind()
        if mask & WRITE and not self.closed:
            if self.handshaken:
                self.flush()
            else:
                self._write_pending_output()
        if self.hung_up and not self.closed:
            self._update_interest()

    def _update_interest(self) -> None:
        if self.closed:
            return
        reading = not self.read_paused and (
            not self.app_reading
            or (self._behind is not None and not self._behind_stopped))
        events = (READ if reading else 0) | (WRITE if self.want_write else 0)
        if self.hung_up:
            # epoll reports a hang-up or an error whatever the interest, for as long as it
            # lasts: a connection that will neither read nor write now (reading paused at
            # the high-water mark, or the owner's) leaves the poller until it will, or the
            # I/O thread would spin on it; what the peer sent before is read then
            if not events:
                if not self._left_poller:
                    self._left_poller = True
                    self.reactor.unregister(self.fd)
                return
            if self._left_poller:
                self._left_poller = False
                self.reactor.register(self.fd, events, self._on_events)
                return
        self.reactor.modify(self.fd, events)

    # -- reading ------------------------------------------------------------------------
    def _on_readable(self) -> None:
        if not self.handshaken:
            self._read_handshake()
        else:
            self._read_available()

    def _read_handshake(self) -> None:
        sock = self.sock
        zmtp = self.zmtp
        for _round in range(READS_PER_EVENT):
            try:
                data = sock.recv(READ_CHUNK)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                self._peer_closed(exc)
                return
            if not data:
                self._peer_closed()
                return
            items = zmtp.receive_data(data)
            zmtp.had_events = False
            if items:
                self._deliver_mixed(items)
            if self.closed or self.handshaken or len(data) < READ_CHUNK:
                break
        if self.handshaken and not self.closed:
            self._read_available()
        elif not self.closed and zmtp.pending_output:
            self._write_pending_output()

    def _deliver(self, messages: list) -> None:
        pipe = self.pipe
        if pipe is None or self.lingering:
            return
        lane = pipe.inbound
        items = lane.items
        if lane.conflate:
            items.clear()
            items.append(messages[-1])
        else:
            items.extend(messages)
        if not lane.signaled:
            lane.signaled = True
            if self.offer_reading and not self.app_reading:
                self.offer_reading = False
                # (a command, not a wake-up: only a call of the owner's can take it)
                self.engine.pattern.commands.append(partial(self.engine.retake_reading, self))
            lane.on_items()
        if lane.hwm and len(items) >= lane.hwm:
            lane.waiting = True
            if len(items) > lane.lwm:
                self._pause_reading()
            else:
                lane.waiting = False

    def _deliver_items(self, items: list) -> None:
        """Deliver what ZmtpConnection.receive_data returned (messages, maybe events)."""
        if items:
            zmtp = self.zmtp
            if zmtp.had_events:
                zmtp.had_events = False
                self._deliver_mixed(items)
            else:
                self._deliver(items)

    def _deliver_mixed(self, items: list) -> None:
        batch: list = []
        for item in items:
            if type(item) is list:
                batch.append(item)
                continue
            if batch:
                self._deliver(batch)
                batch = []
            if isinstance(item, HandshakeComplete):
                self._handshake_done(item)
            elif isinstance(item, PingReceived):
                self._peer_ping(item.ttl)
            elif isinstance(item, ConnectionFailed):
                self._protocol_failure(item)
                return
        if batch:
            self._deliver(batch)

    def _pause_reading(self) -> None:
        if not self.read_paused:
            self.read_paused = True
            self._update_interest()

    def resume_reading(self) -> None:
        with self.io_lock:
            self._resume_reading()

    def _resume_reading(self) -> None:
        if self.closed or not self.read_paused or self.lingering:
            return
        self.read_paused = False
        self._update_interest()

    def _peer_closed(self, exc: Optional[OSError] = None) -> None:
        reason = "peer closed the connection" if exc is None else str(exc)
        if not self.handshaken and not self.closed:
            # libzmq: a connection lost before the handshake ended is a handshake failure
            # (value: errno; EPIPE for an orderly close by the peer)
            code = (exc.errno if exc is not None else 0) or _errno.EPIPE
            self.engine.emit(Event.HANDSHAKE_FAILED_NO_DETAIL, code, self.endpoint)
        self.close(ConnectionFailed(reason, 0, exc.errno if exc else 0, not self.handshaken))

    def _protocol_failure(self, failure: ConnectionFailed) -> None:
        if failure.during_handshake:
            reason = failure.peer_error
            if reason is None:
                self.engine.emit(Event.HANDSHAKE_FAILED_PROTOCOL, failure.code, self.endpoint)
            elif len(reason) == 3 and reason[1:] == b"00" and reason[:1] in b"345":
                # libzmq: an ERROR whose reason is a ZAP status code ("300", "400", "500")
                # is an authentication failure; any other reason is no handshake event.
                self.engine.emit(Event.HANDSHAKE_FAILED_AUTH, int(reason), self.endpoint)
        # An ERROR for the peer (incompatible socket type) is worth a try before closing.
        if self.zmtp.pending_output:
            try:
                self.sock.sendmsg(self.zmtp.data_to_send())
            except OSError:
                pass
        self.close(failure)

    # -- handshake ---------------------------------------------------------------------
    def _handshake_done(self, event: HandshakeComplete) -> None:
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
            self._handshake_timer = None
        self.handshaken = True
        self.engine.emit(Event.HANDSHAKE_SUCCEEDED, 0, self.endpoint)
        pipe = self.owner.stream_ready(self, event)
        if pipe is None:
            self.close()
            return
        self.pipe = pipe
        self.offer_reading = True
        self._start_heartbeats()
        self.flush()

    # -- heartbeats ----------------------------------------------------------------------
    def _start_heartbeats(self) -> None:
        ivl = self.engine.options[SocketOption.HEARTBEAT_IVL]
        if ivl > 0:
            self.track_rx = True
            self.last_rx = _monotonic()
            self._heartbeat_timer = self.reactor.call_later(ivl / 1000.0, self._heartbeat)

    def _heartbeat(self) -> None:
        with self.io_lock:
            self._send_heartbeat()

    def _send_heartbeat(self) -> None:
        if self.closed:
            return
        options = self.engine.options
        ivl = options[SocketOption.HEARTBEAT_IVL]
        timeout = options[SocketOption.HEARTBEAT_TIMEOUT]
        if timeout < 0:
            timeout = ivl
        if _monotonic() - self.last_rx > (ivl + timeout) / 1000.0:
            self.close(ConnectionFailed("heartbeat timed out", 0, _errno.ETIMEDOUT, False))
            return
        self.zmtp.send_ping(options[SocketOption.HEARTBEAT_TTL])
        self.flush()
        self._heartbeat_timer = self.reactor.call_later(ivl / 1000.0, self._heartbeat)

    def _peer_ping(self, ttl_ms: int) -> None:
        if ttl_ms <= 0:
            return
        self.track_rx = True
        if self._ttl_timer is not None:
            self._ttl_timer.cancel()
        deadline = ttl_ms / 1000.0

        def check() -> None:
            if not self.closed and _monotonic() - self.last_rx >= deadline:
                self.close(ConnectionFailed("peer's heartbeat TTL expired", 0,
                                            _errno.ETIMEDOUT, False))
        self._ttl_timer = self.reactor.call_later(deadline, check)

    @property
    def current_stream(self) -> Optional["StreamConnection"]:
        """Itself while handshaken and open (what a pipe's peer offers to direct reads)."""
        if self.handshaken and not self.closed and not self.broken:
            return self
        return None

    # -- the application thread doing the I/O itself --------------------------------------
    def kick(self) -> None:
        """The outbound lane went from idle to busy (called by the sending thread).

        A message that finds the connection idle after a pause or after a receive that
        waited (a request, a reply, a sparse publisher; see DIRECT_WRITE_GAP) is encoded
        and written right here, in the sender's thread: no
        wake-up of the I/O thread, no hand-over of the GIL, one syscall.  Messages that
        follow each other closely go through the I/O thread, which batches them.  Whatever
        the direct write cannot finish (the kernel buffer is full) is left to the I/O
        thread, which waits for the socket to become writable.  A forwarding loop that
        writes its connections itself after each burst (``engine.owner_flushes``) only
        has the connection noted.
        """
        # the gap is the socket's, not this connection's: a PUB kicks all its subscribers'
        # connections per message, and writing each of them directly would make every
        # message cost a syscall per subscriber (and the time those take would then keep
        # the gaps long enough for direct writes: a slow mode that sustains itself)
        engine = self.engine
        if engine.owner_flushes:
            engine.unflushed.append(self)
            return
        now = _monotonic()
        gap = now - engine.last_kick
        engine.last_kick = now
        if (gap >= DIRECT_WRITE_GAP and self.handshaken and not self.closed
                and not self.broken and not self.out_segments
                and self.io_lock.acquire(False)):
            try:
                self._flush()  # a lone small message: framed as one object, one send
                done = not self.out_segments and not self.want_write
            finally:
                self.io_lock.release()
            # the gap leaves out the write's own time (as wake_log's): a syscall slower
            # than the gap must not make every message of a stream a direct write
            engine.last_kick = _monotonic()
            if done:
                return
        self.reactor.schedule_flush(self)

    def write_direct(self, wait: float = 0.0) -> bool:
        """The owner thread writes what is queued (its send would block otherwise); False
        if the I/O thread is busy with this connection right now (for up to ``wait``
        seconds: the I/O thread may hold the lock while it waits for the GIL)."""
        if self.broken:
            return False
        if not (self.io_lock.acquire(True, wait) if wait > 0 else self.io_lock.acquire(False)):
            return False
        try:
            self._flush()
        finally:
            self.io_lock.release()
        return True

    def forward_framed(self, data: bytes) -> bool:
        """A forwarding loop (the proxy) hands over whole single-part messages exactly as
        another connection read them, framed: written now, in this thread.  Refused
        (False, nothing taken) unless nothing else waits to go out before them -- no
        message queued, nothing the kernel did not take yet -- and the I/O thread is not
        busy with the connection; the caller then queues them as messages, through the
        high-water mark.  So at most one such batch is ever buffered past the mark."""
        if self.broken or not self.io_lock.acquire(False):
            return False
        try:
            pipe = self.pipe
            if (self.closed or pipe is None or pipe.outbound.items or self.out_segments
                    or self.want_write or self.lingering or self.zmtp.pending_output):
                return False
            self.zmtp.send_framed(data)
            self._flush()
            return True
        finally:
            self.io_lock.release()

    def app_read(self, reclaim_after: float = APP_READ_RECLAIM,
                 inbox: Optional[PlainInbox] = None, alone: int = ALONE_NONE) -> bool:
        """The owning thread, about to wait for a message, reads the connection itself.

        Takes over reading from the I/O thread (whose read interest is dropped until
        :meth:`end_app_read`, or until the owner has not read for ``reclaim_after``
        seconds) and reads whatever the kernel holds; True if anything at all was read
        (messages may now be in the pipe, or bytes in ``inbox``), False if the caller
        should wait for the socket to become readable.

        With an ``inbox`` (empty), one read at a message boundary goes into it undecoded;
        the owner parses plain messages out of it and gives the rest back (take_back).  A
        read that is exactly one message of the kind ``alone`` names (zmtp.inbox's
        whole_message) goes to ``inbox.alone`` instead, for the owner to hand out now.
        """
        with self.io_lock:
            if self.closed or self.broken or not self.handshaken or self.read_paused:
                return False
            self._app_read_at = _monotonic()
            self._reclaim_after = reclaim_after
            if not self.app_reading:
                self.app_reading = True
                self._update_interest()
                self._watch_reclaim(reclaim_after)
            pipe = self.pipe
            if inbox is not None and pipe is not None and not pipe.inbound.items:
                # (with messages queued, which the I/O thread may have delivered just
                # before this thread took over, the inbox would jump the queue)
                held = self.zmtp.take_unparsed()
                if held is not None:
                    return self._read_into_inbox(inbox, held, alone)
            return self._read_available()

    def _read_into_inbox(self, inbox: PlainInbox, held: bytes, alone: int) -> bool:
        """One read into the inbox, after ``held`` (the start of a frame the decoder had)."""
        try:
            data = self.sock.recv(READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            data = None
        except OSError as exc:
            self.zmtp.receive_data(held)
            self._peer_closed(exc)
            return True
        if not data:
            self.zmtp.receive_data(held)  # back where it was: nothing can come of it
            if data is None:
                return False
            self._peer_closed()
            return True
        if self.track_rx:
            self.last_rx = _monotonic()
        if held:
            data = held + data
        elif alone:
            body = whole_message(data, alone)
            if body is not None:
                inbox.alone = body
                return True
        inbox.fill(data, self)
        self._inbox_bytes = data
        self.inbox_held = True
        return True

    def take_back(self, rest: bytes) -> None:
        """The owner gives back what it did not parse out of its inbox: decoded and
        delivered now, as if just read (commands answered, messages queued in order)."""
        with self.io_lock:
            self.inbox_held = False
            self._inbox_bytes = None
            behind = self._behind
            if behind is not None:
                self._behind = None
                self._behind_cut = b""
                self._behind_stopped = False
                self._update_interest()
                if behind:
                    rest = bytes(rest) + bytes(behind)
            if self._reclaim_parked:
                self._reclaim_parked = False
                self._watch_reclaim(
                    max(0.0, self._reclaim_after - (_monotonic() - self._app_read_at)))
            if not rest or self.closed:
                return
            zmtp = self.zmtp
            self._deliver_items(zmtp.receive_data(rest))
            if not self.closed and not self.broken and zmtp.pending_output:
                self._flush()

    def _watch_reclaim(self, delay: float) -> None:
        """(io_lock held) Have the I/O thread look at the owner's reading in ``delay``
        seconds: by the reactor's sweep for the usual delay, by a timer for a short one."""
        if self._reclaim_after > READ_RECLAIM_SWEEP:
            self._read_sweep.add(self)
        else:
            self.reactor.call_later(delay, self._reclaim_reading)

    def _reclaim_reading(self) -> None:
        """I/O thread, a timer: see _reclaim_due."""
        with self.io_lock:
            wait = self._reclaim_due(_monotonic())
            if wait is not None:
                self.reactor.call_later(wait, self._reclaim_reading)

    def sweep_check(self, now: float) -> None:
        """I/O thread, the reactor's sweep: see _reclaim_due."""
        if (now - self._app_read_at < self._reclaim_after and self.app_reading
                and not self.inbox_held):
            return  # (read without the lock: the owner read lately, the usual case)
        with self.io_lock:
            if self._reclaim_due(now) is None:
                self._read_sweep.discard(self)

    def _reclaim_due(self, now: float) -> Optional[float]:
        """(I/O thread, io_lock held) Take reading back from an owner that stopped
        reading a while ago (so PINGs are answered and a lost peer is noticed even if it
        never reads again).  Returns the seconds left while the owner still reads; None
        once there is nothing more to watch."""
        if not self.app_reading or self.closed:
            return None
        if self.inbox_held:
            # bytes the owner holds come before anything read now: reading stays the
            # owner's, and this thread only reads on behind them (PINGs).  Not watched
            # meanwhile (take_back starts again): a thousand such sockets looked at
            # every few ms would keep this thread busy.
            self._reclaim_parked = True
            self._start_reading_behind()
            return None
        idle = now - self._app_read_at
        if idle < self._reclaim_after:
            return self._reclaim_after - idle
        self.app_reading = False
        self._update_interest()
        self.offer_reading = True
        return None

    def _start_reading_behind(self) -> None:
        """I/O thread, the owner holding bytes: read on behind them, so that a peer's PINGs
        are answered (libzmq answers them, the unreceived messages being in its pipe)."""
        data = self._inbox_bytes
        if self._behind is not None or data is None or self.closed or self.broken:
            return
        self._behind_cut = data[ping_frames(data)[1]:]
        self._behind = bytearray()
        self._behind_scanned = 0
        self._behind_stopped = False
        self._update_interest()

    def _read_behind(self) -> None:
        """Read what follows the owner's bytes; answer the PINGs in it and keep the rest,
        in order, for the owner's take_back.  The end of the stream is left to be found
        again by whoever reads after that (it stays readable)."""
        behind = self._behind
        assert behind is not None
        try:
            data = self.sock.recv(READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._behind_stopped = True
            self._update_interest()
            return
        if self.track_rx:
            self.last_rx = _monotonic()
        behind += data
        cut = self._behind_cut
        scan = cut + behind if cut else behind
        pings, self._behind_scanned = ping_frames(scan, self._behind_scanned, len(cut))
        if pings:
            zmtp = self.zmtp
            items: list = []
            for start, stop in pings:  # each a whole command at a frame boundary
                items += zmtp.receive_data(bytes(scan[start:stop]))
            for start, stop in reversed(pings):
                del behind[start - len(cut):stop - len(cut)]
            self._behind_scanned -= sum(stop - start for start, stop in pings)
            self._deliver_items(items)
            if not self.closed and not self.broken and zmtp.pending_output:
                self._flush()
        if len(behind) >= READ_BEHIND_MAX and not self._behind_stopped:
            self._behind_stopped = True
            self._update_interest()

    def end_app_read(self) -> None:
        """Give reading back to the I/O thread."""
        with self.io_lock:
            if self.app_reading:
                self.app_reading = False
                self._update_interest()

    def _read_available(self) -> bool:
        """Read and deliver until the kernel has nothing more (bounded); True if read."""
        sock = self.sock
        zmtp = self.zmtp
        got = answered = False
        for _round in range(READS_PER_EVENT):
            body = zmtp.body_buffer()
            try:
                if body is not None:
                    received = sock.recv_into(body)
                    if received == 0:
                        self._peer_closed()
                        return True
                    items = zmtp.body_received(received)
                    full_read = True
                else:
                    data = sock.recv(READ_CHUNK)
                    if not data:
                        self._peer_closed()
                        return True
                    items = zmtp.receive_data(data)
                    full_read = len(data) == READ_CHUNK
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                self._peer_closed(exc)
                return True
            got = True
            if self.track_rx:
                self.last_rx = _monotonic()
            if zmtp.had_events:
                # commands among them: a PING's PONG (or an ERROR) may wait to go out
                answered = True
                self._deliver_items(items)
            elif items:
                self._deliver(items)
            if self.closed or self.broken or self.read_paused or not full_read:
                break
        if answered and not self.closed and not self.broken and zmtp.pending_output:
            self._flush()
        return got

    # -- writing ------------------------------------------------------------------------
    def _want_writable(self) -> None:
        if not self.want_write:
            self.want_write = True
            self._update_interest()

    def _write_pending_output(self) -> None:
        """Before the handshake completes: greeting and handshake commands only."""
        if self.closed:
            return
        if not self.out_segments:
            self.out_segments = self.zmtp.data_to_send()
        if self.out_segments and self._send_segments() and self.want_write:
            self.want_write = False
            self._update_interest()

    def _send_segments(self) -> bool:
        """Write out_segments; True when all are written."""
        segments = self.out_segments
        single = len(segments) == 1
        try:
            sent = self.sock.send(segments[0]) if single else self.sock.sendmsg(segments)
        except (BlockingIOError, InterruptedError):
            self._want_writable()
            return False
        except OSError as exc:
            self._peer_closed(exc)
            return False
        if single and sent == len(segments[0]):  # the usual write: all of one segment
            self.out_segments = []
            self._inflight = []
            return True
        index = 0
        count = len(segments)
        while index < count:
            size = len(segments[index])
            if sent < size:
                break
            sent -= size
            index += 1
        if index == count:
            self.out_segments = []
            self._inflight = []
            return True
        if not self._inflight:
            self._inflight = segments
        rest = segments[index:]
        if sent:
            rest[0] = memoryview(rest[0])[sent:]
        self.out_segments = rest
        self._want_writable()
        return False

    def flush(self) -> None:
        """Encode and write what the outbound lane holds (the reactor's flush entry point)."""
        with self.io_lock:
            self._flush()

    def _flush(self) -> None:
        if self.closed or self.pipe is None:
            return
        if self.out_segments and not self._send_segments():
            return
        lane = self.pipe.outbound
        items = lane.items
        zmtp = self.zmtp
        if len(items) == 1 and self.log_cursor is None and not self.converts_subscriptions:
            # one small message (a reply of a ROUTER serving many peers, a request): framed
            # as one object and sent as it is, as kick's direct write does
            data = zmtp.frame_alone(items[0])
            if data is not None:
                items.popleft()
                if lane.waiting:
                    lane.took()
                try:
                    sent = self.sock.send(data)
                except (BlockingIOError, InterruptedError):
                    sent = 0
                except OSError as exc:
                    self._peer_closed(exc)
                    return
                if sent < len(data):  # the kernel's buffer is full: the rest waits
                    self.out_segments = [memoryview(data)[sent:]]
                    self._want_writable()
                    return
                if not items and lane.idle():
                    if self.want_write or self.lingering:
                        self._written_out()
                    return
        written = 0
        while True:
            cursor = self.log_cursor
            if cursor is not None:
                data = cursor.take_joined()
                if data:
                    zmtp.send_shared(data)
                if cursor.finished:
                    self.log_cursor = cursor = None
            # a cursor leaving the log has entries to write before what its lane holds
            # (its stop is set before anything is queued on the lane; a cursor joins only
            # once the lane is empty)
            if items and (cursor is None or cursor.stop is None):
                if self.converts_subscriptions:
                    self._encode_converting(items)
                else:
                    zmtp.send_messages(items, WRITE_BATCH)
                if lane.waiting and len(items) <= lane.lwm:
                    lane.waiting = False
                    lane.on_space()
            segments = zmtp.data_to_send()
            if not segments:
                if items:
                    continue
                if lane.idle():
                    self._written_out()
                    return
                continue
            self.out_segments = segments
            written += sum(len(s) for s in segments)
            if not self._send_segments():
                return
            if written >= FLUSH_FAIRNESS:
                self.reactor.schedule_flush(self)
                return

    def _written_out(self) -> None:
        """Everything queued is written and the lane has gone idle."""
        if self.want_write:
            self.want_write = False
            self._update_interest()
        if self.lingering:
            self.close()

    def join_log(self, cursor: LogCursor) -> bool:
        """Write from the publisher's shared log at ``cursor`` from now on (the sending
        thread).  Refused while another thread is writing this connection (a writer must
        never see the cursor appear between deciding what comes first and taking it), or
        while something queued before (the lane, an earlier stay in the log) is unwritten."""
        if not self.io_lock.acquire(False):
            return False
        try:
            pipe = self.pipe
            if self.log_cursor is not None or pipe is None or pipe.outbound.items:
                return False
            self.log_cursor = cursor
            return True
        finally:
            self.io_lock.release()

    def wake_log(self, log: BroadcastLog) -> None:
        """The publisher's shared log ``log`` went from written out to holding entries
        (the sending thread; this is its first cursor's connection).  As kick does for
        one connection: a publisher that was idle writes its subscribers itself, now;
        one in a stream of messages leaves them to the I/O thread, which batches.  The gap
        is measured without the time these writes take, so they cannot keep it long."""
        engine = self.engine
        now = _monotonic()
        gap = now - engine.last_kick
        engine.last_kick = now
        if gap < DIRECT_WRITE_GAP or engine.owner_flushes:
            self.reactor.schedule_flush(log)
            return
        log.signaled = False
        for cursor in log.cursors:
            stream = cursor.pipe.peer
            if not stream.write_direct():  # the I/O thread is busy with it: its turn
                stream.reactor.schedule_flush(stream)
        engine.last_kick = _monotonic()

    def _encode_converting(self, items: Any) -> None:
        """SUB/XSUB: single-frame 0x00/0x01 messages are (un)subscriptions on the wire."""
        zmtp = self.zmtp
        while items and zmtp.pending_output < WRITE_BATCH:
            msg = items.popleft()
            if len(msg) == 1 and len(msg[0]) > 0 and msg[0][0] in (0, 1):
                frame = bytes(msg[0])
                zmtp.send_subscription(frame[1:], frame[0] == 1)
            else:
                zmtp.send_message(msg)
