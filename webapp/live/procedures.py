"""An eye's procedure and its stored trials: rebuilt from the database, kept between events.

The procedure of an eye is a pure function of its frozen ProcedureConfig, its seed and its answered
trials (acuity.procedure.replay), so everything needed to continue a test is in the database. To
save the replay, the procedure of the last committed event is kept in memory and reused while it
still matches what is stored (see the cache below).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

from sqlalchemy import bindparam, event, func, insert, inspect, or_, select, update
from sqlalchemy.orm import Session, joinedload

import acuity.procedures  # noqa: F401  (imported at start-up, not by a patient's first `ready`: see below)
from acuity.procedure import DistanceStep, Presentation, Procedure, ProcedureConfig, TrialRecord, replay
from webapp.extensions import db
from webapp.models import EyeTest, Patient, TestSession, Trial, utcnow

# What a live event reads: the session with its eyes and calibrations, in one statement (a join:
# one or two eyes times the test's calibrations, at most CALIBRATIONS_PER_SESSION, usually one or
# two). selectinload's two extra statements cost about 3 ms of CPU an event against about 0.2 ms
# for the join (issue 12, in-process timing). Not the trials: an answer needs none of them (see
# `rebuild`) but the one it may repeat (`stored_trial`); loading them all cost about 2.5 ms.
# The patient and its practice: every number sent is written in the practice's notation
# (webapp.serializers.notation_style); loaded lazily they were two more statements an event, the
# largest single cost of an answer (about 1.5 ms of CPU, issue 12, cProfile of the answer path),
# and ten of a test's set-up's 40 statements.
LIVE_SESSION_LOAD = (
    joinedload(TestSession.eye_tests),
    joinedload(TestSession.calibrations),
    joinedload(TestSession.patient).joinedload(Patient.practice),
)


def load_live_session(*where) -> TestSession | None:
    """The one session matching `where`, loaded as every live event reads it (LIVE_SESSION_LOAD)."""
    return db.session.execute(select(TestSession).where(*where).options(*LIVE_SESSION_LOAD)).unique().scalar()


# The session of a patient device's socket, for every event it sends: one statement built once, so
# SQLAlchemy finds its compiled form by a cache key computed once (building the statement and its
# key again at each event cost about 0.5 ms of CPU, issue 12).
_SESSION_OF_SOCKET = (
    select(TestSession)
    .where(or_(TestSession.display_sid == bindparam("sid"), TestSession.pad_sid == bindparam("sid")))
    .options(*LIVE_SESSION_LOAD)
)


def live_session_of_socket(sid: str) -> TestSession | None:
    """The session whose display or pad is the socket `sid`, loaded as every live event reads it."""
    return db.session.execute(_SESSION_OF_SOCKET, {"sid": sid}).unique().scalar()


def procedure_config(eye_test: EyeTest) -> ProcedureConfig:
    assert eye_test.procedure_config is not None, "the eye has not started"
    return ProcedureConfig.from_dict(eye_test.procedure_config)


def distance_steps(eye_test: EyeTest) -> list[DistanceStep]:
    """The eye's moves closer (low vision), replayed with its trials."""
    return [DistanceStep.from_dict(step) for step in eye_test.distance_steps or ()]


def history(eye_test: EyeTest) -> list[tuple[Presentation, list[str | None]]]:
    return [
        (Presentation(trial.index, trial.logmar, tuple(trial.optotypes)), list(trial.responses))
        for trial in eye_test.trials
    ]


# Replaying a Bayesian procedure costs a posterior update per stored trial, so each answer would
# cost O(trials). A procedure's state is a pure function of (config, seed, history), and stored
# trials are only ever added (never changed, never removed but with their eye). So a procedure is
# kept only once the transaction that stored its history has committed, and reused only while its
# eye still has exactly that many trials, with the same config and seed: another process's answer,
# a rollback or a restart just misses the cache, which can never disagree with the database.
_CACHE_SIZE = 1024
_cache: OrderedDict[int, Procedure] = OrderedDict()
_cache_lock = threading.Lock()
_PENDING = "visus_procedures_to_remember"  # Session.info key: kept once the transaction commits


