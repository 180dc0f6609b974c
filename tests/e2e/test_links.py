"""A withdrawn invite: the open display is told at once and shows only what to do; the link then
gives the server's "ask your clinician for a new link" page."""

import pytest

from tests.support.flows import create_test, sign_in, visible

pytestmark = pytest.mark.browser


def test_withdrawn_link_stops_the_open_display(new_context, live_server, shots):
    clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 900}).new_page())
    sign_in(clinician, live_server)
    invite_url, _ = create_test(clinician, live_server, eyes="right")  # stays on the invite page

    display = shots.watch("display", new_context(viewport={"width": 1280, "height": 800}).new_page())
    display.goto(invite_url)
    display.wait_for_selector(visible("welcome"))
    display.wait_for_function("() => !document.querySelector('[data-consent-box]').disabled")

    clinician.once("dialog", lambda dialog: dialog.accept())  # "Withdraw this link?"
    clinician.click("main form[action$='/invite/revoke'] [type=submit]")
    display.wait_for_selector("[data-error]:not([hidden])")
    assert "new link" in display.text_content("[data-error]")
    assert display.locator("[data-step]:not([hidden])").count() == 0
    shots.take(display, "withdrawn")

    response = display.goto(invite_url)
    assert response.status == 410
    assert "new link" in display.text_content("main")
