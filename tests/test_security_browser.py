"""In Chromium, under the Content-Security-Policy the server itself sends (no interception): every
clinician page and the patient's display load with no CSP violation and no CSP console error.

The browser runs in a child process (`python -m tests.test_security_browser URL`): Playwright's sync
API allows one instance per process, and tests/e2e already holds one when the suites run together."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
    (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


def visit_every_page(base_url: str) -> dict:
    """Sign in, create a test, open each clinician page and the display; what the browser saw."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import BROWSER_ARGS, CHROMIUM
    from tests.e2e.flows import create_test, sign_in

    seen = {"pages": {}, "console": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()
        page.on("console", lambda message: seen["console"].append(message.text))
        sign_in(page, base_url)
        invite_url, public_id = create_test(page, base_url, eyes="right")
        for path in ["/", "/sessions/new", f"/sessions/{public_id}/result", f"/sessions/{public_id}/report",
                     f"/sessions/{public_id}/history", f"/sessions/{public_id}/audit",
                     f"/sessions/{public_id}/delete", f"/sessions/{public_id}"]:
            response = page.goto(base_url + path)
            page.wait_for_load_state("load")
            seen["pages"][path] = {"status": response.status, "csp": response.headers.get("content-security-policy"),
                                   "violations": page.evaluate("window.__cspViolations")}
        page.wait_for_selector('[data-device="display"]')
        display_context = browser.new_context(viewport={"width": 1280, "height": 800})
        display_context.add_init_script(RECORD_VIOLATIONS)
        display = display_context.new_page()
        display.on("console", lambda message: seen["console"].append(message.text))
        response = display.goto(invite_url)
        page.wait_for_selector('[data-device="display"][data-on="true"]')  # the display's socket connected
        seen["pages"]["display"] = {"status": response.status, "csp": response.headers.get("content-security-policy"),
                                    "violations": display.evaluate("window.__cspViolations")}
        seen["live_view_violations"] = page.evaluate("window.__cspViolations")
        seen["display_url_has_token"] = invite_url.rsplit("/", 1)[1] in display.url
        browser.close()
    return seen


def test_the_servers_own_csp_breaks_nothing_on_any_page(tmp_path):
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed")
    from tests.e2e.conftest import ServerProcess
    from webapp.security import CONTENT_SECURITY_POLICY

    server = ServerProcess(tmp_path).start()
    try:
        child = subprocess.run([sys.executable, "-m", "tests.test_security_browser", server.base_url], cwd=ROOT,
                               capture_output=True, text=True, timeout=180)
    finally:
        server.stop()
    assert child.returncode == 0, child.stderr[-3000:]
    seen = json.loads(child.stdout)
    assert len(seen["pages"]) == 9
    for path, page in seen["pages"].items():
        assert page["status"] == 200, path
        assert page["csp"] == CONTENT_SECURITY_POLICY, path
        assert page["violations"] == [], path
    assert seen["live_view_violations"] == []
    assert not seen["display_url_has_token"]
    assert not [text for text in seen["console"] if "Content Security Policy" in text], seen["console"]


if __name__ == "__main__":
    print(json.dumps(visit_every_page(sys.argv[1])))