def _trials_loaded(eye_test: EyeTest) -> bool:
    return "trials" not in inspect(eye_test).unloaded


def trial_count(eye_test: EyeTest) -> int:
    if _trials_loaded(eye_test):
        return len(eye_test.trials)
    return db.session.scalar(select(func.count()).select_from(Trial).where(Trial.eye_test_id == eye_test.id))


def stored_count_matches(eye_test: EyeTest, count: int) -> bool:
    """Whether the eye has exactly `count` stored trials.

    Without a query while a trial is on screen: a trial's index is the number of trials stored
    before it (acuity.procedure.Presentation, checked by `record` and `replay`), and every
    transaction that stores a trial also replaces or clears `pending`, so the committed `pending`
    index is the stored count. Otherwise (no trial on screen: the manual procedure between sizes,
    a finished eye) the trials are counted.
    """
    pending = eye_test.pending
    if pending and "index" in pending:
        return pending["index"] == count
    return trial_count(eye_test) == count


def rebuild(eye_test: EyeTest) -> Procedure:
    """The eye's procedure in the exact state it had after its last stored answer.

    The caller owns the returned object (it may record into it); `remember` offers it back.
    """
    config = procedure_config(eye_test)
    with _cache_lock:
        cached = _cache.pop(eye_test.id, None)
    if (
        cached is not None
        and cached.config == config
        and cached.seed == eye_test.seed
        and cached.steps == distance_steps(eye_test)
        and stored_count_matches(eye_test, len(cached.history))
    ):
        return cached
    return replay(config, eye_test.seed, history(eye_test), steps=distance_steps(eye_test))


def start(eye_test: EyeTest) -> Procedure:
    """The procedure of an eye that starts now (`pending` -> active in this transaction): no trial
    is stored for an eye before it starts, so this is `rebuild` without reading its trials."""
    return replay(procedure_config(eye_test), eye_test.seed, (), steps=distance_steps(eye_test))


def remember(eye_test: EyeTest, procedure: Procedure) -> None:
    """Keep a procedure for the next event on this eye, once this transaction has committed."""
    db.session.info.setdefault(_PENDING, []).append((eye_test.id, procedure))


@event.listens_for(Session, "after_commit")
def _keep_committed(session: Session) -> None:
    with _cache_lock:
        for eye_test_id, procedure in session.info.pop(_PENDING, ()):
            _cache[eye_test_id] = procedure
            _cache.move_to_end(eye_test_id)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction) -> None:
    if transaction.parent is None:  # after a commit the list is gone already; after a rollback, drop it
        session.info.pop(_PENDING, None)


# acuity.procedure.build_procedure imports the procedures (and numpy) on its first call; imported
# here they load when the app is built, so the first test set-up of a process does not pay for it
# (about 100 ms), and server.py's gc.freeze() keeps them out of every later collection.

# ---- the stored trials of an eye ---------------------------------------------------------------


def stored_trial(eye_test: EyeTest, index: int) -> Trial | None:
    """The stored trial `index` of an eye, if it was answered (one row, not the whole history)."""
    return db.session.scalar(select(Trial).where(Trial.eye_test_id == eye_test.id, Trial.index == index))


# The columns a new trial row is written with (its id comes from the database).
_TRIAL_COLUMNS = tuple(column.key for column in Trial.__table__.columns if column.key != "id")
_INSERT_TRIAL = insert(Trial.__table__)


