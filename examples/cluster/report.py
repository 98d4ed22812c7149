"""Print what a cluster run did, and check the Hub's view against the client's."""

from __future__ import annotations

from typing import Any, Callable, Dict, List


def check(outcome: Dict[str, Any]) -> List[str]:
    """Differences between what the client got and what the Hub tracked (empty: none)."""
    problems = []
    tracked = outcome["hub"]["tasks"]
    for task_id, got in outcome["results"].items():
        record = tracked.get(task_id)
        if record is None:
            problems.append(f"task {task_id[:8]}: unknown to the Hub")
            continue
        expected = "done" if got["status"] == "ok" else "failed"
        if record["status"] != expected or record["engine"] != got["engine"]:
            problems.append(f"task {task_id[:8]}: Hub says {record['status']} on engine "
                            f"{record['engine']}, client got {got['status']} from engine "
                            f"{got['engine']}")
        if record["history"] != ["submitted", "running", expected]:
            problems.append(f"task {task_id[:8]}: Hub saw {record['history']}")
    return problems


def print_report(outcome: Dict[str, Any], say: Callable[[str], None]) -> bool:
    tracked = outcome["hub"]["tasks"]
    for task_id, task in outcome["submitted"].items():
        got = outcome["results"][task_id]
        call = f"{task[0]}({', '.join(repr(a) for a in task[1:])})"
        answer = repr(got["result"]) if got["status"] == "ok" else got["error"]
        record = tracked.get(task_id, {})
        say(f"  {call:<40} engine {got['engine']}: {answer:<36} "
            f"Hub: {' -> '.join(record.get('history', []))}")
    per_engine = {e["id"]: e["tasks_done"] for e in outcome["hub"]["engines"]}
    say(f"  tasks per engine (from the Hub's monitor stream): {per_engine}")
    problems = check(outcome)
    for problem in problems:
        say(f"  MISMATCH {problem}")
    if not problems:
        say("  the Hub tracked every task, from the monitor stream alone, as the client "
            "saw it")
    return not problems
