"""The video call's signaling (webapp/live/call.py) through the Flask-SocketIO test client: the
clinician starts and ends it, offers and ICE candidates are relayed between the session's clinician
and its own display and pad only, nothing of them is stored, and the audit log says who was in it.
(The media itself is tested in Chromium: tests/e2e/test_call.py.)"""

import base64
import hashlib
import hmac

from sqlalchemy import select

from tests.support.app import (
    OTHER,
    add_clinician,
    create_test,
    db_rows,
    display,
    login,
    pad,
    pad_token_from_state,
    watcher,
)
from webapp import events as ev
from webapp.audit import AuditEntry
from webapp.extensions import db
from webapp.live.call import turn_credential

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
ANSWER = {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "abcd",
}


def audit_actions(app, public_id):
    with app.app_context():
        return [
            (e.action, e.detail)
            for e in db.session.scalars(
                select(AuditEntry).where(AuditEntry.session_public_id == public_id).order_by(AuditEntry.id)
            )
            if e.action.startswith("call_")
        ]


def call_test(app, clinician_client):
    public_id, token = create_test(clinician_client, eyes="right")
    screen = display(app, token)
    phone = pad(app, pad_token_from_state(screen.last("state")))
    watch = watcher(app, clinician_client)
    assert watch.send(ev.WATCH, {"session_id": public_id})["ok"]
    return public_id, token, screen, phone, watch


def test_a_call_is_started_relayed_both_ways_and_ended_storing_only_the_audit(app, clinician_client):
    public_id, token, screen, phone, watch = call_test(app, clinician_client)
    screen.received(), phone.received(), watch.received()
    ack = watch.send(ev.CALL_START, {"session_id": public_id, "video": False})
    assert ack["ok"] and ack["call"]["active"] and ack["call"]["clinician_video"] is False
    assert ack["call"]["ice_servers"] == []  # no STUN or TURN configured: direct connections only
    call = {"active": True, "clinician_video": False, "ice_servers": [], "ice_transport_policy": "all"}
    assert screen.last(ev.CALL_STATE) == phone.last(ev.CALL_STATE) == call
    assert watch.last(ev.CALL_STATE) == {"active": True, "clinician_video": False}  # the clinician's other tabs

    assert screen.send(ev.CALL_JOIN, {"camera": "allowed", "audio": True, "video": True})["ok"]
    assert watch.last(ev.CALL_JOIN) == {"device": "display", "camera": "allowed", "audio": True, "video": True}
    before = db_rows(app)
    assert watch.send(
        ev.CALL_SIGNAL, {"session_id": public_id, "device": "display", "peer_id": "p1", "description": OFFER}
    )["ok"]
    assert screen.received() == [(ev.CALL_SIGNAL, {"peer_id": "p1", "description": OFFER})]
    assert phone.received() == []  # the pad's offer is its own
    assert watch.send(
        ev.CALL_SIGNAL, {"session_id": public_id, "device": "display", "peer_id": "p1", "candidate": CANDIDATE}
    )["ok"]
    assert screen.last(ev.CALL_SIGNAL) == {"peer_id": "p1", "candidate": CANDIDATE}
    assert screen.send(ev.CALL_REPLY, {"peer_id": "p1", "description": ANSWER})["ok"]
    assert screen.send(ev.CALL_REPLY, {"peer_id": "p1", "candidate": CANDIDATE})["ok"]
    replies = [payload for name, payload in watch.received() if name == ev.CALL_REPLY]
    assert replies == [
        {"device": "display", "peer_id": "p1", "description": ANSWER},
        {"device": "display", "peer_id": "p1", "candidate": CANDIDATE},
    ]
    assert screen.send(ev.CALL_DEVICE_MEDIA, {"audio": False, "video": True})["ok"]
    assert watch.last(ev.CALL_DEVICE_MEDIA) == {"device": "display", "audio": False, "video": True}
    assert watch.send(ev.CALL_MEDIA, {"session_id": public_id, "audio": True, "video": False, "hidden": True})["ok"]
    assert screen.last(ev.CALL_MEDIA) == phone.last(ev.CALL_MEDIA) == {"audio": True, "video": False, "hidden": True}
    assert db_rows(app) == before  # relayed, never stored: no SDP, no candidate, no audit entry

    # A reload of the display during the call: its connect says the call is on.
    screen.disconnect()
    screen = display(app, token)
    assert screen.last(ev.CALL_STATE)["active"] is True
    assert screen.send(ev.CALL_JOIN, {"camera": "allowed", "audio": True, "video": True})["ok"]  # joined again

    assert watch.send(ev.CALL_END, {"session_id": public_id})["ok"]
    assert screen.last(ev.CALL_STATE) == {"active": False}
    assert phone.last(ev.CALL_STATE) == {"active": False}
    assert audit_actions(app, public_id) == [
        ("call_started", {"video": False, "display": True, "pad": True}),
        ("call_joined", {"device": "display", "camera": "allowed"}),  # once, though it joined twice
        ("call_ended", {"joined": ["display"]}),
    ]
    # After the end: no signaling, and a new connect hears of no call.
    ack = watch.send(
        ev.CALL_SIGNAL, {"session_id": public_id, "device": "display", "peer_id": "p1", "description": OFFER}
    )
    assert ack["ok"] is False and ack["error"] == "no_call"
    assert screen.send(ev.CALL_JOIN, {"camera": "refused", "audio": False, "video": False})["error"] == "no_call"
    assert display(app, token).last(ev.CALL_STATE) is None
    assert watch.send(ev.WATCH, {"session_id": public_id})["call"] == {"active": False}


