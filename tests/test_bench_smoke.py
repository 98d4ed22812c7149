"""The benchmark harness (bench/run.py) in its smallest configuration, so it cannot rot.

Runs the real driver as a subprocess, for both implementations: thr over tcp with 128-byte
messages and lat with 100 round trips; then checks that the watchdog turns a run that
outlives its budget into a failed row instead of a hang.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "bench", "run.py")


def _run(args, timeout):
    return subprocess.run([sys.executable, BENCH] + args, capture_output=True, text=True,
                          timeout=timeout)


def test_smallest_comparison_gives_figures_for_both_implementations(tmp_path):
    """One round of thr tcp 128 B (3,000 messages) and lat tcp 128 B (100 round trips),
    pyzmq then puremq: every run succeeds, every figure is positive and the table has a
    row for each, with a ratio."""
    figures = tmp_path / "figures.json"
    table = tmp_path / "table.md"
    proc = _run(["--rounds", "1", "--tests", "thr,lat", "--transports", "tcp",
                 "--sizes", "128", "--lat-sizes", "128", "--count", "3000",
                 "--lat-count", "100", "--io-timeout", "5", "--row-timeout", "20",
                 "--json", str(figures), "--output", str(table), "--silent"], timeout=50)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {row["row"]: row for row in json.loads(figures.read_text())}
    assert set(rows) == {"thr tcp 128 B", "lat tcp 128 B"}
    for label, row in rows.items():
        for impl in ("pyzmq", "puremq"):
            (result,) = row["results"][impl]
            assert result["ok"], (label, impl, result)
            expected_module = "zmq" if impl == "pyzmq" else "puremq"
            assert result["info"]["module"] == expected_module
            assert all(value > 0 for value in result["metrics"].values()), result
    assert rows["thr tcp 128 B"]["results"]["puremq"][0]["count"] == 3000
    assert rows["lat tcp 128 B"]["results"]["pyzmq"][0]["count"] == 100
    text = table.read_text()
    assert text in proc.stdout
    for label in rows:
        line = next(line for line in text.splitlines() if line.startswith(f"| {label} |"))
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert "msg/s" in cells[1] or "us" in cells[1], line
        assert float(cells[3].split()[0]) > 0, line
    assert "Command: `" in text and "Machine: " in text


def test_watchdog_ends_a_run_that_outlives_its_budget():
    """A worker whose measurement cannot finish within its hard timeout is ended by its
    watchdog (exit code 3) and reports no figure; the driver turns that into FAILED."""
    spec = {"test": "thr", "impl": "puremq", "transport": "tcp", "size": 128,
            "count": 50_000_000, "mode": "", "io_timeout_ms": 5000, "hard_timeout": 1}
    loader = importlib.util.spec_from_file_location("puremq_bench_run", BENCH)
    bench_run = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(bench_run)
    result = bench_run.run_worker(sys.executable, spec, verbose=False)
    assert not result["ok"]
    assert result["returncode"] == 3
    assert result["error"].startswith("FAILED: worker exit code 3"), result
    assert "WATCHDOG" in result["error"]


LINECOUNT = os.path.join(os.path.dirname(BENCH), "linecount.py")


def test_line_counter_reports_puremq_lines_per_message():
    """bench/linecount.py, REQ over tcp and inproc and PULL over ipc with 50 messages
    each: a positive figure per message and a table naming puremq's functions (not its
    own)."""
    for pattern, transport in (("req", "tcp"), ("pull", "ipc"), ("req", "inproc")):
        proc = subprocess.run([sys.executable, LINECOUNT, "--pattern", pattern,
                               "--transport", transport, "--count", "50", "--top", "40"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        lines = proc.stdout.splitlines()
        figure = next(line for line in lines if line.startswith("Python lines per message:"))
        assert float(figure.split(":")[1].split(";")[0]) > 0, figure
        rows = [line for line in lines if line.startswith("| ") and ".py:" in line]
        assert rows and any("socket.py:recv" in row for row in rows), proc.stdout
        assert not any("linecount.py" in row for row in rows), proc.stdout


def test_inproc_round_trips_have_a_raw_floor(tmp_path):
    """The raw limits include two plain threads waking each other (no ZeroMQ), and the
    lat inproc row is given as a share of that floor for both implementations."""
    figures = tmp_path / "figures.json"
    table = tmp_path / "table.md"
    proc = _run(["--rounds", "1", "--tests", "raw,lat", "--transports", "inproc",
                 "--lat-sizes", "128", "--lat-count", "50", "--io-timeout", "5",
                 "--row-timeout", "20", "--json", str(figures), "--output", str(table),
                 "--silent"], timeout=50)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {row["row"]: row for row in json.loads(figures.read_text())}
    raw_label = "raw threads ping-pong 128 B (two threads, fd wake-ups)"
    assert set(rows) == {raw_label, "lat inproc 128 B"}
    (raw,) = rows[raw_label]["results"]["raw"]
    assert raw["ok"] and raw["count"] == 50 and raw["metrics"]["mean_us"] > 0, raw
    line = next(line for line in table.read_text().splitlines()
                if line.startswith("| lat inproc 128 B |"))
    shares = [c.strip() for c in line.strip("|").split("|")][-2:]
    assert all(share.endswith("%") and float(share[:-1]) > 0 for share in shares), line