def add_trial(eye_test: EyeTest, trial: Trial) -> None:
    """Store a new trial without loading the eye's stored trials first.

    One prepared INSERT on the transaction's connection: the ORM's unit of work would cost about
    2 ms of CPU an answer for this row (issue 12). `trial` stays a plain object (the messages read
    it); a duplicate answer breaks the unique constraint here, inside the event's transaction.
    """
    if _trials_loaded(eye_test):
        eye_test.trials.append(trial)
        return
    db.session.connection().execute(_INSERT_TRIAL, {key: getattr(trial, key) for key in _TRIAL_COLUMNS})


# ---- writing changed rows without the unit of work ---------------------------------------------

_UPDATES: dict[tuple, object] = {}  # (table, changed columns) -> a prepared UPDATE


def _prepared_update(table, keys: tuple[str, ...]):
    statement = _UPDATES.get((table, keys))
    if statement is None:
        (pk,) = table.primary_key.columns
        statement = update(table).where(pk == bindparam("pk_")).values({key: bindparam(f"v_{key}") for key in keys})
        _UPDATES[(table, keys)] = statement
    return statement


def _keys_of(mapper) -> tuple[frozenset[str], frozenset[str]]:
    """The column and relationship attribute keys of a mapped class."""
    keys = _MAPPER_KEYS.get(mapper)
    if keys is None:
        keys = frozenset(a.key for a in mapper.column_attrs), frozenset(r.key for r in mapper.relationships)
        _MAPPER_KEYS[mapper] = keys
    return keys


_MAPPER_KEYS: dict[object, tuple[frozenset[str], frozenset[str]]] = {}


def write_changed_rows() -> None:
    """Write each changed row of the ORM session with one prepared UPDATE of its changed columns,
    and mark it unchanged, so the commit's flush has nothing left to do for it.

    A live event changes a few columns of one or two rows (an answer: the eye's `pending`, the
    session's `seq`); the unit of work's planning for them cost about 2 ms of CPU an answer
    (issue 12). A row whose relationships changed (a calibration appended) is left to the flush,
    as are new rows. Same transaction, same values: only the planning is skipped. The columns set
    since the row was loaded are the keys of its `committed_state` (where SQLAlchemy keeps their
    loaded values): reading it, not every attribute's history, costs a few microseconds a row; a
    column set to the value it had is written again, unchanged.
    """
    for obj in list(db.session.dirty):
        state = inspect(obj)
        set_keys = state.committed_state.keys()
        columns, relationships = _keys_of(state.mapper)
        if not set_keys or not set_keys.isdisjoint(relationships) or not set_keys <= state.dict.keys():
            continue  # nothing set, a relationship changed, or a value not loaded: the flush does it
        keys = tuple(sorted(set_keys & columns))
        if not keys:
            continue
        statement = _prepared_update(state.mapper.local_table, keys)
        db.session.connection().execute(
            statement, {"pk_": state.identity[0], **{f"v_{key}": state.dict[key] for key in keys}}
        )
        # What the flush does after writing a row (SQLAlchemy 2.0, pinned in requirements.txt): its
        # values become the committed ones and it leaves the session's set of modified rows.
        state._commit_all(state.dict, db.session.identity_map)


def pending_presentation(eye_test: EyeTest) -> Presentation | None:
    pending = eye_test.pending
    if not pending:
        return None
    return Presentation(pending["index"], pending["logmar"], tuple(pending["optotypes"]))


def trial_row(
    eye_test: EyeTest,
    record: TrialRecord,
    *,
    seq: int,
    scored_by: str,
    response_time_ms: float | None,
    height_css_px: float | None,
    presented_at: str | None,
) -> Trial:
    return Trial(
        eye_test_id=eye_test.id,
        index=record.presentation.index,
        seq=seq,
        logmar=record.presentation.logmar,
        optotypes=list(record.presentation.optotypes),
        responses=list(record.responses),
        correct=list(record.correct),
        response_time_ms=response_time_ms,
        height_css_px=height_css_px,
        scored_by=scored_by,
        presented_at=datetime.fromisoformat(presented_at.rstrip("Z")) if presented_at else None,
        answered_at=utcnow(),
    )
