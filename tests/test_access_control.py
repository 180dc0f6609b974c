"""Nobody in where they don't belong: every route and every socket event tried with a wrong identity
(a clinician of another practice, another patient, nobody), and every one open to a colleague of the
same practice. Routes come from app.url_map and events from the
server's registered handlers, so a new route or event without a rule here fails these tests."""

import pytest
from sqlalchemy import select, text

from tests.support.app import (
    CALIBRATION,
    COLLEAGUE,
    NEW_TEST,
    OTHER,
    add_clinician,
    add_colleague,
    create_test,
    db_rows,
    display,
    login,
    pad,
    pad_token_from_state,
    registered_events,
    rules,
    start_testing,
    watcher,
)
from webapp import events as ev

# Routes anyone may open (no session data behind them).
PUBLIC = {"/", "/login", "/setup", "/healthz", "/optotypes.json", "/static/<path:filename>", "/i18n/<code>.json"}
# Routes reached with a patient's token, or a colleague's invite into a practice (the token is the identity).
BY_TOKEN = {"/t/<token>", "/pad/<pad_token>", "/join/<token>"}
# Routes reached with the device credential cookie a patient link was exchanged for
# (tests/test_patient_routes.py: without it, a friendly 404; another browser's, nothing).
BY_CREDENTIAL = {"/test", "/test/camera", "/pad"}
# Routes for any signed-in clinician, showing only their own practice's sessions and patients.
SIGNED_IN = {
    "/logout",
    "/sessions/new",
    "/exports/results.csv",
    "/exports/trials.csv",
    "/audit",
    "/account/time-zone",
    "/patients",
    "/practice",
    "/practice/invites",
}
# For the practice's admin only (naming one of the practice's invites or clinicians).
PRACTICE_ADMIN = {
    "/practice/invites/<int:invite_id>/withdraw",
    "/practice/notation",
    "/practice/members/<int:clinician_id>/remove",
}
# Everything else names a session (<public_id>) or a patient (<patient_id>) and is for the clinicians
# of its practice only.


def test_every_route_is_classified(app):
    for path, _ in rules(app):
        known = PUBLIC | BY_TOKEN | BY_CREDENTIAL | SIGNED_IN | PRACTICE_ADMIN
        assert path in known or "<public_id>" in path or "<patient_id>" in path, (
            f"{path}: a new route; say who may use it in tests/test_access_control.py and test it"
        )


@pytest.fixture
def two_clinicians(app, client):
    """(owner's client, other clinician's client, the owner's session id and invite token)."""
    add_clinician(app)
    add_clinician(app, OTHER)
    owner = login(client)
    public_id, token = create_test(owner)
    other = login(app.test_client(), OTHER)
    return owner, other, public_id, token


def session_routes(app):
    return [(path, methods) for path, methods in rules(app) if "<public_id>" in path]


def patient_routes(app):
    return [(path, methods) for path, methods in rules(app) if "<patient_id>" in path]


def patient_id_of(app, public_id):
    from webapp.extensions import db
    from webapp.models import TestSession

    with app.app_context():
        return db.session.scalar(select(TestSession).where(TestSession.public_id == public_id)).patient.public_id


def test_another_practices_patient_routes_are_404_and_change_nothing(app, two_clinicians):
    owner, other, public_id, _ = two_clinicians
    patient_id = patient_id_of(app, public_id)
    routes = patient_routes(app)
    assert routes
    before = db_rows(app)
    for path, methods in routes:
        url = path.replace("<patient_id>", patient_id)
        for method in methods:
            response = other.open(url, method=method, data={"patient_name": "Changed", "patient_query": "Patient"})
            assert response.status_code == 404, (method, url, response.status_code)
    # Nor does the other practice see the test, find the patient, list them, or choose them for a test.
    assert public_id.encode() not in other.get("/").data
    assert b"Patient A" not in other.get("/exports/results.csv").data
    assert public_id.encode() not in other.get("/audit").data
    assert b"Patient A" not in other.post("/patients", data={"patient_query": "Patient"}).data
    assert b"Patient A" not in other.get("/patients").data
    found = other.post("/sessions/new", data={"patient_query": "Patient A", "find": "Find"}).data
    assert patient_id.encode() not in found and b"data-no-match" in found
    refused = other.post("/sessions/new", data={**NEW_TEST, "patient_reference": "", "patient_id": patient_id})
    assert refused.status_code == 200 and b"not one of the practice" in refused.data
    assert db_rows(app) == before
    for path, methods in routes:
        if "GET" in methods:
            assert owner.get(path.replace("<patient_id>", patient_id)).status_code == 200, path


