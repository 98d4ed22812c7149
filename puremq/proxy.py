"""zmq.proxy, zmq.proxy_steerable and zmq.device: forward whole messages between two sockets.

Theory of operation
-------------------
The proxy runs in the thread that owns its sockets and works on the socket types' patterns
directly (``xrecv``/``xsend``, whole multipart messages), as libzmq's proxy works below its
socket API:

* **forwarding** -- for each direction, take up to a burst of messages from the source and
  hand each to the destination.  A message the destination cannot take (every peer at its
  high-water mark) is held -- at most one per direction -- and nothing more is read from that
  source until it has gone: the source's queues fill in turn and its peers feel the
  back-pressure, so high-water marks hold on both sides and no message is split or lost.
* **capture** -- each forwarded message is also sent, whole, to the capture socket (blocking
  if it must, as libzmq's proxy does).
* **waiting** -- when neither direction can move, arm the sockets' wake-up fds, look once
  more, then sleep in one poll(2) on the fds that matter: a source's when waiting for
  input, a destination's when waiting for room, the control socket's always.
* **its own I/O** -- the proxy's thread does the socket I/O that the I/O thread would
  otherwise do between it and the wire: it writes the destinations' connections itself
  after each burst (``SocketEngine.owner_flushes``: one write per burst, no wake-up of the
  I/O thread), and reads a source's only tcp/ipc peer itself when it would wait for it
  (``SocketEngine.read_sole_peer``), taking plain messages straight out of the bytes read
  (``zmtp.inbox``).  Under the GIL a second thread adds hand-overs, not parallelism: with
  both ends in one thread a busy proxy costs one thread's time and no wake-ups.  A source
  with several peers is read by the I/O thread as before, and so is a source the proxy
  is not waiting on (its direction holds a message the destination cannot take, or the
  proxy is paused), so that its messages queue up to its RCVHWM meanwhile, as in libzmq.
* **forwarding as read** -- without capture or control, the run of whole single-part
  messages at the front of what was read from a source goes to a destination's sole
  PUSH/DEALER/PAIR peer as the very bytes read, in one write, when nothing is queued for
  that peer (``StreamConnection.forward_framed``); anything else goes message by message.
  Proxy CPU per 128 B message (bench/proxy_bench.py): 1.9 us with the I/O thread in the
  middle, 1.25 us doing its own I/O, 0.55-0.8 us forwarding as read (libzmq: 1.1-2.1).
* **steering** (proxy_steerable) -- PAUSE stops forwarding (messages stay queued, so
  back-pressure reaches the peers), RESUME restarts it, TERMINATE returns 0, STATISTICS
  replies with eight u64 counters (frontend received count/bytes, frontend sent count/bytes,
  then the same for the backend; each part of a multipart message counts).  A REP control
  socket gets an empty reply to every other command, as REP requires; other types get none.
  libzmq 4.3.5 itself swaps PAUSE and RESUME and replies on every socket type; this follows
  its man page and the fix that came right after it (libzmq PR 4600).

The counters are kept only when there is a control socket: plain ``proxy`` does no
per-message arithmetic beyond the forwarding itself.
"""

from __future__ import annotations

import select as _select
import struct
from typing import Any, Dict, List, Optional

from .constants import Errno, SocketType
from .error import ContextTerminated, ZMQError
from .socket import Socket

__all__ = ["proxy", "proxy_steerable", "device"]

_BURST = 1000  # libzmq's proxy_burst_size
_POLLIN = _select.POLLIN
_ZMQ_POLLIN = 1  # zmq.POLLIN, as a plain int
_REP = int(SocketType.REP)
_U64 = struct.Struct("=Q")  # libzmq memcpy's the counters: the host's byte order
_ACTIVE, _PAUSED, _TERMINATED = 0, 1, 2
# The blocking socket methods, whatever the sockets' class (an asyncio socket's return
# futures): the proxy runs in its own thread and waits there.
_recv = Socket.recv
_send = Socket.send
_send_multipart = Socket.send_multipart
#: sockets that never have input: a direction reading from them never moves (libzmq never
#: sees POLLIN on them)
_SEND_ONLY = frozenset({int(SocketType.PUSH), int(SocketType.PUB)})


def _check_socket(sock: Any, name: str) -> None:
    if not (hasattr(sock, "_engine") and hasattr(sock, "_pattern")):
        raise TypeError(f"{name} must be a puremq Socket, not {type(sock).__name__}")
    if sock.closed:
        raise ZMQError(Errno.ENOTSOCK)


