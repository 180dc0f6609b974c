"""Relay latency of the live test: answer -> clinician receipt, answer -> next stimulus, answer -> ack.

Starts `python server.py` (eventlet) on 127.0.0.1 with a temporary SQLite database prepared with
N sessions, connects per session one display (python-socketio client, websocket transport) and
one clinician live view (logged in with the session cookie), and runs the test: each display
answers its stimulus after a think time, and we time

  - answer -> clinician: the clinician's `answer_scored` for that trial arrives,
  - answer -> next stimulus: the display's next `stimulus` arrives (the answer was committed first),
  - answer -> ack: the acknowledgement of the `answer` arrives (sent after the commit and after the
    next stimulus),

at 1, 50, 200 and 500 concurrent sessions, and read the server process's CPU time (utime + stime
of /proc/<pid>/stat, proc(5)) to give its CPU per answer (after set-up) and per set-up (connect,
consent, calibration, ready, the clinician's watch; for the references, connect and join). In the
same run, two reference servers on eventlet are measured the same way:

  - `bare`: the floor the target is set against: a bare Flask-SocketIO relay (no database, no
    procedure: receive, emit to an observer room, emit back);
  - `durable`: the least any server can do that stores each answer before it is relayed and
    before the next stimulus, and chooses that stimulus with the adaptive procedure: the bare
    relay plus one SQLite transaction per answer (WAL, synchronous=FULL, as Visus), the
    procedure kept in memory (record, estimate, next presentation from `acuity`), and the same
    five messages Visus sends; the clinician's message leaves as soon as the answer is committed.
    Its set-up (`start`, as Visus's `ready`) builds the session's procedure and stores the first
    trial. No ORM, no validation, no rate limit, no recovery after a restart: a lower bound, not a
    design.

A third reference, `heavy`, is a diagnostic (`--servers durable heavy visus --heavy-cpu-ms 3.7`): the
durable reference spending that much more CPU per answer in a busy loop before it stores the answer,
nothing else changed; beside `durable` it shows what CPU per answer alone does to the latency at a
level, whatever code spends it.

Clients and server share this machine's cores (the machine: docs/performance.md).

    python bench/relay_latency.py                 # 1, 50, 200, 500 sessions; about 15 minutes
    python bench/relay_latency.py --sessions 1 50 --trials 5 --think-ms 500

Prints one table: all answers, then ("steady") only those sent after every session had connected,
calibrated and seen its first stimulus (the set-up burst excluded); then each p95 as a multiple of
the durable reference's (target: at most 1.5), the ack's p95 against the next stimulus's (target: at
most 1.2), the CPU figures, and per level the steady answer rate, the CPU per answer one core allows
at that rate (one server process runs on one core) and the server's busy fraction. "lost" counts answers sent that were never acknowledged. Bounded by
--max-seconds (each level stops waiting when time runs out and reports what it measured, with the
count of trials that did not complete).
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the app's own code makes the sessions

from devtools.patient_links import invite_headers  # noqa: E402
from devtools.servers import VisusServer, free_port, stop_process, wait_healthy  # noqa: E402

PASSWORD = "benchmark password"
EMAIL = "bench@example.org"
CALIBRATION = {
    "css_px_per_mm": 4.0,
    "device_pixel_ratio": 1.0,
    "viewport_css_px": [1600, 900],
    "scale_method": "card",
    "distance": {"method": "tape", "distance_mm": 3000},
    "user_agent": "bench/relay_latency.py",
}


RELAY_FRAME = textwrap.dedent("""
    import eventlet
    eventlet.monkey_patch()
    import os
    from flask import Flask
    from flask_socketio import SocketIO, emit, join_room
    <imports>
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode="eventlet")
    <setup>
    @socketio.on("join", namespace="/bench")
    def join(data):
        join_room(data["room"])
        return {"ok": True}
    <start>
    <answer>
    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    socketio.run(app, host="127.0.0.1", port=int(os.environ["VISUS_PORT"]), log_output=False)
""")


# A session's `start` (its set-up, before the first answer): nothing to do for the bare relay.
START_NOTHING = """
    @socketio.on("start", namespace="/bench")
    def start(data):
        return {"ok": True}
