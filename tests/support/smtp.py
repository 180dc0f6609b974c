"""A real SMTP server for the tests: aiosmtpd on a free port of 127.0.0.1, keeping every message it
accepts (parsed), optionally refusing recipients or holding a message until the test lets it go."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from devtools.servers import free_port
from webapp import config

HOLD_LIMIT_S = 30  # a held message is let go after this long whatever the test does


class Inbox:
    """The handler: what arrived, as (envelope recipients, parsed message)."""

    def __init__(self, refuse_recipients: bool = False):
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse_recipients = refuse_recipients
        self.hold = threading.Event()
        self.hold.set()  # not holding
        self.holding = threading.Event()  # set while a message waits for `hold`
        self.arrived = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_recipients:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if not self.hold.is_set():
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.hold.wait, HOLD_LIMIT_S)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        self.arrived.set()
        return "250 Message accepted"


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1, made by Debian's openssl; valid one day."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


class Login:
    """aiosmtpd's authenticator: one user name and password."""

    def __init__(self, user: str, password: str):
        self.expected = (user.encode(), password.encode())

    def __call__(self, server, session, envelope, mechanism, auth_data):
        return AuthResult(success=(auth_data.login, auth_data.password) == self.expected, handled=False)


class ImplicitTlsController(Controller):
    """aiosmtpd offers AUTH only after STARTTLS; on a TLS-from-the-first-byte port the whole
    connection is already encrypted, so AUTH is offered at once (as a port 465 server does)."""

    def factory(self):
        server = super().factory()
        server._auth_require_tls = False
        return server


class SmtpServer:
    """`with SmtpServer() as smtp:` a server at 127.0.0.1:smtp.port; smtp.inbox has what it received.
    With `tls=(certificate, key)` and `login=(user, password)` it requires STARTTLS, then that login;
    with `implicit_tls=True` as well it speaks TLS from the first byte instead (as on port 465)."""

    def __init__(
        self,
        tls: tuple[Path, Path] | None = None,
        login: tuple[str, str] | None = None,
        implicit_tls: bool = False,
        **inbox_options,
    ):
        self.inbox = Inbox(**inbox_options)
        self.port = free_port()
        options = {}
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, tls))
            if implicit_tls:
                options.update(ssl_context=context)
            else:
                options.update(tls_context=context, require_starttls=True)
        if login:
            options.update(authenticator=Login(*login), auth_required=True)
        controller = ImplicitTlsController if implicit_tls else Controller
        self.controller = controller(self.inbox, hostname="127.0.0.1", port=self.port, **options)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.inbox.hold.set()
        self.controller.stop()

    def environment(self) -> dict[str, str]:
        """The settings of a Visus sending through this server (no TLS: 127.0.0.1 only), for `python server.py`."""
        return {
            "VISUS_SMTP_HOST": "127.0.0.1",
            "VISUS_SMTP_PORT": str(self.port),
            "VISUS_SMTP_SECURITY": "none",
            "VISUS_MAIL_FROM": "visus@example.org",
        }

    def settings(self) -> dict[str, object]:
        """The same as app.config values, for an app of the test client."""
        return {
            key: value
            for key, value in config.from_environ(self.environment()).items()
            if "SMTP" in key or "MAIL" in key
        }
