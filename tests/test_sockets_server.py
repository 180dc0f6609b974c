"""The real server: `python server.py` (eventlet) on a fresh database, driven over HTTP and websockets.

This is how the browser tests start it (env VISUS_PORT, VISUS_SECRET_KEY, DATABASE_URL): a fresh
database must get its tables at start-up, the first-run set-up must work, and the live test must
run over a real websocket.
"""

import re
import threading
import time

import pytest
import requests
import socketio

from devtools.patient_links import invite_headers
from tests.support.server import ServerProcess

PASSWORD = "correct horse battery"


@pytest.fixture
def server(tmp_path):
    """`python server.py` on a database file that does not exist yet."""
    process = ServerProcess(tmp_path)
    assert not process.db_path.exists()
    process.start()
    yield process.base_url
    process.stop()


def csrf(html):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_fresh_server_sets_up_a_clinician_and_runs_a_trial_over_websockets(server):
    with requests.Session() as http:
        run_the_test(server, http)


def run_the_test(server, http):
    assert http.get(server + "/login", allow_redirects=False).headers["Location"] == "/setup"
    page = http.get(server + "/setup").text
    created = http.post(
        server + "/setup",
        data={"email": "first@example.org", "password": PASSWORD, "confirm": PASSWORD, "csrf_token": csrf(page)},
    )
    assert created.ok and "Your tests" in created.text
    form = http.get(server + "/sessions/new").text
    invite = http.post(
        server + "/sessions/new",
        data={
            "csrf_token": csrf(form),
            "patient_reference": "P1",
            "eyes": "right",
            "optotype_set": "tumbling_e",
            "procedure": "adaptive",
            "chart_presentation": "row",
            "correction": "none",
            "setup": "3m",
            "answer_mode": "patient",
        },
    )
    assert invite.status_code == 200 and [r.status_code for r in invite.history] == [303]
    token = re.search(r'/t/([^"]+)"[^>]*data-invite-url', invite.text).group(1)
    public_id = re.search(r'data-session-id="([^"]+)"', invite.text).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)

    received = {"stimulus": [], "answer_scored": []}
    got = threading.Event()
    display, watch = socketio.Client(reconnection=False), socketio.Client(reconnection=False)
    display.on("stimulus", lambda d: (received["stimulus"].append(d), got.set()), namespace="/patient")
    watch.on("answer_scored", lambda d: (received["answer_scored"].append(d), got.set()), namespace="/clinician")
    try:
        watch.connect(server, namespaces=["/clinician"], transports=["websocket"], headers={"Cookie": cookie})
        assert watch.call("watch", {"session_id": public_id}, namespace="/clinician", timeout=10)["ok"]
        display.connect(
            server,
            namespaces=["/patient"],
            transports=["websocket"],
            auth={"device": "display"},
            headers=invite_headers(server, token),
        )
        assert display.call("consent", {}, namespace="/patient", timeout=10)["ok"]
        calibration = {
            "css_px_per_mm": 4.0,
            "device_pixel_ratio": 1.0,
            "viewport_css_px": [1280, 800],
            "scale_method": "card",
            "distance": {"method": "tape", "distance_mm": 3000},
        }
        assert display.call("calibration", calibration, namespace="/patient", timeout=10)["ok"]
        assert display.call("ready", {}, namespace="/patient", timeout=10)["ok"]
        assert got.wait(10)
        stimulus = received["stimulus"][0]
        assert stimulus["optotype_set"] == "tumbling_e" and stimulus["trial_id"] == "right-0"
        got.clear()
        ack = display.call(
            "answer",
            {"trial_id": "right-0", "seq": stimulus["seq"], "responses": stimulus["optotypes"]},
            namespace="/patient",
            timeout=10,
        )
        assert ack == {"ok": True, "accepted": True, "duplicate": False}
        deadline = time.monotonic() + 10
        while (len(received["stimulus"]) < 2 or not received["answer_scored"]) and time.monotonic() < deadline:
            got.wait(0.5)
            got.clear()
        assert received["stimulus"][1]["trial_id"] == "right-1"
        assert received["answer_scored"][0]["trial"]["correct"] == [True]
    finally:
        display.disconnect()
        watch.disconnect()
    result = http.get(f"{server}/sessions/{public_id}/result")
    assert result.ok and "Trial history" in result.text
