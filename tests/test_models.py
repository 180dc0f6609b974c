"""The database: migrations match the models, and an answer can be stored only once."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from tests.support.app import make_app, with_schema
from webapp.extensions import db
from webapp.models import Clinician, EyeTest, Patient, Practice, TestSession, Trial, utcnow


def test_migrations_build_exactly_the_schema_of_the_models(tmp_path):
    app = with_schema(make_app(tmp_path / "fresh.sqlite"))  # a fresh file, brought through migrations/
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
            assert context.get_current_revision() is not None
        assert "trial" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_start_up_leaves_a_current_database_alone(db_path):
    app = make_app(db_path)
    with app.app_context():
        from webapp.schema import current_revision, head_revision

        assert current_revision(app) == head_revision(app)
        db.engine.dispose()


def test_a_trial_index_is_stored_once_per_eye_test(app):
    with app.app_context():
        _, eye = _session_with_an_eye(seed=1)
        row = dict(index=0, seq=1, logmar=0.3, optotypes=["C"], responses=["C"], correct=[True], scored_by="patient")
        db.session.add(Trial(eye_test_id=eye.id, **row))
        db.session.commit()
        db.session.add(Trial(eye_test_id=eye.id, **{**row, "seq": 2}))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_a_kept_procedure_is_reused_only_when_it_matches_the_stored_history(app):
    from acuity.procedure import ProcedureConfig
    from webapp.live import procedures as p

    with app.app_context():
        _, eye = _session_with_an_eye(ProcedureConfig(procedure="adaptive", min_logmar=-0.3, max_logmar=1.0).to_dict())
        eye_id = eye.id

        procedure = p.rebuild(eye)
        first = procedure.next_presentation()
        procedure.record(first, list(first.optotypes))  # recorded, then the transaction rolls back
        p.remember(eye, procedure)
        db.session.rollback()
        again = p.rebuild(eye)
        assert again is not procedure and again.history == []

        record = again.record(first, list(first.optotypes))
        p.add_trial(
            eye,
            p.trial_row(
                eye, record, seq=1, scored_by="patient", response_time_ms=None, height_css_px=None, presented_at=None
            ),
        )
        p.remember(eye, again)
        db.session.commit()  # kept once stored
        db.session.remove()
        eye = db.session.get(EyeTest, eye_id)
        assert p.rebuild(eye) is again  # matches what is stored: reused, without loading the trials
        assert "trials" in inspect(eye).unloaded
        p.remember(eye, again)
        db.session.commit()

        # Another process stores the next answer: this one's kept procedure is one trial behind.
        second = again.next_presentation()
        db.session.add(
            Trial(
                eye_test_id=eye_id,
                index=second.index,
                seq=2,
                logmar=second.logmar,
                optotypes=list(second.optotypes),
                responses=[None] * len(second.optotypes),
                correct=[False] * len(second.optotypes),
                scored_by="patient",
            )
        )
        db.session.commit()
        replayed = p.rebuild(db.session.get(EyeTest, eye_id))
        assert replayed is not again and len(replayed.history) == 2
        assert list(replayed.history[1].responses) == [None] * len(second.optotypes)


def _session_with_an_eye(procedure_config=None, seed: int = 5) -> tuple[TestSession, EyeTest]:
    """A stored session of one practice's patient with one eye test (inside an app context)."""
    practice = Practice(name="p")
    session = TestSession(
        public_id="p",
        clinician=Clinician(email="a@example.org", password_hash="x", practice=practice),
        patient=Patient(public_id="q", practice=practice, reference="r"),
        patient_reference="r",
        config={},
        invite_token_hash="h",
        invite_expires_at=utcnow(),
    )
    eye = EyeTest(eye="right", order_index=0, seed=seed, procedure_config=procedure_config)
    session.eye_tests.append(eye)
    db.session.add(session)
    db.session.commit()
    return session, eye


def test_a_kept_procedure_is_checked_against_the_index_of_the_trial_on_screen(app):
    """While a trial is on screen its index is the count of stored trials: a kept procedure one
    trial behind (another process answered and put up the next) is replayed, not reused."""
    from acuity.procedure import ProcedureConfig
    from webapp.live import procedures as p

    with app.app_context():
        config = ProcedureConfig(procedure="adaptive", min_logmar=-0.3, max_logmar=1.0).to_dict()
        _, eye = _session_with_an_eye(config)
        procedure = p.rebuild(eye)
        first = procedure.next_presentation()
        eye.pending = {"trial_id": "right-0", "seq": 1, "index": first.index, "logmar": first.logmar}
        p.remember(eye, procedure)
        db.session.commit()
        assert p.rebuild(eye) is procedure  # the trial on screen is the one it would show next
        p.remember(eye, procedure)
        eye.pending = {**eye.pending, "index": first.index + 1, "seq": 2}  # as after another's answer
        db.session.commit()
        assert p.rebuild(eye) is not procedure


def test_changed_rows_are_written_by_prepared_updates_and_the_rest_by_the_flush(app):
    """webapp.live.procedures.write_changed_rows: columns of changed rows are stored and the rows
    are clean for the flush; a row whose relationships changed is left to the flush, which stores it."""
    from webapp.live.procedures import write_changed_rows
    from webapp.models import SessionEvent

    with app.app_context():
        session, eye = _session_with_an_eye()
        session_id, eye_id = session.id, eye.id
        eye.pending = {"trial_id": "right-0", "seq": 7, "index": 0}
        session.seq = 7
        write_changed_rows()
        assert not db.session.dirty  # nothing left for the unit of work
        db.session.commit()
        db.session.remove()
        assert db.session.get(EyeTest, eye_id).pending == {"trial_id": "right-0", "seq": 7, "index": 0}
        assert db.session.get(TestSession, session_id).seq == 7

        session = db.session.get(TestSession, session_id)
        session.paused_reason = "clinician"
        session.events.append(SessionEvent(kind="note", device="clinician", detail={}, created_at=utcnow()))
        write_changed_rows()
        assert session in db.session.dirty  # a relationship changed: the flush writes the row
        db.session.commit()
        db.session.remove()
        stored = db.session.get(TestSession, session_id)
        assert stored.paused_reason == "clinician" and len(stored.events) == 1
