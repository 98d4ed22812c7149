"""The Hub and the controller process (the Hub plus its scheduler).

The Hub knows the cluster: engines register with it (and learn from it where the scheduler
is, and who registered before them), clients ask it questions, and it follows every task
through the scheduler's monitor stream -- it never sees the tasks any other way.

The scheduler is a ``ProcessMonitoredQueue`` (``zmq.devices``): a ROUTER facing the
clients, a DEALER facing the engines (each task goes to the next engine, round robin) and a
PUSH monitor socket on which it copies every message to the Hub, prefixed ``intask`` or
``outtask``.  PUSH rather than the usual PUB: a PUB drops what it sends before its
subscriber has connected, and the Hub must see every task.
"""

from __future__ import annotations

import importlib
import os
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from .protocol import DEFAULT_TIMEOUT_MS, IN_PREFIX, OUT_PREFIX, dumps, load_module, loads

#: a request the Hub answers later: (ready?, requester's routing id, build the reply, deadline)
Deferred = Tuple[Callable[[], bool], bytes, Callable[[], Dict[str, Any]], float]


class Hub:
    """Registration, queries and task tracking (runs in the controller's main thread)."""

    def __init__(self, zmq: Any, ctx: Any, monitor_endpoint: Optional[str],
                 scheduler: Optional[Dict[str, str]], timeout_ms: int = DEFAULT_TIMEOUT_MS
                 ) -> None:
        self.zmq = zmq
        self.timeout_ms = timeout_ms
        self.registration = ctx.socket(zmq.ROUTER)
        self.registration.linger = 1000
        self.registration.bind("tcp://127.0.0.1:*")
        self.monitor = None
        if monitor_endpoint is not None:
            self.monitor = ctx.socket(zmq.PULL)
            self.monitor.linger = 0
            self.monitor.connect(monitor_endpoint)
        self.scheduler = scheduler or {}
        #: engine id -> what it told us at registration, and what it did
        self.engines: Dict[int, Dict[str, Any]] = {}
        self._engine_rids: Dict[int, bytes] = {}
        #: task id -> its record, built from the monitor stream only
        self.tasks: Dict[str, Dict[str, Any]] = {}
        self.reports: List[Dict[str, Any]] = []
        self._barriers: Dict[str, List[bytes]] = {}
        self._deferred: List[Deferred] = []
        self.running = True

    @property
    def endpoint(self) -> str:
        return self.registration.last_endpoint.decode()

    # -- the loop -----------------------------------------------------------------------------
    def serve(self, idle_timeout_ms: Optional[int] = None) -> None:
        """Until a ``shutdown`` request (or ``idle_timeout_ms`` without any message)."""
        zmq = self.zmq
        poller = zmq.Poller()
        poller.register(self.registration, zmq.POLLIN)
        if self.monitor is not None:
            poller.register(self.monitor, zmq.POLLIN)
        last_activity = time.monotonic()
        while self.running:
            wait = 100 if self._deferred else 1000
            events = dict(poller.poll(wait))
            if events:
                last_activity = time.monotonic()
            elif idle_timeout_ms is not None and \
                    time.monotonic() - last_activity > idle_timeout_ms / 1000.0:
                break
            if self.monitor is not None and self.monitor in events:
                while self.monitor.poll(0):
                    self.on_monitor(self.monitor.recv_multipart())
            if self.registration in events:
                while self.registration.poll(0):
                    rid, body = self.registration.recv_multipart()
                    self.on_request(rid, loads(body))
            self._answer_deferred()

    def _reply(self, rid: bytes, message: Dict[str, Any]) -> None:
        self.registration.send_multipart([rid, dumps(message)])

    def _defer(self, rid: bytes, ready: Callable[[], bool],
               reply: Callable[[], Dict[str, Any]], timeout_ms: Optional[int]) -> None:
        deadline = time.monotonic() + (timeout_ms or self.timeout_ms) / 1000.0
        self._deferred.append((ready, rid, reply, deadline))

    def _answer_deferred(self) -> None:
        waiting: List[Deferred] = []
        now = time.monotonic()
        for ready, rid, reply, deadline in self._deferred:
            if ready():
                self._reply(rid, reply())
            elif now > deadline:
                self._reply(rid, {"type": "error", "error": "timed out"})
            else:
                waiting.append((ready, rid, reply, deadline))
        self._deferred = waiting

    # -- requests -----------------------------------------------------------------------------
    def on_request(self, rid: bytes, request: Dict[str, Any]) -> None:
        kind = request.get("type")
        handler = getattr(self, f"_on_{kind}", None)
        if handler is None:
            self._reply(rid, {"type": "error", "error": f"unknown request {kind!r}"})
            return
        handler(rid, request)

    def _on_register(self, rid: bytes, request: Dict[str, Any]) -> None:
        engine_id = len(self.engines)
        peers = [{"id": eid, "name": info["name"], "addresses": info["addresses"]}
                 for eid, info in sorted(self.engines.items())]
        self.engines[engine_id] = {
            "id": engine_id, "name": request.get("name", f"engine-{engine_id}"),
            "pid": request.get("pid"), "addresses": request.get("addresses") or {},
            "ready": False, "tasks_done": 0, "registered": time.time(),
        }
        self._engine_rids[engine_id] = rid
        self._reply(rid, {"type": "registered", "id": engine_id,
                          "scheduler": self.scheduler.get("engine"), "peers": peers})

    def _on_ready(self, rid: bytes, request: Dict[str, Any]) -> None:
        engine = self.engines.get(request.get("id"))  # type: ignore[arg-type]
        if engine is not None:
            engine["ready"] = True

    def _roster(self) -> Dict[str, Any]:
        return {"type": "engines",
                "engines": [{"id": eid, "name": e["name"], "pid": e["pid"],
                             "addresses": e["addresses"], "ready": e["ready"],
                             "tasks_done": e["tasks_done"]}
                            for eid, e in sorted(self.engines.items())]}

    def _on_wait_engines(self, rid: bytes, request: Dict[str, Any]) -> None:
        """Answered once ``count`` engines are ready (registered, for ``registered: true``)."""
        count = int(request.get("count", 1))
        key = "registered" if request.get("registered") else "ready"

        def enough() -> bool:
            if key == "registered":
                return len(self.engines) >= count
            return sum(1 for e in self.engines.values() if e["ready"]) >= count
        self._defer(rid, enough, self._roster, request.get("timeout_ms"))

    def _on_barrier(self, rid: bytes, request: Dict[str, Any]) -> None:
        """Everyone waiting at barrier ``name`` is answered when ``count`` have arrived."""
        name = str(request.get("name"))
        count = int(request.get("count", 1))
        arrived = self._barriers.setdefault(name, [])
        arrived.append(rid)
        if len(arrived) >= count:
            for waiting in arrived:
                self._reply(waiting, {"type": "barrier", "name": name})
            del self._barriers[name]

    def _on_report(self, rid: bytes, request: Dict[str, Any]) -> None:
        self.reports.append(request.get("report") or {})
        self._reply(rid, {"type": "ok"})

    def _on_wait_reports(self, rid: bytes, request: Dict[str, Any]) -> None:
        count = int(request.get("count", 1))
        self._defer(rid, lambda: len(self.reports) >= count,
                    lambda: {"type": "reports", "reports": list(self.reports)},
                    request.get("timeout_ms"))

    def _status(self) -> Dict[str, Any]:
        return {"type": "status", "tasks": self.tasks, "engines": self._roster()["engines"]}

    def _on_status(self, rid: bytes, request: Dict[str, Any]) -> None:
        self._reply(rid, self._status())

    def _on_wait_tasks(self, rid: bytes, request: Dict[str, Any]) -> None:
        """Answered once every task in ``task_ids`` is finished as far as the Hub can tell
        from the monitor stream."""
        ids = list(request.get("task_ids") or [])

        def finished() -> bool:
            return all(self.tasks.get(t, {}).get("status") in ("done", "failed") for t in ids)
        self._defer(rid, finished, self._status, request.get("timeout_ms"))

    def _on_shutdown(self, rid: bytes, request: Dict[str, Any]) -> None:
        for engine_rid in self._engine_rids.values():
            self.registration.send_multipart([engine_rid, dumps({"type": "shutdown"})])
        self._reply(rid, {"type": "ok"})
        self.running = False

    # -- the monitor stream --------------------------------------------------------------
    def on_monitor(self, frames: List[bytes]) -> None:
        """``[prefix, client_id, header, ...]``: what the scheduler relayed."""
        if len(frames) < 3:
            return
        prefix, client, header = frames[0], frames[1], loads(frames[2])
        task_id = header.get("task_id")
        if task_id is None:
            return
        now = time.time()
        task = self.tasks.get(task_id)
        if task is None:
            task = self.tasks[task_id] = {"task_id": task_id, "client": client.hex(),
                                          "func": None, "status": None, "engine": None,
                                          "history": []}
        kind = header.get("type")
        if prefix == IN_PREFIX and kind == "apply_request":
            task.update(func=header.get("func"), status="submitted", submitted=now)
            task["history"].append("submitted")
        elif prefix == OUT_PREFIX and kind == "task_started":
            task.update(status="running", engine=header.get("engine"), started=now)
            task["history"].append("running")
        elif prefix == OUT_PREFIX and kind == "apply_reply":
            ok = header.get("status") == "ok"
            task.update(status="done" if ok else "failed", engine=header.get("engine"),
                        completed=now, error=header.get("error"))
            task["history"].append(task["status"])
            engine = self.engines.get(header.get("engine"))  # type: ignore[arg-type]
            if engine is not None:
                engine["tasks_done"] += 1

    def close(self) -> None:
        self.registration.close()
        if self.monitor is not None:
            self.monitor.close()


