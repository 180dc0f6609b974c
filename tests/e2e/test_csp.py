"""The pages work under a strict Content-Security-Policy (the one the server is meant to send):
no inline script, no inline style markup, nothing from another origin. The header is added here by
intercepting the server's responses, so the check does not wait for the server to send it."""

import pytest

from tests.support.flows import calibrate_by_clicking, create_test, sign_in, visible

pytestmark = pytest.mark.browser

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
    (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


def strict(context):
    def add_header(route):
        if route.request.resource_type != "document" or route.request.method != "GET":
            return route.continue_()  # the policy is a document's; everything else passes untouched
        response = route.fetch(max_redirects=0)
        headers = {**response.headers, "content-security-policy": STRICT_CSP}
        route.fulfill(response=response, headers=headers)

    context.route("**/*", add_header)
    context.add_init_script(RECORD_VIOLATIONS)
    return context


def test_patient_and_clinician_pages_need_nothing_a_strict_csp_forbids(new_context, live_server, shots):
    clinician = shots.watch("clinician", strict(new_context(viewport={"width": 1280, "height": 900})).new_page())
    sign_in(clinician, live_server)
    invite_url, public_id = create_test(clinician, live_server, eyes="right")
    clinician.goto(f"{live_server}/sessions/{public_id}")
    clinician.wait_for_selector('[data-device="display"]')

    display = shots.watch("display", strict(new_context(viewport={"width": 1280, "height": 800})).new_page())
    display.goto(invite_url)
    display.check("[data-consent-box]")
    display.click('[data-action="consent"]')
    calibrate_by_clicking(display, 4.0)
    display.wait_for_selector(visible("answers"))
    display.wait_for_selector("[data-pad-qr] svg")
    pad = shots.watch(
        "pad", strict(new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)).new_page()
    )
    pad.goto(display.get_attribute("[data-pad-qr]", "data-pad-url"))
    pad.wait_for_selector('[data-pad-connection][data-on="true"]')
    display.wait_for_selector('[data-step="prepare"]:not([hidden])')  # paired: the display moves on by itself
    display.click('[data-action="ready"]')
    display.wait_for_function("() => document.querySelector('[data-stimulus-host]').dataset.drawnHeight")
    pad.wait_for_selector("[data-pad-answer]:not([hidden])")
    clinician.wait_for_selector("[data-preview] [data-optotype]")
    for page in (display, pad, clinician):
        assert page.evaluate("window.__cspViolations") == [], page.url
