"""Real servers for the scale-out tests (tests/scaleout) and bench/scaleout.py, from Debian's packages.

PostgreSQL (initdb + pg_ctl of /usr/lib/postgresql/<version>/bin), redis-server and nginx are
started on free ports of 127.0.0.1 with their data in a temporary directory, and N
`python server.py` processes share them (DATABASE_URL, REDIS_URL, one VISUS_SECRET_KEY).
PostgreSQL refuses to run as root: as root, its data directory belongs to the `postgres` system
user (created by Debian's package) and its programs run through `runuser -u postgres --`.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from devtools.servers import ROOT, VisusServer, free_port, port_open, stop_process, wait_for

PROXY_SNIPPET = ROOT / "deploy" / "nginx" / "visus-proxy.conf"
DEBIAN_PACKAGES = "redis-server postgresql nginx"


def postgres_bin() -> Path | None:
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(versions[-1]).parent if versions else None


def missing_servers() -> list[str]:
    """The Debian binaries these tests need and that are not installed."""
    missing = []
    if postgres_bin() is None:
        missing.append("postgresql (initdb, pg_ctl)")
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        missing.append("nginx")
    return missing


@dataclass
class Postgres:
    """A throwaway PostgreSQL cluster; `create_database()` gives each test a fresh database."""

    workdir: Path
    durable: bool = False  # tests: fsync off; the benchmark: a real commit to disk per answer
    port: int = field(default_factory=free_port)
    user: str = "visus"

    def __post_init__(self) -> None:
        self.bin = postgres_bin()
        self.data = self.workdir / "pgdata"
        self.as_root = os.geteuid() == 0
        self.count = 0

    def _run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, **kwargs)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def start(self) -> Postgres:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.as_root:  # the postgres user must reach its data directory
            self.workdir.chmod(0o755)
            self.data.mkdir()
            shutil.chown(self.data, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        durability = [] if self.durable else ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-k {self.data}",
                "-c max_connections=200",
                *durability,
            ]
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.data / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "visus") -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg2

        self.count += 1
        name = f"{prefix}_{self.count}"
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return self.url(name)

    def stop(self) -> None:
        if self.data.exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except RuntimeError:
                pass


@dataclass
class Redis:
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def start(self) -> Redis:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.workdir / "redis.log"
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--logfile",
                str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: port_open(self.port), "redis-server", process=self.process, log=log)
        return self

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process:
            stop_process(self.process)


NGINX_CONF = """\
{user}worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream visus {{
        ip_hash;
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        # Which process answered: lets a test find the process its client was sent to.
        add_header X-Visus-Upstream $upstream_addr always;
        include {snippet};
    }}
}}
"""


@dataclass
class Nginx:
    """nginx in the foreground with a config rendered for the given backend ports."""

    workdir: Path
    backend_ports: list[int]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def start(self) -> Nginx:
        self.workdir.mkdir(parents=True, exist_ok=True)
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in self.backend_ports)
        conf = self.workdir / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                user="user root;\n" if os.geteuid() == 0 else "",
                dir=self.workdir,
                servers=servers,
                port=self.port,
                snippet=PROXY_SNIPPET,
            )
        )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        log = self.workdir / "error.log"
        self.process = subprocess.Popen(
            [nginx, "-e", str(log), "-p", str(self.workdir), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: port_open(self.port), "nginx", process=self.process, log=log)
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process:
            stop_process(self.process)


def start_visus(
    n: int, database_url: str, redis_url: str, workdir: Path, secret_key: str, extra_env: dict | None = None
) -> list[VisusServer]:
    """N server processes; the first runs the migrations alone before the others start."""
    processes = [
        VisusServer(
            workdir,
            secret_key=secret_key,
            database_url=database_url,
            env={"REDIS_URL": redis_url, **(extra_env or {})},
            log_name=f"visus-{i}.log",
        )
        for i in range(n)
    ]
    processes[0].start()  # two processes migrating one empty database at once would race
    for member in processes[1:]:
        member.launch()
    for member in processes[1:]:
        member.wait()
    return processes


class Cluster:
    """PostgreSQL + Redis (+ nginx when asked), shared by the tests of a run."""

    def __init__(self, durable_postgres: bool = False):
        # As root, PostgreSQL runs as the postgres user, who must reach its data directory: under /tmp
        # (not a TMPDIR that may sit in root's home), the work directory readable by all.
        self.workdir = Path(tempfile.mkdtemp(prefix="visus-scaleout-", dir="/tmp" if os.geteuid() == 0 else None))
        self.workdir.chmod(0o755)
        self.postgres = Postgres(self.workdir / "postgres", durable=durable_postgres)
        self.redis = Redis(self.workdir / "redis")

    def start(self) -> Cluster:
        try:
            self.postgres.start()
            self.redis.start()
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self.redis.stop()
        self.postgres.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
