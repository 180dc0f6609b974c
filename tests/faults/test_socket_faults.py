"""Faults a live test must survive, against the real server (`python server.py`, eventlet, SQLite):
python-socketio clients play the patient's display and pad and the clinician's live view.

- the network drops mid-trial (the client's socket is shut down under it): the client reconnects,
  re-authenticates, gets the session's state and the same trial, and goes on;
- an answer sent twice counts once; an answer to a trial no longer current is refused with a reason;
- the server is killed with SIGKILL and started again on the same port and database;
- a second tab of the browser that opened the link (another browser gets nothing from it): it
  takes over, the first is told and cut off, the clinician is told;
- the display and the pad drop and come back separately;
- a message larger than the server accepts drops that connection and nothing else.
"""

from __future__ import annotations

import pytest

from devtools.patient_links import open_link
from tests.support.clients import PATIENT_EVENTS, Client, answer_of, new_test, pad_token, start, watcher

EVENTS = PATIENT_EVENTS + ("recalibrate",)


def display(token: str, base_url: str, device: str = "display", browser: dict | None = None) -> Client:
    """A device that opens its link (or, with `browser`, the headers of one that did: another tab)."""
    link = f"/t/{token}" if device == "display" else f"/pad/{token}"
    return Client("/patient", EVENTS).connect(
        base_url, auth={"device": device}, headers=browser or open_link(base_url, link)
    )


def next_stimulus(screen: Client, after: dict, since: int = 0) -> dict:
    return screen.wait("stimulus", match=lambda s: s["seq"] > after["seq"], since=since)


def reconnected(client: Client, since: int) -> None:
    """Wait for the drop to be noticed and for the client to connect again."""
    client.wait("disconnect", since=since)
    client.wait("connect", since=since, timeout=30)


def test_a_dropped_network_reconnects_to_the_same_trial_and_answers_count_once(server, clinician_http, cookie):
    public_id, token = new_test(clinician_http, server.base_url, eyes="right")
    watch = watcher(server.base_url, cookie, public_id)
    screen = display(token, server.base_url)
    try:
        first = start(screen)
        assert screen.call("answer", answer_of(first)) == {"ok": True, "accepted": True, "duplicate": False}
        current = next_stimulus(screen, first)

        mark = screen.mark()
        screen.drop_network()
        reconnected(screen, mark)
        # Re-authenticated from the stored auth; the state and the same trial come again by themselves.
        state = screen.wait("state", since=mark)
        assert state["phase"] == "testing"
        assert (state["current_stimulus"]["trial_id"], state["current_stimulus"]["seq"]) == (
            current["trial_id"],
            current["seq"],
        )
        again = screen.wait("stimulus", since=mark)
        assert again == current
        watch.wait("device_status", since=0, match=lambda s: s["display_connected"] is False)

        # A double tap: the same answer twice counts once.
        assert screen.call("answer", answer_of(current)) == {"ok": True, "accepted": True, "duplicate": False}
        assert screen.call("answer", answer_of(current)) == {"ok": True, "accepted": True, "duplicate": True}
        third = next_stimulus(screen, current)
        # Answers to trials that are not current are refused with a reason.
        for stale in (
            {**answer_of(current), "seq": third["seq"]},  # answered trial, other seq
            {**answer_of(third), "seq": third["seq"] + 5},  # current trial, wrong seq
            {**answer_of(third), "trial_id": "right-99"},  # a trial never shown
            {**answer_of(third), "trial_id": "left-0"},
        ):  # an eye not in this test
            ack = screen.call("answer", stale)
            assert ack["ok"] is False and ack["error"] == "stale_trial" and ack["message"], (stale, ack)

        # An answer in flight when the network drops, sent again after the reconnect (a buffered
        # emit): stored once, whether the first copy arrived or not.
        mark = screen.mark()
        screen.emit("answer", answer_of(third))
        screen.drop_network()
        reconnected(screen, mark)
        replay = screen.call("answer", answer_of(third))
        assert replay["ok"] and replay["accepted"], replay
        fourth = next_stimulus(screen, third)
        assert fourth["trial_id"] == "right-3"

        stored = server.stored_trials(public_id)
        assert [(index, seq) for _, index, seq, _ in stored] == [
            (0, first["seq"]),
            (1, current["seq"]),
            (2, third["seq"]),
        ]
        scored = watch.payloads("answer_scored")
        assert sorted(t["trial"]["seq"] for t in scored) == [first["seq"], current["seq"], third["seq"]]
    finally:
        screen.disconnect()
        watch.disconnect()