class _Direction:
    """One way through the proxy: source pattern -> destination pattern."""

    __slots__ = ("src", "dst", "src_engine", "dst_engine", "inbox", "pending", "count_in",
                 "count_out")

    def __init__(self, src: Any, dst: Any, count_in: int, count_out: int) -> None:
        self.src = src._pattern
        self.dst = dst._pattern
        self.src_engine = src._engine
        self.dst_engine = dst._engine
        #: what this thread read from the source's sole peer itself (SocketEngine.inbox)
        self.inbox = self.src_engine.inbox
        #: a message taken from the source that the destination could not take yet
        self.pending: Optional[List[Any]] = None
        #: where this direction's counters go in the STATISTICS array
        self.count_in = count_in
        self.count_out = count_out

    def pump(self, capture: Any, stats: Optional[List[int]]) -> bool:
        """Forward up to a burst; True if anything moved."""
        src, dst = self.src, self.dst
        if src.commands:
            src.process_commands()
        if dst.commands:
            dst.process_commands()
        xsend = dst.xsend
        moved = False
        msg = self.pending
        if msg is not None:
            if not xsend(msg):
                return False
            self.pending = None
            moved = True
        xrecv = src.xrecv
        if stats is None and capture is None:
            inbox = self.inbox
            if inbox.data is not None:
                # the run of plain messages at the front of what was read goes to a sole
                # plain peer as it is, bytes for bytes (no per-message work at all)
                stream = self.dst_engine.plain_forward_stream()
                if stream is not None:
                    start = inbox.pos
                    stop = inbox.plain_run_end()
                    if stop > start and stream.forward_framed(inbox.data[start:stop]):
                        inbox.pos = stop
                        moved = True
                # plain messages straight from the bytes read (zmtp.inbox); at the first
                # other thing the rest goes back to the decoder, and so to xrecv, in order
                next_frame = inbox.next_frame
                for _ in range(_BURST):
                    frame = next_frame()
                    if frame is None:
                        self.src_engine.return_inbox()
                        break
                    msg = [frame]
                    if not xsend(msg):
                        self.pending = msg
                        return moved
                    moved = True
                else:
                    return True
            for _ in range(_BURST):
                msg = xrecv()
                if msg is None:
                    return moved
                if not xsend(msg):
                    self.pending = msg
                    return moved
                moved = True
            return moved
        take = self.src_engine.take_message
        for _ in range(_BURST):
            msg = take()
            if msg is None:
                return moved
            if stats is not None:
                parts = len(msg)
                size = 0
                for frame in msg:
                    size += len(frame)
                i, o = self.count_in, self.count_out
                stats[i] += parts
                stats[i + 1] += size
                stats[o] += parts
                stats[o + 1] += size
            if capture is not None:
                _send_multipart(capture, list(msg), copy=False)
            if not xsend(msg):
                self.pending = msg
                return moved
            moved = True
        return moved


def _run(frontend: Any, backend: Any, capture: Any, control: Any) -> int:
    _check_socket(frontend, "frontend")
    _check_socket(backend, "backend")
    if capture is not None:
        _check_socket(capture, "capture")
    if control is not None:
        _check_socket(control, "control")
    same = frontend is backend
    # statistics layout (libzmq): frontend recv n/b, frontend sent n/b, backend recv n/b,
    # backend sent n/b
    stats: Optional[List[int]] = [0] * 8 if control is not None else None
    directions = []
    if frontend.socket_type not in _SEND_ONLY:
        directions.append(_Direction(frontend, backend, 0, 6))
    if not same and backend.socket_type not in _SEND_ONLY:
        directions.append(_Direction(backend, frontend, 4, 2))
    return relay(directions, [frontend, backend, capture, control], capture, control, stats)


def relay(directions: List[Any], sockets: List[Any], capture: Any = None,
          control: Any = None, stats: Optional[List[int]] = None) -> int:
    """The proxy's loop over ``directions`` (objects like :class:`_Direction`: ``pump``,
    ``pending``, ``src_engine``, ``dst_engine``, ``dst``); ``sockets`` are all the sockets
    involved (None entries allowed).  Returns 0 on TERMINATE; raises ContextTerminated
    when the context ends."""
    involved = [sock for sock in sockets if sock is not None]
    context = involved[0]._engine.context
    # This thread writes the destinations' connections itself after each burst (one
    # write per burst, no wake-up of the I/O thread), and reads a source's only peer
    # itself while it waits for it (SocketEngine.read_sole_peer).
    destinations = list({id(d.dst_engine): d.dst_engine for d in directions}.values())
    sources = list({id(d.src_engine): d.src_engine for d in directions}.values())
    for engine in destinations:
        engine.owner_flushes = True
    # (and decides alone when it reads a source: it hands a source whose messages it
    # cannot forward yet back to the I/O thread, which an offer to take reading back,
    # SocketEngine.retake_reading, would undo at the next burst)
    for engine in sources:
        engine.relaying = True
    try:
        return _relay_loop(directions, involved, context, capture, control, stats,
                           sources, destinations)
    finally:
        for engine in destinations:
            engine.owner_flushes = False
            engine.flush_owned()
        for engine in sources:
            engine.relaying = False
            if not engine.closed:
                engine.release_reader()


