"""RECONNECT_IVL and RECONNECT_IVL_MAX, measured from outside with raw listening sockets.

libzmq 4.3.5 (stream_connecter_base_t::get_new_reconnect_ivl): without a maximum each
retry waits RECONNECT_IVL plus a random jitter below RECONNECT_IVL; with a maximum the
wait starts at RECONNECT_IVL and doubles after every *failed* connect, capped at
RECONNECT_IVL_MAX, without jitter.  A connect that succeeded at the TCP level starts a
new connecter, so the backoff starts over.

Each measurement runs for pyzmq (the reference) and puremq at the same time, in two
threads with their own contexts and ports, and the same bounds are asserted of both.
"""

from __future__ import annotations

import socket
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Tuple

from ..api._compare import MODULES
from ._util import free_tcp_port


def _both(measure: Callable[[Any, Any], Any]) -> Dict[str, Any]:
    """``measure(ctx, zmq)`` for pyzmq and puremq concurrently; results by module name."""
    def run(name: str) -> Any:
        zmq = MODULES[name]
        ctx = zmq.Context()
        try:
            return measure(ctx, zmq)
        finally:
            ctx.destroy(linger=0)
    with ThreadPoolExecutor(max_workers=len(MODULES)) as pool:
        futures = {name: pool.submit(run, name) for name in MODULES}
        return {name: future.result() for name, future in futures.items()}


def _listener(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    return sock


def _dealer(ctx: Any, zmq: Any, ivl: int, ivl_max: int) -> Any:
    sock = ctx.socket(zmq.DEALER)
    sock.reconnect_ivl = ivl
    sock.reconnect_ivl_max = ivl_max
    sock.linger = 0
    return sock


def _count_attempts(ctx: Any, zmq: Any, ivl: int, ivl_max: int,
                    seconds: float = 1.0) -> List[float]:
    """Accept (and at once close) every connection for ``seconds``; the gaps in ms."""
    listener = _listener()
    listener.settimeout(0.05)
    dealer = _dealer(ctx, zmq, ivl, ivl_max)
    dealer.connect("tcp://127.0.0.1:%d" % listener.getsockname()[1])
    stamps: List[float] = []
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            stamps.append(time.monotonic())
            conn.close()
    finally:
        dealer.close()
        listener.close()
    return [(b - a) * 1000 for a, b in zip(stamps, stamps[1:])]


def test_reconnect_ivl_paces_reconnections() -> None:
    """No maximum: every reconnection waits RECONNECT_IVL plus a jitter below it."""
    for name, gaps in _both(lambda ctx, zmq: _count_attempts(ctx, zmq, 40, 0)).items():
        assert 10 <= len(gaps) <= 26, (name, gaps)  # ~1 s / 40..80 ms
        assert min(gaps) >= 35, (name, gaps)
        assert statistics.median(gaps) < 80 + 20, (name, gaps)


def test_backoff_starts_over_after_a_successful_connect() -> None:
    """With a maximum, each accepted-then-dropped connection is retried after exactly
    RECONNECT_IVL again (the TCP connect succeeded): no growth."""
    for name, gaps in _both(lambda ctx, zmq: _count_attempts(ctx, zmq, 100, 1000)).items():
        assert len(gaps) >= 6, (name, gaps)
        assert min(gaps) >= 90, (name, gaps)
        # no doubling, and no jitter either (with jitter the median would be ~150)
        assert statistics.median(gaps) < 125, (name, gaps)


def _first_connection_after(ctx: Any, zmq: Any, ivl: int, ivl_max: int,
                            open_at_ms: int) -> Tuple[float, bool]:
    """Connect to a closed port, open a listener there ``open_at_ms`` later, and return
    how long the listener waited for the first connection (ms)."""
    port = free_tcp_port()
    dealer = _dealer(ctx, zmq, ivl, ivl_max)
    started = time.monotonic()
    dealer.connect("tcp://127.0.0.1:%d" % port)
    try:
        time.sleep(max(0.0, started + open_at_ms / 1000 - time.monotonic()))
        listener = _listener(port)
        opened = time.monotonic()
        listener.settimeout(3)
        try:
            conn, _ = listener.accept()
            conn.close()
            return (time.monotonic() - opened) * 1000, True
        except socket.timeout:
            return 3000.0, False
        finally:
            listener.close()
    finally:
        dealer.close()


def test_failed_connects_back_off_exponentially_up_to_the_maximum() -> None:
    """RECONNECT_IVL 10, RECONNECT_IVL_MAX 300: refused attempts at about 0, 10, 30, 70,
    150, 310, 610, 910 ms.  A listener opened at 700 ms waits about 210 ms for the next
    one -- more than 2 x 10 (so the gaps grew), at most the 300 ms cap (without the cap
    the doubling would reach 1270 ms, a 570 ms wait)."""
    results = _both(lambda ctx, zmq: _first_connection_after(ctx, zmq, 10, 300, 700))
    for name, (waited, connected) in results.items():
        assert connected, name
        assert 20 < waited <= 300 + 100, (name, waited)


def test_without_a_maximum_failed_connects_do_not_back_off() -> None:
    results = _both(lambda ctx, zmq: _first_connection_after(ctx, zmq, 10, 0, 700))
    for name, (waited, connected) in results.items():
        assert connected, name
        assert waited <= 20 + 60, (name, waited)  # RECONNECT_IVL + jitter, plus slack


def test_reconnect_ivl_minus_one_never_retries() -> None:
    """RECONNECT_IVL -1: a refused connect is not retried."""
    assert _both(_retried_after_refusal) == {name: False for name in MODULES}


def _retried_after_refusal(ctx: Any, zmq: Any) -> bool:
    port = free_tcp_port()
    dealer = _dealer(ctx, zmq, -1, 0)
    dealer.connect("tcp://127.0.0.1:%d" % port)
    time.sleep(0.1)  # the one refused attempt happens now
    listener = _listener(port)
    listener.settimeout(0.5)
    try:
        try:
            conn, _ = listener.accept()
            conn.close()
            retried = True
        except socket.timeout:
            retried = False
    finally:
        listener.close()
        dealer.close()
    return retried
