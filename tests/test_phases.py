"""The live test's state machine, table-driven (webapp/live/phases.py).

For every situation a test can be in and every command: an allowed one, sent through the real
socket handlers, leaves the test in one of the phases the table names; a refused one gets the
table's error and changes no stored row. The `actions` the server sent before the command are the
ones the table allows. And docs/protocol.md's phase table is the module's table.
"""

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.app import CALIBRATION, create_test, display, start_testing, watcher
from webapp import events as ev
from webapp.extensions import db
from webapp.live import phases
from webapp.models import TestSession

PROTOCOL = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"
SMALL_WINDOW = {**CALIBRATION, "viewport_css_px": [400, 300]}  # cannot draw the adaptive test's first size


class Driven:
    """One test session driven through the sockets: the patient's display and the clinician."""

    def __init__(self, app, clinician_client):
        self.app = app
        self.public_id, token = create_test(clinician_client, eyes="right_left", procedure="adaptive")
        self.token = token
        self.screen = display(app, token)
        self.watch = watcher(app, clinician_client)
        assert self.watch.send("watch", {"session_id": self.public_id})["ok"]

    def clinician(self, command, **data):
        return self.watch.send(command, {"session_id": self.public_id, **data})

    def stored(self, what):
        with self.app.app_context():
            session = db.session.scalar(select(TestSession).where(TestSession.public_id == self.public_id))
            return what(session)

    def rows(self, audit=True):
        """Every stored row of every table: a refused command must change none of them (a repeat
        none but the audit log's line saying the clinician sent it)."""
        with self.app.app_context():
            return {
                table.name: sorted(map(repr, db.session.execute(table.select()).all()))
                for table in db.metadata.sorted_tables
                if audit or table.name != "audit_entry"
            }


def _reach(test, where):
    """Drive a new test to `where` through the real commands."""
    screen = test.screen
    if where == phases.WELCOME:
        return
    if where == phases.CALIBRATE:
        assert screen.send("consent")["ok"]
        return
    if where == phases.READY:
        assert screen.send("consent")["ok"] and screen.send("calibration", CALIBRATION)["ok"]
        return
    start_testing(screen)
    if where == phases.PAUSED_SIZE:
        assert screen.send("calibration", SMALL_WINDOW)["ok"] and screen.send("ready")["ok"]
    if where == phases.READY_AGAIN:
        assert test.clinician(ev.REQUEST_RECALIBRATION)["ok"]
        assert screen.send("calibration", CALIBRATION)["ok"]
    elif where == phases.PAUSED_HIDDEN:
        assert screen.send("page_event", {"kind": "hidden", "detail": {}})["paused"]
    elif where == phases.PAUSED_CLINICIAN:
        assert test.clinician(ev.PAUSE)["ok"]
    elif where == phases.PAUSED_DISTANCE:  # the eyes 25% wider apart than at the mark: 20% closer
        assert screen.send(ev.DISTANCE_GUARD, {"kind": "reference", "eye_spacing_px": 30.0})["ok"]
        assert screen.send(ev.DISTANCE_GUARD, {"kind": "sample", "eye_spacing_px": 40.0})["paused"]
    elif where == phases.BETWEEN_EYES:
        assert test.clinician(ev.NEXT_EYE)["ok"]
    elif where == phases.DONE:
        assert test.clinician(ev.END)["ok"]


def _pending(session):
    eye = session.current_eye_test
    return dict(eye.pending) if eye is not None and eye.pending else None