"""


def relay_script(*, answer: str, imports: str = "", setup: str = "", start: str = START_NOTHING) -> str:
    """A reference server speaking the bench's protocol (`join` a room, `start` a session, `answer`),
    with /healthz, on VISUS_PORT: RELAY_FRAME with its own imports, set-up, `start` and `answer`
    handlers put in."""
    script = RELAY_FRAME
    for marker, code in (("<imports>", imports), ("<setup>", setup), ("<start>", start), ("<answer>", answer)):
        script = script.replace(marker, textwrap.dedent(code))
    return script


# The floor: receive, emit to the observer room, emit back; no database, no procedure.
BARE_RELAY = relay_script(
    answer="""
    @socketio.on("answer", namespace="/bench")
    def answer(data):
        emit("answer_scored", data, to=data["room"] + ":watch")
        emit("stimulus", {"seq": data["seq"] + 1})
        return {"ok": True}
"""
)


def prepare_database(db_url: str, n_sessions: int, procedure: str) -> list[tuple[str, str]]:
    """A clinician and n sessions, made with the app's own code; returns (public_id, invite token)."""
    from webapp import create_app
    from webapp.auth.accounts import create_clinician
    from webapp.clinician.sessions import create_session
    from webapp.extensions import db
    from webapp.schema import upgrade_if_behind

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "bench", "SOCKETIO_ASYNC_MODE": "threading"})
    upgrade_if_behind(app)  # building the app leaves the database alone; the schema comes first
    with app.app_context():
        clinician = create_clinician(EMAIL, PASSWORD)
        config = {
            "eyes": ["right"],
            "optotype_set": "sloan",
            "procedure": procedure,
            "chart_presentation": "row",
            "correction": "none",
            "setup": "3m",
            "answer_mode": "patient",
        }
        made = [create_session(clinician.id, f"bench {i}", config) for i in range(n_sessions)]
        result = [(s.public_id, token) for s, token in made]
        db.engine.dispose()
    return result


def login_cookie(base_url: str) -> str:
    http = requests.Session()
    page = http.get(base_url + "/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = http.post(
        base_url + "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}, allow_redirects=False
    )
    assert response.status_code == 302, response.status_code
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


