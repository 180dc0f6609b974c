"""The webcam distance guard's rules on the server (webapp/live/distance_guard.py), through the real
socket handlers: the reference, samples that pause and resume the test, the clinician's view and
resume, what is stored (numbers only) and what the exports record; and its arithmetic
(calibration/distance_guard.py)."""

import csv
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from calibration import distance_guard as guard
from calibration.errors import CalibrationError
from tests.support.app import CALIBRATION, create_test, display, start_testing, watcher
from webapp.extensions import db
from webapp.models import TestSession
from webapp.reports.csv_export import results_csv
from webapp.reports.data import session_report
from webapp.reports.fhir import session_bundle
from webapp.reports.pdf import report_pdf

MARK_PX = 30.0


def _open(app, clinician_client, **overrides):
    public_id, token = create_test(clinician_client, eyes="right", procedure="adaptive", **overrides)
    screen, watch = display(app, token), watcher(app, clinician_client)
    assert watch.send("watch", {"session_id": public_id})["ok"]
    return public_id, screen, watch


def _stored(app, public_id):
    with app.app_context():
        return db.session.scalar(select(TestSession).where(TestSession.public_id == public_id)).distance_guard


def test_the_arithmetic_is_the_pinhole_ratio():
    assert guard.distance_mm(3000, 30.0, 25.0) == pytest.approx(3600)
    assert guard.deviation(30.0, 25.0) == pytest.approx(0.2)
    assert guard.deviation(30.0, 37.5) == pytest.approx(-0.2)
    assert guard.tolerance_for(3000) == guard.FAR_TOLERANCE and guard.tolerance_for(400) == guard.NEAR_TOLERANCE
    with pytest.raises(CalibrationError, match="come closer"):
        guard.spacing_px(1.0)


def test_out_of_tolerance_pauses_the_test_and_back_at_the_mark_resumes_it(app, clinician_client):
    public_id, screen, watch = _open(app, clinician_client)
    start_testing(screen)
    ack = screen.send("distance_guard", {"kind": "reference", "eye_spacing_px": MARK_PX})
    assert ack == {"ok": True, "tolerance": 0.10}
    screen.received()
    # 9% further: within the tolerance, nothing happens.
    assert screen.send("distance_guard", {"kind": "sample", "eye_spacing_px": MARK_PX / 1.09})["paused"] is False
    # 15% closer: paused, both devices told, the letter taken off screen.
    ack = screen.send("distance_guard", {"kind": "sample", "eye_spacing_px": MARK_PX / 0.85})
    assert ack["paused"] is True
    events = screen.received()
    assert screen.last("paused", events) == {"reason": "distance"}
    state = screen.last("state", events)
    assert state["phase"] == "paused" and state["paused_reason"] == "distance"
    assert state["current_stimulus"] is None and state["distance_guard"]["deviation"] == pytest.approx(-0.15)
    reading = watch.last("distance_guard")
    assert reading["paused"] and reading["deviation_text"] == "-15%" and reading["estimate_text"] == "2.5 m"
    assert reading["event"]["kind"] == "paused"
    # The patient cannot just press on; answers are refused while the guard holds the test.
    assert screen.send("ready")["error"] == "wrong_phase"
    # The face lost: still paused. Then back at the mark: resumed, the same letter shown again.
    assert screen.send("distance_guard", {"kind": "sample", "eye_spacing_px": None})["paused"] is False
    ack = screen.send("distance_guard", {"kind": "sample", "eye_spacing_px": MARK_PX * 1.01})
    assert ack["resumed"] is True
    events = screen.received()
    assert screen.last("resumed", events) == {} and screen.last("stimulus", events) is not None
    assert screen.last("state", events)["phase"] == "testing"
    stored = _stored(app, public_id)
    assert stored["pauses"] == 1 and stored["max_deviation"] == pytest.approx(-0.15)
    assert stored["out_ms"] >= 0 and stored["out_since"] is None
    # Nothing but numbers and words of our own: no picture, no landmarks.
    assert all(isinstance(value, int | float | str | bool | type(None)) for value in stored.values())


def test_a_clinicians_resume_overrides_the_guard_until_the_next_reference(app, clinician_client):
    public_id, screen, watch = _open(app, clinician_client)
    start_testing(screen)
    screen.send("distance_guard", {"kind": "reference", "eye_spacing_px": MARK_PX})
    assert screen.send("distance_guard", {"kind": "sample", "eye_spacing_px": None})["paused"] is True
    assert watch.send("resume", {"session_id": public_id})["ok"]
    # Still out of view: it only watches now.
    assert screen.send("distance_guard", {"kind": "sample", "eye_spacing_px": None})["paused"] is False
    assert watch.last("distance_guard")["suspended"] is True
    screen.send("distance_guard", {"kind": "reference", "eye_spacing_px": MARK_PX})
    assert screen.send("distance_guard", {"kind": "sample", "eye_spacing_px": MARK_PX * 2})["paused"] is True