def test_server_killed_mid_test_restarts_on_the_same_trial_with_its_history(server, clinician_http, cookie):
    public_id, token = new_test(clinician_http, server.base_url, eyes="right_left")
    watch = watcher(server.base_url, cookie, public_id)
    screen = display(token, server.base_url)
    try:
        stimulus = start(screen)
        for _ in range(3):
            assert screen.call("answer", answer_of(stimulus))["accepted"]
            stimulus = next_stimulus(screen, stimulus)
        before = server.stored_trials(public_id)
        assert len(before) == 3
        history = watch.call("watch", {"session_id": public_id})["snapshot"]["eyes"][0]["trials"]

        # The answer to trial 4 is on its way when the server dies; it may or may not be stored.
        mark, watch_mark = screen.mark(), watch.mark()
        screen.emit("answer", answer_of(stimulus))
        server.kill()
        screen.wait("disconnect", since=mark)
        watch.wait("disconnect", since=watch_mark)
        server.start()
        screen.wait("connect", since=mark, timeout=30)
        watch.wait("connect", since=watch_mark, timeout=30)

        # The live view watches again on connect (as live.js does) and gets the whole history.
        snapshot = watch.call("watch", {"session_id": public_id})["snapshot"]
        trials = snapshot["eyes"][0]["trials"]
        assert trials[:3] == history and len(trials) in (3, 4)
        state = screen.wait("state", since=mark)
        assert state["phase"] == "testing" and state["eye"] == "right"
        if len(trials) == 3:  # the in-flight answer was lost with the process: same trial, same seq
            assert screen.wait("stimulus", since=mark) == stimulus
        # The patient's page sends its answer again: counted once either way.
        replay = screen.call("answer", answer_of(stimulus))
        assert replay["ok"] and replay["accepted"], replay
        after = next_stimulus(screen, stimulus, since=mark)
        assert after["trial_id"] == "right-4"
        assert screen.call("answer", answer_of(after))["accepted"]
        stored = server.stored_trials(public_id)
        assert [index for _, index, _, _ in stored] == [0, 1, 2, 3, 4]
        assert stored[:3] == before
        assert watch.wait("answer_scored", since=watch_mark, match=lambda a: a["trial"]["trial_id"] == "right-4")
        # The same display coming back after a restart is not a second device taking over.
        snapshot = watch.call("watch", {"session_id": public_id})["snapshot"]
        assert not [e for e in snapshot["events"] if e["detail"].get("code") == "device_replaced"], snapshot["events"]
        assert snapshot["devices"] == {"display": True, "pad": False}
    finally:
        screen.disconnect()
        watch.disconnect()


def test_a_second_display_on_the_same_link_takes_over_and_the_clinician_is_told(server, clinician_http, cookie):
    public_id, token = new_test(clinician_http, server.base_url, eyes="right")
    watch = watcher(server.base_url, cookie, public_id)
    browser = open_link(server.base_url, f"/t/{token}")
    first_screen = display(token, server.base_url, browser=browser)
    second_screen = None
    try:
        stimulus = start(first_screen)
        mark, watch_mark = first_screen.mark(), watch.mark()
        # Another browser gets nothing from the link; another tab of the same browser takes over.
        with pytest.raises(RuntimeError, match="HTTP 410"):
            open_link(server.base_url, f"/t/{token}")
        second_screen = display(token, server.base_url, browser=browser)

        # The newer device gets the test where it is: same trial, same seq.
        assert second_screen.wait("state")["current_stimulus"]["seq"] == stimulus["seq"]
        assert second_screen.wait("stimulus") == stimulus
        # The older one is told why and cut off (it does not reconnect: the server closed it).
        error = first_screen.wait("error", since=mark)
        assert error["error"] == "replaced" and error["message"]
        first_screen.wait("disconnect", since=mark)
        assert not first_screen.client.connected
        # The clinician sees a warning, live and in the stored events.
        notice = watch.wait("page_event", since=watch_mark)
        assert notice["kind"] == "warning" and notice["detail"] == {"code": "device_replaced"}
        assert notice["device"] == "display"
        events = watch.call("watch", {"session_id": public_id})["snapshot"]["events"]
        assert any(e["kind"] == "warning" and e["detail"].get("code") == "device_replaced" for e in events)

        assert second_screen.call("answer", answer_of(stimulus))["accepted"]
        assert [index for _, index, _, _ in server.stored_trials(public_id)] == [0]
        assert first_screen.count("connect") == 1
    finally:
        first_screen.disconnect()
        if second_screen:
            second_screen.disconnect()
        watch.disconnect()


