"""Configuration read from the environment: the one place that reads it.

Every environment variable Visus reads is a `Setting` in SETTINGS: its name, the app.config key it
sets and its default. `from_environ()` turns the environment into app.config values;
create_app calls it, server.py takes its address from the result. The README's "Running it" table
says what each one is for, with the same names and defaults (tests/test_config.py compares them).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from acuity.notation import LEADS

# Where the SQLite database and the generated secret key live unless configured otherwise.
DEFAULT_INSTANCE_PATH = str(Path(__file__).resolve().parents[1] / "instance")
# Production password hashing (werkzeug's default, memory-hard). Tests set a cheap method by config
# (tests/support/app.py), never through the environment.
PASSWORD_HASH_METHOD = "scrypt"


def database_url(value: str) -> str:
    """The SQLAlchemy URL; the "postgres://" some hosts hand out is psycopg2's "postgresql://"."""
    if value.startswith("postgres://"):
        return "postgresql://" + value[len("postgres://") :]
    return value


def flag(value: str) -> bool:
    """1/true/yes/on and 0/false/no/off, any case."""
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected 1 or 0 (true/false, yes/no, on/off), not {value!r}")


def bucket(value: str) -> tuple[float, float]:
    """A token bucket as "burst,per_second", e.g. "60,20"."""
    try:
        burst, per_second = (float(part) for part in value.split(","))
    except ValueError:
        raise ValueError(f"must be 'burst,per_second', e.g. '60,20'; not {value!r}") from None
    return burst, per_second


def url_list(value: str) -> tuple[str, ...]:
    """Comma-separated URLs, e.g. "stun:turn.example.org:3478,turns:turn.example.org:5349"."""
    urls = tuple(part.strip() for part in value.split(",") if part.strip())
    for url in urls:
        if not url.startswith(("stun:", "stuns:", "turn:", "turns:")):
            raise ValueError(f"each URL starts with stun:, stuns:, turn: or turns:; not {url!r}")
    return urls


def notation_lead(value: str) -> str:
    if value not in LEADS:
        raise ValueError(f"one of {', '.join(LEADS)} (6/12, 20/40 or decimal 0.50 first), not {value!r}")
    return value


def smtp_security(value: str) -> str:
    if value not in ("starttls", "tls", "none"):
        raise ValueError(f"'starttls', 'tls' or 'none', not {value!r}")
    return value


def async_mode(value: str) -> str:
    if value not in ("eventlet", "threading"):
        raise ValueError(f"'eventlet' or 'threading', not {value!r}")
    return value


@dataclass(frozen=True)
class Setting:
    env: str  # the environment variable
    key: str  # the app.config key it sets
    default: object  # the value when the variable is unset or empty
    parse: Callable[[str], object]
    default_text: str  # the default as the README's table says it (tests/test_config.py compares them)


