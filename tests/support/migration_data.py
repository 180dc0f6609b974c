"""The practices-and-patients migration on a database with real data (tests/test_migrations.py on
SQLite, tests/scaleout/test_migration_data.py on PostgreSQL).

Real data: two clinicians run tests through the app's own routes and sockets (answers, results,
calibrations, notes, audit entries); the database is then taken down to the revision before
practices and patients, where it has exactly the schema that revision built (checked against a fresh
database built up to it), and brought back up: what the old version stored must come through."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from tests.support.app import OTHER, a_session_with_everything, add_clinician, create_test, login

PRACTICES = "8d4f2a6c1e37"  # migrations/versions/8d4f2a6c1e37_practices_and_patients.py


def before_practices(app) -> str:
    """The revision the practices migration follows (read from migrations/, wherever it is chained)."""
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        return ScriptDirectory.from_config(config).get_revision(PRACTICES).down_revision


KEPT = {  # what the old version stored that must come through unchanged
    "eye_test": "SELECT session_id, eye, status, seed, result FROM eye_test",
    "trial": "SELECT eye_test_id, seq, logmar, responses, correct FROM trial",
    "calibration": "SELECT session_id, css_px_per_mm, viewing_distance_mm FROM calibration",
    "session_event": "SELECT session_id, kind, text FROM session_event",
    "test_session": "SELECT public_id, clinician_id, patient_reference, status FROM test_session",
    "audit_entry": "SELECT session_public_id, clinician_id, owner_id, action FROM audit_entry",
}


def rows(app, sql: str) -> list[tuple]:
    from webapp.extensions import db

    with app.app_context():
        db.session.remove()
        with db.engine.connect() as connection:
            return sorted(map(tuple, connection.execute(text(sql))), key=repr)


def schema(url: str) -> dict:
    """Tables, their columns and unique constraints: what a revision built."""
    engine = create_engine(url)
    try:
        found = inspect(engine)
        return {
            name: (
                sorted((c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(name)),
                sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(name)),
            )
            for name in found.get_table_names()
        }
    finally:
        engine.dispose()


def old_database_with_real_data(app, fresh_app_at_previous_revision) -> dict:
    """`app`'s database at the revision before practices, holding real tests of two clinicians;
    returns what must come through the upgrade."""
    add_clinician(app)
    add_clinician(app, OTHER)
    owner = login(app.test_client())
    other = login(app.test_client(), OTHER)
    a_session_with_everything(app, owner)  # Patient A, answered, calibrated, a note, a page event
    a_session_with_everything(app, owner, note="again")  # Patient A again
    create_test(owner, patient_reference="Patient B")
    a_session_with_everything(app, other, note="other's")  # the other clinician's own "Patient A"
    kept = {name: rows(app, sql) for name, sql in KEPT.items()}
    previous = before_practices(app)
    with app.app_context():
        downgrade(revision=previous)
    with fresh_app_at_previous_revision.app_context():
        upgrade(revision=previous)
    old, fresh = (schema(a.config["SQLALCHEMY_DATABASE_URI"]) for a in (app, fresh_app_at_previous_revision))
    old.pop("clinician_session", None), fresh.pop("clinician_session", None)
    assert old == fresh  # the database is as the previous version built and used it
    assert "patient" not in old and "practice_id" not in {c[0] for c in old["clinician"][0]}
    return kept


def check_carried_over(app, kept: dict) -> None:
    """After the upgrade: a practice per clinician, a patient per reference per practice, every
    test with its patient, every audit entry with its practice, nothing else changed, and the schema
    is the models' exactly."""
    from webapp.extensions import db

    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
    assert {name: rows(app, sql) for name, sql in KEPT.items()} == kept
    practices = rows(
        app,
        "SELECT c.email, c.is_practice_admin, p.name FROM clinician c JOIN practice p ON p.id = c.practice_id",
    )
    assert practices == [
        ("doc@example.org", True, "Practice of doc@example.org"),
        (OTHER, True, f"Practice of {OTHER}"),
    ]
    patients = rows(
        app,
        "SELECT c.email, pt.reference, COUNT(s.id) FROM test_session s JOIN patient pt ON pt.id = s.patient_id "
        "JOIN clinician c ON c.id = s.clinician_id AND c.practice_id = pt.practice_id "
        "GROUP BY c.email, pt.reference",
    )
    assert patients == [
        ("doc@example.org", "Patient A", 2),
        ("doc@example.org", "Patient B", 1),
        (OTHER, "Patient A", 1),
    ]
    assert rows(app, "SELECT COUNT(*) FROM patient") == [(3,)]
    assert rows(app, "SELECT COUNT(*) FROM test_session WHERE patient_id IS NULL") == [(0,)]
    unmatched = (
        "SELECT COUNT(*) FROM audit_entry a JOIN clinician c ON c.id = a.owner_id WHERE a.practice_id <> c.practice_id"
    )
    assert rows(app, unmatched) == [(0,)]
    assert rows(app, "SELECT COUNT(*) FROM audit_entry WHERE practice_id IS NULL") == [(0,)]


def check_the_app_works_on_it(app) -> None:
    """The carried-over data through the app: the patient's page has both tests, the other practice nothing."""
    owner = login(app.test_client())
    other = login(app.test_client(), OTHER)
    from webapp.extensions import db
    from webapp.models import Patient

    with app.app_context():
        db.session.remove()
        patient_ids = {p.reference + "|" + str(p.practice_id): p.public_id for p in db.session.query(Patient)}
    mine = patient_ids["Patient A|1"]
    page = owner.get(f"/patients/{mine}").get_data(as_text=True)
    assert page.count("data-session=") == 2 and "reads slowly" not in page
    assert other.get(f"/patients/{mine}").status_code == 404
    assert owner.get("/").status_code == 200 and owner.get("/exports/results.csv").status_code == 200
