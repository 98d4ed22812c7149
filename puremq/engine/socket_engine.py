"""The engine half of a socket: its endpoints, its wake-up fd and the blocking waits.

Theory of operation
-------------------
The application thread calls into the pattern directly for the fast path (see
puremq.socket); it comes here when it must wait, bind, connect or close.

Waking: ``armed`` is set by the owning thread just before it decides to wait (after
draining what woke it before); producers call :meth:`wake`, which wakes the owner only if
``armed`` was set, and clears it.  So a socket that is busy costs producers one attribute
check, and a socket that waits is always woken: the owner arms first and looks second,
the producer publishes first and checks ``armed`` second.

Two ways to be woken.  An owner blocked in recv or send (:meth:`_wait`) marks itself
``_WAITING`` and blocks on a lock that the producer releases: the producer keeps the GIL
through the wake-up and the owner has nothing to drain, so a round trip costs one GIL
hand-over per side, as with libzmq (an eventfd write releases the GIL at the worst moment:
the woken owner and the writer then fight for it; an inproc REQ/REP pair on a machine
with fast wake-ups took 25 us a round trip that way, pyzmq 9).  Any other wait (Poller,
event loops: the socket's FD, armed by EVENTS; a wait on a tcp/ipc connection's fd too)
gets an eventfd write.

Pipes of stream connections are created in the I/O thread at handshake time and reach the
pattern as commands (attach/identify/detach), processed in order by the owning thread.
"""

from __future__ import annotations

import errno as _errno
import os
import socket as _socket
import struct
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from ..constants import Errno, Event, PollEvent, SocketOption, SocketType
from ..error import Again, ContextTerminated, ZMQError
from ..options import Options
from ..patterns import PATTERNS
from ..routing.pipe import Lane, Pipe
from ..transport import endpoint as ep
from ..transport.sockets import listen_ipc, listen_tcp
from ..zmtp.connection import HandshakeComplete
from ..zmtp.inbox import ALONE_DELIMITED, ALONE_PLAIN, PlainInbox
from .endpoints import Dialer, Listener
from .inproc import InprocLink
from .signaler import Signaler
from .stream import APP_READ_RECLAIM, APP_READ_RECLAIM_SHARED

if TYPE_CHECKING:
    from .context_engine import ContextEngine
    from .stream import StreamConnection

_monotonic = time.monotonic
_POLLIN = int(PollEvent.POLLIN)
_POLLOUT = int(PollEvent.POLLOUT)
#: a ``last_kick`` before any send: the next send is written at once (kick's gap is infinite)
_LONG_AGO = float("-inf")
#: ``armed`` while the owner blocks in _wait: a wake-up releases a lock, not the fd
_WAITING = 2
#: Linux's SO_PEERCRED (PyPy's socket module lacks the name)
_SO_PEERCRED = getattr(_socket, "SO_PEERCRED",
                       17 if sys.platform.startswith("linux") else None)
MonitorHook = Callable[[int, int, str], None]

#: How long a sender with a full pipe waits for the I/O thread to let go of the connection
#: (it may hold the connection's lock while it waits for the GIL this thread holds).
WRITE_OUT_WAIT = 0.005
#: A sender about to block on a full pipe writes it out itself only while the pipe holds
#: about this many bytes or fewer.  Writing a small pipe costs less than waking the I/O
#: thread and handing it the GIL; a large one is better left to the I/O thread, whose
#: sendmsg copies into the kernel with the GIL released while this thread goes on
#: (PUSH -> libzmq PULL, 1M messages: 16 B 794k/s with the write-out vs 678k/s without;
#: 1 KiB 377k/s vs 468k/s; 128 B 743k vs 784k).
WRITE_OUT_MAX_BYTES = 64 * 1024


