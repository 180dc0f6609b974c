"""What a patient reads when something goes wrong, in their language (issue 16): the error page of an
address that does not exist, in the browser's language, and the socket error both devices get when
the clinician withdraws the link mid-test, in the test's language; Arabic right to left. At 1280x720
(the display) and on a 360x640 phone, with screenshots in test-artifacts/."""

import pytest

from tests.support.flows import consent_calibrate_and_pair, create_test, sign_in
from webapp import i18n
from webapp.credentials import PROBLEMS
from webapp.main.errors import PAGES

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 720}
PHONE = {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def page_language(page) -> list[str]:
    return page.evaluate("() => [document.documentElement.lang, getComputedStyle(document.body).direction]")


def fits_the_width(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("code", ["ar", "es"])
def test_an_error_page_and_a_socket_error_in_the_patients_language(new_context, live_server, shots, code):
    direction = i18n.language(code).direction
    heading, advice = (i18n.translate(code, text) for text in PAGES[404])
    for name, options in (("laptop", {"viewport": LAPTOP}), ("phone", PHONE)):
        page = shots.watch(f"404-{name}", new_context(locale=code, **options).new_page())
        response = page.goto(f"{live_server}/no-such-page")
        assert response.status == 404
        assert page_language(page) == [code, direction]
        assert (
            page.text_content("h1").strip() == heading and page.text_content("[data-error-message]").strip() == advice
        )
        assert fits_the_width(page)
        shots.take(page, f"{code}-404-{name}")

    clinician = new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(clinician, live_server)
    invite_url, _ = create_test(clinician, live_server, eyes="right", language=code)  # stays on the invite page

    display = shots.watch("display", new_context(viewport=LAPTOP).new_page())
    pad = shots.watch("pad", new_context(**PHONE).new_page())
    consent_calibrate_and_pair(display, invite_url, pad)

    clinician.once("dialog", lambda dialog: dialog.accept())  # "Withdraw this link?"
    clinician.click("main form[action$='/invite/revoke'] [type=submit]")
    told = i18n.translate(code, PROBLEMS["withdrawn"])
    assert told != PROBLEMS["withdrawn"]
    for name, page in (("display", display), ("pad", pad)):
        page.wait_for_selector("[data-error]:not([hidden])")
        assert page.text_content("[data-error]").strip() == told, name
        # Only what to do stays: no button that no longer works, no "reconnecting" (it never will).
        assert (
            page.locator("main button:visible, [data-connection]:visible, [data-pad-connection]:visible").count() == 0
        )
        assert page_language(page) == [code, direction]
        assert fits_the_width(page)
        shots.take(page, f"{code}-link-withdrawn-{name}", full_page=False)
