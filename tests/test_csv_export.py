"""CSV exports: read back with the csv module, they give the stored numbers exactly."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from tests.support.app import add_clinician, login
from tests.support.reports import run_chart_session
from webapp.extensions import db
from webapp.models import TestSession
from webapp.reports.csv_export import RESULT_COLUMNS, TRIAL_COLUMNS


def read_csv(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.endswith("\r\n")
    return csv.DictReader(io.StringIO(text, newline=""))


def stored(app, public_id):
    with app.app_context():
        session = db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))
        return {
            eye.eye: {
                "result": dict(eye.result) if eye.result else None,
                "trials": [
                    {
                        "index": t.index,
                        "seq": t.seq,
                        "logmar": t.logmar,
                        "optotypes": list(t.optotypes),
                        "responses": list(t.responses),
                        "correct": list(t.correct),
                        "response_time_ms": t.response_time_ms,
                        "height_css_px": t.height_css_px,
                    }
                    for t in eye.trials
                ],
            }
            for eye in session.eye_tests
        }


def test_results_csv_round_trips_the_stored_results(app, clinician_client):
    public_id, _ = run_chart_session(app, clinician_client)
    source = stored(app, public_id)
    reader = read_csv(clinician_client.get(f"/sessions/{public_id}/results.csv"))
    assert reader.fieldnames == RESULT_COLUMNS
    rows = {row["eye"]: row for row in reader}
    assert set(rows) == {"right", "left"}
    for eye, row in rows.items():
        result = source[eye]["result"]
        assert row["session_id"] == public_id and row["patient_reference"] == "Patient A"
        for column in ("logmar", "ci95_low_logmar", "ci95_high_logmar"):
            assert float(row[column]) == result[column]  # exact: full precision in the file
        assert int(row["trials"]) == result["trials"]
        assert int(row["optotypes_correct"]) == result["optotypes_correct"]
        assert row["bound"] == (result["bound"] or "")
        assert row["finished"] == ("true" if result["finished"] else "false")
        assert float(row["viewing_distance_mm"]) == 3000.0 and float(row["device_pixel_ratio"]) == 2.0
        assert row["viewport_css_px"] == "1600x900" and row["user_agent"] == "pytest"
        assert row["correction"] == "none" and row["optotype_set"] == "sloan" and row["procedure"] == "chart"
        assert "the test page was hidden" in row["warnings"]
        assert row["stopped_early"] == "false"  # both eyes ran to the chart's stopping rule
    assert rows["right"]["reliability"] == "paused once with the test page hidden" and rows["left"]["reliability"] == ""
    assert rows["right"]["snellen_6m"] == "6/12" and rows["right"]["snellen_20ft"] == "20/40"
    assert float(rows["right"]["decimal"]) == 10 ** -source["right"]["result"]["logmar"]
    # The notation every page shows (acuity.notation.describe): whole letters, the chart line, one line.
    assert rows["right"]["etdrs_letters"] == "70" and rows["right"]["decimal_chart_line"] == "0.50"
    assert rows["right"]["acuity_text"] == "6/12 (20/40) · 0.30 logMAR"
    assert rows["left"]["bound"] == "<="


def test_trials_csv_round_trips_every_trial(app, clinician_client):
    public_id, shown = run_chart_session(app, clinician_client)
    source = stored(app, public_id)
    reader = read_csv(clinician_client.get(f"/sessions/{public_id}/trials.csv"))
    assert reader.fieldnames == TRIAL_COLUMNS
    rows = list(reader)
    assert len(rows) == len(shown["right"]) + len(shown["left"])
    for eye in ("right", "left"):
        eye_rows = [row for row in rows if row["eye"] == eye]
        assert len(eye_rows) == len(source[eye]["trials"])
        for row, trial in zip(eye_rows, source[eye]["trials"], strict=False):
            assert int(row["trial"]) == trial["index"] + 1 and int(row["seq"]) == trial["seq"]
            assert float(row["logmar"]) == trial["logmar"]
            assert row["optotypes"].split(" ") == trial["optotypes"]
            assert [None if r == "?" else r for r in row["responses"].split(" ")] == trial["responses"]
            assert [c == "1" for c in row["correct"].split(" ")] == trial["correct"]
            assert int(row["optotypes_correct"]) == sum(trial["correct"])
            assert float(row["response_time_ms"]) == trial["response_time_ms"]
            assert float(row["height_css_px"]) == trial["height_css_px"]


def test_clinician_wide_exports_hold_all_and_only_their_own_sessions(app, clinician_client):
    first, _ = run_chart_session(app, clinician_client, note=None)
    second, _ = run_chart_session(app, clinician_client, patient_reference="Patient B", note=None)
    add_clinician(app, "other@example.org")
    foreign, _ = run_chart_session(app, login(app.test_client(), "other@example.org"), note=None)
    results = list(read_csv(clinician_client.get("/exports/results.csv")))
    assert [(r["session_id"], r["eye"]) for r in results] == [
        (first, "right"),
        (first, "left"),
        (second, "right"),
        (second, "left"),
    ]
    trials = list(read_csv(clinician_client.get("/exports/trials.csv")))
    assert {r["session_id"] for r in trials} == {first, second}
    assert foreign not in {r["session_id"] for r in results}
    per_session = list(read_csv(clinician_client.get(f"/sessions/{first}/trials.csv")))
    assert per_session == [r for r in trials if r["session_id"] == first]


def test_text_a_spreadsheet_would_run_as_a_formula_is_defused(app, clinician_client):
    reference = '=HYPERLINK("http://example.org","x")'
    public_id, _ = run_chart_session(app, clinician_client, patient_reference=reference, note=None)
    row = next(read_csv(clinician_client.get(f"/sessions/{public_id}/results.csv")))
    assert row["patient_reference"] == "'" + reference
    assert row["eye"] == "right" and float(row["logmar"]) == pytest.approx(0.3)  # numbers stay numbers


def test_results_carry_the_patients_year_of_birth_when_given_and_never_their_name(app, clinician_client):
    first, _ = run_chart_session(
        app, clinician_client, patient_reference="F-1024", note=None, patient_name="Ann Smith", birth_year="1948"
    )
    second, _ = run_chart_session(app, clinician_client, patient_reference="G-7", note=None)
    response = clinician_client.get("/exports/results.csv")
    rows = list(read_csv(response))
    years = {(row["session_id"], row["patient_reference"], row["patient_birth_year"]) for row in rows}
    assert years == {(first, "F-1024", "1948"), (second, "G-7", "")}
    assert "Ann Smith" not in response.get_data(as_text=True)


def test_a_public_id_never_starts_with_a_formula_character(monkeypatch):
    """A CSV cell starting with "-" is escaped for spreadsheets, so an id starting with it would not
    match itself in the export; new ids skip such draws."""
    from webapp import tokens

    draws = iter(["-starts-badly", "good-id"])
    monkeypatch.setattr(tokens.secrets, "token_urlsafe", lambda n: next(draws))
    assert tokens.new_public_id() == "good-id"
