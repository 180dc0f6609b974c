"""Clinical report (HTML and PDF), ownership of every report route, and the patient history.

The sessions are scripted through the app's own code paths: the new-test form, the patient's
socket events (consent, calibration, ready, answers, a hidden page) and the clinician's note.
`run_chart_session` (tests/support/reports.py) is shared with tests/test_csv_export.py and
tests/test_fhir_export.py.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.support.app import add_clinician, create_test, display, login, make_app, start_testing, watcher
from tests.support.reports import NOTE, answer_until_done, reader, run_chart_session
from webapp.extensions import db
from webapp.models import TestSession


def letter_score(shown, reads_above):
    """Letter-by-letter chart score (docs/measurement.md §7) of what the script answered."""
    letters = sum(len(s["optotypes"]) for s in shown if reads_above is None or s["logmar"] > reads_above)
    return shown[0]["logmar"] + 0.1 - 0.02 * letters


def stored_results(app, public_id):
    with app.app_context():
        session = db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))
        return {e.eye: dict(e.result) for e in session.eye_tests if e.result}


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def scripted(app, clinician_client):
    public_id, shown = run_chart_session(app, clinician_client)
    return public_id, shown, stored_results(app, public_id)


def test_report_holds_every_field_of_a_scripted_session(clinician_client, scripted):
    public_id, shown, results = scripted
    response = clinician_client.get(f"/sessions/{public_id}/report")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    text = text_of(html)

    right, left = results["right"], results["left"]
    assert right["logmar"] == pytest.approx(letter_score(shown["right"], 0.25)) == pytest.approx(0.3)
    right_section = html.split('data-eye="right"')[1].split('data-eye="left"')[0]
    assert re.search(r"data-logmar>0\.30<", right_section)
    assert f"data-ci95>{right['ci95_low_logmar']:.2f} to {right['ci95_high_logmar']:.2f}<" in right_section
    assert "data-snellen>6/12 · 20/40<" in right_section
    assert "data-decimal>0.50<" in right_section and "data-etdrs>70<" in right_section
    assert "data-who>none<" in right_section
    assert right_section.count("<tr><td>") == len(shown["right"])  # the trial-by-trial table
    assert 'data-mark="wrong"' in right_section and 'data-mark="right"' in right_section  # the plot
    assert "data-bound" not in right_section

    left_section = html.split('data-eye="left"')[1]
    assert left["bound"] == "<="
    assert f"data-logmar>&lt;= {left['logmar']:.2f}<" in left_section
    assert "the smallest size this screen could draw was read" in left_section
    assert left_section.count("<tr><td>") == len(shown["left"])

    for expected in (
        "Patient A",
        "doc@example.org",
        "Correction worn None",
        "Sloan letters",
        "Chart (rows from large to small), a whole row at once",
        "Letter by letter",
        "3 m, measured with a tape",
        "3000 mm, measured with a tape or string",
        "4.000 CSS px/mm, bank card",
        "1600 × 900",
        "pytest",
        "the test page was hidden",
        NOTE,
    ):
        assert expected in text, expected
    # Page one is the summary of both eyes, then the appendix; the browser only in the technical details.
    summary, appendix = text.split("Appendix: each eye in detail")
    technical = appendix.split("Technical details")[1]
    assert "6/12 (20/40) · 0.30 logMAR" in summary and "6/3 (20/10) or better · -0.30 logMAR" in summary
    assert "paused once with the test page hidden" in summary and "3 m from the screen (tape)" in summary
    assert "Name" in summary and "Signature" in summary and NOTE in summary
    assert "pytest" in technical and "pytest" not in text.split("Technical details")[0]
    for internal in ("docs/", "devicePixelRatio", "page_hidden", "{", "user agent"):
        assert internal not in text, internal
    assert re.search(r"data-dpr>2\.0<", html)
    assert re.search(r"Test date \d{4}-\d\d-\d\d \d\d:\d\d UTC", text)
    # Distinct SVG title ids for the two plots (one page, two eyes).
    assert 'id="trial-plot-right-title"' in html and 'id="trial-plot-left-title"' in html


def test_report_links_carry_no_patient_identity(clinician_client, scripted):
    public_id, _, _ = scripted
    html = clinician_client.get(f"/sessions/{public_id}/report").get_data(as_text=True)
    links = re.findall(r'href="([^"]+)"', html)
    assert any(link.endswith(f"/sessions/{public_id}/history") for link in links)
    assert not [link for link in links if "Patient" in link]
    for path in ("report.pdf", "results.csv", "trials.csv", "fhir.json"):
        response = clinician_client.get(f"/sessions/{public_id}/{path}")
        assert response.headers["Cache-Control"] == "no-store"
        assert "Patient" not in response.headers["Content-Disposition"]
        assert public_id in response.headers["Content-Disposition"]


def test_pdf_opens_and_holds_the_numbers(clinician_client, scripted):
    public_id, shown, results = scripted
    response = clinician_client.get(f"/sessions/{public_id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.data))
    text = " ".join(page.extract_text() for page in pdf.pages)
    flat = re.sub(r"\s+", " ", text)
    right, left = results["right"], results["left"]
    assert "Patient A" in flat and "doc@example.org" in flat
    assert f"0.30 (95% interval {right['ci95_low_logmar']:.2f} to {right['ci95_high_logmar']:.2f})" in flat
    assert "6/12 · 20/40" in flat
    assert f"{left['logmar']:.2f} (95% interval" in flat and "<= " in flat
    assert "Sloan letters" in flat and "3000 mm" in flat and "2 screen pixels per CSS pixel" in flat
    assert "the test page was hidden" in flat and NOTE in flat
    # Page one: the summary of both eyes and the signature; the appendix starts on page two; the
    # browser's own description only under "Technical details".
    first = re.sub(r"\s+", " ", pdf.pages[0].extract_text())
    assert "Summary" in first and "Right eye (OD)" in first and "Left eye (OS)" in first and "Signature" in first
    assert "paused once with the test page hidden" in first and NOTE in first
    assert "Appendix" not in first and re.sub(r"\s+", " ", pdf.pages[1].extract_text()).startswith("Appendix")
    assert "pytest" not in flat.split("Technical details")[0] and "docs/" not in flat
    # every trial is in the table: its logMAR and what was shown
    for trial in shown["right"] + shown["left"]:
        assert " ".join(trial["optotypes"]) in flat
    # the document's metadata names the session, not the patient
    assert "Patient" not in (pdf.metadata.subject or "") and "Patient" not in (pdf.metadata.title or "")


REPORT_PATHS = ["report", "report.pdf", "results.csv", "trials.csv", "fhir.json", "history"]


def test_every_report_route_is_for_the_owner_only(app, clinician_client, scripted):
    public_id, _, _ = scripted
    for path in REPORT_PATHS:
        assert clinician_client.get(f"/sessions/{public_id}/{path}").status_code == 200, path
    add_clinician(app, "other@example.org")
    other = login(app.test_client(), "other@example.org")
    for path in REPORT_PATHS:
        assert other.get(f"/sessions/{public_id}/{path}").status_code == 404, path
        assert other.get(f"/sessions/nonexistent/{path}").status_code == 404, path
    anonymous = app.test_client()
    for path in [f"/sessions/{public_id}/{p}" for p in REPORT_PATHS] + ["/exports/results.csv", "/exports/trials.csv"]:
        response = anonymous.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    assert public_id not in other.get("/exports/results.csv").get_data(as_text=True)
    assert public_id not in other.get("/exports/trials.csv").get_data(as_text=True)


def test_history_lists_the_same_patient_and_flags_a_change_beyond_the_limit(app, clinician_client):
    first, _ = run_chart_session(app, clinician_client, right_reads_to=0.25, note=None)  # right 0.30
    second, _ = run_chart_session(app, clinician_client, right_reads_to=0.05, note=None)  # right 0.10
    stranger, _ = run_chart_session(app, clinician_client, patient_reference="Patient B", note=None)
    add_clinician(app, "other@example.org")
    other = login(app.test_client(), "other@example.org")
    foreign, _ = run_chart_session(app, other, note=None)  # same reference, another clinician

    html = clinician_client.get(f"/sessions/{second}/history").get_data(as_text=True)
    assert f"/sessions/{first}/report" in html and f"/sessions/{second}/report" in html
    assert stranger not in html and foreign not in html
    right_table = html.split('<table class="history-table" data-eye="right"')[1].split("</table>")[0]
    assert right_table.count("<tr") == 3  # header + two results, oldest first
    assert right_table.index("0.30") < right_table.index("0.10")
    assert right_table.count("data-flagged") == 1 and "-0.20" in right_table
    left_table = html.split('<table class="history-table" data-eye="left"')[1].split("</table>")[0]
    assert "data-flagged" not in left_table  # the same bound both times: no change
    plot = re.search(r'<svg[^>]*class="history-plot".*?</svg>', html, re.S).group(0)
    assert plot.count('data-point="') == 4 and plot.count('data-flagged="true"') == 1
    assert plot.count('data-eye="right"') >= 3 and plot.count('data-eye="left"') >= 3  # 2 points + line each


def test_history_change_limit_is_configurable(db_path):
    app = make_app(db_path, HISTORY_CHANGE_LIMIT_LOGMAR=0.25)
    add_clinician(app)
    client = login(app.test_client())
    run_chart_session(app, client, right_reads_to=0.25, note=None)
    second, _ = run_chart_session(app, client, right_reads_to=0.05, note=None)
    html = client.get(f"/sessions/{second}/history").get_data(as_text=True)
    assert "data-flagged" not in html and "larger than 0.25 logMAR" in html
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_session_without_results_still_has_a_report(app, clinician_client):
    public_id, token = create_test(clinician_client, eyes="right")
    screen = display(app, token)
    start_testing(screen)
    watch = watcher(app, clinician_client)
    assert watch.send("end", {"session_id": public_id})["ok"]
    html = clinician_client.get(f"/sessions/{public_id}/report").get_data(as_text=True)
    assert "No result: this eye was not tested" in html and "ended" in html
    pdf = PdfReader(io.BytesIO(clinician_client.get(f"/sessions/{public_id}/report.pdf").data))
    assert "No result" in pdf.pages[0].extract_text()
    assert "No results yet" in clinician_client.get(f"/sessions/{public_id}/history").get_data(as_text=True)


def test_result_page_and_dashboard_link_to_the_report_and_exports(clinician_client, scripted):
    public_id, _, _ = scripted
    result = clinician_client.get(f"/sessions/{public_id}/result").get_data(as_text=True)
    for path in REPORT_PATHS:
        assert f'href="/sessions/{public_id}/{path}"' in result, path
    dashboard = clinician_client.get("/").get_data(as_text=True)
    assert f'href="/sessions/{public_id}/report"' in dashboard
    assert 'href="/exports/results.csv"' in dashboard and 'href="/exports/trials.csv"' in dashboard


def test_warnings_list_a_zoom_the_recalibration_and_a_pause(app, clinician_client):
    from tests.support.app import CALIBRATION

    public_id, token = create_test(clinician_client, eyes="right", procedure="chart")
    screen = display(app, token)
    stimulus = start_testing(screen)
    assert screen.send("page_event", {"kind": "zoom", "detail": {"device_pixel_ratio": 2.5}})["paused"] is True
    assert screen.send("calibration", {**CALIBRATION, "device_pixel_ratio": 2.5})["ok"]
    watch = watcher(app, clinician_client)
    assert watch.send("pause", {"session_id": public_id})["ok"]
    assert watch.send("resume", {"session_id": public_id})["ok"]
    assert screen.send("ready")["ok"]
    answer_until_done(screen, screen.last("stimulus") or stimulus, reader(0.25))
    html = clinician_client.get(f"/sessions/{public_id}/report").get_data(as_text=True)
    warnings = re.search(r"<ul data-warnings>(.*?)</ul>", html, re.S).group(1)
    order = [
        warnings.index(text)
        for text in (
            "the browser zoom or the screen changed",
            "calibration voided (the browser zoom or the screen changed)",
            "the clinician paused the test",
            "the clinician resumed the test",
        )
    ]
    assert order == sorted(order)
    flags = dict(re.findall(r'<li data-flag="(\w+)">([^<]*)</li>', html))
    assert flags["recalibrated"] == "recalibrated mid-eye once (the browser zoom or the screen changed)"
    assert flags["paused"] == "paused once by the clinician"
    assert html.count('<tr class="voided">') == 1  # the first calibration, voided by the zoom
    assert re.search(r"data-dpr>2\.5<", html)


def test_pdf_keeps_a_patient_reference_outside_latin_1(app, clinician_client):
    reference = "Zoë Øster – Ελένη"
    public_id, token = create_test(clinician_client, patient_reference=reference, eyes="right")
    screen = display(app, token)
    answer_until_done(screen, start_testing(screen), reader(0.25))
    pdf = PdfReader(io.BytesIO(clinician_client.get(f"/sessions/{public_id}/report.pdf").data))
    assert reference in pdf.pages[0].extract_text()


def test_history_plot_puts_visits_in_order_along_time():
    from webapp.reports.charts import history_plot_svg

    def point(public_id, at, logmar, flagged=False):
        return {
            "public_id": public_id,
            "eye": "right",
            "at": at,
            "logmar": logmar,
            "logmar_text": f"{logmar:.2f}",
            "ci95_low_logmar": logmar - 0.05,
            "ci95_high_logmar": logmar + 0.05,
            "change_logmar": None,
            "flagged": flagged,
        }

    def xs(svg, eye):
        return [float(v) for v in re.findall(rf'<circle cx="([\d.]+)"[^>]*data-eye="{eye}" data-point', svg)]

    apart = history_plot_svg(
        {
            "right": [
                point("a", "2026-01-01T10:00:00Z", 0.3),
                point("b", "2026-01-31T10:00:00Z", 0.1),
                point("c", "2026-02-02T10:00:00Z", 0.1, flagged=True),
            ]
        },
        "t",
    )
    first, second, third = xs(apart, "right")
    assert first < second < third and (second - first) > 10 * (third - second)  # spaced by time
    assert apart.count('data-flagged="true"') == 1
    same_second = history_plot_svg(
        {"right": [point("a", "2026-01-01T10:00:00Z", 0.3), point("b", "2026-01-01T10:00:00Z", 0.1)]}, "t"
    )
    left_x, right_x = xs(same_second, "right")
    assert left_x < right_x  # same stored second: by order, not on top of each other
    assert history_plot_svg({}, "t") == ""
    assert "data-no-measured" not in apart and ">logMAR<" in apart and re.search(r">[+-]\d\.\d<", apart)
    below = {**point("d", "2026-03-01T10:00:00Z", 0.0), "logmar": None, "category": "CF", "category_text": "CF at 1 m"}
    only_categories = history_plot_svg({"right": [below]}, "t")
    # Only categories: no empty 0-1 scale, but words saying why, and the code in the strip.
    assert "data-no-measured" in only_categories and ">logMAR<" not in only_categories
    assert not re.search(r">[+-]\d\.\d<", only_categories) and 'data-category="CF"' in only_categories
    # Both eyes below the chart at one visit: the two codes side by side inside the strip, not on top.
    both = history_plot_svg({"right": [below], "left": [{**below, "eye": "left", "category": "NLP"}]}, "t")
    codes = [float(v) for v in re.findall(r'<text x="([\d.]+)"[^>]*data-category=', both)]
    assert len(codes) == 2 and abs(codes[0] - codes[1]) >= 28 and all(56 + 15 <= c <= 560 - 16 - 15 for c in codes)


def test_an_eye_the_clinician_moved_on_from_is_flagged_stopped_early_everywhere(app, clinician_client):
    """Adaptive, right eye ended by the clinician's "next eye" after 3 answers (the procedure needs
    its 30 trials, or its edge rule): the report's summary and appendix, the result page, the
    history and the CSV say "stopped early"; the left eye, run to the procedure's end, does not."""
    public_id, token = create_test(clinician_client, eyes="right_left", procedure="adaptive")
    screen = display(app, token)
    watch = watcher(app, clinician_client)
    assert watch.send("watch", {"session_id": public_id})["ok"]
    stimulus = start_testing(screen)
    for _ in range(3):
        ack = screen.send(
            "answer",
            {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": list(stimulus["optotypes"])},
        )
        assert ack["ok"], ack
        stimulus = screen.last("stimulus")
    assert watch.send("next_eye", {"session_id": public_id})["ok"]
    eye_done = watch.last("eye_done")
    assert eye_done["result"]["stopped_early"] is True
    assert eye_done["result"]["stopped_early_text"] == "stopped early, after 3 trials"
    assert screen.send("ready")["ok"]
    left = answer_until_done(screen, screen.last("stimulus"), reader(0.3))
    assert len(left) >= 8

    report = clinician_client.get(f"/sessions/{public_id}/report").get_data(as_text=True)
    flags = re.findall(r'<tr data-summary-eye="(\w+)">.*?<td data-flags>(.*?)</td>', report, re.S)
    assert [(eye, "stopped early, after 3 trials" in cell) for eye, cell in flags] == [("right", True), ("left", False)]
    assert report.count("stopped early, after 3 trials") == 2  # the summary and the right eye's appendix
    result = clinician_client.get(f"/sessions/{public_id}/result").get_data(as_text=True)
    assert result.count('data-flag="stopped_early"') == 1
    history = clinician_client.get(f"/sessions/{public_id}/history").get_data(as_text=True)
    assert history.count("data-stopped-early") == 1
    dashboard = clinician_client.get("/").get_data(as_text=True)
    [cell] = re.findall(r"<td data-results>(.*?)</td>", dashboard, re.S)
    right, left = cell.split("; ")  # the dashboard's result cell flags the right eye only, in the same words
    assert right.startswith("right: ") and right.endswith("data-stopped-early>stopped early, after 3 trials</strong>")
    assert left.startswith("left: ") and "stopped early" not in left
    text = clinician_client.get(f"/sessions/{public_id}/results.csv").get_data(as_text=True)
    early = {row["eye"]: row["stopped_early"] for row in csv.DictReader(io.StringIO(text))}
    assert early == {"right": "true", "left": "false"}


def test_reliability_flags_name_a_distance_off_the_set_up_and_a_letter_drawn_off_size(app, clinician_client):
    """A 3 m test calibrated at 2.5 m (more than 10% off the set-up), then a letter drawn 2.5% small
    (the calibration is voided, the patient measures again): the eye's flags in the summary say
    both in words, with no stored code."""
    from tests.support.app import CALIBRATION

    public_id, token = create_test(clinician_client, eyes="right", procedure="chart")
    screen = display(app, token)
    far = {**CALIBRATION, "distance": {"method": "tape", "distance_mm": 2500}}
    stimulus = start_testing(screen, far)
    side = stimulus["height_css_px"] * 2.0 * 0.975  # device px at DPR 2, 2.5% small
    drawn = {
        "trial_id": stimulus["trial_id"],
        "seq": stimulus["seq"],
        "device_pixel_ratio": 2.0,
        "visual_viewport_scale": 1.0,
        "ink_device_px": [[side, side] for _ in stimulus["optotypes"]],
    }
    assert screen.send("drawn", drawn) == {"ok": True, "within_tolerance": False}
    assert screen.send("calibration", far)["ok"]
    assert screen.send("ready")["ok"]
    answer_until_done(screen, screen.last("stimulus"), reader(0.25))

    html = clinician_client.get(f"/sessions/{public_id}/report").get_data(as_text=True)
    summary = html.split("Appendix: each eye in detail")[0]
    flags = dict(re.findall(r'<li data-flag="(\w+)">([^<]*)</li>', summary))
    assert flags == {
        "recalibrated": "recalibrated mid-eye once",
        "distance": "viewing distance 2.5 m, not the set-up&#39;s 3 m",
        "drawn_size": "a letter drawn more than 2% off its size once",
    }
    assert "drawn_size_off" not in html and "distance_differs" not in html


def test_the_report_and_exports_lead_with_the_practices_notation(db_path):
    """VISUS_NOTATION=20ft: the summary, the appendix, the CSV's line and FHIR's "as reported" all
    lead with 20/; the Snellen columns are unchanged."""
    app = make_app(db_path, NOTATION="20ft")
    add_clinician(app)
    client = login(app.test_client())
    public_id, _ = run_chart_session(app, client, note=None)
    html = client.get(f"/sessions/{public_id}/report").get_data(as_text=True)
    assert (
        "data-summary-acuity>20/40 (6/12) · 0.30 logMAR<" in html and "data-acuity>20/40 (6/12) · 0.30 logMAR<" in html
    )
    assert "data-snellen>6/12 · 20/40<" in html
    rows = list(csv.DictReader(io.StringIO(client.get(f"/sessions/{public_id}/results.csv").get_data(as_text=True))))
    assert rows[0]["acuity_text"] == "20/40 (6/12) · 0.30 logMAR" and rows[0]["snellen_6m"] == "6/12"
    bundle = client.get(f"/sessions/{public_id}/fhir.json").get_json()
    observations = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]
    components = {c["code"]["text"]: c for c in observations[0]["component"]}
    assert components["Acuity as reported"]["valueString"] == "20/40 (6/12) · 0.30 logMAR"


