"""The report of a test session as plain dicts, read from the models (no Flask request needed).

One builder feeds every output (HTML, PDF, CSV, FHIR), so they cannot disagree. Notation comes
from acuity.notation.describe through webapp.serializers (each result's `notation`), the same strings
the live view and the patient's screen show; nothing is recomputed here that is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import has_request_context

from acuity import notation
from webapp import serializers as p
from webapp.clinician.forms import NewTestForm
from webapp.clinician.times import local_time, zone_name
from webapp.live import distance_guard
from webapp.live.payloads import child_mode
from webapp.models import Calibration, EyeTest, SessionEvent, TestSession

# Test-retest 95% limits of agreement of remote and chart acuity tests are about +/-0.10 to
# +/-0.18 logMAR (docs/measurement.md §8: Arditi & Cagenello 1993, Rosser 2003, DigiVis,
# Bach 2024 at 18 trials +/-0.17); a change larger than this is flagged in a patient's history.
DEFAULT_CHANGE_LIMIT_LOGMAR = 0.15

# What each procedure's result means (docs/procedures.md sections 1-3; the report shows no file path).
SCORING_RULES = {
    "adaptive": (
        "Bayesian adaptive: posterior mean threshold plus the chart-equivalent offset; "
        "95% interval from the posterior's 2.5% and 97.5% quantiles"
    ),
    "chart": (
        "Letter by letter: logMAR = (largest row tested + 0.1) - 0.02 x letters correct "
        "(5 letters per row); stop after a row with 3 or more misses; 95% interval "
        "= score +/- 1.96 x within-test SD"
    ),
    "manual": (
        "Clinician-chosen sizes scored by the adaptive procedure's posterior (same offset, interval and bounds)"
    ),
    "best_pest": "Best PEST as FrACT runs it (reference procedure)",
}

SCALE_METHODS = {
    "card": "bank card (ISO/IEC 7810 ID-1, 85.60 mm) matched on screen",
    "ruler": "ruler held against the screen",
}
DISTANCE_METHODS = {
    "tape": "measured with a tape or string",
    "mirror": "mirror: twice the patient-to-mirror distance",
    "blind_spot": "blind-spot method (Li et al. 2020)",
}
BOUNDS = {
    "<=": "better than or equal to this: the smallest size this screen could draw was read",
    ">=": "worse than or equal to this: the largest size this screen could draw was not read",
}
EYE_NAMES = {"right": "Right eye (OD)", "left": "Left eye (OS)", "both": "Both eyes (OU)"}
EYE_STATUS = {
    "done": "measured",
    "skipped": "not tested",
    "active": "being tested",
    "pending": "not yet tested",
}
CATEGORY_STATUS = "recorded below the chart"

# A report is built in the request, on the server's one event loop: its size is bounded so that it
# takes a fraction of a second whatever a page reported (docs/security.md, stored events). A real
# test has a few dozen warnings, each a short line.
REPORT_WARNINGS = 100
SUMMARY_CHARS = 200

# Events that are warnings about the conduct of the test (shown and exported as such).
WARNING_KINDS = (
    "page_event",
    "calibration_invalidated",
    "paused",
    "resumed",
    "warning",
    "ended",
    # low vision: each step of a move closer, the clinician's decline and category (docs/measurement.md §7a)
    "move_closer",
    "moved_closer",
    "move_declined",
    "category",
)


def _choices(field: str) -> dict[str, str]:
    """The labels the new-test form shows for a config value (one place for the wording)."""
    return {choice.value: choice.label for choice in getattr(NewTestForm, field).kwargs["choices"]}


def _label(field: str, value: Any) -> str:
    return _choices(field).get(value, str(value)) if value is not None else ""


def result_values(eye_test: EyeTest) -> dict[str, Any] | None:
    """The stored result with every notation the report shows, or None for an eye without one."""
    result = p.result_dict(eye_test)
    if result is None:
        return None
    if result["category"]:  # below the chart: the category's words, no measured number
        measured = result["measured_result"] or {}
        return {
            **result,
            "notation": {**result["notation"], "ci95_text": ""},
            "logmar_text": result["category_equivalent_text"],
            "ci95_low_logmar": None,
            "ci95_high_logmar": None,
            "ci95_low_text": "",
            "ci95_high_text": "",
            "snellen_6": "",
            "snellen_20": "",
            "decimal": None,
            "decimal_line": "",
            "etdrs_letters": None,
            "etdrs_text": "",
            # ICD-11 9D90: every category below 3/60, down to no light perception, is blindness.
            "who_category": "blindness",
            "bound_text": "",
            "optotypes_shown": measured.get("optotypes_shown", 0),
            "optotypes_correct": measured.get("optotypes_correct", 0),
            "finished": measured.get("finished"),
        }
    shown = result["notation"]
    return {
        **result,
        "logmar_text": shown["logmar"],
        "ci95_low_text": shown["ci95_low"]["logmar"],
        "ci95_high_text": shown["ci95_high"]["logmar"],
        "decimal_line": shown["decimal"],
        "etdrs_text": shown["etdrs_letters"] if shown["etdrs_letters"] is not None else shown["etdrs_text"],
        # ICD-11 9D90 is defined on distance acuity: a near test has none ("" in every export).
        "who_category": "" if "n_point" in shown else notation.who_category(result["logmar"]),
        "bound_text": BOUNDS.get(result.get("bound") or "", ""),
    }


def calibration_values(calibration: Calibration) -> dict[str, Any]:
    return {
        **p.calibration_dict(calibration),
        "id": calibration.id,
        "scale_method_text": SCALE_METHODS.get(calibration.scale_method, calibration.scale_method),
        "distance_method_text": DISTANCE_METHODS.get(calibration.distance_method, calibration.distance_method),
        "distance_input": dict(calibration.distance_input or {}),
        "measurable_range": p.measurable_range_dict(calibration),
        "invalidated_at": p.iso(calibration.invalidated_at),
        "invalidated_reason": calibration.invalidated_reason,
        "invalidated_text": RECALIBRATION_REASONS.get(
            calibration.invalidated_reason or "", calibration.invalidated_reason
        ),
        "browser_text": browser_text(calibration.user_agent),
        "at_text": when_text(p.iso(calibration.created_at)),
    }


# A browser's user agent in words ("Chrome 131 on Android"): the first of these names it carries,
# in this order (Edge and Opera also say Chrome, Chrome also says Safari).
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("HeadlessChrome/", "Chrome (headless)"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Version/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def browser_text(user_agent: str | None) -> str:
    """The browser and system a user agent names, in words; "not reported" without one."""
    if not user_agent:
        return "not reported"
    browser = next(
        (
            f"{name} {user_agent.split(key, 1)[1].split('.')[0].split(' ')[0]}"
            for key, name in _BROWSERS
            if key in user_agent
        ),
        "an unrecognised browser",
    )
    system = next((name for key, name in _SYSTEMS if key in user_agent), None)
    return f"{browser} on {system}" if system else browser


def _calibration_for(eye_test: EyeTest, calibrations: list[Calibration]) -> Calibration | None:
    """The calibration in force when the eye's last trial was answered (else when it started)."""
    moment = eye_test.trials[-1].answered_at if eye_test.trials else eye_test.started_at
    if moment is None:
        return None
    before = [c for c in calibrations if c.created_at <= moment]
    return before[-1] if before else None


