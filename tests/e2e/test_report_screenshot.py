"""The clinical report in Chromium: a chart test run to the end over real websockets against the
real server, then the report page on screen and as printed. Screenshots are kept:
test-artifacts/report.png (screen), test-artifacts/report-print.png (print media) and
test-artifacts/report-history.png (the patient's history)."""

from __future__ import annotations

import pytest

from tests.support.flows import create_test, serious_violations, sign_in
from tests.support.scripted import run_patient
from tests.support.server import ARTIFACTS

pytestmark = pytest.mark.browser


def test_report_on_screen_and_printed(new_context, live_server, shots):
    page = shots.watch("clinician", new_context(viewport={"width": 1200, "height": 900}).new_page())
    sign_in(page, live_server)
    invite_url, public_id = create_test(page, live_server, eyes="right_left", procedure="chart")
    answered = run_patient(live_server, invite_url, reads_above=0.25)
    assert answered >= 4

    page.goto(f"{live_server}/sessions/{public_id}/report")
    page.wait_for_selector('[data-eye="left"] [data-logmar]')
    assert page.text_content('[data-eye="right"] [data-logmar]') == "0.30"
    assert page.text_content('[data-eye="right"] [data-snellen]') == "6/12 · 20/40"
    assert page.locator("svg.trial-plot").count() == 2
    assert page.locator(".site-header").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    assert serious_violations(page) == []

    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()  # no navigation on paper
    assert not page.locator(".report-actions").is_visible()
    assert page.locator('[data-eye="right"] [data-logmar]').is_visible()
    page.screenshot(path=str(ARTIFACTS / "report-print.png"), full_page=True)
    pdf = page.pdf(format="A4")  # Chromium's own print of the page: it must lay out and hold pages
    assert pdf.startswith(b"%PDF")

    page.emulate_media(media="screen")
    page.click("text=history of this patient")
    page.wait_for_selector("svg.history-plot")
    assert page.locator('table.history-table[data-eye="right"] tbody tr').count() >= 1
    page.screenshot(path=str(ARTIFACTS / "report-history.png"), full_page=True)
    assert serious_violations(page) == []
