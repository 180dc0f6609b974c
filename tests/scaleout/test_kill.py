"""A process killed mid-test: the patient's display, connected through nginx, reconnects to the
other process, gets its state and goes on with the same trial; no acknowledged answer is lost and
the answer in flight at the kill counts exactly once (resent: accepted or duplicate)."""

import pytest
import requests

from devtools.patient_links import invite_headers
from tests.support.clients import CALIBRATION, clinician, cookie_header, display, first_clinician, new_test

pytestmark = pytest.mark.scaleout


def upstream_port(nginx) -> int:
    """The process nginx sends this client (127.0.0.1, ip_hash) to."""
    response = requests.get(nginx.base_url + "/healthz", timeout=5)
    assert response.ok
    return int(response.headers["X-Visus-Upstream"].rsplit(":", 1)[1])


def test_patient_continues_on_another_process_when_theirs_is_killed(deployment):
    processes = deployment.start(2)
    nginx = deployment.start_nginx()
    doomed = next(p for p in processes if p.port == upstream_port(nginx))
    survivor = next(p for p in processes if p is not doomed)

    http = first_clinician(nginx.base_url)
    public_id, token = new_test(http, nginx.base_url, eyes="right")
    watch = clinician().connect(survivor.base_url, headers={"Cookie": cookie_header(http)})
    # Long-polling first, then the WebSocket upgrade: both must stick to one process (ip_hash).
    screen = display(reconnection=True).connect(
        nginx.base_url,
        transports=("polling", "websocket"),
        auth={"device": "display"},
        headers=invite_headers(nginx.base_url, token),
    )
    acknowledged = []

    def answer(stimulus):
        message = {
            "trial_id": stimulus["trial_id"],
            "seq": stimulus["seq"],
            "responses": stimulus["optotypes"],
            "response_time_ms": 800,
        }
        ack = screen.call("answer", message)
        assert ack["ok"] and ack["accepted"], ack
        acknowledged.append((stimulus["trial_id"], stimulus["seq"]))
        return ack

    try:
        assert watch.call("watch", {"session_id": public_id})["ok"]
        assert screen.call("consent")["ok"] and screen.call("calibration", CALIBRATION)["ok"]
        assert screen.call("ready")["ok"]
        for seq in (1, 2, 3):
            answer(screen.wait("stimulus", match=lambda s: s["seq"] == seq))
        assert screen.client.transport() == "websocket"

        # An answer is on its way when the process dies: it may or may not have been committed.
        in_flight = screen.wait("stimulus", match=lambda s: s["seq"] == 4)
        before_kill = screen.mark()
        screen.emit(
            "answer",
            {
                "trial_id": in_flight["trial_id"],
                "seq": in_flight["seq"],
                "responses": in_flight["optotypes"],
                "response_time_ms": 800,
            },
        )
        doomed.kill()

        # The client reconnects through nginx, which now sends it to the survivor.
        screen.wait("connect", since=before_kill, timeout=30)
        state = screen.wait("state", since=before_kill)
        assert state["phase"] == "testing"
        assert upstream_port(nginx) == survivor.port
        current = state["current_stimulus"]
        assert current["seq"] in (4, 5)  # the trial in flight, or the next one if it was committed
        resent = answer(in_flight)  # the patient's screen resends its unacknowledged answer
        assert resent["duplicate"] == (current["seq"] == 5)

        while not screen.count("test_done"):
            stimulus = _next(screen, acknowledged[-1][1])
            if stimulus is None:
                break
            answer(stimulus)
            assert len(acknowledged) < 150, "the test did not finish"
        watch.wait("test_done")
        # The clinician's view, rebuilt from the database, has every answer.
        snapshot = watch.call("watch", {"session_id": public_id})["snapshot"]
        assert [(t["trial_id"], t["seq"]) for t in snapshot["eyes"][0]["trials"]] == acknowledged
    finally:
        screen.disconnect()
        watch.disconnect()

    stored = deployment.query(
        "SELECT e.eye || '-' || t.index, t.seq FROM trial t JOIN eye_test e ON e.id = t.eye_test_id ORDER BY t.seq"
    )
    assert stored == acknowledged
    assert deployment.query("SELECT status FROM test_session WHERE public_id = %s", public_id) == [("done",)]
    # The clinician, on the survivor all along, saw every answer live, once and in order (but for the
    # one in flight if the killed process stored it and died before relaying it).
    scored = [(s["trial"]["trial_id"], s["trial"]["seq"]) for s in watch.payloads("answer_scored")]
    assert scored in (acknowledged, [a for a in acknowledged if a[1] != 4])


def _next(screen, last_seq: int):
    """The next stimulus after `last_seq`, or None when the test is done."""
    import time

    deadline = time.monotonic() + 20
    with screen.changed:
        while True:
            if any(event == "test_done" for event, _ in screen.log):
                return None
            for event, data in screen.log:
                if event == "stimulus" and data["seq"] > last_seq:
                    return data
            left = deadline - time.monotonic()
            assert left > 0, "neither a stimulus nor the end of the test came"
            screen.changed.wait(left)
