"""A patient's display scripted over a real websocket against the real server (the browser tests
that need finished tests: the report, the patient's page)."""

from __future__ import annotations

import queue

import socketio

from devtools.patient_links import invite_headers

CALIBRATION = {
    "css_px_per_mm": 4.0,
    "device_pixel_ratio": 1.0,
    "viewport_css_px": [1280, 800],
    "scale_method": "card",
    "distance": {"method": "tape", "distance_mm": 3000},
    "user_agent": "e2e scripted display",
}


def run_patient(base_url: str, invite_url: str, reads_above: float) -> int:
    """The patient's display over a websocket: reads every row larger than `reads_above`, both eyes.
    Returns the number of trials answered."""
    token = invite_url.rsplit("/t/", 1)[1]
    events: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=False)
    for name in ("stimulus", "eye_done", "test_done"):
        client.on(name, lambda data, name=name: events.put((name, data)), namespace="/patient")
    client.connect(
        base_url,
        namespaces=["/patient"],
        transports=["websocket"],
        auth={"device": "display"},
        headers=invite_headers(base_url, token),
    )
    answered = 0
    try:
        for event, payload in (("consent", {}), ("calibration", CALIBRATION), ("ready", {})):
            ack = client.call(event, payload, namespace="/patient", timeout=10)
            assert ack["ok"], ack
        while True:
            name, data = events.get(timeout=15)  # each answer is followed by a stimulus or an end
            if name == "stimulus":
                read = data["logmar"] > reads_above
                responses = list(data["optotypes"]) if read else [None] * len(data["optotypes"])
                ack = client.call(
                    "answer",
                    {"trial_id": data["trial_id"], "seq": data["seq"], "responses": responses, "response_time_ms": 900},
                    namespace="/patient",
                    timeout=10,
                )
                assert ack["ok"], ack
                answered += 1
            elif name == "eye_done" and data["next_eye"]:
                assert client.call("ready", {}, namespace="/patient", timeout=10)["ok"]
            elif name == "test_done":
                return answered
    finally:
        client.disconnect()
