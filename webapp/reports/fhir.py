"""FHIR R4 Observation per eye (a Bundle per session), shaped like the visual acuity example of
HL7's eye-care implementation guide (hl7.org/fhir/uv/eyecare, Observation va-snellen-distance-re-0).

The mapping, its codes and their sources are in docs/exports.md. Plain dicts are built here; the
tests validate every resource with the `fhir.resources` package (R4B models, which are R4's
Observation, Device and Bundle unchanged).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# Observation.code (SNOMED CT observable entities, as in the eye-care IG and ADHA examples).
DISTANCE_VA = {"system": SNOMED, "code": "251739003", "display": "Distance visual acuity"}
VISUAL_ACUITY = {"system": SNOMED, "code": "363983007", "display": "Visual acuity"}
UNCORRECTED_VA = {"system": SNOMED, "code": "420050001", "display": "Uncorrected visual acuity"}
CORRECTED_VA = {"system": SNOMED, "code": "397536007", "display": "Corrected visual acuity"}
LOINC_UNCORRECTED = {
    "right": {"system": LOINC, "code": "98499-7", "display": "Visual acuity uncorrected Right eye"},
    "left": {"system": LOINC, "code": "98498-9", "display": "Visual acuity uncorrected Left eye"},
}

# Observation.bodySite: the IG's ophthalmology-bodySite value set holds the laterality qualifiers
# 24028007 Right and 7771000 Left; the eye structures go alongside for systems that expect a body
# structure. Both eyes: 51440002 Right and left, 40638003 Structure of both eyes.
BODY_SITES = {
    "right": (
        [
            {"system": SNOMED, "code": "24028007", "display": "Right"},
            {"system": SNOMED, "code": "18944008", "display": "Right eye structure"},
        ],
        "Right eye",
    ),
    "left": (
        [
            {"system": SNOMED, "code": "7771000", "display": "Left"},
            {"system": SNOMED, "code": "8966001", "display": "Left eye structure"},
        ],
        "Left eye",
    ),
    "both": (
        [
            {"system": SNOMED, "code": "51440002", "display": "Right and left"},
            {"system": SNOMED, "code": "40638003", "display": "Structure of both eyes"},
        ],
        "Both eyes",
    ),
}

# The component that says whether the eye stopped early (acuity.procedures.stopped_early).
STOPPED_EARLY_TEXT = "Stopped early (fewer trials than the procedure needs for its interval)"

# Namespace for the stable ids of exported resources (uuid5 of the session id and eye): the same
# session exported twice gives the same ids, so a receiving system can recognise a re-send.
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:visus:fhir-export")


def resource_id(*parts: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, ":".join(parts)))


def _shown_quantity(described: dict[str, Any], key: str, number: float | None, **unit: Any) -> dict[str, Any]:
    """A notation as shown (acuity.notation.describe) as a Quantity: past the chart's lines the shown
    text is a bound ("better than 2.00"), given as the comparator and the edge line's value."""
    if number is not None:
        return {"value": number, **unit}
    text = described[key]
    edge = float(text.rsplit(" ", 2)[-2] if key == "etdrs_text" else text.rsplit(" ", 1)[-1])
    better = described["beyond_chart"] == "better"
    # A better acuity is a larger decimal and more letters.
    return {"value": edge, "comparator": ">" if better else "<", **unit}


def _logmar_quantity(value: float) -> dict[str, Any]:
    # No UCUM unit exists for logMAR: unit text only, as in the IG example.
    return {"value": round(value, 3), "unit": "logMAR"}


def _code(report: dict[str, Any], eye: str) -> dict[str, Any]:
    near = report["setup"] == "near_40cm"
    corrected = report["correction"] not in (None, "none")
    codings = [VISUAL_ACUITY if near else DISTANCE_VA, CORRECTED_VA if corrected else UNCORRECTED_VA]
    if not corrected and eye in LOINC_UNCORRECTED:
        codings.append(LOINC_UNCORRECTED[eye])
    text = ("Near visual acuity (40 cm)" if near else "Distance visual acuity") + (
        f", corrected ({report['correction_text'].lower()})" if corrected else ", uncorrected"
    )
    return {"coding": [dict(c) for c in codings], "text": text}


