"""Ink measured in screenshots: a pixel's darkness is the fraction of it a black-on-white shape
covers (anti-aliasing draws coverage as grey), so edges are found to a fraction of a pixel.

PNG decoding by Pillow (installed with reportlab, pinned in requirements.txt).
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

# Darker than this counts as ink: 2 grey levels of 255, below anything an edge of a shape covers
# visibly, above PNG and blending noise (there is none on pure white: it is a margin).
INK_THRESHOLD = 2.0 / 255.0


def grey_levels(png: bytes) -> np.ndarray:
    """The screenshot as grey levels 0 (black) to 255 (white), uint8 (Pillow's "L": for grey
    pixels, R = G = B, it is that value)."""
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("L"))


class DeviceCapture:
    """PNGs of parts of `page` at device resolution, the same pixels as Playwright's
    `page.screenshot(clip=...)`, asked of Chromium directly (DevTools protocol, Page.captureScreenshot)
    with `optimizeForSpeed`: a lighter zlib level, so a lossless file about twice as large, captured in
    about 70% and decoded in about half the time (tests/e2e/test_drawn_size.py takes 250 of them at up
    to 4320 x 2700). The session repeats the context's viewport and devicePixelRatio: a capture from a
    session without them is at 1 device px per CSS px, and leaves the page there."""

    def __init__(self, page, viewport: tuple[int, int], dpr: int):
        self.session = page.context.new_cdp_session(page)
        self.session.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": viewport[0], "height": viewport[1], "deviceScaleFactor": dpr, "mobile": False},
        )

    def png(self, clip: dict[str, float]) -> bytes:
        """`clip`: x, y, width, height in CSS px of the page."""
        shot = self.session.send(
            "Page.captureScreenshot", {"format": "png", "clip": {**clip, "scale": 1}, "optimizeForSpeed": True}
        )
        return base64.b64decode(shot["data"])


def darkness(grey: np.ndarray) -> np.ndarray:
    """Each pixel's ink coverage, 0 (white) to 1 (black): 1 - grey / 255."""
    return 1.0 - grey.astype(np.float64) / 255.0


def _leading_edge(dark: np.ndarray, inked: np.ndarray) -> float:
    """The smallest row coordinate of ink over all columns, to a fraction of a pixel.

    In each column the first inked pixel, covered a fraction c, puts the edge at row + 1 - c
    (exact for an edge across the column; below the true top for a slanted one, so the column
    through a shape's top point gives the minimum). Curves: a round top sags by 1 / (6 r) px
    within a pixel column of a circle of radius r px, under 0.02 px at the sizes measured here.
    """
    columns = np.flatnonzero(inked.any(axis=0))
    first = inked[:, columns].argmax(axis=0)
    return float(np.min(first + 1.0 - dark[first, columns]))


def ink_box(dark: np.ndarray) -> tuple[float, float, float, float] | None:
    """(left, top, right, bottom) of the ink in `dark`, in pixels from its top-left corner, or None."""
    inked = dark > INK_THRESHOLD
    if not inked.any():
        return None
    height, width = dark.shape
    top = _leading_edge(dark, inked)
    bottom = height - _leading_edge(dark[::-1], inked[::-1])
    left = _leading_edge(dark.T, inked.T)
    right = width - _leading_edge(dark.T[::-1], inked.T[::-1])
    return left, top, right, bottom
