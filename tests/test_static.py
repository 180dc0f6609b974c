"""Static checks on the front end: what a strict Content-Security-Policy and the privacy rules need.

No browser: these read the files. The browser tests (tests/e2e/) check that the pages work.
"""
import hashlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "webapp" / "static"
JS = STATIC / "js"
VENDOR = JS / "vendor"
FRONTEND_TEMPLATES = [
    ROOT / "webapp" / "templates" / "patient" / "test.html",
    ROOT / "webapp" / "templates" / "patient" / "pad.html",
    ROOT / "webapp" / "templates" / "clinician" / "live.html",
]
OWN_MODULES = sorted(path for path in JS.rglob("*.js") if VENDOR not in path.parents)
IMPORT = re.compile(r"""^\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']""", re.M)


def test_there_are_modules_and_templates_to_check():
    assert len(OWN_MODULES) >= 8
    assert all(path.exists() for path in FRONTEND_TEMPLATES)


@pytest.mark.parametrize("template", FRONTEND_TEMPLATES, ids=lambda p: p.name)
def test_templates_have_no_inline_script_or_handler(template):
    html = template.read_text()
    for tag in re.findall(r"<script\b[^>]*>", html):
        # Only modules loaded from our origin, or inert JSON data blocks.
        assert 'type="module"' in tag and "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler attribute"
    assert "javascript:" not in html
    assert "|safe" not in html.replace(" ", ""), "server data must not be marked safe in these templates"
    assert not re.search(r"style\s*=", html), "inline style attribute (blocked by a strict CSP)"


@pytest.mark.parametrize("template", FRONTEND_TEMPLATES, ids=lambda p: p.name)
def test_templates_extend_base_and_load_their_module(template):
    html = template.read_text()
    assert html.startswith('{% extends "base.html" %}')
    modules = re.findall(r"filename='(js/[^']+\.js)'", html)
    assert modules, "no module script"
    for module in modules:
        assert (STATIC / module).exists(), module


def test_no_request_leaves_the_origin():
    """No CDN, no absolute URL to another host in anything the browser loads."""
    for path in [*OWN_MODULES, *FRONTEND_TEMPLATES, *STATIC.rglob("*.css")]:
        text = path.read_text()
        for url in re.findall(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s"'`)]*""", text, re.I):
            assert url.startswith("http://www.w3.org/2000/svg"), f"{path.name}: {url}"


@pytest.mark.parametrize("module", OWN_MODULES, ids=lambda p: str(p.relative_to(JS)))
def test_every_import_resolves_to_a_served_file(module):
    text = module.read_text()
    for spec in IMPORT.findall(text):
        assert spec.startswith("./") or spec.startswith("../"), f"bare or absolute import {spec!r}"
        assert (module.parent / spec).resolve().exists(), f"{module.name} imports missing {spec}"


@pytest.mark.parametrize("module", OWN_MODULES, ids=lambda p: str(p.relative_to(JS)))
def test_no_html_injection_or_eval(module):
    text = module.read_text()
    assert "innerHTML" not in text and "outerHTML" not in text and "insertAdjacentHTML" not in text
    assert "document.write" not in text
    assert not re.search(r"\beval\s*\(|new Function\s*\(", text)


def test_tokens_are_removed_from_the_address_bar_and_the_dom():
    for module, attribute in [(JS / "patient" / "test.js", "data-invite-token"), (JS / "patient" / "pad.js", "data-pad-token")]:
        text = module.read_text()
        assert "history.replaceState" in text
        assert f'removeAttribute("{attribute}")' in text
        assert "localStorage" not in text and "sessionStorage" not in text and "document.cookie" not in text


def test_vendored_socketio_client_is_pinned_with_licence_and_checksum():
    bundle = VENDOR / "socket.io-client-4.8.4.esm.min.js"
    licence = VENDOR / "socket.io-client-4.8.4.LICENSE"
    readme = (VENDOR / "README.md").read_text()
    assert bundle.read_text().startswith("/*!\n * Socket.IO v4.8.4")
    assert "MIT License" in licence.read_text()
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert digest in readme, "README checksum does not match the vendored file"
    assert "export{" in bundle.read_text() and "io" in bundle.read_text()


def test_socket_module_imports_the_vendored_client():
    assert './vendor/socket.io-client-4.8.4.esm.min.js' in (JS / "socket.js").read_text()


def test_card_dimensions_are_iso_7810_id1():
    text = (JS / "patient" / "card.js").read_text()
    assert "CARD_WIDTH_MM = 85.6" in text
    assert "CARD_HEIGHT_MM = 53.98" in text
    corner = float(re.search(r"CARD_CORNER_MM = ([0-9.]+)", text).group(1))
    assert 2.88 <= corner <= 3.48