def test_refusals_say_what_to_do(app, clinician_client):
    public_id, screen, watch = _open(app, clinician_client)
    assert screen.send("consent")["ok"]
    # Before the calibration, and before a reference, and with a spacing no camera gives.
    assert screen.send("distance_guard", {"kind": "reference", "eye_spacing_px": MARK_PX})["error"] == (
        "recalibration_needed"
    )
    assert screen.send("calibration", CALIBRATION)["ok"]
    ack = screen.send("distance_guard", {"kind": "sample", "eye_spacing_px": MARK_PX})
    assert ack["error"] == "no_reference" and "Record my place" in ack["message"]
    ack = screen.send("distance_guard", {"kind": "reference", "eye_spacing_px": 0.5})
    assert ack["error"] == "invalid_payload" and "come closer" in ack["message"]
    assert screen.send("distance_guard", {"kind": "reference", "eye_spacing_px": None})["error"] == "invalid_payload"
    assert screen.send("distance_guard", {"kind": "guess"})["error"] == "invalid_payload"
    # A new calibration needs a new reference.
    assert screen.send("distance_guard", {"kind": "reference", "eye_spacing_px": MARK_PX})["ok"]
    assert screen.send("calibration", CALIBRATION)["ok"]
    assert screen.send("distance_guard", {"kind": "sample", "eye_spacing_px": MARK_PX})["error"] == "no_reference"
    assert _stored(app, public_id)["reference_spacing_px"] == MARK_PX


def test_off_is_recorded_and_the_exports_say_how_the_distance_was_checked(app, clinician_client):
    public_id, screen, watch = _open(app, clinician_client)
    start_testing(screen)
    assert screen.send("distance_guard", {"kind": "off", "reason": "declined"})["ok"]
    reading = watch.last("distance_guard")
    # The live view's words come from the server, the reading and its event alike (one table of reasons).
    assert reading["method"] == "off" and reading["off_text"] == "the patient chose not to use the camera"
    assert reading["event"]["kind"] == "distance_guard" and reading["event"]["detail"]["reason"] == "declined"
    assert reading["event"]["detail_text"]["reason"] == "the patient chose not to use the camera"
    stored = watch.send("watch", {"session_id": public_id})["snapshot"]["events"]
    assert [e["detail_text"].get("reason") for e in stored if e["kind"] == "distance_guard"] == [
        "the patient chose not to use the camera"
    ]
    with app.app_context():
        session = db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))
        report = session_report(session)
    assert report["distance_guard"]["text"] == "not used (the patient chose not to use the camera)"

    public_id, screen, watch = _open(app, clinician_client)
    stimulus = start_testing(screen)
    screen.send("distance_guard", {"kind": "reference", "eye_spacing_px": MARK_PX})
    screen.send("distance_guard", {"kind": "sample", "eye_spacing_px": MARK_PX / 1.2})
    screen.send("distance_guard", {"kind": "sample", "eye_spacing_px": MARK_PX})
    answer = {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": stimulus["optotypes"]}
    assert screen.send("answer", answer)["ok"] and watch.send("end", {"session_id": public_id})["ok"]
    with app.app_context():
        session = db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))
        report = session_report(session)
        bundle = session_bundle(report)
    assert (
        "tolerance ±10%" in report["distance_guard"]["text"]
        and "largest deviation +20%" in report["distance_guard"]["text"]
    )
    row = next(csv.DictReader(io.StringIO(results_csv([report]))))
    assert row["distance_check"] == "webcam_eye_corners" and row["distance_check_tolerance"] == "0.1"
    assert float(row["distance_check_largest_deviation"]) == pytest.approx(0.2)
    assert float(row["distance_check_out_of_tolerance_s"]) >= 0
    texts = [
        c.get("valueString")
        for entry in bundle["entry"]
        for c in entry["resource"].get("component", [])
        if c["code"]["text"] == "Viewing distance check (webcam)"
    ]
    assert texts == [report["distance_guard"]["text"]]
    # The PDF's page one carries the same line as the HTML report (one place writes the words).
    page_one = re.sub(r"\s+", " ", PdfReader(io.BytesIO(report_pdf(report))).pages[0].extract_text())
    assert "Distance check" in page_one and re.sub(r"\s+", " ", report["distance_guard"]["text"]) in page_one, page_one
    html = clinician_client.get(f"/sessions/{public_id}/report").get_data(as_text=True)
    assert report["distance_guard"]["text"] in html.replace("&#43;", "+").replace("&#177;", "±")


def test_the_pad_cannot_report_distances(app, clinician_client):
    from tests.support.app import pad, pad_token_from_state

    public_id, screen, watch = _open(app, clinician_client)
    token = pad_token_from_state(screen.last("state"))
    phone = pad(app, token)
    assert phone.send("distance_guard", {"kind": "off", "reason": "declined"})["error"] == "wrong_device"