def test_a_colleague_of_the_practice_reaches_every_session_and_patient_route(app, two_clinicians):
    owner, _, public_id, _ = two_clinicians
    colleague = add_colleague(app, owner)
    patient_id = patient_id_of(app, public_id)
    for path, methods in session_routes(app) + patient_routes(app):
        if "GET" in methods:
            url = path.replace("<public_id>", public_id).replace("<patient_id>", patient_id)
            assert colleague.get(url).status_code == 200, url
    assert public_id.encode() in colleague.get("/").data  # on the colleague's dashboard
    assert b"Patient A" in colleague.get("/exports/results.csv").data


def test_only_the_practices_admin_invites_and_withdraws(app, two_clinicians):
    owner, other, _, _ = two_clinicians
    colleague = add_colleague(app, owner)
    owner.post("/practice/invites", data={"email": "third@example.org"})
    from webapp.extensions import db
    from webapp.models import PracticeInvite

    with app.app_context():
        invite_id = db.session.scalar(select(PracticeInvite.id).where(PracticeInvite.email == "third@example.org"))
    before = db_rows(app)
    assert colleague.post("/practice/invites", data={"email": "fourth@example.org"}).status_code == 403
    assert colleague.post(f"/practice/invites/{invite_id}/withdraw").status_code == 403
    assert other.post(f"/practice/invites/{invite_id}/withdraw").status_code == 404  # another practice's admin
    assert colleague.post("/practice", data={"name": "Renamed"}).status_code == 403
    assert colleague.post("/practice/notation", data={"notation": "20ft"}).status_code == 403
    from webapp.models import Clinician

    with app.app_context():
        ids = {c.email: c.id for c in db.session.scalars(select(Clinician))}
    for who in ids.values():  # the colleague removes nobody; another practice's admin finds nobody here
        assert colleague.post(f"/practice/members/{who}/remove").status_code == 403
    assert other.post(f"/practice/members/{ids[COLLEAGUE]}/remove").status_code == 404
    assert db_rows(app) == before
    assert owner.post(f"/practice/invites/{invite_id}/withdraw").status_code == 302


def test_another_clinicians_session_routes_are_404_and_change_nothing(app, two_clinicians):
    owner, other, public_id, _ = two_clinicians
    routes = session_routes(app)
    assert len(routes) >= 10
    before = db_rows(app)
    for path, methods in routes:
        url = path.replace("<public_id>", public_id)
        for method in methods:
            response = other.open(url, method=method, data={"confirm": "yes"})
            assert response.status_code == 404, (method, url, response.status_code)
    assert db_rows(app) == before
    # The owner reaches every GET one (so the 404s above are about identity, not a broken route).
    for path, methods in routes:
        if "GET" in methods:
            url = path.replace("<public_id>", public_id)
            assert owner.get(url).status_code == 200, url


def test_without_sign_in_every_clinician_route_sends_to_the_login_and_changes_nothing(app, two_clinicians):
    _, _, public_id, _ = two_clinicians
    anonymous = app.test_client()
    before = db_rows(app)
    patient_id = patient_id_of(app, public_id)
    for path, methods in rules(app):
        if path in PUBLIC | BY_TOKEN | BY_CREDENTIAL:
            continue
        url = (
            path.replace("<public_id>", public_id)
            .replace("<patient_id>", patient_id)
            .replace("<int:invite_id>", "1")
            .replace("<int:clinician_id>", "1")
        )
        for method in methods:
            response = anonymous.open(url, method=method, data={"confirm": "yes"})
            assert response.status_code == 302 and "/login" in response.headers["Location"], (method, url)
    assert db_rows(app) == before


def test_a_session_id_that_does_not_exist_is_404(app, two_clinicians):
    owner, _, _, _ = two_clinicians
    for path, methods in session_routes(app):
        for method in methods:
            assert owner.open(path.replace("<public_id>", "nope"), method=method).status_code == 404, path


