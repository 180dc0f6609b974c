import shutil

import pytest

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