def test_the_practice_page_sets_the_notation_every_surface_follows(db_path):
    """The server's default (VISUS_NOTATION, 6m here) until the practice's admin chooses decimal on
    the practice page: then the report, the result page, the CSV's line, FHIR's "as reported", the
    live view's snapshot and the patient's done screen all lead with it; another practice on the
    same server keeps the default."""
    app = make_app(db_path, NOTATION="6m")
    add_clinician(app)
    add_clinician(app, "other@example.org")
    client, other = login(app.test_client()), login(app.test_client(), "other@example.org")
    public_id, _ = run_chart_session(app, client, note=None, show_results="y")
    other_id, _ = run_chart_session(app, other, note=None)
    six, decimal = "6/12 (20/40) · 0.30 logMAR", "decimal 0.50 (6/12) · 0.30 logMAR"

    def surfaces(http, session_id) -> dict[str, bool]:
        """Which surfaces lead with the decimal line (each must show one of the two lines)."""
        report = http.get(f"/sessions/{session_id}/report").get_data(as_text=True)
        result = http.get(f"/sessions/{session_id}/result").get_data(as_text=True)
        rows = csv.DictReader(io.StringIO(http.get(f"/sessions/{session_id}/results.csv").get_data(as_text=True)))
        bundle = http.get(f"/sessions/{session_id}/fhir.json").get_json()
        observation = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation")
        reported = next(c for c in observation["component"] if c["code"]["text"] == "Acuity as reported")
        watch = watcher(app, http)
        right_eye = watch.send("watch", {"session_id": session_id})["snapshot"]["eyes"][0]["result"]["notation"]
        shown = {
            "report": report,
            "result page": result,
            "csv": next(rows)["acuity_text"],
            "fhir": reported["valueString"],
            "live view": right_eye["text"],
        }
        for name, text in shown.items():
            assert (six in text) != (decimal in text), name
        return {name: decimal in text for name, text in shown.items()}

    assert set(surfaces(client, public_id).values()) == {False}
    page = client.get("/practice").get_data(as_text=True)
    assert "Not chosen for this practice yet" in page and "decimal 0.50 (6/12)" in page  # the choice, as it reads
    assert client.post("/practice/notation", data={"notation": "decimal"}).status_code == 302
    assert set(surfaces(client, public_id).values()) == {True}
    assert set(surfaces(other, other_id).values()) == {False}  # another practice: the server's default
    with app.app_context():
        from webapp.live.payloads import state

        session = db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))
        words = state(session, "display")["results_words"]
    assert words and words[0].endswith("decimal 0.50 (6/12)")  # the patient's done screen
    refused = client.post("/practice/notation", data={"notation": "snellen"})
    assert refused.status_code == 400 and "Not a valid choice" in refused.get_data(as_text=True)
