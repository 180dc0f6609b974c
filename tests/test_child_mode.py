"""A child's test (issue 16, "Children"): chosen on the new-test form (or HOTV letters), a practice
round the server drives that teaches matching each letter once, and an adult helper who taps on the
phone what the child points to, stored with the test and shown to the clinician. Flask-SocketIO's
test client on a real database."""

from sqlalchemy import select

from tests.support.app import CALIBRATION, create_test, display, pad, pad_token_from_state, watcher
from webapp.extensions import db
from webapp.live import commands
from webapp.models import SessionEvent, TestSession

HOTV = {"H", "O", "T", "V"}


def _stored(app, public_id):
    with app.app_context():
        db.session.remove()
        session = db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))
        events = db.session.scalars(select(SessionEvent).where(SessionEvent.session_id == session.id)).all()
        return (
            session.config,
            [(e.kind, e.device, e.detail) for e in events],
            [len(eye.trials) for eye in session.eye_tests],
        )


def _child_at_the_mark(app, clinician_client, **form):
    public_id, token = create_test(clinician_client, eyes="right", procedure="adaptive", **form)
    screen = display(app, token)
    phone = pad(app, pad_token_from_state(screen.last("state")))
    watch = watcher(app, clinician_client)
    assert watch.send("watch", {"session_id": public_id})["ok"]
    assert screen.send("consent")["ok"] and screen.send("calibration", CALIBRATION)["ok"]
    return public_id, screen, phone, watch


def test_child_on_the_form_means_hotv_and_a_childs_pad(app, clinician_client):
    public_id, screen, phone, watch = _child_at_the_mark(app, clinician_client, child="y")
    config, _, _ = _stored(app, public_id)
    assert config["child"] is True and config["optotype_set"] == "hotv"
    state = phone.last("state")
    assert state["child"] is True and state["helper"] is False and state["optotype_set"] == "hotv"
    # HOTV chosen without "child" is a child's pad too (the one rule: webapp/live/payloads.py, child_mode).
    other_id, token = create_test(clinician_client, optotype_set="hotv", patient_reference="Patient B")
    assert display(app, token).last("state")["child"] is True
    # An adult's test is not.
    _, token = create_test(clinician_client, patient_reference="Patient C")
    assert display(app, token).last("state")["child"] is False


def test_child_with_another_optotype_is_refused_with_what_to_do(app, clinician_client):
    before = len(clinician_client.get("/").get_data(as_text=True))
    response = clinician_client.post(
        "/sessions/new",
        data={
            "patient_reference": "Patient D",
            "eyes": "right",
            "optotype_set": "tumbling_e",
            "child": "y",
            "procedure": "adaptive",
            "chart_presentation": "row",
            "correction": "none",
            "setup": "3m",
            "answer_mode": "patient",
        },
    )
    assert response.status_code == 200
    assert "choose HOTV letters, or untick Child" in response.get_data(as_text=True)
    assert len(clinician_client.get("/").get_data(as_text=True)) == before  # no test made


