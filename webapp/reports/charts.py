"""SVG of a patient's acuity over time, one line per eye (the trial plot is webapp/plots.py)."""

from __future__ import annotations

import math
from datetime import datetime
from html import escape
from typing import Any

WIDTH, HEIGHT = 560, 290
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 78
# An eye recorded below the chart (CF, HM, LP, NLP) has no logMAR: it is drawn in its own strip under
# the logMAR scale, labelled with its code, never placed on the scale (acuity.low_vision).
CATEGORY_STRIP = 26
EYE_STYLE = {"right": ("#b3261e", "circle"), "left": ("#0b57d0", "square"), "both": ("#1a7f37", "diamond")}
# The eyes of one visit are drawn a little apart so that equal results do not hide each other.
EYE_OFFSET = {"right": -5.0, "left": 5.0, "both": 0.0}
# A category's code (two or three bold letters, about 30 px wide) in the strip: each eye's to one side
# of its visit, and the pair at least CODE_ROOM from the strip's ends.
CODE_OFFSET = {"right": -16.0, "left": 16.0, "both": 0.0}
CODE_ROOM = 34.0


def _when(point: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(point["at"].rstrip("Z"))


def _marker(shape: str, cx: float, cy: float, color: str, extra: str) -> str:
    if shape == "circle":
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{color}" {extra}>'
    if shape == "square":
        return f'<rect x="{cx - 4.5:.1f}" y="{cy - 4.5:.1f}" width="9" height="9" fill="{color}" {extra}>'
    return (
        f'<path d="M{cx:.1f} {cy - 6:.1f}L{cx + 6:.1f} {cy:.1f}L{cx:.1f} {cy + 6:.1f}L{cx - 6:.1f} {cy:.1f}Z" '
        f'fill="{color}" {extra}>'
    )


def history_plot_svg(eyes: dict[str, list[dict[str, Any]]], title: str, element_id: str = "history-plot") -> str:
    """Inline SVG: x = date of the test, y = logMAR (large sizes at the top, as on a chart).

    Each result is drawn with its 95% interval as a bar; a result whose change from the previous
    one of the same eye exceeds the limit gets a ring and data-flagged="true". A category below the
    chart (a point with `category` and no logMAR) is its code in the strip "below chart" under the
    scale, with data-category; the line of its eye does not pass through it.
    """
    points = [point for series in eyes.values() for point in series]
    if not points:
        return ""
    measured = [pt for pt in points if pt.get("logmar") is not None]
    values = [v for pt in measured for v in (pt["logmar"], pt["ci95_low_logmar"], pt["ci95_high_logmar"])]
    low, high = (min(values) - 0.1, max(values) + 0.1) if values else (0.0, 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    strip_top = TOP + plot_h + 4
    # x = the visit (session) time, both eyes of a visit one above the other; visits stored within
    # the same second (the clock's resolution) are placed by order instead.
    visit_time: dict[str, float] = {}
    for pt in points:  # points come oldest visit first (reports.data.history)
        moment = _when(pt).timestamp()
        visit_time[pt["public_id"]] = min(moment, visit_time.get(pt["public_id"], moment))
    order = list(visit_time)
    by_order = len(set(visit_time.values())) < len(order)
    t0, t1 = min(visit_time.values()), max(visit_time.values())

    def x(point: dict[str, Any]) -> float:
        return visit_x(point) + EYE_OFFSET.get(point["eye"], 0.0)

    def visit_x(point: dict[str, Any]) -> float:
        if len(order) == 1:
            fraction = 0.5
        elif by_order:
            fraction = order.index(point["public_id"]) / (len(order) - 1)
        else:
            fraction = (visit_time[point["public_id"]] - t0) / (t1 - t0)
        return LEFT + 12 + (plot_w - 24) * fraction

    def y(logmar: float) -> float:
        return TOP + plot_h * (high - logmar) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{element_id}-title" class="history-plot"><title id="{element_id}-title">{escape(title)}</title>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#888"/>',
    ]
    if measured:
        tick = math.ceil(low * 10 - 1e-9) / 10  # first 0.1 line inside the plot
        while tick <= high:
            parts.append(
                f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11">{tick:+.1f}</text>'
            )
            tick = round(tick + 0.2, 1)
        parts.append(
            f'<text x="14" y="{TOP + plot_h / 2:.1f}" font-size="11" transform="rotate(-90 14 {TOP + plot_h / 2:.1f})" '
            f'text-anchor="middle">logMAR</text>'
        )
    else:  # every result below the chart: an empty scale would read as a missing plot
        parts.append(
            f'<text x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2 - 4:.1f}" font-size="13" text-anchor="middle" '
            f'data-no-measured>No result on the logMAR scale:<tspan x="{LEFT + plot_w / 2:.1f}" dy="18">'
            f"each was recorded below the chart (codes below).</tspan></text>"
        )
    if len(measured) < len(points):
        parts.append(
            f'<rect x="{LEFT}" y="{strip_top}" width="{plot_w}" height="{CATEGORY_STRIP}" fill="#f3f3f3" '
            f'stroke="#888" data-category-strip/>'
            f'<text x="{LEFT - 6}" y="{strip_top + 11}" text-anchor="end" font-size="11">below</text>'
            f'<text x="{LEFT - 6}" y="{strip_top + 23}" text-anchor="end" font-size="11">chart</text>'
        )
    dates = sorted({_when(pt).strftime("%Y-%m-%d") for pt in points})
    first, last = min(points, key=_when), max(points, key=_when)
    date_y = strip_top + CATEGORY_STRIP + 14
    parts.append(f'<text x="{x(first):.1f}" y="{date_y}" font-size="11" text-anchor="start">{dates[0]}</text>')
    if len(dates) > 1:
        parts.append(f'<text x="{x(last):.1f}" y="{date_y}" font-size="11" text-anchor="end">{dates[-1]}</text>')
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" font-size="11" text-anchor="middle">date of test (UTC)</text>'
    )
    for eye, series in eyes.items():
        color, shape = EYE_STYLE.get(eye, ("#444", "circle"))
        on_scale = [pt for pt in series if pt.get("logmar") is not None]
        if len(on_scale) > 1:
            line = " ".join(f"{x(pt):.1f},{y(pt['logmar']):.1f}" for pt in on_scale)
            parts.append(
                f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="1.5" data-eye="{eye}"/>'
            )
        for pt in series:
            if pt.get("logmar") is None:  # below the chart: its code in the strip, in the eye's colour
                label = f"{eye} eye, {pt['at'][:16].replace('T', ' ')}: {pt['category_text']}"
                # A code is wider than a marker: the two eyes' codes of one visit side by side, not on top.
                # (kept inside the strip at the first and the last visit)
                centre = min(max(visit_x(pt), LEFT + CODE_ROOM), LEFT + plot_w - CODE_ROOM)
                code_x = centre + CODE_OFFSET.get(pt["eye"], 0.0)
                parts.append(
                    f'<text x="{code_x:.1f}" y="{strip_top + 19}" font-size="14" font-weight="bold" fill="{color}" '
                    f'text-anchor="middle" data-eye="{eye}" data-category="{escape(pt["category"])}" '
                    f'data-point="{escape(pt["public_id"])}"><title>{escape(label)}</title>{escape(pt["category"])}</text>'
                )
                continue
            cx, cy = x(pt), y(pt["logmar"])
            parts.append(
                f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(pt["ci95_high_logmar"]):.1f}" '
                f'y2="{y(pt["ci95_low_logmar"]):.1f}" stroke="{color}" stroke-width="1"/>'
            )
            label = f"{eye} eye, {pt['at'][:16].replace('T', ' ')}: logMAR {pt['logmar_text']}"
            if pt["change_logmar"] is not None:
                label += f", change {pt['change_logmar']:+.2f}"
            if pt["flagged"]:
                label += " (beyond the test-retest limit)"
                parts.append(
                    f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="9" fill="none" stroke="#000" '
                    f'stroke-width="2" data-flagged="true"/>'
                )
            extra = f'data-eye="{eye}" data-point="{escape(pt["public_id"])}"'
            parts.append(
                _marker(shape, cx, cy, color, extra)
                + f"<title>{escape(label)}</title>"
                + ("</circle>" if shape == "circle" else "</rect>" if shape == "square" else "</path>")
            )
    legend_x = LEFT + 8
    for eye in eyes:
        color, shape = EYE_STYLE.get(eye, ("#444", "circle"))
        parts.append(
            _marker(shape, legend_x, TOP + 10, color, 'aria-hidden="true"')
            + ("</circle>" if shape == "circle" else "</rect>" if shape == "square" else "</path>")
        )
        parts.append(f'<text x="{legend_x + 9}" y="{TOP + 14}" font-size="11">{eye}</text>')
        legend_x += 60
    parts.append("</svg>")
    return "".join(parts)
