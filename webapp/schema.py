"""Bring the database to the latest migration at start-up, so a fresh `python server.py` works.

Decision (docs/protocol.md, section 5): `python3 server.py` upgrades at start-up (webapp/startup.py)
whenever the database is not at the head revision of migrations/ (an empty database included);
building the app never does. Schema changes are always migrations, never create_all; set
VISUS_AUTO_MIGRATE=0 to run `flask --app webapp db upgrade` by hand instead.
"""

import os
import sqlite3
import stat

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from webapp.extensions import db


def head_revision(app: Flask) -> str | None:
    config = app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(app: Flask) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def cooperative_postgresql() -> None:
    """Under eventlet, psycopg2 waits for PostgreSQL through eventlet's hub, so one slow query does
    not stall every other socket of the process (psycopg2's wait callback, the way psycogreen does it)."""
    import psycopg2
    from eventlet.hubs import trampoline
    from psycopg2 import extensions

    def wait(connection, timeout=None) -> None:
        while True:
            state = connection.poll()
            if state == extensions.POLL_OK:
                return
            if state == extensions.POLL_READ:
                trampoline(connection.fileno(), read=True)
            elif state == extensions.POLL_WRITE:
                trampoline(connection.fileno(), write=True)
            else:
                raise psycopg2.OperationalError(f"unexpected state {state} from connection.poll()")

    extensions.set_wait_callback(wait)


def upgrade_if_behind(app: Flask) -> None:
    with app.app_context():
        if current_revision(app) != head_revision(app):
            upgrade()


SQLITE_FILE_MODE = 0o600  # health data: readable by the server's user only


def _private_file(path: str) -> None:
    """Create `path` empty with mode 0600 if it does not exist; narrow it to 0600 if it does."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, SQLITE_FILE_MODE))
    except OSError:
        return  # a read-only place, or no permission: SQLite's own open will tell
    if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
        os.chmod(path, SQLITE_FILE_MODE)


@event.listens_for(Engine, "do_connect")
def sqlite_files(dialect, connection_record, cargs, cparams) -> None:
    """Before SQLite opens its database. SQLite creates its file on the first connection, but not the
    folder: make it (the instance folder on a fresh machine), so `flask --app webapp db upgrade` works
    as the first command. Create the file with mode 0600, so the -wal and -shm files, which SQLite
    creates with its database's permissions, are 0600 too; files an earlier version created
    world-readable are narrowed."""
    if dialect.name != "sqlite":
        return
    path = cargs[0] if cargs else cparams.get("database")
    if not isinstance(path, str) or not path or path == ":memory:" or path.startswith("file:"):
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    _private_file(path)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            _private_file(f"{path}{suffix}")


def forget_deleted(session) -> None:
    """After a deletion was committed: copy the write-ahead log into the database and empty it, so
    what was deleted (overwritten in the database by secure_delete) is not left in older frames of
    visus.sqlite-wal. Best effort: a checkpoint that readers hold back finishes at a later one."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


@event.listens_for(Engine, "connect")
def sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys; write-ahead log so readers never wait for the writer and a
    commit costs one append (synchronous stays FULL: an acknowledged answer survives power loss);
    deleted content overwritten with zeros (secure_delete), so a deleted patient's data does not
    stay in free pages of the file."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()
