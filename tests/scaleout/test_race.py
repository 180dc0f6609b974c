"""Two processes receive the same answer for the same trial at the same time: the display on
process A and the pad on process B both answer. The answer must be stored once; one ack says
accepted, the other says duplicate (or stale); the next trial is put up once.

To make the race certain rather than likely, the test holds the session's row lock in
PostgreSQL while both answers arrive, waits until both processes are blocked on it, then lets go:
both transactions are in flight on the same stored state at that moment."""

import threading
import time

import psycopg2
import pytest

from devtools.patient_links import invite_headers, pad_headers
from tests.support.clients import CALIBRATION, clinician, cookie_header, display, first_clinician, new_test, pad_token

pytestmark = pytest.mark.scaleout


def blocked_backends(deployment) -> int:
    return deployment.query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )[0][0]


def answer_from_both(screen, pad, stimulus) -> list:
    """Send one answer from the display and the pad at the same instant; returns both acks."""
    message = {
        "trial_id": stimulus["trial_id"],
        "seq": stimulus["seq"],
        "responses": stimulus["optotypes"],
        "response_time_ms": 500,
    }
    acks = [None, None]
    start = threading.Barrier(2)

    def send(i, client):
        start.wait()
        acks[i] = client.call("answer", message, timeout=30)

    threads = [threading.Thread(target=send, args=(i, c)) for i, c in enumerate((screen, pad))]
    for thread in threads:
        thread.start()
    return threads, acks


def test_the_same_answer_on_two_processes_is_stored_once(deployment):
    a, b = deployment.start(2)
    http = first_clinician(a.base_url)
    public_id, token = new_test(http, a.base_url, eyes="right", procedure="chart")
    watch = clinician().connect(b.base_url, headers={"Cookie": cookie_header(http)})
    screen = display().connect(a.base_url, auth={"device": "display"}, headers=invite_headers(a.base_url, token))
    pad = display().connect(
        b.base_url, auth={"device": "pad"}, headers=pad_headers(b.base_url, pad_token(screen.wait("state")))
    )
    try:
        assert watch.call("watch", {"session_id": public_id})["ok"]
        assert screen.call("consent")["ok"] and screen.call("calibration", CALIBRATION)["ok"]
        assert screen.call("ready")["ok"]
        outcomes = []
        for round_ in range(6):
            stimulus = screen.wait("stimulus", match=lambda s: s["seq"] == round_ + 1)
            pad.wait("answer_request", match=lambda r: r["seq"] == stimulus["seq"])
            held = round_ % 2 == 0  # every other round: both answers are made to wait on the row lock
            if held:
                lock = psycopg2.connect(deployment.database_url)
                lock.cursor().execute("SELECT id FROM test_session WHERE public_id = %s FOR UPDATE", (public_id,))
            threads, acks = answer_from_both(screen, pad, stimulus)
            if held:
                deadline = time.monotonic() + 20
                while blocked_backends(deployment) < 2:  # both processes are inside their transaction
                    assert time.monotonic() < deadline, "the two answers never both reached the database"
                    time.sleep(0.02)
                lock.rollback()
                lock.close()
            for thread in threads:
                thread.join(30)
            accepted = [ack for ack in acks if ack == {"ok": True, "accepted": True, "duplicate": False}]
            repeated = [ack for ack in acks if ack.get("duplicate") is True or ack.get("error") == "stale_trial"]
            assert len(accepted) == 1 and len(repeated) == 1, acks
            outcomes.append(acks)
            rows = deployment.query(
                "SELECT count(*) FROM trial t JOIN eye_test e ON e.id = t.eye_test_id "
                "WHERE e.eye || '-' || t.index = %s",
                stimulus["trial_id"],
            )
            assert rows == [(1,)]
            scored = watch.wait("answer_scored", match=lambda s: s["trial"]["seq"] == stimulus["seq"])
            assert scored["trial"]["trial_id"] == stimulus["trial_id"]
            if screen.count("eye_done"):
                break
        # Each trial was put up once: stimuli carry consecutive seqs, each scored once.
        seqs = [s["seq"] for s in screen.payloads("stimulus")]
        assert seqs == list(range(1, len(seqs) + 1))
        scored_seqs = [s["trial"]["seq"] for s in watch.payloads("answer_scored")]
        assert scored_seqs == sorted(set(scored_seqs))
        assert len(outcomes) >= 4
        stored = deployment.query("SELECT seq FROM trial ORDER BY seq")
        assert [seq for (seq,) in stored] == scored_seqs
    finally:
        for client in (screen, pad, watch):
            client.disconnect()