def test_token_routes_refuse_a_wrong_token_and_each_token_opens_only_its_own_page(app, two_clinicians):
    owner, _, _, token = two_clinicians
    _, token_b = create_test(owner, patient_reference="Patient B")
    pad_token = pad_token_from_state(display(app, token).last("state"))
    before = db_rows(app)
    client = app.test_client()
    assert client.get("/t/" + "x" * 43).status_code == 404
    assert client.get(f"/pad/{token}").status_code == 404  # an invite is not a pad token
    assert client.get(f"/t/{pad_token}").status_code == 404  # nor the reverse
    assert db_rows(app) == before  # refused links change nothing
    assert client.get(f"/t/{token_b}").status_code == 303
    page = client.get("/test")
    assert page.status_code == 200 and token.encode() not in page.data and token_b.encode() not in page.data
    # B's credential connects B's display, never A's.
    assert pad_token_from_state(display(app, token_b, browser=client).last("state")) != pad_token


# ---- socket events ---------------------------------------------------------------------------------

PATIENT_EVENTS = {
    ev.CONSENT: {},
    ev.CALIBRATION: CALIBRATION,
    ev.READY: {},
    ev.DRAWN: {
        "trial_id": "x",
        "seq": 1,
        "ink_device_px": [[10.0, 10.0]],
        "device_pixel_ratio": 1.0,
        "visual_viewport_scale": 1.0,
    },
    ev.ANSWER: {"trial_id": "x", "seq": 1, "responses": ["C"], "response_time_ms": 500},
    ev.PAGE_EVENT: {"kind": "hidden", "detail": {}},
    ev.PRACTICE: {},
    ev.PRACTICE_ANSWER: {"practice_id": 1, "response": "C"},
    ev.STOP: {},
    ev.PAD_CODE: {},
    ev.HELPER: {"on": True},
    ev.LANGUAGE: {"language": "es"},
    ev.DISTANCE_GUARD: {"kind": "off", "reason": "declined"},
    ev.CALL_JOIN: {"camera": "allowed", "audio": True, "video": True},
    ev.CALL_REPLY: {"peer_id": "p1", "candidate": {"candidate": ""}},
    ev.CALL_DEVICE_MEDIA: {"audio": False, "video": True},
    ev.DISTANCE_GUARD: {"kind": "sample", "eye_spacing_px": 80.0},
}
CLINICIAN_EVENTS = {
    ev.WATCH: {},
    ev.PAUSE: {},
    ev.RESUME: {},
    ev.REQUEST_RECALIBRATION: {},
    ev.NEXT_EYE: {},
    ev.END: {},
    ev.NOTE: {"text": "x"},
    ev.PRESENT: {"logmar": 0.3},
    ev.SCORE: {"trial_id": "x", "seq": 1, "responses": ["C"]},
    ev.SHARE_RESULTS: {"show": True},
    ev.CALL_START: {"video": True},
    ev.CALL_END: {},
    ev.CALL_SIGNAL: {"device": "display", "peer_id": "p1", "candidate": {"candidate": ""}},
    ev.CALL_MEDIA: {"audio": True, "video": False, "hidden": False},
    ev.MOVE_CLOSER: {"distance_mm": 1000},
    ev.CATEGORY: {"eye": "right", "code": "CF", "distance_mm": 1000},
}


def test_every_socket_event_is_tried_here(app):
    assert registered_events(ev.PATIENT_NS) == set(PATIENT_EVENTS), "a new /patient event: add it above"
    assert registered_events(ev.CLINICIAN_NS) == set(CLINICIAN_EVENTS), "a new /clinician event: add it above"


@pytest.mark.parametrize("event", sorted(CLINICIAN_EVENTS))
def test_another_clinician_can_neither_watch_nor_steer(app, two_clinicians, event):
    owner, other, public_id, token = two_clinicians
    screen = display(app, token)
    start_testing(screen)
    screen.received()
    spy = watcher(app, other)
    before = db_rows(app)
    ack = spy.send(event, {"session_id": public_id, **CLINICIAN_EVENTS[event]})
    assert ack["ok"] is False and ack["error"] == "forbidden"
    ack = spy.send(event, {"session_id": "no-such-session", **CLINICIAN_EVENTS[event]})
    assert ack["ok"] is False and ack["error"] == "not_found"
    assert db_rows(app) == before
    assert spy.received() == [] and screen.received() == []  # not joined to the room; nothing reached the patient


@pytest.mark.parametrize("event", sorted(CLINICIAN_EVENTS))
def test_a_colleague_of_the_practice_watches_and_steers(app, two_clinicians, event):
    owner, _, public_id, token = two_clinicians
    colleague = add_colleague(app, owner)
    screen = display(app, token)
    start_testing(screen)
    live = watcher(app, colleague)
    ack = live.send(event, {"session_id": public_id, **CLINICIAN_EVENTS[event]})
    # Not refused for who sent it (the event may still be refused for the test's state or payload).
    assert ack.get("error") not in ("forbidden", "not_found"), ack


