"""Socket integration: what the clinician steers, and what pauses or voids a calibration."""

from sqlalchemy import func, select

from tests.support.app import CALIBRATION, create_test, display, pad, pad_token_from_state, start_testing, watcher
from webapp.extensions import db
from webapp.models import Calibration, SessionEvent, Trial


def watched(app, clinician_client, **config):
    public_id, token = create_test(clinician_client, **config)
    watch = watcher(app, clinician_client)
    assert watch.send("watch", {"session_id": public_id})["ok"]
    return public_id, display(app, token), watch


def test_zoom_voids_the_calibration_pauses_and_the_same_trial_returns_after_recalibration(app, clinician_client):
    public_id, screen, watch = watched(app, clinician_client, eyes="right", procedure="adaptive")
    stimulus = start_testing(screen)
    watch.received()
    ack = screen.send("page_event", {"kind": "zoom", "detail": {"device_pixel_ratio": 2.2}})
    assert ack == {"ok": True, "paused": True}
    events = screen.received()
    assert screen.last("recalibrate", events) == {"reason": "zoom_or_screen_changed"}
    assert screen.last("state", events)["phase"] == "calibrate"
    clinician_events = watch.received()
    assert watch.last("page_event", clinician_events)["kind"] == "zoom"
    assert watch.last("calibration", clinician_events)["calibration"] is None
    refused = screen.send("answer", {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": ["C"]})
    assert refused["error"] == "wrong_phase"
    assert screen.send("ready")["error"] == "recalibration_needed"

    zoomed = {**CALIBRATION, "css_px_per_mm": 4.4, "device_pixel_ratio": 2.2}
    assert screen.send("calibration", zoomed)["ok"]
    assert screen.last("state")["phase"] == "ready"
    assert screen.send("ready")["ok"]
    again = screen.last("stimulus")
    assert again["trial_id"] == stimulus["trial_id"] and again["optotypes"] == stimulus["optotypes"]
    assert again["seq"] == stimulus["seq"] + 1
    assert again["height_css_px"] == stimulus["height_css_px"] * 1.1
    stale = screen.send(
        "answer", {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": list(stimulus["optotypes"])}
    )
    assert stale["error"] == "stale_trial"
    with app.app_context():
        assert db.session.scalar(select(func.count(Calibration.id))) == 2
        kinds = db.session.scalars(select(SessionEvent.kind)).all()
        assert "calibration_invalidated" in kinds and "page_event" in kinds


def _ink(stimulus, factor):
    """The ink of every optotype shown, `factor` times the requested height, in device px (DPR 2)."""
    side = stimulus["height_css_px"] * 2.0 * factor
    return [[side, side] for _ in stimulus["optotypes"]]


def test_drawn_ink_more_than_2_percent_off_voids_the_calibration(app, clinician_client):
    _, screen, watch = watched(app, clinician_client, eyes="right", procedure="adaptive")
    stimulus = start_testing(screen)
    base = {
        "trial_id": stimulus["trial_id"],
        "seq": stimulus["seq"],
        "device_pixel_ratio": 2.0,
        "visual_viewport_scale": 1.0,
    }
    ok = screen.send("drawn", {**base, "ink_device_px": _ink(stimulus, 1.019)})
    assert ok == {"ok": True, "within_tolerance": True}
    assert screen.last("recalibrate") is None
    report = watch.last("drawn", watch.received())
    assert report["within_tolerance"] is True and report["tolerance_percent"] == 2.0
    assert report["requested_device_px"] == stimulus["height_css_px"] * 2.0
    off = screen.send("drawn", {**base, "ink_device_px": _ink(stimulus, 0.975)})
    assert off == {"ok": True, "within_tolerance": False}
    assert screen.last("recalibrate") == {"reason": "drawn_size_off"}
    report = watch.last("drawn", watch.received())
    assert report["within_tolerance"] is False and round(report["error_percent"], 6) == -2.5


def test_drawn_under_pinch_zoom_voids_the_calibration(app, clinician_client):
    _, screen, _ = watched(app, clinician_client, eyes="right", procedure="adaptive")
    stimulus = start_testing(screen)
    ack = screen.send(
        "drawn",
        {
            "trial_id": stimulus["trial_id"],
            "seq": stimulus["seq"],
            "device_pixel_ratio": 2.0,
            "visual_viewport_scale": 1.5,
            "ink_device_px": _ink(stimulus, 1.5),
        },
    )
    assert ack == {"ok": True, "within_tolerance": False}
    assert screen.last("recalibrate") == {"reason": "zoom_or_screen_changed"}


def test_drawn_needs_one_ink_box_per_optotype(app, clinician_client):
    _, screen, _ = watched(app, clinician_client, eyes="right", procedure="chart")
    stimulus = start_testing(screen)
    assert len(stimulus["optotypes"]) == 5
    ack = screen.send(
        "drawn",
        {
            "trial_id": stimulus["trial_id"],
            "seq": stimulus["seq"],
            "device_pixel_ratio": 2.0,
            "visual_viewport_scale": 1.0,
            "ink_device_px": _ink(stimulus, 1.0)[:3],
        },
    )
    assert ack["ok"] is False and ack["error"] == "invalid_payload" and "(5)" in ack["message"]
    assert screen.last("recalibrate") is None


def test_pinch_zoom_page_event_voids_the_calibration(app, clinician_client):
    _, screen, watch = watched(app, clinician_client, eyes="right", procedure="adaptive")
    start_testing(screen)
    ack = screen.send(
        "page_event",
        {
            "kind": "resize",
            "detail": {"device_pixel_ratio": 2.0, "visual_viewport_scale": 1.5, "viewport_css_px": [1600, 900]},
        },
    )
    assert ack == {"ok": True, "paused": True}
    assert screen.last("recalibrate") == {"reason": "zoom_or_screen_changed"}


def test_hidden_page_pauses_and_ready_continues_with_the_same_stimulus(app, clinician_client):
    _, screen, watch = watched(app, clinician_client, eyes="right", procedure="adaptive")
    stimulus = start_testing(screen)
    assert screen.send("page_event", {"kind": "hidden"}) == {"ok": True, "paused": True}
    events = screen.received()
    assert screen.last("paused", events) == {"reason": "page_hidden"}
    assert screen.last("state", events)["phase"] == "paused"
    assert screen.send("page_event", {"kind": "visible"})["ok"]
    assert screen.send("ready")["ok"]
    assert screen.last("stimulus") == stimulus  # same trial, same seq: nothing was lost or doubled


def test_clinician_pause_holds_the_patient_until_resume(app, clinician_client):
    public_id, screen, watch = watched(app, clinician_client, eyes="right", procedure="adaptive")
    stimulus = start_testing(screen)
    assert watch.send("pause", {"session_id": public_id}) == {"ok": True}
    assert screen.last("paused") == {"reason": "clinician"}
    assert screen.send("ready")["error"] == "wrong_phase"
    answer = {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": list(stimulus["optotypes"])}
    assert screen.send("answer", answer)["error"] == "wrong_phase"
    assert watch.last("status")["paused_reason"] == "clinician"
    assert watch.send("resume", {"session_id": public_id}) == {"ok": True}
    events = screen.received()
    assert ("resumed", {}) in events
    assert screen.last("stimulus", events) == stimulus
    assert screen.send("answer", answer)["accepted"]


def test_manual_procedure_shows_the_size_the_clinician_chooses(app, clinician_client):
    public_id, screen, watch = watched(app, clinician_client, eyes="right", procedure="manual")
    assert screen.send("consent")["ok"] and screen.send("calibration", CALIBRATION)["ok"]
    assert screen.send("ready")["ok"]
    assert screen.last("stimulus") is None  # waits for the clinician
    ack = watch.send("present", {"session_id": public_id, "logmar": 0.5})
    assert ack["ok"] and ack["stimulus"]["logmar"] == 0.5
    stimulus = screen.last("stimulus")
    assert stimulus["logmar"] == 0.5
    assert watch.last("stimulus_shown")["seq"] == stimulus["seq"]
    refused = watch.send("present", {"session_id": public_id, "logmar": 2.5})  # beyond this screen
    assert refused["error"] == "procedure_error" and "cannot be drawn" in refused["message"]
    assert screen.send(
        "answer", {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": list(stimulus["optotypes"])}
    )["accepted"]
    assert screen.last("stimulus") is None
    assert watch.send("next_eye", {"session_id": public_id}) == {"ok": True}
    events = watch.received()
    assert watch.last("test_done", events)["results"][0]["trials"] == 1


def test_clinician_scored_mode_records_rows_and_refuses_patient_answers(app, clinician_client):
    public_id, screen, watch = watched(app, clinician_client, eyes="right", procedure="chart", answer_mode="clinician")
    stimulus = start_testing(screen)
    patient_try = screen.send(
        "answer", {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": list(stimulus["optotypes"])}
    )
    assert patient_try["error"] == "answer_mode"
    ack = watch.send(
        "score",
        {
            "session_id": public_id,
            "trial_id": stimulus["trial_id"],
            "seq": stimulus["seq"],
            "correct": [True, True, False, True, True],
        },
    )
    assert ack == {"ok": True, "accepted": True, "duplicate": False}
    scored = watch.last("answer_scored")["trial"]
    assert scored["scored_by"] == "clinician" and scored["correct"] == [True, True, False, True, True]
    assert scored["responses"][2] == "wrong"  # the ✗: named wrongly, not "not seen"
    both = watch.send(
        "score",
        {
            "session_id": public_id,
            "trial_id": "right-1",
            "seq": stimulus["seq"] + 1,
            "correct": [True],
            "responses": ["C"],
        },
    )
    assert both["error"] == "invalid_payload"


def test_a_clinicians_wrong_and_not_seen_are_stored_as_different_answers(app, clinician_client):
    """Both score as incorrect, but the stored trial says which: `null` is "not seen", "wrong" a symbol
    named wrongly (the ✗); the patient's own answers cannot send "wrong"."""
    public_id, screen, watch = watched(app, clinician_client, eyes="right", procedure="chart", answer_mode="clinician")
    stimulus = start_testing(screen)
    shown = list(stimulus["optotypes"])
    responses = [shown[0], "wrong", None, shown[3], "wrong"]
    ack = watch.send(
        "score",
        {"session_id": public_id, "trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": responses},
    )
    assert ack["ok"], ack
    scored = watch.last("answer_scored")["trial"]
    assert scored["correct"] == [True, False, False, True, False]
    with app.app_context():
        db.session.remove()
        [trial] = db.session.scalars(db.select(Trial)).all()
        assert trial.responses == responses and trial.correct == [True, False, False, True, False]
    result = clinician_client.get(f"/sessions/{public_id}/result").get_data(as_text=True)
    assert f"{shown[0]} wrong ? {shown[3]} wrong" in result  # the trial table keeps them apart

    _, patient_screen, _ = watched(app, clinician_client, eyes="right", procedure="chart")
    own = start_testing(patient_screen)
    refused = patient_screen.send(
        "answer", {"trial_id": own["trial_id"], "seq": own["seq"], "responses": ["wrong"] * len(own["optotypes"])}
    )
    assert refused["error"] == "invalid_payload" and "null for not sure" in refused["message"]


def test_letter_by_letter_chart_is_scored_one_letter_per_trial(app, clinician_client):
    public_id, screen, watch = watched(
        app, clinician_client, eyes="right", procedure="chart", chart_presentation="single", answer_mode="clinician"
    )
    stimulus = start_testing(screen)
    assert len(stimulus["optotypes"]) == 1
    ack = watch.send(
        "score",
        {
            "session_id": public_id,
            "trial_id": stimulus["trial_id"],
            "seq": stimulus["seq"],
            "responses": list(stimulus["optotypes"]),
        },
    )
    assert ack["accepted"]
    assert screen.last("stimulus")["index"] == 1


def test_end_keeps_results_so_far_and_share_results_reaches_the_patient(app, clinician_client):
    public_id, screen, watch = watched(app, clinician_client, eyes="right_left", procedure="adaptive")
    phone = pad(app, pad_token_from_state(screen.last("state")))
    stimulus = start_testing(screen)
    screen.send(
        "answer", {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": list(stimulus["optotypes"])}
    )
    assert watch.send("note", {"session_id": public_id, "text": "patient squinting"})["ok"]
    assert watch.last("note")["text"] == "patient squinting"
    assert watch.send("end", {"session_id": public_id}) == {"ok": True}
    events = screen.received()
    assert screen.last("test_done", events) == {"show_results": False}
    assert screen.last("state", events)["phase"] == "done"
    assert watch.send("share_results", {"session_id": public_id, "show": True})["ok"]
    shared = screen.last("test_done", screen.received())
    assert shared["show_results"] is True and shared["results"][0]["eye"] == "right"
    assert phone.last("test_done")["results"][0]["trials"] == 1
    snapshot = watch.send("watch", {"session_id": public_id})["snapshot"]
    assert [e["status"] for e in snapshot["eyes"]] == ["done", "skipped"]
    assert any(e["kind"] == "note" and e["text"] == "patient squinting" for e in snapshot["events"])
    assert screen.send("ready")["error"] == "session_closed"


def test_request_recalibration_sends_the_patient_back_to_calibrate(app, clinician_client):
    public_id, screen, watch = watched(app, clinician_client, eyes="right", procedure="adaptive")
    start_testing(screen)
    assert watch.send("request_recalibration", {"session_id": public_id}) == {"ok": True}
    events = screen.received()
    assert screen.last("recalibrate", events) == {"reason": "clinician_request"}
    assert screen.last("state", events)["phase"] == "calibrate"


def test_revoking_the_invite_disconnects_the_patient_and_refuses_reconnects(app, clinician_client):
    public_id, token = create_test(clinician_client, eyes="right")
    screen = display(app, token)
    phone = pad(app, pad_token_from_state(screen.last("state")))
    response = clinician_client.post(f"/sessions/{public_id}/invite/revoke")
    assert response.status_code == 303
    assert not screen.connected and not phone.connected
    assert not display(app, token).connected
    assert clinician_client.get(f"/t/{token}").status_code == 410


def test_a_second_display_replaces_the_first(app, clinician_client):
    _, token = create_test(clinician_client, eyes="right")
    first = display(app, token)
    second = display(app, token)
    # The older socket is told (`error` replaced, tests/faults/) and closed by the server.
    assert not first.connected
    assert second.send("consent")["ok"]


def test_mirror_setup_requires_the_mirror_distance_and_mirrors_the_stimulus(app, clinician_client):
    _, token = create_test(clinician_client, eyes="right", setup="mirror", procedure="adaptive")
    screen = display(app, token)
    assert screen.send("consent")["ok"]
    wrong = screen.send("calibration", CALIBRATION)
    assert wrong["error"] == "invalid_payload" and "mirror" in wrong["message"]
    ack = screen.send("calibration", {**CALIBRATION, "distance": {"method": "mirror", "patient_to_mirror_mm": 1500}})
    assert ack["ok"] and ack["viewing_distance_mm"] == 3000 and ack["mirrored"] is True
    assert screen.send("ready")["ok"]
    assert screen.last("stimulus")["mirrored"] is True


def test_an_implausible_calibration_is_refused_with_the_calibration_message(app, clinician_client):
    _, token = create_test(clinician_client, eyes="right")
    screen = display(app, token)
    screen.send("consent")
    ack = screen.send("calibration", {**CALIBRATION, "css_px_per_mm": 60.0})
    assert ack["ok"] is False and ack["error"] == "calibration_refused" and ack["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Calibration.id))) == 0
        assert db.session.scalar(select(func.count(Trial.id))) == 0


def test_a_window_made_too_small_for_the_stimulus_voids_the_calibration(app, clinician_client):
    _, screen, watch = watched(app, clinician_client, eyes="right", procedure="adaptive")
    stimulus = start_testing(screen)
    assert stimulus["logmar"] >= 0.5  # the adaptive test starts large
    fits = screen.send(
        "page_event", {"kind": "resize", "detail": {"device_pixel_ratio": 2.0, "viewport_css_px": [1500, 880]}}
    )
    assert fits == {"ok": True, "paused": False}
    small = screen.send(
        "page_event", {"kind": "fullscreen_exit", "detail": {"device_pixel_ratio": 2.0, "viewport_css_px": [320, 200]}}
    )
    assert small == {"ok": True, "paused": True}
    assert screen.last("recalibrate") == {"reason": "window_too_small"}


def test_a_size_the_new_calibration_cannot_draw_is_held_until_the_clinician_chooses_another(app, clinician_client):
    public_id, screen, watch = watched(app, clinician_client, eyes="right", procedure="adaptive")
    stimulus = start_testing(screen)
    small_window = {**CALIBRATION, "viewport_css_px": [400, 300]}
    ack = screen.send("calibration", small_window)
    assert ack["ok"] and ack["measurable_range"]["max_logmar"] < stimulus["logmar"]
    assert screen.send("ready")["ok"]
    events = screen.received()
    assert screen.last("stimulus", events) is None  # never shown at a size that cannot be drawn
    assert screen.last("paused", events) == {"reason": "size_not_drawable"}
    assert screen.last("state", events)["phase"] == "paused"
    snapshot = watch.send("watch", {"session_id": public_id})["snapshot"]
    assert snapshot["events"][-1]["detail"]["code"] == "size_not_drawable"
    too_big = watch.send("present", {"session_id": public_id, "logmar": stimulus["logmar"]})
    assert too_big["error"] == "procedure_error" and "current calibration" in too_big["message"]
    ack = watch.send("present", {"session_id": public_id, "logmar": 0.1})
    assert ack["ok"]
    shown = screen.last("stimulus")
    assert shown["logmar"] == 0.1 and shown["trial_id"] == stimulus["trial_id"]


def _window_warnings(app):
    with app.app_context():
        rows = db.session.scalars(select(SessionEvent).order_by(SessionEvent.id)).all()
        return [
            (row.kind, dict(row.detail or {}))
            for row in rows
            if row.kind == "page_event"
            and (row.detail or {}).get("kind") == "resize"
            or (row.detail or {}).get("code") == "window_size_changed"
        ]


def test_a_resize_warns_only_when_the_window_changes_the_largest_size_it_can_draw(app, clinician_client):
    _, screen, watch = watched(app, clinician_client, eyes="right", procedure="adaptive")
    stimulus = start_testing(screen)  # calibrated in a 1600 x 900 window at DPR 2
    watch.received()
    same = {"device_pixel_ratio": 2.0, "viewport_css_px": [1600, 900]}
    # What pages send at start-up and on entering full screen: the same window, or a larger one.
    for detail in (same, same, {**same, "viewport_css_px": [1920, 1080]}, {**same, "viewport_css_px": [1598, 899]}):
        assert screen.send("page_event", {"kind": "resize", "detail": detail}) == {"ok": True, "paused": False}
    assert _window_warnings(app) == []
    assert watch.last("page_event") is None

    # A smaller window: the largest letters no longer fit (the one on screen still does).
    smaller = {**same, "viewport_css_px": [1200, 675]}
    assert screen.send("page_event", {"kind": "resize", "detail": smaller})["ok"]
    stored = _window_warnings(app)
    assert len(stored) == 1 and stored[0][0] == "warning"
    detail = stored[0][1]
    assert stimulus["logmar"] < detail["largest_logmar"] < detail["calibrated_largest_logmar"] - 0.1
    relayed = watch.last("page_event")
    assert relayed["kind"] == "warning" and relayed["detail"]["code"] == "window_size_changed"
    assert "6/" in relayed["detail_text"]["largest_logmar"]  # the server's words for the size
    # The same small window reported again: no second warning.
    assert screen.send("page_event", {"kind": "resize", "detail": smaller})["ok"]
    assert len(_window_warnings(app)) == 1
    # Back to the calibrated window: one warning that every size fits again.
    assert screen.send("page_event", {"kind": "resize", "detail": same})["ok"]
    stored = _window_warnings(app)
    assert len(stored) == 2 and stored[1][1]["largest_logmar"] == stored[1][1]["calibrated_largest_logmar"]
