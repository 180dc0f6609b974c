"""Debian's Chromium for the browser tests (never `playwright install`: no browser downloads), and
the screenshots they keep in test-artifacts/."""
from __future__ import annotations

import re

from tests.support.server import ARTIFACTS

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying hosts it cannot reach
# (docs/platform.md).
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


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
