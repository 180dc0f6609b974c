"""Which server processes are alive, and which process holds each patient device's socket.

One process knows its own sockets. With several (REDIS_URL: Socket.IO's message queue), a device
sid stored in the database may belong to another process, or to one that died: a SIGKILL or a crash
runs no disconnect handler, so its sids stay stored. Here, in Redis (docs/deploy.md, "Several
processes"):

- every process beats: `visus:process:<id>` set every HEARTBEAT_S with a TTL of TTL_S, and a
  subscription held open on `visus:alive:<id>`, which Redis drops the moment the process dies
  (the kernel closes its connection); a process is alive while both hold, so a killed one is seen
  at once and a hung or cut-off one within TTL_S;
- each device sid is recorded with the process that holds it (`visus:sid:<sid>`, and the set
  `visus:process-sids:<id>`);
- every HEARTBEAT_S each process looks for dead processes in `visus:processes`; the one that
  removes a dead process from the set forgets its sids in the database and tells the clinicians.

A sid whose process is dead counts as disconnected: in the payloads (webapp/live/payloads.py) and
in the device_replaced check (webapp/live/patient.py). No eventlet API: the loop runs with
Flask-SocketIO's start_background_task and sleep.
"""

from __future__ import annotations

import os
import secrets
import socket
import time

from flask import Flask, current_app
from sqlalchemy import or_, select, update

from webapp import events as ev
from webapp.extensions import db, socketio

HEARTBEAT_S = 5.0
TTL_S = 15.0
SID_TTL_S = 24 * 3600  # a device socket older than a day is nobody's test; its record then lapses

# Unique across restarts of a pid and across hosts.
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

PROCESSES = "visus:processes"


def _beat_key(process_id: str) -> str:
    return f"visus:process:{process_id}"


def _channel(process_id: str) -> str:
    return f"visus:alive:{process_id}"


def _sids_key(process_id: str) -> str:
    return f"visus:process-sids:{process_id}"


def _sid_key(sid: str) -> str:
    return f"visus:sid:{sid}"


def _redis(app: Flask | None = None):
    """The registry's Redis client, or None with one process (no REDIS_URL)."""
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    client = app.extensions.get("visus_process_redis")
    if client is None:
        import redis

        client = app.extensions["visus_process_redis"] = redis.Redis.from_url(url, decode_responses=True)
    return client


def beat(app: Flask) -> None:
    """Say this process is alive for another TTL_S."""
    client = _redis(app)
    client.set(_beat_key(PROCESS_ID), f"{time.time():.3f}", ex=int(TTL_S))
    client.sadd(PROCESSES, PROCESS_ID)


def start(app: Flask) -> bool:
    """At start-up (webapp/startup.py), with several processes: the first beat, the subscription that
    ends with the process, and the loop that beats and looks for dead processes."""
    client = _redis(app)
    if client is None:
        return False
    subscription = client.pubsub()
    subscription.subscribe(_channel(PROCESS_ID))  # held, never read: nothing is published to it
    app.extensions["visus_process_subscription"] = subscription
    beat(app)  # after the subscription: from now on this process is alive to the others
    socketio.start_background_task(_loop, app)
    return True


def _loop(app: Flask) -> None:
    while True:
        socketio.sleep(HEARTBEAT_S)
        try:
            beat(app)
            with app.app_context():
                sweep()
        except Exception:  # Redis or the database away for a moment: try again at the next beat
            app.logger.exception("process registry: heartbeat or sweep failed")


def alive(process_id: str) -> bool:
    if process_id == PROCESS_ID:
        return True
    client = _redis()
    if not client.exists(_beat_key(process_id)):
        return False
    return client.pubsub_numsub(_channel(process_id))[0][1] > 0


def record(sid: str) -> None:
    """A patient device connected here: remember which process holds its socket."""
    client = _redis()
    if client is None:
        return
    pipe = client.pipeline()
    pipe.set(_sid_key(sid), PROCESS_ID, ex=SID_TTL_S)
    pipe.sadd(_sids_key(PROCESS_ID), sid)
    pipe.execute()


def forget(sid: str) -> None:
    """A patient device disconnected from here."""
    client = _redis()
    if client is None:
        return
    pipe = client.pipeline()
    pipe.delete(_sid_key(sid))
    pipe.srem(_sids_key(PROCESS_ID), sid)
    pipe.execute()


def sid_alive(sid: str | None) -> bool:
    """Whether a stored device sid may still be a live socket (the device_replaced check). A sid of
    this process: whether it is one of its sockets; of a dead process: no; of a live one, or not
    recorded (it may live in another process): yes."""
    if sid is None:
        return False
    client = _redis()
    owner = client.get(_sid_key(sid)) if client is not None else PROCESS_ID
    if owner == PROCESS_ID:
        return socketio.server.manager.is_connected(sid, ev.PATIENT_NS)
    return owner is None or alive(owner)


def device_connected(sid: str | None) -> bool:
    """What the pages are told about a device (webapp/live/payloads.py). A process clears a sid on
    disconnect (and one process all of them at start-up), so a stored sid is a connection unless its
    process is dead. (A socket still connecting is not yet one to Socket.IO's manager, but is here.)"""
    if sid is None:
        return False
    client = _redis()
    if client is None:
        return True
    owner = client.get(_sid_key(sid))
    return owner is None or alive(owner)


def sweep() -> int:
    """Forget the device sids of dead processes and tell the clinicians; returns how many sessions
    changed. Each dead process is handled once, by the process that removes it from PROCESSES."""
    from webapp.live.patient import tell_device_status  # it imports this module
    from webapp.models import TestSession

    client = _redis()
    changed = 0
    for process_id in client.smembers(PROCESSES):
        if alive(process_id) or not client.srem(PROCESSES, process_id):
            continue
        sids = list(client.smembers(_sids_key(process_id)))
        if sids:
            sessions = db.session.scalars(
                select(TestSession).where(or_(TestSession.display_sid.in_(sids), TestSession.pad_sid.in_(sids)))
            ).all()
            db.session.execute(update(TestSession).where(TestSession.display_sid.in_(sids)).values(display_sid=None))
            db.session.execute(update(TestSession).where(TestSession.pad_sid.in_(sids)).values(pad_sid=None))
            db.session.commit()
            for session in sessions:
                db.session.refresh(session)
                tell_device_status(session)
            changed += len(sessions)
            client.delete(*[_sid_key(sid) for sid in sids])
        client.delete(_sids_key(process_id))
        current_app.logger.info(
            "process registry: %s is gone; %d device connection(s) forgotten", process_id, len(sids)
        )
    return changed
