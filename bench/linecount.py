"""Python lines and calls per message on one side of a puremq connection.

Timings on a shared 2-vCPU VM move by 20-50% between runs; the number of Python lines the
interpreter runs per message moves by a few percent (whether a reply is already there when
recv first looks changes the path), and on these machines it is what request-reply and
many-peer rows cost (each side sleeps every round trip, so the interpreter runs with cold
caches: about 0.2 us per line).  This counts them with ``sys.settrace`` in every thread of
the measuring process (the application thread and the I/O thread), over ``--count``
messages after a warm-up; the peer runs untraced in a child process, except over inproc,
where it is a thread of the measuring process and counted with it (the figure is then
both sides' lines).

    python bench/linecount.py --pattern req [--transport tcp|ipc|inproc] [--count 2000]

Patterns (this process's socket; the peer is its counterpart):

- ``req``: REQ, send + recv per message (the peer is a REP echo);
- ``rep``: REP, recv + send (the peer is a REQ);
- ``push``: PUSH, send (the peer PULL receives);
- ``pull``: PULL, recv (the peer PUSH sends).

Tracing slows the traced side down, so batching differs from an untraced run (fewer
messages per read): read the figures as the cost of one message at a time.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import threading
from typing import Any, Counter, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

import puremq as zmq  # noqa: E402  (the checkout's, not an installed one)

PEER_OF = {"req": "REP", "rep": "REQ", "push": "PULL", "pull": "PUSH"}
WARMUP = 100
PAYLOAD = b"\0" * 128


def run_peer(kind: str, endpoint: str, total: int, ctx: Any = None) -> int:
    """The counterpart: ``total`` messages, then exit (untraced in its own process; for
    inproc a thread of the measuring process, ``ctx`` given, counted with it)."""
    own_context = ctx is None
    ctx = zmq.Context() if own_context else ctx
    sock = ctx.socket(getattr(zmq, kind))
    sock.linger = 1000
    sock.rcvtimeo = sock.sndtimeo = 20000
    sock.connect(endpoint)
    for _ in range(total):
        if kind == "REP":
            sock.send(sock.recv())
        elif kind == "REQ":
            sock.send(PAYLOAD)
            sock.recv()
        elif kind == "PULL":
            sock.recv()
        else:
            sock.send(PAYLOAD)
    sock.close()
    if own_context:
        ctx.term()
    return 0


class LineCounter:
    """Line and call events per function, counted only while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.lines: Counter[str] = collections.Counter()
        self.calls: Counter[str] = collections.Counter()

    def trace(self, frame: Any, event: str, arg: Any) -> Any:
        if self.on:
            code = frame.f_code
            if code.co_filename == __file__:
                return self.trace  # the driving loop is not puremq's
            key = f"{os.path.basename(code.co_filename)}:{code.co_name}"
            if event == "call":
                self.calls[key] += 1
            elif event == "line":
                self.lines[key] += 1
        return self.trace


def one_message(kind: str, sock: Any) -> None:
    if kind == "req":
        sock.send(PAYLOAD)
        sock.recv()
    elif kind == "rep":
        sock.send(sock.recv())
    elif kind == "push":
        sock.send(PAYLOAD)
    else:
        sock.recv()


def measure(kind: str, transport: str, count: int) -> Tuple[LineCounter, int]:
    counter = LineCounter()
    threading.settrace(counter.trace)  # the I/O thread starts with the context's first socket
    sys.settrace(counter.trace)
    ctx = zmq.Context()
    sock = ctx.socket(getattr(zmq, kind.upper()))
    sock.linger = 1000
    sock.rcvtimeo = sock.sndtimeo = 20000
    with tempfile.TemporaryDirectory() as tmp:
        if transport == "ipc":
            endpoint = f"ipc://{tmp}/linecount"
            sock.bind(endpoint)
        elif transport == "inproc":
            endpoint = "inproc://linecount"
            sock.bind(endpoint)
        else:
            endpoint = f"tcp://127.0.0.1:{sock.bind_to_random_port('tcp://127.0.0.1')}"
        if transport == "inproc":
            peer: Any = InprocPeer(ctx, PEER_OF[kind], endpoint, WARMUP + count)
        else:
            peer = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--peer",
                                     PEER_OF[kind], endpoint, str(WARMUP + count)])
        try:
            for _ in range(WARMUP):
                one_message(kind, sock)
            counter.on = True
            for _ in range(count):
                one_message(kind, sock)
            counter.on = False
            code = peer.wait(30)
        finally:
            sys.settrace(None)
            threading.settrace(None)  # type: ignore[arg-type]
            if peer.poll() is None:
                peer.kill()
        sock.close()
        ctx.term()
    return counter, code


class InprocPeer:
    """The counterpart as a thread of this process (inproc), with Popen's wait/poll/kill."""

    def __init__(self, ctx: Any, kind: str, endpoint: str, total: int) -> None:
        self.code: Any = None
        self.thread = threading.Thread(target=self._run, args=(ctx, kind, endpoint, total),
                                       daemon=True)
        self.thread.start()

    def _run(self, ctx: Any, kind: str, endpoint: str, total: int) -> None:
        self.code = 1
        self.code = run_peer(kind, endpoint, total, ctx)

    def wait(self, timeout: float) -> Any:
        self.thread.join(timeout)
        return self.code

    def poll(self) -> Any:
        return None if self.thread.is_alive() else self.code

    def kill(self) -> None:
        pass  # a daemon thread: it ends with the process


def report(counter: LineCounter, count: int, top: int) -> List[str]:
    total_lines = sum(counter.lines.values()) / count
    total_calls = sum(counter.calls.values()) / count
    out = [f"Python lines per message: {total_lines:.1f}; calls: {total_calls:.1f}", "",
           "| lines/msg | calls/msg | function |", "|---|---|---|"]
    for key, lines in counter.lines.most_common(top):
        out.append(f"| {lines / count:.1f} | {counter.calls[key] / count:.2f} | {key} |")
    return out


def main(argv: List[str]) -> int:
    if argv[:1] == ["--peer"]:
        return run_peer(argv[1], argv[2], int(argv[3]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pattern", choices=sorted(PEER_OF), default="req")
    parser.add_argument("--transport", choices=("tcp", "ipc", "inproc"), default="tcp")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    counter, code = measure(args.pattern, args.transport, args.count)
    if code != 0:
        print(f"the peer failed (exit code {code})", file=sys.stderr)
        return 1
    print(f"{args.pattern} over {args.transport}, {args.count} messages, "
          f"{sys.implementation.name} {sys.version.split()[0]}")
    print("\n".join(report(counter, args.count, args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
