"""In Chromium, under the Content-Security-Policy the server itself sends (no interception): every
clinician page and the patient's display load with no CSP violation and no CSP console error."""

import pytest

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
    (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


def visit_every_page(browser, base_url: str) -> dict:
    """Sign in, create a test, open each clinician page and the display; what the browser saw."""
    from tests.support.flows import create_test, sign_in

    seen = {"pages": {}, "console": []}
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.on("console", lambda message: seen["console"].append(message.text))
    sign_in(page, base_url)
    invite_url, public_id = create_test(page, base_url, eyes="right")
    for path in [
        "/",
        "/sessions/new",
        f"/sessions/{public_id}/result",
        f"/sessions/{public_id}/report",
        f"/sessions/{public_id}/history",
        f"/sessions/{public_id}/audit",
        f"/sessions/{public_id}/delete",
        "/patients",
        "/practice",
        f"/sessions/{public_id}",
    ]:
        response = page.goto(base_url + path)
        page.wait_for_load_state("load")
        seen["pages"][path] = {
            "status": response.status,
            "csp": response.headers.get("content-security-policy"),
            "violations": page.evaluate("window.__cspViolations"),
        }
    page.wait_for_selector('[data-device="display"]')
    display_context = browser.new_context(viewport={"width": 1280, "height": 800})
    display_context.add_init_script(RECORD_VIOLATIONS)
    display = display_context.new_page()
    display.on("console", lambda message: seen["console"].append(message.text))
    response = display.goto(invite_url)
    page.wait_for_selector('[data-device="display"][data-on="true"]')  # the display's socket connected
    seen["pages"]["display"] = {
        "status": response.status,
        "csp": response.headers.get("content-security-policy"),
        "violations": display.evaluate("window.__cspViolations"),
    }
    seen["live_view_violations"] = page.evaluate("window.__cspViolations")
    seen["display_url_has_token"] = invite_url.rsplit("/", 1)[1] in display.url
    context.close()
    display_context.close()
    return seen


def test_the_servers_own_csp_breaks_nothing_on_any_page(tmp_path, browser):
    from tests.support.server import ServerProcess
    from webapp.security import CONTENT_SECURITY_POLICY

    server = ServerProcess(tmp_path).start()
    try:
        seen = visit_every_page(browser, server.base_url)
    finally:
        server.stop()
    assert len(seen["pages"]) == 11
    for path, page in seen["pages"].items():
        assert page["status"] == 200, path
        # The display too: the distance guard's face landmarks run in a frame of their own (docs/security.md).
        assert page["csp"] == CONTENT_SECURITY_POLICY, path
        assert page["violations"] == [], path
    assert seen["live_view_violations"] == []
    assert not seen["display_url_has_token"]
    assert not [text for text in seen["console"] if "Content Security Policy" in text], seen["console"]
