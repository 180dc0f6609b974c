"""FHIR export: a Bundle per session with one Observation per eye, validated with fhir.resources.

fhir.resources 8 ships FHIR R5 by default and R4B as a subpackage (no separate R4 package);
Observation, Device and Bundle are the same in R4 and R4B, so the R4B models validate R4 content.
"""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.device import Device
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from sqlalchemy import select

from tests.support.app import create_test, display, start_testing, watcher
from tests.support.reports import answer_until_done, reader, run_chart_session
from webapp.extensions import db
from webapp.models import TestSession
from webapp.reports.fhir import STOPPED_EARLY_TEXT

SNOMED = "http://snomed.info/sct"

# fhir.resources checks structure and datatypes but not the codes of required bindings (it accepts
# an Observation.status "done"); these are checked here, from the R4 value sets.
OBSERVATION_STATUS = {
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
}
QUANTITY_COMPARATOR = {"<", "<=", ">=", ">"}
BUNDLE_TYPE = {
    "document",
    "message",
    "transaction",
    "transaction-response",
    "batch",
    "batch-response",
    "history",
    "searchset",
    "collection",
}
DEVICE_NAME_TYPE = {
    "udi-label-name",
    "user-friendly-name",
    "patient-reported-name",
    "manufacturer-name",
    "model-name",
    "other",
}


IDENTIFIER_USE = {"usual", "official", "temp", "secondary", "old"}


def observations_of(bundle):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]


def check_required_codes(bundle):
    assert bundle["type"] in BUNDLE_TYPE
    patients = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert len(patients) == 1 and all(i["use"] in IDENTIFIER_USE for i in patients[0]["identifier"])
    for observation in observations_of(bundle):
        assert observation["status"] in OBSERVATION_STATUS
        quantities = [observation["valueQuantity"]] + [
            c["valueQuantity"] for c in observation["component"] if "valueQuantity" in c
        ]
        for quantity in quantities:
            assert quantity.get("comparator", "<") in QUANTITY_COMPARATOR
        for device in observation.get("contained", []):
            assert all(name["type"] in DEVICE_NAME_TYPE for name in device["deviceName"])
        # obs-7: a component's code is never the Observation's own code
        assert all(c["code"] != observation["code"] for c in observation["component"])


def bundle_of(client, public_id):
    response = client.get(f"/sessions/{public_id}/fhir.json")
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    data = json.loads(response.get_data(as_text=True))
    Bundle.model_validate(data)  # raises on anything R4(B) does not allow
    for entry in data["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            Patient.model_validate(entry["resource"])
            continue
        Observation.model_validate(entry["resource"])
        for contained in entry["resource"].get("contained", []):
            Device.model_validate(contained)
    check_required_codes(data)
    return data


def codes(concept, system=SNOMED):
    return [c["code"] for c in concept["coding"] if c["system"] == system]


def component(observation, text):
    return next(c for c in observation["component"] if c["code"]["text"] == text)


def test_bundle_validates_and_carries_each_eyes_result(app, clinician_client):
    public_id, _ = run_chart_session(app, clinician_client)
    data = bundle_of(clinician_client, public_id)
    assert data["resourceType"] == "Bundle" and data["type"] == "collection"
    observations = {o["bodySite"]["text"]: o for o in observations_of(data)}
    assert set(observations) == {"Right eye", "Left eye"}
    with app.app_context():
        session = db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))
        results = {e.eye: dict(e.result) for e in session.eye_tests}

    right, left = observations["Right eye"], observations["Left eye"]
    assert "24028007" in codes(right["bodySite"]) and "7771000" in codes(left["bodySite"])
    for observation, result in ((right, results["right"]), (left, results["left"])):
        assert observation["status"] == "final"
        assert codes(observation["category"][0], "http://terminology.hl7.org/CodeSystem/observation-category") == [
            "exam"
        ]
        assert codes(observation["code"])[:2] == ["251739003", "420050001"]  # distance VA, uncorrected
        value = observation["valueQuantity"]
        assert value["unit"] == "logMAR" and "system" not in value  # there is no UCUM unit for logMAR
        assert value["value"] == pytest.approx(result["logmar"], abs=5e-4)
        low = component(observation, "95% interval, lower limit")["valueQuantity"]["value"]
        high = component(observation, "95% interval, upper limit")["valueQuantity"]["value"]
        assert low == pytest.approx(result["ci95_low_logmar"], abs=5e-4)
        assert high == pytest.approx(result["ci95_high_logmar"], abs=5e-4)
        assert observation["subject"] == {"reference": data["entry"][0]["fullUrl"], "display": "Patient A"}
        assert observation["performer"] == [{"display": "doc@example.org"}]
        assert observation["effectiveDateTime"].endswith("Z")
        assert observation["device"] == {"reference": "#screen"}
        device = observation["contained"][0]
        assert device["deviceName"][0]["name"] == "pytest"
        assert device["property"][0]["valueQuantity"][0]["value"] == 2.0  # devicePixelRatio
        assert component(observation, "Viewing distance")["valueQuantity"]["value"] == 3000.0
        assert "Sloan letters" in observation["method"]["text"] and "Letter by letter" in observation["method"]["text"]
    assert codes(right["code"], "http://loinc.org") == ["98499-7"]
    assert codes(left["code"], "http://loinc.org") == ["98498-9"]
    assert component(right, "Snellen equivalent, 6 m")["valueString"] == "6/12"
    assert component(right, "Snellen equivalent, 20 ft")["valueString"] == "20/40"
    assert "comparator" not in right["valueQuantity"]
    assert left["valueQuantity"]["comparator"] == "<="  # the smallest size the screen drew was read
    assert any("bound" in note["text"] for note in left["note"])
    assert any(note["text"] == "Patient wore old glasses" for note in right["note"])
    # Stable ids: the same session exported twice gives the same resources.
    again = bundle_of(clinician_client, public_id)
    assert [e["fullUrl"] for e in again["entry"]] == [e["fullUrl"] for e in data["entry"]]
    assert all(e["fullUrl"] == f"urn:uuid:{e['resource']['id']}" for e in data["entry"])