def test_the_practice_round_teaches_each_letter_once_and_is_not_scored(app, clinician_client, monkeypatch):
    # The server's pick, made deterministic (the first letter it may show), so that a round that
    # showed a letter twice fails every time rather than by chance.
    monkeypatch.setattr(commands.secrets, "choice", lambda options: options[0])
    public_id, screen, phone, watch = _child_at_the_mark(app, clinician_client, child="y")
    matched = []
    # A miss first: encouraging words, the letter named, all four still to match.
    phone.send("practice")
    shown = screen.last("practice")
    wrong = next(symbol for symbol in sorted(HOTV) if symbol != shown["symbol"])
    result = phone.send("practice_answer", {"practice_id": shown["practice_id"], "response": wrong})
    assert result["correct"] is False and result["practice_left"] == 4
    assert result["words"]["title"] == f"Good try! That one was the {shown['symbol']}."
    assert screen.last("practice_result")["words"] == result["words"]  # the display says the same
    previous = shown["symbol"]
    for left in (3, 2, 1, 0):
        phone.send("practice")
        shown = screen.last("practice")
        request = phone.last("practice_request")
        assert "symbol" not in request and set(request["symbols"]) == HOTV
        assert shown["symbol"] not in matched and shown["symbol"] != previous  # a new letter each time
        result = phone.send("practice_answer", {"practice_id": shown["practice_id"], "response": shown["symbol"]})
        assert result["correct"] is True and result["practice_left"] == left
        matched.append(shown["symbol"])
        previous = shown["symbol"]
    assert set(matched) == HOTV
    assert result["words"] == {"title": "Well done! You matched them all.", "hint": "Press Start when you are ready."}
    # Asked again: a new round of four.
    phone.send("practice")
    shown = screen.last("practice")
    assert (
        phone.send("practice_answer", {"practice_id": shown["practice_id"], "response": shown["symbol"]})[
            "practice_left"
        ]
        == 3
    )
    # Never a trial: the eye starts with none stored, and the clinician saw no answer.
    assert phone.send("ready")["ok"]
    assert _stored(app, public_id)[2] == [0]
    assert watch.last("answer_scored") is None


def test_an_adult_helper_taps_stored_with_the_test_and_shown_to_the_clinician(app, clinician_client):
    public_id, screen, phone, watch = _child_at_the_mark(app, clinician_client, child="y")
    ack = phone.send("helper", {"on": True})
    assert ack == {"ok": True, "helper": True}
    told = watch.last("helper")
    assert told["helper"] is True and "adult helper taps" in told["event"]["text"]
    assert screen.last("helper") == {"helper": True}
    assert phone.send("helper", {"on": True}) == {"ok": True, "helper": True}  # a repeat stores nothing
    # Stored: a reloaded live view and a reconnected phone know it.
    assert watch.send("watch", {"session_id": public_id})["snapshot"]["helper"] is True
    phone.disconnect()
    phone = pad(app, None, browser=phone.client.flask_test_client)
    assert phone.last("state")["helper"] is True
    # Answers are still the pad's, scored by the server.
    assert phone.send("ready")["ok"]
    request = phone.last("answer_request")
    ack = phone.send("answer", {"trial_id": request["trial_id"], "seq": request["seq"], "responses": ["H"]})
    assert ack["ok"] and watch.last("answer_scored")["trial"]["scored_by"] == "patient"
    assert phone.send("helper", {"on": False})["helper"] is False
    _, events, _ = _stored(app, public_id)
    assert [e for e in events if e[0] == "helper"] == [
        ("helper", "pad", {"on": True}),
        ("helper", "pad", {"on": False}),
    ]
    page = clinician_client.get(f"/sessions/{public_id}/result").get_data(as_text=True)
    assert "who taps the answers: An adult helper taps the answers on the phone" in page  # in the record
    # Refused, saying what to do: from the display, with a bad payload, once the test is closed.
    assert screen.send("helper", {"on": True})["error"] == "wrong_device"
    assert phone.send("helper", {"on": "yes"})["error"] == "invalid_payload"
    assert phone.send("stop")["ok"]
    closed = phone.send("helper", {"on": True})
    assert closed["error"] == "session_closed" and closed["message"]


def test_an_adults_test_has_no_helper(app, clinician_client):
    public_id, token = create_test(clinician_client)
    screen = display(app, token)
    phone = pad(app, pad_token_from_state(screen.last("state")))
    refused = phone.send("helper", {"on": True})
    assert refused["error"] == "wrong_phase" and "child" in refused["message"]
    assert not [e for e in _stored(app, public_id)[1] if e[0] == "helper"]


