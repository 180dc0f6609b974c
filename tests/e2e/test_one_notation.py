"""One notation everywhere: stored results rendered by every surface say the same.

A set of results (logMAR -0.35 to 1.75, with their 95% intervals and measurement bounds) is stored
as finished tests would store them (the eye's `result` row: a procedure cannot be steered to exact
values), then read back through the real server: the clinician's live view and the patient's done
screen (Chromium, the browser's own rendering of what the server sent), the result page, the report
HTML, the PDF text, the results CSV and the FHIR Bundle. Each must show the hand-written strings
below, the rule of acuity.notation.describe: the nearest chart line of the logMAR as shown (two
decimals, ties to the worse line), bounds past the chart's lines (6/3 to 6/240), and for a near
test N point and M units at 40 cm. Some eyes stopped early (ended after 5 trials, before the chart's
stopping rule): every surface flags them with the same words, and no other eye.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
import requests
from pypdf import PdfReader
from sqlalchemy import create_engine, select

from tests.support.flows import create_test, serious_violations, sign_in
from tests.support.server import ServerProcess
from webapp.reports.fhir import STOPPED_EARLY_TEXT

pytestmark = pytest.mark.browser

# logMAR -> (logMAR shown, Snellen 6/, Snellen 20/, decimal) as the chart's lines give them.
SHOWN = {
    -0.76: ("-0.76", "better than 6/3", "better than 20/10", "better than 2.00"),
    -0.36: ("-0.36", "better than 6/3", "better than 20/10", "better than 2.00"),
    -0.35: ("-0.35", "6/3", "20/10", "2.00"),  # half-way to -0.4: the worse line, on the chart
    -0.3: ("-0.30", "6/3", "20/10", "2.00"),
    -0.004: ("0.00", "6/6", "20/20", "1.00"),  # never "-0.00"
    0.0: ("0.00", "6/6", "20/20", "1.00"),
    -0.1: ("-0.10", "6/5", "20/16", "1.25"),
    0.15: ("0.15", "6/10", "20/32", "0.63"),
    0.2: ("0.20", "6/10", "20/32", "0.63"),
    0.245: ("0.24", "6/10", "20/32", "0.63"),  # shown 0.24: the 0.2 line (not "6/10.5")
    0.25: ("0.25", "6/12", "20/40", "0.50"),  # half-way: the worse line
    0.3: ("0.30", "6/12", "20/40", "0.50"),
    0.4: ("0.40", "6/15", "20/50", "0.40"),
    0.5: ("0.50", "6/20", "20/63", "0.32"),
    0.9: ("0.90", "6/48", "20/160", "0.125"),
    1.0: ("1.00", "6/60", "20/200", "0.10"),
    1.1: ("1.10", "6/75", "20/250", "0.08"),
    1.3: ("1.30", "6/120", "20/400", "0.05"),
    1.65: ("1.65", "worse than 6/240", "worse than 20/800", "worse than 0.025"),
    1.75: ("1.75", "worse than 6/240", "worse than 20/800", "worse than 0.025"),
    2.0: ("2.00", "worse than 6/240", "worse than 20/800", "worse than 0.025"),
}
# Near (40 cm): logMAR -> (N point, M units) at 40 cm; N8 is about 1M (Law 1951).
NEAR = {
    0.4: ("N8", "1.0M"),
    0.3: ("N6", "0.8M"),
    0.5: ("N10", "1.25M"),
    0.0: ("better than N5", "0.4M"),
    -0.1: ("better than N5", "0.32M"),
    0.2: ("N5", "0.63M"),
}
# Per session: the set-up and (right eye, left eye), each (logMAR, 95% interval low, high, bound,
# stopped early: ended after 5 trials before the procedure's stopping rule).
SESSIONS = [
    ("3m", ((-0.35, -0.76, -0.3, "<=", False), (-0.3, -0.36, 0.0, None, True))),
    ("3m", ((0.0, -0.004, 0.15, None, False), (0.245, 0.15, 0.25, None, False))),
    ("3m", ((0.25, 0.245, 0.3, None, True), (1.0, 0.9, 1.1, None, False))),
    ("3m", ((1.3, 1.1, 1.65, None, False), (1.75, 1.3, 2.0, ">=", False))),
    ("near_40cm", ((0.4, 0.3, 0.5, None, True), (0.0, -0.1, 0.2, None, False))),
]
STOPPED_EARLY = "stopped early, after 5 trials"
EYE_NAMES = {"right": "Right eye", "left": "Left eye"}


def expected(setup: str, logmar: float, low: float, high: float, bound: str | None, early: bool) -> dict[str, str]:
    shown, six, twenty, decimal = SHOWN[logmar]
    qualifier = ""
    if bound == "<=" and not six.startswith("better"):
        qualifier = " or better"
    if bound == ">=" and not six.startswith("worse"):
        qualifier = " or worse"
    want = {
        "logmar": shown,
        "snellen_6": six,
        "snellen_20": twenty,
        "decimal": decimal,
        "text": f"{six} ({twenty}){qualifier} · {shown} logMAR",
        "ci95_low": SHOWN[low][0],
        "ci95_high": SHOWN[high][0],
        "early": STOPPED_EARLY if early else "",
    }
    if setup == "near_40cm":
        n_point, m_units = NEAR[logmar]
        want.update(
            n_point=n_point, m_units=m_units, text=f"{n_point} ({m_units} at 40 cm){qualifier} · {shown} logMAR"
        )
    return want


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process = ServerProcess(tmp_path_factory.mktemp("one-notation")).start()
    yield process
    process.stop()
    process.keep_log("one-notation-server.log")


def store_results(server: ServerProcess, public_id: str, eyes) -> None:
    """Store the results as a finished test does: each eye done with its result, the session done."""
    from webapp.models import EyeTest, TestSession

    engine = create_engine(f"sqlite:///{server.db_path}")
    sessions, eye_tests = TestSession.__table__, EyeTest.__table__
    now = datetime.utcnow()
    with engine.begin() as connection:
        session_id = connection.execute(select(sessions.c.id).where(sessions.c.public_id == public_id)).scalar_one()
        for order_index, (logmar, low, high, bound, early) in enumerate(eyes):
            connection.execute(
                eye_tests.update()
                .where(eye_tests.c.session_id == session_id, eye_tests.c.order_index == order_index)
                .values(
                    status="done",
                    started_at=now,
                    finished_at=now,
                    result={
                        "logmar": logmar,
                        "ci95_low_logmar": low,
                        "ci95_high_logmar": high,
                        "bound": bound,
                        "trials": 5 if early else 12,
                        "optotypes_shown": 25 if early else 40,
                        "optotypes_correct": 20 if early else 30,
                        "finished": not early,
                    },
                )
            )
        connection.execute(
            sessions.update()
            .where(sessions.c.id == session_id)
            .values(status="done", consent_at=now, finished_at=now, current_eye_index=len(eyes) - 1, show_results=True)
        )
    engine.dispose()


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def flagged(want: dict[str, str]) -> str:
    """The result line with its stopped-early words, as the live view and the patient's screen end it."""
    return want["text"] + (f" · {want['early']}" if want["early"] else "")


