"""The session report as a PDF (reportlab), drawn from the same dicts as the HTML report."""

from __future__ import annotations

import io
import os
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from webapp.reports.data import when_text

# A Unicode font when the system has one (patient references and user agents may hold any
# character); the built-in Helvetica covers Latin-1 only.
_DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
_DEJAVU_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def _fonts() -> tuple[str, str]:
    if os.path.exists(_DEJAVU) and os.path.exists(_DEJAVU_BOLD):
        if "VisusSans" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("VisusSans", _DEJAVU))
            pdfmetrics.registerFont(TTFont("VisusSans-Bold", _DEJAVU_BOLD))
        return "VisusSans", "VisusSans-Bold"
    return "Helvetica", "Helvetica-Bold"


def trial_plot_drawing(
    trials: list[dict[str, Any]], result: dict[str, Any] | None, width: float = 170 * mm, height: float = 55 * mm
) -> Drawing:
    """Size per trial (x = trial, y = logMAR, large at the top), as webapp/plots.py draws it in SVG:
    filled circle right, cross wrong, band = 95% interval, dashed line = result."""
    left, right, top, bottom = 32.0, 6.0, 14.0, 22.0
    drawing = Drawing(width, height)
    values = [t["logmar"] for t in trials]
    if result and result.get("logmar") is not None:  # a category has no line to draw
        values += [result["ci95_low_logmar"], result["ci95_high_logmar"]]
    low, high = min(values) - 0.1, max(values) + 0.1
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(trials)

    def x(i: int) -> float:
        return left + plot_w * (i + 0.5) / n

    def y(logmar: float) -> float:  # reportlab's y grows upwards: large sizes (high logMAR) on top
        return bottom + plot_h * (logmar - low) / (high - low)

    drawing.add(Rect(left, bottom, plot_w, plot_h, fillColor=colors.white, strokeColor=colors.grey))
    if result and result.get("logmar") is not None:  # a category has no line to draw
        drawing.add(
            Rect(
                left,
                y(result["ci95_low_logmar"]),
                plot_w,
                y(result["ci95_high_logmar"]) - y(result["ci95_low_logmar"]),
                fillColor=colors.HexColor("#ccddee"),
                strokeColor=None,
            )
        )
        drawing.add(
            Line(
                left,
                y(result["logmar"]),
                left + plot_w,
                y(result["logmar"]),
                strokeColor=colors.HexColor("#003366"),
                strokeDashArray=[4, 3],
            )
        )
    tick = round(low, 1)
    while tick <= high:
        drawing.add(String(left - 4, y(tick) - 3, f"{tick:+.1f}", fontSize=7, textAnchor="end"))
        tick = round(tick + 0.2, 1)
    drawing.add(String(left + plot_w / 2, 4, "trial", fontSize=7, textAnchor="middle"))
    drawing.add(String(2, height - 8, "logMAR", fontSize=7))
    if n > 1:
        points = [v for i, t in enumerate(trials) for v in (x(i), y(t["logmar"]))]
        drawing.add(PolyLine(points, strokeColor=colors.grey, strokeWidth=0.5))
    for i, trial in enumerate(trials):
        cx, cy = x(i), y(trial["logmar"])
        if sum(trial["correct"]) * 2 > len(trial["correct"]):
            drawing.add(Circle(cx, cy, 2.5, fillColor=colors.HexColor("#1a7f37"), strokeColor=None))
        else:
            red = colors.HexColor("#cc0000")
            drawing.add(Line(cx - 2.5, cy - 2.5, cx + 2.5, cy + 2.5, strokeColor=red, strokeWidth=1.2))
            drawing.add(Line(cx - 2.5, cy + 2.5, cx + 2.5, cy - 2.5, strokeColor=red, strokeWidth=1.2))
    return drawing


