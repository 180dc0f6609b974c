"""Fixtures for the scale-out tests: one PostgreSQL and one Redis for the run, a fresh database
and N `python server.py` processes per test, nginx in front when a test asks for it.

The servers are Debian's packages (redis-server, postgresql, nginx); scripts/test.sh installs
them, so CI never skips these tests. On a machine without them the tests are skipped and say
how to get them (README.md, "Scale-out tests").
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import psycopg2
import pytest

from devtools.cluster import DEBIAN_PACKAGES, Cluster, Nginx, missing_servers, start_visus

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "scaleout"


@pytest.fixture(scope="session")
def cluster():
    missing = missing_servers()
    if missing:
        pytest.skip(
            f"needs Debian's {', '.join(missing)}: apt-get install {DEBIAN_PACKAGES} (scripts/test.sh installs them)"
        )
    running = Cluster().start()
    yield running
    running.stop()


class Deployment:
    """A fresh database on the shared PostgreSQL, and processes using it and the shared Redis."""

    def __init__(self, cluster: Cluster, name: str):
        self.cluster = cluster
        self.database_url = cluster.postgres.create_database()
        self.workdir = cluster.workdir / name
        self.secret_key = secrets.token_hex(32)  # one key for all processes: a cookie signed by one is good at all
        self.processes = []
        self.nginx: Nginx | None = None

    def start(self, n: int) -> list:
        # Behind nginx, as deployed (deploy/visus.env.example): the client's address from X-Forwarded-For.
        self.processes = start_visus(
            n,
            self.database_url,
            self.cluster.redis.url,
            self.workdir,
            self.secret_key,
            extra_env={"VISUS_PROXIES": "1"},
        )
        return self.processes

    def start_nginx(self) -> Nginx:
        self.nginx = Nginx(self.workdir / "nginx", [p.port for p in self.processes]).start()
        return self.nginx

    def query(self, sql: str, *params) -> list[tuple]:
        """Read what is stored, straight from PostgreSQL."""
        connection = psycopg2.connect(self.database_url)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            connection.close()

    def stop(self, keep_logs_as: str | None) -> None:
        if self.nginx:
            self.nginx.stop()
        for process in self.processes:
            process.stop()
        if keep_logs_as:
            target = ARTIFACTS / keep_logs_as
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(
                self.workdir,
                target,
                ignore=shutil.ignore_patterns("*.pid", "*_temp", "client_body", "proxy", "fastcgi", "uwsgi", "scgi"),
            )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.scaleout_failed = report.failed


@pytest.fixture
def deployment(cluster, request):
    """Yields a Deployment; the servers' logs go to test-artifacts/scaleout/<test> when it fails."""
    made = Deployment(cluster, request.node.name)
    yield made
    made.stop(keep_logs_as=request.node.name if getattr(request.node, "scaleout_failed", False) else None)