def test_every_surface_says_the_same(server, new_context, shots):
    clinician = shots.watch("clinician", new_context(viewport={"width": 1366, "height": 768}).new_page())
    sign_in(clinician, server.base_url)
    cookies = {c["name"]: c["value"] for c in clinician.context.cookies()}
    http = requests.Session()
    http.cookies.update(cookies)
    seen = 0
    for index, (setup, eyes) in enumerate(SESSIONS):
        invite_url, public_id = create_test(
            clinician, server.base_url, eyes="right_left", setup=setup, show_results=True
        )
        store_results(server, public_id, eyes)
        wants = {eye: expected(setup, *values) for eye, values in zip(("right", "left"), eyes, strict=False)}
        base = f"{server.base_url}/sessions/{public_id}"

        # The clinician's live view of the finished test (live.js renders the `watch` snapshot).
        clinician.goto(base)  # the live view
        clinician.wait_for_function("() => document.querySelectorAll('[data-eyes] li').length === 2")
        items = clinician.locator("[data-eyes] li").all_text_contents()
        for item, (eye, want) in zip(items, wants.items(), strict=False):
            assert item.startswith(EYE_NAMES[eye]) and item.endswith(f", result {flagged(want)}"), (item, want)
        estimate = flat(clinician.text_content("[data-estimate]"))
        left = wants["left"]
        assert estimate.startswith("Left eye") and (
            f": {left['text']}; 95% interval {left['ci95_low']} to {left['ci95_high']} logMAR ·" in estimate
        ), estimate
        shots.take(clinician, f"live-{index}")

        # The dashboard's result cell: each eye's line, and the stopped-early words after the eyes that did.
        clinician.goto(server.base_url + "/")
        cell = flat(clinician.text_content(f'tr[data-session="{public_id}"] [data-results]'))
        for eye, want in wants.items():
            assert f"{eye}: {flagged(want)}" in cell, (cell, want)
        assert cell.count("stopped early") == sum(bool(want["early"]) for want in wants.values()), cell
        if any(want["early"] for want in wants.values()):
            shots.take(clinician, f"dashboard-{index}", full_page=False)

        # The patient's done screen, results shared.
        patient = shots.watch("patient", new_context().new_page())
        patient.goto(invite_url)
        patient.wait_for_selector("[data-results]:not([hidden]) [data-results-list] li")
        lines = patient.locator("[data-results-list] li").all_text_contents()
        # Plain words with the clinician's notation beside them, never a logMAR (webapp/patient_words.py),
        # and the stopped-early words after an eye that stopped early.
        for line, (eye, want) in zip(lines, wants.items(), strict=True):
            notation = want["text"].split(" · ")[0] + (f" · {want['early']}" if want["early"] else "")
            assert line.startswith(f"{EYE_NAMES[eye]}: ") and line.endswith(f" — {notation}"), (line, notation)
            assert "logMAR" not in line
        shots.take(patient, f"patient-done-{index}")
        patient.context.close()

        # The result page and the report: the same fields, the same strings.
        for path in ("result", "report"):
            clinician.goto(f"{base}/{path}")
            for eye, want in wants.items():
                section = f'[data-eye="{eye}"]'
                texts = {
                    name: flat(clinician.text_content(f"{section} [data-{name}]"))
                    for name in ("acuity", "logmar", "ci95", "snellen", "decimal")
                }
                assert texts["acuity"] == want["text"]
                assert want["logmar"] in texts["logmar"].split(" ")
                assert texts["ci95"] == f"{want['ci95_low']} to {want['ci95_high']}"
                assert texts["snellen"] == f"{want['snellen_6']} · {want['snellen_20']}"
                assert texts["decimal"] == want["decimal"]
                near = clinician.locator(f"{section} [data-near]")
                assert (near.text_content() if near.count() else None) == (
                    f"{want['n_point']} · {want['m_units']}" if "n_point" in want else None
                )
                trials = flat(clinician.text_content(f"{section} [data-trials]"))
                assert (STOPPED_EARLY in trials) == (path == "report" and bool(want["early"])), trials
                if path == "result":
                    flags = clinician.locator(f'{section} [data-flag="stopped_early"]')
                    assert (flags.text_content() if flags.count() else "") == want["early"]
            if path == "report":  # page one: the summary of both eyes, the flags beside each result
                for eye, want in wants.items():
                    row = f'[data-summary-eye="{eye}"]'
                    assert flat(clinician.text_content(f"{row} [data-summary-acuity]")) == want["text"]
                    assert flat(clinician.text_content(f"{row} [data-summary-ci95]")) == (
                        f"{want['ci95_low']} to {want['ci95_high']} logMAR"
                    )
                    flags = clinician.locator(f'{row} [data-flag="stopped_early"]')
                    assert (flags.text_content() if flags.count() else "") == want["early"]
            shots.take(clinician, f"{path}-{index}")
            if index == len(SESSIONS) - 1:  # one of each page is enough for axe (a second or two each)
                assert serious_violations(clinician) == [], path

        # The PDF's text.
        response = http.get(f"{base}/report.pdf")
        assert response.status_code == 200
        pages = PdfReader(io.BytesIO(response.content)).pages
        pdf = flat(" ".join(page.extract_text() for page in pages))
        first_page = flat(pages[0].extract_text())  # the summary: each result, its interval, its flags
        assert first_page.count(STOPPED_EARLY) == sum(1 for want in wants.values() if want["early"])
        for want in wants.values():
            assert flat(want["text"].replace(" · ", " ")) in first_page.replace(" · ", " ")
            assert f"{want['ci95_low']} to {want['ci95_high']} logMAR" in first_page
            assert f"Acuity {want['text']}" in pdf
            assert f"logMAR {want['logmar']} (95% interval {want['ci95_low']} to {want['ci95_high']})" in pdf
            snellen = "Snellen equivalent" if "n_point" in want else "Snellen"  # a near test's is an equivalent
            assert f"{snellen} {want['snellen_6']} · {want['snellen_20']}" in pdf
            assert f"Decimal {want['decimal']}" in pdf
            if "n_point" in want:
                assert f"Near print {want['n_point']} · {want['m_units']}" in pdf

        # The results CSV.
        response = http.get(f"{base}/results.csv")
        assert response.status_code == 200
        rows = {row["eye"]: row for row in csv.DictReader(io.StringIO(response.text))}
        for eye, want in wants.items():
            row = rows[eye]
            assert (row["snellen_6m"], row["snellen_20ft"], row["decimal_chart_line"], row["acuity_text"]) == (
                want["snellen_6"],
                want["snellen_20"],
                want["decimal"],
                want["text"],
            )
            assert (row["near_n_point"], row["near_m_units"]) == (want.get("n_point", ""), want.get("m_units", ""))
            assert (row["who_category"] == "") == ("n_point" in want)  # ICD-11 9D90: distance acuity only
            assert (row["stopped_early"], row["reliability"]) == ("true" if want["early"] else "false", want["early"])

        # FHIR: the Snellen components, the decimal chart line and the line as reported.
        response = http.get(f"{base}/fhir.json")
        assert response.status_code == 200
        observations = [
            entry["resource"]
            for entry in response.json()["entry"]
            if entry["resource"]["resourceType"] == "Observation"
        ]
        assert len(observations) == 2
        for observation, want in zip(observations, wants.values(), strict=False):
            components = {c["code"]["text"]: c for c in observation["component"]}
            assert components["Snellen equivalent, 6 m"]["valueString"] == want["snellen_6"]
            assert components["Snellen equivalent, 20 ft"]["valueString"] == want["snellen_20"]
            assert components["Acuity as reported"]["valueString"] == want["text"]
            if "n_point" in want:
                assert components["Near print, N point"]["valueString"] == want["n_point"]
                assert components["Near print, M units at the test distance"]["valueString"] == want["m_units"]
            assert components[STOPPED_EARLY_TEXT]["valueBoolean"] is bool(want["early"])
            assert observation["status"] == ("preliminary" if want["early"] else "final")
            notes = [note["text"] for note in observation.get("note", [])]
            assert (f"Reliability: {want['early']}." in notes) == bool(want["early"])
            decimal = components["Decimal acuity, chart line"]["valueQuantity"]
            comparator = {"better": ">", "worse": "<"}.get(want["decimal"].split(" ")[0], "")
            assert (
                f"{decimal.get('comparator', '')}{decimal['value']:g}"
                == comparator + f"{float(want['decimal'].split(' ')[-1]):g}"
            )
        seen += 2
    assert seen == 10