def _send(test, command):
    """Send `command` with a payload that fits the test as it is (the trial on screen, if any)."""
    pending = test.stored(_pending) or {"trial_id": "right-0", "seq": 1, "optotypes": ["C"], "height_css_px": 50.0}
    trial = {"trial_id": pending["trial_id"], "seq": pending["seq"]}
    if command == ev.CONSENT:
        return test.screen.send(command)
    if command == ev.CALIBRATION:
        return test.screen.send(command, CALIBRATION)
    if command == ev.LANGUAGE:
        return test.screen.send(command, {"language": "es"})
    if command == ev.READY:
        return test.screen.send(command)
    if command == ev.DRAWN:
        side_device_px = pending["height_css_px"] * 2.0  # drawn exactly, at the calibration's DPR 2
        return test.screen.send(
            command,
            {
                **trial,
                "ink_device_px": [[side_device_px] * 2] * len(pending["optotypes"]),
                "device_pixel_ratio": 2.0,
                "visual_viewport_scale": 1.0,
            },
        )
    if command == ev.ANSWER:
        return test.screen.send(command, {**trial, "responses": list(pending["optotypes"])})
    if command == ev.PAGE_EVENT:
        return test.screen.send(command, {"kind": "hidden", "detail": {}})
    if command in (ev.PRACTICE, ev.STOP):
        return test.screen.send(command)
    if command == ev.PRACTICE_ANSWER:
        practice = test.stored(lambda s: s.practice) or {"id": 1}
        return test.screen.send(command, {"practice_id": practice["id"], "response": None})
    if command == ev.DISTANCE_GUARD:  # back at the mark where a reference is kept, else the reference
        kind = "sample" if test.stored(lambda s: (s.distance_guard or {}).get("reference_spacing_px")) else "reference"
        return test.screen.send(command, {"kind": kind, "eye_spacing_px": 30.0})
    if command == ev.NOTE:
        return test.clinician(command, text="a note")
    if command == ev.PRESENT:
        return test.clinician(
            command,
            logmar=test.stored(
                lambda s: round(
                    ((s.current_calibration.min_logmar + s.current_calibration.max_logmar) / 2)
                    if s.current_calibration
                    else 0.3,
                    1,
                )
            ),
        )
    if command == ev.SCORE:
        return test.clinician(command, **trial, correct=[True] * len(pending["optotypes"]))
    if command == ev.SHARE_RESULTS:
        return test.clinician(command, show=True)
    if command == ev.MOVE_CLOSER:
        return test.clinician(command, distance_mm=1000)
    if command == ev.CATEGORY:
        return test.clinician(command, eye="right", code="LP")
    return test.clinician(command)


# An allowed command may still be refused for what its payload names, not for the phase: `drawn`
# and `answer` with no trial on screen, `drawn` for a trial kept while the calibration is void, and
# `score` in a test the patient answers.
def _refused_by_payload(command, where, ack):
    return (
        (command in (ev.DRAWN, ev.ANSWER, ev.PRACTICE_ANSWER) and ack["error"] == "stale_trial")
        or (command == ev.DRAWN and where == phases.CALIBRATE and ack["error"] == "recalibration_needed")
        or (command == ev.SCORE and ack["error"] == "answer_mode")
        or (command == ev.DISTANCE_GUARD and ack["error"] == "recalibration_needed")
        # This test does not move the patient closer (low vision is off), or no eye is under way.
        or (command == ev.MOVE_CLOSER and ack["error"] in ("procedure_error", "wrong_phase"))
        # A category for an eye that read letters.
        or (command == ev.CATEGORY and ack["error"] == "invalid_payload")
    )


COMMANDS = phases.PATIENT_COMMANDS + phases.CLINICIAN_COMMANDS


