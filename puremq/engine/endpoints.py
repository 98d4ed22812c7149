"""Listeners (bind) and dialers (connect) for the stream transports, tcp and ipc.

A :class:`Listener` accepts connections; each becomes a StreamConnection whose pipe is
created when its handshake succeeds and detached when it closes.

A :class:`Dialer` is one ``connect()``: it owns a lasting pipe (created at connect time so
messages queue before the peer is reachable, as libzmq does unless IMMEDIATE is set), and
keeps a connection to the endpoint alive, reconnecting after RECONNECT_IVL with
exponential backoff up to RECONNECT_IVL_MAX.  A peer that broke the protocol or sent ERROR
is not retried, as in libzmq.
"""

from __future__ import annotations

import errno as _errno
import os
import random
import socket
from typing import TYPE_CHECKING, Optional, Set

from ..constants import Event, SocketOption
from ..transport import endpoint as ep
from ..transport.sockets import dial, tune_stream
from ..zmtp.connection import HandshakeComplete
from .reactor import WRITE, Timer
from .stream import StreamConnection

if TYPE_CHECKING:
    from ..routing.pipe import Pipe
    from .socket_engine import SocketEngine

_IN_PROGRESS = (_errno.EINPROGRESS, _errno.EAGAIN, _errno.EWOULDBLOCK, _errno.EALREADY)
#: accept() failures that last until something else frees a resource
_OUT_OF_RESOURCES = frozenset((_errno.EMFILE, _errno.ENFILE, _errno.ENOBUFS, _errno.ENOMEM))
#: how long a listener out of descriptors waits before it accepts again (seconds)
ACCEPT_RETRY_S = 0.1


class Listener:
    """A bound tcp/ipc endpoint (I/O thread after start)."""

    def __init__(self, engine: "SocketEngine", sock: socket.socket, endpoint: str,
                 ipc_path: Optional[str] = None) -> None:
        self.engine = engine
        self.reactor = engine.reactor
        self.sock = sock
        self.fd = sock.fileno()
        self.endpoint = endpoint
        self.ipc_path = ipc_path
        #: (st_dev, st_ino) of the socket file this listener created (owner thread, right
        #: after bind): close removes that file only, not one a later bind put there
        self._ipc_file: Optional[tuple] = None
        if ipc_path and not ipc_path.startswith("\0"):
            try:
                info = os.stat(ipc_path)
                self._ipc_file = (info.st_dev, info.st_ino)
            except OSError:
                pass
        self.streams: Set[StreamConnection] = set()
        self.closed = False
        #: the temporary directory of an ``ipc://*`` bind (removed at close, as libzmq)
        self.tmp_dir: Optional[str] = None

    def start(self) -> None:
        self.reactor.post(self._register)

    def _register(self) -> None:
        if not self.closed:
            from .reactor import READ
            self.reactor.register(self.fd, READ, self._on_accept)

    def _on_accept(self, _mask: int) -> None:
        engine = self.engine
        for _ in range(64):
            try:
                conn, _addr = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                engine.emit(Event.ACCEPT_FAILED, exc.errno or 0, self.endpoint)
                if exc.errno in _OUT_OF_RESOURCES and not self.closed:
                    # the connection stays in the backlog and the socket readable: polled
                    # again at once, this thread would spin (and hold the GIL) until a
                    # descriptor is free; it tries again a little later instead
                    self.reactor.unregister(self.fd)
                    self.reactor.call_later(ACCEPT_RETRY_S, self._register)
                return
            try:
                conn.setblocking(False)
                tune_stream(conn, engine.options)
            except OSError:
                conn.close()
                continue
            engine.emit(Event.ACCEPTED, conn.fileno(), self.endpoint)
            stream = StreamConnection(engine, conn, self.endpoint, self)
            self.streams.add(stream)
            stream.start()

    def stream_ready(self, stream: StreamConnection, event: HandshakeComplete) -> "Pipe":
        return self.engine.new_stream_pipe(stream, event, self.endpoint)

    def stream_closed(self, stream: StreamConnection) -> None:
        self.streams.discard(stream)
        if stream.pipe is not None:
            self.engine.detach_later(stream.pipe)

    def shutdown(self, linger_ms: int) -> None:
        """Stop listening; connections accepted here close too (libzmq's unbind/close)."""
        if self.closed:
            return
        self.closed = True
        self.reactor.unregister(self.fd)
        try:
            self.sock.close()
        except OSError:
            pass
        close_error = 0
        if self.tmp_dir is not None and self.ipc_path:
            # ipc://*: libzmq removes the file and its directory, and reports CLOSE_FAILED
            # (with the errno) when the file cannot be removed, e.g. someone removed it
            # before us.  The directory is ours either way: removed too, whatever became
            # of the file (a failed rmdir is not reported, as in libzmq).
            try:
                os.unlink(self.ipc_path)
            except OSError as exc:
                close_error = exc.errno or _errno.EIO
            try:
                os.rmdir(self.tmp_dir)
            except OSError:
                pass
        elif self._ipc_file is not None:
            # The close runs later in the I/O thread: by then another socket may have bound
            # the same path (libzmq-style rebind), and its file must stay.
            try:
                info = os.stat(self.ipc_path)
                if (info.st_dev, info.st_ino) == self._ipc_file:
                    os.unlink(self.ipc_path)
            except OSError:
                pass
        if close_error:
            self.engine.emit(Event.CLOSE_FAILED, close_error, self.endpoint)
        else:
            self.engine.emit(Event.CLOSED, self.fd, self.endpoint)
        for stream in list(self.streams):
            stream.shutdown(linger_ms)


