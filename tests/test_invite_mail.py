"""Invite e-mails through a real SMTP server (aiosmtpd on 127.0.0.1), read back: the recipient, the
subject, the link, nothing of another patient; and a clear message for each way sending fails."""

from __future__ import annotations

import html
import re

import pytest

from devtools.servers import free_port
from tests.support.app import add_clinician, create_test, login, make_app
from tests.support.smtp import SmtpServer, self_signed_certificate
from webapp.audit import AuditEntry
from webapp.extensions import db
from webapp.mail import DEFAULT_MESSAGE
from webapp.models import Clinician


def mail_app(db_path, **settings):
    app = make_app(db_path, **settings)
    add_clinician(app)
    return app, login(app.test_client())


def link_on(client, public_id: str) -> str:
    html = client.get(f"/sessions/{public_id}/invite").get_data(as_text=True)
    return re.search(r'value="([^"]+)"[^>]*data-invite-url', html).group(1)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def send(client, public_id: str, **fields):
    data = {"to": "patient.a@example.org", "subject": "Your eye test", "message": DEFAULT_MESSAGE, **fields}
    return client.post(f"/sessions/{public_id}/invite/send", data=data)


def test_the_email_carries_the_link_to_its_recipient_and_nothing_of_another_patient(db_path):
    with SmtpServer() as smtp:
        app, client = mail_app(db_path, **smtp.settings())
        public_id, token = create_test(client, patient_reference="Patient A (ref 17)", setup="4m")
        _, other_token = create_test(client, patient_reference="Patient B (ref 99)")
        page = client.get(f"/sessions/{public_id}/invite").get_data(as_text=True)
        assert "/invite/send" in page and "data-mail-off" not in page

        message = "Dear Mrs A,\n\nYour link: {link}\nValid until {expires}.\nBring {space}.\nAsk {contact}."
        response = send(client, public_id, message=message, save_message="y", back="dashboard")
        assert response.status_code == 303 and response.headers["Location"] == "/"
        assert "sent by e-mail to patient.a@example.org" in client.get("/").get_data(as_text=True)

    [(recipients, mail)] = smtp.inbox.messages
    assert recipients == ["patient.a@example.org"] and mail["To"] == "patient.a@example.org"
    assert mail["Subject"] == "Your eye test" and mail["From"] == "visus@example.org"
    assert mail["Reply-To"] == "doc@example.org"  # the patient's reply reaches the clinician
    body = mail.get_content()
    assert f"/t/{token}" in body and "Dear Mrs A," in body and "4.5 metres" in body and "Ask doc@example.org." in body
    assert other_token not in body and "Patient B" not in body and "ref 99" not in body
    assert "Patient A" not in body  # the practice's reference is not sent either, unless typed in
    with app.app_context():
        assert db.session.scalar(db.select(Clinician.invite_message)) == message  # kept for the next invite
        [entry] = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "invite_sent")).all()
        assert entry.session_public_id == public_id and entry.detail == {}  # no address in the audit log


def test_a_message_without_the_link_or_with_a_bad_address_is_refused_saying_what_to_fix(db_path):
    with SmtpServer() as smtp:
        _, client = mail_app(db_path, **smtp.settings())
        public_id, _ = create_test(client)
        no_link = send(client, public_id, message="Hello, here is your test.")
        assert no_link.status_code == 400
        assert "Put {link} in the message" in text(no_link)
        for address in ("not an address", "a@example.org, b@example.org", "a@example.org\r\nBcc: c@example.org"):
            refused = send(client, public_id, to=address)
            assert refused.status_code == 400, address
            assert "one address, like name@example.org" in text(refused)
        kept = text(send(client, public_id, message="Edited text without it"))
        assert "Edited text without it" in kept  # the clinician's text is kept on the page to correct it
    assert smtp.inbox.messages == []


def test_mail_server_failures_give_the_clinician_a_clear_message_and_never_log_the_link(db_path, caplog):
    with SmtpServer(refuse_recipients=True) as smtp:
        _, client = mail_app(db_path, **smtp.settings())
        public_id, token = create_test(client)
        refused = send(client, public_id)
        assert refused.status_code == 502
        assert "refused the patient's address. Check it and send again." in text(refused)

        client.application.config["SMTP_SECURITY"] = "starttls"  # this server offers no STARTTLS
        no_tls = text(send(client, public_id))
        assert "does not offer STARTTLS. Set VISUS_SMTP_SECURITY" in no_tls

    client.application.config.update(SMTP_SECURITY="none", SMTP_PORT=free_port())  # nobody listens there
    unreachable = send(client, public_id)
    assert unreachable.status_code == 502
    assert "Could not reach the mail server 127.0.0.1" in text(unreachable)
    logged = caplog.text
    assert "invite e-mail not sent" in logged and token not in logged and "patient.a@example.org" not in logged


