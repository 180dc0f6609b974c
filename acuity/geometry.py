"""Exact 2-D path geometry for optotypes: straight segments and circular arcs, written as SVG path data.

Coordinates are in strokes on the optotype's 5 x 5 grid, x to the right and y DOWN (the SVG and
canvas convention). Angles given to `PathBuilder.arc` are screen angles in degrees: 0 = +x (right),
90 = +y (down), so an increasing angle turns clockwise as seen on the screen, which is the direction
of an SVG arc drawn with sweep-flag 1. Every number written is rounded to 6 decimals (a micro-stroke),
far below what any screen can show, so the text is stable and diff-able.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

DECIMALS = 6
# Arcs are written in pieces of at most a quarter turn: an SVG arc of exactly 180 or 360 degrees is
# ambiguous (its centre is not determined by the end points), a quarter turn never is.
MAX_ARC_PIECE_DEG = 90.0


class GeometryError(ValueError):
    """A path that cannot be built as asked; the message says what was wrong."""


def fmt(value: float) -> str:
    """A coordinate as short, exact-enough text: rounded to 6 decimals, no trailing zeros, no -0."""
    if not math.isfinite(value):
        raise GeometryError(f"coordinate {value!r} is not a finite number")
    text = f"{round(value, DECIMALS):.{DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def point_on_circle(cx: float, cy: float, radius: float, angle_deg: float) -> tuple[float, float]:
    """The point at screen angle `angle_deg` (0 = right, 90 = down) on a circle, rounded."""
    angle_rad = math.radians(angle_deg)
    return (
        round(cx + radius * math.cos(angle_rad), DECIMALS),
        round(cy + radius * math.sin(angle_rad), DECIMALS),
    )


def rotate_point(x: float, y: float, angle_deg: float, cx: float = 2.5, cy: float = 2.5) -> tuple[float, float]:
    """Rotate (x, y) about (cx, cy) by a screen angle (positive = clockwise on screen), rounded."""
    angle_rad = math.radians(angle_deg)
    cos_a, sin_a = math.cos(angle_rad), math.sin(angle_rad)
    dx, dy = x - cx, y - cy
    return (
        round(cx + dx * cos_a - dy * sin_a, DECIMALS),
        round(cy + dx * sin_a + dy * cos_a, DECIMALS),
    )


class PathBuilder:
    """Builds one SVG path `d` string from absolute moves, lines and circular arcs, then closes it."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._current: tuple[float, float] | None = None

    def move_to(self, x: float, y: float) -> PathBuilder:
        self._parts.append(f"M {fmt(x)} {fmt(y)}")
        self._current = (x, y)
        return self

    def line_to(self, x: float, y: float) -> PathBuilder:
        self._require_current("line_to")
        self._parts.append(f"L {fmt(x)} {fmt(y)}")
        self._current = (x, y)
        return self

    def polygon(self, points: Iterable[tuple[float, float]]) -> PathBuilder:
        """One closed sub-path through `points` (straight edges)."""
        points = list(points)
        if len(points) < 3:
            raise GeometryError(f"a polygon needs at least 3 points, got {len(points)}")
        self.move_to(*points[0])
        for x, y in points[1:]:
            self.line_to(x, y)
        return self.close()

    def arc(self, cx: float, cy: float, radius: float, start_deg: float, end_deg: float) -> PathBuilder:
        """A circular arc about (cx, cy) from screen angle start_deg to end_deg.

        The current point must already be the arc's start (within rounding). end_deg > start_deg turns
        clockwise on screen (SVG sweep-flag 1), end_deg < start_deg anticlockwise (sweep-flag 0).
        """
        self._require_current("arc")
        if not radius > 0:
            raise GeometryError(f"arc radius must be positive, got {radius!r}")
        start = point_on_circle(cx, cy, radius, start_deg)
        if math.dist(start, self._current) > 2 * 10**-DECIMALS:
            raise GeometryError(
                f"arc starts at {start} but the path is at {self._current}; move or line to the start first"
            )
        span_deg = end_deg - start_deg
        if span_deg == 0:
            raise GeometryError("an arc must turn through a non-zero angle")
        pieces = max(1, math.ceil(abs(span_deg) / MAX_ARC_PIECE_DEG - 1e-9))
        sweep = 1 if span_deg > 0 else 0
        r_text = fmt(radius)
        for i in range(1, pieces + 1):
            x, y = point_on_circle(cx, cy, radius, start_deg + span_deg * i / pieces)
            # A rx ry x-axis-rotation large-arc-flag sweep-flag x y; each piece is <= 90 deg: large-arc 0.
            self._parts.append(f"A {r_text} {r_text} 0 0 {sweep} {fmt(x)} {fmt(y)}")
            self._current = (x, y)
        return self

    def close(self) -> PathBuilder:
        self._require_current("close")
        self._parts.append("Z")
        self._current = None
        return self

    def d(self) -> str:
        if self._current is not None:
            raise GeometryError("the last sub-path is still open; call close() first")
        if not self._parts:
            raise GeometryError("the path is empty")
        return " ".join(self._parts)

    def _require_current(self, what: str) -> None:
        if self._current is None:
            raise GeometryError(f"{what} needs a current point: start the sub-path with move_to")
