"""Raw-socket tools for playing a hostile ZMTP peer: exact bytes in, observed bytes out.

Nothing here uses puremq's own codec: the bytes are written out by hand from ZMTP_NOTES.md
so that a bug in puremq's encoder cannot hide the same bug in its decoder.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import time
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

try:
    import tracemalloc
except ImportError:  # pragma: no cover - PyPy has no tracemalloc
    tracemalloc = None  # type: ignore[assignment]

#: A valid ZMTP 3.1 greeting for the NULL mechanism (as-server = 0).
GREETING = (b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x01" + b"NULL".ljust(20, b"\x00")
            + b"\x00" + b"\x00" * 31)
assert len(GREETING) == 64

#: How long a raw peer waits for puremq to do something (close, answer) before failing.
WAIT = 5.0


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Poll ``condition`` until it holds (for state that has nothing to block on)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.005)


# -- encoding by hand ------------------------------------------------------------------------
def short_frame(flags: int, body: bytes) -> bytes:
    assert len(body) < 256
    return bytes((flags, len(body))) + body


def long_header(flags: int, size: int) -> bytes:
    """A frame header with the 8-octet size (LONG must be in ``flags``)."""
    return bytes((flags,)) + struct.pack(">Q", size)


def message(*frames: bytes) -> bytes:
    """A multipart message with short or long sizes as the RFC recommends."""
    out = b""
    for index, frame in enumerate(frames):
        more = 0x01 if index < len(frames) - 1 else 0x00
        if len(frame) < 256:
            out += short_frame(more, frame)
        else:
            out += long_header(more | 0x02, len(frame)) + frame
    return out


def prop(name: bytes, value: bytes) -> bytes:
    return bytes((len(name),)) + name + struct.pack(">I", len(value)) + value


def command(name: bytes, data: bytes = b"") -> bytes:
    body = bytes((len(name),)) + name + data
    if len(body) < 256:
        return short_frame(0x04, body)
    return long_header(0x06, len(body)) + body


def ready(socket_type: Optional[bytes], identity: Optional[bytes] = None,
          extra: bytes = b"") -> bytes:
    """A NULL READY command; ``None`` leaves a property out."""
    metadata = b""
    if socket_type is not None:
        metadata += prop(b"Socket-Type", socket_type)
    if identity is not None:
        metadata += prop(b"Identity", identity)
    return command(b"READY", metadata + extra)


def ready_body(metadata: bytes) -> bytes:
    """A READY command around arbitrary (possibly malformed) metadata bytes."""
    return command(b"READY", metadata)


# -- endpoints -------------------------------------------------------------------------------
def tcp_address(endpoint: str) -> Tuple[str, int]:
    assert endpoint.startswith("tcp://"), endpoint
    host, port = endpoint[len("tcp://"):].rsplit(":", 1)
    return host.strip("[]"), int(port)


def last_endpoint(sock) -> str:  # a puremq or pyzmq socket
    value = sock.getsockopt(32)  # ZMQ_LAST_ENDPOINT
    return value.decode() if isinstance(value, bytes) else value


# -- a raw peer ------------------------------------------------------------------------------
class RawPeer:
    """One raw TCP connection to (or accepted from) a puremq socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.settimeout(WAIT)
        self._buffer = b""

    @classmethod
    def connect(cls, endpoint: str) -> "RawPeer":
        return cls(socket.create_connection(tcp_address(endpoint), timeout=WAIT))

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def try_send(self, data: bytes) -> bool:
        """Send, tolerating a connection puremq already dropped."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "RawPeer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------
    def recv_exact(self, count: int, timeout: float = WAIT) -> bytes:
        deadline = time.monotonic() + timeout
        while len(self._buffer) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {count} bytes "
                                     f"(have {self._buffer!r})")
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"connection closed while waiting for {count} bytes "
                                     f"(have {self._buffer!r})")
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def read_greeting(self) -> bytes:
        greeting = self.recv_exact(64)
        assert greeting[0] == 0xFF and greeting[9] == 0x7F and greeting[10] == 3, greeting
        return greeting

    def read_frame(self, timeout: float = WAIT) -> Tuple[int, bytes]:
        flags = self.recv_exact(1, timeout)[0]
        if flags & 0x02:
            size = struct.unpack(">Q", self.recv_exact(8, timeout))[0]
        else:
            size = self.recv_exact(1, timeout)[0]
        return flags, self.recv_exact(size, timeout)

    def read_command(self, timeout: float = WAIT) -> Tuple[bytes, bytes]:
        flags, body = self.read_frame(timeout)
        assert flags & 0x04, f"expected a command, got flags {flags:#x} body {body!r}"
        name_len = body[0]
        return body[1:1 + name_len], body[1 + name_len:]

    def read_message(self, timeout: float = WAIT) -> List[bytes]:
        frames = []
        while True:
            flags, body = self.read_frame(timeout)
            if flags & 0x04:
                continue  # a command between messages (PING, SUBSCRIBE, ...)
            frames.append(body)
            if not flags & 0x01:
                return frames

    def handshake(self, socket_type: bytes, identity: Optional[bytes] = None) -> Dict[str, bytes]:
        """Complete a NULL handshake as ``socket_type``; returns puremq's READY properties."""
        self.send(GREETING + ready(socket_type, identity))
        return self.expect_ready()

    def expect_ready(self) -> Dict[str, bytes]:
        self.read_greeting()
        name, data = self.read_command()
        assert name == b"READY", (name, data)
        return parse_properties(data)

    def wait_closed(self, timeout: float = WAIT) -> float:
        """Wait for puremq to close the connection (EOF or reset), discarding what it sends.

        Returns the seconds it took; fails the test if the connection stays open.
        """
        start = time.monotonic()
        deadline = start + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"puremq kept the connection open for {timeout} s")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return time.monotonic() - start
            except OSError as exc:
                if exc.errno in (errno.ECONNRESET, errno.EPIPE):
                    return time.monotonic() - start
                raise
            if not chunk:
                return time.monotonic() - start
            self._buffer += chunk

    def is_open_after(self, seconds: float) -> bool:
        """True if puremq neither closed nor reset the connection within ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            self._buffer += chunk

    @property
    def received(self) -> bytes:
        return self._buffer


def parse_properties(data: bytes) -> Dict[str, bytes]:
    props: Dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        name_len = data[pos]
        name = data[pos + 1:pos + 1 + name_len].decode()
        pos += 1 + name_len
        value_len = struct.unpack(">I", data[pos:pos + 4])[0]
        pos += 4
        props[name] = data[pos:pos + value_len]
        pos += value_len
    return props


class RawListener:
    """A raw listening TCP socket that a puremq socket connects to."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(WAIT)
        self.endpoint = "tcp://127.0.0.1:%d" % self.sock.getsockname()[1]

    def accept(self, timeout: float = WAIT) -> RawPeer:
        self.sock.settimeout(timeout)
        conn, _addr = self.sock.accept()
        return RawPeer(conn)

    def accepts_within(self, seconds: float) -> Optional[RawPeer]:
        try:
            return self.accept(seconds)
        except socket.timeout:
            return None

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "RawListener":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- puremq-side helpers -------------------------------------------------------------------------
def assert_nothing_more(sock, wait_ms: int = 100) -> None:
    """No further message is waiting on ``sock`` (nothing half-delivered or smuggled in)."""
    events = sock.poll(wait_ms)
    if events:
        raise AssertionError(f"unexpected extra message: {sock.recv_multipart()!r}")