# Events in a clinician's words (docs/exports.md, "Events in plain words"): what the patient's pages
# report, what the server warns of and why a calibration was voided. The stored codes go only into
# the CSV and FHIR exports' technical columns.
DEVICES = {"display": "patient's screen", "pad": "patient's phone", "clinician": "clinician", "server": "Visus"}
PAGE_EVENTS = {
    "hidden": "the test page was hidden (the patient switched to another tab or app)",
    "visible": "the test page was shown again",
    "fullscreen_exit": "the test page left full screen",
    "fullscreen_enter": "the test page went full screen",
    "resize": "the test window changed size",
    "zoom": "the browser zoom or the screen changed",
}
RECALIBRATION_REASONS = {
    "clinician_request": "the clinician asked for it",
    "distance_check": "the clinician asked for the distance to be checked again",
    "drawn_size_off": "a letter was drawn more than 2% off its size",
    "zoom_or_screen_changed": "the browser zoom or the screen changed",
    "device_pixel_ratio_changed": "the screen's pixel density changed",
    "window_too_small": "the window became too small for the letter",
    "replaced by a new calibration": "a new calibration replaced it",
    "move_closer": "the patient was asked to come closer (low vision)",
}
WARNINGS = {
    "distance_differs": "the viewing distance ({viewing_distance_mm}) differs from the set-up's ({setup_mm})",
    "size_not_drawable": "the next size ({logmar}) cannot be drawn on this screen: the test was held",
    "range_narrower_than_eye_test": "the new calibration cannot draw every size this eye's test uses",
    "device_replaced": "another device took over the patient's link",
    "events_dropped": "{dropped} more page reports were not stored (at most {limit} a test)",
}
OTHER_EVENTS = {
    "consent": "the patient agreed to start",
    "paused": "the clinician paused the test",
    "resumed": "the clinician resumed the test",
    "ended": "the clinician ended the test",
    "note": "note",
    "move_declined": "the clinician kept the patient at this distance instead of moving them closer",
    "category": "the clinician recorded a category below the chart",
    "helper": "who taps the answers",  # a child's test (webapp/live/commands.py, helper)
}