def test_a_socket_without_sign_in_cannot_connect_to_the_clinician_namespace(app, two_clinicians):
    anonymous = watcher(app, app.test_client())
    assert not anonymous.connected


def test_a_patient_socket_cannot_use_clinician_events(app, two_clinicians):
    _, _, public_id, token = two_clinicians
    screen = display(app, token)
    start_testing(screen)
    before = db_rows(app)
    for event, data in CLINICIAN_EVENTS.items():
        # Sent on /patient there is no such handler; the patient's cookie-less client cannot reach /clinician.
        assert screen.client.emit(event, {"session_id": public_id, **data}, namespace="/patient", callback=True) is None
    assert db_rows(app) == before
    assert not watcher(app, app.test_client()).connected


@pytest.mark.parametrize("event", sorted(PATIENT_EVENTS))
def test_a_patients_events_reach_only_their_own_session(app, two_clinicians, event):
    owner, _, public_id_a, token_a = two_clinicians
    public_id_b, token_b = create_test(owner, patient_reference="Patient B")
    screen_a = display(app, token_a)
    stimulus_a = start_testing(screen_a)
    screen_b = display(app, token_b)
    watch_a = watcher(app, owner)
    assert watch_a.send(ev.WATCH, {"session_id": public_id_a})["ok"]
    screen_a.received(), watch_a.received()
    rows_a = session_rows(app, public_id_a)
    # B names A's session and A's trial: the server ties B's socket to B's session only.
    data = {**PATIENT_EVENTS[event], "session_id": public_id_a}
    if "trial_id" in data:
        data.update(trial_id=stimulus_a["trial_id"])
    if "seq" in data:
        data.update(seq=stimulus_a["seq"])
    if "responses" in data:
        data.update(responses=list(stimulus_a["optotypes"]))
    screen_b.send(event, data)
    assert session_rows(app, public_id_a) == rows_a
    assert screen_a.received() == [] and watch_a.received() == []


def test_a_pad_token_opens_only_its_own_session(app, two_clinicians):
    owner, _, public_id_a, token_a = two_clinicians
    _, token_b = create_test(owner, patient_reference="Patient B")
    pad_b = pad_token_from_state(display(app, token_b).last("state"))
    screen_a = display(app, token_a)
    stimulus = start_testing(screen_a)
    screen_a.received()
    rows_a = session_rows(app, public_id_a)
    phone_b = pad(app, pad_b)
    ack = phone_b.send(
        ev.ANSWER,
        {
            "trial_id": stimulus["trial_id"],
            "seq": stimulus["seq"],
            "responses": [None] * len(stimulus["optotypes"]),
            "response_time_ms": 400,
        },
    )
    assert ack["ok"] is False
    assert session_rows(app, public_id_a) == rows_a
    assert screen_a.received() == []


def test_wrong_missing_and_malformed_tokens_cannot_connect(app, two_clinicians):
    _, _, _, token = two_clinicians
    from tests.support.app import SocketUser

    before = db_rows(app)
    for auth in (
        None,
        {},
        {"token": token},
        {"token": token, "device": "clinician"},
        {"token": "x" * 43, "device": "display"},
        {"token": 12345678901, "device": "display"},
        {"token": token * 3, "device": "display"},
        {"token": token, "device": "pad"},
    ):
        assert not SocketUser(app, "/patient", auth=auth).connected, auth
    assert db_rows(app) == before


def session_rows(app, public_id):
    """The rows of one session and everything under it."""
    from webapp.extensions import db
    from webapp.models import TestSession

    with app.app_context():
        db.session.remove()
        with db.engine.connect() as connection:
            session_id = connection.execute(
                text("SELECT id FROM test_session WHERE public_id = :p"), {"p": public_id}
            ).scalar_one()
            q = {
                "session": "SELECT * FROM test_session WHERE id = :s",
                "eyes": "SELECT * FROM eye_test WHERE session_id = :s",
                "trials": "SELECT t.* FROM trial t JOIN eye_test e ON t.eye_test_id = e.id WHERE e.session_id = :s",
                "calibrations": "SELECT * FROM calibration WHERE session_id = :s",
                "events": "SELECT * FROM session_event WHERE session_id = :s",
            }
            assert TestSession.__tablename__ == "test_session"
            return {
                k: sorted(map(tuple, connection.execute(text(v), {"s": session_id})), key=repr) for k, v in q.items()
            }
