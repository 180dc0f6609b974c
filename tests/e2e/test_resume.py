"""Nothing strands the patient: the invite and pad links are exchanged once for a credential cookie
and a token-free page, so reload, Back and Forward, a restored tab and a killed pad land back in the
same test; the link opened in another browser takes nothing over; an expired link says so.
(webapp/credentials.py; docs/security.md, "Patient links".)"""

import sqlite3

import pytest

from tests.support.flows import calibrate_by_clicking, create_test, serious_violations, sign_in, visible
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module (none of its tests stops it): each test makes a test of its own."""
    server = ServerProcess(tmp_path_factory.mktemp("resume-server")).start()
    yield server
    server.stop()


def on_screen(display, trial_id: str | None = None) -> str:
    """Wait until a stimulus (this one, if given) is drawn; its trial id."""
    display.wait_for_function(
        "trial => { const h = document.querySelector('[data-stimulus-host]');"
        " return h && h.dataset.drawnHeight && (!trial || h.dataset.trialId === trial); }",
        arg=trial_id,
    )
    return display.get_attribute("[data-stimulus-host]", "data-trial-id")


def back_in_test(display, trial_id: str) -> None:
    """After a reload: the same trial on screen, or paused (the page was hidden) with one obvious
    button, Continue, which brings the same trial back."""
    display.wait_for_function(
        "trial => { const h = document.querySelector('[data-stimulus-host]');"
        " const go = document.querySelector('[data-action=\"continue\"]');"
        " return (h && h.dataset.drawnHeight && h.dataset.trialId === trial) || (go && !go.hidden); }",
        arg=trial_id,
    )
    buttons = display.locator("main button:visible")
    if buttons.count():
        assert buttons.count() == 1 and buttons.first.text_content() == "Continue"
        buttons.first.click()
    assert on_screen(display, trial_id) == trial_id


def credential_cookie(context, name: str) -> dict:
    cookies = [c for c in context.cookies() if c["name"] == name]
    assert len(cookies) == 1, context.cookies()
    return cookies[0]


def test_reload_back_forward_and_a_restored_tab_land_on_the_same_trial(new_context, shots, server):
    base = server.base_url
    clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 900}).new_page())
    sign_in(clinician, base)
    invite_url, public_id = create_test(clinician, base, eyes="right")
    token = invite_url.rsplit("/t/", 1)[1]
    clinician.goto(f"{base}/sessions/{public_id}")

    context = new_context(viewport={"width": 1280, "height": 800})
    display = shots.watch("display", context.new_page())
    display.goto(invite_url)
    assert display.url == f"{base}/test"  # exchanged, then a token-free page
    cookie = credential_cookie(context, "visus_display")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert token not in cookie["value"]
    assert display.evaluate("() => document.cookie") == ""  # HttpOnly: no script reads it
    display.check("[data-consent-box]")
    display.click('[data-action="consent"]')
    calibrate_by_clicking(display, 4.0)

    # The phone: its link is exchanged too, and the display is given a new one at once.
    display.wait_for_selector(visible("answers"))
    display.wait_for_selector("[data-pad-qr] svg")
    pad_url = display.get_attribute("[data-pad-qr]", "data-pad-url")
    phone = new_context(**PHONE)
    pad = shots.watch("pad", phone.new_page())
    pad.goto(pad_url)
    assert pad.url == f"{base}/pad"
    pad_cookie = credential_cookie(phone, "visus_pad")
    assert pad_cookie["httpOnly"] and pad_cookie["sameSite"] == "Strict" and pad_cookie["path"] == "/"
    pad.wait_for_selector('[data-pad-connection][data-on="true"]')
    display.wait_for_function("old => document.querySelector('[data-pad-qr]').dataset.padUrl !== old", arg=pad_url)
    display.wait_for_selector(visible("prepare"))  # paired: the display moves on by itself
    display.click('[data-action="ready"]')
    first = on_screen(display)

    # Reload (F5): the same trial, drawn again.
    display.reload()
    assert display.url == f"{base}/test"
    back_in_test(display, first)
    # Back to the previous page, then Forward: the test again.
    display.goto(f"{base}/")
    display.go_back()
    assert display.url == f"{base}/test"
    back_in_test(display, first)
    display.go_forward()
    display.go_back()
    back_in_test(display, first)
    # No history entry holds the token: further back than the test is the page before it.
    display.go_back()
    assert token not in display.url and not display.url.startswith(f"{base}/t/")
    display.go_forward()
    assert display.url == f"{base}/test"
    back_in_test(display, first)

    # A restored tab: the page closed, the same browser opens /test again.
    display.close()
    restored = shots.watch("restored display", context.new_page())
    restored.goto(f"{base}/test")
    back_in_test(restored, first)
    # The invite link opened again in this browser lands in the test too.
    restored.goto(invite_url)
    assert restored.url == f"{base}/test"
    back_in_test(restored, first)
    shots.take(restored, "restored", full_page=False)

    # The pad killed and reopened (a new page of the same phone browser): back, asked the same trial.
    pad.wait_for_selector("[data-pad-answer]:not([hidden])")
    pad.close()
    reopened = shots.watch("reopened pad", phone.new_page())
    reopened.goto(f"{base}/pad")
    reopened.wait_for_selector('[data-pad-connection][data-on="true"]')
    reopened.wait_for_selector("[data-pad-answer]:not([hidden])")
    # The old pad link, in the same phone: back to its pad; in another phone: nothing.
    reopened.goto(pad_url)
    assert reopened.url == f"{base}/pad"
    reopened.wait_for_selector("[data-pad-answer]:not([hidden])")
    symbol_count = len(restored.eval_on_selector_all("[data-stimulus-host] [data-optotype]", "els => els"))
    for _ in range(symbol_count):
        reopened.locator("[data-pad-keys] button").first.click()
    # Scored: the next trial is drawn (or, the chart's row all missed, the test is done).
    restored.wait_for_function(
        "old => { const h = document.querySelector('[data-stimulus-host]');"
        " const done = document.querySelector('[data-step=\"done\"]');"
        " return (h.dataset.trialId && h.dataset.trialId !== old && h.dataset.drawnHeight)"
        " || (done && !done.hidden); }",
        arg=first,
    )


def test_the_link_opened_in_another_browser_shows_what_to_do_and_takes_nothing_over(new_context, shots, server):
    base = server.base_url
    clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 900}).new_page())
    sign_in(clinician, base)
    invite_url, public_id = create_test(clinician, base, eyes="right")
    clinician.goto(f"{base}/sessions/{public_id}")
    first = new_context(viewport={"width": 1280, "height": 800})
    display = shots.watch("display", first.new_page())
    display.goto(invite_url)
    display.wait_for_selector(visible("welcome"))
    clinician.wait_for_selector('[data-device="display"][data-on="true"]')

    # The link from the browser's history, or a copy of it, in another browser.
    other = new_context(viewport={"width": 1280, "height": 800})
    intruder = shots.watch("other browser", other.new_page())
    response = intruder.goto(invite_url)
    assert response.status == 410
    text = intruder.text_content("main")
    assert "already opened on another device" in text and "new link" in text
    assert [c["name"] for c in other.cookies()] == []
    assert serious_violations(intruder) == []
    shots.take(intruder, "already-opened")
    response = intruder.goto(f"{base}/test")
    assert response.status == 404 and "No eye test is open in this browser" in intruder.text_content("main")
    assert serious_violations(intruder) == []
    shots.take(intruder, "no-test-here")
    response = intruder.goto(f"{base}/pad")
    assert response.status == 200 and "Type the code shown on your test screen" in intruder.text_content("main")
    assert serious_violations(intruder) == []
    # The first browser still holds the test: still connected, nothing replaced.
    display.check("[data-consent-box]")
    display.click('[data-action="consent"]')
    display.wait_for_selector(visible("scale"))
    assert clinician.locator('[data-event-kind="warning"]:has-text("connected again")').count() == 0


def test_an_expired_link_and_credential_get_a_friendly_410(new_context, shots, server):
    base = server.base_url
    clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 900}).new_page())
    sign_in(clinician, base)
    invite_url, public_id = create_test(clinician, base, eyes="right")
    context = new_context(viewport={"width": 1280, "height": 800})
    display = shots.watch("display", context.new_page())
    display.goto(invite_url)
    display.wait_for_selector(visible("welcome"))
    # Created longer ago than VISUS_LINK_MAX_DAYS (7 by default).
    with sqlite3.connect(server.db_path) as connection:
        connection.execute(
            "UPDATE test_session SET created_at = datetime('now', '-8 days') WHERE public_id = ?", (public_id,)
        )
    response = display.reload()
    assert response.status == 410
    assert "expired" in display.text_content("main") and "clinician" in display.text_content("main")
    assert serious_violations(display) == []
    shots.take(display, "expired")
    other = new_context().new_page()
    assert other.goto(invite_url).status == 410


def test_the_link_clicked_twice_in_a_webmail_lands_in_the_test_both_times(new_context, shots, server):
    """A SameSite=Strict cookie is sent neither on a navigation from another site nor on its
    redirects: the link answers such a navigation with a page that navigates again from this site."""
    base = server.base_url
    clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 900}).new_page())
    sign_in(clinician, base)
    invite_url, _ = create_test(clinician, base, eyes="right")
    context = new_context(viewport={"width": 1280, "height": 800})
    mail = f'<!doctype html><title>Mail</title><a href="{invite_url}">Start your eye test</a>'
    context.route(
        "http://mail.example/**", lambda route: route.fulfill(status=200, content_type="text/html", body=mail)
    )
    display = shots.watch("display", context.new_page())
    for _ in range(2):
        display.goto("http://mail.example/inbox")
        display.click("text=Start your eye test")
        display.wait_for_url(f"{base}/test")
        display.wait_for_selector(visible("welcome"))
    assert len([c for c in context.cookies() if c["name"] == "visus_display"]) == 1
