"""A chart test scripted to its end through the app's own code paths: the new-test form, the patient's
socket events (consent, calibration, ready, answers, a hidden page) and the clinician's note. Used by
the report and export tests."""

from __future__ import annotations

from tests.support.app import create_test, display, start_testing, watcher

NOTE = "Patient wore old glasses"


def answer_until_done(screen, stimulus, respond):
    """Answer stimuli until the eye (or the test) stops sending them; returns the stimuli shown."""
    shown = []
    while stimulus is not None:
        ack = screen.send(
            "answer",
            {
                "trial_id": stimulus["trial_id"],
                "seq": stimulus["seq"],
                "responses": respond(stimulus),
                "response_time_ms": 850,
            },
        )
        assert ack["ok"], ack
        shown.append(stimulus)
        stimulus = screen.last("stimulus")
    return shown


def reader(reads_above):
    """Reads every optotype larger than `reads_above` logMAR and none smaller (None: reads all)."""
    return lambda s: (
        list(s["optotypes"]) if reads_above is None or s["logmar"] > reads_above else [None] * len(s["optotypes"])
    )


def run_chart_session(
    app, client, patient_reference="Patient A", right_reads_to=0.25, left_reads_to=None, note=NOTE, **overrides
):
    """A chart test, right then left, through the sockets. The right eye reads every row above
    `right_reads_to` (a letter-by-letter score of about right_reads_to + 0.05); the left eye
    likewise, or everything when `left_reads_to` is None, which ends at the smallest row the
    screen draws (a "<=" bound). The display's page is hidden and shown again during the right
    eye; the clinician writes a note between eyes. Returns (public_id, stimuli shown per eye)."""
    public_id, token = create_test(
        client, patient_reference=patient_reference, procedure="chart", eyes="right_left", **overrides
    )
    screen = display(app, token)
    watch = watcher(app, client)
    assert watch.send("watch", {"session_id": public_id})["ok"]
    stimulus = start_testing(screen)
    assert screen.send(
        "answer",
        {
            "trial_id": stimulus["trial_id"],
            "seq": stimulus["seq"],
            "responses": reader(right_reads_to)(stimulus),
            "response_time_ms": 850,
        },
    )["ok"]
    assert screen.send("page_event", {"kind": "hidden"})["paused"] is True
    assert screen.send("page_event", {"kind": "visible"})["ok"]
    assert screen.send("ready")["ok"]
    right = [stimulus] + answer_until_done(screen, screen.last("stimulus"), reader(right_reads_to))
    if note:
        assert watch.send("note", {"session_id": public_id, "text": note})["ok"]
    assert screen.send("ready")["ok"]
    left = answer_until_done(screen, screen.last("stimulus"), reader(left_reads_to))
    screen.disconnect()
    watch.disconnect()
    return public_id, {"right": right, "left": left}