# The durable reference (see the module's docstring): what any server must do, and no more.
DURABLE_RELAY = relay_script(
    imports="""
    import json
    import sqlite3
    import time
    from acuity.procedure import ProcedureConfig, build_procedure
""",
    setup="""
    db = sqlite3.connect(os.environ["DURABLE_DB"], isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE trial (room TEXT, seq INTEGER, logmar REAL, optotypes TEXT, responses TEXT,"
               " correct TEXT, PRIMARY KEY (room, seq))")
    db.execute("CREATE TABLE pending (room TEXT PRIMARY KEY, seq INTEGER, logmar REAL, optotypes TEXT)")
    procedures = {}  # room -> [procedure, presentation on screen]
    CONFIG = ProcedureConfig(procedure="adaptive", min_logmar=-0.3, max_logmar=1.3)
    HEAVY_CPU_S = float(os.environ.get("HEAVY_CPU_MS", "0")) / 1000  # the `heavy` diagnostic only, else 0

    def begin(room, seed):  # a session's procedure and its first presentation, stored
        procedure = build_procedure(CONFIG, seed=seed)
        shown = procedure.next_presentation()
        db.execute("BEGIN")
        db.execute("INSERT OR REPLACE INTO pending VALUES (?, ?, ?, ?)", (room, 1, shown.logmar,
                   json.dumps(shown.optotypes)))
        db.execute("COMMIT")
        procedures[room] = [procedure, shown]

    def stimulus(seq, presentation):
        return {"trial_id": f"right-{presentation.index}", "seq": seq, "eye": "right", "index": presentation.index,
                "logmar": presentation.logmar, "optotypes": list(presentation.optotypes), "height_css_px": 40.0,
                "stroke_css_px": 8.0, "mirrored": False, "crowding": True, "optotype_set": "sloan"}
""",
    start="""
    @socketio.on("start", namespace="/bench")
    def start(data):  # the set-up: the session's procedure built and its first trial stored
        begin(data["room"], len(procedures))
        return {"ok": True}
""",
    answer="""
    @socketio.on("answer", namespace="/bench")
    def answer(data):
        room, seq = data["room"], data["seq"]
        if HEAVY_CPU_S:  # `heavy` only: busy CPU before the answer is stored
            until = time.process_time() + HEAVY_CPU_S
            while time.process_time() < until:
                pass
        if room not in procedures:
            begin(room, len(procedures))
        procedure, shown = procedures[room]
        record = procedure.record(shown, list(shown.optotypes))
        estimate = procedure.estimate().to_dict()
        db.execute("BEGIN")
        db.execute("INSERT INTO trial VALUES (?, ?, ?, ?, ?, ?)", (room, seq, shown.logmar, json.dumps(shown.optotypes),
                   json.dumps(record.responses), json.dumps(record.correct)))
        db.execute("COMMIT")
        trial = {"trial_id": f"right-{shown.index}", "seq": seq, "eye": "right", "index": shown.index,
                 "logmar": shown.logmar, "optotypes": list(shown.optotypes), "responses": list(record.responses),
                 "correct": list(record.correct), "response_time_ms": 1000, "height_css_px": 40.0,
                 "scored_by": "patient", "at": "2026-11-27T12:00:00Z"}
        emit("answer_scored", {**data, "trial": trial, "estimate": estimate}, to=room + ":watch")
        emit("estimate", {"eye": "right", "estimate": estimate}, to=room + ":watch")
        socketio.sleep(0)  # let the clinician's message leave before the next stimulus is chosen
        following = procedure.next_presentation()
        if following is None:  # this test ended: the session's next test starts
            procedure = build_procedure(CONFIG, seed=seq)
            following = procedure.next_presentation()
        procedures[room] = [procedure, following]
        db.execute("BEGIN")
        db.execute("INSERT OR REPLACE INTO pending VALUES (?, ?, ?, ?)", (room, seq + 1, following.logmar,
                   json.dumps(following.optotypes)))
        db.execute("COMMIT")
        shown_next = stimulus(seq + 1, following)
        emit("stimulus", shown_next)
        emit("answer_request", {"trial_id": shown_next["trial_id"], "seq": seq + 1, "optotype_set": "sloan",
                                "count": 1, "symbols": list("CDHKNORSVZ")}, to=room + ":pad")
        emit("stimulus_shown", shown_next, to=room + ":watch")
        return {"ok": True, "accepted": True, "duplicate": False}
""",
)


@dataclass
class Session:
    """One simulated patient display and its clinician; records the two latencies per answer."""

    index: int
    think_s: tuple[float, float]
    trials: int
    rng: random.Random
    to_clinician_ms: list[tuple[float, float]] = field(default_factory=list)  # (sent at, ms)
    to_stimulus_ms: list[tuple[float, float]] = field(default_factory=list)
    to_ack_ms: list[tuple[float, float]] = field(default_factory=list)
    first_stimulus_at: float | None = None
    sent_at: dict[int, float] = field(default_factory=dict)
    stimulus: dict | None = None
    got_stimulus: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    failed: str | None = None

    def on_stimulus(self, data: dict) -> None:
        now = time.perf_counter()
        previous = data["seq"] - 1
        if previous in self.sent_at:
            self.to_stimulus_ms.append((self.sent_at[previous], (now - self.sent_at[previous]) * 1000))
        elif self.first_stimulus_at is None:
            self.first_stimulus_at = now
        self.stimulus = data
        self.got_stimulus.set()

    def on_scored(self, seq: int) -> None:
        now = time.perf_counter()
        if seq in self.sent_at:
            self.to_clinician_ms.append((self.sent_at[seq], (now - self.sent_at[seq]) * 1000))

    def on_ack(self, seq: int) -> None:
        now = time.perf_counter()
        if seq in self.sent_at:
            self.to_ack_ms.append((self.sent_at[seq], (now - self.sent_at[seq]) * 1000))

    def acked(self, seq: int):
        """The callback of an emit: its ack's arrival is timed."""
        return lambda *ack: self.on_ack(seq)


