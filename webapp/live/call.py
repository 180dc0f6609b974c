"""The video and voice call of a live test: whether it is on, the ICE servers, and the signaling relay.

The browsers talk WebRTC peer to peer (or through the TURN server of the deployment); this server
only passes their offers, answers and ICE candidates between the session's clinician and the
session's display and pad. Nothing of it is stored: no SDP, no candidate, no media. The audit log
is the one record: when a call started and ended and which devices joined it, and it is also where
"is a call on?" is read from (the latest `call_started` or `call_ended` of the session), so a page
that reloads or reconnects finds the call again without a column of its own.

The clinician's page always makes the offers (one RTCPeerConnection per device, named by a
`peer_id` it chooses); a device only answers. That keeps renegotiation free of glare: a device that
(re)joins says so with `call_join`, and the clinician's page makes a fresh offer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import column_property

from webapp import audit
from webapp import events as ev
from webapp.extensions import db
from webapp.live.errors import LiveError
from webapp.live.outbox import Outbox
from webapp.models import TestSession

CALL_MARKS = ("call_started", "call_ended")

# The session's latest call mark (None: never a call), loaded only with a live event's session
# (webapp/live/procedures.py, LIVE_SESSION_LOAD) and kept through its flushes: a display's connect
# and the clinician's `watch` read it instead of querying the audit log (a statement each, issue 12).
TestSession.latest_call_mark = column_property(
    select(audit.AuditEntry.action)
    .where(audit.AuditEntry.session_public_id == TestSession.public_id, audit.AuditEntry.action.in_(CALL_MARKS))
    .order_by(audit.AuditEntry.id.desc())
    .limit(1)
    .correlate_except(audit.AuditEntry)
    .scalar_subquery(),
    deferred=True,
    expire_on_flush=False,
)


def turn_credential(secret: str, ttl_s: int, name: str, now_s: float | None = None) -> dict[str, str]:
    """A TURN credential by the TURN REST API convention (draft-uberti-behave-turn-rest-00 §2.2,
    coturn's `use-auth-secret` / `static-auth-secret`): username "<expiry unix time>:<name>",
    credential base64(HMAC-SHA1(secret, username)). coturn refuses it once the expiry has passed."""
    expiry = int((time.time() if now_s is None else now_s) + ttl_s)
    username = f"{expiry}:{name}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return {"username": username, "credential": base64.b64encode(digest).decode()}


def ice_servers(name: str) -> list[dict[str, Any]]:
    """RTCConfiguration.iceServers for one participant (`name` is not secret: it goes into the TURN
    username and coturn's log, so it says which session and device, never who the patient is)."""
    config = current_app.config
    servers: list[dict[str, Any]] = []
    if config.get("STUN_URLS"):
        servers.append({"urls": list(config["STUN_URLS"])})
    if config.get("TURN_URLS") and config.get("TURN_SECRET"):
        servers.append(
            {
                "urls": list(config["TURN_URLS"]),
                **turn_credential(config["TURN_SECRET"], int(config["TURN_TTL_S"]), name),
            }
        )
    return servers


def _marks(session: TestSession) -> list[audit.AuditEntry]:
    """The call's audit entries of this session since (and including) the latest `call_started`."""
    entries = list(
        db.session.scalars(
            select(audit.AuditEntry)
            .where(
                audit.AuditEntry.session_public_id == session.public_id,
                audit.AuditEntry.action.in_(CALL_MARKS + ("call_joined",)),
            )
            .order_by(audit.AuditEntry.id.desc())
        )
    )
    since: list[audit.AuditEntry] = []
    for entry in entries:
        since.append(entry)
        if entry.action in CALL_MARKS:
            break
    return since


def is_active(session: TestSession) -> bool:
    marks = _marks(session)
    return bool(marks) and marks[-1].action == "call_started"


def state(session: TestSession, who: str) -> dict[str, Any]:
    """`call_state` for the clinician (`who` "clinician") or a device ("display", "pad")."""
    marks = _marks(session)
    active = bool(marks) and marks[-1].action == "call_started"
    payload: dict[str, Any] = {"active": active}
    if active:
        payload["clinician_video"] = bool(marks[-1].detail.get("video"))
        payload["ice_servers"] = ice_servers(f"{session.public_id}-{who}-{secrets.token_hex(4)}")
        payload["ice_transport_policy"] = "relay" if current_app.config.get("TURN_ONLY") else "all"
    return payload


def state_as_loaded(session: TestSession, who: str) -> dict[str, Any]:
    """`state` for an event that starts or ends no call (a connect, `watch`): no call without a query
    when the statement that loaded the session found none going on."""
    if session.latest_call_mark != "call_started":
        return {"active": False}
    return state(session, who)


def _joined(marks: list[audit.AuditEntry]) -> list[str]:
    return sorted({entry.detail.get("device") for entry in marks if entry.action == "call_joined"})


def start(session: TestSession, clinician_id: int, video: bool, out: Outbox) -> dict:
    """Clinician: start the call (again: a no-op that hands out fresh ICE servers)."""
    if not is_active(session):
        audit.record(
            session,
            "call_started",
            clinician_id,
            video=video,
            display=session.display_sid is not None,
            pad=session.pad_sid is not None,
        )
        db.session.flush()
        out.clinician(ev.CALL_STATE, {"active": True, "clinician_video": video})
    # Every start, also a repeated one (the clinician's page reloaded or reconnected), asks the
    # devices to join again, each with ICE servers of its own.
    out.display(ev.CALL_STATE, state(session, "display"))
    out.pad(ev.CALL_STATE, state(session, "pad"))
    return {"ok": True, "call": state(session, "clinician")}


def end(session: TestSession, clinician_id: int, out: Outbox) -> dict:
    """Clinician: hang up for everyone."""
    marks = _marks(session)
    if marks and marks[-1].action == "call_started":
        audit.record(session, "call_ended", clinician_id, joined=_joined(marks))
        out.patients(ev.CALL_STATE, {"active": False})
        out.clinician(ev.CALL_STATE, {"active": False})
    return {"ok": True, "call": {"active": False}}


def _require_active(session: TestSession) -> None:
    if not is_active(session):
        raise LiveError("no_call", "There is no call in this test now; the clinician starts it.")


def signal(session: TestSession, data: dict, out: Outbox) -> dict:
    """Clinician -> one device: an offer or an ICE candidate, relayed as it came."""
    _require_active(session)
    sid = session.display_sid if data["device"] == "display" else session.pad_sid
    if sid is None:
        raise LiveError("device_not_connected", f"The patient's {data['device']} is not connected.")
    message = {key: data[key] for key in ("peer_id", "description", "candidate") if key in data}
    (out.display if data["device"] == "display" else out.pad)(ev.CALL_SIGNAL, message)
    return {"ok": True}


def clinician_media(session: TestSession, data: dict, out: Outbox) -> dict:
    """Clinician: microphone, camera and "hide my video" switched; the patient's devices are told."""
    _require_active(session)
    out.patients(ev.CALL_MEDIA, {key: data[key] for key in ("audio", "video", "hidden")})
    return {"ok": True}


def join(session: TestSession, device: str, data: dict, out: Outbox) -> dict:
    """A device is ready for an offer: first time, after a reload or a reconnect, or with its
    camera refused (then it only receives). The first join of a call is audited."""
    marks = _marks(session)
    if not (marks and marks[-1].action == "call_started"):
        raise LiveError("no_call", "There is no call in this test now; the clinician starts it.")
    if device not in _joined(marks):
        audit.record(session, "call_joined", None, device=device, camera=data["camera"])
    out.clinician(ev.CALL_JOIN, {"device": device, **data})
    return {"ok": True}


def reply(session: TestSession, device: str, data: dict, out: Outbox) -> dict:
    """A device -> the clinician: its answer or an ICE candidate, relayed as it came."""
    _require_active(session)
    out.clinician(ev.CALL_REPLY, {"device": device, **data})
    return {"ok": True}


def device_media(session: TestSession, device: str, data: dict, out: Outbox) -> dict:
    """A device muted or turned its camera off (or on again); the clinician is told."""
    _require_active(session)
    out.clinician(ev.CALL_DEVICE_MEDIA, {"device": device, **data})
    return {"ok": True}