def _relay_loop(directions: List[Any], involved: List[Any], context: Any, capture: Any,
                control: Any, stats: Optional[List[int]], sources: List[Any],
                destinations: List[Any]) -> int:
    control_engine = control._engine if control is not None else None
    poller = _select.poll()
    registered: set = set()
    state = _ACTIVE

    def closed_check() -> None:
        if context.terminated:
            raise ContextTerminated()
        for sock in involved:
            if sock.closed:
                raise ZMQError(Errno.ENOTSOCK)

    while True:
        if context.terminated:
            raise ContextTerminated()
        moved = False
        if control is not None:
            state = _steer(control, state, stats)
            if state == _TERMINATED:
                return 0
        if state == _ACTIVE:
            for direction in directions:
                if direction.pump(capture, stats):
                    moved = True
        if moved:
            for engine in destinations:
                if engine.unflushed:
                    engine.flush_owned()
            continue
        # Nothing moved: arm the fd of every socket we may sleep on (poll_events does, and
        # hands reading back to the I/O thread), then look once more.
        interest: Dict[Any, int] = {}
        if control_engine is not None:
            interest[control_engine] = _ZMQ_POLLIN
        if state == _ACTIVE:
            for direction in directions:
                if direction.pending is None:
                    engine = direction.src_engine
                    interest[engine] = interest.get(engine, 0) | _ZMQ_POLLIN
                else:
                    interest.setdefault(direction.dst_engine, 0)
        # A source not waited on for input (its direction holds a message the destination
        # cannot take yet, or the proxy is paused) goes back to the I/O thread with what
        # this thread read of it: its messages then queue up to its RCVHWM, as with
        # libzmq's proxy, instead of stopping in the kernel.
        for engine in sources:
            if not interest.get(engine, 0) & _ZMQ_POLLIN:
                engine.release_reader()
        ready = False
        peer_fds = set()
        for engine, events in interest.items():
            if events & _ZMQ_POLLIN and engine is not control_engine:
                # a source with one tcp/ipc peer is read here, not by the I/O thread: no
                # wake-up and no GIL hand-over per batch
                fd = engine.read_sole_peer()
                if fd is not None:
                    if fd < 0:
                        ready = True
                    else:
                        peer_fds.add(fd)
                    continue
            if engine.poll_events(events) & events:
                ready = True
        if control is not None and control._recv_parts:
            ready = True
        if state == _ACTIVE:
            for direction in directions:
                # armed above: a wake-up for room cannot be missed between these two
                if direction.pending is not None and direction.dst.xwait_for_space():
                    ready = True
        if ready:
            continue
        wanted = {engine.fileno() for engine in interest} | peer_fds
        closed_check()
        if wanted != registered:
            for fd in registered - wanted:
                poller.unregister(fd)
            for fd in wanted - registered:
                poller.register(fd, _POLLIN)
            registered = wanted
        try:
            poller.poll()
        except InterruptedError:
            pass
        closed_check()


def _steer(control: Any, state: int, stats: Optional[List[int]]) -> int:
    """Handle every command waiting on the control socket; returns the new state."""
    pattern = control._pattern
    if pattern.commands:
        pattern.process_commands()
    if not control._recv_parts and not pattern.xhas_in():
        return state
    while True:
        try:
            command = _recv(control, _DONTWAIT)
        except ZMQError as exc:
            if exc.errno == Errno.EAGAIN:
                return state
            raise
        if command == b"STATISTICS":
            values = stats if stats is not None else [0] * 8
            _send_multipart(control, [_U64.pack(v & 0xFFFFFFFFFFFFFFFF) for v in values])
            continue
        if command == b"PAUSE":
            state = _PAUSED
        elif command == b"RESUME":
            state = _ACTIVE
        elif command == b"TERMINATE":
            state = _TERMINATED
        if control.socket_type == _REP:
            _send(control, b"")  # REP must answer every request
        if state == _TERMINATED:
            return state


_DONTWAIT = 1  # zmq.DONTWAIT, as a plain int


def proxy(frontend: Any, backend: Any, capture: Optional[Any] = None) -> None:
    """Forward messages between ``frontend`` and ``backend`` (and copy each one to
    ``capture``) until the context is terminated: then raise ContextTerminated, as pyzmq
    does.  Runs in the calling thread, which must own the sockets."""
    _run(frontend, backend, capture, None)


def proxy_steerable(frontend: Any, backend: Any, capture: Optional[Any] = None,
                    control: Optional[Any] = None) -> int:
    """proxy, steered by commands on ``control``: PAUSE, RESUME, TERMINATE (returns 0)
    and STATISTICS (replies with eight u64 counters).  Without ``control`` it is proxy."""
    return _run(frontend, backend, capture, control)


def device(device_type: int, frontend: Any, backend: Any) -> None:
    """The deprecated name for proxy (pyzmq ignores ``device_type`` the same way: QUEUE,
    FORWARDER and STREAMER all forward in both directions)."""
    proxy(frontend, backend)
