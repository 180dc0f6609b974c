"""Soak test: many simulated patient/clinician pairs run complete tests against one server.

Starts `python server.py` (eventlet) on 127.0.0.1 with a temporary SQLite database holding a pool of
prepared sessions (adaptive procedure, right eye). `--sessions` workers run at once; each takes a
session, connects a patient display and a clinician live view (python-socketio clients, websocket
transport), consents, calibrates, says ready and answers every stimulus after a think time until
`test_done`, then takes the next session, until `--seconds` have passed. Prints:

  - sessions completed, answers sent, answers acknowledged, answers stored (counted in the database
    afterwards; must equal the answers acknowledged as new), duplicates, errors;
  - relay latency (answer sent -> the clinician's `answer_scored`; answer sent -> next `stimulus`)
    p50/p95/p99, over every answer and over the answers sent after the ramp-up;
  - the server's memory (VmRSS from /proc/<pid>/status): idle at start, once every worker has its
    first stimulus (ramp-up done), at the end while the clients are still connected, and after they
    have gone.

    python bench/soak.py                          # 200 sessions, 300 s (about 6 minutes in all)
    python bench/soak.py --sessions 50 --seconds 60
    python bench/soak.py --quick                  # 5 sessions, 10 s, short think times (a smoke test)

Exit status 1 when an answer was lost (stored != acknowledged) or any error happened. `--json`
prints the figures as one JSON object on the last line (tests/faults/test_soak.py reads it).
Clients and server share this machine's cores (the clients use more CPU than the server does).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import random
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.relay_latency import (  # noqa: E402  (the latency bench's pieces, reused)
    CALIBRATION,
    client,
    login_cookie,
    percentile,
    prepare_database,
)
from devtools.patient_links import invite_headers  # noqa: E402
from devtools.servers import VisusServer, stop_process  # noqa: E402

ADAPTIVE_MAX_TRIALS = 30  # acuity.procedure.ProcedureConfig.max_trials: a test is at most this long


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB (VmRSS in /proc/<pid>/status)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_s(pid: int) -> float:
    """CPU time (user + system) a process has used, in seconds (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Tally:
    """Counts and latencies of the whole run (shared by the workers, under a lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    completed: int = 0
    started: int = 0
    sent: int = 0
    acknowledged: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)
    to_clinician_ms: list[tuple[float, float]] = field(default_factory=list)  # (sent at, ms)
    to_stimulus_ms: list[tuple[float, float]] = field(default_factory=list)
    public_ids: list[str] = field(default_factory=list)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


class Pair:
    """One session: a patient display and a clinician watching it."""

    def __init__(self, tally: Tally):
        self.tally = tally
        self.display, self.watch = client(), client()
        self.changed = threading.Condition()
        self.stimulus: dict | None = None
        self.done = False
        self.sent_at: dict[int, float] = {}
        self.display.on("stimulus", self.on_stimulus, namespace="/patient")
        self.display.on("test_done", self.on_done, namespace="/patient")
        self.display.on("error", lambda data: tally.error(f"display error event {data}"), namespace="/patient")
        self.watch.on("answer_scored", self.on_scored, namespace="/clinician")

    def on_stimulus(self, data: dict) -> None:
        now = time.perf_counter()
        with self.changed:
            sent = self.sent_at.get(data["seq"] - 1)
            if sent is not None:
                with self.tally.lock:
                    self.tally.to_stimulus_ms.append((sent, (now - sent) * 1000))
            self.stimulus = data
            self.changed.notify_all()

    def on_scored(self, data: dict) -> None:
        now = time.perf_counter()
        sent = self.sent_at.get(data["trial"]["seq"])
        if sent is not None:
            with self.tally.lock:
                self.tally.to_clinician_ms.append((sent, (now - sent) * 1000))

    def on_done(self, data: dict) -> None:
        with self.changed:
            self.done = True
            self.changed.notify_all()

    def next_stimulus(self, after_seq: int, stop_at: float) -> dict | None:
        """The stimulus after `after_seq`, or None when the test is done or time is up."""
        with self.changed:
            while not self.done and (self.stimulus is None or self.stimulus["seq"] <= after_seq):
                left = stop_at - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(min(left, 1.0))
            return None if self.done else self.stimulus

    def run(
        self,
        base_url: str,
        public_id: str,
        token: str,
        cookie: str,
        think_s: tuple[float, float],
        rng: random.Random,
        stop_at: float,
        first_stimulus: threading.Event,
    ) -> bool:
        """A complete test; True when it reached test_done before `stop_at`."""
        tally = self.tally
        self.watch.connect(
            base_url, namespaces=["/clinician"], transports=["websocket"], headers={"Cookie": cookie}, wait_timeout=30
        )
        ack = self.watch.call("watch", {"session_id": public_id}, namespace="/clinician", timeout=30)
        if not ack.get("ok"):
            raise RuntimeError(f"watch refused: {ack}")
        self.display.connect(
            base_url,
            namespaces=["/patient"],
            transports=["websocket"],
            auth={"device": "display"},
            headers=invite_headers(base_url, token),
            wait_timeout=30,
        )
        for event, data in (("consent", {}), ("calibration", CALIBRATION), ("ready", {})):
            ack = self.display.call(event, data, namespace="/patient", timeout=30)
            if not ack.get("ok"):
                raise RuntimeError(f"{event} refused: {ack}")
        seq = 0
        while True:
            stimulus = self.next_stimulus(seq, stop_at)
            if stimulus is None:
                return self.done
            first_stimulus.set()
            time.sleep(rng.uniform(*think_s))
            if time.monotonic() >= stop_at:
                return False
            seq = stimulus["seq"]
            correct = rng.random() < 0.7
            responses = list(stimulus["optotypes"]) if correct else [None] * len(stimulus["optotypes"])
            self.sent_at[seq] = time.perf_counter()
            with tally.lock:
                tally.sent += 1
            ack = self.display.call(
                "answer",
                {"trial_id": stimulus["trial_id"], "seq": seq, "responses": responses, "response_time_ms": 1000},
                namespace="/patient",
                timeout=30,
            )
            if not (ack.get("ok") and ack.get("accepted")):
                tally.error(f"answer refused: {ack}")
                return False
            with tally.lock:
                tally.acknowledged += 1
                tally.duplicates += bool(ack.get("duplicate"))

    def close(self) -> None:
        for sio in (self.display, self.watch):
            try:
                sio.disconnect()
            except Exception:  # already gone
                pass


def worker(
    tally: Tally,
    pool: queue.Queue[tuple[str, str]],
    base_url: str,
    cookie: str,
    think_s: tuple[float, float],
    seed: int,
    stop_at: float,
    first_stimulus: threading.Event,
) -> None:
    rng = random.Random(seed)
    while time.monotonic() < stop_at:
        try:
            public_id, token = pool.get_nowait()
        except queue.Empty:
            tally.error("session pool exhausted (raise the pool size)")
            return
        pair = Pair(tally)
        with tally.lock:
            tally.started += 1
            tally.public_ids.append(public_id)
        try:
            if pair.run(base_url, public_id, token, cookie, think_s, rng, stop_at, first_stimulus):
                with tally.lock:
                    tally.completed += 1
        except Exception as error:  # counted and printed; the worker goes on with a new session
            tally.error(f"{type(error).__name__}: {error}")
        finally:
            first_stimulus.set()
            pair.close()


def stored_answers(db_path: Path, public_ids: list[str]) -> int:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as connection:
        connection.execute("CREATE TEMP TABLE ids (public_id TEXT PRIMARY KEY)")
        connection.executemany("INSERT INTO ids VALUES (?)", [(p,) for p in public_ids])
        return connection.execute(
            "SELECT COUNT(*) FROM trial JOIN eye_test ON eye_test.id = trial.eye_test_id"
            " JOIN test_session ON test_session.id = eye_test.session_id"
            " JOIN ids ON ids.public_id = test_session.public_id"
        ).fetchone()[0]


def soak(sessions: int, seconds: float, think_s: tuple[float, float], workdir: Path) -> dict:
    db_path = workdir / "soak.sqlite"
    # Enough sessions for every worker to run back-to-back tests of at least 10 answers.
    pool_size = sessions * (1 + math.ceil(seconds / (10 * think_s[0])))
    made_at = time.monotonic()
    made = prepare_database(f"sqlite:///{db_path}", pool_size, "adaptive")
    prepare_s = time.monotonic() - made_at
    pool: queue.Queue[tuple[str, str]] = queue.Queue()
    for item in made:
        pool.put(item)
    server = VisusServer(
        workdir, secret_key="soak-secret", database_url=f"sqlite:///{db_path}", env={"PYTHONWARNINGS": "ignore"}
    ).launch()
    process, base_url = server.process, server.base_url
    tally = Tally()
    memory: dict[str, int] = {}
    try:
        server.wait()
        cookie = login_cookie(base_url)
        memory["start_kib"] = rss_kib(process.pid)
        server_cpu_start, clients_cpu_start = cpu_s(process.pid), sum(os.times()[:2])
        started = time.monotonic()
        stop_at = started + seconds
        firsts = [threading.Event() for _ in range(sessions)]
        threads = []
        for i in range(sessions):
            thread = threading.Thread(
                target=worker, daemon=True, args=(tally, pool, base_url, cookie, think_s, i, stop_at, firsts[i])
            )
            thread.start()
            threads.append(thread)
            time.sleep(min(0.02, seconds / 20 / sessions))  # patients do not all arrive in the same ms
        for event in firsts:
            event.wait(max(0.0, stop_at - time.monotonic()))
        ramp_done = time.perf_counter()
        ramp_s = time.monotonic() - started
        memory["after_ramp_kib"] = rss_kib(process.pid)
        peak = memory["after_ramp_kib"]
        while time.monotonic() < stop_at - 0.5:
            time.sleep(min(1.0, max(0.0, stop_at - 0.5 - time.monotonic())))
            peak = max(peak, rss_kib(process.pid))
        memory["end_kib"] = rss_kib(process.pid)
        memory["peak_kib"] = max(peak, memory["end_kib"])
        server_cpu = cpu_s(process.pid) - server_cpu_start
        clients_cpu = sum(os.times()[:2]) - clients_cpu_start
        for thread in threads:
            thread.join(60)
        memory["after_clients_left_kib"] = rss_kib(process.pid)
        stored = stored_answers(db_path, tally.public_ids)
    finally:
        stop_process(process)
    steady_clinician = [ms for at, ms in tally.to_clinician_ms if at > ramp_done]
    steady_stimulus = [ms for at, ms in tally.to_stimulus_ms if at > ramp_done]

    def quantiles(values: list[tuple[float, float]] | list[float]) -> list[float]:
        plain = [v[1] if isinstance(v, tuple) else v for v in values]
        return [round(percentile(plain, q), 1) for q in (50, 95, 99)]

    return {
        "sessions": sessions,
        "seconds": seconds,
        "think_s": list(think_s),
        "pool": pool_size,
        "prepare_s": round(prepare_s, 1),
        "ramp_s": round(ramp_s, 1),
        "tests_started": tally.started,
        "tests_completed": tally.completed,
        "answers_sent": tally.sent,
        "answers_acknowledged": tally.acknowledged,
        "answers_stored": stored,
        "duplicates": tally.duplicates,
        "errors": len(tally.errors),
        "error_samples": sorted(set(tally.errors))[:5],
        "answer_to_clinician_ms": quantiles(tally.to_clinician_ms),
        "answer_to_next_stimulus_ms": quantiles(tally.to_stimulus_ms),
        "steady_answer_to_clinician_ms": quantiles(steady_clinician),
        "steady_answer_to_next_stimulus_ms": quantiles(steady_stimulus),
        "memory_kib": memory,
        "server_cpu_s": round(server_cpu, 1),
        "clients_cpu_s": round(clients_cpu, 1),
        "server_cpu_ms_per_answer": round(1000 * server_cpu / max(1, tally.sent), 2),
        "memory_growth_after_ramp_pct": round(100 * (memory["end_kib"] / memory["after_ramp_kib"] - 1), 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def report(r: dict) -> str:
    m = r["memory_kib"]
    lines = [
        f"Soak: {r['sessions']} concurrent sessions for {r['seconds']:g} s, think time {r['think_s'][0]:g}-"
        f"{r['think_s'][1]:g} s, {os.cpu_count()} cores shared by server and clients, load average at the end "
        f"{r['load_average'][0]:.2f}",
        f"  ramp-up (every worker saw its first stimulus): {r['ramp_s']:.1f} s; pool of {r['pool']} sessions "
        f"prepared in {r['prepare_s']:.1f} s",
        f"  tests started {r['tests_started']}, completed {r['tests_completed']}",
        f"  answers sent {r['answers_sent']}, acknowledged {r['answers_acknowledged']}, stored {r['answers_stored']}, "
        f"duplicates {r['duplicates']}, errors {r['errors']}",
        "  relay latency, ms           p50 / p95 / p99",
        "    answer -> clinician       " + " / ".join(f"{v:.1f}" for v in r["answer_to_clinician_ms"]),
        "    answer -> next stimulus   " + " / ".join(f"{v:.1f}" for v in r["answer_to_next_stimulus_ms"]),
        "    after ramp-up: -> clin.   " + " / ".join(f"{v:.1f}" for v in r["steady_answer_to_clinician_ms"]),
        "    after ramp-up: -> next    " + " / ".join(f"{v:.1f}" for v in r["steady_answer_to_next_stimulus_ms"]),
        f"  server RSS, MiB: start {m['start_kib'] / 1024:.1f}, after ramp-up {m['after_ramp_kib'] / 1024:.1f}, "
        f"end {m['end_kib'] / 1024:.1f} (peak {m['peak_kib'] / 1024:.1f}), after the clients left "
        f"{m['after_clients_left_kib'] / 1024:.1f}; growth after ramp-up {r['memory_growth_after_ramp_pct']:+.1f}%",
        f"  CPU during the run: server {r['server_cpu_s']:.1f} s ({r['server_cpu_ms_per_answer']:.2f} ms per answer, "
        f"set-up included), clients {r['clients_cpu_s']:.1f} s",
    ]
    for sample in r["error_samples"]:
        lines.append(f"  error: {sample}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=200, help="concurrent patient/clinician pairs")
    parser.add_argument("--seconds", type=float, default=300, help="how long the soak runs")
    parser.add_argument("--think-ms", type=float, default=2000, help="mean time a patient takes to answer")
    parser.add_argument("--quick", action="store_true", help="5 sessions, 10 s, 50-150 ms think time")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON (last line)")
    args = parser.parse_args()
    if args.quick:
        args.sessions, args.seconds, args.think_ms = 5, 10, 100
    think_s = (args.think_ms / 2000, 3 * args.think_ms / 2000)
    with tempfile.TemporaryDirectory() as tmp:
        result = soak(args.sessions, args.seconds, think_s, Path(tmp))
    print(report(result))
    if args.json:
        print(json.dumps(result))
    lost = result["answers_stored"] != result["answers_acknowledged"] - result["duplicates"]
    return 1 if lost or result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
