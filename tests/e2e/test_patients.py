"""A practice with patients in Chromium at 1366x768: a new patient made on the new-test form, the
same patient found by name and chosen for a second test, their page with both tests, the plot over
time and the change flag, the patients' list, the practice page and a colleague joining by the
invite link. axe finds no serious or critical problem on any of these pages. Screenshots in
test-artifacts/test_a_practice_with_patients/."""

from __future__ import annotations

import secrets

import pytest

from tests.support.flows import serious_violations, sign_in, submit_new_test
from tests.support.scripted import run_patient

pytestmark = pytest.mark.browser

LAPTOP = {"viewport": {"width": 1366, "height": 768}}


def test_a_practice_with_patients(new_context, live_server, shots):
    page = shots.watch("clinician", new_context(**LAPTOP).new_page())
    sign_in(page, live_server)
    tag = secrets.token_hex(3)
    reference, name = f"F-{tag}", f"Ann Tester {tag}"
    problems = {}

    def check(on, label):
        shots.take(on, label, full_page=False)  # as the clinician sees it, without scrolling
        shots.take(on, label + "-whole")
        found = serious_violations(on)
        if found:
            problems[label] = found

    # A new patient, with their details, on the new-test form.
    page.goto(f"{live_server}/sessions/new")
    page.fill('input[name="patient_reference"]', reference)
    page.fill('input[name="patient_name"]', name)
    page.fill('input[name="birth_year"]', "1948")
    page.fill('input[name="patient_email"]', f"ann.{tag}@example.org")
    check(page, "new-test-new-patient")
    invite_url, first = submit_new_test(page, eyes="right_left", procedure="chart")
    run_patient(live_server, invite_url, reads_above=0.25)

    # A typo in the year of birth: said under the field, nothing made.
    page.goto(f"{live_server}/sessions/new")
    page.fill('input[name="patient_reference"]', f"G-{tag}")
    page.fill('input[name="birth_year"]', "48")
    page.click('main [name="submit"]')
    page.wait_for_selector("#birth_year-error")
    assert "four digits" in page.text_content("#birth_year-error")
    assert page.get_attribute('input[name="birth_year"]', "aria-invalid") == "true"
    check(page, "new-test-bad-year")

    # The same patient, found by part of the name, chosen for a second test.
    page.goto(f"{live_server}/sessions/new")
    page.fill('input[name="patient_query"]', f"tester {tag}")
    page.click('button[name="find"], input[name="find"]')
    page.wait_for_selector(".patient-matches")
    option = page.locator(".patient-option", has_text=reference)
    assert option.count() == 1 and f"{reference} ({name}, born 1948)" in option.text_content()
    assert option.locator("input").is_checked()  # the one patient found is chosen
    check(page, "new-test-patient-found")
    invite_url, second = submit_new_test(page, eyes="right_left", procedure="chart")
    run_patient(live_server, invite_url, reads_above=0.45)  # 0.2 logMAR worse: beyond the change limit

    # From the dashboard to the patient's page.
    page.goto(live_server + "/")
    page.click(f'tr[data-session="{second}"] [data-patient-link]')
    page.wait_for_selector("[data-patient-page] svg.history-plot")
    assert page.text_content("[data-patient-reference]") == reference
    assert page.locator("[data-patient-tests] tr[data-session]").count() == 2
    assert page.locator(f'tr[data-session="{first}"]').count() == 1
    assert page.locator('table.history-table[data-eye="right"] tr[data-flagged]').count() == 1
    check(page, "patient-page")
    page.click("[data-new-test]")
    page.wait_for_selector(".patient-matches")
    assert page.locator(".patient-option", has_text=reference).locator("input").is_checked()

    page.goto(f"{live_server}/patients")
    page.wait_for_selector("[data-patients]")
    assert page.locator("[data-patients] a", has_text=reference).count() == 1
    check(page, "patients")

    # The practice: its admin makes a colleague's link; the colleague joins and sees the practice's tests.
    page.goto(f"{live_server}/practice")
    page.fill('input[name="email"]', f"colleague.{tag}@example.org")
    page.click('[name="invite"]')
    page.wait_for_selector("[data-colleague-link]")
    link = page.input_value("#colleague-link")
    check(page, "practice")
    colleague = shots.watch("colleague", new_context(**LAPTOP).new_page())
    colleague.goto(link)
    colleague.wait_for_selector('input[name="password"]')
    check(colleague, "join")
    colleague.fill('input[name="password"]', "a colleague's own words")
    colleague.fill('input[name="confirm"]', "a colleague's own words")
    colleague.click('main [name="submit"]')
    # Both of the practice's tests are on the colleague's dashboard, read after the one reload that
    # stores a new account's time zone (a count taken before it could land between the two pages).
    colleague.wait_for_selector("form.time-zone:not([data-time-zone-unset])")
    colleague.wait_for_selector(f'tr[data-session="{second}"]')
    assert colleague.locator(f'tr[data-session="{first}"]').count() == 1

    # The practice's notation, and a colleague removed after a confirmation: each in "Changes to the practice".
    page.goto(f"{live_server}/practice")
    page.select_option("#notation", "20ft")
    page.click('[name="save_notation"]')
    page.wait_for_selector("text=The practice's notation was saved")
    page.goto(f"{live_server}/sessions/{first}/result")
    assert "20/" in page.text_content("main").split("logMAR")[0]  # the result leads with 20/ now
    page.goto(f"{live_server}/practice")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click(f'[data-remove="colleague.{tag}@example.org"]')
    page.wait_for_selector("text=was removed from the practice and signed out")
    changes = page.eval_on_selector_all(
        "[data-practice-changes] tr[data-action]", "rows => rows.map(r => r.dataset.action)"
    )
    assert changes[:4] == ["colleague_removed", "notation_set", "colleague_joined", "colleague_invited"]
    check(page, "practice after changes")
    page.select_option("#notation", "6m")  # the shared server's other tests read 6/
    page.click('[name="save_notation"]')
    page.wait_for_selector("text=The practice's notation was saved")
    colleague.goto(f"{live_server}/sessions/{first}")
    assert "/login" in colleague.url  # signed out at once
    assert problems == {}, problems
