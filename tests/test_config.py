"""Configuration: one registry of environment variables (webapp/config.py), the README's table of them,
and a factory without side effects (building the app changes no row and writes no file; start-up work
is webapp/startup.py, run by server.py)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import traceback
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.app import PASSWORD, TEST_CONFIG, add_clinician, create_test, login, make_app
from webapp import config, create_app

ROOT = Path(__file__).resolve().parents[1]
OUR_CODE = [str(ROOT / name) for name in ("webapp", "calibration", "acuity", "migrations", "server.py")]


def readme_settings() -> dict[str, str]:
    """{variable: default} from the README's table whose first column is "variable"."""
    text = (ROOT / "README.md").read_text()
    table = re.search(r"^\| variable \| default \| what it sets \|\n\|[-|]+\|\n((?:\|.*\n)+)", text, re.M)
    assert table, "README.md: no '| variable | default | what it sets |' table"
    rows = {}
    for line in table.group(1).splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        names = re.findall(r"`([A-Z_]+)`", cells[0])
        assert len(names) == 1, f"one variable per row: {line}"
        rows[names[0]] = cells[1]
    return rows


def test_the_readme_table_lists_every_setting_with_its_default_and_nothing_else():
    documented = readme_settings()
    assert set(documented) == {setting.env for setting in config.SETTINGS}
    for setting in config.SETTINGS:
        assert documented[setting.env] == setting.default_text, setting.env


def test_unset_or_empty_variables_give_the_defaults_and_a_bad_value_names_its_variable():
    defaults = config.from_environ({})
    assert defaults == config.from_environ({setting.env: "" for setting in config.SETTINGS})
    assert defaults["PORT"] == 5000 and defaults["AUTO_MIGRATE"] is True and defaults["SECURE_COOKIES"] is False
    assert defaults["SECRET_KEY"] is None and defaults["RETENTION_DAYS"] is None
    assert (
        config.from_environ({"DATABASE_URL": "postgres://u@h/db"})["SQLALCHEMY_DATABASE_URI"] == "postgresql://u@h/db"
    )
    assert config.from_environ({"VISUS_AUTO_MIGRATE": "0", "VISUS_SECURE_COOKIES": "yes"})["AUTO_MIGRATE"] is False
    for name, value in [
        ("VISUS_PORT", "http"),
        ("VISUS_SECURE_COOKIES", "maybe"),
        ("VISUS_ASYNC_MODE", "gevent"),
        ("VISUS_SOCKET_RATE_LIMIT", "fast"),
        ("VISUS_INVITE_TTL_HOURS", "a day"),
        ("VISUS_NOTATION", "snellen"),
    ]:
        with pytest.raises(ValueError, match=name):
            config.from_environ({name: value})


