"""The front end as the browser gets it: what a strict Content-Security-Policy and the privacy rules need.

Checked by behaviour where it can be observed: the policy the server sends, and in Chromium, on the
real server, the clinician's pages, the patient's display and pad: every request stays on the
origin, every module loads, the tokens leave the address bar, the DOM and the browser's storage.
(tests/test_security_browser.py: no page reports a CSP violation.) A few checks read the files
because no behaviour shows what they guard; each says why.
"""

import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from webapp.security import CONTENT_SECURITY_POLICY

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "webapp" / "static"
JS = STATIC / "js"
VENDOR = JS / "vendor"
TEMPLATES = ROOT / "webapp" / "templates"
OWN_MODULES = sorted(path for path in JS.rglob("*.js") if VENDOR not in path.parents)


def directives(policy: str) -> dict[str, list[str]]:
    parts = [part.split() for part in policy.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def test_the_policy_forbids_inline_script_inline_style_eval_and_other_origins(client):
    """What the browser then refuses on every page and every path through it: inline <script>,
    style attributes and <style>, eval and new Function, any script, style, image, font or
    connection from another origin. (This replaces reading the files for them.)"""
    policy = directives(client.get("/login").headers["Content-Security-Policy"])
    assert policy == directives(CONTENT_SECURITY_POLICY)
    for name in ("default-src", "script-src", "style-src", "img-src", "connect-src", "font-src"):
        assert policy[name] == ["'self'"], name
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]


# Inline event handlers and javascript: URLs are refused by the policy only when they fire (a click),
# which no page-load check triggers: the templates are read for them.
@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_handler_or_javascript_url(template):
    html = template.read_text()
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html), "inline event handler attribute"
    assert "javascript:" not in html


# innerHTML and its kin would be refused only under Trusted Types, which the pages do not use; and
# a page-load check sees only the paths it drives. The modules are read for them.
@pytest.mark.parametrize("module", OWN_MODULES, ids=lambda p: str(p.relative_to(JS)))
def test_no_html_injection_sink(module):
    text = module.read_text()
    assert "innerHTML" not in text and "outerHTML" not in text and "insertAdjacentHTML" not in text
    assert "document.write" not in text


# Supply chain: the vendored file itself is what is checked (its bytes against the recorded checksum).
def test_vendored_socketio_client_is_pinned_with_licence_and_checksum():
    bundle = VENDOR / "socket.io-client-4.8.4.esm.min.js"
    licence = VENDOR / "socket.io-client-4.8.4.LICENSE"
    readme = (VENDOR / "README.md").read_text()
    assert bundle.read_text().startswith("/*!\n * Socket.IO v4.8.4")
    assert "MIT License" in licence.read_text()
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert digest in readme, "README checksum does not match the vendored file"


# ---- in Chromium, on the real server -------------------------------------------------------------------

RECORD_STORAGE = """() => ({
    url: location.href,
    html: document.documentElement.outerHTML,
    storage: JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)]),
    cookie: document.cookie,
})"""


@pytest.fixture(scope="module")
def visited(browser, tmp_path_factory):
    """Sign in, create a test, open the dashboard, the new-test form, the live view, the patient's
    display and pad; every request, websocket and response the browser made, and what each patient
    page holds once its module ran."""
    from tests.support.flows import create_test, sign_in
    from tests.support.server import ServerProcess

    server = ServerProcess(tmp_path_factory.mktemp("static-server")).start()
    seen = {"requests": [], "websockets": [], "bad": [], "scripts": set(), "patient": {}}
    contexts = []

    def watched_page(viewport):
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda request: seen["requests"].append(request.url))
        page.on("websocket", lambda socket: seen["websockets"].append(socket.url))
        # A request the page itself cancelled by navigating on (net::ERR_ABORTED: the dashboard's
        # time-zone POST, a document replaced by the next goto) is not a failed load; a missing or
        # refused file still is (its 4xx below, or another failure).
        page.on(
            "requestfailed",
            lambda request: (
                None if request.failure == "net::ERR_ABORTED" else seen["bad"].append((request.url, request.failure))
            ),
        )

        def on_response(response):
            if response.request.resource_type == "script":
                seen["scripts"].add(urlsplit(response.url).path)
            if response.status >= 400:
                seen["bad"].append((response.url, response.status))

        page.on("response", on_response)
        return page

    try:
        clinician = watched_page({"width": 1280, "height": 900})
        sign_in(clinician, server.base_url)
        invite_url, public_id = create_test(clinician, server.base_url, eyes="right")
        for path in ("/", "/sessions/new", f"/sessions/{public_id}"):
            clinician.goto(server.base_url + path)
            clinician.wait_for_load_state("load")
        clinician.wait_for_selector("[data-device]")  # the live view's module ran

        display = watched_page({"width": 1280, "height": 800})
        display.goto(invite_url)
        display.wait_for_selector("[data-pad-qr] svg", state="attached")  # the pad link came over the socket
        pad_url = display.get_attribute("[data-pad-qr]", "data-pad-url")
        seen["patient"]["display"] = (invite_url.rsplit("/", 1)[1], display.evaluate(RECORD_STORAGE))

        pad = watched_page({"width": 400, "height": 800})
        pad.goto(pad_url)
        pad.wait_for_selector('[data-pad-connection][data-on="true"]')
        seen["patient"]["pad"] = (pad_url.rsplit("/", 1)[1], pad.evaluate(RECORD_STORAGE))
        seen["card"] = display.evaluate("""async () => {
            const card = await import('/static/js/patient/card.js');
            return [card.CARD_WIDTH_MM, card.CARD_HEIGHT_MM, card.CARD_CORNER_MM];
        }""")
        # The distance guard's camera frame (the display opens it once the camera is allowed; no camera here).
        display.goto(server.base_url + "/test/camera")
        display.wait_for_selector('body[data-face-status="unavailable"]')
    finally:
        for context in contexts:
            context.close()
        server.stop()
        server.keep_log("static-server.log")
    seen["base_url"] = server.base_url
    return seen


@pytest.mark.browser
def test_no_request_leaves_the_origin(visited):
    origin = urlsplit(visited["base_url"])
    assert visited["requests"] and visited["websockets"]
    for url in visited["requests"] + visited["websockets"]:
        parts = urlsplit(url)
        assert parts.hostname == origin.hostname and parts.port == origin.port, url


@pytest.mark.browser
def test_every_page_loads_its_module_and_every_module_loads(visited):
    assert visited["bad"] == []  # no 404 or failed request: every import resolved
    loaded = visited["scripts"]
    for module in ("clinician/live.js", "patient/test.js", "patient/pad.js"):
        assert f"/static/js/{module}" in loaded, module
    # The socket module brings the vendored client, and no module sits unused.
    assert "/static/js/vendor/socket.io-client-4.8.4.esm.min.js" in loaded
    assert {f"/static/js/{path.relative_to(JS)}" for path in OWN_MODULES} <= loaded


@pytest.mark.browser
@pytest.mark.parametrize("device", ["display", "pad"])
def test_tokens_leave_the_address_bar_the_dom_and_storage(visited, device):
    token, held = visited["patient"][device]
    assert len(token) >= 32
    assert token not in held["url"], "the token is still in the address bar (and so in its history)"
    assert token not in held["html"], "the token is still in the page"
    assert token not in held["storage"] and token not in held["cookie"]


@pytest.mark.browser
def test_the_card_is_iso_7810_id1(visited):
    width_mm, height_mm, corner_mm = visited["card"]
    assert (width_mm, height_mm) == (85.6, 53.98)
    assert 2.88 <= corner_mm <= 3.48
