import os
import shutil

import pytest
from hypothesis import settings

# CI runs on a loaded 2-core machine: no per-example deadline there, and a derandomized search so a
# run is repeatable (a developer's run explores new examples; a failure found is saved and replayed).
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

from webapp import create_app

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-only-key",
    "SOCKETIO_ASYNC_MODE": "threading",
    # Forms are tested for CSRF in tests/test_auth.py (csrf_app); elsewhere the token is noise.
    "WTF_CSRF_ENABLED": False,
}


def make_app(db_path, **extra):
    """An app on the SQLite file `db_path` (brought to the latest migration by create_app)."""
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", **extra})


@pytest.fixture(scope="session")
def migrated_db_template(tmp_path_factory):
    """One database upgraded through migrations/ once; each test gets a copy (fast, same schema)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    app = make_app(path)
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()
    return path


@pytest.fixture
def db_path(tmp_path, migrated_db_template):
    path = tmp_path / "test.sqlite"
    shutil.copy(migrated_db_template, path)
    return path


@pytest.fixture
def app(db_path):
    app = make_app(db_path)
    yield app
    with app.app_context():
        from webapp.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---- helpers for the live-test tests ------------------------------------------------------------

PASSWORD = "correct horse battery"

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


def create_test(client, **overrides):
    """POST the new-test form; returns (public_id, invite_token) read from the invite page."""
    import re

    response = client.post("/sessions/new", data={**NEW_TEST, **overrides})
    assert response.status_code == 201, response.data[:2000]
    html = response.get_data(as_text=True)
    invite_url = re.search(r'value="([^"]+)"[^>]*data-invite-url', html).group(1)
    public_id = re.search(r'data-session-id="([^"]+)"', html).group(1)
    return public_id, invite_url.rsplit("/t/", 1)[1]


@pytest.fixture
def clinician_client(app, client):
    add_clinician(app)
    return login(client)


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
        self.pending += [(r["name"], r["args"][0] if r["args"] else None)
                         for r in self.client.get_received(self.namespace)]
        events, self.pending = self.pending, []
        return events

    def last(self, name, events=None):
        matching = [payload for event, payload in (events if events is not None else self.received()) if event == name]
        return matching[-1] if matching else None

    def disconnect(self):
        if self.connected:
            self.client.disconnect(namespace=self.namespace)


def display(app, token):
    return SocketUser(app, "/patient", auth={"token": token, "device": "display"})


def pad(app, pad_token):
    return SocketUser(app, "/patient", auth={"token": pad_token, "device": "pad"})


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


# One sync Playwright per process (its API refuses a second one in the same thread), shared by every
# browser test wherever it lives: tests/e2e, tests/faults, tests/test_security_browser.py.
@pytest.fixture(scope="session")
def playwright_instance():
    from tests.chromium import CHROMIUM

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    from tests.chromium import BROWSER_ARGS, CHROMIUM

    launched = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
    yield launched
    launched.close()
