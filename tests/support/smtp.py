"""A real SMTP server for the tests: aiosmtpd on a free port of 127.0.0.1, keeping every message it
accepts (parsed), optionally refusing recipients or holding a message until the test lets it go."""

from __future__ import annotations

import asyncio
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

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


class SmtpServer:
    """`with SmtpServer() as smtp:` a server at 127.0.0.1:smtp.port; smtp.inbox has what it received."""

    def __init__(self, **inbox_options):
        self.inbox = Inbox(**inbox_options)
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

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