class Dialer:
    """One connect(): a lasting pipe and a connection kept alive to the endpoint."""

    def __init__(self, engine: "SocketEngine", endpoint: ep.Endpoint,
                 pipe: Optional["Pipe"]) -> None:
        self.engine = engine
        self.reactor = engine.reactor
        self.endpoint = endpoint
        self.pipe = pipe
        self.stream: Optional[StreamConnection] = None
        self.closed = False
        self.lingering = False
        self._linger_timer: Optional[Timer] = None
        self._linger_deadline: Optional[float] = None
        self.current_ivl = -1  # no failed attempt yet (see _retry)
        self._timer: Optional[Timer] = None
        self._pending: Optional[socket.socket] = None
        if endpoint.transport == "tcp":
            self.source, self.host, self.port = ep.split_tcp_connect(endpoint.address,
                                                                     endpoint.text)
        else:
            self.ipc_path, _text = ep.resolve_ipc(endpoint.address, endpoint.text, False)
        if pipe is not None:
            self._wire(pipe)

    def _wire(self, pipe: "Pipe") -> None:
        pipe.outbound.on_items = self.kick
        # the consumer drained the pipe: resume reading right away (the connection's lock
        # makes this safe from the consumer's thread; no I/O-thread wake-up needed)
        pipe.inbound.on_space = self.resume_reading
        pipe.peer = self

    @property
    def current_stream(self) -> Optional[StreamConnection]:
        """The live, handshaken connection, if there is one."""
        stream = self.stream
        return stream.current_stream if stream is not None else None

    def kick(self) -> None:
        """The pipe has new messages (sending thread): write them now or have them sent."""
        stream = self.stream
        if stream is not None and stream.handshaken:
            stream.kick()
        else:
            self.reactor.schedule_flush(self)

    # -- from the socket's thread ---------------------------------------------------------
    def start(self) -> None:
        self.reactor.post(self._attempt)

    def terminate(self) -> None:
        """Drop the current connection (the dialer itself keeps reconnecting)."""
        self.reactor.post(lambda: self.stream.close() if self.stream else None)

    # -- I/O thread -----------------------------------------------------------------------
    def flush(self) -> None:
        if self.stream is not None and self.stream.handshaken:
            self.stream.flush()

    def resume_reading(self) -> None:
        stream = self.stream  # read once: the I/O thread may replace it meanwhile
        if stream is not None:
            stream.resume_reading()

    def _attempt(self) -> None:
        self._timer = None
        if self.closed:
            return
        engine = self.engine
        options = engine.options
        try:
            if self.endpoint.transport == "tcp":
                addresses = ep.resolve_tcp_connect(self.host, self.port,
                                                   bool(options[SocketOption.IPV6]))
                family, sockaddr = addresses[0]
                source = None
                if self.source:
                    host, port = ep.split_source(self.source)
                    source = ep.resolve_tcp_connect(host, port,
                                                    bool(options[SocketOption.IPV6]))[0][1]
                sock, err = dial(family, sockaddr, options, source)
            else:
                sock, err = dial(socket.AF_UNIX, self.ipc_path, options)
        except (OSError, UnicodeError, ValueError, IndexError):
            self._retry()
            return
        if err == 0:
            self._connected(sock)
        elif err in _IN_PROGRESS:
            self._pending = sock
            self.reactor.register(sock.fileno(), WRITE, self._on_connect_ready)
            engine.emit(Event.CONNECT_DELAYED, err, self.endpoint.text)
            timeout = options[SocketOption.CONNECT_TIMEOUT]
            if timeout > 0:
                self._timer = self.reactor.call_later(timeout / 1000.0, self._connect_timeout)
        else:
            self._discard(sock)
            self._retry()

    def _discard(self, sock: socket.socket) -> None:
        """Close a failed attempt's socket; libzmq's connecter reports it as CLOSED."""
        fd = sock.fileno()
        sock.close()
        self.engine.emit(Event.CLOSED, fd, self.endpoint.text)

    def _on_connect_ready(self, _mask: int) -> None:
        sock = self._pending
        if sock is None:
            return
        self._pending = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.reactor.unregister(sock.fileno())
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self._discard(sock)
            self._retry()
        else:
            self._connected(sock)

    def _connect_timeout(self) -> None:
        self._timer = None
        sock = self._pending
        if sock is not None:
            self._pending = None
            self.reactor.unregister(sock.fileno())
            self._discard(sock)
            self._retry()

    def _connected(self, sock: socket.socket) -> None:
        if self.closed:
            sock.close()
            return
        try:
            tune_stream(sock, self.engine.options)
        except OSError:
            sock.close()
            self._retry()
            return
        self.current_ivl = -1  # libzmq starts a new connecter: the backoff starts over
        self.engine.emit(Event.CONNECTED, sock.fileno(), self.endpoint.text)
        self.stream = StreamConnection(self.engine, sock, self.endpoint.text, self)
        self.stream.start()

    def _retry(self) -> None:
        if self.closed:
            return
        options = self.engine.options
        ivl = options[SocketOption.RECONNECT_IVL]
        if ivl < 0:
            return
        ivl_max = options[SocketOption.RECONNECT_IVL_MAX]
        if ivl_max > 0:
            # libzmq 4.3.5 (get_new_reconnect_ivl): RECONNECT_IVL, then doubled after each
            # failed attempt, capped at RECONNECT_IVL_MAX; no jitter.
            candidate = ivl if self.current_ivl < 0 else min(self.current_ivl * 2, 2**31 - 1)
            self.current_ivl = min(candidate, ivl_max)
            delay = self.current_ivl
        else:
            # RECONNECT_IVL plus a random jitter below RECONNECT_IVL
            delay = ivl + (random.randrange(ivl) if ivl > 0 else 0)
        self.engine.emit(Event.CONNECT_RETRIED, delay, self.endpoint.text)
        self._timer = self.reactor.call_later(delay / 1000.0, self._attempt)

    def stream_ready(self, stream: StreamConnection, event: HandshakeComplete) -> "Pipe":
        pipe = self.pipe
        if pipe is None:  # IMMEDIATE: the pipe exists only while connected
            pipe = self.engine.new_stream_pipe(stream, event, self.endpoint.text)
            self.pipe = pipe
            self._wire(pipe)
            return pipe
        pipe.properties = self.engine.peer_properties(stream, event)
        if pipe.user is None and pipe.routing_id is None:
            pipe.routing_id = event.peer_identity
            self.engine.identify_later(pipe)
        if self.lingering:
            self.reactor.post(lambda: self._hand_linger_to(stream))
        return pipe

    def stream_closed(self, stream: StreamConnection) -> None:
        if stream is not self.stream:
            return
        self.stream = None
        if self.closed:
            return
        if self.lingering:
            self._retry()
            return
        if self.engine.options[SocketOption.IMMEDIATE] and self.pipe is not None:
            self.engine.detach_later(self.pipe)
            self.pipe = None
        failure = stream.failure
        if failure is not None and (failure.peer_error is not None or failure.code):
            # libzmq does not reconnect after a protocol error or an ERROR command.
            self.closed = True
            if self.pipe is not None:
                self.engine.detach_later(self.pipe)
            return
        self._retry()

    def shutdown(self, linger_ms: int) -> None:
        """disconnect() or close(): stop reconnecting; send what is queued within LINGER.

        Messages queued before the peer was ever reached are not dropped at once: as in
        libzmq, the dialer keeps trying to connect for LINGER ms to deliver them.
        """
        if self.closed or self.lingering:
            return
        stream = self.stream
        if stream is not None and not stream.closed and stream.handshaken:
            self.closed = True
            self._cancel_attempts()
            stream.shutdown(linger_ms)
            return
        # Not connected, or still in the handshake (the stream then has no pipe yet, and
        # closing it would drop the backlog): linger as a dialer until it is up.
        pipe = self.pipe
        if linger_ms != 0 and pipe is not None and pipe.outbound.items:
            self.lingering = True
            self.engine.lingering_started(self)
            if linger_ms > 0:
                self._linger_timer = self.reactor.call_later(linger_ms / 1000.0,
                                                             self._linger_expired)
            self._linger_deadline = (None if linger_ms < 0 else
                                     self.reactor_clock() + linger_ms / 1000.0)
            return
        self.closed = True
        self._cancel_attempts()
        if stream is not None:
            stream.close()

    @staticmethod
    def reactor_clock() -> float:
        import time
        return time.monotonic()

    def _cancel_attempts(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending is not None:
            self.reactor.unregister(self._pending.fileno())
            self._pending.close()
            self._pending = None

    def _linger_expired(self) -> None:
        if not self.lingering:
            return
        self.lingering = False
        self.closed = True
        self._cancel_attempts()
        if self.stream is not None:
            self.stream.close()
        self.engine.lingering_done(self)

    def _hand_linger_to(self, stream: StreamConnection) -> None:
        """Connected while lingering: the stream sends the backlog and closes."""
        if not self.lingering:
            return
        self.lingering = False
        self.closed = True
        if self._linger_timer is not None:
            self._linger_timer.cancel()
        remaining = -1
        if self._linger_deadline is not None:
            remaining = max(1, int((self._linger_deadline - self.reactor_clock()) * 1000))
        stream.shutdown(remaining)
        self.engine.lingering_done(self)