def client() -> socketio.Client:
    # A connect waits as long as every other wait here (30 s), as a browser would (the JavaScript
    # Socket.IO client's connect timeout is 20 s); python-engineio's own default of 5 s for the
    # WebSocket handshake counted a set-up burst that queued for 5 s as a failed session.
    return socketio.Client(reconnection=False, request_timeout=30)


def run_visus_session(s: Session, base_url: str, public_id: str, token: str, cookie: str, stop_at: float) -> None:
    display, watch = client(), client()
    display.on("stimulus", s.on_stimulus, namespace="/patient")
    watch.on("answer_scored", lambda data: s.on_scored(data["trial"]["seq"]), namespace="/clinician")
    display.on("test_done", lambda data: (s.done.set(), s.got_stimulus.set()), namespace="/patient")
    try:
        watch.connect(
            base_url, namespaces=["/clinician"], transports=["websocket"], headers={"Cookie": cookie}, wait_timeout=30
        )
        assert watch.call("watch", {"session_id": public_id}, namespace="/clinician", timeout=30)["ok"]
        display.connect(
            base_url,
            namespaces=["/patient"],
            transports=["websocket"],
            auth={"device": "display"},
            headers=invite_headers(base_url, token),
            wait_timeout=30,
        )
        assert display.call("consent", {}, namespace="/patient", timeout=30)["ok"]
        assert display.call("calibration", CALIBRATION, namespace="/patient", timeout=30)["ok"]
        assert display.call("ready", {}, namespace="/patient", timeout=30)["ok"]
        for _ in range(s.trials):
            if not s.got_stimulus.wait(max(0.0, stop_at - time.monotonic())):
                s.failed = "timeout"
                return
            if s.done.is_set():
                break
            s.got_stimulus.clear()
            time.sleep(s.rng.uniform(*s.think_s))
            stim = s.stimulus
            responses = list(stim["optotypes"]) if s.rng.random() < 0.7 else [None] * len(stim["optotypes"])
            s.sent_at[stim["seq"]] = time.perf_counter()
            display.emit(
                "answer",
                {"trial_id": stim["trial_id"], "seq": stim["seq"], "responses": responses, "response_time_ms": 1000},
                namespace="/patient",
                callback=s.acked(stim["seq"]),
            )
        time.sleep(0.5)  # let the last receipts arrive
    except Exception as error:  # reported in the table as incomplete
        s.failed = repr(error)
    finally:
        display.disconnect()
        watch.disconnect()


