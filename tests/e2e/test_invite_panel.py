"""The invite panel in Chromium at 1366x768, on a server that sends e-mail through a real SMTP server:
the invite survives a reload, the link is copied (Clipboard API, and the fallback without it), its QR
code shown, sent by e-mail, re-issued from the live view and withdrawn, each after a confirmation;
the dashboard's states, filters and time zone. axe finds no serious or critical problem on these pages."""

from __future__ import annotations

import pytest

from tests.support.flows import create_test, serious_violations, sign_in
from tests.support.server import ServerProcess
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
ZONE = "Europe/Berlin"


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory):
    """(base URL, SMTP server): a Visus of its own, configured to send through the SMTP server."""
    with SmtpServer() as smtp:
        server = ServerProcess(tmp_path_factory.mktemp("invite-panel"), env=smtp.environment()).start()
        yield server.base_url, smtp
        server.stop()
        server.keep_log("invite-panel-server.log")


def accept_next_dialog(page, answer: bool = True) -> list[str]:
    """Answer the next window.confirm; returns the list its text is put in."""
    seen: list[str] = []

    def handle(dialog):
        seen.append(dialog.message)
        dialog.accept() if answer else dialog.dismiss()

    page.once("dialog", handle)
    return seen


def test_invite_reload_copy_qr_email_reissue_and_withdraw(new_context, mail_server, shots):
    base, smtp = mail_server
    context = new_context(viewport=LAPTOP, timezone_id=ZONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    clinician = shots.watch("clinician", context.new_page())
    sign_in(clinician, base)
    invite_url, public_id = create_test(clinician, base, reference="Mrs Example", eyes="right")

    # Post/redirect/get: the page is the invite's own address; a reload shows the same link, no new test.
    assert clinician.url == f"{base}/sessions/{public_id}/invite"
    clinician.reload()
    assert clinician.input_value("[data-invite-url]") == invite_url
    clinician.goto(base + "/")
    assert clinician.locator("tr[data-session]").count() == 1
    clinician.go_back()

    clinician.click("[data-invite-copy]")
    clinician.wait_for_function("() => document.querySelector('[data-invite-copied]').textContent !== ''")
    assert "Link copied" in clinician.text_content("[data-invite-copied]")
    assert clinician.evaluate("() => navigator.clipboard.readText()") == invite_url

    clinician.click("[data-invite-qr] summary")
    qr = clinician.locator("[data-invite-qr] svg")
    box = qr.bounding_box()
    assert qr.is_visible() and box["width"] > 150 and box["height"] > 150  # big enough to scan from a screen
    clinician.click("[data-invite-mail] summary")
    assert serious_violations(clinician) == []
    shots.take(clinician, "invite page, QR code and e-mail form")

    clinician.fill("#to", "mrs.example@example.org")
    message = clinician.input_value("#message")
    assert "{link}" in message and "bank card" in message and "{space}" in message and "10 minutes" in message
    clinician.fill("#message", "Dear Mrs Example,\n\nyour test: {link}\n\nThe Eye Practice, 01234 567890")
    clinician.click("[data-invite-mail] [type=submit]")
    clinician.wait_for_selector("text=The link was sent by e-mail to mrs.example@example.org.")
    [(recipients, mail)] = smtp.inbox.messages
    assert recipients == ["mrs.example@example.org"] and invite_url in mail.get_content()
    shots.take(clinician, "after sending the e-mail")

    # Re-issue from the live view, after a confirmation; it comes back to the live view.
    clinician.goto(f"{base}/sessions/{public_id}")
    clinician.click(".invite-details > summary")
    assert clinician.input_value("[data-invite-url]") == invite_url
    assert serious_violations(clinician) == []
    shots.take(clinician, "live view with the link panel open", full_page=False)
    declined = accept_next_dialog(clinician, answer=False)
    clinician.click("[data-invite-action=reissue]")
    assert "stop working at once" in declined[0]
    assert clinician.url == f"{base}/sessions/{public_id}"  # declined: nothing happened
    accepted = accept_next_dialog(clinician)
    with clinician.expect_navigation():
        clinician.click("[data-invite-action=reissue]")
    assert accepted and clinician.url == f"{base}/sessions/{public_id}"
    clinician.click(".invite-details > summary")
    new_url = clinician.input_value("[data-invite-url]")
    assert new_url != invite_url
    patient = new_context(viewport=LAPTOP).new_page()
    assert patient.goto(invite_url).status == 404  # the old link opens nothing
    assert "new link" in patient.text_content("main")

    # The patient opens the new link while the live view is open: its link panel says so, no reload.
    assert clinician.get_attribute("[data-invite-state]", "data-invite-state") == "invited"
    assert not clinician.is_visible('[data-invite-opened="live"]')
    opener = shots.watch("patient", new_context(viewport=LAPTOP).new_page())
    opener.goto(new_url)
    clinician.wait_for_selector('[data-device="display"][data-on="true"]')
    clinician.wait_for_selector('[data-invite-state="opened"]')
    assert clinician.text_content("[data-invite-state-text]") == "link opened, test not started"
    assert clinician.is_visible('[data-invite-opened="live"]') and clinician.url == f"{base}/sessions/{public_id}"
    shots.take(clinician, "live view: the link panel after the patient opened the link", full_page=False)

    # Withdraw on the invite page, after a confirmation.
    clinician.goto(f"{base}/sessions/{public_id}/invite")
    withdrawn = accept_next_dialog(clinician)
    with clinician.expect_navigation():
        clinician.click("[data-invite-action=withdraw]")
    assert "cannot be undone" in withdrawn[0]
    assert clinician.get_attribute("[data-invite-state]", "data-invite-state") == "withdrawn"
    assert clinician.locator("[data-invite-url]").count() == 0
    assert patient.goto(new_url).status == 410
    shots.take(clinician, "withdrawn")


def test_copy_falls_back_without_the_clipboard_api(new_context, mail_server, shots):
    base, _ = mail_server
    context = new_context(viewport=LAPTOP, timezone_id=ZONE)
    context.add_init_script("Object.defineProperty(navigator, 'clipboard', { value: undefined });")
    clinician = shots.watch("clinician", context.new_page())
    sign_in(clinician, base)
    invite_url, _ = create_test(clinician, base, eyes="right")
    clinician.click("[data-invite-copy]")
    clinician.wait_for_function("() => document.querySelector('[data-invite-copied]').textContent !== ''")
    status = clinician.text_content("[data-invite-copied]")
    selected = clinician.evaluate(
        "() => { const i = document.querySelector('[data-invite-url]');"
        " return i.value.slice(i.selectionStart, i.selectionEnd); }"
    )
    # execCommand copied it, or the page says to press Ctrl+C with the link selected: never silence.
    assert "Link copied" in status or "press Ctrl+C" in status
    assert selected == invite_url


def test_dashboard_states_filters_and_time_zone(new_context, mail_server, shots):
    base, _ = mail_server
    clinician = shots.watch("clinician", new_context(viewport=LAPTOP, timezone_id=ZONE).new_page())
    sign_in(clinician, base)
    _, withdrawn_id = create_test(clinician, base, reference="Filter Withdrawn", eyes="right")
    accept_next_dialog(clinician)
    with clinician.expect_navigation():
        clinician.click("[data-invite-action=withdraw]")
    create_test(clinician, base, reference="Filter Invited", eyes="right")

    clinician.goto(base + "/")
    # The browser's zone was sent once and is stored; the server writes every time in it and says so.
    clinician.wait_for_selector(f"th:has-text('Created ({ZONE})')")
    assert clinician.locator("[data-time-zone-unset]").count() == 0
    assert serious_violations(clinician) == []
    shots.take(clinician, "dashboard")

    clinician.select_option("#filter-state", "withdrawn")
    clinician.click("[data-test-filters] [type=submit]")
    states = clinician.eval_on_selector_all("tr[data-session]", "rows => rows.map(r => r.dataset.state)")
    assert states and set(states) == {"withdrawn"}
    assert clinician.locator(f"tr[data-session='{withdrawn_id}']").count() == 1
    clinician.goto(base + "/")
    clinician.fill("#filter-q", "filter invited")
    clinician.click("[data-test-filters] [type=submit]")
    rows = clinician.locator("tr[data-session] td:first-child").all_text_contents()
    assert rows == ["Filter Invited"]
    shots.take(clinician, "dashboard filtered by reference")
    clinician.click("tr[data-session] [data-invite-link]")
    assert clinician.get_attribute("[data-invite-state]", "data-invite-state") == "invited"
