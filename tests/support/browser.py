"""Debian's Chromium for the browser tests (never `playwright install`: no browser downloads), and
the screenshots they keep in test-artifacts/."""

from __future__ import annotations

import json
import mimetypes
import re
from pathlib import Path

from acuity.optotypes import all_geometry
from devtools.chromium import BROWSER_ARGS, CHROMIUM  # noqa: F401  (the browser fixtures in tests/conftest.py)
from tests.support.server import ARTIFACTS

STATIC = Path(__file__).resolve().parents[2] / "webapp" / "static"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:120]


class Shots:
    """Screenshots of each step (kept) and of every open page when the test fails."""

    def __init__(self, test_name: str):
        self.dir = ARTIFACTS / _slug(test_name)
        self.dir.mkdir(parents=True, exist_ok=True)
        for old in self.dir.glob("*.png"):  # a previous run's pictures would mislead
            old.unlink()
        self.pages: dict[str, object] = {}
        self.count = 0

    def watch(self, name: str, page):
        self.pages[name] = page
        return page

    def take(self, page, step: str, full_page: bool = True):
        self.count += 1
        page.screenshot(path=str(self.dir / f"{self.count:02d}-{_slug(step)}.png"), full_page=full_page)

    def on_failure(self):
        for name, page in self.pages.items():
            try:
                page.screenshot(path=str(self.dir / f"FAILED-{_slug(name)}.png"), full_page=True)
            except Exception:  # the page may be closed or crashed; keep the others
                pass


# ---- the front-end modules without a server (tests/e2e/test_drawing.py, test_modules.py) -----------
# Requests to a made-up origin are answered from the files on disk (Playwright routing).

ORIGIN = "http://visus.test"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>drawing</title>
<link rel="stylesheet" href="/static/css/visus.css"></head>
<body><main><div data-host style="display:flex;padding:40px"></div></main></body></html>"""


def static_site(page_html: str):
    """A route handler for ORIGIN: `/` is `page_html`, `/optotypes.json` the geometry, `/static/...`
    the files of the checkout."""

    def serve(route):
        path = route.request.url[len(ORIGIN) :].split("?", 1)[0]
        if path == "/optotypes.json":
            return route.fulfill(status=200, content_type="application/json", body=json.dumps(all_geometry()))
        if path.startswith("/static/"):
            file = (STATIC / path[len("/static/") :]).resolve()
            if STATIC in file.parents and file.is_file():
                kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                if file.suffix == ".js":
                    kind = "text/javascript"
                return route.fulfill(status=200, content_type=kind, body=file.read_bytes())
            return route.fulfill(status=404, body="not found")
        if path == "/":
            return route.fulfill(status=200, content_type="text/html", body=page_html)
        return route.abort()

    return serve


serve_from_disk = static_site(PAGE)  # the default page: a host element for drawings


def open_static_page(context, page_html: str = PAGE):
    """A new page of `context` showing `page_html`, with the optotype module and geometry loaded
    as `window.visus = {m, geometry}`."""
    page = context.new_page()
    page.route(f"{ORIGIN}/**", static_site(page_html))
    page.goto(f"{ORIGIN}/")
    page.evaluate(
        """async () => {
            const m = await import('/static/js/optotypes.js');
            window.visus = { m, geometry: await m.loadGeometry() };
        }"""
    )
    return page
