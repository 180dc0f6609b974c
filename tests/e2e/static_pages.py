"""The static modules served without a server: requests to a made-up origin are answered from the
files on disk (Playwright routing), so drawing tests need no Flask process."""
from __future__ import annotations

import json
import mimetypes
from pathlib import Path

from acuity.optotypes import all_geometry

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "webapp" / "static"
ORIGIN = "http://visus.test"


def static_site(page_html: str):
    """A route handler: `/` is `page_html`, `/optotypes.json` the geometry, `/static/...` the files."""

    def serve(route):
        path = route.request.url[len(ORIGIN):].split("?", 1)[0]
        if path == "/optotypes.json":
            return route.fulfill(status=200, content_type="application/json", body=json.dumps(all_geometry()))
        if path.startswith("/static/"):
            file = (STATIC / path[len("/static/"):]).resolve()
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


def open_static_page(context, page_html: str):
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