def report_pdf(report: dict[str, Any]) -> bytes:
    regular, bold = _fonts()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName=regular, fontSize=9, leading=11.5)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5)
    h1 = ParagraphStyle("h1", parent=styles["Heading1"], fontName=bold, fontSize=15, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=styles["Heading2"], fontName=bold, fontSize=11.5, spaceBefore=8, spaceAfter=3)
    strong = ParagraphStyle("strong", parent=body, fontName=bold, fontSize=10, leading=12.5)

    def p(text: Any, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape("" if text is None else str(text)), style)

    def grid(rows: list[list[Any]], widths: list[float], header: bool = False, font_size: float = 8.5) -> Table:
        table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
        style = [
            ("FONTNAME", (0, 0), (-1, -1), regular),
            ("FONTSIZE", (0, 0), (-1, -1), font_size),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ]
        style.append(("FONTNAME", (0, 0), (-1, 0), bold) if header else ("FONTNAME", (0, 0), (0, -1), bold))
        table.setStyle(TableStyle(style))
        return table

    story: list[Any] = [p("Visual acuity report", h1)]
    story.append(grid([[label, p(value)] for label, value in report["header"]], [40 * mm, 130 * mm]))

    # Page one: the summary of both eyes, the notes and the signature.
    story.append(p("Summary", h2))
    summary = [["Eye", "Result", "95% interval", "Distance", "Reliability"]]
    for eye in report["eyes"]:
        r = eye["result"]
        flags = [p(f"• {flag['text']}") for flag in eye["flags"]] or p("no problems recorded")
        if r:
            summary.append(
                [
                    p(eye["eye_name"]),
                    Paragraph("<br/>".join(escape(part) for part in r["notation"]["text"].split(" · ")), strong),
                    p(r["notation"]["ci95_text"]),
                    p(eye["distance_text"], small),
                    flags,
                ]
            )
        else:
            summary.append(
                [p(eye["eye_name"]), p(f"No result ({eye['status_text']})"), "", p(eye["distance_text"], small), flags]
            )
    story.append(grid(summary, [30 * mm, 44 * mm, 26 * mm, 21 * mm, 49 * mm], header=True, font_size=9))
    story.append(Spacer(1, 3))
    story.append(
        grid(
            [
                ["Method", p(report["method_text"])],
                ["Correction worn", p(report["correction_text"])],
                ["Set-up", p(report["setup_text"])],
                ["Answers", p(report["answer_mode_text"])],
                *([["Child's test", p(report["child_text"])]] if report.get("child_text") else []),
                *([["Distance check", p(report["distance_guard"]["text"])]] if report.get("distance_guard") else []),
            ],
            [40 * mm, 130 * mm],
        )
    )
    story.append(p("Clinician's notes", h2))
    if report["notes"]:
        story += [p(f"{n['text']} ({when_text(n['at'])})") for n in report["notes"]]
    else:
        story.append(p("None."))
    story.append(Spacer(1, 12 * mm))
    signature = Table(
        [["Name", ""], ["Date", ""], ["Signature", ""]],
        colWidths=[28 * mm, 90 * mm],
        rowHeights=[11 * mm, 11 * mm, 16 * mm],
        hAlign="LEFT",
    )
    signature.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (0, -1), bold),
                ("FONTSIZE", (0, 0), (-1, -1), 10),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LINEBELOW", (1, 0), (1, -1), 0.75, colors.black),
            ]
        )
    )
    story.append(KeepTogether([signature]))

    # The appendix: each eye in full, with its trials.
    story.append(PageBreak())
    story.append(p("Appendix: each eye in detail", h1))
    for eye in report["eyes"]:
        block: list[Any] = [p(f"{eye['eye_name']}: {eye['status_text']}", h2)]
        r = eye["result"]
        if r:
            rows = [
                ["Acuity", p(r["notation"]["text"])],
                ["logMAR", p(f"{r['logmar_text']}  (95% interval {r['ci95_low_text']} to {r['ci95_high_text']})")],
                *(
                    [["Near print", p(f"{r['notation']['n_point']} · {r['notation']['m_units']}")]]
                    if "n_point" in r["notation"]
                    else []
                ),
                [
                    "Snellen equivalent" if "n_point" in r["notation"] else "Snellen",
                    p(f"{r['snellen_6']} · {r['snellen_20']}"),
                ],
                ["Decimal", p(r["decimal_line"])],
                ["ETDRS letters", p(str(r["etdrs_text"]))],
                *([["WHO category", p(r["who_category"])]] if r["who_category"] else []),
                [
                    "Trials",
                    p(
                        f"{r['trials']} ({r['optotypes_correct']} of {r['optotypes_shown']} optotypes right)"
                        + (f"; {r['stopped_early_text']}" if r["stopped_early"] else "")
                    ),
                ],
            ]
            if r["category"]:  # below the chart: no measured number (webapp/reports/data.py)
                rows = [rows[0], ["Category", p(f"{r['category_text']} · {r['category_equivalent_text']}")], *rows[-2:]]
            if r["distance_text"]:
                rows.insert(1, ["Distance", p(f"{r['distance_text']} (moved closer)")])
            if r.get("bound"):
                rows.append(["Bound", p(f"{r['bound']} {r['logmar_text']}: {r['bound_text']}")])
            block.append(grid(rows, [40 * mm, 130 * mm]))
        else:
            block.append(p("No result" + (": this eye was not tested." if eye["status"] == "skipped" else ".")))
        if eye["trials"]:
            block.append(Spacer(1, 3))
            block.append(trial_plot_drawing(eye["trials"], r))
            block.append(
                p("Size per trial: filled circle right, cross wrong; band: 95% interval; dashed line: result.", small)
            )
        story.append(KeepTogether(block))  # an eye's heading, result and plot on one page
        if eye["trials"]:
            rows = [["#", "logMAR", "Shown", "Answered", "Right", "ms", "Scored by"]]
            for t in eye["trials"]:
                rows.append(
                    [
                        str(t["index"] + 1),
                        t["notation"]["logmar"],
                        p(" ".join(t["optotypes"]), small),
                        p(" ".join(x if x is not None else "?" for x in t["responses"]), small),
                        f"{t['right_count']}/{t['shown_count']}",
                        f"{t['response_time_ms']:.0f}" if t["response_time_ms"] is not None else "",
                        t["scored_by"],
                    ]
                )
            story.append(
                grid(rows, [10 * mm, 16 * mm, 46 * mm, 46 * mm, 14 * mm, 16 * mm, 22 * mm], header=True, font_size=7.5)
            )

    story.append(p("Events during the test", h2))
    if report["warnings"]:
        story += [p(f"{when_text(w['at'])}, {w['device_text']}: {w['summary']}", small) for w in report["warnings"]]
    else:
        story.append(p("None recorded."))

    story.append(p("Technical details", h2))
    calibration_rows = []
    for c in report["calibrations"]:
        width, height = c["viewport_css_px"]
        text = (
            f"{when_text(c['at'])}: viewing distance {c['viewing_distance_mm']:.0f} mm ({c['distance_method_text']}); "
            f"screen scale {c['css_px_per_mm']:.3f} CSS px/mm ({c['scale_method_text']}); "
            f"{c['device_pixel_ratio']:g} screen pixels per CSS pixel; window {width} x {height} CSS px; "
            f"sizes this screen could draw {c['measurable_range']['text']}; browser {c['browser_text']}"
            + ("; mirror-reversed" if c["mirrored"] else "")
            + (f"; voided: {c['invalidated_text']}" if c["invalidated_reason"] else "")
        )
        calibration_rows.append(p(text, small))
    user_agents = sorted({c["user_agent"] for c in report["calibrations"] if c["user_agent"]})
    story.append(
        grid(
            [
                ["Scoring rule", p(report["scoring_rule"], small)],
                ["Calibrations", calibration_rows or p("no calibration")],
                ["Browser string", [p(ua, small) for ua in user_agents] or p("not reported")],
                ["Session", p(report["public_id"])],
            ],
            [40 * mm, 130 * mm],
        )
    )

    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title="Visual acuity report",
        author="Visus",
        subject=f"Test session {report['public_id']}",
    )
    document.build(story)
    return out.getvalue()
