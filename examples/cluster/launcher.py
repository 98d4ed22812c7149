"""Start a whole cluster -- controller (Hub + scheduler), engines, a client -- each in its own
process, over tcp on the loopback; run some tasks; compare what the client got with what
the Hub saw; shut everything down."""

from __future__ import annotations

import multiprocessing
from typing import Any, Callable, Dict, List, Optional, Sequence

from .client import Client, default_tasks
from .engine import engine_main
from .hub import controller_main
from .protocol import DEFAULT_TIMEOUT_MS


def _quiet(_text: str) -> None:
    return None


def start_controller(impl: str, with_scheduler: bool = True,
                     timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Any:
    """(process, endpoints): the controller runs in a process of its own (not a daemon:
    it starts the scheduler's process)."""
    spawn = multiprocessing.get_context("spawn")
    parent, child = spawn.Pipe()
    controller = spawn.Process(target=controller_main, name="cluster-controller",
                               args=(child, impl, with_scheduler, timeout_ms))
    controller.start()
    if not parent.poll(timeout_ms / 1000.0):
        controller.terminate()
        raise RuntimeError("the controller did not start")
    return controller, parent.recv()


def stop_processes(processes: Sequence[Any], timeout: float = 10.0) -> None:
    for proc in processes:
        proc.join(timeout)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout)


def run_cluster(engines: int = 3, tasks: Optional[List[Any]] = None, impl: str = "puremq",
                engine_impl: Optional[str] = None, client_impl: Optional[str] = None,
                timeout_ms: int = DEFAULT_TIMEOUT_MS,
                log: Callable[[str], None] = _quiet) -> Dict[str, Any]:
    """Run the cluster once.  ``impl`` runs the controller (Hub and scheduler),
    ``engine_impl`` the engines and ``client_impl`` the client (each "puremq" or "zmq").

    Returns ``{"info", "engines", "submitted", "results", "started", "hub"}``: what was
    submitted (task id -> (func, args)), what the client received, and the Hub's records.
    """
    tasks = default_tasks(3 * engines) if tasks is None else tasks
    spawn = multiprocessing.get_context("spawn")
    controller, info = start_controller(impl, True, timeout_ms)
    log(f"controller (pid {info['pid']}, {impl}): Hub at {info['registration']}, "
        f"scheduler clients -> {info['client']}, engines -> {info['engine']}")
    procs: List[Any] = []
    client = None
    try:
        for number in range(engines):
            proc = spawn.Process(target=engine_main, name=f"engine-{number}", daemon=True,
                                 args=(info["registration"], engine_impl or impl,
                                       f"engine-{number}", timeout_ms))
            proc.start()
            procs.append(proc)
        client = Client(info, client_impl or impl, timeout_ms)
        roster = client.ask_hub({"type": "wait_engines", "count": engines})
        if roster.get("type") != "engines":
            raise RuntimeError(f"engines did not register: {roster}")
        for engine in roster["engines"]:
            log(f"engine {engine['id']} (pid {engine['pid']}, {engine_impl or impl}) "
                f"registered and connected to the scheduler")
        submitted: Dict[str, Any] = {}
        for task in tasks:
            task_id = client.submit(task[0], *task[1:])
            submitted[task_id] = list(task)
        log(f"client ({client_impl or impl}) submitted {len(submitted)} tasks")
        results = client.collect(submitted)
        hub = client.ask_hub({"type": "wait_tasks", "task_ids": list(submitted)})
        if hub.get("type") != "status":
            raise RuntimeError(f"the Hub did not see every task finish: {hub}")
        client.ask_hub({"type": "shutdown"})
        return {"info": info, "engines": roster["engines"], "submitted": submitted,
                "results": results, "started": dict(client.started), "hub": hub}
    finally:
        if client is not None:
            client.close()
        stop_processes(procs + [controller])