def _device(calibration: dict[str, Any]) -> dict[str, Any]:
    width, height = calibration["viewport_css_px"]
    return {
        "resourceType": "Device",
        "id": "screen",
        "type": {"text": "Patient's own screen, in a web browser"},
        "deviceName": [{"name": calibration["user_agent"] or "unknown browser", "type": "other"}],
        "property": [
            {"type": {"text": "devicePixelRatio"}, "valueQuantity": [{"value": calibration["device_pixel_ratio"]}]},
            {
                "type": {"text": "viewport (CSS px, width and height)"},
                "valueQuantity": [{"value": width}, {"value": height}],
            },
            {
                "type": {"text": "screen scale (CSS px per mm)"},
                "valueQuantity": [
                    {"value": round(calibration["css_px_per_mm"], 4), "unit": "/mm", "system": UCUM, "code": "/mm"}
                ],
            },
        ],
        "note": [
            {
                "text": f"Screen scale set by {calibration['scale_method_text']}; viewing distance "
                f"{calibration['viewing_distance_mm']:.0f} mm, {calibration['distance_method_text']}"
                + ("; optotypes mirror-reversed" if calibration["mirrored"] else "")
            }
        ],
    }


CHILD_MODE_TEXT = "Child's test (HOTV letters, matched on the phone's buttons)"
HELPER_MODE_TEXT = "Adult helper tapped answers the child pointed to"


def _component(text: str, **value: Any) -> dict[str, Any]:
    return {"code": {"text": text}, **value}


def _measured_parts(
    report: dict[str, Any], result: dict[str, Any], shown: dict[str, Any], calibration: dict[str, Any] | None
) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    """The value, method and components of a measured acuity."""
    value = _logmar_quantity(result["logmar"])
    if result.get("bound"):
        value["comparator"] = result["bound"]  # "<=": at least this good; ">=": at most this good
    method = f"{report['optotype_text']}; {report['procedure_text']}"
    if report["chart_presentation_text"]:
        method += f", {report['chart_presentation_text']}"
    method += f". Scoring: {report['scoring_rule']}"
    components = [
        _component("95% interval, lower limit", valueQuantity=_logmar_quantity(result["ci95_low_logmar"])),
        _component("95% interval, upper limit", valueQuantity=_logmar_quantity(result["ci95_high_logmar"])),
        _component("Snellen equivalent, 6 m", valueString=result["snellen_6"]),
        _component("Snellen equivalent, 20 ft", valueString=result["snellen_20"]),
        _component(
            "Decimal acuity, chart line",
            valueQuantity=_shown_quantity(
                shown,
                "decimal",
                None if shown["beyond_chart"] else float(shown["decimal"]),
                unit="decimal",
                system=UCUM,
                code="1",
            ),
        ),
        _component(
            "ETDRS letter score equivalent",
            valueQuantity=_shown_quantity(
                shown, "etdrs_text", shown["etdrs_letters"], unit="letters", system=UCUM, code="{letters}"
            ),
        ),
        _component("Acuity as reported", valueString=shown["text"]),
        *(
            [
                _component("Near print, N point", valueString=shown["n_point"]),
                _component("Near print, M units at the test distance", valueString=shown["m_units"]),
            ]
            if "n_point" in shown
            else []
        ),
        *(
            [
                _component(
                    "WHO ICD-11 distance vision impairment category of this acuity", valueString=result["who_category"]
                )
            ]
            if result["who_category"]
            else []
        ),
        _component("Trials", valueInteger=int(result["trials"])),
        _component(STOPPED_EARLY_TEXT, valueBoolean=bool(result["stopped_early"])),
    ]
    if result.get("moved_closer"):
        components.append(
            _component("Moved closer (low vision): measured at", valueQuantity=_mm(result["distance_mm"]))
        )
    if calibration is not None:
        components.append(
            _component(
                "Viewing distance",
                valueQuantity={
                    "value": round(calibration["viewing_distance_mm"], 1),
                    "unit": "mm",
                    "system": UCUM,
                    "code": "mm",
                },
            )
        )
    guard = report.get("distance_guard")
    if guard:
        components.append(_component("Viewing distance check (webcam)", valueString=guard["text"]))
    return {"valueQuantity": value}, method, components