def event_summary(values: dict[str, Any]) -> str:
    """One stored event (webapp.serializers.event_dict) in plain words, never a code or JSON."""
    kind, detail = values["kind"], values["detail"]
    shown = {**{k: v for k, v in detail.items() if isinstance(v, (str, int, float))}, **values["detail_text"]}
    if kind == "page_event":
        summary = PAGE_EVENTS.get(values.get("page_kind") or "", "the test page reported a change")
    elif kind == "calibration_invalidated":
        reason = detail.get("reason", "")
        summary = (
            f"calibration voided ({RECALIBRATION_REASONS.get(reason, 'no reason given')}); the patient measured again"
        )
    elif kind == "warning":
        template = WARNINGS.get(detail.get("code", ""), "a warning")
        try:
            summary = template.format(**shown)
        except (KeyError, IndexError, ValueError):
            summary = template.split(" (")[0]
    elif kind == "calibration":
        summary = "the patient calibrated the screen" + (
            f" (viewing distance {shown['viewing_distance_mm']}"
            + (f", before {shown['previous_viewing_distance_mm']}" if "previous_viewing_distance_mm" in shown else "")
            + ")"
            if "viewing_distance_mm" in values["detail_text"]
            else ""
        )
    elif kind in ("move_closer", "moved_closer"):  # low vision (docs/measurement.md §7a)
        where = shown.get("to_mm") or shown.get("distance_mm") or "a nearer distance"
        summary = (
            f"the patient was asked to come closer, to {where}"
            if kind == "move_closer"
            else f"the patient moved closer and measured {where}"
        )
    elif kind == "present":
        summary = "the clinician chose the size" + (f" {shown['logmar']}" if "logmar" in values["detail_text"] else "")
    elif kind == "share_results":
        summary = "results shared with the patient" if detail.get("show") else "results hidden from the patient"
    else:
        summary = OTHER_EVENTS.get(kind, kind.replace("_", " "))
    if values.get("text"):
        summary += f": {values['text']}"
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1] + "…"
    return summary


def event_values(event: SessionEvent) -> dict[str, Any]:
    values = p.event_dict(event)
    return {
        **values,
        "device_text": DEVICES.get(values["device"] or "", values["device"] or ""),
        "summary": event_summary(values),
        "at_text": when_text(values["at"]),
    }


