"""CSV of results (one row per eye) and of trials (one row per answered trial).

Numbers are written in full precision (Python's shortest round-trip repr), so a file read back
gives the stored floats exactly. Against "CSV injection" (OWASP), in every locale: a cell that is not
a number and starts with a character a spreadsheet would read as the start of a formula gets a
leading apostrophe, and every cell holding a separator that some locale uses (`,` `;` tab), a
quote or a line break is quoted (RFC 4180), so no cell can spill into the next one whichever
separator the spreadsheet splits on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

RESULT_COLUMNS = [
    "session_id",
    "patient_reference",
    "patient_birth_year",
    "clinician",
    "session_created_utc",
    "session_status",
    "eye",
    "eye_status",
    "eye_finished_utc",
    "logmar",
    "ci95_low_logmar",
    "ci95_high_logmar",
    "bound",
    "snellen_6m",
    "snellen_20ft",
    "decimal",
    "decimal_chart_line",
    "etdrs_letters",
    "near_n_point",
    "near_m_units",
    "acuity_text",
    "measured_at_mm",
    "moved_closer",
    "category",
    "category_distance_mm",
    "category_logmar_equivalent",
    "who_category",
    "trials",
    "optotypes_shown",
    "optotypes_correct",
    "finished",
    "stopped_early",
    "reliability",
    "correction",
    "optotype_set",
    "procedure",
    "setup",
    "child_mode",
    "helper_mode",
    "viewing_distance_mm",
    "distance_method",
    "distance_check",
    "distance_check_tolerance",
    "distance_check_out_of_tolerance_s",
    "distance_check_largest_deviation",
    "mirrored",
    "css_px_per_mm",
    "scale_method",
    "device_pixel_ratio",
    "viewport_css_px",
    "user_agent",
    "drawable_min_logmar",
    "drawable_max_logmar",
    "warnings",
]
TRIAL_COLUMNS = [
    "session_id",
    "patient_reference",
    "eye",
    "trial",
    "seq",
    "logmar",
    "optotypes",
    "responses",
    "correct",
    "optotypes_correct",
    "optotypes_shown",
    "response_time_ms",
    "height_css_px",
    "scored_by",
    "answered_utc",
]
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
_QUOTE_IF_IN = (",", ";", "\t", '"', "\r", "\n")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _cell(value: Any) -> str:
    """One cell as written: formulas defused, quoted when it holds a separator, quote or line break."""
    text = _text(value)
    if text.lstrip(" ").startswith(_FORMULA_STARTS) and not _is_number(text):
        text = "'" + text
    if any(mark in text for mark in _QUOTE_IF_IN) or text != text.strip(" "):
        text = '"' + text.replace('"', '""') + '"'
    return text


def _number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(float(value)) if isinstance(value, float) else str(value)


def result_rows(report: dict[str, Any]) -> Iterable[dict[str, str]]:
    calibrations = {c["id"]: c for c in report["calibrations"]}
    guard = report.get("distance_guard") or {}  # the webcam distance check, for the whole test
    for eye in report["eyes"]:
        result = eye["result"] or {}
        calibration = calibrations.get(eye["calibration_id"]) or {}
        drawable = eye["drawable_range"] or {}
        yield {
            "session_id": report["public_id"],
            "patient_reference": _text(report["patient_reference"]),
            "patient_birth_year": _number(report["patient"]["birth_year"]),
            "clinician": _text(report["clinician"]),
            "session_created_utc": report["created_at"] or "",
            "session_status": report["status"],
            "eye": eye["eye"],
            "eye_status": eye["status"],
            "eye_finished_utc": eye["finished_at"] or "",
            "logmar": _number(result.get("logmar")),
            "ci95_low_logmar": _number(result.get("ci95_low_logmar")),
            "ci95_high_logmar": _number(result.get("ci95_high_logmar")),
            "bound": _text(result.get("bound")),
            "snellen_6m": result.get("snellen_6", ""),
            "snellen_20ft": result.get("snellen_20", ""),
            "decimal": _number(result.get("decimal")),
            "decimal_chart_line": result.get("decimal_line", ""),
            "etdrs_letters": _number(result.get("etdrs_letters")),
            "near_n_point": result["notation"].get("n_point", "") if result else "",
            "near_m_units": result["notation"].get("m_units", "") if result else "",
            "acuity_text": result["notation"]["text"] if result else "",
            "measured_at_mm": _number(result.get("distance_mm")),
            "moved_closer": _number(result.get("moved_closer")),
            "category": result.get("category") or "",
            "category_distance_mm": _number(result.get("category_distance_mm")),
            "category_logmar_equivalent": _number(result.get("category_logmar_equivalent")),
            "who_category": result.get("who_category", ""),
            "trials": _number(result.get("trials")),
            "optotypes_shown": _number(result.get("optotypes_shown")),
            "optotypes_correct": _number(result.get("optotypes_correct")),
            "finished": _number(result.get("finished")),
            "stopped_early": _number(result.get("stopped_early")),
            "reliability": _text("; ".join(flag["text"] for flag in eye["flags"])),
            "correction": report["correction"] or "",
            "optotype_set": report["optotype_set"] or "",
            "procedure": report["procedure"] or "",
            "setup": report["setup"] or "",
            "child_mode": _number(report["child"]),
            "helper_mode": _number(eye["helper_tapped"]),
            "viewing_distance_mm": _number(calibration.get("viewing_distance_mm")),
            "distance_method": calibration.get("distance_method", ""),
            "distance_check": guard.get("method", ""),
            "distance_check_tolerance": _number(guard.get("tolerance")),
            "distance_check_out_of_tolerance_s": _number(guard.get("time_out_of_tolerance_s")),
            "distance_check_largest_deviation": _number(guard.get("largest_deviation")),
            "mirrored": _number(calibration.get("mirrored")),
            "css_px_per_mm": _number(calibration.get("css_px_per_mm")),
            "scale_method": calibration.get("scale_method", ""),
            "device_pixel_ratio": _number(calibration.get("device_pixel_ratio")),
            "viewport_css_px": "x".join(str(v) for v in calibration.get("viewport_css_px", [])),
            "user_agent": _text(calibration.get("user_agent")),
            "drawable_min_logmar": _number(drawable.get("min_logmar")),
            "drawable_max_logmar": _number(drawable.get("max_logmar")),
            "warnings": _text("; ".join(w["summary"] for w in report["warnings"])),
        }


def trial_rows(report: dict[str, Any]) -> Iterable[dict[str, str]]:
    for eye in report["eyes"]:
        for trial in eye["trials"]:
            yield {
                "session_id": report["public_id"],
                "patient_reference": _text(report["patient_reference"]),
                "eye": eye["eye"],
                "trial": str(trial["index"] + 1),
                "seq": str(trial["seq"]),
                "logmar": _number(trial["logmar"]),
                "optotypes": " ".join(trial["optotypes"]),
                # "?" is a "not sure" answer (stored as null)
                "responses": " ".join(r if r is not None else "?" for r in trial["responses"]),
                "correct": " ".join("1" if c else "0" for c in trial["correct"]),
                "optotypes_correct": str(trial["right_count"]),
                "optotypes_shown": str(trial["shown_count"]),
                "response_time_ms": _number(trial["response_time_ms"]),
                "height_css_px": _number(trial["height_css_px"]),
                "scored_by": trial["scored_by"],
                "answered_utc": trial["at"] or "",
            }


def write_csv(columns: list[str], rows: Iterable[dict[str, str]]) -> str:
    lines = [",".join(columns)]
    lines += [",".join(_cell(row.get(column, "")) for column in columns) for row in rows]
    return "".join(line + "\r\n" for line in lines)  # RFC 4180 line ends


def results_csv(reports: Iterable[dict[str, Any]]) -> str:
    return write_csv(RESULT_COLUMNS, (row for report in reports for row in result_rows(report)))


def trials_csv(reports: Iterable[dict[str, Any]]) -> str:
    return write_csv(TRIAL_COLUMNS, (row for report in reports for row in trial_rows(report)))
