"""Socket integration, low vision: the server moves the patient closer, the clinician steers or
declines, the new distance is measured and stored, a restart continues at it, and categories below
the chart (CF, HM, LP, NLP) are recorded with no invented number."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from tests.support.app import CALIBRATION, create_test, display, make_app, start_testing, watcher
from webapp.extensions import db
from webapp.models import EyeTest, SessionEvent

AT_4M = {**CALIBRATION, "distance": {"method": "tape", "distance_mm": 4000}}


def at(distance_mm: float) -> dict:
    return {**CALIBRATION, "distance": {"method": "tape", "distance_mm": distance_mm}}


def low_vision_test(app, clinician_client, **overrides):
    config = {"eyes": "right", "procedure": "adaptive", "setup": "4m", "move_closer": "y", **overrides}
    public_id, token = create_test(clinician_client, **config)
    watch = watcher(app, clinician_client)
    assert watch.send("watch", {"session_id": public_id})["ok"]
    screen = display(app, token)
    return public_id, token, screen, watch


def miss_until_moved(screen, stimulus, limit=15):
    """Answer "not sure" until the server asks the patient to move closer; returns its `recalibrate`."""
    for _ in range(limit):
        ack = screen.send("answer", {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": [None]})
        assert ack["accepted"], ack
        events = screen.received()
        moved = screen.last("recalibrate", events)
        if moved:
            assert screen.last("state", events)["phase"] == "calibrate"
            return moved
        stimulus = screen.last("stimulus", events)
        assert stimulus is not None
    raise AssertionError("never asked to move closer")


def test_the_server_moves_the_patient_closer_and_the_test_goes_on_at_the_new_distance(app, clinician_client, db_path):
    public_id, token, screen, watch = low_vision_test(app, clinician_client)
    first = start_testing(screen, AT_4M)
    largest_at_4m = first["logmar"]
    moved = miss_until_moved(screen, first)
    assert moved["reason"] == "move_closer" and moved["distance_mm"] == 2000
    assert "2 m" in moved["text"] and moved["distance_text"] == "2 m"
    asked = watch.last("move_closer", watch.received())
    assert (
        asked["asked_mm"] == 2000
        and asked["distance_mm"] == 4000
        and [c["distance_mm"] for c in asked["choices"]] == [2000, 1000, 500]
    )
    assert [c["text"] for c in asked["choices"]] == ["2 m", "1 m", "50 cm"]

    # The clinician steers: straight to 1 m.
    assert watch.send("move_closer", {"session_id": public_id, "distance_mm": 1000})["ok"]
    assert screen.last("recalibrate")["distance_mm"] == 1000
    # Not closer: refused, and nothing stored.
    refused = screen.send("calibration", at(3900))
    assert refused["error"] == "calibration_refused" and "1 m" in refused["message"]
    assert screen.send("calibration", at(1000))["ok"]
    done = watch.last("move_closer", watch.received())
    assert done["moved"] is True and done["distance_mm"] == 1000 and done["asked_mm"] is None
    assert screen.send("ready")["ok"]
    shown = screen.last("stimulus")
    assert shown["logmar"] > largest_at_4m  # a size the patient could not be shown at 4 m
    with app.app_context():
        codes = [c for e in db.session.scalars(select(SessionEvent)) if (c := (e.detail or {}).get("code"))]
        assert "distance_differs" not in codes and "range_narrower_than_eye_test" not in codes  # a move, not a fault
    with app.app_context():
        eye = db.session.scalar(select(EyeTest))
        (step,) = eye.distance_steps
        assert step["distance_mm"] == 1000 and step["trial"] == int(shown["trial_id"].split("-")[1])
        assert eye.procedure_config["reach_max_logmar"] > step["max_logmar"] - 1e-9
    screen.disconnect()

    # A restart: the same trial, at the new distance.
    restarted = make_app(db_path)
    again = display(restarted, token)
    assert again.last("stimulus") == shown
    # Answers go on at 1 m; the result says where it was measured.
    watcher_again = watcher(restarted, clinician_client)
    assert watcher_again.send("watch", {"session_id": public_id})["ok"]
    assert watcher_again.send("end", {"session_id": public_id})["ok"]
    (result,) = watcher_again.last("test_done")["results"]
    assert result["distance_mm"] == 1000 and result["moved_closer"] is True
    assert result["notation"]["text"].endswith(" · measured at 1 m") and result["category"] is None
    # Every surface says where: report, CSV, FHIR.
    report = clinician_client.get(f"/sessions/{public_id}/report").get_data(as_text=True)
    assert "measured at 1 m" in report
    assert "the patient was asked to come closer, to 2 m" in report  # then steered by the clinician
    assert "the patient moved closer and measured 1 m" in report
    assert "recalibrated mid-eye" not in report  # a move is the test's own step, not a reliability flag
    rows = list(
        csv.DictReader(io.StringIO(clinician_client.get(f"/sessions/{public_id}/results.csv").get_data(as_text=True)))
    )
    assert rows[0]["measured_at_mm"] == "1000.0" and rows[0]["moved_closer"] == "true" and rows[0]["category"] == ""
    assert "measured at 1 m" in rows[0]["acuity_text"]
    bundle = clinician_client.get(f"/sessions/{public_id}/fhir.json").get_json()
    observation = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation")
    moved = [c for c in observation["component"] if c["code"]["text"].startswith("Moved closer")]
    assert moved[0]["valueQuantity"]["value"] == 1000


def test_decline_ends_the_eye_where_it_is_with_a_bound_and_no_new_measurement(app, clinician_client):
    public_id, _, screen, watch = low_vision_test(app, clinician_client, eyes="right_left")
    moved = miss_until_moved(screen, start_testing(screen, AT_4M))
    assert moved["distance_mm"] == 2000
    assert watch.send("move_closer", {"session_id": public_id, "decline": True})["ok"]
    state = screen.last("state")
    assert state["phase"] == "between_eyes"  # the 4 m measurement stands: no need to measure again
    done = watch.last("eye_done", watch.received())
    assert done["result"]["bound"] == ">=" and done["result"]["distance_mm"] == 4000
    assert done["result"]["moved_closer"] is False and "measured at" not in done["result"]["notation"]["text"]
    again = watch.send("move_closer", {"session_id": public_id, "decline": True})
    assert again["error"] == "wrong_phase"


def test_below_the_chart_is_offered_when_the_nearest_distance_reads_nothing(app, clinician_client):
    """Moved to 50 cm (the nearest) and still missing the largest letter: the eye ends with a bound
    and the clinician's `status` names it in `below_chart` until a category is recorded. An eye the
    clinician kept farther away (declined the move) is not offered: it could still come closer."""
    public_id, _, screen, watch = low_vision_test(app, clinician_client, eyes="right_left")
    miss_until_moved(screen, start_testing(screen, AT_4M))
    assert watch.send("move_closer", {"session_id": public_id, "distance_mm": 500})["ok"]
    assert screen.send("calibration", at(500))["ok"] and screen.send("ready")["ok"]
    assert watch.last("status")["below_chart"] is None  # still reading at 50 cm
    stimulus = screen.last("stimulus")
    for _ in range(40):
        ack = screen.send("answer", {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": [None]})
        assert ack["accepted"], ack
        stimulus = screen.last("stimulus")
        events = watch.received()
        if watch.last("eye_done", events):
            break
    assert watch.last("eye_done", events)["result"]["bound"] == ">="
    status = watch.last("status", events)
    assert status["below_chart"] == {
        "eye": "right",
        "text": "The right eye could not read the largest letter at 50 cm: record what it sees below the chart.",
    }
    assert watch.send("watch", {"session_id": public_id})["snapshot"]["below_chart"]["eye"] == "right"
    assert watch.send("category", {"session_id": public_id, "eye": "right", "code": "HM", "distance_mm": 500})["ok"]
    assert watch.last("status")["below_chart"] is None

    declined_id, _, declined, watch = low_vision_test(app, clinician_client)
    miss_until_moved(declined, start_testing(declined, AT_4M))
    assert watch.send("move_closer", {"session_id": declined_id, "decline": True})["ok"]
    events = watch.received()
    assert watch.last("eye_done", events)["result"]["bound"] == ">="
    assert watch.last("status", events)["below_chart"] is None


def test_steering_refusals_say_what_to_do(app, clinician_client):
    public_id, _, screen, watch = low_vision_test(app, clinician_client)
    assert watch.send("move_closer", {"session_id": public_id, "distance_mm": 1000})["error"] == "wrong_phase"
    start_testing(screen, AT_4M)
    farther = watch.send("move_closer", {"session_id": public_id, "distance_mm": 4000})
    assert farther["error"] == "invalid_payload" and "2 m, 1 m, 50 cm" in farther["message"]
    both = watch.send("move_closer", {"session_id": public_id, "distance_mm": 1000, "decline": True})
    assert both["error"] == "invalid_payload"
    nothing_to_decline = watch.send("move_closer", {"session_id": public_id, "decline": True})
    assert nothing_to_decline["error"] == "wrong_phase"

    plain_id, plain_token = create_test(clinician_client, eyes="right", procedure="adaptive", setup="4m")
    plain = display(app, plain_token)
    assert watch.send("watch", {"session_id": plain_id})["ok"]
    start_testing(plain, AT_4M)
    off = watch.send("move_closer", {"session_id": plain_id, "distance_mm": 2000})
    assert off["error"] == "procedure_error" and "low vision" in off["message"]


def test_categories_below_the_chart_never_carry_an_invented_number(app, clinician_client):
    public_id, _, screen, watch = low_vision_test(app, clinician_client, eyes="right_left")
    start_testing(screen, AT_4M)
    later = watch.send("category", {"session_id": public_id, "eye": "left", "code": "NLP"})
    assert later["error"] == "invalid_payload" and "when its turn comes" in later["message"]
    needs_distance = watch.send("category", {"session_id": public_id, "eye": "right", "code": "CF"})
    assert needs_distance["error"] == "invalid_payload" and "distance_mm" in needs_distance["message"]
    cf = watch.send("category", {"session_id": public_id, "eye": "right", "code": "CF", "distance_mm": 1000})
    assert cf["ok"] and cf["result"]["category"] == "CF" and cf["result"]["logmar"] is None
    assert cf["result"]["category_logmar_equivalent"] == 1.98
    assert cf["result"]["notation"]["text"] == "Counting fingers (CF) at 1 m · logMAR equivalent 1.98"
    assert screen.last("state")["phase"] == "between_eyes"  # the right eye ended with it
    lp = watch.send("category", {"session_id": public_id, "eye": "left", "code": "LP"})
    assert lp["ok"] and lp["result"]["logmar"] is None and lp["result"]["category"] == "LP"
    assert lp["result"]["notation"]["text"] == "Light perception (LP) · no logMAR equivalent"
    done = watch.last("test_done")
    assert [r["category"] for r in done["results"]] == ["CF", "LP"]
    rows = list(
        csv.DictReader(io.StringIO(clinician_client.get(f"/sessions/{public_id}/results.csv").get_data(as_text=True)))
    )
    assert [(r["category"], r["logmar"], r["category_logmar_equivalent"]) for r in rows] == [
        ("CF", "", "1.98"),
        ("LP", "", ""),
    ]
    assert rows[0]["category_distance_mm"] == "1000.0" and rows[0]["acuity_text"].startswith("Counting fingers")
    bundle = clinician_client.get(f"/sessions/{public_id}/fhir.json").get_json()
    observations = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert [o["valueCodeableConcept"]["text"] for o in observations] == [
        "counting fingers (CF) at 1 m",
        "light perception (LP)",
    ]
    assert all("valueQuantity" not in o for o in observations)
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)  # a valid R4B bundle
    report = clinician_client.get(f"/sessions/{public_id}/report").get_data(as_text=True)
    assert "Counting fingers (CF) at 1 m · logMAR equivalent 1.98" in report
    assert "Light perception (LP) · no logMAR equivalent" in report
    assert clinician_client.get(f"/sessions/{public_id}/report.pdf").status_code == 200
    result_page = clinician_client.get(f"/sessions/{public_id}/result").get_data(as_text=True)
    headings = re.findall(r"<h2>((?:Right|Left) eye[^<]*)</h2>", result_page)
    assert headings == ["Right eye (OD): recorded below the chart", "Left eye (OS): recorded below the chart"]


def test_the_history_shows_a_category_as_a_category_not_as_a_number(app, clinician_client):
    """A patient read letters at one visit and was counted fingers at the next: the patient's page
    lists the category in words and plots it as its code in the strip below the logMAR scale, apart
    from the eye's line; the change column compares measured results only."""

    from tests.support.reports import answer_until_done, reader

    reference = "History with a category"
    public_id, token = create_test(clinician_client, patient_reference=reference, eyes="right", procedure="adaptive")
    screen = display(app, token)
    answer_until_done(screen, start_testing(screen), reader(0.4))
    second_id, _, screen, watch = low_vision_test(app, clinician_client, patient_reference=reference)
    start_testing(screen, AT_4M)
    assert watch.send("category", {"session_id": second_id, "eye": "right", "code": "CF", "distance_mm": 1000})["ok"]

    page = clinician_client.get(f"/sessions/{second_id}/history").get_data(as_text=True)
    svg = page[page.index("<svg") : page.index("</svg>")]
    marks = re.findall(
        r'<text [^>]*data-eye="right" data-category="(\w+)"[^>]*><title>([^<]*)</title>(\w+)</text>', svg
    )
    assert [(code, shown) for code, _, shown in marks] == [("CF", "CF")], svg
    assert "Counting fingers (CF) at 1 m" in marks[0][1]
    assert "data-category-strip" in svg
    assert len(re.findall(r'<circle [^>]*data-eye="right" data-point', svg)) == 1  # the measured visit only
    assert "<polyline" not in svg  # one measured point: no line, and none through the category
    row = re.search(r'<tr data-category="CF">(.*?)</tr>', page, re.S).group(1)
    assert "Counting fingers (CF) at 1 m · logMAR equivalent 1.98" in row and "below the chart" in row


