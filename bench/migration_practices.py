"""How long the practices-and-patients migration (migrations/versions/8d4f2a6c1e37) takes on a large
SQLite database: what an upgrade at start-up costs a practice that has used Visus for years.

    python bench/migration_practices.py [--clinicians 5] [--sessions 20000] [--patients 5000]

Builds a database at the revision before it, fills it with clinicians, sessions (several per patient
reference, each with two eyes) and audit lines, then times `upgrade` to the head. Prints the seconds
and the rows carried over. (A timing, so a benchmark, not a test: tests/test_migrations.py checks
what the migration does.)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402

PRACTICES = "8d4f2a6c1e37"


def fill(clinicians: int, sessions: int, patients: int) -> None:
    now = "2025-01-01 10:00:00"
    db.session.execute(
        text("INSERT INTO clinician (id, email, password_hash, created_at) VALUES (:id, :email, 'x', :at)"),
        [{"id": c + 1, "email": f"c{c}@example.org", "at": now} for c in range(clinicians)],
    )
    rows, eyes, audit = [], [], []
    for s in range(sessions):
        rows.append(
            {
                "id": s + 1,
                "public_id": f"s{s}",
                "clinician_id": s % clinicians + 1,
                "reference": f"Patient {s % patients}",
                "token": f"t{s}",
                "at": now,
            }
        )
        eyes += [{"session": s + 1, "eye": eye, "order": i} for i, eye in enumerate(("right", "left"))]
        audit += [{"public_id": f"s{s}", "owner": s % clinicians + 1, "at": now} for _ in range(5)]
    db.session.execute(
        text(
            "INSERT INTO test_session (id, public_id, clinician_id, patient_reference, config, status, created_at,"
            " show_results, invite_token_hash, invite_expires_at, current_eye_index, seq)"
            " VALUES (:id, :public_id, :clinician_id, :reference, '{}', 'done', :at, 0, :token, :at, 0, 0)"
        ),
        rows,
    )
    db.session.execute(
        text(
            "INSERT INTO eye_test (session_id, eye, order_index, status, seed)"
            " VALUES (:session, :eye, :order, 'done', 1)"
        ),
        eyes,
    )
    db.session.execute(
        text(
            "INSERT INTO audit_entry (session_public_id, clinician_id, owner_id, action, detail, created_at)"
            " VALUES (:public_id, :owner, :owner, 'report_view', '{}', :at)"
        ),
        audit,
    )
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clinicians", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=20000)
    parser.add_argument("--patients", type=int, default=5000, help="distinct references per clinician at most")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite", "SECRET_KEY": "bench"})
        with app.app_context():
            from alembic.script import ScriptDirectory

            script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
            upgrade(revision=script.get_revision(PRACTICES).down_revision)  # just before the practices
            fill(args.clinicians, args.sessions, args.patients)
            db.session.remove()
            start = time.perf_counter()
            upgrade(revision=PRACTICES)
            elapsed_s = time.perf_counter() - start
            counts = {
                table: db.session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
                for table in ("practice", "patient", "test_session", "audit_entry")
            }
            db.session.remove()
            db.engine.dispose()
    print(
        f"upgrade through {PRACTICES}: {elapsed_s:.2f} s for {args.sessions} sessions of {args.clinicians} clinicians"
    )
    print("rows after: " + ", ".join(f"{table} {n}" for table, n in counts.items()))


if __name__ == "__main__":
    main()
