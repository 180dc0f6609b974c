"""The phone at the patient's mark (issue 13): pairing by short code, and what the pad may do there
(start, practice letter, continue, "cannot see", stop). Flask-SocketIO's test client on a real database."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from calibration.size import optotype_height_css_px, readable_text_css_px
from tests.support.app import CALIBRATION, create_test, display, make_app, pad, pad_token_from_state, watcher
from webapp import pairing
from webapp.extensions import db
from webapp.models import TestSession, utcnow


def _code(screen):
    ack = screen.send("pad_code")
    assert ack["ok"] and len(ack["code"]) == pairing.CODE_DIGITS and ack["expires_in_s"] == 600, ack
    assert ack["code_text"].replace(" ", "") == ack["code"]
    return ack["code"]


def _phone_with_code(app, code, spaced=False):
    phone = app.test_client()
    typed = pairing.display_text(code) if spaced else code
    return phone, phone.post("/pad", data={"code": typed})


def test_a_typed_code_pairs_the_phone_once_and_the_display_gets_a_new_pad_link(app, clinician_client):
    _, token = create_test(clinician_client)
    screen = display(app, token)
    first_state = screen.last("state")
    old_link = pad_token_from_state(first_state)
    assert first_state["pad_short_url"] == "localhost/pad" and first_state["pad_paired"] is False
    code = _code(screen)
    phone, response = _phone_with_code(app, code, spaced=True)  # typed as shown: "1234 5678"
    assert response.status_code == 303 and response.headers["Location"] == "/pad"
    cookie = response.headers["Set-Cookie"]
    assert "visus_pad=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert phone.get("/pad").status_code == 200
    state = screen.last("state")
    assert pad_token_from_state(state) != old_link and state["pad_paired"] is True
    phone_pad = pad(app, None, browser=phone)
    assert phone_pad.connected
    # The code worked once: another phone typing it gets the form again, with what to do.
    _, again = _phone_with_code(app, code)
    assert again.status_code == 400 and "That code does not work" in again.get_data(as_text=True)


def test_the_phone_page_without_pairing_asks_for_the_code(client):
    page = client.get("/pad")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Type the code shown on your test screen" in text and "data-pair-form" in text
    for typed in ("12", "abcdefgh", "1" * 30):
        refused = client.post("/pad", data={"code": typed})
        assert refused.status_code == 400 and "Type the 8 digits" in refused.get_data(as_text=True)


def test_a_code_expires_and_a_new_one_replaces_the_old(app, clinician_client):
    public_id, token = create_test(clinician_client)
    screen = display(app, token)
    first = _code(screen)
    second = _code(screen)
    assert first != second
    assert _phone_with_code(app, first)[1].status_code == 400  # replaced by the newer code
    with app.app_context():  # ten minutes later
        session = db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))
        session.pad_code_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert _phone_with_code(app, second)[1].status_code == 400


def test_a_code_stops_working_once_the_phone_is_connected(app, clinician_client):
    _, token = create_test(clinician_client)
    screen = display(app, token)
    phone_pad = pad(app, pad_token_from_state(screen.last("state")))
    assert phone_pad.connected
    code = _code(screen)
    assert pad(app, None, browser=app.test_client()).connected is False
    phone_pad.disconnect()
    code = _code(screen)  # the display asks again while the phone is away
    again = pad(app, pad_token_from_state(screen.last("state")))  # the phone back by its QR code
    assert again.connected
    assert _phone_with_code(app, code)[1].status_code == 400


@pytest.fixture
def strict_app(db_path):
    return make_app(db_path, PAD_CODE_ADDRESS_LIMIT="3 per minute", PAD_CODE_TOTAL_LIMIT="6 per hour")


def test_wrong_codes_are_limited_per_address_per_code_and_in_all(strict_app):
    from tests.support.app import add_clinician, login

    add_clinician(strict_app)
    _, token = create_test(login(strict_app.test_client()))
    screen = display(strict_app, token)
    code = _code(screen)
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    guesser = strict_app.test_client()
    statuses = [guesser.post("/pad", data={"code": wrong}).status_code for _ in range(4)]
    # The same wrong code: 3 an hour from anywhere (keyed by what is guessed); then 429.
    assert statuses == [400, 400, 400, 429], statuses
    # Another address, other codes: the address limit (3 a minute) holds; the right code too, over it.
    other = {"REMOTE_ADDR": "10.0.0.2"}
    assert guesser.post("/pad", data={"code": "00000001"}, environ_base=other).status_code == 400
    assert guesser.post("/pad", data={"code": "00000002"}, environ_base=other).status_code == 400
    assert guesser.post("/pad", data={"code": "00000003"}, environ_base=other).status_code == 400
    over = guesser.post("/pad", data={"code": code}, environ_base=other)
    assert over.status_code == 429 and over.headers["Retry-After"]
    assert "Scan the square code" in over.get_data(as_text=True)
    # In all: 6 failures an hour across every address; then a third address is refused even with the right code.
    assert guesser.post("/pad", data={"code": "00000004"}, environ_base={"REMOTE_ADDR": "10.0.0.3"}).status_code == 429
    assert guesser.post("/pad", data={"code": code}, environ_base={"REMOTE_ADDR": "10.0.0.4"}).status_code == 429


def test_the_pad_drives_everything_at_the_mark(app, clinician_client):
    public_id, token = create_test(clinician_client, eyes="right_left", procedure="adaptive")
    screen = display(app, token)
    phone = pad(app, pad_token_from_state(screen.last("state")))
    watch = watcher(app, clinician_client)
    assert watch.send("watch", {"session_id": public_id})["ok"]
    assert screen.send("consent")["ok"] and screen.send("calibration", CALIBRATION)["ok"]
    state = phone.last("state")
    screen_state = screen.last("state")
    assert state["phase"] == "ready" and {"ready", "practice", "stop"} <= set(state["actions"])
    # The display's words at the mark: a logMAR-1.0 capital at the measured distance.
    size = screen_state["mark_text_css_px"]
    expected = optotype_height_css_px(1.0, 3000, CALIBRATION["css_px_per_mm"]) / 0.7
    assert size == pytest.approx(expected, abs=0.1) and size == pytest.approx(
        readable_text_css_px(3000, CALIBRATION["css_px_per_mm"]), abs=0.1
    )
    # The practice letter: chosen by the server, drawn by the display, buttons on the pad.
    ack = phone.send("practice")
    assert ack["ok"]
    shown = screen.last("practice")
    request = phone.last("practice_request")
    assert shown["practice_id"] == request["practice_id"] == ack["practice_id"]
    assert "symbol" not in request and shown["symbol"] in request["symbols"]
    result = phone.send("practice_answer", {"practice_id": shown["practice_id"], "response": shown["symbol"]})
    assert result["ok"] and result["correct"] is True
    assert screen.last("practice_result")["correct"] is True
    stale = phone.send("practice_answer", {"practice_id": 99, "response": None})
    assert stale["error"] == "stale_trial"
    # Start from the phone; "I cannot see anything" is an answer of nulls, scored as not seen.
    assert phone.send("ready")["ok"]
    request = phone.last("answer_request")
    assert request is not None and phone.send("practice")["error"] == "wrong_phase"
    ack = phone.send(
        "answer", {"trial_id": request["trial_id"], "seq": request["seq"], "responses": [None] * request["count"]}
    )
    assert ack == {"ok": True, "accepted": True, "duplicate": False}
    scored = watch.last("answer_scored")
    assert scored["trial"]["correct"] == [False] * request["count"]
    # A double tap: the same answer again is counted once; an answer to the old trial after the next one is up is stale.
    again = phone.send(
        "answer", {"trial_id": request["trial_id"], "seq": request["seq"], "responses": [None] * request["count"]}
    )
    assert again["duplicate"] is True
    # Stop, from the phone (its page asks first): the test ends, results so far kept.
    assert phone.send("stop")["ok"]
    assert phone.last("state")["phase"] == "done" and screen.last("state")["phase"] == "done"
    assert watch.last("status")["status"] == "ended"
    assert phone.send("stop")["error"] == "session_closed"
