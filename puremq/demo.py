"""``python -m puremq demo``: a guided tour of the ØMQ patterns, run for real.

Each part prints what it does and what happened, so a newcomer can follow along:

1. hello over PAIR, on each transport (inproc, ipc, tcp);
2. request-reply: a REP server in a thread answering a REQ client;
3. pub-sub with a topic filter: the subscriber only sees the topic it asked for;
4. push-pull task distribution: a ventilator fans tasks out to worker processes and a
   sink collects the results;
5. the IPython cluster pattern (examples/cluster): a Hub, a MonitoredQueue scheduler,
   engines and a client, each in its own process; the Hub tracks every task.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import threading
import time
from typing import Callable, List, Optional

import puremq as zmq

TIMEOUT_MS = 5000


def _say(text: str = "") -> None:
    print(text, flush=True)


def _title(number: int, text: str) -> None:
    _say()
    _say(f"{number}. {text}")
    _say("-" * (len(text) + 3))


def _endpoints(directory: str) -> List[str]:
    return ["inproc://demo-pair", f"ipc://{os.path.join(directory, 'pair.sock')}",
            "tcp://127.0.0.1:*"]


def hello_over_pair(ctx: zmq.Context, directory: str) -> None:
    _title(1, "hello over PAIR, on every transport")
    _say("A PAIR socket talks to exactly one peer. We bind one, connect the other, and send.")
    for endpoint in _endpoints(directory):
        a = ctx.socket(zmq.PAIR)
        b = ctx.socket(zmq.PAIR)
        try:
            a.bind(endpoint)
            actual = a.last_endpoint.decode()
            b.connect(actual)
            b.rcvtimeo = a.rcvtimeo = TIMEOUT_MS
            a.send(b"hello")
            got = b.recv()
            b.send(b"hi back")
            answer = a.recv()
            _say(f"  {actual:<40} a -> b: {got!r:<10} b -> a: {answer!r}")
        finally:
            a.close(linger=0)
            b.close(linger=0)


def request_reply(ctx: zmq.Context) -> None:
    _title(2, "request-reply (REQ/REP)")
    _say("A REP server in a thread answers each request; REQ must alternate send and recv.")
    server = ctx.socket(zmq.REP)
    port = server.bind_to_random_port("tcp://127.0.0.1")
    server.rcvtimeo = TIMEOUT_MS

    def serve(count: int) -> None:
        for _ in range(count):
            request = server.recv_string()
            server.send_string(request.upper())

    requests = ["hello", "zeromq", "in pure python"]
    thread = threading.Thread(target=serve, args=(len(requests),), daemon=True)
    thread.start()
    client = ctx.socket(zmq.REQ)
    client.rcvtimeo = TIMEOUT_MS
    client.connect(f"tcp://127.0.0.1:{port}")
    try:
        for text in requests:
            client.send_string(text)
            _say(f"  REQ sent {text!r:<18} REP answered {client.recv_string()!r}")
        try:
            client.recv()
        except zmq.ZMQError as exc:
            _say(f"  a second recv without a send is refused: ZMQError({exc.strerror!r})")
    finally:
        thread.join(TIMEOUT_MS / 1000)
        client.close(linger=0)
        server.close(linger=0)


def pub_sub(ctx: zmq.Context, directory: str) -> None:
    _title(3, "pub-sub with a topic filter (over ipc)")
    _say("The subscriber asks for topic 'weather'; the publisher also sends 'sports'.")
    endpoint = f"ipc://{os.path.join(directory, 'pubsub.sock')}"
    publisher = ctx.socket(zmq.PUB)
    publisher.bind(endpoint)
    subscriber = ctx.socket(zmq.SUB)
    subscriber.connect(endpoint)
    subscriber.subscribe("weather")
    try:
        # Subscriptions travel to the publisher asynchronously: publish until one arrives.
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while not subscriber.poll(50):
            if time.monotonic() > deadline:
                raise RuntimeError("subscription never reached the publisher")
            publisher.send_string("weather warm-up")
        while subscriber.poll(50):
            subscriber.recv()
        _say("  (the subscription reached the publisher; filtering happens on its side)")
        for update in ["sports: 2-1", "weather: sunny, 21C", "sports: 0-0",
                       "weather: rain later"]:
            publisher.send_string(update)
            _say(f"  published {update!r}")
        received = []
        while subscriber.poll(200):
            received.append(subscriber.recv_string())
        _say(f"  the subscriber received {received}")
    finally:
        publisher.close(linger=0)
        subscriber.close(linger=0)


def _worker(task_endpoint: str, result_endpoint: str, name: str) -> None:
    """A worker process: pull numbers, push back their squares."""
    ctx = zmq.Context()
    tasks = ctx.socket(zmq.PULL)
    tasks.connect(task_endpoint)
    tasks.rcvtimeo = TIMEOUT_MS
    results = ctx.socket(zmq.PUSH)
    results.connect(result_endpoint)
    try:
        results.send_json({"ready": name})
        while True:
            number = tasks.recv_json()
            if number is None:
                break
            results.send_json({"worker": name, "task": number, "result": number * number})
    finally:
        tasks.close(linger=0)
        results.close(linger=-1)
        ctx.term()


def push_pull(ctx: zmq.Context, workers: int = 3, tasks: int = 12) -> None:
    _title(4, f"push-pull task distribution to {workers} worker processes (over tcp)")
    _say("A ventilator PUSHes tasks; each worker PULLs some, and PUSHes results to a sink.")
    ventilator = ctx.socket(zmq.PUSH)
    task_port = ventilator.bind_to_random_port("tcp://127.0.0.1")
    sink = ctx.socket(zmq.PULL)
    sink.rcvtimeo = TIMEOUT_MS * 2
    result_port = sink.bind_to_random_port("tcp://127.0.0.1")
    spawn = multiprocessing.get_context("spawn")
    procs = [spawn.Process(target=_worker, args=(f"tcp://127.0.0.1:{task_port}",
                                                 f"tcp://127.0.0.1:{result_port}",
                                                 f"worker-{i + 1}"), daemon=True)
             for i in range(workers)]
    try:
        for proc in procs:
            proc.start()
        # Wait until every worker said it is ready, so the load is spread across all.
        names = sorted(sink.recv_json()["ready"] for _ in procs)
        _wait_for_peers(ventilator, workers)
        _say(f"  {', '.join(names)} are ready; sending {tasks} tasks")
        for number in range(1, tasks + 1):
            ventilator.send_json(number)
        done = {}
        for _ in range(tasks):
            result = sink.recv_json()
            done.setdefault(result["worker"], []).append(f"{result['task']}²={result['result']}")
        for name in sorted(done):
            _say(f"  {name} did {', '.join(done[name])}")
        for _ in procs:
            ventilator.send_json(None)  # one stop signal per worker
    finally:
        for proc in procs:
            proc.join(TIMEOUT_MS / 1000)
            if proc.is_alive():
                proc.terminate()
        ventilator.close(linger=0)
        sink.close(linger=0)


def _wait_for_peers(push: zmq.Socket, count: int) -> int:
    """Until the PUSH has ``count`` peers attached (bounded): a worker's "ready" came over
    its other connection, so its task connection may still be finishing its handshake."""
    deadline = time.monotonic() + 10
    pattern = push._pattern
    while time.monotonic() < deadline:
        pattern.process_commands()
        if len(pattern.pipes) >= count:
            break
        push._engine.signaler.wait(20)  # woken when the I/O thread attaches a pipe
    return len(pattern.pipes)


def run(parts: Optional[List[Callable[..., None]]] = None) -> int:
    _say("puremq demo: ZeroMQ in pure Python "
         f"(speaks ZMTP 3.1 like libzmq {zmq.zmq_version()}, runs on "
         f"{sys.implementation.name} {sys.version.split()[0]})")
    ctx = zmq.Context()
    with tempfile.TemporaryDirectory(prefix="puremq-demo-") as directory:
        try:
            hello_over_pair(ctx, directory)
            request_reply(ctx)
            pub_sub(ctx, directory)
            push_pull(ctx)
        finally:
            ctx.destroy(linger=0)
    ok = ipython_cluster()
    _say()
    _say("All four patterns and the cluster ran. See README.md for more." if ok else
         "The four patterns ran; the cluster part did not check out (see above).")
    return 0 if ok else 1


def ipython_cluster(engines: int = 3, tasks: int = 6) -> bool:
    """Part 5: the IPython cluster pattern (examples/cluster), each role in its own process."""
    _title(5, f"the IPython cluster pattern: a Hub, a scheduler and {engines} engines")
    _say("A MonitoredQueue relays tasks between a client (ROUTER side) and engines (DEALER")
    _say("side) and copies every message to the Hub, which tracks each task from that alone.")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.isdir(os.path.join(root, "examples", "cluster")):
        _say("  (examples/cluster comes with puremq's source tree; not found next to this copy)")
        return True
    if root not in sys.path:
        sys.path.insert(0, root)  # spawned processes inherit it
    from examples.cluster.client import default_tasks
    from examples.cluster.launcher import run_cluster
    from examples.cluster.report import print_report
    outcome = run_cluster(engines, default_tasks(tasks), timeout_ms=TIMEOUT_MS * 2,
                          log=lambda text: _say(f"  {text}"))
    return print_report(outcome, _say)
