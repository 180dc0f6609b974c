"""Server-side SVG of one eye's test: optotype size (logMAR) per trial, right and wrong marked."""

from __future__ import annotations

import math
from html import escape
from typing import Any

WIDTH, HEIGHT = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40


def trial_plot_svg(
    trials: list[dict[str, Any]], result: dict[str, Any] | None, title: str, element_id: str = "trial-plot"
) -> str:
    """Inline SVG: x = trial number, y = logMAR (large sizes at the top, as on a chart).

    A trial is marked right (filled circle) when most of its optotypes were read correctly,
    else wrong (a cross); the result and its 95% interval are drawn as a line and a band.
    """
    if not trials:
        return ""
    values = [t["logmar"] for t in trials]
    if result and result.get("logmar") is not None:  # a category has no line to draw
        values += [result["ci95_low_logmar"], result["ci95_high_logmar"]]
    low = min(values) - 0.1
    high = max(values) + 0.1
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    n = len(trials)

    def x(i: int) -> float:
        return LEFT + (plot_w * (i + 0.5) / n)

    def y(logmar: float) -> float:
        return TOP + plot_h * (high - logmar) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{element_id}-title" class="trial-plot" font-family="sans-serif">'
        f'<title id="{element_id}-title">{escape(title)}</title>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#888"/>',
    ]
    if result and result.get("logmar") is not None:  # a category has no line to draw
        band_top, band_bottom = y(result["ci95_high_logmar"]), y(result["ci95_low_logmar"])
        parts.append(
            f'<rect x="{LEFT}" y="{band_top:.1f}" width="{plot_w}" height="{band_bottom - band_top:.1f}" '
            f'fill="#cde" opacity="0.6"><title>95% interval</title></rect>'
        )
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(result["logmar"]):.1f}" y2="{y(result["logmar"]):.1f}" '
            f'stroke="#036" stroke-dasharray="4 3"><title>result logMAR {result["logmar"]:.2f}</title></line>'
        )
    tick = math.ceil(round(low * 10, 6)) / 10  # first 0.1 row inside the plot
    while tick <= high:
        parts.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11">{tick:+.1f}</text>')
        tick = round(tick + 0.2, 1)
    parts.append(
        f'<text x="14" y="{TOP + plot_h / 2:.1f}" font-size="11" transform="rotate(-90 14 {TOP + plot_h / 2:.1f})" '
        f'text-anchor="middle">logMAR</text>'
    )
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" font-size="11" text-anchor="middle">trial</text>')
    points = " ".join(f"{x(i):.1f},{y(t['logmar']):.1f}" for i, t in enumerate(trials))
    parts.append(f'<polyline points="{points}" fill="none" stroke="#999"/>')
    for i, trial in enumerate(trials):
        right = sum(trial["correct"]) * 2 > len(trial["correct"])
        cx, cy = x(i), y(trial["logmar"])
        label = (
            f"trial {i + 1}: logMAR {trial['logmar']:+.2f}, {sum(trial['correct'])} of {len(trial['correct'])} right"
        )
        if right:
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="#1a7f37" data-mark="right">'
                f"<title>{escape(label)}</title></circle>"
            )
        else:
            parts.append(
                f'<path d="M{cx - 5:.1f} {cy - 5:.1f}L{cx + 5:.1f} {cy + 5:.1f}M{cx - 5:.1f} {cy + 5:.1f}'
                f'L{cx + 5:.1f} {cy - 5:.1f}" stroke="#c00" stroke-width="2" data-mark="wrong">'
                f"<title>{escape(label)}</title></path>"
            )
    parts.append("</svg>")
    return "".join(parts)
