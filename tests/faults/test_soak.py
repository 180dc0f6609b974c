"""bench/soak.py --quick: a few simulated patient/clinician pairs run complete tests against the real
server for 10 s; every answer sent is acknowledged and stored once, and nothing goes wrong."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_soak_loses_no_answer_and_has_no_error():
    run = subprocess.run(
        [sys.executable, "bench/soak.py", "--quick", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["errors"] == 0, result["error_samples"]
    assert result["answers_sent"] == result["answers_acknowledged"] == result["answers_stored"] > 0
    assert result["duplicates"] == 0
    assert result["tests_completed"] >= 1
    assert all(ms > 0 for ms in result["answer_to_clinician_ms"] + result["answer_to_next_stimulus_ms"])
    assert result["memory_kib"]["end_kib"] > 0
