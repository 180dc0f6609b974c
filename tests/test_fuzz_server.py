"""Fuzz against the real server (`python server.py`, eventlet): random and malformed payloads to
every event of both namespaces (wrong types, missing and unknown fields, out-of-range values,
several arguments, binary, events that do not exist), mixed with valid answers. Every event gets
an ack: ok, or an error code other than `server_error` with a message; the server keeps answering;
and the database holds exactly the answers that were acknowledged as accepted, once each.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from devtools.patient_links import invite_headers, pad_headers
from tests.support.clients import (
    CALIBRATION,
    EMAIL,
    Client,
    answer_of,
    cookie_header,
    first_clinician,
    new_test,
    pad_token,
    start,
    watcher,
)
from tests.support.server import ServerProcess
from webapp import events as ev
from webapp.live import phases
from webapp.validation import SCHEMAS

# The phase table's patient commands, then the events outside it.
PATIENT_EVENTS = [*phases.PATIENT_COMMANDS, ev.PAD_CODE, ev.HELPER, ev.CALL_JOIN, ev.CALL_REPLY, ev.CALL_DEVICE_MEDIA]
CLINICIAN_EVENTS = sorted(set(SCHEMAS) - set(PATIENT_EVENTS))

# Strings that once crashed a handler: a trial index past SQLite's 64-bit integers, non-ASCII digits.
KNOWN_BAD_STRINGS = ["right-99999999999999999999999", "left-" + "9" * 33, "right-\u0663", "both--1", "right-0"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**15), 10**15)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.sampled_from(KNOWN_BAD_STRINGS),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=15,
)


def payloads(event: str, public_id: str):
    """Arbitrary values; objects made of the event's own field names (so they reach the checks);
    for the clinician, those with the real session id; several arguments; bytes."""
    fields = sorted(SCHEMAS[event]) or ["x"]
    on_fields = st.dictionaries(st.sampled_from(fields), json_values, max_size=len(fields) + 1)
    shapes = [json_values, on_fields, st.binary(max_size=64), st.tuples(json_values, json_values)]
    if "session_id" in SCHEMAS[event] and event != ev.END:  # ending the test would stop the answers
        shapes.append(on_fields.map(lambda data: {**data, "session_id": public_id}))
    if "trial_id" in SCHEMAS[event]:  # valid but for the trial id, so it reaches the look-up of the trial
        shapes.append(
            st.fixed_dictionaries(
                {
                    "trial_id": st.sampled_from(KNOWN_BAD_STRINGS),
                    "seq": st.integers(1, 100),
                    "responses": st.lists(
                        st.sampled_from(["C", "D", "H", "K", "N", "O", "R", "S", "V", "Z", None]),
                        min_size=1,
                        max_size=5,
                    ),
                    "height_css_px": st.floats(1, 500),
                    "device_pixel_ratio": st.just(2.0),
                }
            ).map(
                lambda data: (
                    {k: v for k, v in data.items() if k in SCHEMAS[event]}
                    | ({"session_id": public_id} if "session_id" in SCHEMAS[event] else {})
                )
            )
        )
    if event == ev.PRESENT:  # a valid size, so it reaches the test's state (e.g. a voided calibration)
        shapes.append(st.builds(lambda logmar: {"session_id": public_id, "logmar": logmar}, st.floats(-0.3, 1.0)))
    if event == ev.STOP:  # the one valid stop ({}) would end the test, and the answers with it
        return st.one_of(*shapes).filter(lambda payload: payload != {})
    return st.one_of(*shapes)


def test_every_registered_socket_event_has_a_schema_and_is_fuzzed_here(app):
    from webapp import socketio

    handled = {ns: set(events) - {"connect", "disconnect"} for ns, events in socketio.server.handlers.items()}
    assert handled["/patient"] == set(PATIENT_EVENTS)
    assert handled["/clinician"] == set(CLINICIAN_EVENTS)
    assert set(SCHEMAS) == set(PATIENT_EVENTS) | set(CLINICIAN_EVENTS)


@pytest.fixture
def fuzz_server(tmp_path):
    server = ServerProcess(tmp_path).start()
    yield server
    server.stop()
    server.keep_log("fuzz-server.log")


def test_random_payloads_to_every_event_never_break_the_server_or_the_stored_answers(fuzz_server):
    http = first_clinician(fuzz_server.base_url)
    public_id, token = new_test(http, fuzz_server.base_url, eyes="right_left", procedure="adaptive")
    watch = watcher(fuzz_server.base_url, cookie_header(http), public_id)
    screen = Client("/patient", ("state", "stimulus", "recalibrate", "error")).connect(
        fuzz_server.base_url, auth={"device": "display"}, headers=invite_headers(fuzz_server.base_url, token)
    )
    start(screen)
    phone = Client("/patient", ("state", "answer_request")).connect(
        fuzz_server.base_url,
        auth={"device": "pad"},
        headers=pad_headers(fuzz_server.base_url, pad_token(screen.wait("state"))),
    )
    accepted: list[tuple[str, int, list]] = []  # (trial_id, seq, responses) acknowledged as new
    sent = {"events": 0, "answers": 0}

    def check(ack) -> None:
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
        if not ack["ok"]:
            assert ack["error"] != "server_error" and isinstance(ack["message"], str) and ack["message"], ack

    def answer_current() -> dict | None:
        """The patient answers the trial on screen (when there is one): a valid answer."""
        stimulus = screen.payloads("stimulus")[-1] if screen.count("stimulus") else None
        if stimulus is None:
            return None
        message = answer_of(stimulus)
        ack = screen.call("answer", message)
        check(ack)
        sent["answers"] += 1
        if ack["ok"] and not ack["duplicate"]:
            accepted.append((message["trial_id"], message["seq"], message["responses"]))
        return ack

    def recover() -> None:
        """Whatever the fuzz did (a pause, a voided calibration): calibrate and say ready again."""
        for event, data in (("calibration", CALIBRATION), ("ready", {})):
            check(screen.call(event, data))
        check(watch.call("resume", {"session_id": public_id}))

    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    @given(data=st.data())
    def one_step(data):
        """One random event, then the patient's valid answer (after a recovery if it was refused)."""
        # The server's state carries over from one example to the next, so a failure is reported as
        # it happened (no shrinking: a smaller example would run against another state).
        if data.draw(st.sampled_from([False] * 5 + [True])):
            # Sometimes the calibration is void first, so the next event meets that state.
            check(watch.call("request_recalibration", {"session_id": public_id}))
        who = data.draw(st.sampled_from(["display", "pad", "clinician", "unknown"]))
        if who == "unknown":  # no such event: ignored, and the connection stays usable
            client = data.draw(st.sampled_from([screen, watch]))
            client.client.emit(
                data.draw(st.sampled_from(["nope", "state", "stimulus", "connect_error"])),
                data.draw(json_values),
                namespace=client.namespace,
            )
        else:
            client = {"display": screen, "pad": phone, "clinician": watch}[who]
            event = data.draw(st.sampled_from(CLINICIAN_EVENTS if who == "clinician" else PATIENT_EVENTS))
            payload = data.draw(payloads(event, public_id))
            sent["events"] += 1
            ack = client.client.call(event, payload, namespace=client.namespace, timeout=5)
            check(ack)
            if event == ev.ANSWER and ack["ok"] and not ack["duplicate"]:  # a random payload that was valid
                accepted.append((payload["trial_id"], payload["seq"], payload["responses"]))
        ack = answer_current()
        if ack is not None and not ack["ok"] and ack["error"] != "session_closed":
            recover()
            answer_current()

    try:
        one_step()
        # Still answering, on both namespaces, and still able to go on with the test.
        recover()
        answer_current()
        assert watch.call("watch", {"session_id": public_id})["ok"]
        stored = [
            (f"{eye}-{index}", seq, responses) for eye, index, seq, responses in fuzz_server.stored_trials(public_id)
        ]
        assert sorted(stored, key=lambda t: t[1]) == sorted(accepted, key=lambda t: t[1])
        assert sent["events"] > 60 and len(accepted) >= 5, (sent, len(accepted))
        snapshot = watch.call("watch", {"session_id": public_id})["snapshot"]
        assert sum(len(eye["trials"]) for eye in snapshot["eyes"]) == len(accepted)
        # The clinician made by first_clinician is still signed in, and the session is theirs.
        dashboard = http.get(fuzz_server.base_url + "/")
        assert dashboard.ok and f"Sign out ({EMAIL})" in dashboard.text and public_id in dashboard.text
    finally:
        for client in (screen, phone, watch):
            client.disconnect()
        http.close()
