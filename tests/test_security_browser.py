"""In Chromium, under the Content-Security-Policy the server itself sends (no interception): every
clinician page and the patient's display load with no CSP violation and no CSP console error."""
import pytest

from tests.e2e.conftest import ServerProcess, browser, new_context, playwright_instance  # noqa: F401 (fixtures)
from tests.e2e.flows import create_test, sign_in
from webapp.security import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
    (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


@pytest.fixture
def server(tmp_path):
    process = ServerProcess(tmp_path).start()
    yield process.base_url
    process.stop()


def test_the_servers_own_csp_breaks_nothing_on_any_page(server, new_context):
    context = new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    console = []
    page = context.new_page()
    page.on("console", lambda message: console.append(message.text))
    sign_in(page, server)
    invite_url, public_id = create_test(page, server, eyes="right")
    paths = ["/", f"/sessions/{public_id}", f"/sessions/{public_id}/result", f"/sessions/{public_id}/report",
             f"/sessions/{public_id}/history", f"/sessions/{public_id}/audit", f"/sessions/{public_id}/delete",
             "/sessions/new"]
    for path in paths:
        response = page.goto(server + path)
        assert response.status == 200, path
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        page.wait_for_load_state("load")
        assert page.evaluate("window.__cspViolations") == [], path
    page.goto(f"{server}/sessions/{public_id}")
    page.wait_for_selector('[data-device="display"]')

    display_context = new_context(viewport={"width": 1280, "height": 800})
    display_context.add_init_script(RECORD_VIOLATIONS)
    display = display_context.new_page()
    display.on("console", lambda message: console.append(message.text))
    display.goto(invite_url)
    page.wait_for_selector('[data-device="display"][data-on="true"]')  # the display's socket is connected
    assert display.evaluate("window.__cspViolations") == []
    assert page.evaluate("window.__cspViolations") == []
    assert not [text for text in console if "Content Security Policy" in text], console
