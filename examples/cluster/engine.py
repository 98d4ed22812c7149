"""An engine: registers with the Hub, then runs the tasks the scheduler hands it.

For each task it tells the client (through the scheduler, so the Hub sees it too) that it
started, runs it, and sends the result back the same way.  It ends when the Hub says
``shutdown`` (or nothing at all happens for a long while).
"""

from __future__ import annotations

import importlib
import os
import time
from typing import Any, Optional

from .protocol import DEFAULT_TIMEOUT_MS, dumps, load_module, loads, run_task


def wait_connected(zmq: Any, sock: Any, endpoint: str, timeout_ms: int) -> bool:
    """Connect ``sock`` and wait until its handshake with the peer is done -- watched with
    the socket's monitor (EVENT_HANDSHAKE_SUCCEEDED), not guessed with a sleep."""
    events = importlib.import_module(zmq.__name__ + ".utils.monitor")
    monitor = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    try:
        sock.connect(endpoint)
        deadline = time.monotonic() + timeout_ms / 1000.0
        while True:
            remaining = int((deadline - time.monotonic()) * 1000)
            if remaining <= 0 or not monitor.poll(remaining):
                return False
            if events.recv_monitor_message(monitor)["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                return True
    finally:
        sock.disable_monitor()
        monitor.close(linger=0)


def engine_main(registration: str, impl: str = "puremq", name: Optional[str] = None,
                timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
    zmq = load_module(impl)
    ctx = zmq.Context()
    hub = ctx.socket(zmq.DEALER)
    tasks = ctx.socket(zmq.DEALER)
    for sock in (hub, tasks):
        sock.linger = 1000  # the last replies still go out after shutdown
    hub.rcvtimeo = timeout_ms
    try:
        hub.connect(registration)
        hub.send(dumps({"type": "register", "name": name or f"engine-{os.getpid()}",
                        "pid": os.getpid()}))
        reply = loads(hub.recv())
        engine_id = reply["id"]
        if not wait_connected(zmq, tasks, reply["scheduler"], timeout_ms):
            raise RuntimeError("could not reach the scheduler")
        hub.send(dumps({"type": "ready", "id": engine_id}))
        poller = zmq.Poller()
        poller.register(hub, zmq.POLLIN)
        poller.register(tasks, zmq.POLLIN)
        idle_limit = max(timeout_ms * 3, 60000) / 1000.0
        last = time.monotonic()
        while True:
            events = dict(poller.poll(1000))
            if not events:
                if time.monotonic() - last > idle_limit:
                    break  # the Hub is gone: do not linger forever
                continue
            last = time.monotonic()
            if tasks in events:
                client, header_frame, args_frame = tasks.recv_multipart()
                header = loads(header_frame)
                task_id = header["task_id"]
                tasks.send_multipart([client, dumps({"type": "task_started",
                                                     "task_id": task_id,
                                                     "engine": engine_id})])
                reply_header = {"type": "apply_reply", "task_id": task_id,
                                "engine": engine_id, "status": "ok"}
                result: Any = None
                try:
                    result = run_task(header["func"], loads(args_frame))
                except Exception as exc:  # the task's failure is the client's answer
                    reply_header.update(status="error", error=f"{type(exc).__name__}: {exc}")
                tasks.send_multipart([client, dumps(reply_header), dumps(result)])
            if hub in events:
                if loads(hub.recv()).get("type") == "shutdown":
                    break
    finally:
        hub.close()
        tasks.close()
        ctx.term()