def _bounded(warnings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first REPORT_WARNINGS warnings and a line counting the rest."""
    if len(warnings) <= REPORT_WARNINGS:
        return warnings
    rest = warnings[REPORT_WARNINGS:]
    return warnings[:REPORT_WARNINGS] + [
        {
            "kind": "warning",
            "detail": {},
            "device": "server",
            "device_text": DEVICES["server"],
            "at_text": when_text(rest[-1]["at"]),
            "text": None,
            "at": rest[-1]["at"],
            "summary": f"{len(rest)} more warnings, not listed here (the result page lists every stored event)",
        }
    ]


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def eye_flags(eye_test: EyeTest, calibrations: list[Calibration], events: list[SessionEvent]) -> list[dict[str, str]]:
    """What makes this eye's result less reliable, in plain words (docs/exports.md, "Reliability
    flags"): stopped early, recalibrated mid-eye, paused, distance and drawn-size warnings.

    From stored rows only. An event belongs to the eye when it happened between the eye's start and
    its end; a distance warning, made with a calibration, belongs to the eyes measured with it."""
    flags: list[dict[str, str]] = []
    result = p.result_dict(eye_test)
    if result and result["stopped_early"]:
        flags.append({"code": "stopped_early", "text": result["stopped_early_text"]})
    if eye_test.started_at is None:
        return flags
    end = eye_test.finished_at
    in_force = [c for c in calibrations if c.created_at <= eye_test.started_at]
    since = in_force[-1].created_at if in_force else eye_test.started_at

    def during(event: SessionEvent, start=eye_test.started_at) -> bool:
        return start <= event.created_at and (end is None or event.created_at <= end)

    mine = [e for e in events if during(e)]
    reasons = [(e.detail or {}).get("reason", "") for e in mine if e.kind == "calibration_invalidated"]
    # A move closer (low vision) is the test's own step, measured again by design: not a reliability problem.
    reasons = [r for r in reasons if r != "move_closer"]
    if reasons:
        # A letter drawn off its size has a flag of its own (drawn_size, below).
        why = sorted({RECALIBRATION_REASONS.get(r, "no reason given") for r in reasons if r != "drawn_size_off"})
        flags.append(
            {
                "code": "recalibrated",
                "text": f"recalibrated mid-eye {_times(len(reasons))}" + (f" ({'; '.join(why)})" if why else ""),
            }
        )
    clinician_pauses = sum(1 for e in mine if e.kind == "paused")
    hidden = sum(
        1 for e in mine if e.kind == "page_event" and (e.detail or {}).get("kind") == "hidden" and e.device == "display"
    )
    if clinician_pauses or hidden:
        parts = [f"{_times(clinician_pauses)} by the clinician"] if clinician_pauses else []
        parts += [f"{_times(hidden)} with the test page hidden"] if hidden else []
        flags.append({"code": "paused", "text": f"paused {', '.join(parts)}"})
    codes = [((e.detail or {}).get("code"), e) for e in events if e.kind == "warning" and during(e, since)]
    distance = [e for code, e in codes if code == "distance_differs"]
    if distance:
        texts = p.event_dict(distance[-1])["detail_text"]
        flags.append(
            {
                "code": "distance",
                "text": f"viewing distance {texts.get('viewing_distance_mm', '?')}, "
                f"not the set-up's {texts.get('setup_mm', '?')}",
            }
        )
    drawn = sum(1 for r in reasons if r == "drawn_size_off")
    held = sum(1 for code, e in codes if code == "size_not_drawable" and during(e))
    narrower = sum(1 for code, e in codes if code == "range_narrower_than_eye_test" and during(e))
    sizes = [f"a letter drawn more than 2% off its size {_times(drawn)}"] if drawn else []
    sizes += [f"a size this screen cannot draw {_times(held)}"] if held else []
    sizes += [f"a new calibration could not draw every size of the test {_times(narrower)}"] if narrower else []
    if sizes:
        flags.append({"code": "drawn_size", "text": "; ".join(sizes)})
    return flags


def helper_tapped(eye_test: EyeTest, events: list[SessionEvent]) -> bool | None:
    """A child's test: whether an adult helper tapped any of this eye's answers (the latest stored
    `helper` event before each answer says who tapped it); None for an adult's test."""
    if not child_mode(eye_test.session):
        return None
    switches = sorted((e.created_at, e.id, bool((e.detail or {}).get("on"))) for e in events if e.kind == "helper")
    for trial in eye_test.trials:
        before = [on for when, _, on in switches if when <= trial.answered_at]
        if before and before[-1]:
            return True
    return False


def child_text(eyes: list[dict[str, Any]]) -> str:
    """A child's test in words, for the report, the PDF and the result page: how the child answered and
    which eyes' answers an adult helper tapped (`helper_tapped`)."""
    helped = [eye["eye_name"] for eye in eyes if eye["helper_tapped"]]
    who = (
        f"an adult helper tapped answers the child pointed to for: {', '.join(helped)}"
        if helped
        else "the child tapped every answer"
    )
    return f"A child's test: HOTV letters, matched on the phone; {who}."


def eye_values(eye_test: EyeTest, calibrations: list[Calibration], events: list[SessionEvent]) -> dict[str, Any]:
    calibration = _calibration_for(eye_test, calibrations)
    trials = [p.trial_dict(eye_test, trial) for trial in eye_test.trials]
    for trial in trials:
        trial["right_count"] = sum(trial["correct"])
        trial["shown_count"] = len(trial["correct"])
    config = eye_test.procedure_config or {}
    result = result_values(eye_test)
    below_chart = bool(result and result["category"])  # recorded, not measured on the logMAR scale
    return {
        "eye": eye_test.eye,
        "eye_name": EYE_NAMES.get(eye_test.eye, eye_test.eye),
        "status": eye_test.status,
        "status_text": CATEGORY_STATUS if below_chart else EYE_STATUS.get(eye_test.status, eye_test.status),
        "started_at": p.iso(eye_test.started_at),
        "finished_at": p.iso(eye_test.finished_at),
        "result": result,
        "flags": eye_flags(eye_test, calibrations, events),
        "distance_text": calibration_distance_text(calibration) if calibration else "not measured",
        "drawable_range": (
            {"min_logmar": config["min_logmar"], "max_logmar": config["max_logmar"]} if config else None
        ),
        "calibration_id": calibration.id if calibration else None,
        "helper_tapped": helper_tapped(eye_test, events),
        "trials": trials,
    }


DISTANCE_METHODS_SHORT = {"tape": "tape", "mirror": "mirror", "blind_spot": "blind-spot method"}


def calibration_distance_text(calibration: Calibration) -> str:
    """Where the patient sat and how the distance was set, short: "3 m from the screen (tape)"."""
    position = p.calibration_dict(calibration)["position_text"]
    return f"{position} ({DISTANCE_METHODS_SHORT.get(calibration.distance_method, calibration.distance_method)})"


SESSION_STATUS = {
    "invited": "not started (the link was not opened)",
    "opened": "not started",
    "active": "in progress",
    "done": "finished",
    "ended": "ended by the clinician",
}


def when_text(iso_text: str | None) -> str:
    """A stored UTC time as the report prints it, in the clinician's time zone, named:
    "2026-12-01 15:05 Europe/London" (UTC outside a signed-in request)."""
    if not iso_text:
        return ""
    moment = datetime.fromisoformat(iso_text.rstrip("Z"))
    if not has_request_context():
        return f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"{local_time(moment)} {zone_name()}"


def header_rows(session: TestSession) -> list[tuple[str, str]]:
    """The report's header, label and value, in order (HTML and PDF print these rows as they are)."""
    return [
        ("Patient reference", session.patient_reference),
        ("Test date", when_text(p.iso(session.consent_at or session.created_at))),
        ("Finished", when_text(p.iso(session.finished_at)) or "not finished"),
        ("Status", SESSION_STATUS.get(session.status, session.status)),
        ("Clinician", session.clinician.email),
    ]


def session_report(session: TestSession) -> dict[str, Any]:
    """Everything the clinical report holds, as JSON-able dicts (docs/exports.md)."""
    config = session.config
    calibrations = list(session.calibrations)
    stored_events = list(session.events)
    events = [event_values(e) for e in stored_events]
    method = _label("optotype_set", config.get("optotype_set")) + ", " + _label("procedure", config.get("procedure"))
    if config.get("procedure") == "chart":
        method += ", " + _label("chart_presentation", config.get("chart_presentation"))
    eyes = [eye_values(e, calibrations, stored_events) for e in session.eye_tests]
    child = child_mode(session)
    return {
        "header": header_rows(session),
        "method_text": method,
        "status_text": SESSION_STATUS.get(session.status, session.status),
        "public_id": session.public_id,
        "patient_reference": session.patient_reference,
        # What exports carry of the patient: the practice's reference and, if given, the year of
        # birth (never the name or the e-mail address, which are for the practice's own pages).
        "patient": {
            "id": session.patient.public_id,
            "reference": session.patient.reference,
            "birth_year": session.patient.birth_year,
        },
        "practice": {"id": session.patient.practice_id, "name": session.patient.practice.name},
        "clinician": session.clinician.email,
        "status": session.status,
        "created_at": p.iso(session.created_at),
        "consent_at": p.iso(session.consent_at),
        "finished_at": p.iso(session.finished_at),
        "config": dict(config),
        "child": child,  # a child's test (HOTV, matched on the pad; docs/protocol.md)
        "child_text": child_text(eyes) if child else None,
        "optotype_set": config.get("optotype_set"),
        "optotype_text": _label("optotype_set", config.get("optotype_set")),
        "procedure": config.get("procedure"),
        "procedure_text": _label("procedure", config.get("procedure")),
        "chart_presentation_text": (
            _label("chart_presentation", config.get("chart_presentation")) if config.get("procedure") == "chart" else ""
        ),
        "correction": config.get("correction"),
        "correction_text": _label("correction", config.get("correction")),
        "setup": config.get("setup"),
        "setup_text": _label("setup", config.get("setup")),
        "answer_mode_text": _label("answer_mode", config.get("answer_mode")),
        "scoring_rule": SCORING_RULES.get(config.get("procedure"), ""),
        "eyes": eyes,
        "calibrations": [calibration_values(c) for c in calibrations],
        "warnings": _bounded([e for e in events if e["kind"] in WARNING_KINDS]),
        "notes": [e for e in events if e["kind"] == "note"],
        "events": events,  # every stored event, in words (the result page lists them all)
        "distance_guard": distance_guard.summary(session),
    }


def history(sessions: list[TestSession], change_limit_logmar: float) -> dict[str, Any]:
    """Results of one patient reference over time, per eye, with changes beyond the limit flagged.

    An eye recorded below the chart (CF, HM, LP, NLP) is a point with its `category` and
    `category_text` and no logMAR; changes are measured between measured results only.

    `sessions` are the clinician's sessions with that reference, any order. A change is flagged
    between consecutive results of the same eye when |difference| > change_limit_logmar.
    """
    ordered = sorted(sessions, key=lambda s: (s.created_at, s.id))
    rows, per_eye = [], {}
    for session in ordered:
        for eye_test in session.eye_tests:
            result = result_values(eye_test)
            if result is None:
                continue
            when = eye_test.finished_at or session.created_at
            if result["category"]:  # below the chart: shown as its category, never compared as a number
                point = {
                    "public_id": session.public_id,
                    "eye": eye_test.eye,
                    "at": p.iso(when),
                    "category": result["category"],
                    "category_text": result["notation"]["text"],
                    "logmar": None,
                    "change_logmar": None,
                    "flagged": False,
                    "correction": session.config.get("correction"),
                    "optotype_set": session.config.get("optotype_set"),
                    "procedure": session.config.get("procedure"),
                }
                per_eye.setdefault(eye_test.eye, []).append(point)
                rows.append(point)
                continue
            point = {
                "public_id": session.public_id,
                "eye": eye_test.eye,
                "at": p.iso(when),
                "logmar": result["logmar"],
                "logmar_text": result["logmar_text"],
                "ci95_low_logmar": result["ci95_low_logmar"],
                "ci95_high_logmar": result["ci95_high_logmar"],
                "snellen_6": result["snellen_6"],
                "snellen_20": result["snellen_20"],
                "notation": result["notation"],
                "bound": result["bound"],
                "correction": session.config.get("correction"),
                "optotype_set": session.config.get("optotype_set"),
                "procedure": session.config.get("procedure"),
                "correction_text": _label("correction", session.config.get("correction")),
                "method_text": _label("optotype_set", session.config.get("optotype_set"))
                + ", "
                + _label("procedure", session.config.get("procedure")),
                "stopped_early_text": result["stopped_early_text"],
                "category": None,
                "change_logmar": None,
                "flagged": False,
            }
            series = per_eye.setdefault(eye_test.eye, [])
            measured = [earlier for earlier in series if earlier["logmar"] is not None]
            if measured:  # the change from the previous measured result (a category has no number)
                change = point["logmar"] - measured[-1]["logmar"]
                point["change_logmar"] = change
                # 1e-9: a difference of exactly the limit is within it, despite float noise.
                point["flagged"] = abs(change) > change_limit_logmar + 1e-9
            series.append(point)
            rows.append(point)
    return {
        "change_limit_logmar": change_limit_logmar,
        "rows": rows,
        "eyes": {eye: per_eye[eye] for eye in ("right", "left", "both") if eye in per_eye},
    }
