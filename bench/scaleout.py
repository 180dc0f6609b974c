"""Scale-out benchmark: 1, 2 and 4 Visus processes on PostgreSQL + Redis, side by side.

For each level it starts PostgreSQL (fsync on, as in production) and Redis from Debian's packages
(devtools/cluster.py, shared with the scale-out tests), a fresh database and N
`python server.py` processes, then runs W simulated patients at once, each through whole tests one
after the other (closed loop: a finished patient starts the next test at once). Patient i's display
connects to process i mod N and its clinician live view to process (i+1) mod N, so with two or more
processes every event crosses Redis, as it does when nginx puts the two people on different
processes. Measured, as in bench/relay_latency.py (whose pieces this imports):

  - relay latency: answer -> the clinician's `answer_scored`, answer -> the display's next `stimulus`
    (the answer committed to PostgreSQL first), p50/p95/p99;
  - completed sessions per minute: tests that reached `test_done` within the level's window.

    python bench/scaleout.py                          # 1, 2, 4 processes, 48 patients, ~2.5 minutes
    python bench/scaleout.py --processes 1 2 --patients 40 --level-seconds 30

Clients and servers share this machine's cores; see docs/deploy.md for the figures and what they
say about a bigger machine.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import secrets
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.relay_latency import CALIBRATION, Session, client, login_cookie, percentile, prepare_database  # noqa: E402
from devtools.cluster import DEBIAN_PACKAGES, Cluster, missing_servers, start_visus  # noqa: E402
from devtools.patient_links import invite_headers  # noqa: E402


def run_one_test(
    s: Session, display_url: str, clinician_url: str, public_id: str, token: str, cookie: str, stop_at: float
) -> bool:
    """One patient through one whole test (one eye); True when it reached `test_done` in time."""
    display, watch = client(), client()
    display.on("stimulus", s.on_stimulus, namespace="/patient")
    watch.on("answer_scored", lambda data: s.on_scored(data["trial"]["seq"]), namespace="/clinician")
    display.on("test_done", lambda data: (s.done.set(), s.got_stimulus.set()), namespace="/patient")
    try:
        watch.connect(
            clinician_url,
            namespaces=["/clinician"],
            transports=["websocket"],
            headers={"Cookie": cookie},
            wait_timeout=30,
        )
        assert watch.call("watch", {"session_id": public_id}, namespace="/clinician", timeout=30)["ok"]
        display.connect(
            display_url,
            namespaces=["/patient"],
            transports=["websocket"],
            auth={"device": "display"},
            headers=invite_headers(display_url, token),
            wait_timeout=30,
        )
        for event, data in (("consent", {}), ("calibration", CALIBRATION), ("ready", {})):
            assert display.call(event, data, namespace="/patient", timeout=30)["ok"]
        while True:
            if not s.got_stimulus.wait(max(0.0, stop_at - time.monotonic())):
                return False
            if s.done.is_set():
                return True
            s.got_stimulus.clear()
            time.sleep(s.rng.uniform(*s.think_s))
            stimulus = s.stimulus
            responses = list(stimulus["optotypes"]) if s.rng.random() < 0.7 else [None] * len(stimulus["optotypes"])
            s.sent_at[stimulus["seq"]] = time.perf_counter()
            display.emit(
                "answer",
                {
                    "trial_id": stimulus["trial_id"],
                    "seq": stimulus["seq"],
                    "responses": responses,
                    "response_time_ms": 900,
                },
                namespace="/patient",
            )
    except Exception as error:  # counted as not completed; the first errors are printed
        s.failed = repr(error)
        return False
    finally:
        display.disconnect()
        watch.disconnect()


def latencies_ms(sessions: list[Session], name: str) -> list[float]:
    """Every latency of one kind; relay_latency.Session keeps each as ms or as (sent at, ms)."""
    return [v[-1] if isinstance(v, tuple) else v for s in sessions for v in getattr(s, name)]


def database_counters(database_url: str) -> dict[str, int]:
    """PostgreSQL's own counters for one database: transactions committed and rows written."""
    import psycopg2

    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")
            cursor.execute(
                "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database "
                "WHERE datname = current_database()"
            )
            commits, rows = cursor.fetchone()
        return {"commits": commits, "rows": rows}
    finally:
        connection.close()


def redis_commands(redis_url: str) -> int:
    """Commands Redis has run: each Socket.IO emit is one PUBLISH, delivered to every process."""
    import redis

    stats = redis.Redis.from_url(redis_url).info("stats")
    return int(stats["total_commands_processed"])


