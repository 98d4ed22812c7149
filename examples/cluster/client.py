"""A client: submits tasks to the scheduler, collects their results, asks the Hub."""

from __future__ import annotations

import time
import uuid
from typing import Any, Dict, Iterable, List, Optional

from .protocol import DEFAULT_TIMEOUT_MS, dumps, load_module, loads


class Client:
    def __init__(self, info: Dict[str, Any], impl: str = "puremq",
                 timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        self.zmq = zmq = load_module(impl)
        self.timeout_ms = timeout_ms
        self.ctx = zmq.Context()
        self.hub = self.ctx.socket(zmq.DEALER)
        self.hub.linger = 0
        self.hub.rcvtimeo = timeout_ms
        self.hub.connect(info["registration"])
        self.scheduler = None
        if info.get("client"):
            self.scheduler = self.ctx.socket(zmq.DEALER)
            self.scheduler.linger = 0
            self.scheduler.connect(info["client"])
        #: task id -> the engine that said it started it
        self.started: Dict[str, int] = {}
        #: task id -> {"status", "engine", "result" or "error"}
        self.results: Dict[str, Dict[str, Any]] = {}

    def ask_hub(self, request: Dict[str, Any]) -> Dict[str, Any]:
        """One request to the Hub, one reply (waits at most the client's timeout)."""
        self.hub.send(dumps(request))
        return loads(self.hub.recv())

    def submit(self, func: str, *args: Any) -> str:
        """Queue ``func(*args)`` on the cluster; returns the task id."""
        if self.scheduler is None:
            raise RuntimeError("this cluster has no scheduler")
        task_id = uuid.uuid4().hex
        self.scheduler.send_multipart([dumps({"type": "apply_request", "task_id": task_id,
                                              "func": func}), dumps(list(args))])
        return task_id

    def collect(self, task_ids: Iterable[str], timeout_ms: Optional[int] = None
                ) -> Dict[str, Dict[str, Any]]:
        """Wait for the results of ``task_ids``; raises TimeoutError if some never come."""
        assert self.scheduler is not None
        wanted = [t for t in task_ids if t not in self.results]
        deadline = time.monotonic() + (timeout_ms or self.timeout_ms) / 1000.0
        while any(t not in self.results for t in wanted):
            remaining = int((deadline - time.monotonic()) * 1000)
            if remaining <= 0 or not self.scheduler.poll(remaining):
                missing = [t for t in wanted if t not in self.results]
                raise TimeoutError(f"{len(missing)} task(s) without a result")
            frames = self.scheduler.recv_multipart()
            header = loads(frames[0])
            if header["type"] == "task_started":
                self.started[header["task_id"]] = header["engine"]
            elif header["type"] == "apply_reply":
                entry = {"status": header["status"], "engine": header["engine"]}
                if header["status"] == "ok":
                    entry["result"] = loads(frames[1])
                else:
                    entry["error"] = header.get("error")
                self.results[header["task_id"]] = entry
        return {t: self.results[t] for t in wanted}

    def close(self) -> None:
        for sock in (self.hub, self.scheduler):
            if sock is not None:
                sock.close(linger=0)
        self.ctx.term()


def default_tasks(count: int) -> List[Any]:
    """``count`` small tasks, one of which fails on purpose (to show failures tracked)."""
    tasks: List[Any] = []
    for n in range(count):
        if n == count // 2:
            tasks.append(("fail", "task %d fails on purpose" % n))
        elif n % 3 == 0:
            tasks.append(("sleep_then", 0.05, n * n))
        else:
            tasks.append(("square", n))
    return tasks