def test_csv_and_fhir_carry_child_mode_and_whether_a_helper_tapped(app, clinician_client):
    """A child's test, right eye answered with a helper tapping part of the way, left eye by the child
    alone; an adult's test beside it: the CSV's `child_mode`/`helper_mode` and the FHIR components
    say which, per eye."""
    import csv
    import io

    from tests.support.reports import answer_until_done, reader

    public_id, token = create_test(clinician_client, eyes="right_left", procedure="adaptive", child="y")
    screen = display(app, token)
    phone = pad(app, pad_token_from_state(screen.last("state")))
    assert screen.send("consent")["ok"] and screen.send("calibration", CALIBRATION)["ok"]
    assert phone.send("ready")["ok"]
    stimulus = screen.last("stimulus")
    respond = reader(0.3)
    for _ in range(3):  # the child taps the first answers, then an adult helps
        assert phone.send(
            "answer", {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": respond(stimulus)}
        )["ok"]
        stimulus = screen.last("stimulus")
    assert phone.send("helper", {"on": True})["ok"]
    answer_until_done(screen, stimulus, respond)
    assert phone.send("helper", {"on": False})["ok"]
    assert phone.send("ready")["ok"]
    answer_until_done(screen, screen.last("stimulus"), respond)
    adult_id, adult_token = create_test(clinician_client, eyes="right", procedure="adaptive")
    from tests.support.app import start_testing

    adult = display(app, adult_token)
    answer_until_done(adult, start_testing(adult), respond)

    def rows(session_id):
        text = clinician_client.get(f"/sessions/{session_id}/results.csv").get_data(as_text=True)
        return [(r["eye"], r["child_mode"], r["helper_mode"]) for r in csv.DictReader(io.StringIO(text))]

    assert rows(public_id) == [("right", "true", "true"), ("left", "true", "false")]
    assert rows(adult_id) == [("right", "false", "")]

    def components(session_id):
        bundle = clinician_client.get(f"/sessions/{session_id}/fhir.json").get_json()
        return [
            {
                c["code"]["text"]: c.get("valueBoolean")
                for c in e["resource"]["component"]
                if "child" in c["code"]["text"].lower()
            }
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "Observation"
        ]

    assert components(public_id) == [
        {
            "Child's test (HOTV letters, matched on the phone's buttons)": True,
            "Adult helper tapped answers the child pointed to": True,
        },
        {
            "Child's test (HOTV letters, matched on the phone's buttons)": True,
            "Adult helper tapped answers the child pointed to": False,
        },
    ]
    assert components(adult_id) == [{}]

    # The printable report, the PDF and the result page say it too, in the same words; an adult's do not.
    import re

    from pypdf import PdfReader

    words = (
        "A child's test: HOTV letters, matched on the phone; an adult helper tapped answers the child "
        "pointed to for: Right eye (OD)."
    )
    for url in (f"/sessions/{public_id}/report", f"/sessions/{public_id}/result"):
        page = clinician_client.get(url).get_data(as_text=True)
        assert words in page.replace("&#39;", "'"), url
    pdf = PdfReader(io.BytesIO(clinician_client.get(f"/sessions/{public_id}/report.pdf").data))
    assert words in re.sub(r"\s+", " ", pdf.pages[0].extract_text())
    for url in (f"/sessions/{adult_id}/report", f"/sessions/{adult_id}/result"):
        assert "child&#39;s test" not in clinician_client.get(url).get_data(as_text=True).lower(), url


def test_a_childs_practice_letter_is_drawn_large(app, clinician_client):
    """A child's practice teaches matching: its letter is a logMAR-1.3 letter at the viewing distance
    (up to a quarter of the window), not the adult's logMAR-1.0 letter capped at 15% of the window."""
    from calibration.size import optotype_height_css_px

    heights = {}
    for kind, form in (("child", {"child": "y"}), ("adult", {})):
        public_id, screen, phone, watch = _child_at_the_mark(app, clinician_client, **form)
        phone.send("practice")
        heights[kind] = screen.last("practice")["height_css_px"]
    window_px = CALIBRATION["viewport_css_px"][1]
    assert heights["adult"] == round(min(optotype_height_css_px(1.0, 3000, 4.0), 0.15 * window_px), 1)
    assert heights["child"] == round(min(optotype_height_css_px(1.3, 3000, 4.0), 0.25 * window_px), 1)
    assert heights["child"] >= 1.6 * heights["adult"], heights
