"""What the cluster's processes say to each other, and the tasks engines can run.

Every message is a list of frames; headers and arguments are JSON.  The sockets:

    client  DEALER --tcp--> ROUTER [scheduler: MonitoredQueue] DEALER <--tcp-- DEALER engine
                                        | monitor PUSH
                                        v
    engine/client DEALER --tcp--> ROUTER [Hub] PULL <---- every message, prefixed

* client -> scheduler: ``[header, args]``, header ``{"type": "apply_request", "task_id",
  "func"}``; the scheduler's ROUTER puts the client's routing id in front and its DEALER
  hands the message to the next engine (round robin).
* engine -> scheduler -> client: ``[client_id, {"type": "task_started", "task_id",
  "engine"}]`` when it starts, then ``[client_id, {"type": "apply_reply", "task_id",
  "engine", "status", "error"?}, result]``; the scheduler's ROUTER routes them back by the
  client id.
* the scheduler copies each of these to the Hub with a prefix frame: ``intask`` for what
  came from a client, ``outtask`` for what came from an engine.  That stream is all the Hub
  needs to know each task's state: submitted, running (on which engine), done or failed.
* Hub requests (``{"type": ...}`` JSON, one frame): ``register``, ``ready``,
  ``wait_engines``, ``barrier``, ``report``, ``wait_reports``, ``status``, ``wait_tasks``,
  ``shutdown`` (see hub.py).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, Dict, List

IN_PREFIX = b"intask"
OUT_PREFIX = b"outtask"
#: every blocking step of the example gives up after this long (ms)
DEFAULT_TIMEOUT_MS = 20000


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode("utf-8")


def loads(frame: Any) -> Any:
    return json.loads(bytes(frame).decode("utf-8"))


def load_module(impl: str) -> Any:
    """The zmq module to use: "puremq" or "zmq" (pyzmq) -- the example runs on both."""
    if impl == "puremq":
        import puremq
        return puremq
    if impl in ("zmq", "pyzmq"):
        import zmq
        return zmq
    raise ValueError(f"unknown implementation {impl!r}")


# -- the tasks an engine can run (by name: no code travels, nothing is unpickled) ----------
def _square(x: float) -> float:
    return x * x


def _add(a: float, b: float) -> float:
    return a + b


def _sum_range(n: int) -> int:
    return sum(range(int(n)))


def _sleep_then(seconds: float, value: Any) -> Any:
    time.sleep(min(max(float(seconds), 0.0), 1.0))
    return value


def _fail(message: str) -> None:
    raise ValueError(message)


def _whoami() -> Dict[str, int]:
    return {"pid": os.getpid()}


TASKS: Dict[str, Callable[..., Any]] = {
    "square": _square,
    "add": _add,
    "sum_range": _sum_range,
    "sleep_then": _sleep_then,
    "fail": _fail,
    "whoami": _whoami,
}


def run_task(func: str, args: List[Any]) -> Any:
    try:
        task = TASKS[func]
    except KeyError:
        raise LookupError(f"no such task: {func}") from None
    return task(*args)