def test_signaling_is_refused_with_a_clear_error_and_changes_nothing(app, clinician_client):
    public_id, token, screen, phone, watch = call_test(app, clinician_client)
    assert screen.send(ev.CALL_REPLY, {"peer_id": "p1", "description": ANSWER})["error"] == "no_call"
    assert watch.send(ev.CALL_START, {"session_id": public_id, "video": True})["ok"]
    before = db_rows(app)
    refused = [
        (watch, ev.CALL_SIGNAL, {"session_id": public_id, "device": "display", "peer_id": "p1", "description": ANSWER}),
        (watch, ev.CALL_SIGNAL, {"session_id": public_id, "device": "display", "peer_id": "p1"}),
        (
            watch,
            ev.CALL_SIGNAL,
            {
                "session_id": public_id,
                "device": "display",
                "peer_id": "p1",
                "description": OFFER,
                "candidate": CANDIDATE,
            },
        ),
        (watch, ev.CALL_SIGNAL, {"session_id": public_id, "device": "phone", "peer_id": "p1", "description": OFFER}),
        (
            watch,
            ev.CALL_SIGNAL,
            {
                "session_id": public_id,
                "device": "display",
                "peer_id": "p1",
                "description": {"type": "offer", "sdp": "x" * 70_000},
            },
        ),
        (screen, ev.CALL_REPLY, {"peer_id": "p1", "description": OFFER}),
        (screen, ev.CALL_REPLY, {"peer_id": "", "candidate": CANDIDATE}),
        (screen, ev.CALL_JOIN, {"camera": "maybe", "audio": True, "video": True}),
    ]
    for client, event, payload in refused:
        ack = client.send(event, payload)
        assert ack["ok"] is False and ack["error"] == "invalid_payload" and ack["message"], (event, payload, ack)
    assert db_rows(app) == before
    phone.disconnect()
    ack = watch.send(ev.CALL_SIGNAL, {"session_id": public_id, "device": "pad", "peer_id": "p2", "description": OFFER})
    assert ack["ok"] is False and ack["error"] == "device_not_connected"


def test_another_session_neither_hears_nor_reaches_this_call(app, clinician_client):
    public_id, token, screen, phone, watch = call_test(app, clinician_client)
    assert watch.send(ev.CALL_START, {"session_id": public_id, "video": True})["ok"]
    # Another clinician with a call of their own.
    add_clinician(app, OTHER)
    other_http = login(app.test_client(), OTHER)
    other_id, other_token = create_test(other_http, eyes="right")
    other_screen = display(app, other_token)
    other_watch = watcher(app, other_http)
    assert other_watch.send(ev.WATCH, {"session_id": other_id})["ok"]
    assert other_watch.send(ev.CALL_START, {"session_id": other_id, "video": True})["ok"]
    for client in (screen, phone, watch, other_screen, other_watch):
        client.received()
    # The other clinician cannot offer to this display, nor start or end this call.
    for event, extra in (
        (ev.CALL_SIGNAL, {"device": "display", "peer_id": "x", "description": OFFER}),
        (ev.CALL_START, {"video": True}),
        (ev.CALL_END, {}),
        (ev.CALL_MEDIA, {"audio": True, "video": True, "hidden": False}),
    ):
        assert other_watch.send(event, {"session_id": public_id, **extra})["error"] == "forbidden"
    # This display's answer goes to this clinician only; the other display's to the other only.
    assert screen.send(ev.CALL_REPLY, {"peer_id": "p1", "description": ANSWER})["ok"]
    assert other_screen.send(ev.CALL_REPLY, {"peer_id": "q1", "description": ANSWER})["ok"]
    assert [p["peer_id"] for n, p in watch.received() if n == ev.CALL_REPLY] == ["p1"]
    assert [p["peer_id"] for n, p in other_watch.received() if n == ev.CALL_REPLY] == ["q1"]
    assert screen.received() == [] and phone.received() == [] and other_screen.received() == []


def test_turn_credentials_follow_the_turn_rest_api_and_expire(app, clinician_client):
    app.config.update(
        STUN_URLS=("stun:127.0.0.1:3478",),
        TURN_URLS=("turn:127.0.0.1:3478?transport=udp",),
        TURN_SECRET="shared-with-coturn",
        TURN_TTL_S=600,
    )
    public_id, token, screen, phone, watch = call_test(app, clinician_client)
    ack = watch.send(ev.CALL_START, {"session_id": public_id, "video": True})
    stun, turn = ack["call"]["ice_servers"]
    assert stun == {"urls": ["stun:127.0.0.1:3478"]}
    expiry, name = turn["username"].split(":", 1)
    assert name.startswith(f"{public_id}-clinician-")
    import time

    assert 590 <= int(expiry) - time.time() <= 601
    # coturn's check (use-auth-secret): base64(HMAC-SHA1(static-auth-secret, username)).
    expected = base64.b64encode(hmac.new(b"shared-with-coturn", turn["username"].encode(), hashlib.sha1).digest())
    assert turn["credential"] == expected.decode()
    assert "shared-with-coturn" not in repr(ack)
    # Each participant its own credential; the display's comes with its (re)connect.
    screen.disconnect()
    again = display(app, token).last(ev.CALL_STATE)["ice_servers"][1]
    assert again["username"] != turn["username"] and f"{public_id}-display-" in again["username"]
    assert turn_credential("s", 10, "n", now_s=100)["username"] == "110:n"
