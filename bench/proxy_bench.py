"""Proxy throughput: PUSH -> zmq.proxy(PULL, PUSH) -> PULL over tcp, puremq against pyzmq.

Only the proxy changes between the two sides of the comparison: the sender and the
receiver are pyzmq (libzmq) sockets in both, so the figure is the proxy's own.  The proxy
runs in its own process (optionally under another interpreter, e.g. PyPy, with
``--proxy-python``); the sender runs in a second process and the receiver here.  Rounds
alternate the implementations (pyzmq, puremq, pyzmq, ...); the result is the median of
each round's puremq/pyzmq ratio of messages per second.

    python bench/proxy_bench.py [--count 200000] [--size 128] [--rounds 5]
                                [--proxy-python /tmp/vpypy/bin/python]

The receiver's clock runs from the first message to the last, so connection set-up is
not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


# -- child: the proxy ---------------------------------------------------------------------
def proxy_child(impl: str) -> int:
    """Bind PULL (frontend) and PUSH (backend), print the endpoints, proxy until stdin
    closes, then end the proxy by terminating the context (as pyzmq documents)."""
    if impl == "puremq":
        sys.path.insert(0, REPO)
        import puremq as zmq
    else:
        import zmq  # type: ignore[no-redef]
    ctx = zmq.Context()
    frontend = ctx.socket(zmq.PULL)
    backend = ctx.socket(zmq.PUSH)
    for sock in (frontend, backend):
        sock.linger = 0
    frontend.bind("tcp://127.0.0.1:*")
    backend.bind("tcp://127.0.0.1:*")
    endpoints = [frontend.last_endpoint.decode(), backend.last_endpoint.decode()]
    failure: List[str] = []

    def run() -> None:
        try:
            zmq.proxy(frontend, backend)
        except zmq.ContextTerminated:
            pass
        except Exception as exc:  # reported to the parent below
            failure.append(f"{type(exc).__name__}: {exc}")
        finally:
            frontend.close(linger=0)
            backend.close(linger=0)

    thread = threading.Thread(target=run, name="proxy", daemon=True)
    thread.start()
    print(json.dumps({"endpoints": endpoints, "python": platform.python_implementation()}),
          flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    ctx.term()
    thread.join(10)
    if failure:
        print(json.dumps({"failure": failure[0]}), flush=True)
        return 1
    return 0


# -- child: the sender --------------------------------------------------------------------
def sender_child(endpoint: str, size: int, count: int) -> int:
    import zmq
    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.linger = -1
    push.connect(endpoint)
    msg = b"x" * size
    send = push.send
    for _ in range(count):
        send(msg)
    push.close()
    ctx.term()
    return 0


# -- parent --------------------------------------------------------------------------------
def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc), all its threads."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def one_round(impl: str, size: int, count: int, proxy_python: str,
              timeout: float) -> Dict[str, Any]:
    import zmq
    proxy = subprocess.Popen([proxy_python, os.path.abspath(__file__), "--child-proxy", impl],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    sender: Optional[subprocess.Popen] = None
    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    pull.rcvtimeo = int(timeout * 1000)
    try:
        assert proxy.stdout is not None and proxy.stdin is not None
        hello = json.loads(proxy.stdout.readline())
        front, back = hello["endpoints"]
        pull.connect(back)
        sender = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child-sender",
                                   front, str(size), str(count)])
        recv = pull.recv
        recv()
        cpu_start = _cpu_seconds(proxy.pid)
        start = time.perf_counter()
        for _ in range(count - 1):
            recv()
        elapsed = time.perf_counter() - start
        cpu = _cpu_seconds(proxy.pid) - cpu_start
        rate = (count - 1) / elapsed
        return {"impl": impl, "proxy_python": hello["python"], "msgs": rate,
                "mb": rate * size / 1e6, "seconds": elapsed,
                "cpu_us_per_msg": cpu / (count - 1) * 1e6}
    finally:
        pull.close(linger=0)
        ctx.term()
        if sender is not None:
            try:
                sender.wait(timeout)
            except subprocess.TimeoutExpired:
                sender.kill()
        if proxy.stdin is not None:
            proxy.stdin.close()
        try:
            proxy.wait(timeout)
        except subprocess.TimeoutExpired:
            proxy.kill()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per wait")
    parser.add_argument("--proxy-python", default=sys.executable,
                        help="interpreter for puremq's proxy process (pyzmq's proxy runs "
                             "under this one)")
    parser.add_argument("--child-proxy", help=argparse.SUPPRESS)
    parser.add_argument("--child-sender", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_proxy:
        return proxy_child(args.child_proxy)
    if args.child_sender:
        endpoint, size, count = args.child_sender
        return sender_child(endpoint, int(size), int(count))

    import zmq
    print(f"proxy tcp {args.size} B, {args.count} messages, {args.rounds} rounds; "
          f"sender and receiver: pyzmq {zmq.pyzmq_version()} (libzmq {zmq.zmq_version()}); "
          f"cores: {os.cpu_count()}; load before: {os.getloadavg()[0]:.2f}", flush=True)
    ratios: List[float] = []
    cpu_ratios: List[float] = []
    results: Dict[str, List[float]] = {"pyzmq": [], "puremq": []}
    cpu: Dict[str, List[float]] = {"pyzmq": [], "puremq": []}
    pythons: Dict[str, str] = {}
    for index in range(args.rounds):
        row = {}
        for impl in ("pyzmq", "puremq"):
            python = args.proxy_python if impl == "puremq" else sys.executable
            result = one_round(impl, args.size, args.count, python, args.timeout)
            pythons[impl] = result["proxy_python"]
            row[impl] = result["msgs"]
            results[impl].append(result["msgs"])
            cpu[impl].append(result["cpu_us_per_msg"])
        ratio = row["puremq"] / row["pyzmq"]
        ratios.append(ratio)
        cpu_ratios.append(cpu["puremq"][-1] / cpu["pyzmq"][-1])
        print(f"round {index + 1}: pyzmq {row['pyzmq'] / 1e3:7.1f}k msg/s "
              f"({cpu['pyzmq'][-1]:.2f} us CPU/msg)   puremq ({pythons['puremq']}) "
              f"{row['puremq'] / 1e3:7.1f}k msg/s ({cpu['puremq'][-1]:.2f} us CPU/msg)   "
              f"ratio {ratio:.3f}", flush=True)
    print(f"median: pyzmq {statistics.median(results['pyzmq']) / 1e3:.1f}k msg/s, "
          f"puremq {statistics.median(results['puremq']) / 1e3:.1f}k msg/s, "
          f"puremq/pyzmq {statistics.median(ratios):.3f} "
          f"(range {min(ratios):.3f}-{max(ratios):.3f}); proxy CPU per message: pyzmq "
          f"{statistics.median(cpu['pyzmq']):.2f} us, puremq "
          f"{statistics.median(cpu['puremq']):.2f} us, puremq/pyzmq "
          f"{statistics.median(cpu_ratios):.2f}; load after: {os.getloadavg()[0]:.2f}",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