def measure(cluster: Cluster, n_processes: int, args, deadline: float) -> dict:
    database_url = cluster.postgres.create_database(f"bench{n_processes}")
    pool = prepare_database(database_url, args.pool, args.procedure)
    processes = start_visus(
        n_processes,
        database_url,
        cluster.redis.url,
        cluster.workdir / f"level-{n_processes}",
        secrets.token_hex(32),
        extra_env={"PYTHONWARNINGS": "ignore"},
    )
    try:
        cookie = login_cookie(processes[0].base_url)
        db_before, redis_before = database_counters(database_url), redis_commands(cluster.redis.url)
        tests = iter(pool)
        take = threading.Lock()
        sessions: list[Session] = []
        completed: list[float] = []
        errors: list[str] = []
        started = time.monotonic()
        stop_at = min(deadline, started + args.level_seconds)
        think = (args.think_ms / 2000, 3 * args.think_ms / 2000)

        def patient(i: int) -> None:
            rng = random.Random(i)
            for round_ in itertools.count():
                if time.monotonic() >= stop_at:
                    return
                with take:
                    try:
                        public_id, token = next(tests)
                    except StopIteration:
                        errors.append("session pool exhausted: raise --pool")
                        return
                s = Session(i, think, 10_000, random.Random(rng.random()))
                sessions.append(s)
                display_url = processes[(i + round_) % n_processes].base_url
                clinician_url = processes[(i + round_ + 1) % n_processes].base_url
                if run_one_test(s, display_url, clinician_url, public_id, token, cookie, stop_at):
                    completed.append(len(s.sent_at))
                elif s.failed:
                    errors.append(s.failed)

        threads = [threading.Thread(target=patient, args=(i,), daemon=True) for i in range(args.patients)]
        for thread in threads:
            thread.start()
            time.sleep(0.02)  # patients arrive spread out, not in one burst
        for thread in threads:
            thread.join(max(0.0, stop_at - time.monotonic()) + 15)
        elapsed_s = stop_at - started
        for process in processes:  # a server's last statistics reach PostgreSQL when it closes its connections
            process.stop()
        db_after, redis_after = database_counters(database_url), redis_commands(cluster.redis.url)
        answers = sum(len(s.sent_at) for s in sessions)
        to_clinician, to_stimulus = latencies_ms(sessions, "to_clinician_ms"), latencies_ms(sessions, "to_stimulus_ms")
        return {
            "processes": n_processes,
            "answers_per_s": answers / elapsed_s,
            "commits_per_answer": (db_after["commits"] - db_before["commits"]) / max(answers, 1),
            "rows_per_answer": (db_after["rows"] - db_before["rows"]) / max(answers, 1),
            "redis_per_answer": (redis_after - redis_before) / max(answers, 1),
            "completed": len(completed),
            "per_minute": len(completed) / elapsed_s * 60,
            # Steady state: answers/s over the answers one test takes (the window cuts tests short).
            "capacity_per_minute": answers / elapsed_s * 60 / (sum(completed) / len(completed))
            if completed
            else float("nan"),
            "clinician": [percentile(to_clinician, q) for q in (50, 95, 99)],
            "stimulus": [percentile(to_stimulus, q) for q in (50, 95, 99)],
            "errors": sorted(set(errors))[:3],
        }
    finally:
        for process in processes:
            process.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--patients", type=int, default=48, help="patients testing at the same time")
    parser.add_argument("--think-ms", type=float, default=200, help="mean time a patient takes to answer")
    parser.add_argument("--procedure", default="adaptive", choices=["adaptive", "chart"])
    parser.add_argument("--level-seconds", type=float, default=35, help="measuring window per level")
    parser.add_argument("--pool", type=int, default=400, help="tests prepared per level")
    parser.add_argument("--max-seconds", type=float, default=300, help="time limit for the whole run")
    args = parser.parse_args()
    missing = missing_servers()
    if missing:
        sys.exit(f"needs Debian's {', '.join(missing)}: apt-get install {DEBIAN_PACKAGES}")
    deadline = time.monotonic() + args.max_seconds
    rows = []
    cluster = Cluster(durable_postgres=True).start()
    try:
        for n in args.processes:
            if time.monotonic() > deadline:
                break
            began = time.monotonic()
            rows.append(measure(cluster, n, args, deadline))
            print(f"  measured {n} process(es) in {time.monotonic() - began:.0f} s", file=sys.stderr)
    finally:
        cluster.stop()
    print(
        f"\nScale-out on PostgreSQL (fsync on) + Redis: {args.patients} patients at once, one-eye "
        f"{args.procedure} tests, think time {args.think_ms:g} ms mean, {args.level_seconds:g} s per level ("
        f"{os.cpu_count()} cores shared by servers, databases and clients; per answer: PostgreSQL transactions, "
        f"rows written, Redis commands, each test's set-up included; tests/min: finished in the window; "
        f"capacity: answers/s x 60 / answers per test)"
    )
    print(
        f"{'processes':>9} {'answers/s':>9} {'tests/min':>9} {'capacity':>8} | {'ans->clin p50':>13} {'p95':>7} {'p99':>7} | "
        f"{'ans->next p50':>13} {'p95':>7} {'p99':>7} | {'xacts':>5} {'rows':>5} {'redis':>5} per answer"
    )
    for r in rows:
        c, s = r["clinician"], r["stimulus"]
        print(
            f"{r['processes']:>9} {r['answers_per_s']:>9.1f} {r['per_minute']:>9.1f} {r['capacity_per_minute']:>8.1f} | "
            f"{c[0]:>13.1f} {c[1]:>7.1f} {c[2]:>7.1f} | {s[0]:>13.1f} {s[1]:>7.1f} {s[2]:>7.1f} | "
            f"{r['commits_per_answer']:>5.1f} {r['rows_per_answer']:>5.1f} {r['redis_per_answer']:>5.1f}"
        )
        for error in r["errors"]:
            print(f"          incomplete: {error}")


if __name__ == "__main__":
    main()
