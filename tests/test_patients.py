"""Patients of a practice: made or chosen on the new-test form (found by reference or name), their
page with every test, the results over time per eye and the change flag, their details changed;
bad details refused with a message that says what to do, and nothing stored."""

import re

from sqlalchemy import select

from tests.support.app import add_colleague, create_test, db_rows
from webapp.extensions import db
from webapp.models import Patient, TestSession


def patient_of(app, public_id):
    with app.app_context():
        db.session.remove()
        session = db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))
        p = session.patient
        return {
            "id": p.public_id,
            "reference": p.reference,
            "name": p.name,
            "birth_year": p.birth_year,
            "contact_email": p.contact_email,
            "practice_id": p.practice_id,
        }


def test_a_new_patient_is_made_with_their_details_and_the_same_reference_is_the_same_patient(app, clinician_client):
    first, _ = create_test(
        clinician_client,
        patient_reference="  F-1024 ",
        patient_name="Ann Smith",
        birth_year="1948",
        patient_email="Ann@Example.org",
    )
    patient = patient_of(app, first)
    assert {k: patient[k] for k in ("reference", "name", "birth_year", "contact_email")} == {
        "reference": "F-1024",
        "name": "Ann Smith",
        "birth_year": 1948,
        "contact_email": "ann@example.org",
    }
    second, _ = create_test(clinician_client, patient_reference="F-1024")  # no details: the same patient
    assert patient_of(app, second)["id"] == patient["id"]
    with app.app_context():
        assert db.session.query(Patient).count() == 1


def test_a_patient_is_found_by_reference_or_name_and_chosen_for_a_new_test(app, clinician_client):
    first, _ = create_test(clinician_client, patient_reference="F-1024", patient_name="Ann Smith")
    create_test(clinician_client, patient_reference="G-7", patient_name="Bob Jones")
    patient_id = patient_of(app, first)["id"]
    for query in ("smith", "f-10", "ANN"):
        page = clinician_client.post("/sessions/new", data={"patient_query": query, "find": "Find"})
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and f'value="{patient_id}"' in html and "Bob Jones" not in html, query
        assert "F-1024 (Ann Smith)" in html
    assert "data-no-match" in clinician_client.post(
        "/sessions/new", data={"patient_query": "nobody", "find": "Find"}
    ).get_data(as_text=True)
    # "%" and "_" are letters to look for, not wildcards.
    assert "data-no-match" in clinician_client.post(
        "/sessions/new", data={"patient_query": "%", "find": "Find"}
    ).get_data(as_text=True)
    chosen, _ = create_test(clinician_client, patient_reference="", patient_id=patient_id)
    assert patient_of(app, chosen)["id"] == patient_id
    # From the patient's page: the new-test form opens with them chosen.
    form = clinician_client.get(f"/sessions/new?patient={patient_id}").get_data(as_text=True)
    assert re.search(rf'value="{patient_id}"\s*checked', form)


def test_bad_or_conflicting_details_are_refused_with_what_to_do_and_nothing_is_stored(app, clinician_client):
    create_test(clinician_client, patient_reference="F-1024", patient_name="Ann Smith")
    before = db_rows(app)
    cases = [
        ({"patient_reference": "F-2", "birth_year": "48"}, "Give the year of birth as four digits"),
        ({"patient_reference": "F-2", "birth_year": "3000"}, "Give the year of birth as four digits"),
        ({"patient_reference": "F-2", "patient_email": "ann at example"}, "Give a valid email address"),
        ({"patient_reference": "F-1024", "patient_name": "Someone Else"}, "already a patient of the practice"),
        ({"patient_reference": "", "patient_id": "no-such-patient"}, "not one of the practice"),
        ({"patient_reference": "x" * 121}, "Field cannot be longer than 120 characters"),
    ]
    from tests.support.app import NEW_TEST

    for data, message in cases:
        response = clinician_client.post("/sessions/new", data={**NEW_TEST, **data})
        assert response.status_code == 200 and message in response.get_data(as_text=True), (data, message)
    assert db_rows(app) == before


def test_the_patient_page_has_every_test_the_history_and_the_details(app, clinician_client):
    from tests.support.reports import run_chart_session

    first = run_chart_session(app, clinician_client, note=None, patient_reference="F-1024")[0]
    second = run_chart_session(app, clinician_client, note=None, patient_reference="F-1024")[0]
    patient_id = patient_of(app, first)["id"]
    colleague = add_colleague(app, clinician_client)
    html = colleague.get(f"/patients/{patient_id}").get_data(as_text=True)
    assert html.count("data-session=") == 2 and first in html and second in html
    assert "<svg" in html and 'class="history-plot"' in html and 'data-eye="right"' in html
    assert "doc@example.org" in html  # who made each test
    assert f'href="/sessions/new?patient={patient_id}"' in html
    # The session's history link is the same page.
    assert clinician_client.get(f"/sessions/{first}/history").get_data(as_text=True).count("data-session=") == 2
    # Details changed (the reference stays); a bad one is refused.
    before = db_rows(app)
    refused = colleague.post(f"/patients/{patient_id}", data={"birth_year": "nineteen"})
    assert refused.status_code == 400 and "four digits" in refused.get_data(as_text=True)
    assert db_rows(app)["patient"] == before["patient"]
    saved = colleague.post(
        f"/patients/{patient_id}", data={"patient_name": "Ann Smith", "birth_year": "1948", "patient_reference": "X"}
    )
    assert saved.status_code == 302
    after = patient_of(app, first)
    assert (after["reference"], after["name"], after["birth_year"]) == ("F-1024", "Ann Smith", 1948)
    from webapp.audit import AuditEntry

    with app.app_context():
        changed = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "patient_updated")).all()
        assert sorted((e.session_public_id, e.clinician_id) for e in changed) == sorted([(first, 2), (second, 2)])
    listed = colleague.post("/patients", data={"patient_query": "smith"}).get_data(as_text=True)
    assert f'href="/patients/{patient_id}"' in listed and "<td>2</td>" in listed  # two tests