class RecordingEnviron(dict):
    """os.environ that remembers which of our own modules read which variable."""

    def __init__(self, values):
        super().__init__(values)
        self.reads: set[tuple[str, str]] = set()

    def _record(self, key):
        reader = traceback.extract_stack()[-3]  # who called get() or [] or in (libraries are not ours)
        if any(reader.filename.startswith(path) for path in OUR_CODE):
            self.reads.add((key, os.path.relpath(reader.filename, ROOT)))

    def get(self, key, default=None):
        self._record(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self._record(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self._record(key)
        return super().__contains__(key)


def test_only_webapp_config_reads_the_environment(db_path, monkeypatch):
    """Build the app, start it up, serve pages and socket events: every variable our code reads is
    read by webapp/config.py, and is in its registry."""
    from webapp.startup import start_up

    environ = RecordingEnviron(
        {
            **os.environ,
            "VISUS_ASYNC_MODE": "threading",
            "VISUS_SECRET_KEY": "k",
            "DATABASE_URL": f"sqlite:///{db_path}",
            "VISUS_RETENTION_DAYS": "30",
        }
    )
    monkeypatch.setattr(os, "environ", environ)
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1"})
    start_up(app)
    add_clinician(app)
    client = login(app.test_client())
    create_test(client)
    assert client.get("/").status_code == 200
    readers = {path for _, path in environ.reads}
    assert readers == {"webapp/config.py"}, environ.reads
    assert {key for key, _ in environ.reads} == {setting.env for setting in config.SETTINGS}


def test_production_hashes_passwords_with_scrypt_and_the_tests_with_a_cheap_method(db_path):
    from webapp.extensions import db
    from webapp.models import Clinician

    assert config.from_environ({}).get("PASSWORD_HASH_METHOD") is None  # not settable from the environment
    production = make_app(db_path, **{key: value for key, value in config.FIXED.items()})
    assert production.config["PASSWORD_HASH_METHOD"] == "scrypt"
    add_clinician(production, "prod@example.org")
    tests = make_app(db_path)
    add_clinician(tests, "test@example.org")
    with tests.app_context():
        hashes = dict(db.session.execute(db.select(Clinician.email, Clinician.password_hash)).all())
    assert hashes["prod@example.org"].startswith("scrypt:")
    assert hashes["test@example.org"].startswith(TEST_CONFIG["PASSWORD_HASH_METHOD"] + "$")
    assert login(tests.test_client(), "prod@example.org")  # either kind signs in
    assert login(tests.test_client(), "test@example.org")


def test_the_session_cookie_is_secure_only_when_asked(db_path, monkeypatch):
    """VISUS_SECURE_COOKIES (an https:// VISUS_PUBLIC_URL too: tests/test_security.py)."""

    def cookies(**config):
        app = make_app(db_path, **config)
        response = app.test_client().post("/login", data={"email": "doc@example.org", "password": PASSWORD})
        assert response.status_code == 302
        return response.headers.getlist("Set-Cookie")

    add_clinician(make_app(db_path))
    assert not any("Secure" in cookie for cookie in cookies())  # the default: VISUS_SECURE_COOKIES unset
    monkeypatch.setenv("VISUS_SECURE_COOKIES", "1")
    secure = cookies()
    assert secure and all("Secure" in cookie for cookie in secure)


# ---- the factory has no side effects -------------------------------------------------------------------


def rows_of(path: Path) -> dict[str, list]:
    """Every row, read with sqlite3 (closed after: SQLite removes its -wal and -shm files then)."""
    with closing(sqlite3.connect(path)) as connection:
        names = [n for (n,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: sorted(map(repr, connection.execute(f'SELECT * FROM "{name}"'))) for name in names}


def files_under(folder: Path) -> dict[str, int]:
    return {str(path.relative_to(folder)): path.stat().st_mtime_ns for path in folder.rglob("*")}


@pytest.fixture
def instance_with_data(app, clinician_client, db_path, tmp_path):
    """An instance folder holding a SQLite database with a clinician and two sessions, one of them
    created 40 days ago (expired under a 30-day retention), its app's connections closed."""
    from webapp.extensions import db
    from webapp.models import TestSession, utcnow

    old_id, _ = create_test(clinician_client)
    create_test(clinician_client, patient_reference="Patient B")
    with app.app_context():
        db.session.execute(
            db.update(TestSession)
            .where(TestSession.public_id == old_id)
            .values(created_at=utcnow() - timedelta(days=40))
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert db_path.parent == tmp_path
    return tmp_path


def environment(folder: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("VISUS_")}
    return {
        **env,
        "VISUS_INSTANCE_PATH": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'test.sqlite'}",
        "VISUS_RETENTION_DAYS": "30",
    }


def test_building_the_app_changes_no_row_and_writes_no_file(instance_with_data, monkeypatch):
    folder = instance_with_data
    rows, files = rows_of(folder / "test.sqlite"), files_under(folder)
    assert "Patient A" in repr(rows)  # the expired session is there to be (wrongly) purged
    monkeypatch.setattr(os, "environ", {**environment(folder), "VISUS_ASYNC_MODE": "threading"})
    app = create_app()  # no secret key anywhere: none is generated either
    assert app.config["RETENTION_DAYS"] == 30 and app.config["SECRET_KEY"] is None
    assert files_under(folder) == files
    assert rows_of(folder / "test.sqlite") == rows


def test_flask_routes_leaves_the_data_alone(instance_with_data):
    folder = instance_with_data
    rows, files = rows_of(folder / "test.sqlite"), files_under(folder)
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", "routes"],
        cwd=ROOT,
        env=environment(folder),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "/healthz" in done.stdout
    assert files_under(folder) == files
    assert rows_of(folder / "test.sqlite") == rows


def test_start_up_does_the_work_the_factory_leaves(instance_with_data, monkeypatch):
    """What server.py runs first: the secret key made, expired sessions purged, stored sids forgotten."""
    from webapp.startup import start_up

    folder = instance_with_data
    monkeypatch.setattr(os, "environ", {**environment(folder), "VISUS_ASYNC_MODE": "threading"})
    app = create_app()
    start_up(app)
    assert app.config["SECRET_KEY"] == (folder / "secret_key").read_text().strip()
    rows = repr(rows_of(folder / "test.sqlite"))
    assert "Patient A" not in rows and "Patient B" in rows


def test_on_a_fresh_machine_routes_writes_nothing_and_db_upgrade_creates_the_database(tmp_path):
    folder = tmp_path / "instance"  # does not exist yet
    env = {**environment(folder), "DATABASE_URL": ""}  # the default: SQLite in the instance folder

    def flask(*args):
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "webapp", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr

    flask("routes")
    assert list(tmp_path.iterdir()) == []
    flask("db", "upgrade")
    with closing(sqlite3.connect(folder / "visus.sqlite")) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone()
