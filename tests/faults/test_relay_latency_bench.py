"""bench/relay_latency.py, briefly: the bare relay, the durable reference, its `heavy` diagnostic variant
and Visus each serve two sessions to the end of their answers, every stimulus and ack after an answer
arrives, and the figures print (latencies, the server's CPU per answer and per set-up, and the steady
answer rate against one core's budget)."""

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_relay_bench_measures_every_server_without_a_failed_session():
    run = subprocess.run(
        [
            sys.executable,
            "bench/relay_latency.py",
            "--sessions",
            "2",
            "--trials",
            "4",
            "--think-ms",
            "100",
            "--level-seconds",
            "40",
            "--max-seconds",
            "150",
            "--servers",
            "bare",
            "durable",
            "heavy",
            "visus",
            "--heavy-cpu-ms",
            "2",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    rows = json.loads(run.stdout.strip().splitlines()[-1])
    assert [row["kind"] for row in rows] == ["bare", "durable", "heavy", "visus"]
    for row in rows:
        assert row["failed"] == 0, row
        assert row["answers"] == 2 * 4
        assert row["lost"] == 0, row  # every answer acknowledged
        assert all(ms > 0 and math.isfinite(ms) for ms in row["clinician"] + row["stimulus"] + row["ack"]), row
        assert row["cpu_per_answer_ms"] > 0 and math.isfinite(row["cpu_per_setup_ms"]), row
        assert row["answers_per_s"] > 0 and 0 < row["busy_fraction"] < 2, row
    assert "p95 as a multiple of the durable reference's p95" in run.stdout
    assert "CPU per answer" in run.stdout and "of a core" in run.stdout
