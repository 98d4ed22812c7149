#!/usr/bin/env python3
"""asyncio: puremq.asyncio vs pyzmq's zmq.asyncio, same code with the module swapped.

Two rows kinds, each run for both implementations, alternated A/B then B/A round after
round, each measurement in a fresh worker process:

* ``lat``: asyncio REQ/REP round-trip time.  The REP echo server runs in a child process
  (its own asyncio loop, same implementation) for tcp/ipc, in the same loop for inproc.
  Figure: mean RTT in microseconds (p50 and p99 alongside).
* ``thr``: asyncio PUSH/PULL throughput.  The PUSH runs in a child process for tcp/ipc
  (``await push.send(msg)`` in a loop), in the same loop for inproc.  The clock runs from
  the first message received to the last.  Figure: messages per second.

Every socket has RCVTIMEO/SNDTIMEO (the awaitables raise Again), every wait on a child
has a timeout and the driver kills a worker that outlives its budget::

    python bench/async_bench.py --rounds 5
    python bench/async_bench.py --quick
    python bench/async_bench.py --loop uvloop
    python bench/async_bench.py --python /tmp/vpypy/bin/python   # puremq side under PyPy

It prints a markdown table: each implementation's median figure, and the median over the
rounds of the per-round ratio puremq/pyzmq (for lat an RTT ratio: above 1 = puremq slower;
for thr a rate ratio: above 1 = puremq faster).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from typing import Any, Dict, List, Optional

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
THIS_FILE = os.path.abspath(__file__)
sys.path.insert(0, BENCH_DIR)

import run as harness  # noqa: E402  (bench/run.py: shared process helpers)

IMPLS = ["pyzmq", "puremq"]


# ------------------------------------------------------------------------------------------
# the worker: one measurement of one implementation
# ------------------------------------------------------------------------------------------

def modules(impl: str) -> Any:
    """(zmq, zmq.asyncio) of an implementation: the only thing that differs."""
    name = "zmq" if impl == "pyzmq" else impl
    return importlib.import_module(name), importlib.import_module(name + ".asyncio")


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "uvloop":
        import uvloop
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def async_socket(ctx: Any, zmq: Any, kind: int, timeout_ms: int) -> Any:
    sock = ctx.socket(kind)
    sock.linger = 0
    sock.rcvtimeo = timeout_ms
    sock.sndtimeo = timeout_ms
    return sock


def endpoint_for(transport: str, tmpdir: str) -> str:
    if transport == "tcp":
        return "tcp://127.0.0.1:*"
    if transport == "ipc":
        return "ipc://" + os.path.join(tmpdir, uuid.uuid4().hex[:12])
    return "inproc://async-bench-" + uuid.uuid4().hex


def bind(sock: Any, transport: str, tmpdir: str) -> str:
    sock.bind(endpoint_for(transport, tmpdir))
    last = sock.last_endpoint
    return last.decode() if isinstance(last, bytes) else last


async def echo(rep: Any, count: int) -> None:
    for _ in range(count):
        await rep.send(await rep.recv())


async def pusher(push: Any, size: int, count: int) -> None:
    msg = b"\x00" * size
    send = push.send
    for _ in range(count):
        await send(msg)


def child_echo(impl: str, loop_kind: str, transport: str, tmpdir: str, count: int,
               timeout_ms: int, conn: Any) -> None:
    """The REP of lat: binds, tells the parent where, echoes ``count`` messages."""
    def body() -> None:
        zmq, azmq = modules(impl)
        ctx = azmq.Context()
        rep = async_socket(ctx, zmq, zmq.REP, timeout_ms)
        conn.send(bind(rep, transport, tmpdir))
        loop = new_loop(loop_kind)
        try:
            loop.run_until_complete(asyncio.wait_for(echo(rep, count),
                                                     timeout_ms / 1000.0 * 4))
        finally:
            loop.close()
        conn.poll(timeout_ms / 1000.0)
        rep.close(0)
        ctx.term()
    harness.child_guard(conn, body)


def child_push(impl: str, loop_kind: str, endpoint: str, size: int, count: int,
               timeout_ms: int, conn: Any) -> None:
    """The PUSH of thr: connects and sends ``count`` messages, then waits to be told the
    receiver has them all (LINGER is 0)."""
    def body() -> None:
        zmq, azmq = modules(impl)
        ctx = azmq.Context()
        push = async_socket(ctx, zmq, zmq.PUSH, timeout_ms)
        push.connect(endpoint)
        loop = new_loop(loop_kind)
        try:
            loop.run_until_complete(asyncio.wait_for(pusher(push, size, count),
                                                     timeout_ms / 1000.0 * 4))
        finally:
            loop.close()
        conn.send("sent")
        conn.poll(timeout_ms / 1000.0)
        push.close(0)
        ctx.term()
    harness.child_guard(conn, body)


async def measure_lat(req: Any, size: int, count: int) -> List[float]:
    msg = b"\x00" * size
    clock = time.perf_counter
    await req.send(msg)
    if len(await req.recv()) != size:
        raise RuntimeError("echo of the wrong size")
    samples = [0.0] * count
    for index in range(count):
        start = clock()
        await req.send(msg)
        await req.recv()
        samples[index] = clock() - start
    return samples


async def measure_thr(pull: Any, size: int, count: int) -> float:
    recv = pull.recv
    first = await recv()
    start = time.perf_counter()
    for _ in range(count - 2):
        await recv()
    last = await recv()
    elapsed = time.perf_counter() - start
    if len(first) != size or len(last) != size:
        raise RuntimeError("wrong message size")
    return elapsed


def bench(spec: Dict[str, Any]) -> Dict[str, Any]:
    impl, test, transport = spec["impl"], spec["test"], spec["transport"]
    size, count, timeout_ms = spec["size"], spec["count"], spec["io_timeout_ms"]
    loop_kind = spec["loop"]
    zmq, azmq = modules(impl)
    ctx = azmq.Context()
    notes: List[str] = []
    procs: List[Any] = []
    mp = harness.spawn_context()
    parent_conn, child_conn = mp.Pipe()
    loop = new_loop(loop_kind)
    result: Dict[str, Any] = {"ok": True, "notes": notes, "count": count}
    with tempfile.TemporaryDirectory(prefix="puremq-async-bench-") as tmpdir:
        try:
            if test == "lat":
                req = async_socket(ctx, zmq, zmq.REQ, timeout_ms)
                if transport == "inproc":
                    rep = async_socket(ctx, zmq, zmq.REP, timeout_ms)
                    endpoint = bind(rep, transport, tmpdir)
                    req.connect(endpoint)

                    async def both() -> List[float]:
                        server = asyncio.ensure_future(echo(rep, count + 1))
                        samples = await measure_lat(req, size, count)
                        await server
                        return samples
                    samples = loop.run_until_complete(
                        asyncio.wait_for(both(), spec["hard_timeout"]))
                    rep.close(0)
                else:
                    proc = mp.Process(target=child_echo, name="async-echo", daemon=True,
                                      args=(impl, loop_kind, transport, tmpdir, count + 1,
                                            timeout_ms, child_conn))
                    proc.start()
                    procs.append(proc)
                    endpoint = harness.wait_for(parent_conn, timeout_ms / 1000.0, "endpoint")
                    req.connect(endpoint)
                    samples = loop.run_until_complete(
                        asyncio.wait_for(measure_lat(req, size, count), spec["hard_timeout"]))
                    parent_conn.send("done")
                req.close(0)
                result["metrics"] = harness.lat_metrics(samples)
            else:
                pull = async_socket(ctx, zmq, zmq.PULL, timeout_ms)
                endpoint = bind(pull, transport, tmpdir)
                if transport == "inproc":
                    push = async_socket(ctx, zmq, zmq.PUSH, timeout_ms)
                    push.connect(endpoint)

                    async def both() -> float:
                        sender = asyncio.ensure_future(pusher(push, size, count))
                        elapsed = await measure_thr(pull, size, count)
                        await sender
                        return elapsed
                    elapsed = loop.run_until_complete(
                        asyncio.wait_for(both(), spec["hard_timeout"]))
                    push.close(0)
                else:
                    proc = mp.Process(target=child_push, name="async-push", daemon=True,
                                      args=(impl, loop_kind, endpoint, size, count,
                                            timeout_ms, child_conn))
                    proc.start()
                    procs.append(proc)
                    elapsed = loop.run_until_complete(
                        asyncio.wait_for(measure_thr(pull, size, count), spec["hard_timeout"]))
                    harness.wait_for(parent_conn, timeout_ms / 1000.0, "sender's end")
                    parent_conn.send("done")
                pull.close(0)
                result["metrics"] = {"msg_per_s": (count - 1) / elapsed,
                                     "mb_per_s": (count - 1) * size / elapsed / 1e6}
        finally:
            loop.close()
            harness.reap(procs, 10, notes)
            ctx.destroy(linger=0)
    return result


def worker_main(spec: Dict[str, Any]) -> int:
    def fire() -> None:
        sys.stderr.write(f"WATCHDOG: worker exceeded {spec['hard_timeout']} s\n")
        sys.stderr.flush()
        os._exit(3)
    watchdog = threading.Timer(spec["hard_timeout"] + 10, fire)
    watchdog.daemon = True
    watchdog.start()
    try:
        result = bench(spec)
    except (asyncio.TimeoutError, harness.BenchTimeout) as exc:
        result = {"ok": False, "error": f"TIMEOUT: {type(exc).__name__}: {exc}"}
    except Exception as exc:  # noqa: BLE001 -- every failure becomes a FAILED row
        result = {"ok": False, "error": f"FAILED: {type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc()}
    zmq, _azmq = modules(spec["impl"])
    result["info"] = {"implementation": platform.python_implementation(),
                      "python": platform.python_version(), "executable": sys.executable,
                      "module": zmq.__name__,
                      "module_version": getattr(zmq, "__version__", "?"),
                      "libzmq": zmq.zmq_version()}
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


# ------------------------------------------------------------------------------------------
# the driver
# ------------------------------------------------------------------------------------------

class Row:
    def __init__(self, test: str, transport: str, size: int, count: int) -> None:
        self.test = test
        self.transport = transport
        self.size = size
        self.count = count
        self.results: Dict[str, List[Dict[str, Any]]] = {impl: [] for impl in IMPLS}

    @property
    def label(self) -> str:
        return f"{self.test} {self.transport} {fmt_size(self.size)}"

    @property
    def key(self) -> str:
        return "mean_us" if self.test == "lat" else "msg_per_s"

    def figures(self, impl: str) -> List[float]:
        return [r["metrics"][self.key] for r in self.results[impl] if r.get("ok")]

    def ratios(self) -> List[float]:
        pairs = zip(self.results["pyzmq"], self.results["puremq"])
        return [b["metrics"][self.key] / a["metrics"][self.key] for a, b in pairs
                if a.get("ok") and b.get("ok")]


def fmt_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size // (1024 * 1024)} MiB"
    if size >= 1024:
        return f"{size // 1024} KiB"
    return f"{size} B"


def run_worker(python: str, spec: Dict[str, Any], verbose: bool) -> Dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO_ROOT + (os.pathsep + env["PYTHONPATH"]
                                     if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen([python, THIS_FILE, "--worker", json.dumps(spec)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=REPO_ROOT, start_new_session=True, text=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=spec["hard_timeout"] + 30)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc.pid)
        out, err = proc.communicate()
    _kill_group(proc.pid)
    result: Optional[Dict[str, Any]] = None
    for line in out.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    if result is None:
        tail = " | ".join(err.strip().splitlines()[-3:])
        result = {"ok": False, "error": ("TIMEOUT: killed by the driver" if timed_out else
                                         f"FAILED: exit code {proc.returncode}") +
                  (f" ({tail})" if tail else "")}
    if verbose and err.strip():
        sys.stderr.write(err)
    return result


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def build_rows(args: argparse.Namespace) -> List[Row]:
    rows = []
    for transport in args.transports:
        rows.append(Row("lat", transport, 128, args.lat_count))
    for transport in args.transports:
        rows.append(Row("thr", transport, 128, args.thr_count))
    if "tcp" in args.transports and not args.quick:
        rows.append(Row("thr", "tcp", 64 * 1024, max(1000, args.thr_count // 10)))
    return rows


def cell(row: Row, impl: str) -> str:
    figures = row.figures(impl)
    failures = [r.get("error", "?") for r in row.results[impl] if not r.get("ok")]
    if not figures:
        return failures[0] if failures else "-"
    value = statistics.median(figures)
    if row.test == "lat":
        p50 = statistics.median(r["metrics"]["p50_us"] for r in row.results[impl]
                                if r.get("ok"))
        p99 = statistics.median(r["metrics"]["p99_us"] for r in row.results[impl]
                                if r.get("ok"))
        text = f"{value:.0f} us (p50 {p50:.0f}, p99 {p99:.0f})"
    else:
        text = f"{value:,.0f} msg/s"
    if failures:
        text += f" [{len(failures)} failed]"
    return text


def render(rows: List[Row], args: argparse.Namespace, command: str, lines: List[str]) -> str:
    out = [f"Command: `{command}`", ""]
    out += [f"- {line}" for line in lines]
    out += ["", "| row | pyzmq (zmq.asyncio) | puremq.asyncio | ratio puremq/pyzmq "
            "(median [min-max] over rounds) |", "|---|---|---|---|"]
    for row in rows:
        ratios = row.ratios()
        if ratios:
            kind = "RTT" if row.test == "lat" else "rate"
            ratio = (f"{statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]"
                     f" ({kind})")
        else:
            ratio = "-"
        out.append(f"| {row.label} | {cell(row, 'pyzmq')} | {cell(row, 'puremq')} | "
                   f"{ratio} |")
    return "\n".join(out) + "\n"


def describe(rows: List[Row], args: argparse.Namespace, tree: str) -> List[str]:
    lines = []
    for impl in IMPLS:
        for row in rows:
            info = next((r.get("info") for r in row.results[impl] if r.get("info")), None)
            if info:
                lines.append(f"{impl}: {info['module']} {info['module_version']} (libzmq "
                             f"{info['libzmq']}) under {info['implementation']} "
                             f"{info['python']} ({info['executable']})")
                break
    lines.append(f"loop: {args.loop}; rounds: {args.rounds} (A/B order alternated)")
    lines.append(f"machine: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
                 f"load average before: {tree[1]}, after: {harness.loadavg()}")
    lines.append(f"puremq tree: {tree[0]}")
    return lines


def driver_main(args: argparse.Namespace) -> int:
    rows = build_rows(args)
    tree = (harness.git_describe(), harness.loadavg())
    pythons = {"pyzmq": sys.executable, "puremq": args.python or sys.executable}
    for round_index in range(args.rounds):
        order = IMPLS if round_index % 2 == 0 else list(reversed(IMPLS))
        for row in rows:
            for impl in order:
                spec = {"impl": impl, "test": row.test, "transport": row.transport,
                        "size": row.size, "count": row.count, "loop": args.loop,
                        "io_timeout_ms": int(args.io_timeout * 1000),
                        "hard_timeout": args.row_timeout}
                result = run_worker(pythons[impl], spec, args.verbose)
                row.results[impl].append(result)
                if not args.silent:
                    figure = (f"{result['metrics'][row.key]:,.1f}" if result.get("ok")
                              else result.get("error"))
                    print(f"round {round_index + 1}/{args.rounds} {row.label} {impl}: "
                          f"{figure}", file=sys.stderr, flush=True)
    command = "python bench/async_bench.py " + " ".join(sys.argv[1:])
    table = render(rows, args, command.strip(), describe(rows, args, tree))
    print(table)
    if args.output:
        with open(args.output, "w") as handle:
            handle.write(table)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([{"row": row.label, "results": row.results} for row in rows], handle,
                      indent=1)
    failed = any(not r.get("ok") for row in rows for rs in row.results.values() for r in rs)
    return 1 if failed else 0


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true",
                        help="1 round, fewer messages, tcp and inproc 128 B only")
    parser.add_argument("--transports", default="tcp,ipc,inproc")
    parser.add_argument("--lat-count", type=int, default=5000)
    parser.add_argument("--thr-count", type=int, default=100_000)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--python", help="interpreter for the puremq side")
    parser.add_argument("--io-timeout", type=float, default=10.0)
    parser.add_argument("--row-timeout", type=float, default=120.0)
    parser.add_argument("--output", help="also write the table to this file")
    parser.add_argument("--json", help="write every figure to this file")
    parser.add_argument("--silent", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    args.transports = [t for t in args.transports.split(",") if t]
    if args.quick:
        args.rounds = 1
        args.lat_count = min(args.lat_count, 1000)
        args.thr_count = min(args.thr_count, 20_000)
        args.transports = [t for t in args.transports if t in ("tcp", "inproc")]
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker_main(json.loads(args.worker))
    return driver_main(args)


if __name__ == "__main__":
    sys.exit(main())
