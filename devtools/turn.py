"""coturn (`turnserver`, Debian's coturn package) as a subprocess on 127.0.0.1 for the call tests:
the TURN REST API set-up Visus expects (`use-auth-secret`, `static-auth-secret`), no TLS, no CLI,
loopback peers allowed so both browsers of a test can relay to each other on one machine.
deploy/coturn/turnserver.conf is the production configuration."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from devtools.servers import free_port, port_open, stop_process, wait_for

TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"


def available() -> bool:
    return Path(TURNSERVER).exists()


class TurnServer:
    def __init__(self, workdir: Path, secret: str, port: int | None = None):
        self.workdir = Path(workdir)
        self.secret = secret
        self.port = port or free_port()
        self.log_path = self.workdir / "turnserver.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def config(self) -> str:
        # Relay ports: a small range of its own per server, next to the listening port.
        low = 20000 + (self.port % 200) * 200
        return "\n".join(
            [
                f"listening-port={self.port}",
                "listening-ip=127.0.0.1",
                "relay-ip=127.0.0.1",
                f"min-port={low}",
                f"max-port={low + 199}",
                "use-auth-secret",
                f"static-auth-secret={self.secret}",
                "realm=visus.test",
                "fingerprint",
                "no-tls",
                "no-dtls",
                "no-cli",
                "allow-loopback-peers",
                "no-multicast-peers",
                f"userdb={self.workdir / 'turndb'}",
                f"pidfile={self.workdir / 'turnserver.pid'}",
                f"log-file={self.log_path}",
                "simple-log",
                "verbose",
                "",
            ]
        )

    def start(self, timeout_s: float = 15) -> TurnServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "turnserver.conf"
        conf.write_text(self.config())
        output = self.workdir / "turnserver.out"
        with open(output, "a") as out:
            self.process = subprocess.Popen([TURNSERVER, "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: port_open(self.port), f"turnserver on port {self.port}", timeout_s, self.process, output)
        return self

    def stop(self) -> None:
        if self.process:
            stop_process(self.process)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""
