"""Invite e-mails from `python server.py` (eventlet) through a real SMTP server: while the mail server
is slow to answer, the Visus server goes on answering others; the link never reaches its log."""

from __future__ import annotations

import threading

import requests

from devtools.servers import VisusServer
from tests.support.clients import csrf, first_clinician, new_test
from tests.support.smtp import SmtpServer
from webapp.mail import DEFAULT_MESSAGE


def test_a_slow_mail_server_holds_up_no_one_else_and_the_link_is_never_logged(tmp_path):
    with SmtpServer() as smtp:
        server = VisusServer(tmp_path, env=smtp.environment()).start()
        try:
            http = first_clinician(server.base_url)
            public_id, token = new_test(http, server.base_url)
            form = {
                "csrf_token": csrf(http.get(server.base_url + "/sessions/new").text),
                "to": "patient@example.org",
                "subject": "Your eye test link",
                "message": DEFAULT_MESSAGE,
            }
            smtp.inbox.hold.clear()  # the mail server takes the message and then waits
            answered = {}
            sending = threading.Thread(
                target=lambda: answered.update(
                    response=http.post(f"{server.base_url}/sessions/{public_id}/invite/send", data=form, timeout=60)
                )
            )
            sending.start()
            assert smtp.inbox.holding.wait(30), "the message never reached the mail server"
            # The send waits on the mail server; the one Visus process still answers everyone else.
            assert requests.get(server.base_url + "/healthz", timeout=10).ok
            assert http.get(server.base_url + "/", timeout=10).ok
            assert sending.is_alive()
            smtp.inbox.hold.set()
            sending.join(60)
            response = answered["response"]
            assert response.ok and [r.status_code for r in response.history] == [303]
            assert "sent by e-mail to patient@example.org" in response.text
        finally:
            server.stop()
    [(recipients, mail)] = smtp.inbox.messages
    assert recipients == ["patient@example.org"] and f"/t/{token}" in mail.get_content()
    log = server.log()
    assert log and token not in log and "patient@example.org" not in log
