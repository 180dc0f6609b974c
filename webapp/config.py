"""Configuration read from the environment; every setting has a safe default for one machine."""
import os
import secrets
from pathlib import Path


def load_secret_key(instance_path: str) -> str:
    """The secret key from VISUS_SECRET_KEY, or one generated once into the instance folder.

    Never a default in code: a fixed key would let anyone forge a session cookie.
    """
    from_env = os.environ.get("VISUS_SECRET_KEY")
    if from_env:
        return from_env
    key_file = Path(instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created 0600 (never readable by others, not even for a moment), written through that descriptor.
    with os.fdopen(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        out.write(key)
    return key


def database_url(value: str | None) -> str | None:
    if value and value.startswith("postgres://"):
        return "postgresql://" + value[len("postgres://"):]
    return value or None


class Config:
    # Socket.IO async mode: set explicitly (installing eventlet changes the automatic choice).
    # "eventlet" in production; tests that use Flask-SocketIO's test client use "threading".
    SOCKETIO_ASYNC_MODE = os.environ.get("VISUS_ASYNC_MODE", "eventlet")
    # None: SQLite in the instance folder. PostgreSQL: postgresql://user:password@host:port/name
    # (psycopg2; the "postgres://" some hosts hand out is the same). docs/deploy.md.
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    # Redis: Socket.IO's message queue between server processes, and the rate-limit storage.
    REDIS_URL = os.environ.get("REDIS_URL")
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    # Proxies in front that set X-Forwarded-For/-Proto (nginx, deploy/: 1). Leave 0 when clients reach
    # the server directly: the headers would then be the client's to forge (rate limits are per address).
    PROXIES = int(os.environ.get("VISUS_PROXIES", "0"))
    PUBLIC_URL = os.environ.get("VISUS_PUBLIC_URL")  # base of the links sent to patients (webapp/links.py)
    # A change between two tests of the same patient larger than the test-retest limit is flagged
    # (ETDRS letter-by-letter test-retest limits +/-0.10 to +/-0.18 logMAR: Arditi 1993, Rosser 2003).
    HISTORY_CHANGE_LIMIT_LOGMAR = float(os.environ.get("VISUS_HISTORY_CHANGE_LIMIT_LOGMAR", "0.15"))
    INVITE_TTL_HOURS = float(os.environ.get("VISUS_INVITE_TTL_HOURS", "24"))
    # A clinician's sign-in ends after this long without a request or socket event, and this long after
    # it began whatever happens (NIST SP 800-63B 4.2.3, AAL2: 30 minutes, 12 hours; docs/security.md).
    SESSION_IDLE_MINUTES = float(os.environ.get("VISUS_SESSION_IDLE_MINUTES", "30"))
    SESSION_MAX_HOURS = float(os.environ.get("VISUS_SESSION_MAX_HOURS", "12"))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Run migrations at start-up when the database is behind (see webapp/schema.py).
    AUTO_MIGRATE = os.environ.get("VISUS_AUTO_MIGRATE", "1") != "0"