def start_scheduler(impl: str) -> Tuple[Any, Dict[str, str], str]:
    """The scheduler device, in a process of its own: (device, endpoints, monitor endpoint).

    Started before the Hub makes its context, so the child is forked from a process with no
    I/O thread running.
    """
    zmq = load_module(impl)
    devices = importlib.import_module(zmq.__name__ + ".devices")
    scheduler = devices.ProcessMonitoredQueue(zmq.ROUTER, zmq.DEALER, zmq.PUSH,
                                              IN_PREFIX, OUT_PREFIX)
    client_port = scheduler.bind_in_to_random_port("tcp://127.0.0.1")
    engine_port = scheduler.bind_out_to_random_port("tcp://127.0.0.1")
    monitor_port = scheduler.bind_mon_to_random_port("tcp://127.0.0.1")
    for setsockopt in (scheduler.setsockopt_in, scheduler.setsockopt_out,
                       scheduler.setsockopt_mon):
        setsockopt(zmq.LINGER, 0)
    scheduler.start()
    endpoints = {"client": f"tcp://127.0.0.1:{client_port}",
                 "engine": f"tcp://127.0.0.1:{engine_port}"}
    return scheduler, endpoints, f"tcp://127.0.0.1:{monitor_port}"


def controller_main(conn: Any, impl: str = "puremq", with_scheduler: bool = True,
                    timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
    """The controller process: scheduler + Hub.  Sends its endpoints on ``conn``, then
    serves until a client asks it to shut down (or nothing happens for a long while)."""
    scheduler = None
    endpoints: Dict[str, str] = {}
    monitor_endpoint = None
    if with_scheduler:
        scheduler, endpoints, monitor_endpoint = start_scheduler(impl)
    zmq = load_module(impl)
    ctx = zmq.Context()
    hub = Hub(zmq, ctx, monitor_endpoint, endpoints, timeout_ms)
    try:
        conn.send({"registration": hub.endpoint, "pid": os.getpid(), **endpoints})
        hub.serve(idle_timeout_ms=max(timeout_ms * 3, 60000))
    finally:
        hub.close()
        ctx.term()
        if scheduler is not None:
            # a MonitoredQueue runs until its context ends: in another process, end that
            scheduler.launcher.terminate()
            scheduler.join(5)
