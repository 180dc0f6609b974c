"""The app for the tests: built on a SQLite file holding the migrated schema, the clinician and the
test set-up through the app's own routes, Socket.IO test clients, and every stored row."""

from __future__ import annotations

import re

from sqlalchemy import inspect, select, text

from webapp import create_app

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-only-key",
    "SOCKETIO_ASYNC_MODE": "threading",
    # Forms are tested for CSRF in tests/test_auth.py (csrf_app); elsewhere the token is noise.
    "WTF_CSRF_ENABLED": False,
    # One PBKDF2 round instead of scrypt (about 0.4 s a login on the CI machine): tests sign in
    # hundreds of times. Production keeps scrypt (webapp/config.py; tests/test_config.py checks it).
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
}


def make_app(db_path, **extra):
    """An app on the SQLite file `db_path`, as it is (building the app never migrates: see
    `with_schema`, and the `db_path` fixture's copy of a migrated database)."""
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", **extra})


def with_schema(app):
    """Bring the app's database to the latest migration (what `python3 server.py` does at start-up)."""
    from webapp.extensions import db
    from webapp.schema import upgrade_if_behind

    upgrade_if_behind(app)
    with app.app_context():
        db.engine.dispose()
    return app


def db_rows(app) -> dict:
    """Every row of every table (audit entries included): to show that nothing stored changed."""
    from webapp.extensions import db

    with app.app_context():
        db.session.remove()
        with db.engine.connect() as connection:
            # clinician_session: sign-in state, its last use written by any signed-in request (at most
            # once a minute), so a slow test would see it change; it holds no data of a test.
            names = [
                n for n in inspect(connection).get_table_names() if n not in ("alembic_version", "clinician_session")
            ]
            return {
                name: sorted(map(tuple, connection.execute(text(f'SELECT * FROM "{name}"'))), key=repr)
                for name in names
            }


def rules(app):
    """(path, methods) of every route."""
    return [(rule.rule, sorted(rule.methods - {"HEAD", "OPTIONS"})) for rule in app.url_map.iter_rules()]


def registered_events(namespace):
    """The socket events the server handles on `namespace`."""
    from webapp import socketio

    return set(socketio.server.handlers[namespace]) - {"connect", "disconnect"}


PASSWORD = "correct horse battery"
OTHER = "other@example.org"  # a second clinician

CALIBRATION = {
    "css_px_per_mm": 4.0,
    "device_pixel_ratio": 2.0,
    "viewport_css_px": [1600, 900],
    "scale_method": "card",
    "distance": {"method": "tape", "distance_mm": 3000},
    "user_agent": "pytest",
}

NEW_TEST = {
    "patient_reference": "Patient A",
    "eyes": "right_left",
    "optotype_set": "sloan",
    "procedure": "chart",
    "chart_presentation": "row",
    "correction": "none",
    "setup": "3m",
    "answer_mode": "patient",
}


def add_clinician(app, email="doc@example.org", password=PASSWORD):
    from webapp.auth.accounts import create_clinician

    with app.app_context():
        return create_clinician(email, password).id


def login(client, email="doc@example.org", password=PASSWORD):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.data
    return client


COLLEAGUE = "colleague@example.org"  # a second clinician of the first clinician's practice


def invite_colleague(admin_client, email=COLLEAGUE) -> str:
    """The practice's admin makes a colleague's invite link on the practice page; returns its path."""
    response = admin_client.post("/practice/invites", data={"email": email})
    assert response.status_code == 200, response.data[:2000]
    url = re.search(r'id="colleague-link"[^>]*value="([^"]+)"', response.get_data(as_text=True)).group(1)
    return "/join/" + url.rsplit("/join/", 1)[1]


def add_colleague(app, admin_client, email=COLLEAGUE, password=PASSWORD):
    """A colleague joins the admin's practice through the invite link; returns their signed-in client."""
    colleague = app.test_client()
    response = colleague.post(invite_colleague(admin_client, email), data={"password": password, "confirm": password})
    assert response.status_code == 302, response.data[:2000]
    return colleague


def create_test(client, **overrides):
    """POST the new-test form; returns (public_id, invite_token) read from the invite page it redirects to."""
    response = client.post("/sessions/new", data={**NEW_TEST, **overrides})
    assert response.status_code == 303, response.data[:2000]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    invite_url = re.search(r'value="([^"]+)"[^>]*data-invite-url', html).group(1)
    public_id = re.search(r'data-session-id="([^"]+)"', html).group(1)
    return public_id, invite_url.rsplit("/t/", 1)[1]