def test_display_and_pad_drop_and_come_back_separately(server, clinician_http, cookie):
    public_id, token = new_test(clinician_http, server.base_url, eyes="right")
    watch = watcher(server.base_url, cookie, public_id)
    screen = display(token, server.base_url)
    phone = None
    try:
        stimulus = start(screen)
        phone = display(pad_token(screen.wait("state")), server.base_url, device="pad")
        request = phone.wait("answer_request")
        assert (request["trial_id"], request["seq"]) == (stimulus["trial_id"], stimulus["seq"])
        watch.wait("device_status", match=lambda s: (s["display_connected"], s["pad_connected"]) == (True, True))

        # The pad drops: the display stays, is told, and the pad comes back to the same request.
        mark, screen_mark, watch_mark = phone.mark(), screen.mark(), watch.mark()
        phone.drop_network()
        screen.wait("device_status", since=screen_mark, match=lambda s: s["pad_connected"] is False)
        watch.wait(
            "device_status",
            since=watch_mark,
            match=lambda s: (s["display_connected"], s["pad_connected"]) == (True, False),
        )
        reconnected(phone, mark)
        assert phone.wait("answer_request", since=mark) == request
        assert phone.wait("state", since=mark)["current_request"] == request
        assert screen.count("disconnect") == 0
        assert phone.call("answer", answer_of(stimulus))["accepted"]
        second = next_stimulus(screen, stimulus)
        second_request = phone.wait("answer_request", match=lambda r: r["seq"] == second["seq"])

        # The display drops: the pad stays; the display comes back to the trial the pad is answering.
        mark, phone_mark, watch_mark = screen.mark(), phone.mark(), watch.mark()
        screen.drop_network()
        phone.wait("device_status", since=phone_mark, match=lambda s: s["display_connected"] is False)
        watch.wait(
            "device_status",
            since=watch_mark,
            match=lambda s: (s["display_connected"], s["pad_connected"]) == (False, True),
        )
        reconnected(screen, mark)
        assert screen.wait("stimulus", since=mark) == second
        assert phone.count("disconnect") == 1
        assert phone.call("answer", answer_of(second))["accepted"]
        assert next_stimulus(screen, second)["trial_id"] == "right-2"
        assert second_request["trial_id"] == "right-1"
        assert [index for _, index, _, _ in server.stored_trials(public_id)] == [0, 1]
    finally:
        screen.disconnect()
        if phone:
            phone.disconnect()
        watch.disconnect()


def test_an_oversized_message_drops_only_that_connection(server, clinician_http, cookie):
    public_id, token = new_test(clinician_http, server.base_url, eyes="right")
    watch = watcher(server.base_url, cookie, public_id)
    screen = display(token, server.base_url)
    try:
        stimulus = start(screen)
        # Just under the limit: an ordinary refusal that names the field.
        ack = watch.call("note", {"session_id": public_id, "text": "x" * 90_000})
        assert ack["ok"] is False and ack["error"] == "invalid_payload" and "text" in ack["message"]
        # Over the limit (100 kB): the server closes this connection without reading the event.
        mark = watch.mark()
        watch.emit("note", {"session_id": public_id, "text": "x" * 150_000})
        watch.wait("disconnect", since=mark)
        # The patient's connection did not notice; the server still answers; the client reconnects.
        assert screen.call("answer", answer_of(stimulus))["accepted"]
        watch.wait("connect", since=mark, timeout=30)
        events = watch.call("watch", {"session_id": public_id})["snapshot"]["events"]
        assert not any(e["kind"] == "note" for e in events)
        assert screen.count("disconnect") == 0
    finally:
        screen.disconnect()
        watch.disconnect()
