"""Start a Hub and N inter-engine engines, each in its own process, over tcp on the
loopback; collect their reports from the Hub; shut everything down."""

from __future__ import annotations

import multiprocessing
from typing import Any, Callable, Dict, List

from examples.cluster.client import Client
from examples.cluster.launcher import start_controller, stop_processes
from examples.cluster.protocol import DEFAULT_TIMEOUT_MS

from .engine import interengine_main


def _quiet(_text: str) -> None:
    return None


def run_interengine(engines: int = 3, size: int = 100_000, impl: str = "puremq",
                    engine_impl: str = "", timeout_ms: int = DEFAULT_TIMEOUT_MS,
                    log: Callable[[str], None] = _quiet) -> Dict[str, Any]:
    """Returns ``{"info", "reports"}``: each engine's report, as the Hub received it."""
    spawn = multiprocessing.get_context("spawn")
    controller, info = start_controller(impl, with_scheduler=False, timeout_ms=timeout_ms)
    log(f"Hub (pid {info['pid']}, {impl}) at {info['registration']}")
    procs: List[Any] = []
    client = None
    try:
        for number in range(engines):
            proc = spawn.Process(target=interengine_main, name=f"engine-{number}",
                                 daemon=True,
                                 args=(info["registration"], engines, engine_impl or impl,
                                       f"engine-{number}", size, timeout_ms))
            proc.start()
            procs.append(proc)
        client = Client(info, impl, timeout_ms)
        answer = client.ask_hub({"type": "wait_reports", "count": engines})
        if answer.get("type") != "reports":
            raise RuntimeError(f"the engines did not all report: {answer}")
        reports = sorted(answer["reports"], key=lambda r: r["id"])
        client.ask_hub({"type": "shutdown"})
        return {"info": info, "reports": reports}
    finally:
        if client is not None:
            client.close()
        stop_processes(procs + [controller])


def check(outcome: Dict[str, Any]) -> List[str]:
    """What went wrong (empty: nothing): every array arrived intact, and every pair of
    engines is connected exactly once, by the later engine."""
    problems = []
    reports = outcome["reports"]
    ids = {r["name"]: r["id"] for r in reports}
    links = set()
    for report in reports:
        if not report["allreduce_ok"]:
            problems.append(f"{report['name']}: wrong all-reduce sum")
        if not report["ring_ok"] or report["ring_from"] != report["ring_expected_from"]:
            problems.append(f"{report['name']}: wrong ring message from {report['ring_from']}")
        if not report["received_views"]:
            problems.append(f"{report['name']}: a received array was copied")
        for peer in report["connected_to"]:
            if ids[peer] >= report["id"]:
                problems.append(f"{report['name']} connected to the later {peer}")
            links.add(frozenset((report["name"], peer)))
    count = len(reports)
    connections = sum(len(r["connected_to"]) for r in reports)
    if connections != count * (count - 1) // 2 or len(links) != connections:
        problems.append(f"{connections} connections for {count} engines "
                        f"({len(links)} distinct pairs)")
    return problems