def test_a_mail_server_without_a_sender_address_is_refused_at_start(db_path):
    with pytest.raises(ValueError, match="VISUS_MAIL_FROM"):
        make_app(db_path, SMTP_HOST="127.0.0.1", MAIL_FROM=None)


def test_invite_emails_are_limited_per_account(db_path):
    with SmtpServer() as smtp:
        _, client = mail_app(db_path, INVITE_MAIL_RATE_LIMIT="2 per hour", **smtp.settings())
        public_id, _ = create_test(client)
        assert [send(client, public_id).status_code for _ in range(2)] == [303, 303]
        over = send(client, public_id)
        assert over.status_code == 429 and "Too many invite e-mails" in text(over)
    assert len(smtp.inbox.messages) == 2


def test_starttls_with_a_verified_certificate_and_a_login(db_path, tmp_path, monkeypatch):
    """The default security: STARTTLS, the server's certificate checked (here one this test trusts),
    then the login; a wrong password is named as such."""
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the only authority the client trusts here
    with SmtpServer(tls=(cert, key), login=("visus", "s3cret")) as smtp:
        settings = {**smtp.settings(), "SMTP_SECURITY": "starttls", "SMTP_USER": "visus", "SMTP_PASSWORD": "s3cret"}
        app, client = mail_app(db_path, **settings)
        public_id, token = create_test(client)
        assert send(client, public_id).status_code == 303
        app.config["SMTP_PASSWORD"] = "wrong"
        refused = send(client, public_id)
        assert refused.status_code == 502 and "refused the user name or password" in text(refused)
    [(recipients, mail)] = smtp.inbox.messages
    assert recipients == ["patient.a@example.org"] and f"/t/{token}" in mail.get_content()


def test_implicit_tls_checks_the_certificate_and_logs_in(db_path, tmp_path, monkeypatch):
    """VISUS_SMTP_SECURITY=tls (port 465): TLS from the first byte, the server's certificate checked
    (a self-signed one this test trusts, then one it does not), then the login."""
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the only authority the client trusts here
    with SmtpServer(tls=(cert, key), login=("visus", "s3cret"), implicit_tls=True) as smtp:
        settings = {**smtp.settings(), "SMTP_SECURITY": "tls", "SMTP_USER": "visus", "SMTP_PASSWORD": "s3cret"}
        app, client = mail_app(db_path, **settings)
        public_id, token = create_test(client)
        assert send(client, public_id).status_code == 303
        app.config["SMTP_SECURITY"] = "none"  # plain SMTP to a TLS port: no readable answer
        assert "Could not reach the mail server" in text(send(client, public_id))
        app.config["SMTP_SECURITY"] = "tls"
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "nothing-trusted.pem"))
        untrusted = send(client, public_id)
        assert untrusted.status_code == 502 and "Could not reach the mail server" in text(untrusted)
    [(recipients, mail)] = smtp.inbox.messages
    assert recipients == ["patient.a@example.org"] and f"/t/{token}" in mail.get_content()


def test_the_default_message_names_the_practice_and_how_to_reach_it(db_path):
    """{practice} is the practice's name (as renamed on the practice page), {contact} the test's contact
    line; without a contact line, the sending clinician's address."""
    with SmtpServer() as smtp:
        _, client = mail_app(db_path, **smtp.settings())
        assert client.post("/practice", data={"name": "Riverside Eye Clinic"}).status_code == 302
        with_line, _ = create_test(client, contact_line="Dr Lee, 01632 960 123")
        without_line, _ = create_test(client)
        assert send(client, with_line).status_code == 303
        assert send(client, without_line).status_code == 303
    [(_, first), (_, second)] = smtp.inbox.messages
    first_body, second_body = (m.get_content().replace("\r\n", "\n") for m in (first, second))
    for body in (first_body, second_body):
        assert "With kind regards,\nRiverside Eye Clinic\n" in body and "{practice}" not in body
    assert "contact us: Dr Lee, 01632 960 123" in first_body
    assert "contact us: doc@example.org" in second_body
