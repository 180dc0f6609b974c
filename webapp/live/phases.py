"""The live test's state machine: its phases, pause reasons and statuses, and which command may
move a test from where it is (the one table of it; docs/protocol.md, "Phases", is checked against
it by tests/test_phases.py).

A test's *phase* is what the patient's screens draw (`state.phase`, the wire value). Where a
command's answer depends on more than the phase, the table is keyed by the *situation*: the phase,
refined by the pause reason (`paused:clinician`) and by `ready:awaiting_ready` (calibrated again in
the middle of an eye). Every command of the engine (webapp/live/commands.py) asks `check` first;
`actions` lists, from the same table, what a sender may do now (leaving out repeats, which change
nothing).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from webapp import events as ev
from webapp.i18n import N_
from webapp.live.errors import LiveError

if TYPE_CHECKING:
    from webapp.models import TestSession


class Phase(StrEnum):
    WELCOME = "welcome"  # no consent yet
    CALIBRATE = "calibrate"  # consented, no valid calibration
    READY = "ready"  # calibrated, waiting for the patient's `ready` (first eye, or after a new calibration)
    TESTING = "testing"  # a trial is current (the manual procedure: maybe none until `present`)
    PAUSED = "paused"  # held (see PauseReason)
    BETWEEN_EYES = "between_eyes"  # an eye finished, waiting for `ready` for the next
    DONE = "done"  # every eye finished, or the clinician ended the test


class PauseReason(StrEnum):
    PAGE_HIDDEN = "page_hidden"  # the display's page was hidden during a trial: the patient's `ready` ends it
    AWAITING_READY = "awaiting_ready"  # calibrated again mid-eye: phase `ready` until the patient's `ready`
    CLINICIAN = "clinician"  # only the clinician's `resume` ends it
    SIZE_NOT_DRAWABLE = "size_not_drawable"  # the next size cannot be drawn: the clinician `present`s another
    DISTANCE = "distance"  # the webcam guard saw the patient off their mark: back in place ends it


# The reason of the pad's `paused` when the calibration is voided (the display gets `recalibrate`);
# never stored: the test is then in phase `calibrate`, whatever `paused_reason` holds.
PAD_PAUSED_FOR_RECALIBRATION = "recalibrate"


class Status(StrEnum):
    """TestSession.status."""

    INVITED = "invited"  # link not used yet
    ACTIVE = "active"  # the patient consented
    DONE = "done"  # every eye finished
    ENDED = "ended"  # the clinician ended it


CLOSED = (Status.DONE, Status.ENDED)


class EyeStatus(StrEnum):
    """EyeTest.status."""

    PENDING = "pending"
    ACTIVE = "active"
    DONE = "done"
    SKIPPED = "skipped"


def phase(session: TestSession) -> Phase:
    """The phase of a test, from what is stored."""
    if session.status in CLOSED:
        return Phase.DONE
    if not session.consent_at:
        return Phase.WELCOME
    if session.current_calibration is None:
        return Phase.CALIBRATE
    if session.paused_reason and session.paused_reason != PauseReason.AWAITING_READY:
        return Phase.PAUSED
    eye = session.current_eye_test
    if eye is None:
        return Phase.DONE
    if eye.status == EyeStatus.PENDING:
        return Phase.READY if eye.order_index == 0 else Phase.BETWEEN_EYES
    if session.paused_reason == PauseReason.AWAITING_READY:
        return Phase.READY
    return Phase.TESTING


# ---- situations: the phase, refined where a command's answer depends on more -------------------

WELCOME = "welcome"
CALIBRATE = "calibrate"
READY = "ready"
READY_AGAIN = "ready:awaiting_ready"
TESTING = "testing"
PAUSED_HIDDEN = "paused:page_hidden"
PAUSED_SIZE = "paused:size_not_drawable"
PAUSED_CLINICIAN = "paused:clinician"
PAUSED_DISTANCE = "paused:distance"
BETWEEN_EYES = "between_eyes"
DONE = "done"
SITUATIONS = (
    WELCOME,
    CALIBRATE,
    READY,
    READY_AGAIN,
    TESTING,
    PAUSED_HIDDEN,
    PAUSED_SIZE,
    PAUSED_CLINICIAN,
    PAUSED_DISTANCE,
    BETWEEN_EYES,
    DONE,
)
OPEN = SITUATIONS[:-1]
PAUSES = (PAUSED_HIDDEN, PAUSED_SIZE, PAUSED_CLINICIAN, PAUSED_DISTANCE)


def phase_of(situation: str) -> Phase:
    return Phase(situation.split(":")[0])


def situation(session: TestSession) -> str:
    current = phase(session)
    if current == Phase.PAUSED:
        return f"{current}:{session.paused_reason}"
    if current == Phase.READY and session.paused_reason == PauseReason.AWAITING_READY:
        return READY_AGAIN
    return str(current)


# ---- the table ---------------------------------------------------------------------------------

PATIENT_COMMANDS = (
    ev.CONSENT,
    ev.LANGUAGE,
    ev.CALIBRATION,
    ev.READY,
    ev.DRAWN,
    ev.ANSWER,
    ev.PAGE_EVENT,
    ev.DISTANCE_GUARD,
    ev.PRACTICE,
    ev.PRACTICE_ANSWER,
    ev.STOP,
)
CLINICIAN_COMMANDS = (
    ev.PAUSE,
    ev.RESUME,
    ev.REQUEST_RECALIBRATION,
    ev.NEXT_EYE,
    ev.END,
    ev.NOTE,
    ev.PRESENT,
    ev.SCORE,
    ev.SHARE_RESULTS,
    ev.MOVE_CLOSER,
    ev.CATEGORY,
)

P = Phase
_SAME = "same"  # the phase the command starts from


def _rows(situations, *to) -> dict[str, frozenset[Phase]]:
    return {s: frozenset(phase_of(s) if t == _SAME else t for t in to) for s in situations}


# command -> {situation it is allowed in: the phases it may lead to}. Anywhere else it is refused
# (REFUSALS). An answer that leaves several phases open depends on the procedure (finished or not)
# or on whether the next size can be drawn.
TRANSITIONS: dict[str, dict[str, frozenset[Phase]]] = {
    ev.CONSENT: _rows([WELCOME], P.CALIBRATE),
    ev.LANGUAGE: _rows([WELCOME], _SAME),  # chosen on the welcome step, before the test is set up
    ev.CALIBRATION: {
        **_rows([CALIBRATE], P.READY, P.BETWEEN_EYES, P.PAUSED),  # paused: a clinician's pause stays
        **_rows([READY, READY_AGAIN, TESTING, PAUSED_HIDDEN, PAUSED_SIZE, PAUSED_DISTANCE], P.READY),
        **_rows([PAUSED_CLINICIAN], P.PAUSED),
        **_rows([BETWEEN_EYES], P.BETWEEN_EYES),
    },
    ev.READY: {
        **_rows([READY, READY_AGAIN, BETWEEN_EYES, PAUSED_HIDDEN], P.TESTING, P.PAUSED),  # paused: size not drawable
        **_rows([TESTING], P.TESTING),  # the current trial is sent again
    },
    ev.DRAWN: _rows(OPEN, _SAME, P.CALIBRATE),  # calibrate: drawn at the wrong size
    ev.ANSWER: _rows([TESTING], P.TESTING, P.BETWEEN_EYES, P.DONE),
    ev.PAGE_EVENT: {**_rows(OPEN, _SAME, P.PAUSED, P.CALIBRATE), **_rows([DONE], P.DONE)},
    # The guard pauses a running test and resumes the test it paused; elsewhere it only measures.
    ev.DISTANCE_GUARD: {
        **_rows(OPEN, _SAME),
        **_rows([TESTING], P.TESTING, P.PAUSED),
        **_rows([PAUSED_DISTANCE], P.PAUSED, P.TESTING),
    },
    ev.PAUSE: {
        **_rows([WELCOME, CALIBRATE], _SAME),  # held from the moment the patient is at the test
        **_rows([READY, READY_AGAIN, TESTING, PAUSED_HIDDEN, PAUSED_SIZE, PAUSED_DISTANCE, BETWEEN_EYES], P.PAUSED),
    },
    ev.RESUME: {
        **_rows([WELCOME, CALIBRATE], _SAME),  # the clinician's hold ends before the patient reached the test
        **_rows([PAUSED_HIDDEN, PAUSED_DISTANCE], P.TESTING),  # distance: the guard then only watches
        **_rows([PAUSED_SIZE], P.PAUSED),  # the same calibration still cannot draw the held size
        **_rows([PAUSED_CLINICIAN], P.READY, P.TESTING, P.PAUSED, P.BETWEEN_EYES),  # wherever it was held
    },
    ev.REQUEST_RECALIBRATION: _rows([READY, READY_AGAIN, TESTING, *PAUSES, BETWEEN_EYES], P.CALIBRATE),
    ev.NEXT_EYE: {
        **_rows([WELCOME, CALIBRATE], _SAME, P.DONE),
        **_rows([READY, READY_AGAIN, TESTING, *PAUSES, BETWEEN_EYES], P.BETWEEN_EYES, P.PAUSED, P.DONE),
    },
    ev.END: _rows(OPEN, P.DONE),
    # At the mark, before an eye starts: a practice letter (not a trial) and its answer.
    ev.PRACTICE: _rows([READY, READY_AGAIN, BETWEEN_EYES], _SAME),
    ev.PRACTICE_ANSWER: _rows([READY, READY_AGAIN, BETWEEN_EYES], _SAME),
    ev.STOP: _rows(OPEN, P.DONE),  # the patient stops the test (the pad asks them to confirm first)
    ev.NOTE: _rows(SITUATIONS, _SAME),
    ev.PRESENT: {
        **_rows([READY_AGAIN], P.READY),  # put up, shown once the patient presses Ready
        **_rows([TESTING, *PAUSES], P.TESTING, P.PAUSED),
    },
    ev.SCORE: _rows([TESTING], P.TESTING, P.BETWEEN_EYES, P.DONE),
    ev.SHARE_RESULTS: _rows(SITUATIONS, _SAME),
    # Low vision: a move voids the calibration (the patient measures the new distance); declining
    # the server's proposal ends the eye where it is.
    # (the same phase when refused for its payload: a test that does not move the patient).
    ev.MOVE_CLOSER: _rows([CALIBRATE, READY_AGAIN, TESTING, *PAUSES], _SAME, P.CALIBRATE, P.BETWEEN_EYES, P.DONE),
    # A category ends the eye it is for when that eye is current (the next eye, or the end).
    ev.CATEGORY: {
        **_rows([WELCOME, CALIBRATE], _SAME, P.DONE),
        **_rows([READY, READY_AGAIN, TESTING, *PAUSES, BETWEEN_EYES], _SAME, P.BETWEEN_EYES, P.DONE),
        **_rows([DONE], P.DONE),
    },
}

_CLOSED = ("session_closed", N_("This test has finished. Ask your clinician if you need another."))
_NOT_STARTED = ("wrong_phase", "Wait until the patient has started this eye (they press Ready).")
_CALIBRATE_FIRST = ("recalibration_needed", "The patient must calibrate the screen again first; then choose a size.")

# Why a command is refused: (command, situation) first, then (command, None), then the closed test.
REFUSALS: dict[tuple[str, str | None], tuple[str, str]] = {
    (ev.CALIBRATION, None): ("wrong_phase", N_("Agree to the test first, then calibrate the screen.")),
    (ev.READY, WELCOME): ("wrong_phase", N_("Agree to the test first.")),
    (ev.LANGUAGE, None): ("wrong_phase", N_("The language can be changed on the welcome step only.")),
    (ev.READY, CALIBRATE): ("recalibration_needed", N_("Calibrate the screen and the distance first.")),
    (ev.READY, PAUSED_CLINICIAN): (
        "wrong_phase",
        N_("Your clinician has paused the test; wait until they continue it."),
    ),
    (ev.READY, PAUSED_DISTANCE): (
        "wrong_phase",
        N_("Go back to your mark and face the screen; the test goes on by itself when you are there."),
    ),
    (ev.READY, PAUSED_SIZE): (
        "wrong_phase",
        N_("The next letters cannot be drawn on this screen; wait for your clinician, or calibrate the screen again."),
    ),
    **{
        (command, where): ("wrong_phase", N_("The test is paused; answers count again once it continues."))
        for command in (ev.ANSWER, ev.SCORE)
        for where in PAUSES
    },
    (ev.ANSWER, None): ("wrong_phase", N_("There is nothing to answer now; answer once the letters are on screen.")),
    (ev.SCORE, None): ("wrong_phase", "There is nothing to score now; score once the letters are on screen."),
    (ev.RESUME, None): ("wrong_phase", "The patient presses Ready to continue (they calibrated the screen again)."),
    (ev.REQUEST_RECALIBRATION, None): ("wrong_phase", "The patient has no calibration yet."),
    (ev.PRESENT, CALIBRATE): _CALIBRATE_FIRST,
    **{
        (command, None): ("wrong_phase", N_("A practice letter can be tried only before an eye starts."))
        for command in (ev.PRACTICE, ev.PRACTICE_ANSWER)
    },
    (ev.PRESENT, None): _NOT_STARTED,
    (ev.MOVE_CLOSER, None): _NOT_STARTED,
}


# A repeat of what is already so is acknowledged and changes nothing (like a duplicate answer), in
# any situation of an open test: the patient's consent, the clinician's pause, a resume with nothing held.
REPEATS = {
    ev.CONSENT: lambda session: session.consent_at is not None,
    ev.PAUSE: lambda session: session.paused_reason == PauseReason.CLINICIAN,
    ev.RESUME: lambda session: session.paused_reason is None,
}


def _repeat(session: TestSession, command: str) -> bool:
    return session.status not in CLOSED and command in REPEATS and REPEATS[command](session)


def check(session: TestSession, command: str) -> bool:
    """Whether `command` moves the test (True) or is a repeat that changes nothing (False); raises
    its refusal (LiveError) where the table does not allow it."""
    if _repeat(session, command):
        return False
    where = situation(session)
    if where in TRANSITIONS[command]:
        return True
    code, message = REFUSALS.get((command, where)) or (
        _CLOSED if where == DONE else REFUSALS.get((command, None), ("wrong_phase", "Not now."))
    )
    raise LiveError(code, message)


def actions(session: TestSession, commands: tuple[str, ...]) -> list[str]:
    """The commands of `commands` the table allows where the test is now (docs/protocol.md, `actions`)."""
    where = situation(session)
    return [command for command in commands if where in TRANSITIONS[command] and not _repeat(session, command)]
