"""The clinical report in Chromium: a chart test run to the end over real websockets against the
real server, then the report page on screen and as printed, and the server's PDF. Screenshots are
kept: test-artifacts/report.png (screen), test-artifacts/report-print.png (print media),
test-artifacts/report-pdf-1.png, -2.png, ... (the PDF's pages, drawn by poppler's pdftoppm, which
scripts/test.sh installs) and test-artifacts/report-history.png (the patient's history)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
import requests
from pypdf import PdfReader

from tests.support.flows import create_test, serious_violations, sign_in
from tests.support.scripted import run_patient
from tests.support.server import ARTIFACTS

pytestmark = pytest.mark.browser


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


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
    pdf = page.pdf(format="A4")  # Chromium's own print of the page: page one is the summary
    printed = [flat(p.extract_text()) for p in PdfReader(io.BytesIO(pdf)).pages]
    assert "Summary" in printed[0] and "Signature" in printed[0] and "Appendix" not in printed[0]
    assert printed[1].startswith("Appendix: each eye in detail")

    # The server's PDF: page one the summary of both eyes, then the appendix; each page as a picture.
    http = requests.Session()
    http.cookies.update({c["name"]: c["value"] for c in page.context.cookies()})
    response = http.get(f"{live_server}/sessions/{public_id}/report.pdf")
    assert response.status_code == 200
    pages = [flat(p.extract_text()) for p in PdfReader(io.BytesIO(response.content)).pages]
    assert "Right eye (OD)" in pages[0] and "Left eye (OS)" in pages[0] and "Signature" in pages[0]
    assert "Appendix" not in pages[0] and pages[1].startswith("Appendix: each eye in detail")
    assert "e2e scripted display" in pages[-1] and not any("e2e scripted display" in text for text in pages[:-1])
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:  # scripts/test.sh installs it; without it the pictures are left out, not the checks
        (ARTIFACTS / "report.pdf").write_bytes(response.content)
        subprocess.run(
            [pdftoppm, "-r", "80", "-png", str(ARTIFACTS / "report.pdf"), str(ARTIFACTS / "report-pdf")],
            check=True,
            timeout=60,
        )
        assert (ARTIFACTS / "report-pdf-1.png").exists()

    page.emulate_media(media="screen")
    page.click("text=history of this patient")
    page.wait_for_selector("svg.history-plot")
    assert page.locator('table.history-table[data-eye="right"] tbody tr').count() >= 1
    page.screenshot(path=str(ARTIFACTS / "report-history.png"), full_page=True)
    assert serious_violations(page) == []