def round_trip_push_pull(push, pull, payload: Sequence[bytes] = (b"good", b"peer")) -> None:
    """``push`` sends a multipart message; ``pull`` receives exactly it, whole."""
    push.send_multipart(list(payload))
    assert pull.poll(int(WAIT * 1000)), "the well-behaved peer's message did not arrive"
    assert pull.recv_multipart() == list(payload)


# -- memory ----------------------------------------------------------------------------------------
#: Where tracemalloc is missing (PyPy) the resident set size is measured instead; it moves
#: with the JIT and the GC, so the bound is relaxed by this factor (a pre-allocation of a
#: claimed size would still be far beyond it).
COARSE_FACTOR = 16


class MemoryWatch:
    """Peak memory growth over an episode: tracemalloc (every thread, so the I/O thread's
    allocations count), or the resident set size where tracemalloc is missing."""

    def __init__(self) -> None:
        self.peak_growth = 0
        self.coarse = False

    def within(self, bound: int) -> bool:
        return self.peak_growth < (bound * COARSE_FACTOR if self.coarse else bound)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def memory_watch() -> Iterator[MemoryWatch]:
    """Measure peak memory growth (all threads) while the block runs."""
    watch = MemoryWatch()
    started_here = False
    if tracemalloc is not None and not tracemalloc.is_tracing():
        try:
            tracemalloc.start()
            started_here = True
        except Exception:  # pragma: no cover - a stub tracemalloc
            pass
    if tracemalloc is not None and tracemalloc.is_tracing():
        tracemalloc.reset_peak()
        base, _peak = tracemalloc.get_traced_memory()
        try:
            yield watch
            _current, peak = tracemalloc.get_traced_memory()
            watch.peak_growth = peak - base
        finally:
            if started_here:
                tracemalloc.stop()
    else:  # pragma: no cover - PyPy: resident set size is the coarse fallback
        watch.coarse = True
        base = _rss_bytes()
        yield watch
        watch.peak_growth = _rss_bytes() - base
