"""Bring the database to the latest migration at start-up, so a fresh `python server.py` works.

Decision (docs/protocol.md, section 5): `python3 server.py` upgrades at start-up (webapp/startup.py)
whenever the database is not at the head revision of migrations/ (an empty database included);
building the app never does. Schema changes are always migrations, never create_all; set
VISUS_AUTO_MIGRATE=0 to run `flask --app webapp db upgrade` by hand instead.
"""
import os
import sqlite3

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import event
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


@event.listens_for(Engine, "do_connect")
def sqlite_folder(dialect, connection_record, cargs, cparams) -> None:
    """SQLite creates its file on the first connection, but not the folder: make it then (the
    instance folder on a fresh machine), so `flask --app webapp db upgrade` works as the first command."""
    if dialect.name != "sqlite":
        return
    path = cargs[0] if cargs else cparams.get("database")
    if isinstance(path, str) and path and path != ":memory:" and not path.startswith("file:"):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)


@event.listens_for(Engine, "connect")
def sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys; write-ahead log so readers never wait for the writer and a
    commit costs one append (synchronous stays FULL: an acknowledged answer survives power loss)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()