def eye_observation(report: dict[str, Any], eye: dict[str, Any]) -> dict[str, Any] | None:
    """One eye's result as an Observation, or None for an eye without a result."""
    result = eye["result"]
    if result is None:
        return None
    calibration = next((c for c in report["calibrations"] if c["id"] == eye["calibration_id"]), None)
    shown = result["notation"]  # the strings every page shows (acuity.notation.describe)
    coding, site_text = BODY_SITES[eye["eye"]]
    if result["category"]:  # below the chart (low vision): no measured quantity
        value_fields, method, components = _category_parts(result)
    else:
        value_fields, method, components = _measured_parts(report, result, shown, calibration)
    if report["child"]:  # a child's test, and whether an adult tapped the answers the child pointed to
        components += [
            _component(CHILD_MODE_TEXT, valueBoolean=True),
            _component(HELPER_MODE_TEXT, valueBoolean=bool(eye["helper_tapped"])),
        ]
    notes = [{"text": f"Measurement bound ({result['bound']}): {result['bound_text']}."}] if result.get("bound") else []
    # Every reliability flag of the report's summary, in the same words (stopped early among them).
    notes += [{"text": f"Reliability: {flag['text']}."} for flag in eye["flags"]]
    notes += [{"text": n["text"], "time": n["at"]} for n in report["notes"] if n["text"]]
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id(report["public_id"], eye["eye"]),
        "status": "preliminary" if result["stopped_early"] else "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "exam", "display": "Exam"}]}],
        "code": _code(report, eye["eye"]),
        # The Patient resource of the bundle: the practice's reference is its identifier.
        "subject": {"reference": f"urn:uuid:{patient_resource_id(report)}", "display": report["patient_reference"]},
        "effectiveDateTime": eye["finished_at"] or report["created_at"],
        "performer": [{"display": report["clinician"]}],
        **value_fields,
        "bodySite": {"coding": [dict(c) for c in coding], "text": site_text},
        "method": {"text": method},
        "component": components,
    }
    if report["finished_at"]:
        observation["issued"] = report["finished_at"]
    if notes:
        observation["note"] = notes
    if calibration is not None:
        observation["contained"] = [_device(calibration)]
        observation["device"] = {"reference": "#screen"}
    return observation


def _mm(distance_mm: float) -> dict[str, Any]:
    return {"value": round(distance_mm, 1), "unit": "mm", "system": UCUM, "code": "mm"}


def _category_parts(result: dict[str, Any]) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    """The value, method and components of an eye recorded below the chart (CF, HM, LP, NLP): the
    category as the value (text), its conventional logMAR equivalent as a component labelled so
    (CF, HM only), never a measured quantity (docs/measurement.md §7a)."""
    components = [_component("Low vision category", valueString=result["category"])]
    if result["category_distance_mm"]:
        components.append(_component("Category tested at", valueQuantity=_mm(result["category_distance_mm"])))
    if result["category_logmar_equivalent"] is not None:
        components.append(
            _component(
                "Conventional logMAR equivalent of the category (Schulze-Bonsel et al. 2006), not measured",
                valueQuantity=_logmar_quantity(result["category_logmar_equivalent"]),
            )
        )
    components.append(_component("Acuity as reported", valueString=result["notation"]["text"]))
    return (
        {"valueCodeableConcept": {"text": result["category_text"]}},
        "Recorded by the clinician below the chart",
        components,
    )


def patient_resource_id(report: dict[str, Any]) -> str:
    """The same patient gets the same id in every export (uuid5 of their stable id in the practice)."""
    return str(uuid.uuid5(ID_NAMESPACE, f"patient:{report['patient']['id']}"))


def practice_reference_system(report: dict[str, Any]) -> str:
    """Identifier.system of a practice's patient references: one namespace per practice, stable."""
    practice_id = report["practice"]["id"]
    return f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, f'practice:{practice_id}')}"


def patient_resource(report: dict[str, Any]) -> dict[str, Any]:
    """The Patient: identified by the practice's reference (FHIR R4 Identifier, use "usual"), with
    the year of birth as birthDate when the practice gave it (a FHIR date may be a year alone). No
    name, no contact: the receiving system matches the patient by the practice's reference."""
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient_resource_id(report),
        "identifier": [
            {
                "use": "usual",
                "system": practice_reference_system(report),
                "value": report["patient"]["reference"],
                "assigner": {"display": report["practice"]["name"]},
            }
        ],
    }
    if report["patient"]["birth_year"]:
        patient["birthDate"] = f"{report['patient']['birth_year']:04d}"
    return patient


def session_bundle(report: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """A collection Bundle: the session's Patient, then its eye Observations."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    patient = patient_resource(report)
    entries = [{"fullUrl": f"urn:uuid:{patient['id']}", "resource": patient}]
    for eye in report["eyes"]:
        observation = eye_observation(report, eye)
        if observation is not None:
            entries.append({"fullUrl": f"urn:uuid:{observation['id']}", "resource": observation})
    return {
        "resourceType": "Bundle",
        "id": resource_id(report["public_id"]),
        "type": "collection",
        "timestamp": moment.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "entry": entries,
    }
