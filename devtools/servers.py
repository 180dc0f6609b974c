"""`python server.py` as a subprocess on a free port of 127.0.0.1, awaited through /healthz.

Used by the browser, fault and fuzz tests, the scale-out tests (devtools/cluster.py) and the
benchmarks (bench/). One copy of: choosing a free port, waiting for a starting process, stopping it.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


# WORKER: "gw0", "gw1", ... under pytest-xdist, else "". Each worker takes its ports from a
# block of its own, below the kernel's ephemeral range (32768-60999 on Linux) and below the relay
# ports of devtools/turn.py (20000 and up): a port one worker chose and has not bound yet is then
# never chosen by another worker, nor given by the kernel to an outgoing connection meanwhile.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_WORKER_PORTS = 1000
_next_worker_port = random.randrange(_WORKER_PORTS)  # another run on the machine starts elsewhere


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now."""
    if not WORKER.startswith("gw"):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]
    global _next_worker_port
    low = 10000 + int(WORKER[2:]) % 10 * _WORKER_PORTS
    for _ in range(_WORKER_PORTS):
        port = low + _next_worker_port % _WORKER_PORTS
        _next_worker_port += 1
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{low + _WORKER_PORTS - 1} (pytest-xdist worker {WORKER})")


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_for(
    check: Callable[[], bool],
    what: str,
    timeout_s: float = 30,
    process: subprocess.Popen | None = None,
    log: Path | None = None,
) -> None:
    """Poll `check()` until it is true (a starting server sends no event we could await); fail early,
    with the end of its log, when `process` exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text()[-3000:] if log else ''}")
        try:
            if check():
                return
        except (OSError, requests.RequestException):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start in {timeout_s:.0f} s:\n{log.read_text()[-3000:] if log else ''}")
        time.sleep(0.05)


def healthy(base_url: str) -> bool:
    return requests.get(base_url + "/healthz", timeout=2).ok


def wait_healthy(
    base_url: str, process: subprocess.Popen | None = None, log: Path | None = None, timeout_s: float = 30
) -> None:
    wait_for(lambda: healthy(base_url), f"server at {base_url}", timeout_s, process, log)


def stop_process(process: subprocess.Popen, timeout_s: float = 10) -> None:
    """SIGTERM, then SIGKILL when it does not end in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout_s)


class VisusServer:
    """`python server.py` on 127.0.0.1:`port`; its output goes to `log_path` (appended, so a restart
    keeps the earlier run's lines). Without `database_url`, its own SQLite file in `workdir`."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        secret_key: str | None = None,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
        log_name: str = "server.log",
    ):
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.secret_key = secret_key or secrets.token_hex(32)
        self.db_path = self.workdir / "e2e.sqlite"
        self.database_url = database_url or f"sqlite:///{self.db_path}"
        self.extra_env = env or {}
        self.log_path = self.workdir / log_name
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "VISUS_HOST": "127.0.0.1",
            "VISUS_PORT": str(self.port),
            "VISUS_SECRET_KEY": self.secret_key,
            "DATABASE_URL": self.database_url,
            "VISUS_INSTANCE_PATH": str(self.workdir / "instance"),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        env.pop("VISUS_ASYNC_MODE", None)  # server.py runs on eventlet, whatever a test process set
        return env

    def launch(self) -> VisusServer:
        """Start the process without waiting for it (see `wait`)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "server.py"], cwd=ROOT, env=self.environment(), stdout=log, stderr=subprocess.STDOUT
            )
        return self

    # A server that exits is reported at once (wait_for); one still starting is given up to 2 minutes,
    # which a machine loaded by several test runs needs (a bound, not a wait: a quick start returns early).
    def wait(self, timeout_s: float = 120) -> VisusServer:
        wait_healthy(self.base_url, self.process, self.log_path, timeout_s)
        return self

    def start(self, timeout_s: float = 120) -> VisusServer:
        return self.launch().wait(timeout_s)

    def stop(self) -> None:
        if self.process:
            stop_process(self.process)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed or closed by the server."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""