class SocketEngine:
    def __init__(self, context: "ContextEngine", socket_type: int) -> None:
        pattern_class = PATTERNS.get(socket_type)
        if pattern_class is None:
            raise ZMQError(Errno.EINVAL, f"socket type {socket_type} is not supported")
        self.context = context
        self.socket_type = socket_type
        self.options = Options(socket_type)
        self.signaler = Signaler()
        self.armed = False
        self.fd_pending = False
        self._wake_lock = threading.Lock()
        #: a blocking wait's wake-up (see _wait): held while nobody has released it
        self._wakeup = threading.Lock()
        self._wakeup.acquire()
        #: released by a waker and not yet taken by the owner
        self.wakeup_pending = False
        #: the connection this socket's thread reads itself, if any (see recv_waiting)
        self._reader: Any = None
        #: the socket has been polled (EVENTS): its owner waits on the fd, not in recv
        self.polled = False
        #: a forwarding loop (proxy.relay) takes from this socket: it decides itself when
        #: its thread reads the socket's peer (read_sole_peer, release_reader)
        self.relaying = False
        #: the pipe of the last message when recv last had to wait (see recv_waiting)
        self._last_wait_pipe: Any = None
        #: bytes read from the sole peer, not decoded yet: Socket.recv takes plain messages
        #: straight out of them (zmtp.inbox); owner thread only
        self.inbox = PlainInbox()
        self.closed = False
        #: what a large received body is read into (the API makes it a Frame type, so
        #: that recv(copy=False) hands out that buffer itself)
        self.body_type: Callable[[int], bytearray] = bytearray
        #: when this socket's sending thread last kicked a connection (StreamConnection.kick)
        self.last_kick = _LONG_AGO
        #: a forwarding loop (the proxy) owns this socket and writes its connections itself
        #: after each burst: kicks only note the connection in ``unflushed``
        self.owner_flushes = False
        self.unflushed: List["StreamConnection"] = []
        self.pattern = pattern_class(self.options, self.wake)
        self.pattern.write_out = self._write_out_pipe
        if hasattr(self.pattern, "kill_pipe"):
            self.pattern.kill_pipe = self._kill_pipe  # type: ignore[attr-defined]
        self._reactor = None
        #: endpoint text -> Listener / Dialer / InprocLink / inproc name marker
        self.endpoints: Dict[str, List[Any]] = {}
        self.monitor_hook: Optional[MonitorHook] = None

    # -- waking (any thread) ------------------------------------------------------------
    def wake(self) -> None:
        if self.armed:
            # The lock is taken only on the idle->busy edge.  An owner blocked in _wait is
            # released under it (a release does not give up the GIL).  The fd's flag goes
            # up before the fd is written, and the write is made outside the lock: it
            # releases the GIL, and an owner woken at once that then found the lock still
            # taken waited for this thread twice.  An _arm() between the flag and the
            # write finds nothing to drain yet and leaves the flag up (see _arm), so the
            # write is drained by the next one: one early wake-up, never an fd that
            # stays readable.
            with self._wake_lock:
                armed = self.armed
                if not armed:
                    return
                self.armed = False
                if armed == _WAITING:
                    self.wakeup_pending = True
                    self._wakeup.release()
                    return
                self.fd_pending = True
            self.signaler.set()

    def _arm(self) -> None:
        with self._wake_lock:
            if self.fd_pending:
                # down only once a write was drained: the waker may not have written yet
                self.fd_pending = not self.signaler.clear()
            if self.wakeup_pending:
                # a release nobody took (the wait timed out, or was interrupted): taken
                # back, so that the lock is held whenever the owner may wait on it (a
                # second release would raise in the producer).  Released under this lock,
                # so the acquire succeeds.
                self.wakeup_pending = not self._wakeup.acquire(False)
            self.armed = True

    def force_wake(self) -> None:
        """Context termination: wake the owner whatever it is doing."""
        with self._wake_lock:
            if self.armed == _WAITING:
                self.armed = False
                self.wakeup_pending = True
                self._wakeup.release()
        self.fd_pending = True
        self.signaler.set()

    @property
    def reactor(self) -> Any:
        if self._reactor is None:
            self._reactor = self.context.reactor_for(self)
        return self._reactor

    def emit(self, event: int, value: int, endpoint: str) -> None:
        hook = self.monitor_hook
        if hook is not None:
            hook(event, value, endpoint)

    # -- I/O thread -> owner --------------------------------------------------------------
    def attach_later(self, pipe: Pipe) -> None:
        self.pattern.post(lambda: self._attach(pipe))

    def _attach(self, pipe: Pipe) -> None:
        if self.closed or not self.pattern.accepts_new_pipe():
            self._refuse(pipe)
            return
        self.pattern.attach(pipe)

    def _refuse(self, pipe: Pipe) -> None:
        """A pipe the socket will not take (PAIR's second peer): its lane was already wired
        to the fair queue, so stop the wiring and drop what it delivered, or it is read."""
        pipe.terminated = True
        self._discard_inbound(pipe)
        self._kill_pipe(pipe)

    def _discard_inbound(self, pipe: Pipe) -> None:
        """Unwire ``pipe``'s inbound lane from the fair queue and drop what it holds."""
        inbound = pipe.inbound
        inbound.on_items = _ignore
        inbound.items.clear()
        self.pattern.fq.discard(pipe)

    def detach_later(self, pipe: Pipe) -> None:
        pipe.terminated = True
        self.pattern.post(lambda: self.pattern.detach(pipe))

    def identify_later(self, pipe: Pipe) -> None:
        self.pattern.post(lambda: self.pattern.identify(pipe))

    def _kill_pipe(self, pipe: Pipe) -> None:
        peer = pipe.peer
        if peer is not None:
            peer.terminate()

    def peer_properties(self, stream: "StreamConnection", event: HandshakeComplete) -> dict:
        # As libzmq: the peer's READY properties plus Peer-Address (no Routing-Id: libzmq
        # answers EINVAL for it; 'Identity' is there when the peer sent one).
        props: Dict[str, Any] = dict(event.properties)
        sock = stream.sock
        try:
            if sock.family == _socket.AF_UNIX:
                # libzmq (SO_PEERCRED): "<host>:<uid>:<gid>:<pid>", the host as getnameinfo
                # names an AF_UNIX address: "localhost"
                if _SO_PEERCRED is not None:
                    creds = sock.getsockopt(_socket.SOL_SOCKET, _SO_PEERCRED, 12)
                    pid, uid, gid = struct.unpack("3i", creds)
                    props["Peer-Address"] = f"localhost:{uid}:{gid}:{pid}"
            else:
                props["Peer-Address"] = sock.getpeername()[0]
        except (OSError, AttributeError, struct.error):
            pass
        return props

    def new_stream_pipe(self, stream: "StreamConnection", event: HandshakeComplete,
                        endpoint: str) -> Pipe:
        """A pipe for a connection that just completed its handshake (I/O thread)."""
        options = self.options
        inbound = Lane(options[SocketOption.RCVHWM])
        outbound = Lane(options[SocketOption.SNDHWM])
        if options[SocketOption.CONFLATE]:
            inbound.conflate = outbound.conflate = True
        pipe = Pipe(inbound, outbound, endpoint)
        pipe.routing_id = event.peer_identity
        pipe.properties = self.peer_properties(stream, event)
        pipe.peer = stream
        self.pattern.prepare_pipe(pipe)
        outbound.on_items = stream.kick
        inbound.on_space = stream.resume_reading  # any thread: the stream has its lock
        self.attach_later(pipe)
        return pipe

    def attach_inproc(self, pipe: Pipe, link: InprocLink) -> None:
        self.pattern.attach(pipe)

    # -- endpoints (owner thread) ---------------------------------------------------------
    def _check_open(self) -> None:
        if self.closed:
            raise ZMQError(Errno.ENOTSOCK)
        if self.context.terminated:
            raise ContextTerminated()

    def bind(self, addr: Any) -> str:
        self._check_open()
        endpoint = ep.parse(addr)
        transport = endpoint.transport
        options = self.options
        if transport == "inproc":
            self.context.inproc.bind(self, endpoint.address)
            self.endpoints.setdefault(endpoint.text, []).append(("inproc", endpoint.address))
            # Peers that connected before the bind are attached by the bind itself, as in
            # libzmq (a SUB then sends its subscriptions without another call).
            self.pattern.process_commands()
            text = endpoint.text
        elif transport == "tcp":
            try:
                family, sockaddr = ep.resolve_tcp_bind(endpoint.address,
                                                       bool(options[SocketOption.IPV6]),
                                                       endpoint.text)
                sock = listen_tcp(family, sockaddr, options, endpoint.text)
            except ZMQError as exc:
                # libzmq names the endpoint of a failed bind without its transport
                self.emit(Event.BIND_FAILED, exc.errno, endpoint.address)
                raise
            text = ep.tcp_endpoint_text(sock.getsockname())
            self._start_listener(Listener(self, sock, text), endpoint.text, text)
        else:
            try:
                path, text = ep.resolve_ipc(endpoint.address, endpoint.text, True)
                sock = listen_ipc(path, options, endpoint.text)
            except ZMQError as exc:
                self.emit(Event.BIND_FAILED, exc.errno, endpoint.address)
                raise
            listener = Listener(self, sock, text, ipc_path=path)
            if endpoint.address == "*":
                listener.tmp_dir = os.path.dirname(path)  # removed again at close
            self._start_listener(listener, endpoint.text, text)
        options.values[SocketOption.LAST_ENDPOINT] = text.encode()
        return text

    def _start_listener(self, listener: Listener, asked: str, actual: str) -> None:
        # Filed under the resolved endpoint only, as libzmq: unbind('tcp://127.0.0.1:*') is
        # ENOENT; unbind(LAST_ENDPOINT) is the way.
        self.endpoints.setdefault(actual, []).append(listener)
        listener.start()
        self.emit(Event.LISTENING, listener.fd, actual)

    def connect(self, addr: Any) -> str:
        self._check_open()
        endpoint = ep.parse(addr)
        options = self.options
        if endpoint.transport == "inproc":
            link = self.context.inproc.connect(self, endpoint.address)
            self.endpoints.setdefault(endpoint.text, []).append(link)
        else:
            pipe = None
            if not options[SocketOption.IMMEDIATE]:
                inbound = Lane(options[SocketOption.RCVHWM])
                outbound = Lane(options[SocketOption.SNDHWM])
                if options[SocketOption.CONFLATE]:
                    inbound.conflate = outbound.conflate = True
                pipe = Pipe(inbound, outbound, endpoint.text)
                connect_rid = options.values.get(SocketOption.CONNECT_ROUTING_ID)
                if connect_rid:
                    pipe.routing_id = connect_rid
                    options.values[SocketOption.CONNECT_ROUTING_ID] = b""
                self.pattern.prepare_pipe(pipe)
            dialer = Dialer(self, endpoint, pipe)
            if pipe is not None:
                self.pattern.attach(pipe)
            self.endpoints.setdefault(endpoint.text, []).append(dialer)
            dialer.start()
        options.values[SocketOption.LAST_ENDPOINT] = endpoint.text.encode()
        return endpoint.text

    def unbind(self, addr: Any) -> None:
        self._check_open()
        text = ep.parse(addr).text
        self.return_inbox()
        listeners = self._entries_for(text, (Listener, tuple))
        if not listeners:
            raise ZMQError(_errno.ENOENT, f"No such file or directory (addr={text!r})")
        self._drop_entries(text, listeners)

    def disconnect(self, addr: Any) -> None:
        self._check_open()
        text = ep.parse(addr).text
        self.return_inbox()
        dialers = self._entries_for(text, (Dialer, InprocLink))
        if not dialers:
            raise ZMQError(_errno.ENOENT, f"No such file or directory (addr={text!r})")
        # libzmq terminates its own end of these pipes without delay: what they still hold
        # is not delivered (a peer that goes away on its own is read to the end instead).
        for entry in dialers:
            pipe = entry.pipe if isinstance(entry, Dialer) else entry.connecter_pipe
            if pipe is not None:
                self._discard_inbound(pipe)
        self._drop_entries(text, dialers)

    def _entries_for(self, text: str, kinds: Any) -> List[Any]:
        """Endpoints filed under ``text`` or, as libzmq retries, under its resolved tcp form
        (``tcp://localhost:5555`` finds ``tcp://127.0.0.1:5555``; wildcards find nothing)."""
        entries = [e for e in self.endpoints.get(text) or [] if isinstance(e, kinds)]
        if entries:
            return entries
        endpoint = ep.parse(text)
        if endpoint.transport != "tcp":
            return []
        try:
            _source, host, port = ep.split_tcp_connect(endpoint.address, text)
            _family, sockaddr = ep.resolve_tcp_connect(
                host, port, bool(self.options[SocketOption.IPV6]))[0]
        except (ZMQError, OSError, UnicodeError, IndexError):
            return []
        resolved = ep.tcp_endpoint_text(sockaddr)
        return [e for e in self.endpoints.get(resolved) or [] if isinstance(e, kinds)]

    def _drop_entries(self, text: str, entries: List[Any]) -> None:
        linger = self.options[SocketOption.LINGER]
        for entry in entries:
            for key, values in list(self.endpoints.items()):
                if entry in values:
                    values.remove(entry)
                    if not values:
                        del self.endpoints[key]
            self._shutdown_entry(entry, linger)

    def _shutdown_entry(self, entry: Any, linger: int) -> None:
        if isinstance(entry, tuple):
            self.context.inproc.unbind(self, entry[1])
        elif isinstance(entry, InprocLink):
            entry.terminate()
        else:
            if isinstance(entry, Dialer) and entry.pipe is not None:
                self.pattern.detach(entry.pipe)
            # term() must not finish before the I/O thread has decided whether this entry
            # lingers: hold the context open until the shutdown has run.
            token = object()
            context = self.context
            context.linger_begin(token)

            def shutdown() -> None:
                try:
                    entry.shutdown(linger)
                finally:
                    context.linger_end(token)
            self.reactor.post(shutdown)

    # -- waiting (owner thread) ------------------------------------------------------------
    def _deadline(self, timeout_ms: int) -> Optional[float]:
        return None if timeout_ms < 0 else _monotonic() + timeout_ms / 1000.0

    def _wait(self, deadline: Optional[float]) -> bool:
        """Wait for a wake-up (armed: see the theory of operation); False when the
        deadline passed."""
        if deadline is None:
            timeout = -1.0
        else:
            timeout = deadline - _monotonic()
            if timeout <= 0:
                return False
        with self._wake_lock:
            if not self.armed:
                return True  # woken through the fd already
            self.armed = _WAITING
        # (timed out or interrupted by a signal: ``armed`` stays _WAITING until the next
        # _arm, which every operation makes first and which takes back a release made
        # meanwhile)
        if self._wakeup.acquire(True, timeout):
            self.wakeup_pending = False
        return True

    def send_waiting(self, frames: List[Any], timeout_ms: int) -> None:
        """The slow path of send: wait until the pattern takes ``frames`` or time runs out."""
        pattern = self.pattern
        deadline = self._deadline(timeout_ms)
        while True:
            self._arm()
            pattern.process_commands()
            self._check_open()
            if pattern.xsend(frames):
                return
            if self._write_full_pipes(timeout_ms != 0):
                continue
            if pattern.xwait_for_space():
                continue
            if timeout_ms == 0 or not self._wait(deadline):
                raise Again()

    def _write_full_pipes(self, would_block: bool) -> bool:
        """About to block (or fail: DONTWAIT) on full pipes: write them out in this thread
        instead of waiting for the I/O thread to do it (one batch, one syscall, no
        hand-over); True if one now has room.  A sender that would block leaves a large
        pipe to the I/O thread (WRITE_OUT_MAX_BYTES); its size in bytes is guessed from the
        last message queued on it (a stream's messages tend to be alike).  A DONTWAIT
        sender writes out whatever the size: it would get EAGAIN, not the I/O thread's
        help."""
        made_room = False
        for pipe in self.pattern.pipes:
            lane = pipe.outbound
            if lane.full() and (not would_block or self._small_enough_to_write_out(lane.items)):
                if self._write_out_pipe(pipe):
                    made_room = True
        return made_room

    @staticmethod
    def _small_enough_to_write_out(items: Any) -> bool:
        try:
            last = items[-1]
        except IndexError:  # taken meanwhile by the I/O thread
            return False
        size = 0
        for frame in last:
            size += len(frame)
        return len(items) * size <= WRITE_OUT_MAX_BYTES

    def _write_out_pipe(self, pipe: Pipe) -> bool:
        """``pipe``'s outbound lane is full and this thread would block or drop (PUB at
        SNDHWM): write the lane out now, unless the kernel is known to be full already
        (then only the peer reading makes room); True if the lane has room now.

        Segments waiting to be written do not mean a full kernel: the I/O thread has
        them while it writes (its send releases the GIL), and may be preempted there.
        Waiting for its lock instead, a PUB under load no longer drops at every send
        meanwhile; and if the I/O thread emptied the lane, there is room either way."""
        stream = getattr(pipe.peer, "current_stream", None)
        if stream is None or stream.want_write:
            return False
        stream.write_direct(WRITE_OUT_WAIT)
        return not pipe.outbound.full()

    def wait_until_writable(self, timeout_ms: int) -> None:
        """Before the first part of a multipart send: wait for room, or EAGAIN."""
        pattern = self.pattern
        deadline = self._deadline(timeout_ms)
        while True:
            self._arm()
            pattern.process_commands()
            self._check_open()
            if pattern.xhas_out() or (pattern.xwait_for_space() and pattern.xhas_out()):
                return
            if timeout_ms == 0 or not self._wait(deadline):
                raise Again()

    def recv_waiting(self, timeout_ms: int) -> List[Any]:
        """The slow path of recv: wait until a message arrives or time runs out.

        A socket whose only peer is a tcp/ipc connection reads that connection itself
        (StreamConnection.app_read): a message goes from the kernel to the caller with no
        I/O-thread wake-up and no GIL hand-over on the way, and a busy receiver is a single
        thread.  Reading stays with this thread after recv returns; it goes back to the I/O
        thread when the socket is polled (EVENTS, Poller, event loops), gets a second peer,
        closes, or leaves the connection unread for a while (StreamConnection's reclaim).
        """
        pattern = self.pattern
        deadline = self._deadline(timeout_ms)
        read_nothing = False
        # A send after a receive that would wait for a message is a reply or the next
        # request, not part of a stream: its connection is written at once, in this
        # thread (StreamConnection.kick), however little time has passed since the last
        # send.  (A reply often arrives while the request's own write is still in the
        # kernel, so the receive need not even wait.)  Not for DONTWAIT: a loop that
        # polls between the sends of a stream would write each message alone.
        if timeout_ms:
            self.last_kick = _LONG_AGO
        inbox = self.inbox
        if inbox.data is not None:
            msg = self.next_from_inbox()
            if msg is not None:
                return msg
        # Of several peers, the one the last two waits found the last message came from is
        # read by this thread too (one DEALER busy among idle ones); traffic that alternates
        # between peers stays with the I/O thread, which serves them all.
        last_pipe = pattern.fq.last_pipe
        streak_pipe = last_pipe if last_pipe is self._last_wait_pipe else None
        self._last_wait_pipe = last_pipe
        while True:
            self._arm()
            pattern.process_commands()
            self._check_open()
            msg = pattern.xrecv()
            if msg is not None:
                return msg
            stream, reclaim_after = self._stream_to_read(streak_pipe)
            reader = self._reader
            if reader is not None and stream is not reader:
                # another peer arrived (or this one left): reading goes back to the I/O
                # thread, which serves them all
                self.release_reader()
            if timeout_ms == 0 and reader is not stream:
                raise Again()  # the I/O thread reads: nothing is waiting unread
            if stream is not None and not read_nothing:
                if not self._read_as_owner(stream, reclaim_after, True):
                    read_nothing = True
                elif inbox.alone is not None:  # the read was exactly one message
                    body = inbox.alone
                    inbox.alone = None
                    pipe = pattern.fq.last_pipe = pattern.pipes[0]  # (Frame properties)
                    if pattern.plain_receive:
                        return [body]
                    msg = pattern.accept_message(pipe, [b"", body])
                    if msg is not None:
                        return msg
                elif inbox.data is not None:
                    pattern.fq.last_pipe = pattern.pipes[0]  # (Frame properties)
                    msg = (self.next_from_inbox() if pattern.plain_receive
                           else self._delimited_from_inbox())
                    if msg is not None:
                        return msg
                continue  # look again (re-armed) before waiting
            if timeout_ms == 0:
                raise Again()
            read_nothing = False
            waited = (self._wait_for(stream.fd, deadline) if stream is not None
                      else self._wait(deadline))
            if not waited:
                raise Again()

    def _inbox_for(self, stream: "StreamConnection", delimited: bool) -> Optional[PlainInbox]:
        """The inbox, if messages from ``stream`` may be parsed out of its bytes: the
        socket's only peer, no size limit, and messages handed out as they come
        (plain_receive) or, for a ``delimited`` reader, requests and replies
        (receives_delimited: recv_waiting, which takes one and gives the rest back)."""
        pattern = self.pattern
        if (len(pattern.pipes) == 1 and self.options[SocketOption.MAXMSGSIZE] < 0
                and not pattern.pipes[0].inbound.conflate
                and (pattern.plain_receive or (delimited and pattern.receives_delimited))):
            return self.inbox
        return None

    def _delimited_from_inbox(self) -> Optional[List[Any]]:
        """REQ, REP: the request or reply the inbox begins with, if it is a plain one
        (``[b"", body]``), as xrecv would return it (pattern.accept_message).  The rest
        goes back to the connection at once: these patterns take one message between two
        sends, and what follows it must be in the pipe, where xrecv and xsend look."""
        inbox = self.inbox
        body = inbox.next_delimited()
        self.return_inbox()
        if body is None:
            return None
        pattern = self.pattern
        return pattern.accept_message(pattern.pipes[0], [b"", body])

    def next_from_inbox(self) -> Optional[List[Any]]:
        """The next message if the inbox holds a plain one; else the inbox goes back to
        its connection (its messages are then in the pipe) and None."""
        inbox = self.inbox
        frame = inbox.next_frame()
        if frame is not None:
            if inbox.pos == inbox.end:
                self.return_inbox()
            return [frame]
        self.return_inbox()
        return None

    def return_inbox(self) -> None:
        """Give the bytes the inbox still holds back to their connection's decoder, which
        queues what they hold in the pipe (owner thread: before anything else looks at
        the pipe, and before the I/O thread may read the connection again)."""
        inbox = self.inbox
        source = inbox.source
        rest = inbox.rest()
        if source is not None:
            source.take_back(rest)

    # -- forwarding loops (the proxy), owner thread ---------------------------------------
    def read_sole_peer(self) -> Optional[int]:
        """A forwarding loop found nothing to take from this socket: read its only tcp/ipc
        peer in this thread, as recv_waiting does (plain messages may land in the inbox).

        Returns -1 if there is something to take now; the peer's fd if nothing was read
        (wait on it and on this socket's fd, which is armed); None if the socket has no
        such peer (the I/O thread reads: wait with poll_events instead).
        """
        pattern = self.pattern
        pattern.process_commands()
        if pattern.xhas_in():
            return -1
        stream = self._sole_peer_stream()
        if stream is None:
            return None
        if self._reader is not stream:
            self.release_reader()
        if self._read_as_owner(stream, APP_READ_RECLAIM):
            return -1
        self._arm()
        pattern.process_commands()
        if pattern.xhas_in():
            return -1
        if stream.closed or stream.broken:
            return None
        return stream.fd

    def _read_as_owner(self, stream: "StreamConnection", reclaim_after: float,
                       delimited: bool = False) -> bool:
        """This thread reads ``stream`` itself (StreamConnection.app_read, into the inbox
        where allowed: see _inbox_for); True if anything was read."""
        self._reader = stream
        self.armed = False  # awake already: what the read delivers need not wake us
        inbox = self._inbox_for(stream, delimited)
        if inbox is None or not delimited:
            return stream.app_read(reclaim_after, inbox)
        # recv_waiting hands a message out as soon as it has one: a read that is exactly
        # one may skip the inbox
        alone = ALONE_PLAIN if self.pattern.plain_receive else ALONE_DELIMITED
        return stream.app_read(reclaim_after, inbox, alone)

    def take_message(self) -> Optional[List[Any]]:
        """A forwarding loop's next message from this socket: the inbox's, then the
        pattern's (the inbox holds what came before anything queued)."""
        if self.inbox.data is not None:
            msg = self.next_from_inbox()
            if msg is not None:
                return msg
        return self.pattern.xrecv()

    def plain_forward_stream(self) -> Optional["StreamConnection"]:
        """The connection a forwarding loop may hand messages already framed (the sole
        peer of a PUSH, DEALER or PAIR with nothing queued for it), or None."""
        pattern = self.pattern
        if pattern.plain_send and len(pattern.pipes) == 1:
            pipe = pattern.pipes[0]
            lane = pipe.outbound
            if not lane.items and not lane.conflate and not pipe.terminated:
                return getattr(pipe.peer, "current_stream", None)
        return None

    def flush_owned(self) -> None:
        """Write out the connections a forwarding loop queued messages for (see
        ``owner_flushes``); one the I/O thread is busy with is left to it."""
        streams = self.unflushed
        while streams:
            stream = streams.pop()
            if not stream.write_direct():
                stream.reactor.schedule_flush(stream)

    def retake_reading(self, stream: "StreamConnection") -> None:
        """Owner thread, at its next call after the I/O thread queued a message from
        ``stream`` with the offer to read it here (StreamConnection.offer_reading): take
        reading over if ``stream`` is the socket's only peer, nothing polls the socket
        (whoever polls waits on the socket's fd, so the I/O thread must read), no
        forwarding loop takes from it (``relaying``: the loop decides) and the pattern
        allows it (SocketPattern.owner_may_read)."""
        reader = self._reader
        if (stream.app_reading or self.polled or self.relaying or self.closed
                or (reader is not None and reader is not stream)):
            return  # (closed: close gives reading back, then runs the commands)
        if self._sole_peer_stream() is stream:
            self._reader = stream
            stream.app_read(APP_READ_RECLAIM)

    def release_reader(self) -> None:
        """Hand reading back to the I/O thread (owner thread)."""
        self.return_inbox()
        reader = self._reader
        if reader is not None:
            self._reader = None
            reader.end_app_read()

    def _sole_peer_stream(self) -> Optional["StreamConnection"]:
        """The tcp/ipc connection of this socket's only peer, if this thread may read it
        itself (every path by which it does: recv_waiting, read_sole_peer, retake_reading)."""
        pattern = self.pattern
        if len(pattern.pipes) != 1 or not pattern.owner_may_read:
            return None
        return getattr(pattern.pipes[0].peer, "current_stream", None)

    def _stream_to_read(self, streak_pipe: Optional[Pipe]) -> Tuple[Any, float]:
        """The tcp/ipc connection this thread should read itself while it waits, and how
        long it may leave it unread before the I/O thread takes it back: the one behind
        the only pipe, or, among several, the one behind ``streak_pipe`` (the busy peer);
        none for a publisher (SocketPattern.owner_may_read)."""
        pattern = self.pattern
        if not pattern.owner_may_read:
            return None, APP_READ_RECLAIM
        if len(pattern.pipes) == 1:
            return self._sole_peer_stream(), APP_READ_RECLAIM
        if streak_pipe is not None and streak_pipe.attached and not streak_pipe.terminated:
            return getattr(streak_pipe.peer, "current_stream", None), APP_READ_RECLAIM_SHARED
        return None, APP_READ_RECLAIM

    def _wait_for(self, fd: int, deadline: Optional[float]) -> bool:
        """Wait for a wake-up or for ``fd`` to become readable; False past the deadline."""
        if deadline is None:
            timeout = None
        else:
            remaining = deadline - _monotonic()
            if remaining <= 0:
                return False
            timeout = remaining * 1000.0
        self.signaler.wait_with(fd, timeout)
        return True

    def poll_events(self, interest: int = PollEvent.POLLIN | PollEvent.POLLOUT) -> int:
        """EVENTS: what the socket can do now; arms the fd for the next change."""
        self.polled = True
        if self._reader is not None:
            self.release_reader()  # whoever polls waits on the fd: the I/O thread must read
        else:
            self.return_inbox()
        self._arm()
        pattern = self.pattern
        pattern.process_commands()
        # plain ints: IntFlag arithmetic costs more than the rest of this call
        events = 0
        if interest & _POLLIN and pattern.xhas_in():
            events = _POLLIN
        if interest & _POLLOUT:
            if pattern.xhas_out():
                events |= _POLLOUT
            elif pattern.xwait_for_space() and pattern.xhas_out():
                events |= _POLLOUT
        return events

    # -- lingering ----------------------------------------------------------------------
    def lingering_started(self, obj: Any) -> None:
        self.context.linger_begin(obj)

    def lingering_done(self, obj: Any) -> None:
        self.context.linger_end(obj)

    # -- closing ------------------------------------------------------------------------
    def close(self, linger: Optional[int] = None) -> None:
        if self.closed:
            return
        if linger is None:
            linger = self.options[SocketOption.LINGER]
        self.closed = True
        self.armed = False
        self.inbox.drop()
        self.release_reader()
        self.pattern.process_commands()
        self.context.inproc.unbind_all(self)
        seen = set()
        for entries in self.endpoints.values():
            for entry in entries:
                if id(entry) in seen:
                    continue
                seen.add(id(entry))
                self._shutdown_entry(entry, linger)
        self.endpoints.clear()
        for pipe in list(self.pattern.pipes):
            if isinstance(pipe.peer, InprocLink):
                pipe.peer.terminate()
        self.pattern.close()
        if self._reactor is not None:
            self._reactor.post(self.signaler.close)
        else:
            self.signaler.close()
        self.context.socket_closed(self)

    def fileno(self) -> int:
        return self.signaler.fileno()


def _ignore() -> None:
    return None


def socket_type_name(socket_type: int) -> str:
    try:
        return SocketType(socket_type).name
    except ValueError:
        return str(socket_type)


__all__ = ["SocketEngine", "socket_type_name"]