def test_corrected_acuity_and_both_eyes_are_coded_as_such(app, clinician_client):
    public_id, token = create_test(clinician_client, eyes="both", procedure="chart", correction="glasses")
    screen = display(app, token)
    answer_until_done(screen, start_testing(screen), reader(0.15))
    observation = observations_of(bundle_of(clinician_client, public_id))[0]
    assert codes(observation["code"]) == ["251739003", "397536007"]  # distance VA, corrected
    assert codes(observation["code"], "http://loinc.org") == []  # LOINC's codes here are for uncorrected eyes
    assert "glasses" in observation["code"]["text"]
    assert codes(observation["bodySite"]) == ["51440002", "40638003"]


def test_an_eye_without_a_result_gives_no_observation_and_an_ended_eye_is_preliminary(app, clinician_client):
    public_id, token = create_test(clinician_client, eyes="right_left", procedure="adaptive")
    screen = display(app, token)
    stimulus = start_testing(screen)
    for _ in range(3):  # three answers, then the clinician ends the test: the left eye is never tested
        screen.send(
            "answer",
            {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": list(stimulus["optotypes"])},
        )
        stimulus = screen.last("stimulus")
    assert watcher(app, clinician_client).send("end", {"session_id": public_id})["ok"]
    data = bundle_of(clinician_client, public_id)
    assert len(observations_of(data)) == 1
    observation = observations_of(data)[0]
    assert observation["bodySite"]["text"] == "Right eye"
    assert observation["status"] == "preliminary"
    assert "Reliability: stopped early, after 3 trials." in [note["text"] for note in observation["note"]]
    components = {c["code"]["text"]: c for c in observation["component"]}
    assert components[STOPPED_EARLY_TEXT]["valueBoolean"] is True


def test_the_patient_resource_carries_the_practices_reference_and_the_year_of_birth(app, clinician_client):
    first, _ = create_test(
        clinician_client,
        patient_reference="F-1024",
        patient_name="Ann Smith",
        birth_year="1948",
        patient_email="a@b.org",
    )
    second, _ = create_test(clinician_client, patient_reference="F-1024")
    other, _ = create_test(clinician_client, patient_reference="G-7")
    bundles = [bundle_of(clinician_client, public_id) for public_id in (first, second, other)]
    patients = [b["entry"][0]["resource"] for b in bundles]
    assert patients[0]["resourceType"] == "Patient" and patients[0]["birthDate"] == "1948"
    (identifier,) = patients[0]["identifier"]
    assert identifier["value"] == "F-1024" and identifier["system"].startswith("urn:uuid:")
    assert identifier["assigner"] == {"display": "Practice of doc@example.org"}
    assert patients[1] == patients[0]  # the same patient, the same resource, in every export
    assert patients[2]["id"] != patients[0]["id"] and "birthDate" not in patients[2]
    assert patients[2]["identifier"][0]["system"] == identifier["system"]  # one namespace per practice
    text = json.dumps(bundles)
    assert "Ann Smith" not in text and "a@b.org" not in text  # no name, no contact in an export