def run_bare_session(s: Session, base_url: str, stop_at: float) -> None:
    sender, observer = client(), client()
    room = f"room{s.index}"
    sender.on("stimulus", s.on_stimulus, namespace="/bench")
    observer.on("answer_scored", lambda data: s.on_scored(data["seq"]), namespace="/bench")
    try:
        observer.connect(base_url, namespaces=["/bench"], transports=["websocket"], wait_timeout=30)
        observer.call("join", {"room": room + ":watch"}, namespace="/bench", timeout=30)
        sender.connect(base_url, namespaces=["/bench"], transports=["websocket"], wait_timeout=30)
        sender.call("start", {"room": room}, namespace="/bench", timeout=30)
        s.on_stimulus({"seq": 1, "trial_id": "x", "optotypes": ["C"]})
        for _ in range(s.trials):
            if not s.got_stimulus.wait(max(0.0, stop_at - time.monotonic())):
                s.failed = "timeout"
                return
            s.got_stimulus.clear()
            time.sleep(s.rng.uniform(*s.think_s))
            seq = s.stimulus["seq"]
            s.sent_at[seq] = time.perf_counter()
            sender.emit("answer", {"room": room, "seq": seq}, namespace="/bench", callback=s.acked(seq))
        time.sleep(0.5)
    except Exception as error:
        s.failed = repr(error)
    finally:
        sender.disconnect()
        observer.disconnect()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used so far: utime + stime, fields 14 and 15 of /proc/<pid>/stat
    (proc(5)), in clock ticks."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuSampler(threading.Thread):
    """Samples a process's CPU time every `interval_s`, to read it back at any moment of the run."""

    def __init__(self, pid: int, interval_s: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval_s = pid, interval_s
        self.samples: list[tuple[float, float]] = []  # (perf_counter, cpu s)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.samples.append((time.perf_counter(), cpu_seconds(self.pid)))
            except OSError:  # the process ended
                return
            self.stopped.wait(self.interval_s)

    def at(self, when: float) -> float:
        """The CPU time at perf_counter `when` (the last sample before it)."""
        i = bisect.bisect_right(self.samples, (when, float("inf")))
        return self.samples[max(0, i - 1)][1]


def cpu_figures(sessions: list[Session], sampler: CpuSampler, started: float, set_up: float) -> dict:
    """Server CPU per answer after set-up, and per set-up: the CPU of the set-up window less the
    answers inside it at the steady cost, divided by the sessions set up. ms."""
    receipts = [at + ms / 1000 for s in sessions for at, ms in s.to_ack_ms + s.to_stimulus_ms + s.to_clinician_ms]
    if not receipts or set_up == float("inf"):
        nan = float("nan")
        return {"cpu_per_answer_ms": nan, "cpu_per_setup_ms": nan, "busy_fraction": nan, "answers_per_s": nan}
    ended = max(receipts)
    steady_answers = sum(1 for s in sessions for at in s.sent_at.values() if at > set_up)
    early_answers = sum(1 for s in sessions for at in s.sent_at.values() if at <= set_up)
    steady_cpu_s = sampler.at(ended) - sampler.at(set_up)
    per_answer_ms = 1000 * steady_cpu_s / max(1, steady_answers)
    setup_ms = 1000 * (sampler.at(set_up) - sampler.at(started)) - early_answers * per_answer_ms
    # One server process runs on one core at a time (one eventlet hub, one interpreter lock): its busy
    # fraction is its CPU seconds per second of the steady window, and at the answer rate the patients
    # offer, one core allows 1000 / rate ms of CPU per answer before answers queue without bound.
    steady_s = max(1e-9, ended - set_up)
    return {
        "cpu_per_answer_ms": per_answer_ms,
        "cpu_per_setup_ms": setup_ms / len(sessions),
        "busy_fraction": steady_cpu_s / steady_s,
        "answers_per_s": steady_answers / steady_s,
    }


def start_script(script: Path, env: dict, log: Path) -> subprocess.Popen:
    """A reference server script (its output to `log`)."""
    with open(log, "a") as out:
        return subprocess.Popen(
            [sys.executable, str(script)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def measure(kind: str, n: int, args, workdir: Path, deadline: float) -> dict:
    log = workdir / f"{kind}-{n}.log"
    if kind == "visus":
        db_url = f"sqlite:///{workdir / f'visus-{n}.sqlite'}"
        sessions_made = prepare_database(db_url, n, args.procedure)
        server = VisusServer(
            workdir, secret_key="bench-secret", database_url=db_url, env={"PYTHONWARNINGS": "ignore"}, log_name=log.name
        )
        process, base_url = server.launch().process, server.base_url
    else:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        script = workdir / f"{kind}_relay.py"
        script.write_text(BARE_RELAY if kind == "bare" else DURABLE_RELAY)  # `heavy`: the durable one, with CPU
        process = start_script(
            script,
            {
                "VISUS_PORT": str(port),
                "PYTHONWARNINGS": "ignore",
                "DURABLE_DB": str(workdir / f"{kind}-{n}.sqlite"),
                "HEAVY_CPU_MS": str(args.heavy_cpu_ms if kind == "heavy" else 0),
            },
            log,
        )
    try:
        wait_healthy(base_url, process, log, timeout_s=180)  # a loaded machine starts it slowly
        cookie = login_cookie(base_url) if kind == "visus" else ""
        trials = args.trials_single if n == 1 else args.trials
        think = (0.05, 0.15) if n == 1 else (args.think_ms / 2000, 3 * args.think_ms / 2000)
        sessions = [Session(i, think, trials, random.Random(i)) for i in range(n)]
        stop_at = min(deadline, time.monotonic() + args.level_seconds)
        sampler = CpuSampler(process.pid)
        sampler.start()
        time.sleep(2 * sampler.interval_s)
        started = time.perf_counter()
        threads = []
        for i, s in enumerate(sessions):
            if kind == "visus":
                public_id, token = sessions_made[i]
                target, targs = run_visus_session, (s, base_url, public_id, token, cookie, stop_at)
            else:  # the bare and the durable relay speak the same protocol
                target, targs = run_bare_session, (s, base_url, stop_at)
            thread = threading.Thread(target=target, args=targs, daemon=True)
            thread.start()
            threads.append(thread)
            time.sleep(0.01)  # stagger connects a little, as real patients would
        for thread in threads:
            thread.join(max(0.0, stop_at - time.monotonic()) + 5)
        # Steady state: answers sent once every session had connected, calibrated and got its
        # first stimulus (before that, answers share the server with the set-up burst); sessions
        # that never got one (counted as failed) do not hold it back.
        set_up = max((s.first_stimulus_at for s in sessions if s.first_stimulus_at), default=float("inf"))
        to_clinician = [ms for s in sessions for _, ms in s.to_clinician_ms]
        to_stimulus = [ms for s in sessions for _, ms in s.to_stimulus_ms]
        steady_clinician = [ms for s in sessions for at, ms in s.to_clinician_ms if at > set_up]
        steady_stimulus = [ms for s in sessions for at, ms in s.to_stimulus_ms if at > set_up]
        to_ack = [ms for s in sessions for _, ms in s.to_ack_ms]
        steady_ack = [ms for s in sessions for at, ms in s.to_ack_ms if at > set_up]
        sampler.stopped.set()
        return {
            **cpu_figures(sessions, sampler, started, set_up),
            "steady": (
                len(steady_stimulus),
                [percentile(steady_clinician, q) for q in (50, 95, 99)],
                [percentile(steady_stimulus, q) for q in (50, 95, 99)],
                [percentile(steady_ack, q) for q in (50, 95, 99)],
            ),
            "kind": kind,
            "sessions": n,
            "answers": sum(len(s.sent_at) for s in sessions),
            "failed": sum(1 for s in sessions if s.failed),
            "lost": sum(len(s.sent_at) - len(s.to_ack_ms) for s in sessions),
            "clinician": [percentile(to_clinician, q) for q in (50, 95, 99)],
            "stimulus": [percentile(to_stimulus, q) for q in (50, 95, 99)],
            "ack": [percentile(to_ack, q) for q in (50, 95, 99)],
            "errors": sorted({s.failed for s in sessions if s.failed})[:3],
        }
    finally:
        stop_process(process)


def load_average() -> list[str]:
    """The machine's 1, 5 and 15 minute load averages (/proc/loadavg, proc(5))."""
    with open("/proc/loadavg") as loadavg:
        return loadavg.read().split()[:3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 50, 200, 500])
    parser.add_argument("--trials", type=int, default=8, help="answers per session at 50+ sessions")
    parser.add_argument("--trials-single", type=int, default=25, help="answers for the 1-session level")
    parser.add_argument("--think-ms", type=float, default=2000, help="mean time a patient takes to answer")
    parser.add_argument("--procedure", default="adaptive", choices=["adaptive", "chart"])
    parser.add_argument("--level-seconds", type=float, default=90, help="time limit per level")
    parser.add_argument("--max-seconds", type=float, default=1500, help="time limit for the whole run")
    parser.add_argument(
        "--servers", nargs="+", default=["bare", "durable", "visus"], choices=["bare", "durable", "heavy", "visus"]
    )
    parser.add_argument(
        "--heavy-cpu-ms", type=float, default=3.5, help="the `heavy` diagnostic server's extra CPU per answer"
    )
    parser.add_argument("--json", action="store_true", help="also print the rows as one JSON list on the last line")
    args = parser.parse_args()
    deadline = time.monotonic() + args.max_seconds
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sessions:
            for kind in args.servers:
                if time.monotonic() > deadline:
                    break
                started = time.monotonic()
                rows.append(measure(kind, n, args, Path(tmp), deadline))
                print(f"  measured {kind} at {n} sessions in {time.monotonic() - started:.0f} s", file=sys.stderr)
    print(
        f"\nRelay latency, ms (procedure {args.procedure}, think time {args.think_ms:g} ms mean at 50+ sessions, "
        f"{os.cpu_count()} cores shared by server and clients; load average {' '.join(load_average())} at the end)"
    )
    print(
        f"{'server':<7} {'sessions':>8} {'answers':>8} {'failed':>6} {'lost':>5} | "
        f"{'ans->clin p50':>13} {'p95':>7} {'p99':>7} | {'ans->next p50':>13} {'p95':>7} {'p99':>7} | "
        f"{'ans->ack p50':>12} {'p95':>7} {'p99':>7}"
    )
    for r in rows:
        c, s, a = r["clinician"], r["stimulus"], r["ack"]
        print(
            f"{r['kind']:<7} {r['sessions']:>8} {r['answers']:>8} {r['failed']:>6} {r['lost']:>5} | "
            f"{c[0]:>13.1f} {c[1]:>7.1f} {c[2]:>7.1f} | {s[0]:>13.1f} {s[1]:>7.1f} {s[2]:>7.1f} | "
            f"{a[0]:>12.1f} {a[1]:>7.1f} {a[2]:>7.1f}"
        )
        n_steady, c, s, a = r["steady"]
        print(
            f"{'':<7} {'steady':>8} {n_steady:>8} {'':>6} {'':>5} | "
            f"{c[0]:>13.1f} {c[1]:>7.1f} {c[2]:>7.1f} | {s[0]:>13.1f} {s[1]:>7.1f} {s[2]:>7.1f} | "
            f"{a[0]:>12.1f} {a[1]:>7.1f} {a[2]:>7.1f}"
        )
        for error in r["errors"]:
            print(f"       incomplete session: {error}")
    for reference in ("durable", "bare"):
        target = " (target: at most 1.5)" if reference == "durable" else ""
        print(f"\np95 as a multiple of the {reference} reference's p95 at the same level{target}")
        floors = {r["sessions"]: r for r in rows if r["kind"] == reference}
        for r in rows:
            floor = floors.get(r["sessions"])
            if r["kind"] in ("visus", "heavy") or (r["kind"] == "durable" and reference == "bare"):
                if floor:
                    (_, c, s, _), (_, fc, fs, _) = r["steady"], floor["steady"]
                    print(
                        f"{r['kind']:<7} {r['sessions']:>8} | answer -> clinician "
                        f"{r['clinician'][1] / floor['clinician'][1]:5.2f} all, {c[1] / fc[1]:5.2f} steady | "
                        f"answer -> next stimulus {r['stimulus'][1] / floor['stimulus'][1]:5.2f} all, "
                        f"{s[1] / fs[1]:5.2f} steady"
                    )
    print("\nack p95 as a multiple of answer -> next stimulus p95 (target: at most 1.2), and server CPU, ms")
    references = {r["sessions"]: r for r in rows if r["kind"] == "durable"}
    for r in rows:
        (_, _, s, a), reference = r["steady"], references.get(r["sessions"])
        versus = (
            f" ({r['cpu_per_answer_ms'] / reference['cpu_per_answer_ms']:.2f} x durable"
            + ("; target at most 2)" if r["kind"] == "visus" else ")")
            if reference and r["kind"] in ("visus", "heavy")
            else ""
        )
        print(
            f"{r['kind']:<7} {r['sessions']:>8} | ack {r['ack'][1] / r['stimulus'][1]:5.2f} all, "
            f"{a[1] / s[1]:5.2f} steady | CPU per answer {r['cpu_per_answer_ms']:6.2f}{versus}, "
            f"per set-up {r['cpu_per_setup_ms']:6.1f}"
        )
    print(
        "\nsteady state: answers per second (each patient answers 1-3 s after its letter), the CPU one core allows"
        "\nper answer at that rate, and the server's busy fraction (CPU seconds per second; near 1, answers queue)"
    )
    for r in rows:
        rate = r["answers_per_s"]
        budget = 1000 / rate if rate > 0 else float("nan")
        print(
            f"{r['kind']:<7} {r['sessions']:>8} | {rate:6.1f} answers/s | budget {budget:6.2f} ms per answer | "
            f"CPU per answer {r['cpu_per_answer_ms']:6.2f} ms | busy {r['busy_fraction']:4.2f} of a core"
        )
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
