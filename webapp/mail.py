"""Invite e-mails: the message a clinician edits and sends, through the SMTP server of the settings
(VISUS_SMTP_*, VISUS_MAIL_FROM in webapp/config.py), with the standard library only.

Under `python3 server.py` eventlet has patched the socket and ssl modules, so smtplib waits for the
mail server cooperatively: a slow server holds up only the clinician's own request. Nothing here logs
the message, its link or its recipient (docs/security.md, "Invite e-mails").
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import parseaddr

from flask import Flask, current_app

from webapp.i18n import DEFAULT as ENGLISH
from webapp.i18n import N_, translate

SECURITY = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
TIMEOUT_S = 20  # connecting and each reply of the mail server
SUBJECT_MAX = 200
MESSAGE_MAX = 5000

# The default subject and message are the patient's words, in the test's language (default_text).
DEFAULT_SUBJECT = N_("Your eye test link")
# {link}, {expires}, {space}, {practice} and {contact} are filled in when it is sent (placeholders()).
DEFAULT_MESSAGE = N_(
    "Hello,\n\n"
    "We have set up a short eye test that you can take at home. Please open this link on a computer, "
    "laptop or tablet (not on your phone):\n\n"
    "{link}\n\n"
    "The link works until {expires}. It opens the test in one browser only: open it on the computer you "
    "will use for the test.\n\n"
    "Please have ready:\n"
    "- a bank card, or any card of the same size (to set the size of your screen)\n"
    "- your mobile phone (you answer on it, after scanning a code on the screen)\n"
    "- {space}\n"
    "- your glasses or contact lenses, if you wear them\n"
    "- about 10 minutes in a quiet, well-lit room\n\n"
    "If you have any questions, contact us: {contact}\n\n"
    "With kind regards,\n"
    "{practice}\n"
)

# What the patient needs for each set-up's distance (webapp/setups.py).
SPACE = {
    "2m": N_("a tape measure and about 2.5 metres of clear space in front of the screen"),
    "3m": N_("a tape measure and about 3.5 metres of clear space in front of the screen"),
    "4m": N_("a tape measure and about 4.5 metres of clear space in front of the screen"),
    "mirror": N_("a large mirror facing the screen, a tape measure and about 2 metres of space"),
    "near_40cm": N_("a tape measure or ruler (you read the screen from 40 cm)"),
}


class MailError(Exception):
    """A message that was not sent, with what the clinician can do about it; `status` is the page's
    HTTP status (400: the clinician's input, 502: the mail server)."""

    def __init__(self, text: str, status: int = 400):
        super().__init__(text)
        self.status = status


def configured(app: Flask | None = None) -> bool:
    config = (app or current_app).config
    return bool(config.get("SMTP_HOST"))


def check_settings(app: Flask) -> None:
    """At create_app: a mail server without a sender address is refused now, not at the first send."""
    if configured(app) and not app.config.get("MAIL_FROM"):
        raise ValueError("VISUS_MAIL_FROM: set the sender address of invite e-mails when VISUS_SMTP_HOST is set.")


def default_text(session, own_message: str | None) -> tuple[str, str]:
    """(subject, message) the invite form starts with: in the test's language; the clinician's own
    saved message is English, so it is offered for English tests only."""
    if session.language == ENGLISH and own_message:
        return DEFAULT_SUBJECT, own_message
    return translate(session.language, DEFAULT_SUBJECT), translate(session.language, DEFAULT_MESSAGE)


def placeholders(session, expires_text: str, sender_email: str, link: str) -> dict[str, str]:
    """{practice} is the practice's name; {contact} the test's contact line (how the patient reaches the
    practice, given on the new-test form) or, without one, the sending clinician's address."""
    return {
        "link": link,
        "expires": expires_text,
        "space": translate(session.language, SPACE.get(session.config.get("setup"), SPACE["3m"])),
        "practice": session.patient.practice.name,
        "contact": session.contact_line or sender_email,
    }


def fill(template: str, values: dict[str, str]) -> str:
    """The message with each {name} of `values` replaced (other braces stay as written)."""
    if "{link}" not in template:
        raise MailError("Put {link} in the message where the patient's link should go.")
    text = template
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def recipient(address: str) -> str:
    """One plain e-mail address, or MailError saying what is wrong with it."""
    address = address.strip()
    name, parsed = parseaddr(address)
    if not parsed or parsed != address or "@" not in parsed or any(c in parsed for c in ",; \r\n"):
        raise MailError("Give the patient's e-mail address (one address, like name@example.org).")
    return parsed


def message(to: str, subject: str, body: str, reply_to: str | None) -> EmailMessage:
    subject = " ".join(subject.split())[:SUBJECT_MAX] or DEFAULT_SUBJECT
    if len(body) > MESSAGE_MAX:
        raise MailError(f"The message is too long: at most {MESSAGE_MAX} characters.")
    mail = EmailMessage()
    mail["From"] = current_app.config["MAIL_FROM"]
    mail["To"] = recipient(to)
    if reply_to:
        mail["Reply-To"] = reply_to
    mail["Subject"] = subject
    mail.set_content(body.replace("\r\n", "\n"))
    return mail


def send(mail: EmailMessage) -> None:
    """Send through the configured server; MailError with a clear message when it fails."""
    config = current_app.config
    host, security = config["SMTP_HOST"], config["SMTP_SECURITY"]
    port = config.get("SMTP_PORT") or DEFAULT_PORTS[security]
    where = f"the mail server {host}:{port}"
    step = "connect"
    try:
        if security == "tls":
            smtp = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_S, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=TIMEOUT_S)
        with smtp:
            if security == "starttls":
                step = "starttls"
                smtp.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USER"):
                step = "login"
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            smtp.send_message(mail)
    except smtplib.SMTPNotSupportedError:
        if step == "login":
            raise _failed(
                f"{where} does not offer a login on this connection. Check VISUS_SMTP_SECURITY with the mail "
                "provider, or leave VISUS_SMTP_USER unset if the server needs no login.",
                "login",
            ) from None
        raise _failed(
            f"{where} does not offer STARTTLS. Set VISUS_SMTP_SECURITY to tls (port 465) or, only for a server "
            "on this machine or a trusted network, none.",
            "starttls",
        ) from None
    except smtplib.SMTPAuthenticationError:
        raise _failed(
            f"{where} refused the user name or password (VISUS_SMTP_USER, VISUS_SMTP_PASSWORD).", "login"
        ) from None
    except smtplib.SMTPRecipientsRefused:
        raise _failed(f"{where} refused the patient's address. Check it and send again.", "recipient") from None
    except smtplib.SMTPSenderRefused:
        raise _failed(f"{where} refused the sender address (VISUS_MAIL_FROM).", "sender") from None
    except smtplib.SMTPResponseException as error:
        text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else ""
        raise _failed(
            f"{where} refused the message ({error.smtp_code} {text[:200]}). Try again later.", "refused"
        ) from None
    except (smtplib.SMTPException, ssl.SSLError, OSError) as error:
        raise _failed(
            f"Could not reach {where} ({type(error).__name__}). Try again in a minute; if it keeps failing, "
            "check VISUS_SMTP_HOST, VISUS_SMTP_PORT and VISUS_SMTP_SECURITY.",
            "connection",
        ) from None


def _failed(message_text: str, kind: str) -> MailError:
    # The log says what failed, never the message, its link or its recipient.
    current_app.logger.warning("invite e-mail not sent: %s", kind)
    return MailError("The e-mail was not sent: " + message_text, 502)