class SocketUser:
    """A Socket.IO test client on one namespace, with helpers to send with ack and read events."""

    def __init__(self, app, namespace, auth=None, flask_test_client=None):
        from webapp import socketio

        self.namespace = namespace
        self.client = socketio.test_client(app, namespace=namespace, auth=auth, flask_test_client=flask_test_client)
        self.pending = []

    @property
    def connected(self):
        return self.client.is_connected(self.namespace)

    def send(self, event, data=None):
        """Emit with an ack callback; returns the ack (handlers run synchronously in the test client)."""
        return self.client.emit(event, {} if data is None else data, namespace=self.namespace, callback=True)

    def received(self):
        """Every event received since the last call, as (name, payload)."""
        self.pending += [
            (r["name"], r["args"][0] if r["args"] else None) for r in self.client.get_received(self.namespace)
        ]
        events, self.pending = self.pending, []
        return events

    def last(self, name, events=None):
        matching = [payload for event, payload in (events if events is not None else self.received()) if event == name]
        return matching[-1] if matching else None

    def disconnect(self):
        if self.connected:
            self.client.disconnect(namespace=self.namespace)


# The credential cookies of the browser that opened each patient link (tokens are random, so one
# table serves every test): a later "open" is that browser again, as a reloaded page would be.
_BROWSER_COOKIES: dict[str, dict[str, str]] = {}


def browser_for(app, link):
    """A browser (Flask test client) holding the cookies of the one that opened a patient link: the
    first call opens it (the link is exchanged for the device's credential cookie); later calls,
    also on another app of the same database (a restarted server), give a browser with the same
    cookies. `link` is "/t/<token>" or "/pad/<pad token>"."""
    client = app.test_client()
    if link not in _BROWSER_COOKIES:
        client.get(link)  # a refused link leaves the browser without a credential
        _BROWSER_COOKIES[link] = {
            name: cookie.value
            for name in ("visus_display", "visus_pad")
            if (cookie := client.get_cookie(name)) is not None
        }
    for name, value in _BROWSER_COOKIES[link].items():
        client.set_cookie(name, value)
    return client


def display(app, token, browser=None):
    """The display of the browser that opened the invite link (or of `browser`)."""
    return SocketUser(
        app, "/patient", auth={"device": "display"}, flask_test_client=browser or browser_for(app, f"/t/{token}")
    )


def pad(app, pad_token, browser=None):
    """The pad of the phone that opened the pad link (or of `browser`)."""
    return SocketUser(
        app, "/patient", auth={"device": "pad"}, flask_test_client=browser or browser_for(app, f"/pad/{pad_token}")
    )


def watcher(app, http_client):
    return SocketUser(app, "/clinician", flask_test_client=http_client)


def pad_token_from_state(state):
    return state["pad_url"].rsplit("/pad/", 1)[1]


def start_testing(screen, calibration=None):
    """consent -> calibration -> ready on a display; returns the first stimulus."""
    assert screen.send("consent")["ok"]
    ack = screen.send("calibration", calibration or CALIBRATION)
    assert ack["ok"], ack
    assert screen.send("ready")["ok"]
    stimulus = screen.last("stimulus")
    assert stimulus is not None
    return stimulus


# ---- shared by the security and privacy tests ------------------------------------------------------


def page_urls(app, client):
    """Every GET route, filled in with a real session and real tokens."""
    public_id, token = create_test(client)
    pad_token = pad_token_from_state(display(app, token).last("state"))
    from webapp.extensions import db
    from webapp.models import TestSession

    with app.app_context():
        patient_id = db.session.scalar(select(TestSession).where(TestSession.public_id == public_id)).patient.public_id
    values = {
        "public_id": public_id,
        "patient_id": patient_id,
        "token": token,
        "pad_token": pad_token,
        "path:filename": "css/visus.css",
        "int:invite_id": "1",
        "code": "es",
    }
    urls = []
    for path, methods in rules(app):
        if "GET" in methods:
            urls.append(re.sub(r"<([^>]+)>", lambda m: values[m.group(1)], path))
    return urls + ["/no-such-page", "/t/" + "x" * 43]


def a_session_with_everything(app, client, note="reads slowly", **overrides):
    """A session with an answered trial, a calibration, a note and a page event; returns (id, token, display)."""
    public_id, token = create_test(client, **overrides)
    screen = display(app, token)
    stimulus = start_testing(screen)
    assert screen.send(
        "answer",
        {
            "trial_id": stimulus["trial_id"],
            "seq": stimulus["seq"],
            "responses": list(stimulus["optotypes"]),
            "response_time_ms": 800,
        },
    )["ok"]
    assert screen.send("page_event", {"kind": "hidden", "detail": {}})["ok"]
    live = watcher(app, client)
    assert live.send("note", {"session_id": public_id, "text": note})["ok"]
    return public_id, token, screen
