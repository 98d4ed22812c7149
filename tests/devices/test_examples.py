"""The examples, run for real: every role in its own process, over tcp on the loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any, Dict

import pytest

from examples.cluster.client import default_tasks
from examples.cluster.launcher import run_cluster
from examples.cluster.protocol import run_task
from examples.cluster.report import check

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _expected(task: Any) -> Dict[str, Any]:
    try:
        return {"status": "ok", "result": run_task(task[0], list(task[1:]))}
    except Exception as exc:
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"}


def _check_cluster(outcome: Dict[str, Any], engines: int) -> None:
    assert len(outcome["engines"]) == engines
    ids = {engine["id"] for engine in outcome["engines"]}
    for task_id, task in outcome["submitted"].items():
        got = outcome["results"][task_id]
        expected = _expected(task)
        assert got["status"] == expected["status"]
        assert got.get("result") == expected.get("result")
        assert got.get("error") == expected.get("error")
        assert got["engine"] in ids
        assert outcome["started"][task_id] == got["engine"]
    # the Hub knew it all from the scheduler's monitor stream alone
    assert check(outcome) == []
    done = {e["id"]: e["tasks_done"] for e in outcome["hub"]["engines"]}
    assert sum(done.values()) == len(outcome["submitted"])
    assert sum(1 for n in done.values() if n) >= 2, "the scheduler used a single engine"


def test_cluster() -> None:
    """examples/cluster: a Hub and its MonitoredQueue scheduler (a process device), three
    engines, a client; every task answered right, and tracked by the Hub -- submitted,
    running on the engine that ran it, done or failed -- from the monitor stream."""
    tasks = default_tasks(12)
    outcome = run_cluster(engines=3, tasks=tasks)
    _check_cluster(outcome, 3)
    assert any(r["status"] == "error" for r in outcome["results"].values())


def test_cluster_with_pyzmq_clients_and_engines() -> None:
    """Interop: a puremq Hub and MonitoredQueue between pyzmq (libzmq) engines and a pyzmq
    client."""
    outcome = run_cluster(engines=3, tasks=default_tasks(9), impl="puremq",
                          engine_impl="zmq", client_impl="zmq")
    _check_cluster(outcome, 3)


def test_interengine() -> None:
    """examples/interengine: engines learn from the Hub who registered before them and
    connect to those only -- one ROUTER connection and one link per broadcast direction
    per pair, never both ways -- then all-reduce numpy arrays over PUB/SUB and pass one
    round a ring over the ROUTERs, received as read-only views (no copy)."""
    pytest.importorskip("numpy")
    from examples.interengine.launcher import check as check_mesh
    from examples.interengine.launcher import run_interengine
    outcome = run_interengine(engines=4, size=50_000)
    assert len(outcome["reports"]) == 4
    assert check_mesh(outcome) == []
    for report in outcome["reports"]:
        assert len(report["broadcasts_from"]) == 3


def test_demo_runs_the_cluster() -> None:
    """``python -m puremq demo`` ends with the cluster example, and says it checked out."""
    out = subprocess.run([sys.executable, "-m", "puremq", "demo"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "5. the IPython cluster pattern" in out.stdout
    assert "the Hub tracked every task, from the monitor stream alone" in out.stdout
