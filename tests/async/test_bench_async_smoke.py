"""bench/async_bench.py in its smallest configuration, so it cannot rot: one round,
inproc, a few round trips and messages, both implementations; every figure positive and
a ratio for every row."""

from __future__ import annotations

import json
import os
import subprocess
import sys

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "bench", "async_bench.py")


def test_async_bench_smallest_run(tmp_path) -> None:
    figures = tmp_path / "figures.json"
    table = tmp_path / "table.md"
    proc = subprocess.run(
        [sys.executable, BENCH, "--rounds", "1", "--transports", "inproc",
         "--lat-count", "50", "--thr-count", "500", "--io-timeout", "5",
         "--row-timeout", "20", "--json", str(figures), "--output", str(table),
         "--silent"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {row["row"]: row for row in json.loads(figures.read_text())}
    assert set(rows) == {"lat inproc 128 B", "thr inproc 128 B"}
    for label, row in rows.items():
        for impl in ("pyzmq", "puremq"):
            (result,) = row["results"][impl]
            assert result["ok"], result
            key = "mean_us" if label.startswith("lat") else "msg_per_s"
            assert result["metrics"][key] > 0
    text = table.read_text()
    assert "| lat inproc 128 B |" in text and "(RTT) |" in text and "(rate) |" in text
