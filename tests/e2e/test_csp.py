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


# What a script may evaluate, asked by the page's own timer: devtools' evaluate itself is exempt from the
# policy's eval rule (Chromium's allowUnsafeEvalBlockedByCSP), code the page runs later is not.
TRY_EVAL = """() => new Promise((resolve) => setTimeout(() => {
    try { resolve(new Function('return 1')() === 1 ? 'allowed' : '?'); } catch (e) { resolve(e.name); }
}, 0))"""


def test_the_display_refuses_eval_and_only_its_camera_frame_allows_it(new_context, live_server, shots):
    """The server's own policies, not the strict one added above: the display (/test) keeps script-src
    'self', and the distance guard's face model gets eval and WebAssembly in its camera frame only."""
    clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 900}).new_page())
    sign_in(clinician, live_server)
    invite_url, _ = create_test(clinician, live_server, eyes="right")
    context = new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(RECORD_VIOLATIONS)
    display = shots.watch("display", context.new_page())
    display.goto(invite_url)
    policy = display.evaluate("() => fetch('/test').then((r) => r.headers.get('content-security-policy'))")
    assert "script-src 'self';" in policy and "unsafe-eval" not in policy, policy
    assert display.evaluate(TRY_EVAL) == "EvalError"
    # The frame, as the display opens it (the test browser has no camera: the frame says so and stops).
    display.evaluate("""() => { const frame = document.createElement('iframe');
        frame.allow = 'camera'; frame.src = '/test/camera'; frame.dataset.probe = '';
        document.body.append(frame); }""")
    frame = display.wait_for_selector("iframe[data-probe]").content_frame()
    frame.wait_for_selector('body[data-face-status="unavailable"]')
    assert frame.evaluate(TRY_EVAL) == "allowed"
    assert display.evaluate(TRY_EVAL) == "EvalError"  # the frame widened nothing for its parent
    # Only the probe's eval in the display was refused (and reported); the frame's own page broke nothing.
    assert all(v.startswith("script-src") for v in display.evaluate("window.__cspViolations"))