@pytest.mark.parametrize("where", phases.SITUATIONS)
def test_every_command_in_every_situation_does_what_the_table_says(app, clinician_client, where):
    test = None
    for command in COMMANDS:
        # A refused command changes no stored row (asserted below), so its test, still in `where`
        # (asserted here), serves the next command; after any other a new test is driven there.
        if test is None:
            test = Driven(app, clinician_client)
            _reach(test, where)
        assert test.stored(phases.situation) == where
        test.screen = display(app, test.token)  # the same screen again: its `state` on connect
        state = test.screen.last("state")
        snapshot = test.clinician(ev.WATCH)["snapshot"]
        allowed = where in phases.TRANSITIONS[command]
        repeat = test.stored(lambda session: phases._repeat(session, command))
        # What the server said may be done now is what the table allows.
        assert state["actions"] == test.stored(lambda s: phases.actions(s, phases.PATIENT_COMMANDS))
        assert snapshot["actions"] == test.stored(lambda s: phases.actions(s, phases.CLINICIAN_COMMANDS))
        recipient_actions = state["actions"] if command in phases.PATIENT_COMMANDS else snapshot["actions"]
        assert (command in recipient_actions) == (allowed and not repeat), (where, command)

        before = test.rows()
        ack = _send(test, command)
        after = test.stored(phases.phase)
        if repeat:
            assert ack["ok"] and test.rows(audit=False) == {k: v for k, v in before.items() if k != "audit_entry"}, (
                where,
                command,
                ack,
            )
            test = None
        elif allowed:
            assert ack["ok"] or _refused_by_payload(command, where, ack), (where, command, ack)
            assert after in phases.TRANSITIONS[command][where], (where, command, after)
            test = None
        else:
            code, message = _expected_refusal(command, where)
            assert ack == {"ok": False, "error": code, "message": message}, (where, command)
            assert test.rows() == before, (where, command)
            assert after == phases.phase_of(where)


def _expected_refusal(command, where):
    if (command, where) in phases.REFUSALS:
        return phases.REFUSALS[(command, where)]
    if where == phases.DONE:
        return ("session_closed", "This test has finished. Ask your clinician if you need another.")
    return phases.REFUSALS[(command, None)]


def test_the_manual_procedure_waits_in_testing_for_the_clinicians_size(app, clinician_client):
    public_id, token = create_test(clinician_client, eyes="right", procedure="manual")
    screen, watch = display(app, token), watcher(app, clinician_client)
    assert watch.send("watch", {"session_id": public_id})["ok"]
    assert screen.send("consent")["ok"] and screen.send("calibration", CALIBRATION)["ok"]
    assert screen.send("ready")["ok"]
    events = screen.received()
    state = screen.last("state", events)
    assert state["phase"] == "testing" and screen.last("stimulus", events) is None
    assert "present" in watch.last("status")["actions"] and "answer" in state["actions"]
    assert watch.send("present", {"session_id": public_id, "logmar": 0.5})["ok"]
    assert screen.last("stimulus")["logmar"] == 0.5


def test_a_clinicians_pause_before_the_eye_started_refuses_present(app, clinician_client):
    test = Driven(app, clinician_client)
    _reach(test, phases.READY)
    assert test.clinician(ev.PAUSE)["ok"]
    assert test.stored(phases.situation) == phases.PAUSED_CLINICIAN
    before = test.rows()
    assert test.clinician(ev.PRESENT, logmar=0.5)["error"] == "wrong_phase"
    assert test.rows() == before


def _doc_table():
    """docs/protocol.md's table of commands by situation: {command: {situation: phases}}."""
    text = PROTOCOL.read_text()
    section = text.split("<!-- phase table: begin -->", 1)[1].split("<!-- phase table: end -->", 1)[0]
    lines = [line for line in section.strip().splitlines() if line.startswith("|")]
    header = [cell.strip(" `") for cell in lines[0].strip("|").split("|")]
    assert header[0] == "command"
    table = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        command = cells[0].strip("` ")
        table[command] = {
            situation: frozenset(re.findall(r"[a-z_]+", cell))
            for situation, cell in zip(header[1:], cells[1:], strict=False)
            if cell not in ("", "–", "-")
        }
    return table


def test_the_protocols_phase_table_is_the_modules():
    documented = _doc_table()
    assert documented == {
        command: {where: {str(p) for p in to} for where, to in row.items()}
        for command, row in phases.TRANSITIONS.items()
    }