SETTINGS: tuple[Setting, ...] = (
    # Where `python3 server.py` listens.
    Setting("VISUS_HOST", "HOST", "127.0.0.1", str, "127.0.0.1"),
    Setting("VISUS_PORT", "PORT", 5000, int, "5000"),
    # Base of the links sent to patients (webapp/links.py); its origin is the one Socket.IO accepts and,
    # when https://, makes the cookies HTTPS-only (webapp/security.py).
    Setting("VISUS_PUBLIC_URL", "PUBLIC_URL", None, str, "the request's host"),
    Setting("VISUS_SECRET_KEY", "SECRET_KEY", None, str, "generated once into `<instance>/secret_key`"),
    Setting("VISUS_INSTANCE_PATH", "INSTANCE_PATH", DEFAULT_INSTANCE_PATH, str, "`instance/` in the checkout"),
    # None: SQLite in the instance folder. PostgreSQL: postgresql://user:password@host:port/name (psycopg2).
    Setting("DATABASE_URL", "SQLALCHEMY_DATABASE_URI", None, database_url, "SQLite `<instance>/visus.sqlite`"),
    # Socket.IO's message queue between server processes, and the rate limits' storage.
    Setting("REDIS_URL", "REDIS_URL", None, str, "none"),
    # Proxies in front that set X-Forwarded-For/-Proto (nginx, deploy/: 1). Leave 0 when clients reach
    # the server directly: the headers would then be the client's to forge (rate limits are per address).
    Setting("VISUS_PROXIES", "PROXIES", 0, int, "0"),
    # Session and remember-me cookies over HTTPS only (also when VISUS_PUBLIC_URL is https://).
    Setting("VISUS_SECURE_COOKIES", "SECURE_COOKIES", False, flag, "0"),
    Setting("VISUS_INVITE_TTL_HOURS", "INVITE_TTL_HOURS", 24.0, float, "24"),
    # A clinician's sign-in ends after this long without a request or socket event, and this long after
    # it began whatever happens (NIST SP 800-63B 4.2.3, AAL2: 30 minutes, 12 hours; docs/security.md).
    Setting("VISUS_SESSION_IDLE_MINUTES", "SESSION_IDLE_MINUTES", 30.0, float, "30"),
    Setting("VISUS_SESSION_MAX_HOURS", "SESSION_MAX_HOURS", 12.0, float, "12"),
    # A patient link and the browser credentials it was exchanged for (webapp/patient/credentials.py)
    # stop working this long after the test is done or ended (time to read shared results), and this
    # long after the test was created whatever happens.
    Setting("VISUS_LINK_AFTER_END_HOURS", "LINK_AFTER_END_HOURS", 2.0, float, "2"),
    Setting("VISUS_LINK_MAX_DAYS", "LINK_MAX_DAYS", 7.0, float, "7"),
    # Days a session is kept; checked by webapp/privacy.py (retention_days).
    Setting("VISUS_RETENTION_DAYS", "RETENTION_DAYS", None, float, "unset (keep)"),
    # Upgrade the database when `python3 server.py` starts (webapp/startup.py).
    Setting("VISUS_AUTO_MIGRATE", "AUTO_MIGRATE", True, flag, "1"),
    # A change between two tests of the same patient larger than the test-retest limit is flagged
    # (ETDRS letter-by-letter test-retest limits +/-0.10 to +/-0.18 logMAR: Arditi 1993, Rosser 2003).
    Setting("VISUS_HISTORY_CHANGE_LIMIT_LOGMAR", "HISTORY_CHANGE_LIMIT_LOGMAR", 0.15, float, "0.15"),
    # The practice's notation: what every result line leads with at distance (acuity.notation.describe).
    Setting("VISUS_NOTATION", "NOTATION", "6m", notation_lead, "6m"),
    # Token buckets (burst, per_second) of webapp/security.py; a load test may raise them.
    Setting("VISUS_SOCKET_RATE_LIMIT", "SOCKET_RATE_LIMIT", (60.0, 20.0), bucket, "60,20"),
    # The same events per test session (a reconnect gets a fresh socket, not a fresh session) and per
    # client address (above the ~250 answers a second of 500 simulated patients on one machine).
    Setting("VISUS_SOCKET_SESSION_RATE_LIMIT", "SOCKET_SESSION_RATE_LIMIT", (60.0, 20.0), bucket, "60,20"),
    Setting("VISUS_SOCKET_ADDRESS_RATE_LIMIT", "SOCKET_ADDRESS_RATE_LIMIT", (1000.0, 500.0), bucket, "1000,500"),
    Setting("VISUS_SOCKET_CONNECT_RATE_LIMIT", "SOCKET_CONNECT_RATE_LIMIT", (20.0, 1 / 3), bucket, "20,0.333"),
    # The video call (webapp/live/call.py, docs/deploy.md "Video call"): STUN and TURN servers handed
    # to the browsers. TURN credentials are made per call by the TURN REST API convention from the
    # secret shared with coturn (`static-auth-secret`), valid for VISUS_TURN_TTL_S seconds.
    Setting("VISUS_STUN_URLS", "STUN_URLS", (), url_list, "none"),
    Setting("VISUS_TURN_URLS", "TURN_URLS", (), url_list, "none"),
    Setting("VISUS_TURN_SECRET", "TURN_SECRET", None, str, "none"),
    Setting("VISUS_TURN_TTL_S", "TURN_TTL_S", 86400, int, "86400"),
    # Every call through TURN (iceTransportPolicy "relay"): neither side learns the other's address.
    Setting("VISUS_TURN_ONLY", "TURN_ONLY", False, flag, "0"),
    # Invite e-mails (webapp/mail.py): the SMTP server, how the connection is secured (STARTTLS on 587,
    # TLS from the first byte on 465, or none for a relay on this machine), its login, and the sender.
    # Without VISUS_SMTP_HOST the pages offer no e-mail and say how to set it up.
    Setting("VISUS_SMTP_HOST", "SMTP_HOST", None, str, "none (no e-mail)"),
    Setting("VISUS_SMTP_PORT", "SMTP_PORT", None, int, "587 (`tls`: 465, `none`: 25)"),
    Setting("VISUS_SMTP_SECURITY", "SMTP_SECURITY", "starttls", smtp_security, "starttls"),
    Setting("VISUS_SMTP_USER", "SMTP_USER", None, str, "none (no login)"),
    Setting("VISUS_SMTP_PASSWORD", "SMTP_PASSWORD", None, str, "none"),
    Setting("VISUS_MAIL_FROM", "MAIL_FROM", None, str, "none"),
    # Installing eventlet changes Flask-SocketIO's automatic choice, so it is always set explicitly:
    # "eventlet" in production; the tests on Flask-SocketIO's test client use "threading".
    Setting("VISUS_ASYNC_MODE", "SOCKETIO_ASYNC_MODE", "eventlet", async_mode, "eventlet"),
)


def from_environ(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """The app.config values of every setting; an unset or empty variable gives the default. A value
    that does not parse raises ValueError naming the variable."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for setting in SETTINGS:
        text = environ.get(setting.env, "")
        if text == "":
            values[setting.key] = setting.default
            continue
        try:
            values[setting.key] = setting.parse(text)
        except ValueError as error:
            raise ValueError(f"{setting.env}: {error}") from None
    return values


# Fixed settings (not from the environment).
FIXED = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PASSWORD_HASH_METHOD": PASSWORD_HASH_METHOD,
}


def read_secret_key(instance_path: str) -> str | None:
    """The key generated into the instance folder by an earlier start-up, if there is one."""
    key_file = Path(instance_path) / "secret_key"
    return key_file.read_text().strip() if key_file.exists() else None


def make_secret_key(instance_path: str) -> str:
    """Start-up only (server.py): the key of the instance folder, generated and stored there once.

    Never a default in code: a fixed key would let anyone forge a session cookie.
    """
    existing = read_secret_key(instance_path)
    if existing:
        return existing
    key_file = Path(instance_path) / "secret_key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created 0600 (never readable by others, not even for a moment), written through that descriptor.
    with os.fdopen(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        out.write(key)
    return key
