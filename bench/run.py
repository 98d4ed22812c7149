#!/usr/bin/env python3
"""puremq vs pyzmq: one harness, identical code, one run, one machine (docs/BENCHMARKS.md).

Two modes:

* driver (the default): runs every row against both implementations, alternating
  A/B/A/B for ``--rounds`` rounds, and prints a markdown table of the median figures, the
  median puremq/pyzmq ratio and the figures of the physical limits (raw sockets, and two
  plain threads waking each other for inproc)::

      python bench/run.py --rounds 3
      python bench/run.py --quick
      python bench/run.py --python /usr/bin/pypy3        # puremq side under PyPy

* worker (``--worker SPEC``): one measurement of one implementation; the driver starts it as
  a subprocess (so each implementation can run under its own interpreter and a hang can be
  killed) and reads the ``RESULT {json}`` line it prints.

The implementation is imported as the module-level name ``zmq``; every benchmark function
below uses only ``zmq`` and so runs identical Python code against pyzmq and puremq.

Timeouts at every level: every receiving socket has RCVTIMEO and every sending socket
SNDTIMEO; a parent process waits for its children with a timeout; a watchdog thread ends a
worker that outlives its budget; the driver kills the worker's process group after its own
timeout.  A row that fails reports FAILED/TIMEOUT with the reason instead of hanging.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import multiprocessing
import os
import platform
import select
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

zmq: Any = None  # the implementation under test, bound by use_impl()

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THIS_FILE = os.path.abspath(__file__)

KiB = 1024
MiB = 1024 * 1024
THR_SIZES = [16, 128, KiB, 8 * KiB, 64 * KiB, MiB]
LAT_SIZES = [128, 64 * KiB]
TRANSPORTS = ["tcp", "ipc", "inproc"]
ALL_TESTS = ["raw", "thr", "lat", "fanout", "proxy", "many"]
IMPLS = ["pyzmq", "puremq"]

# pilot message counts for thr (about 0.1-0.3 s at pyzmq's speed); the real count of each
# (row, implementation) is then chosen from the pilot's rate so that a run lasts --target s
PILOT_COUNT = {16: 100_000, 128: 100_000, KiB: 60_000, 8 * KiB: 20_000, 64 * KiB: 4_000,
               MiB: 300}
MIN_COUNT = {16: 20_000, 128: 20_000, KiB: 10_000, 8 * KiB: 5_000, 64 * KiB: 1_000, MiB: 100}
MAX_COUNT = 20_000_000


class BenchTimeout(Exception):
    """A benchmark did not finish within its timeout (a bug, not a slow figure)."""


# ------------------------------------------------------------------------------------------
# implementation binding and the common knobs
# ------------------------------------------------------------------------------------------

def module_name(impl: str) -> str:
    return "zmq" if impl == "pyzmq" else impl


def use_impl(impl: str) -> Any:
    """Import the implementation and bind it as the global ``zmq``."""
    global zmq
    zmq = importlib.import_module(module_name(impl))
    return zmq


def new_context() -> Any:
    """A context with one I/O thread (the knob both sides share)."""
    return zmq.Context(io_threads=1)


def new_socket(ctx: Any, kind: int, timeout_ms: int) -> Any:
    """A socket with the shared knobs: default HWM and buffers, LINGER 0, and a send and a
    receive timeout so that a stuck peer fails the row instead of hanging it."""
    sock = ctx.socket(kind)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, timeout_ms)
    sock.setsockopt(zmq.SNDTIMEO, timeout_ms)
    return sock


def close_all(ctx: Any, *socks: Any) -> None:
    for sock in socks:
        if sock is not None:
            sock.close(linger=0)
    if ctx is not None:
        ctx.term()


def endpoint_for(transport: str, tmpdir: str) -> str:
    if transport == "tcp":
        return "tcp://127.0.0.1:*"
    if transport == "ipc":
        return "ipc://" + os.path.join(tmpdir, uuid.uuid4().hex[:12])
    return "inproc://bench-" + uuid.uuid4().hex


def bound_endpoint(sock: Any, requested: str) -> str:
    """The endpoint a peer must connect to (the kernel's port for tcp://...:*)."""
    if requested.startswith("tcp://"):
        last = sock.getsockopt(zmq.LAST_ENDPOINT)
        return last.decode() if isinstance(last, bytes) else last
    return requested


def spawn_context() -> Any:
    return multiprocessing.get_context("spawn")


def wait_for(conn: Any, timeout: float, what: str) -> Any:
    """The next object on a multiprocessing connection, or BenchTimeout."""
    if not conn.poll(timeout):
        raise BenchTimeout(f"no {what} from the peer process within {timeout:.0f} s")
    msg = conn.recv()
    if isinstance(msg, tuple) and msg and msg[0] == "error":
        raise RuntimeError(f"peer process failed: {msg[1]}")
    return msg


def reap(procs: List[Any], timeout: float, notes: List[str]) -> None:
    """Join child processes; terminate (then kill) any that do not end in time."""
    deadline = time.monotonic() + timeout
    for proc in procs:
        proc.join(max(0.1, deadline - time.monotonic()))
    for proc in procs:
        if proc.is_alive():
            notes.append(f"child {proc.name} did not exit within {timeout:.0f} s "
                         f"after the run (terminated)")
            proc.terminate()
            proc.join(2)
            if proc.is_alive():
                proc.kill()
                proc.join(2)
        elif proc.exitcode not in (0, None):
            notes.append(f"child {proc.name} exit code {proc.exitcode}")


def child_guard(conn: Any, body: Callable[[], None]) -> None:
    """Run a child's body; send any exception to the parent instead of dying silently."""
    try:
        body()
    except BaseException as exc:  # noqa: BLE001 -- reported to the parent
        try:
            conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
        except Exception:
            pass
        raise SystemExit(2)


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


# ------------------------------------------------------------------------------------------
# thr: libzmq's local_thr / remote_thr
# ------------------------------------------------------------------------------------------

def thr_sender(impl: str, endpoint: str, size: int, count: int, timeout_ms: int,
               conn: Any) -> None:
    """remote_thr: PUSH connects and sends ``count`` messages of ``size`` bytes.  It closes
    only when the receiver says it has them all (LINGER is 0)."""
    def body() -> None:
        use_impl(impl)
        ctx = new_context()
        sock = new_socket(ctx, zmq.PUSH, timeout_ms)
        sock.connect(endpoint)
        msg = b"\x00" * size
        send = sock.send
        for _ in range(count):
            send(msg)
        conn.send("sent")
        conn.poll(timeout_ms / 1000.0)
        close_all(ctx, sock)
    child_guard(conn, body)


def thr_receive(sock: Any, size: int, count: int) -> Tuple[float, int]:
    """local_thr: the clock runs from the first message received to the last."""
    recv = sock.recv
    got = 0
    try:
        first = recv()
        got = 1
        start = time.perf_counter()
        for _ in range(count - 2):
            recv()
        last = recv()
        got = count
        elapsed = time.perf_counter() - start
    except zmq.Again:
        raise BenchTimeout(f"receiver got {got}/{count} messages, then nothing for "
                           f"RCVTIMEO") from None
    except Exception:
        raise
    if len(first) != size or len(last) != size:
        raise RuntimeError(f"wrong message size: {len(first)}/{len(last)}, expected {size}")
    return elapsed, got


def _bind(sock: Any, transport: str, tmpdir: str) -> str:
    requested = endpoint_for(transport, tmpdir)
    sock.bind(requested)
    return bound_endpoint(sock, requested)


def bench_thr_impl(spec: Dict[str, Any]) -> Dict[str, Any]:
    size, transport = spec["size"], spec["transport"]
    count = max(spec["count"], 3)
    timeout_ms = spec["io_timeout_ms"]
    notes: List[str] = []
    ctx = new_context()
    pull = new_socket(ctx, zmq.PULL, timeout_ms)
    procs: List[Any] = []
    done = threading.Event()
    thread = None
    with tempfile.TemporaryDirectory(prefix="puremq-bench-") as tmpdir:
        endpoint = _bind(pull, transport, tmpdir)
        if transport == "inproc":
            push = new_socket(ctx, zmq.PUSH, timeout_ms)
            push.connect(endpoint)
            errors: List[str] = []

            def send_all() -> None:
                try:
                    msg = b"\x00" * size
                    send = push.send
                    for _ in range(count):
                        send(msg)
                    done.wait(timeout_ms / 1000.0)
                except Exception as exc:  # reported by the receiver's timeout
                    errors.append(f"{type(exc).__name__}: {exc}")
                finally:
                    push.close(linger=0)
            thread = threading.Thread(target=send_all, name="inproc-sender", daemon=True)
            thread.start()
            try:
                elapsed, got = thr_receive(pull, size, count)
            except BenchTimeout as exc:
                raise BenchTimeout(f"{exc}; sender: {errors or 'no error'}") from None
            finally:
                done.set()
        else:
            mp = spawn_context()
            parent_conn, child_conn = mp.Pipe()
            proc = mp.Process(target=thr_sender, name="thr-sender", daemon=True,
                              args=(spec["impl"], endpoint, size, count, timeout_ms,
                                    child_conn))
            proc.start()
            procs.append(proc)
            try:
                elapsed, got = thr_receive(pull, size, count)
            except BenchTimeout as exc:
                extra = ""
                if parent_conn.poll(0):
                    extra = f"; sender said {parent_conn.recv()!r}"
                raise BenchTimeout(f"{exc}{extra}") from None
            finally:
                try:
                    parent_conn.send("done")
                except Exception:
                    pass
        rate = (got - 1) / elapsed
        report({"ok": True, "metrics": {"msgs": rate, "bw": rate * size},
                "count": got, "seconds": elapsed, "notes": notes})
        if thread is not None:
            thread.join(timeout_ms / 1000.0)
            if thread.is_alive():
                notes.append("inproc sender thread did not end")
        reap(procs, 10, notes)
        close_all(ctx, pull)
    return {"ok": True, "notes": notes}


# ------------------------------------------------------------------------------------------
# lat: libzmq's local_lat / remote_lat
# ------------------------------------------------------------------------------------------

def lat_echo(impl: str, transport: str, tmpdir: str, count: int, timeout_ms: int,
             conn: Any) -> None:
    """local_lat: REP binds and echoes ``count`` + 1 messages (one is the warm-up)."""
    def body() -> None:
        use_impl(impl)
        ctx = new_context()
        sock = new_socket(ctx, zmq.REP, timeout_ms)
        conn.send(_bind(sock, transport, tmpdir))
        recv, send = sock.recv, sock.send
        for _ in range(count + 1):
            send(recv())
        conn.poll(timeout_ms / 1000.0)
        close_all(ctx, sock)
    child_guard(conn, body)


def lat_measure(sock: Any, size: int, count: int) -> List[float]:
    """remote_lat: one warm-up round trip, then ``count`` timed ones."""
    msg = b"\x00" * size
    send, recv = sock.send, sock.recv
    clock = time.perf_counter
    samples = [0.0] * count
    done = 0
    try:
        send(msg)
        if len(recv()) != size:
            raise RuntimeError("echo of the wrong size")
        for index in range(count):
            start = clock()
            send(msg)
            recv()
            samples[index] = clock() - start
            done += 1
    except zmq.Again:
        raise BenchTimeout(f"round trip {done + 1}/{count} timed out (RCVTIMEO)") from None
    return samples


def lat_metrics(samples: List[float]) -> Dict[str, float]:
    ordered = sorted(samples)
    n = len(ordered)
    return {"mean_us": sum(samples) / n * 1e6,
            "p50_us": ordered[n // 2] * 1e6,
            "p99_us": ordered[min(n - 1, int(math.ceil(n * 0.99)) - 1)] * 1e6}


def bench_lat(spec: Dict[str, Any]) -> Dict[str, Any]:
    size, transport, count = spec["size"], spec["transport"], spec["count"]
    timeout_ms = spec["io_timeout_ms"]
    notes: List[str] = []
    ctx = new_context()
    req = new_socket(ctx, zmq.REQ, timeout_ms)
    procs: List[Any] = []
    with tempfile.TemporaryDirectory(prefix="puremq-bench-") as tmpdir:
        if transport == "inproc":
            rep = new_socket(ctx, zmq.REP, timeout_ms)
            endpoint = _bind(rep, transport, tmpdir)
            finished = threading.Event()
            errors: List[str] = []

            def echo() -> None:
                try:
                    recv, send = rep.recv, rep.send
                    for _ in range(count + 1):
                        send(recv())
                    finished.wait(timeout_ms / 1000.0)
                except Exception as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                finally:
                    rep.close(linger=0)
            thread = threading.Thread(target=echo, name="inproc-echo", daemon=True)
            thread.start()
            req.connect(endpoint)
            try:
                samples = lat_measure(req, size, count)
            except BenchTimeout as exc:
                raise BenchTimeout(f"{exc}; echo thread: {errors or 'no error'}") from None
            finally:
                finished.set()
            report({"ok": True, "metrics": lat_metrics(samples), "count": count,
                    "notes": notes})
            thread.join(timeout_ms / 1000.0)
        else:
            mp = spawn_context()
            parent_conn, child_conn = mp.Pipe()
            proc = mp.Process(target=lat_echo, name="lat-echo", daemon=True,
                              args=(spec["impl"], transport, tmpdir, count, timeout_ms,
                                    child_conn))
            proc.start()
            procs.append(proc)
            endpoint = wait_for(parent_conn, timeout_ms / 1000.0, "endpoint")
            req.connect(endpoint)
            try:
                samples = lat_measure(req, size, count)
            except BenchTimeout as exc:
                extra = ""
                if parent_conn.poll(0):
                    extra = f"; echo process said {parent_conn.recv()!r}"
                raise BenchTimeout(f"{exc}{extra}") from None
            finally:
                try:
                    parent_conn.send("done")
                except Exception:
                    pass
            report({"ok": True, "metrics": lat_metrics(samples), "count": count,
                    "notes": notes})
            reap(procs, 10, notes)
        close_all(ctx, req)
    return {"ok": True, "notes": notes}


# ------------------------------------------------------------------------------------------
# fanout: one PUB, 8 SUB processes, all subscribed
# ------------------------------------------------------------------------------------------

def shared_clock() -> float:
    """CLOCK_MONOTONIC: one clock for every process on the machine (Linux)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def fanout_subscriber(impl: str, endpoint: str, timeout_ms: int, conn: Any) -> None:
    """Count the data messages (b'D...') until the end marker (b'E'); report the count and
    when the last one arrived, on the clock the publisher shares."""
    def body() -> None:
        use_impl(impl)
        ctx = new_context()
        sock = new_socket(ctx, zmq.SUB, timeout_ms)
        sock.setsockopt(zmq.SUBSCRIBE, b"")
        sock.connect(endpoint)
        recv = sock.recv
        clock = shared_clock
        while True:  # warm-up until the subscription has reached the publisher
            if recv()[:1] == b"W":
                break
        conn.send("warm")
        got = 0
        last = 0.0
        while True:
            msg = recv()
            tag = msg[:1]
            if tag == b"D":
                last = clock()
                got += 1
            elif tag == b"E":
                break
        conn.send(("result", got, last))
        conn.poll(timeout_ms / 1000.0)
        close_all(ctx, sock)
    child_guard(conn, body)


def bench_fanout(spec: Dict[str, Any]) -> Dict[str, Any]:
    count, size, subs = spec["count"], spec["size"], spec.get("subscribers", 8)
    timeout_ms = spec["io_timeout_ms"]
    timeout_s = timeout_ms / 1000.0
    notes: List[str] = []
    ctx = new_context()
    pub = new_socket(ctx, zmq.PUB, timeout_ms)
    endpoint = _bind(pub, "tcp", "")
    mp = spawn_context()
    conns, procs = [], []
    try:
        for index in range(subs):
            parent_conn, child_conn = mp.Pipe()
            proc = mp.Process(target=fanout_subscriber, name=f"sub-{index}", daemon=True,
                              args=(spec["impl"], endpoint, timeout_ms, child_conn))
            proc.start()
            conns.append(parent_conn)
            procs.append(proc)
        warm = set()
        deadline = time.monotonic() + timeout_s + 10 * subs
        while len(warm) < subs:
            if time.monotonic() > deadline:
                raise BenchTimeout(f"only {len(warm)}/{subs} subscribers received the "
                                   f"warm-up messages")
            pub.send(b"W")
            for index, conn in enumerate(conns):
                if index not in warm and conn.poll(0.001):
                    wait_for(conn, 0, "warm-up")
                    warm.add(index)
        msg = b"D" + b"\x00" * (size - 1)
        send = pub.send
        start = shared_clock()
        for _ in range(count):
            send(msg)
        send_seconds = shared_clock() - start
        results: Dict[int, Tuple[int, float]] = {}
        deadline = time.monotonic() + timeout_s
        while len(results) < subs:
            if time.monotonic() > deadline:
                raise BenchTimeout(f"only {len(results)}/{subs} subscribers saw the end "
                                   f"marker")
            pub.send(b"E")
            for index, conn in enumerate(conns):
                if index not in results and conn.poll(0.01 / subs):
                    _, got, last = wait_for(conn, 0, "result")
                    results[index] = (got, last)
        for conn in conns:
            conn.send("done")
        # rates over the publishing window: from the PUB's first send to each SUB's last
        # receipt, so that a SUB that got a short burst (the PUB drops at SNDHWM) does
        # not look fast
        rates = sorted(got / (last - start) if got and last > start else 0.0
                       for got, last in results.values())
        window = max(last for _, last in results.values()) - start
        total = sum(got for got, _ in results.values())
        delivered = [got / count for got, _ in results.values()]
        report({"ok": True, "count": count, "notes": notes, "metrics": {
            "sum_msgs": total / window if window > 0 else 0.0,
            "sub_msgs": statistics.median(rates), "pub_msgs": count / send_seconds,
            "delivered_min": min(delivered), "delivered_mean": sum(delivered) / subs}})
    finally:
        reap(procs, 10, notes)
    close_all(ctx, pub)
    return {"ok": True, "notes": notes}


# ------------------------------------------------------------------------------------------
# proxy: PUSH -> zmq.proxy(PULL, PUSH) -> PULL, each implementation's own zmq.proxy
# ------------------------------------------------------------------------------------------

def proxy_process(impl: str, timeout_ms: int, conn: Any) -> None:
    """Run zmq.proxy in a thread; end it by terminating the context (as pyzmq documents)."""
    def body() -> None:
        use_impl(impl)
        ctx = new_context()
        ready: List[Any] = []
        failure: List[str] = []
        started = threading.Event()

        def run() -> None:
            frontend = backend = None
            try:
                frontend = new_socket(ctx, zmq.PULL, -1)
                backend = new_socket(ctx, zmq.PUSH, -1)
                ready.append(_bind(frontend, "tcp", ""))
                ready.append(_bind(backend, "tcp", ""))
                started.set()
                zmq.proxy(frontend, backend)
            except zmq.ContextTerminated:
                pass
            except Exception as exc:
                failure.append(f"{type(exc).__name__}: {exc}")
            finally:
                started.set()
                for sock in (frontend, backend):
                    if sock is not None:
                        sock.close(linger=0)
        thread = threading.Thread(target=run, name="proxy", daemon=True)
        thread.start()
        started.wait(timeout_ms / 1000.0)
        if len(ready) != 2:
            raise RuntimeError(f"proxy did not start: {failure}")
        conn.send(tuple(ready))
        conn.poll(timeout_ms / 1000.0 * 10)
        ctx.term()
        thread.join(timeout_ms / 1000.0)
        if failure:
            raise RuntimeError(f"proxy failed: {failure[0]}")
    child_guard(conn, body)


def bench_proxy(spec: Dict[str, Any]) -> Dict[str, Any]:
    size, count = spec["size"], max(spec["count"], 3)
    timeout_ms = spec["io_timeout_ms"]
    notes: List[str] = []
    mp = spawn_context()
    proxy_conn, proxy_child = mp.Pipe()
    proxy = mp.Process(target=proxy_process, name="proxy", daemon=True,
                       args=(spec["impl"], timeout_ms, proxy_child))
    proxy.start()
    procs = [proxy]
    ctx = new_context()
    pull = new_socket(ctx, zmq.PULL, timeout_ms)
    try:
        front, back = wait_for(proxy_conn, timeout_ms / 1000.0, "proxy endpoints")
        pull.connect(back)
        sender_conn, sender_child = mp.Pipe()
        sender = mp.Process(target=thr_sender, name="proxy-sender", daemon=True,
                            args=(spec["impl"], front, size, count, timeout_ms,
                                  sender_child))
        sender.start()
        procs.append(sender)
        try:
            elapsed, got = thr_receive(pull, size, count)
        finally:
            for conn in (sender_conn, proxy_conn):
                try:
                    conn.send("done")
                except Exception:
                    pass
        rate = (got - 1) / elapsed
        report({"ok": True, "metrics": {"msgs": rate, "bw": rate * size}, "count": got,
                "seconds": elapsed, "notes": notes})
    finally:
        reap(procs, 10, notes)
    close_all(ctx, pull)
    return {"ok": True, "notes": notes}


# ------------------------------------------------------------------------------------------
# many: 1,000 DEALERs on one ROUTER
# ------------------------------------------------------------------------------------------

def many_dealers(impl: str, endpoint: str, dealers: int, rounds: int, size: int,
                 timeout_ms: int, conn: Any) -> None:
    """One DEALER alone does ``SOLO_RUNS`` runs of ``SOLO_TRIPS`` pipelined round trips;
    then ``dealers - 1`` more connect (each says hello and waits for the echo) and stay
    idle while the first does the same runs again; then ``rounds`` rounds of one request
    per dealer, all sent before any reply is read; then the others leave and the first
    runs alone once more.  Each phase's rate is the median of its runs; the baseline of
    the idle phase is the mean of the two alone phases around it."""
    def body() -> None:
        use_impl(impl)
        ctx = new_context()
        ctx.setsockopt(zmq.LINGER, 0)
        msg = b"\x00" * size
        first = new_socket(ctx, zmq.DEALER, timeout_ms)
        first.connect(endpoint)
        first.send(b"hello")
        first.recv()
        solo_before = _solo_rate(first, msg)
        socks = [first]
        rss_before = rss_bytes()
        start = time.perf_counter()
        for _ in range(dealers - 1):
            sock = new_socket(ctx, zmq.DEALER, timeout_ms)
            sock.connect(endpoint)
            sock.send(b"hello")
            socks.append(sock)
        for sock in socks[1:]:
            sock.recv()
        connect_seconds = time.perf_counter() - start
        rss_after = rss_bytes()
        # (a first run is thrown away here too: the connections are still settling, the
        # ROUTER's last handshakes and the DEALERs' first receives)
        _solo_round_trips(first, msg)
        solo_idle = _solo_rate(first, msg)
        start = time.perf_counter()
        for _ in range(rounds):
            for sock in socks:
                sock.send(msg)
            for sock in socks:
                sock.recv()
        rtt_seconds = time.perf_counter() - start
        # Alone again, so that the idle run is bracketed: on a shared VM one ~0.1 s run's
        # rate moved by up to 2x between runs seconds apart, for both implementations,
        # which made a ratio to a single earlier run mostly noise.  The first run after
        # the close is thrown away: the ROUTER is still taking the connections down.
        for sock in socks[1:]:
            sock.close()
        _solo_round_trips(first, msg)
        solo_after = _solo_rate(first, msg)
        conn.send(("result", connect_seconds, (rss_after - rss_before) / (dealers - 1),
                   rtt_seconds, solo_before, solo_idle, solo_after))
        conn.poll(timeout_ms / 1000.0)
        close_all(ctx, *socks)
    child_guard(conn, body)


#: round trips of the one active DEALER, alone and with the idle ones attached
SOLO_TRIPS = 20000
SOLO_WINDOW = 100
#: runs per phase (alone before, idle, alone after), of which the median counts: one run
#: of SOLO_TRIPS (about 0.1 s) moved between 160k and 320k round trips/s from one run to
#: the next on a shared VM, for both implementations, so one run per phase made the
#: idle-peer ratio mostly noise (bench/RESULTS.md)
SOLO_RUNS = 5


def _solo_round_trips(sock: Any, msg: bytes) -> float:
    """Round trips per second of one DEALER, ``SOLO_WINDOW`` requests in flight."""
    start = time.perf_counter()
    for _ in range(SOLO_TRIPS // SOLO_WINDOW):
        for _ in range(SOLO_WINDOW):
            sock.send(msg)
        for _ in range(SOLO_WINDOW):
            sock.recv()
    return SOLO_TRIPS / (time.perf_counter() - start)


def _solo_rate(sock: Any, msg: bytes) -> float:
    """The median of ``SOLO_RUNS`` runs of _solo_round_trips."""
    return statistics.median(_solo_round_trips(sock, msg) for _ in range(SOLO_RUNS))


def bench_many(spec: Dict[str, Any]) -> Dict[str, Any]:
    dealers, rounds, size = spec.get("dealers", 1000), spec["count"], spec["size"]
    timeout_ms = spec["io_timeout_ms"]
    notes: List[str] = []
    ctx = new_context()
    router = new_socket(ctx, zmq.ROUTER, timeout_ms)
    endpoint = _bind(router, "tcp", "")
    rss_before = rss_bytes()
    mp = spawn_context()
    parent_conn, child_conn = mp.Pipe()
    proc = mp.Process(target=many_dealers, name="dealers", daemon=True,
                      args=(spec["impl"], endpoint, dealers, rounds, size, timeout_ms,
                            child_conn))
    proc.start()
    try:
        recv, send = router.recv_multipart, router.send_multipart
        # hellos, rounds, the three phases' runs and the two runs thrown away
        solo_before_end = SOLO_RUNS * SOLO_TRIPS
        total = dealers * (rounds + 1) + (3 * SOLO_RUNS + 2) * SOLO_TRIPS
        handled = 0
        rss_router = 0
        try:
            for handled in range(total):
                send(recv())
                if handled == solo_before_end:
                    rss_before = rss_bytes()  # one peer attached
                elif handled == solo_before_end + dealers - 1:
                    rss_router = rss_bytes()
        except zmq.Again:
            extra = f"; dealers said {parent_conn.recv()!r}" if parent_conn.poll(0) else ""
            raise BenchTimeout(f"router handled {handled}/{total} messages{extra}") from None
        (_, connect_seconds, dealer_rss, rtt_seconds, solo_before, solo_idle,
         solo_after) = wait_for(parent_conn, timeout_ms / 1000.0, "result")
        solo_alone = (solo_before + solo_after) / 2
        parent_conn.send("done")
        report({"ok": True, "count": rounds * dealers, "notes": notes, "metrics": {
            "connect_s": connect_seconds,
            "router_rss_per_conn": (rss_router - rss_before) / (dealers - 1),
            "dealer_rss_per_conn": dealer_rss,
            "rtt_msgs": rounds * dealers / rtt_seconds,
            "solo_alone": solo_alone, "solo_idle": solo_idle,
            "solo_before": solo_before, "solo_after": solo_after,
            "idle_ratio": solo_idle / solo_alone}})
    finally:
        reap([proc], 10, notes)
    close_all(ctx, router)
    return {"ok": True, "notes": notes}


# ------------------------------------------------------------------------------------------
# the physical limits: raw Python sockets, no ZeroMQ at all
# ------------------------------------------------------------------------------------------

def _raw_pair(kind: str, tmpdir: str) -> Tuple[socket.socket, Any]:
    if kind == "tcp":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        address: Any = listener.getsockname()
    else:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address = os.path.join(tmpdir, "raw-" + uuid.uuid4().hex[:8])
        listener.bind(address)
    listener.listen(1)
    return listener, address


def _raw_connect(kind: str, address: Any, timeout: float) -> socket.socket:
    family = socket.AF_INET if kind == "tcp" else socket.AF_UNIX
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(address)
    sock.settimeout(None)  # a timeout costs a poll() per call; the watchdog guards instead
    if kind == "tcp":
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _recv_exactly(sock: socket.socket, view: memoryview) -> None:
    got, size = 0, len(view)
    while got < size:
        n = sock.recv_into(view[got:])
        if not n:
            raise RuntimeError("peer closed")
        got += n


def raw_peer(mode: str, kind: str, address: Any, size: int, count: int, timeout: float,
             conn: Any) -> None:
    """The other end of a raw test: 'bw' sends ``count`` chunks with sendall, 'rtt'
    echoes ``count`` + 1 messages."""
    def body() -> None:
        sock = _raw_connect(kind, address, timeout)
        if mode == "bw":
            chunk = b"\x00" * size
            for _ in range(count):
                sock.sendall(chunk)
        else:
            buf = bytearray(size)
            view = memoryview(buf)
            for _ in range(count + 1):
                _recv_exactly(sock, view)
                sock.sendall(view)
        conn.poll(timeout)
        sock.close()
    child_guard(conn, body)


def _wake_pair() -> Tuple[int, int, bytes]:
    """A file descriptor pair one thread writes to wake another blocked in poll: an
    eventfd where there is one (what puremq's sockets use), else a pipe."""
    if hasattr(os, "eventfd"):
        fd = os.eventfd(0)  # type: ignore[attr-defined]
        return fd, fd, (1).to_bytes(8, "little")
    read_fd, write_fd = os.pipe()
    return read_fd, write_fd, b"\x01"


def raw_threads_rtt(size: int, count: int, timeout: float) -> Dict[str, float]:
    """Two Python threads of this process hand a ``size``-byte message back and forth,
    each waking the other through a file descriptor it blocks on in poll: an inproc
    round trip with no ZeroMQ, the floor of the lat inproc rows (the thread wake-ups and
    the hand-overs of the GIL).  The message object itself is handed over, through a
    shared slot where the echo leaves it as its reply (inproc hands objects over too; no
    copy is measured)."""
    pairs = [_wake_pair() for _ in range(2)]
    slot: List[Any] = [None]
    failure: List[BaseException] = []

    def waiter(read_fd: int) -> Callable[[], None]:
        poller = select.poll()
        poller.register(read_fd, select.POLLIN)
        wait_ms = int(timeout * 1000)

        def wait() -> None:
            if not poller.poll(wait_ms):
                raise BenchTimeout("raw threads: the other thread did not answer")
            os.read(read_fd, 8)
        return wait

    def echo() -> None:
        try:
            wait = waiter(pairs[1][0])
            _, write_fd, token = pairs[0]
            for _ in range(count + 1):
                wait()
                os.write(write_fd, token)  # the request in the slot is the reply
        except BaseException as exc:  # reported by the measuring thread
            failure.append(exc)

    thread = threading.Thread(target=echo, name="raw-echo", daemon=True)
    thread.start()
    wait = waiter(pairs[0][0])
    _, write_fd, token = pairs[1]
    msg = b"\x00" * size
    clock = time.perf_counter
    samples = [0.0] * (count + 1)
    try:
        for index in range(count + 1):  # the first is a warm-up
            start = clock()
            slot[0] = msg
            os.write(write_fd, token)
            wait()
            samples[index] = clock() - start
    finally:
        thread.join(timeout)
        for read_fd, write_fd, _ in pairs:
            os.close(read_fd)
            if write_fd != read_fd:
                os.close(write_fd)
    if failure:
        raise failure[0]
    return lat_metrics(samples[1:])


def bench_raw(spec: Dict[str, Any]) -> Dict[str, Any]:
    mode, kind, size, count = spec["mode"], spec["transport"], spec["size"], spec["count"]
    timeout = spec["io_timeout_ms"] / 1000.0
    notes: List[str] = []
    if kind == "threads":
        report({"ok": True, "metrics": raw_threads_rtt(size, count, timeout),
                "count": count, "notes": notes})
        return {"ok": True, "notes": notes}
    mp = spawn_context()
    with tempfile.TemporaryDirectory(prefix="puremq-bench-") as tmpdir:
        listener, address = _raw_pair(kind, tmpdir)
        listener.settimeout(timeout)
        parent_conn, child_conn = mp.Pipe()
        proc = mp.Process(target=raw_peer, name=f"raw-{mode}", daemon=True,
                          args=(mode, kind, address, size, count, timeout, child_conn))
        proc.start()
        try:
            try:
                sock, _ = listener.accept()
            except socket.timeout:
                raise BenchTimeout("raw peer did not connect") from None
            sock.settimeout(None)  # as in _raw_connect: the worker's watchdog guards it
            if kind == "tcp":
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buf = bytearray(size)
            view = memoryview(buf)
            clock = time.perf_counter
            if mode == "bw":
                total = size * count
                got = sock.recv_into(view)
                start = clock()
                while got < total:
                    n = sock.recv_into(view)
                    if not n:
                        raise RuntimeError("raw sender closed early")
                    got += n
                elapsed = clock() - start
                rate = got / elapsed
                metrics = {"bw": rate}
            else:
                msg = b"\x00" * size
                sock.sendall(msg)
                _recv_exactly(sock, view)
                samples = [0.0] * count
                for index in range(count):
                    start = clock()
                    sock.sendall(msg)
                    _recv_exactly(sock, view)
                    samples[index] = clock() - start
                metrics = lat_metrics(samples)
            parent_conn.send("done")
            report({"ok": True, "metrics": metrics, "count": count, "notes": notes})
            sock.close()
        except socket.timeout:
            raise BenchTimeout(f"raw {mode} {kind}: socket timeout") from None
        finally:
            listener.close()
            reap([proc], 10, notes)
    return {"ok": True, "notes": notes}


# ------------------------------------------------------------------------------------------
# worker mode
# ------------------------------------------------------------------------------------------

TESTS: Dict[str, Callable[[Dict[str, Any]], Dict[str, Any]]] = {
    "thr": bench_thr_impl, "lat": bench_lat, "fanout": bench_fanout, "proxy": bench_proxy,
    "many": bench_many, "raw": bench_raw,
}

_reported = False


def report(result: Dict[str, Any]) -> None:
    """Print the measurement as soon as it exists, before any cleanup: a cleanup that
    hangs then costs a note, not the figure."""
    global _reported
    if _reported:
        return
    _reported = True
    result = dict(result)
    result["info"] = interpreter_info()
    print("RESULT " + json.dumps(result), flush=True)


def interpreter_info() -> Dict[str, Any]:
    info: Dict[str, Any] = {
        "implementation": platform.python_implementation(),
        "python": platform.python_version(),
        "executable": sys.executable,
    }
    if zmq is not None:
        info["module"] = zmq.__name__
        info["module_version"] = getattr(zmq, "__version__", "?")
        try:
            info["libzmq"] = zmq.zmq_version()
        except Exception:
            pass
    return info


def worker_main(spec: Dict[str, Any]) -> int:
    if spec["test"] != "raw":
        use_impl(spec["impl"])

    def fire() -> None:
        sys.stderr.write(f"WATCHDOG: worker exceeded {spec['hard_timeout']} s "
                         f"({'after' if _reported else 'before'} reporting)\n")
        sys.stderr.flush()
        os._exit(3)
    watchdog = threading.Timer(spec["hard_timeout"], fire)
    watchdog.daemon = True
    watchdog.start()
    try:
        TESTS[spec["test"]](spec)
    except BenchTimeout as exc:
        report({"ok": False, "error": f"TIMEOUT: {exc}"})
        return 1
    except Exception as exc:  # noqa: BLE001 -- every failure becomes a FAILED row
        report({"ok": False, "error": f"FAILED: {type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc()})
        return 1
    return 0


# ------------------------------------------------------------------------------------------
# driver mode
# ------------------------------------------------------------------------------------------

class Row:
    """One line of work: a test with its parameters, run for each implementation."""

    def __init__(self, test: str, transport: str = "tcp", size: int = 0,
                 mode: str = "", impls: Optional[List[str]] = None, dealers: int = 1000
                 ) -> None:
        self.test, self.transport, self.size, self.mode = test, transport, size, mode
        #: many: the DEALERs on the ROUTER
        self.dealers = dealers
        self.impls = impls if impls is not None else list(IMPLS)
        self.count: Dict[str, int] = {}
        self.results: Dict[str, List[Dict[str, Any]]] = {impl: [] for impl in self.impls}

    @property
    def label(self) -> str:
        if self.test == "raw":
            what = "sendall 1 MiB chunks" if self.mode == "bw" else f"ping-pong {fmt_size(self.size)}"
            if self.transport == "threads":
                return f"raw threads {what} (two threads, fd wake-ups)"
            return f"raw {'unix' if self.transport == 'unix' else 'tcp'} {what}"
        if self.test in ("thr", "lat"):
            return f"{self.test} {self.transport} {fmt_size(self.size)}"
        if self.test == "fanout":
            return f"fanout tcp {fmt_size(self.size)}, 1 PUB -> 8 SUB"
        if self.test == "proxy":
            return f"proxy tcp {fmt_size(self.size)}"
        return f"many tcp {self.dealers} DEALER -> ROUTER"

    def spec(self, impl: str, count: int, args: argparse.Namespace) -> Dict[str, Any]:
        spec = {"test": self.test, "impl": impl, "transport": self.transport,
                "size": self.size, "count": count, "mode": self.mode,
                "io_timeout_ms": args.io_timeout * 1000,
                "hard_timeout": args.row_timeout}
        if self.test == "many":
            spec["dealers"] = self.dealers
        return spec


def fmt_size(size: int) -> str:
    if size >= MiB and size % MiB == 0:
        return f"{size // MiB} MiB"
    if size >= KiB and size % KiB == 0:
        return f"{size // KiB} KiB"
    return f"{size} B"


def fmt_rate(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    return f"{value:.0f}"


def fmt_bw(value: float) -> str:
    if value >= 1e9:
        return f"{value / 1e9:.2f} GB/s"
    return f"{value / 1e6:.1f} MB/s"


def worker_command(python: str, spec: Dict[str, Any]) -> List[str]:
    return [python, THIS_FILE, "--worker", json.dumps(spec)]


def run_worker(python: str, spec: Dict[str, Any], verbose: bool) -> Dict[str, Any]:
    """Run one measurement in a fresh process (group); never waits past the row timeout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO_ROOT + (os.pathsep + env["PYTHONPATH"]
                                     if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(worker_command(python, spec), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT,
                            start_new_session=True, text=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=spec["hard_timeout"] + 15)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc.pid)
        out, err = proc.communicate()
    _kill_group(proc.pid)  # leftovers: children of a worker that exited early
    result: Optional[Dict[str, Any]] = None
    for line in out.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    if result is None:
        reason = "TIMEOUT: worker killed by the driver" if timed_out else \
            f"FAILED: worker exit code {proc.returncode}, no result"
        tail = err.strip().splitlines()[-3:]
        result = {"ok": False, "error": reason + (f" ({' | '.join(tail)})" if tail else "")}
    notes = result.setdefault("notes", [])
    if "WATCHDOG" in err:
        notes.append("worker hung after reporting (cleanup/exit); watchdog ended it")
    elif timed_out:
        notes.append("worker killed by the driver")
    if verbose and err.strip():
        sys.stderr.write(err)
    result["returncode"] = proc.returncode
    return result


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def build_rows(args: argparse.Namespace) -> List[Row]:
    rows: List[Row] = []
    tests = args.tests
    if "raw" in tests:
        for kind in ("tcp", "unix"):
            if ("tcp" if kind == "tcp" else "ipc") not in args.transports:
                continue
            rows.append(Row("raw", kind, MiB, "bw", impls=["raw"]))
            for size in args.lat_sizes:
                rows.append(Row("raw", kind, size, "rtt", impls=["raw"]))
        if "inproc" in args.transports:
            for size in args.lat_sizes:
                rows.append(Row("raw", "threads", size, "rtt", impls=["raw"]))
    if "thr" in tests:
        for transport in args.transports:
            for size in args.sizes:
                rows.append(Row("thr", transport, size, impls=args.impls))
    if "lat" in tests:
        for transport in args.transports:
            for size in args.lat_sizes:
                rows.append(Row("lat", transport, size, impls=args.impls))
    if "fanout" in tests:
        rows.append(Row("fanout", "tcp", 128, impls=args.impls))
    if "proxy" in tests:
        rows.append(Row("proxy", "tcp", 128, impls=args.impls))
    if "many" in tests:
        rows.append(Row("many", "tcp", 128, impls=args.impls, dealers=args.dealers))
    return rows


def python_for(impl: str, args: argparse.Namespace) -> str:
    """--python runs every implementation but pyzmq (puremq, or an older puremq tree
    imported under another name for an A/B run); --pyzmq-python runs pyzmq."""
    if impl != "pyzmq" and args.python:
        return args.python
    if impl == "pyzmq" and args.pyzmq_python:
        return args.pyzmq_python
    return sys.executable


def fixed_count(row: Row, args: argparse.Namespace) -> Optional[int]:
    """The count of rows that are not calibrated (None: calibrate from a pilot run)."""
    if row.test == "lat":
        return args.lat_count
    if row.test == "raw" and row.mode == "rtt":
        return args.lat_count
    if row.test == "fanout":
        return args.fanout_count
    if row.test == "many":
        return args.many_rounds
    if args.count:
        return args.count
    return None


def pilot_count(row: Row) -> int:
    if row.test == "raw":
        return 1000
    return PILOT_COUNT.get(row.size, 20_000)


def calibrate(row: Row, impl: str, args: argparse.Namespace, log: Callable[[str], None]
              ) -> None:
    """Pick the count so a run lasts about --target seconds, from a pilot run's rate."""
    fixed = fixed_count(row, args)
    if fixed is not None:
        row.count[impl] = fixed
        return
    pilot = pilot_count(row)
    spec = row.spec(impl, pilot, args)
    result = run_worker(python_for(impl, args), spec, args.verbose)
    if not result.get("ok"):
        log(f"  pilot {row.label} [{impl}]: {result.get('error')}")
        row.count[impl] = pilot
        row.results[impl].append(dict(result, pilot=True))
        return
    metrics = result["metrics"]
    rate = metrics["bw"] / row.size if row.test == "raw" else metrics["msgs"]
    count = int(rate * args.target)
    minimum = 200 if row.test == "raw" else MIN_COUNT.get(row.size, 1000)
    if args.quick:
        minimum //= 4
    row.count[impl] = max(minimum, min(MAX_COUNT, count))


def median(values: List[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def row_figures(row: Row, impl: str, key: str) -> List[float]:
    return [r["metrics"][key] for r in row.results.get(impl, [])
            if r.get("ok") and not r.get("pilot")]


def primary_key(row: Row) -> Tuple[str, bool]:
    """The metric the ratio is taken on, and whether higher is better."""
    if row.test in ("thr", "proxy"):
        return "msgs", True
    if row.test == "lat" or (row.test == "raw" and row.mode == "rtt"):
        return "mean_us", False
    if row.test == "raw":
        return "bw", True
    if row.test == "fanout":
        return "sum_msgs", True
    return "rtt_msgs", True


def round_ratios(row: Row, key: str, base: str, other: str) -> List[float]:
    """other/base (e.g. puremq/pyzmq) of each round in which both succeeded."""
    if base not in row.results or other not in row.results:
        return []
    runs = {impl: [r for r in row.results[impl] if not r.get("pilot")]
            for impl in (base, other)}
    ratios = []
    for a, b in zip(runs[base], runs[other]):
        if a.get("ok") and b.get("ok") and a["metrics"][key]:
            ratios.append(b["metrics"][key] / a["metrics"][key])
    return ratios


def cell(row: Row, impl: str) -> str:
    if impl not in row.results:
        return "-"
    runs = [r for r in row.results[impl] if not r.get("pilot")]
    ok = [r for r in runs if r.get("ok")]
    if not ok:
        errors = [r.get("error", "?") for r in runs] or \
            [r.get("error", "?") for r in row.results[impl]]
        return f"**{errors[0].split(':')[0] if errors else 'FAILED'}**"
    prefix = "" if len(ok) == len(runs) else f"({len(ok)}/{len(runs)} ok) "

    def med(key: str) -> float:
        return statistics.median(r["metrics"][key] for r in ok)
    if row.test in ("thr", "proxy"):
        return f"{prefix}{fmt_rate(med('msgs'))} msg/s, {fmt_bw(med('bw'))}"
    if row.test == "lat" or (row.test == "raw" and row.mode == "rtt"):
        return (f"{prefix}{med('mean_us'):.1f} us (p50 {med('p50_us'):.1f}, "
                f"p99 {med('p99_us'):.1f})")
    if row.test == "raw":
        return f"{prefix}{fmt_bw(med('bw'))}"
    if row.test == "fanout":
        return (f"{prefix}{fmt_rate(med('sum_msgs'))} msg/s delivered to the 8 SUBs "
                f"(median SUB {fmt_rate(med('sub_msgs'))}; PUB sends "
                f"{fmt_rate(med('pub_msgs'))}/s; delivered mean "
                f"{med('delivered_mean') * 100:.0f}%, min {med('delivered_min') * 100:.0f}%)")
    return (f"{prefix}{fmt_rate(med('rtt_msgs'))} round trips/s; connect all "
            f"{med('connect_s'):.2f} s; RSS/conn router {med('router_rss_per_conn') / KiB:.1f} "
            f"KiB, dealer {med('dealer_rss_per_conn') / KiB:.1f} KiB; one DEALER "
            f"{fmt_rate(med('solo_idle'))} round trips/s with the others idle, "
            f"{med('idle_ratio'):.2f}x of {fmt_rate(med('solo_alone'))} alone (before and "
            f"after)")


def raw_reference(rows: List[Row], row: Row) -> Optional[Tuple[str, float]]:
    """The raw figure a row is compared with: bandwidth for thr, RTT for lat."""
    if row.test not in ("thr", "lat") or (row.test == "thr" and row.transport == "inproc"):
        return None
    kind = {"tcp": "tcp", "ipc": "unix", "inproc": "threads"}[row.transport]
    for raw in rows:
        if raw.test != "raw" or raw.transport != kind:
            continue
        if row.test == "thr" and raw.mode == "bw":
            value = median(row_figures(raw, "raw", "bw"))
            return ("bw", value) if value else None
        if row.test == "lat" and raw.mode == "rtt" and raw.size == row.size:
            value = median(row_figures(raw, "raw", "mean_us"))
            return ("mean_us", value) if value else None
    return None


def percent_of_raw(rows: List[Row], row: Row, impl: str) -> str:
    ref = raw_reference(rows, row)
    if ref is None:
        return "-"
    key, raw_value = ref
    value = median(row_figures(row, impl, key))
    if not value:
        return "-"
    share = value / raw_value if key == "bw" else raw_value / value
    return f"{share * 100:.1f}%"


def render(rows: List[Row], args: argparse.Namespace, machine: List[str], command: str,
           seconds: float) -> str:
    impls = args.impls
    base, other = impls[0], impls[-1]
    title = f"{other} vs {base}" if len(impls) > 1 else base
    lines = [f"## {title}", ""]
    lines += machine
    lines += ["", f"Command: `{command}`", "",
              f"{args.rounds} rounds, implementations alternated per row in the order "
              f"{', '.join(impls)}; each cell is the median over the rounds."]
    if len(impls) > 1:
        lines[-1] += (
            f" {other}/{base} = the median over rounds of that round's {other}/{base} "
            f"ratio of the row's main figure (range over rounds in brackets): msg/s for "
            f"thr/proxy/fanout/many, where above 1 means {other} is faster; mean RTT for "
            f"lat (marked RTT), where above 1 means {other} is slower.")
    lines[-1] += f" Run took {seconds:.0f} s."
    lines.append("")
    raw_rows = [row for row in rows if row.test == "raw"]
    if raw_rows:
        lines += ["### Physical limits (raw Python sockets, same machine, same run)", "",
                  "| limit | figure |", "|---|---|"]
        for row in raw_rows:
            lines.append(f"| {row.label} | {cell(row, 'raw')} |")
        lines.append("")
    header = ["row"] + impls + ([f"{other}/{base}"] if len(impls) > 1 else []) + \
        [f"{impl} % of raw" for impl in impls]
    lines += ["### Rows", "", "| " + " | ".join(header) + " |",
              "|" + "---|" * len(header)]
    for row in rows:
        if row.test == "raw":
            continue
        key, higher = primary_key(row)
        ratios = round_ratios(row, key, base, other)
        ratio = "-"
        if ratios:
            ratio = f"{statistics.median(ratios):.2f}"
            if len(ratios) > 1:
                ratio += f" ({min(ratios):.2f}-{max(ratios):.2f})"
            if not higher:
                ratio += " RTT"
        cells = [row.label] + [cell(row, impl) for impl in impls]
        if len(impls) > 1:
            cells.append(ratio)
        cells += [percent_of_raw(rows, row, impl) for impl in impls]
        lines.append("| " + " | ".join(cells) + " |")
    failures = []
    for row in rows:
        for impl in row.impls:
            for index, result in enumerate(row.results[impl]):
                tag = "pilot" if result.get("pilot") else f"round {index + 1}"
                if not result.get("ok"):
                    failures.append(f"- {row.label} [{impl}, {tag}]: {result.get('error')}")
                for note in result.get("notes", []):
                    failures.append(f"- {row.label} [{impl}, {tag}] note: {note}")
    if failures:
        lines += ["", "### Failures and notes", ""] + failures
    lines += ["", "% of raw: thr = payload bytes/s over raw sendall bandwidth of the same "
              "transport (ipc vs unix socket); lat = raw ping-pong RTT of the same size over "
              "the row's mean RTT (inproc: two Python threads waking each other through "
              "file descriptors).", ""]
    return "\n".join(lines)


def machine_description(rows: List[Row], impls: List[str], tree_before: str) -> List[str]:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    mem = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    lines = [f"Machine: {cpu}, {os.cpu_count()} CPUs{mem}, {platform.system()} "
             f"{platform.release()}"]
    seen = set()
    for impl in impls:
        for row in rows:
            for result in row.results.get(impl, []):
                info = result.get("info")
                if info and info.get("module") and impl not in seen:
                    seen.add(impl)
                    lib = f", libzmq {info['libzmq']}" if info["module"] == "zmq" else \
                        f" (matches libzmq {info.get('libzmq', '?')})"
                    lines.append(f"{impl}: {info['module']} {info['module_version']}{lib} "
                                 f"under {info['implementation']} {info['python']} "
                                 f"({info['executable']})")
    tree_after = git_describe()
    if tree_after == tree_before:
        lines.append(f"puremq tree: {tree_after}")
    else:
        lines.append(f"puremq tree: {tree_before} at the start, {tree_after} at the end "
                     f"(it changed during the run)")
    return ["- " + line for line in lines]


def git_describe() -> str:
    try:
        head = subprocess.run(["git", "-C", REPO_ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO_ROOT, "status", "--porcelain",
                                "--untracked-files=no", "puremq"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return f"commit {head}" + (" + uncommitted changes under puremq/" if dirty else "")
    except Exception:
        return "?"


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as info:
            return " ".join(info.read().split()[:3])
    except OSError:
        return "?"


def driver_main(args: argparse.Namespace) -> int:
    started = time.monotonic()
    load_before = loadavg()
    tree_before = git_describe()
    command = " ".join(shlex.quote(part) for part in [sys.executable] + sys.argv)

    def log(text: str) -> None:
        if not args.silent:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
    rows = build_rows(args)
    log(f"{len(rows)} rows, {args.rounds} rounds")
    for row in rows:
        for impl in row.impls:
            calibrate(row, impl, args, log)
    for round_index in range(args.rounds):
        log(f"round {round_index + 1}/{args.rounds}")
        for row in rows:
            for impl in row.impls:
                spec = row.spec(impl, row.count[impl], args)
                result = run_worker(python_for(impl, args), spec, args.verbose)
                row.results[impl].append(result)
                status = "ok" if result.get("ok") else result.get("error")
                log(f"  {row.label} [{impl}] n={row.count[impl]}: {status} "
                    f"{json.dumps(result.get('metrics', {}))}")
    machine = machine_description(rows, args.impls, tree_before)
    machine.append(f"- load average (1/5/15 min) before the run: {load_before}; after: "
                   f"{loadavg()}")
    text = render(rows, args, machine, command, time.monotonic() - started)
    print(text)
    if args.output:
        with open(args.output, "w") as out:
            out.write(text)
    if args.json:
        with open(args.json, "w") as out:
            json.dump([{"row": row.label, "count": row.count, "results": row.results}
                       for row in rows], out, indent=1)
    ok = all(r.get("ok") for row in rows for impl in row.impls for r in row.results[impl])
    return 0 if ok else 1


def parse_sizes(text: str) -> List[int]:
    sizes = []
    for part in text.split(","):
        part = part.strip().upper()
        factor = 1
        for suffix, mult in (("KIB", KiB), ("MIB", MiB), ("K", KiB), ("M", MiB), ("B", 1)):
            if part.endswith(suffix):
                part, factor = part[:-len(suffix)], mult
                break
        sizes.append(int(part) * factor)
    return sizes


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", metavar="SPEC", help="internal: run one measurement")
    parser.add_argument("--impl", default="pyzmq,puremq",
                        help="implementations, comma-separated, run in this order in each "
                             "round (default pyzmq,puremq; any module with pyzmq's API)")
    parser.add_argument("--rounds", type=int, default=3, help="A/B rounds (default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer sizes, shorter runs: the whole comparison in ~2 minutes")
    parser.add_argument("--tests", default=None,
                        help=f"comma-separated subset of {','.join(ALL_TESTS)}")
    parser.add_argument("--transports", default=None, help="comma-separated: tcp,ipc,inproc")
    parser.add_argument("--sizes", default=None, help="thr sizes, e.g. 16,128,1K,64K,1M")
    parser.add_argument("--lat-sizes", default=None, help="lat sizes (default 128,64K)")
    parser.add_argument("--count", type=int, default=0,
                        help="fixed thr/proxy message count (default: calibrated)")
    parser.add_argument("--target", type=float, default=None,
                        help="seconds one calibrated run should last (default 2, quick 0.5)")
    parser.add_argument("--lat-count", type=int, default=None,
                        help="round trips per lat run (default 10000, quick 2000)")
    parser.add_argument("--fanout-count", type=int, default=None,
                        help="messages the PUB sends (default 500000, quick 20000)")
    parser.add_argument("--many-rounds", type=int, default=None,
                        help="request rounds across all DEALERs (default 20, quick 5)")
    parser.add_argument("--dealers", type=int, default=1000)
    parser.add_argument("--io-timeout", type=int, default=10,
                        help="RCVTIMEO/SNDTIMEO and peer waits, seconds (default 10)")
    parser.add_argument("--row-timeout", type=int, default=90,
                        help="hard limit for one worker process, seconds (default 90)")
    parser.add_argument("--python", default=None,
                        help="interpreter for the puremq side (e.g. /usr/bin/pypy3)")
    parser.add_argument("--pyzmq-python", default=None,
                        help="interpreter for the pyzmq side (default: this one)")
    parser.add_argument("--output", default=None, help="also write the markdown here")
    parser.add_argument("--json", default=None, help="write every round's figures here")
    parser.add_argument("--verbose", action="store_true", help="show workers' stderr")
    parser.add_argument("--silent", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    if args.worker:
        return args
    quick = args.quick
    args.impls = [impl.strip() for impl in args.impl.split(",") if impl.strip()]
    args.tests = (args.tests.split(",") if args.tests else
                  (["raw", "thr", "lat"] if quick else list(ALL_TESTS)))
    unknown = set(args.tests) - set(ALL_TESTS)
    if unknown:
        parser.error(f"unknown tests: {sorted(unknown)}")
    args.transports = args.transports.split(",") if args.transports else list(TRANSPORTS)
    args.sizes = parse_sizes(args.sizes) if args.sizes else \
        ([128, 64 * KiB] if quick else list(THR_SIZES))
    args.lat_sizes = parse_sizes(args.lat_sizes) if args.lat_sizes else \
        ([128] if quick else list(LAT_SIZES))
    args.target = args.target or (0.5 if quick else 2.0)
    args.lat_count = args.lat_count or (2000 if quick else 10_000)
    # about a second of publishing for puremq (as thr runs last 1-3 s): at 100,000 the run
    # took 0.2 s on CPython and 0.4 s on PyPy, whose JIT was still compiling the PUB's path
    # for much of it (PyPy 0.86x of pyzmq at 100,000, 2.00x at 600,000; bench/RESULTS.md)
    args.fanout_count = args.fanout_count or (20_000 if quick else 500_000)
    args.many_rounds = args.many_rounds or (5 if quick else 20)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker_main(json.loads(args.worker))
    return driver_main(args)


if __name__ == "__main__":
    sys.exit(main())