def test_a_category_is_refused_for_an_eye_that_read_letters(app, clinician_client):
    public_id, _, screen, watch = low_vision_test(app, clinician_client)
    stimulus = start_testing(screen, AT_4M)
    for _ in range(40):
        ack = screen.send(
            "answer",
            {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": list(stimulus["optotypes"])},
        )
        assert ack["accepted"]
        events = screen.received()
        if screen.last("test_done", events):
            break
        stimulus = screen.last("stimulus", events)
    assert watch.last("test_done")["results"][0]["bound"] != ">="  # read down to the smallest letters
    refused = watch.send("category", {"session_id": public_id, "eye": "right", "code": "HM", "distance_mm": 500})
    assert refused["error"] == "invalid_payload" and "read letters" in refused["message"]


def test_the_new_test_form_refuses_moving_closer_where_it_cannot_work(clinician_client):
    from tests.support.app import NEW_TEST

    for wrong in ({"procedure": "chart"}, {"procedure": "adaptive", "setup": "mirror"}):
        response = clinician_client.post("/sessions/new", data={**NEW_TEST, **wrong, "move_closer": "y"})
        assert response.status_code == 200  # the form again, with what to fix
        assert "adaptive or manual procedure at 2, 3 or 4 m" in response.get_data(as_text=True)


def test_the_clinician_moves_a_manual_test_closer_and_shows_sizes_drawable_there(app, clinician_client):
    public_id, _, screen, watch = low_vision_test(app, clinician_client, procedure="manual")
    assert screen.send("consent")["ok"] and screen.send("calibration", AT_4M)["ok"]
    assert screen.send("ready")["ok"]
    too_big = watch.send("present", {"session_id": public_id, "logmar": 1.5})
    assert too_big["error"] == "procedure_error"  # not drawable at 4 m
    assert watch.send("move_closer", {"session_id": public_id, "distance_mm": 1000})["ok"]
    assert screen.last("recalibrate")["distance_mm"] == 1000
    assert screen.send("calibration", at(1000))["ok"] and screen.send("ready")["ok"]
    shown = watch.send("present", {"session_id": public_id, "logmar": 1.5})
    assert shown["ok"] and shown["stimulus"]["logmar"] == 1.5
    # Measured again later at the new distance: no warning that 1 m is not the set-up's 4 m, nor that
    # the range is not the one of 4 m.
    assert watch.send("request_recalibration", {"session_id": public_id})["ok"]
    assert screen.send("calibration", at(1000))["ok"]
    with app.app_context():
        codes = [c for e in db.session.scalars(select(SessionEvent)) if (c := (e.detail or {}).get("code"))]
        assert "distance_differs" not in codes and "range_narrower_than_eye_test" not in codes, codes
