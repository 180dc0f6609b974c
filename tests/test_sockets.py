"""Socket integration: the live test from invite to result over both namespaces."""

import numpy as np
import pytest
from sqlalchemy import func, select

from acuity.optotypes import optotype_set
from acuity.simulate import SimulatedObserver
from tests.support.app import (
    CALIBRATION,
    add_clinician,
    create_test,
    display,
    login,
    pad,
    pad_token_from_state,
    start_testing,
    watcher,
)
from webapp.extensions import db
from webapp.models import Trial


def answer_all(screen, stimulus, respond, answerer=None, limit=200):
    """Answer stimuli until none comes; returns the acks, the stimuli shown, the display's events."""
    answerer = answerer or screen
    acks, shown, seen = [], [], []
    for _ in range(limit):
        responses = respond(stimulus)
        ack = answerer.send(
            "answer",
            {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": responses, "response_time_ms": 900},
        )
        acks.append(ack)
        shown.append(stimulus)
        events = screen.received()
        seen += events
        nxt = screen.last("stimulus", events)
        if nxt is None:
            return acks, shown, seen
        assert nxt["seq"] == stimulus["seq"] + 1
        stimulus = nxt
    raise AssertionError("the test did not finish")


def test_display_connects_and_gets_welcome_state_with_pad_link(app, clinician_client):
    _, token = create_test(clinician_client)
    screen = display(app, token)
    assert screen.connected
    state = screen.last("state")
    assert state["phase"] == "welcome"
    assert state["eyes"] == ["right", "left"]
    assert state["pad_url"].startswith("http://localhost/pad/")
    assert state["pad_qr_svg"].startswith("<svg")
    assert state["display_connected"] is True and state["pad_connected"] is False


def test_connect_is_refused_without_a_valid_token(app, clinician_client):
    _, token = create_test(clinician_client)
    # The invite token itself, sent in `auth`, opens nothing: only the browser's credential cookie does.
    for auth in (
        None,
        {},
        {"token": token, "device": "display"},
        {"token": "x" * 43, "device": "pad"},
        {"token": 5, "device": "display"},
        {"token": "x" * 43, "device": "tv"},
    ):
        from webapp import socketio

        client = socketio.test_client(app, namespace="/patient", auth=auth)
        assert not client.is_connected("/patient")


def test_clinician_namespace_refuses_anonymous(app, client):
    assert not watcher(app, client).connected


def test_chart_test_with_scripted_answers_reaches_a_result_for_both_eyes(app, clinician_client):
    public_id, token = create_test(clinician_client, procedure="chart", show_results="y")
    screen = display(app, token)
    phone = pad(app, pad_token_from_state(screen.last("state")))
    assert phone.connected
    watch = watcher(app, clinician_client)
    snapshot = watch.send("watch", {"session_id": public_id})["snapshot"]
    assert snapshot["devices"] == {"display": True, "pad": True}

    def read_down_to_0_3(stimulus):  # reads every row down to 0.3 logMAR, nothing below
        return list(stimulus["optotypes"]) if stimulus["logmar"] > 0.25 else [None] * len(stimulus["optotypes"])

    stimulus = start_testing(screen)
    request = phone.last("answer_request")
    assert request["trial_id"] == stimulus["trial_id"] and request["seq"] == stimulus["seq"]
    assert "optotypes" not in request  # the pad never learns what is shown
    acks, shown, events = answer_all(screen, stimulus, read_down_to_0_3, answerer=phone)
    assert all(a == {"ok": True, "accepted": True, "duplicate": False} for a in acks)
    assert ("eye_done", {"eye": "right", "next_eye": "left"}) in events
    assert screen.last("state", events)["phase"] == "between_eyes"

    # Letter-by-letter chart score (docs/measurement.md §7): last row fully read 0.3, next row none.
    largest = shown[0]["logmar"]
    letters = sum(len(s["optotypes"]) for s in shown if s["logmar"] > 0.25)
    expected = round(largest + 0.1 - 0.02 * letters, 6)
    clinician_events = watch.received()
    eye_done = [p for e, p in clinician_events if e == "eye_done"][0]
    assert eye_done["result"]["logmar"] == pytest.approx(expected, abs=1e-6) == pytest.approx(0.3, abs=1e-6)
    assert eye_done["result"]["snellen_6"] == "6/12"
    assert len([e for e, _ in clinician_events if e == "answer_scored"]) == len(shown)

    assert screen.send("ready")["ok"]
    stimulus = screen.last("stimulus")
    assert stimulus["eye"] == "left" and stimulus["trial_id"] == "left-0"
    _, _, events = answer_all(screen, stimulus, lambda s: list(s["optotypes"]), answerer=phone)
    done = screen.last("test_done", events)
    assert done["show_results"] is True
    assert [r["eye"] for r in done["results"]] == ["right", "left"]
    assert screen.last("state", events)["phase"] == "done"

    page = clinician_client.get(f"/sessions/{public_id}/result").get_data(as_text=True)
    assert "+0.30" in page and "6/12" in page and 'data-mark="wrong"' in page and "<svg" in page


def test_adaptive_test_with_a_simulated_observer_ends_near_its_threshold(app, clinician_client):
    public_id, token = create_test(clinician_client, procedure="adaptive", eyes="right", optotype_set="sloan")
    screen = display(app, token)
    sloan = optotype_set("sloan")
    observer = SimulatedObserver(threshold_logmar=0.2, slope_sd_logmar=0.07, guess_rate=sloan.guess_rate)
    rng = np.random.default_rng(7)
    stimulus = start_testing(screen)
    acks, shown, events = answer_all(
        screen, stimulus, lambda s: observer.respond(s["optotypes"], s["logmar"], sloan.symbols, rng)
    )
    assert all(a["accepted"] for a in acks)
    done = screen.last("test_done", events)
    assert done == {"show_results": False}  # the clinician has not allowed results for the patient
    snapshot = watcher(app, clinician_client).send("watch", {"session_id": public_id})["snapshot"]
    result = snapshot["eyes"][0]["result"]
    assert result["trials"] == len(shown)
    assert result["ci95_low_logmar"] <= result["logmar"] <= result["ci95_high_logmar"]
    assert abs(result["logmar"] - 0.2) < 0.2
    with app.app_context():
        assert db.session.scalar(select(func.count(Trial.id))) == len(shown)


def test_duplicate_answer_counts_once_and_stale_answers_are_refused(app, clinician_client):
    _, token = create_test(clinician_client, procedure="adaptive", eyes="right")
    screen = display(app, token)
    first = start_testing(screen)
    answer = {"trial_id": first["trial_id"], "seq": first["seq"], "responses": list(first["optotypes"])}
    assert screen.send("answer", answer) == {"ok": True, "accepted": True, "duplicate": False}
    second = screen.last("stimulus")
    assert screen.send("answer", answer) == {"ok": True, "accepted": True, "duplicate": True}
    assert screen.last("stimulus") is None  # a duplicate moves nothing on
    stale = screen.send("answer", {**answer, "seq": second["seq"]})  # old trial, wrong seq
    assert stale["ok"] is False and stale["error"] == "stale_trial"
    future = screen.send("answer", {"trial_id": "right-9", "seq": 99, "responses": ["C"]})
    assert future["error"] == "stale_trial"
    with app.app_context():
        assert db.session.scalar(select(func.count(Trial.id))) == 1
    ack = screen.send(
        "answer", {"trial_id": second["trial_id"], "seq": second["seq"], "responses": list(second["optotypes"])}
    )
    assert ack["duplicate"] is False


@pytest.mark.parametrize(
    "event, payload, field",
    [
        ("answer", {"trial_id": "right-0", "seq": 1}, "responses"),
        ("answer", {"trial_id": "right-0", "seq": "1", "responses": ["C"]}, "seq"),
        ("answer", {"trial_id": "right-0", "seq": 1, "responses": ["C"] * 21}, "responses"),
        ("answer", {"trial_id": "right-0", "seq": 1, "responses": [5]}, "responses[0]"),
        ("answer", ["not", "an", "object"], "object"),
        ("answer", {"trial_id": "right-0", "seq": 1, "responses": ["C"], "extra": 1}, "extra"),
        ("calibration", {**CALIBRATION, "css_px_per_mm": float("nan")}, "css_px_per_mm"),
        ("calibration", {**CALIBRATION, "viewport_css_px": [100]}, "viewport_css_px"),
        ("calibration", {**CALIBRATION, "distance": {"method": "tape"}}, "distance_mm"),
        ("calibration", {**CALIBRATION, "user_agent": "x" * 600}, "user_agent"),
        ("page_event", {"kind": "explode"}, "kind"),
        ("page_event", {"kind": "zoom", "detail": {"a": {"b": 1}}}, "detail.a"),
    ],
)
def test_malformed_payloads_get_a_clear_error_and_change_nothing(app, clinician_client, event, payload, field):
    _, token = create_test(clinician_client, eyes="right")
    screen = display(app, token)
    assert screen.send("consent")["ok"]
    screen.received()
    ack = screen.send(event, payload)
    assert ack["ok"] is False and ack["error"] == "invalid_payload"
    assert field in ack["message"]
    assert screen.received() == []
    assert screen.connected


def test_wrong_symbols_and_counts_are_refused_before_anything_is_stored(app, clinician_client):
    _, token = create_test(clinician_client, eyes="right", procedure="adaptive")
    screen = display(app, token)
    stimulus = start_testing(screen)
    base = {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"]}
    bad_symbol = screen.send("answer", {**base, "responses": ["Q"]})
    assert bad_symbol["error"] == "invalid_payload" and "'Q'" in bad_symbol["message"]
    too_many = screen.send("answer", {**base, "responses": ["C", "D"]})
    assert too_many["error"] == "invalid_payload"
    with app.app_context():
        assert db.session.scalar(select(func.count(Trial.id))) == 0
    assert screen.send("answer", {**base, "responses": [None]})["accepted"]  # "not sure" is an answer


def test_a_patient_of_one_session_never_hears_another_sessions_events(app, clinician_client):
    _, token_a = create_test(clinician_client, patient_reference="A", eyes="right", procedure="adaptive")
    _, token_b = create_test(clinician_client, patient_reference="B", eyes="right", procedure="adaptive")
    screen_a = display(app, token_a)
    pad_a = pad(app, pad_token_from_state(screen_a.last("state")))
    screen_b = display(app, token_b)
    screen_a.received(), pad_a.received()
    stimulus_b = start_testing(screen_b)
    screen_b.send(
        "answer",
        {"trial_id": stimulus_b["trial_id"], "seq": stimulus_b["seq"], "responses": list(stimulus_b["optotypes"])},
    )
    assert screen_a.received() == [] and pad_a.received() == []
    # B's trial cannot be answered from A's connection either: the server ties a socket to its session.
    ack = screen_a.send(
        "answer", {"trial_id": stimulus_b["trial_id"], "seq": stimulus_b["seq"] + 1, "responses": ["C"]}
    )
    assert ack["ok"] is False


def test_a_clinician_cannot_watch_or_steer_another_clinicians_session(app, clinician_client):
    public_id, token = create_test(clinician_client, eyes="right")
    add_clinician(app, "other@example.org")
    other_http = login(app.test_client(), "other@example.org")
    other = watcher(app, other_http)
    assert other.connected
    ack = other.send("watch", {"session_id": public_id})
    assert ack == {"ok": False, "error": "forbidden", "message": "This test belongs to another practice."}
    assert other.send("pause", {"session_id": public_id})["error"] == "forbidden"
    assert other.send("watch", {"session_id": "nope"})["error"] == "not_found"
    screen = display(app, token)
    start_testing(screen)
    assert other.received() == []


def test_pad_pairing_answers_from_the_phone_and_device_status_reaches_the_clinician(app, clinician_client):
    public_id, token = create_test(clinician_client, eyes="right", procedure="adaptive")
    watch = watcher(app, clinician_client)
    assert watch.send("watch", {"session_id": public_id})["snapshot"]["link"]["state"] == "invited"
    screen = display(app, token)
    # The clinician's copy names the link's state (the live view's link panel follows it, no reload).
    opened = {"state": "opened", "state_text": "link opened, test not started", "opened": True}
    assert watch.last("device_status") == {"display_connected": True, "pad_connected": False, "link": opened}
    events = screen.received()
    assert "link" not in screen.last("device_status", events)  # the patient's copy does not
    pad_url = screen.last("state", events)["pad_url"]
    phone_browser = app.test_client()
    assert phone_browser.get(pad_url.replace("http://localhost", "")).headers["Location"] == "/pad"
    assert phone_browser.get("/pad").status_code == 200
    phone = pad(app, pad_token_from_state({"pad_url": pad_url}), browser=phone_browser)
    assert phone.last("state")["pad_connected"] is True
    assert watch.last("device_status") == {"display_connected": True, "pad_connected": True, "link": opened}
    stimulus = start_testing(screen)
    assert phone.last("answer_request")["count"] == len(stimulus["optotypes"])
    assert phone.send("calibration", CALIBRATION)["error"] == "wrong_device"
    ack = phone.send(
        "answer", {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": list(stimulus["optotypes"])}
    )
    assert ack["accepted"]
    assert watch.last("answer_scored")["trial"]["correct"] == [True]
    phone.disconnect()
    testing = {"state": "testing", "state_text": "test under way", "opened": True}
    assert watch.last("device_status") == {"display_connected": True, "pad_connected": False, "link": testing}


def test_state_is_rebuilt_from_the_database_by_a_fresh_app(app, clinician_client, db_path):
    from tests.support.app import make_app

    public_id, token = create_test(clinician_client, eyes="right", procedure="adaptive")
    screen = display(app, token)
    stimulus = start_testing(screen)
    for _ in range(3):
        screen.send(
            "answer",
            {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": list(stimulus["optotypes"])},
        )
        stimulus = screen.last("stimulus")
    screen.disconnect()

    restarted = make_app(db_path)  # a new process would see exactly this
    again = display(restarted, token)
    events = again.received()
    state = again.last("state", events)
    assert state["phase"] == "testing"
    assert state["current_stimulus"] == stimulus
    assert again.last("stimulus", events) == stimulus
    ack = again.send(
        "answer", {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": list(stimulus["optotypes"])}
    )
    assert ack == {"ok": True, "accepted": True, "duplicate": False}
    assert again.last("stimulus")["trial_id"] == "right-4"


def test_an_answer_losing_a_race_to_its_twin_is_acknowledged_as_the_duplicate(app, clinician_client, monkeypatch):
    """Two copies of one answer handled at once (two processes): the unique (eye_test_id, index)
    stops the second at commit; it is rolled back and acknowledged as the duplicate."""
    from webapp.live import procedures

    _, token = create_test(clinician_client, eyes="right", procedure="adaptive")
    screen = display(app, token)
    first = start_testing(screen)
    screen.send("answer", {"trial_id": first["trial_id"], "seq": first["seq"], "responses": list(first["optotypes"])})
    second = screen.last("stimulus")
    real_trial_row = procedures.trial_row

    def twin_already_stored(eye_test, record, **kwargs):  # as if the twin had stored index 0 first
        row = real_trial_row(eye_test, record, **kwargs)
        row.index = 0
        return row

    monkeypatch.setattr(procedures, "trial_row", twin_already_stored)
    ack = screen.send(
        "answer", {"trial_id": second["trial_id"], "seq": second["seq"], "responses": list(second["optotypes"])}
    )
    assert ack == {"ok": True, "accepted": True, "duplicate": True}
    assert screen.received() == []  # nothing was sent: the transaction was rolled back
    with app.app_context():
        assert db.session.scalar(select(func.count(Trial.id))) == 1
    monkeypatch.undo()
    assert (
        screen.send(
            "answer", {"trial_id": second["trial_id"], "seq": second["seq"], "responses": list(second["optotypes"])}
        )["duplicate"]
        is False
    )


def test_a_pad_that_reconnects_gets_the_current_answer_request_again(app, clinician_client):
    _, token = create_test(clinician_client, eyes="right", procedure="adaptive")
    screen = display(app, token)
    pad_token = pad_token_from_state(screen.last("state"))
    phone = pad(app, pad_token)
    stimulus = start_testing(screen)
    phone.disconnect()
    assert screen.last("device_status") == {"display_connected": True, "pad_connected": False}
    again = pad(app, pad_token)
    events = again.received()
    request = again.last("answer_request", events)
    assert (request["trial_id"], request["seq"]) == (stimulus["trial_id"], stimulus["seq"])
    assert again.last("state", events)["current_request"] == request
    assert again.send(
        "answer", {"trial_id": request["trial_id"], "seq": request["seq"], "responses": list(stimulus["optotypes"])}
    )["accepted"]


def test_device_sids_of_an_ended_run_are_forgotten_at_start_up_of_the_one_process(app, clinician_client, monkeypatch):
    from webapp.live.patient import forget_connections_of_earlier_runs
    from webapp.models import TestSession

    public_id, token = create_test(clinician_client, eyes="right")
    display(app, token)  # connected, never disconnected: as after a crash

    def stored_sid():
        return db.session.scalar(select(TestSession.display_sid).where(TestSession.public_id == public_id))

    with app.app_context():
        assert stored_sid()
        # With a message queue, other processes may hold that socket: nothing is forgotten.
        monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
        assert forget_connections_of_earlier_runs() == 0
        assert stored_sid()
        monkeypatch.setitem(app.config, "REDIS_URL", None)
        assert forget_connections_of_earlier_runs() == 1
        assert stored_sid() is None


def test_every_message_carries_the_servers_notation(app, clinician_client):
    """The browser computes no notation: each size, acuity and distance it shows arrives as text."""
    public_id, token = create_test(clinician_client, procedure="chart")
    screen = display(app, token)
    watch = watcher(app, clinician_client)
    assert watch.send("watch", {"session_id": public_id})["ok"]
    state = screen.last("state")
    assert (state["required_distance_text"], state["required_distance_long_text"]) == ("3 m", "3 metres")
    assert screen.send("consent")["ok"]
    ack = screen.send("calibration", CALIBRATION)
    assert ack["viewing_distance_text"] == "3 m"
    measurable = ack["measurable_range"]
    assert measurable["text"] == (
        f"{measurable['max_notation']['snellen_6']} to {measurable['min_notation']['snellen_6']} "
        f"({measurable['max_notation']['logmar']} to {measurable['min_notation']['logmar']} logMAR)"
    )
    # 1600 CSS px wide at 4 CSS px/mm and 3 m: a row of the 0.8 line is the largest that fits.
    assert measurable["sizes"][0] == {"logmar": 0.8, "value": "0.8", "text": "6/38 (20/125) · 0.80 logMAR"}
    assert screen.send("ready")["ok"]
    stimulus = screen.last("stimulus")
    assert stimulus["notation"]["text"] == "6/38 (20/125) · 0.80 logMAR"  # the chart starts there
    shown = watch.last("stimulus_shown")
    assert shown["notation"] == stimulus["notation"]
    screen.send(
        "answer",
        {
            "trial_id": stimulus["trial_id"],
            "seq": stimulus["seq"],
            "responses": list(stimulus["optotypes"]),
            "response_time_ms": 900,
        },
    )
    events = watch.received()
    scored, estimated = watch.last("answer_scored", events), watch.last("estimate", events)
    assert scored["trial"]["notation"]["logmar"] == "0.80"
    estimate = scored["estimate"]
    assert estimate["notation"]["logmar"] == f"{estimate['logmar']:.2f}".replace("-0.00", "0.00")
    assert estimate["notation"]["ci95_text"].endswith(" logMAR")
    snapshot = watch.send("watch", {"session_id": public_id})["snapshot"]
    assert snapshot["calibration"]["position_text"] == "3 m from the screen"
    assert snapshot["estimate"]["notation"] == estimated["estimate"]["notation"] == estimate["notation"]
    assert snapshot["eyes"][0]["trials"][0]["notation"] == scored["trial"]["notation"]
    assert snapshot["measurable_range"]["sizes"] == measurable["sizes"]
