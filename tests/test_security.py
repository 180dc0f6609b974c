"""Headers, CSRF, cookies, the secret key, invite tokens, rate limits and the server's log
(OWASP ASVS level 2; docs/security.md)."""

import re
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.app import (
    CALIBRATION,
    PASSWORD,
    SocketUser,
    add_clinician,
    create_test,
    db_rows,
    display,
    login,
    make_app,
    pad_token_from_state,
    page_urls,
    rules,
    start_testing,
    with_schema,
)
from webapp import security

ROOT = Path(__file__).resolve().parents[1]


# ---- headers on every page ------------------------------------------------------------------------


def test_every_page_sends_the_security_headers(app, clinician_client):
    urls = page_urls(app, clinician_client)
    assert len(urls) >= 20
    for url in urls:
        response = clinician_client.get(url)
        response.close()  # a static file is streamed
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp and "style-src 'self';" in csp, url
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "object-src 'none'" in csp
        assert headers["Referrer-Policy"] == "no-referrer", url
        assert headers["X-Content-Type-Options"] == "nosniff", url
        assert headers["X-Frame-Options"] == "DENY", url


def test_only_the_camera_frame_allows_eval_and_wasm_and_only_the_display_may_frame_it(app, clinician_client):
    """The distance guard's face landmarks run in /test/camera, framed by the display: that frame alone
    gets eval and WebAssembly and may be framed (by this origin only); the display keeps the strict policy."""
    _, token = create_test(clinician_client)
    patient = app.test_client()
    assert patient.get(f"/t/{token}").status_code == 303
    page = patient.get("/test")
    assert page.status_code == 200 and page.headers["Content-Security-Policy"] == security.CONTENT_SECURITY_POLICY
    assert page.headers["X-Frame-Options"] == "DENY"
    frame = patient.get("/test/camera")
    policy = frame.headers["Content-Security-Policy"]
    assert frame.status_code == 200 and b"face-frame.js" in frame.data
    assert policy == security.CAMERA_FRAME_CONTENT_SECURITY_POLICY and "unsafe-inline" not in policy
    assert "script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval';" in policy and policy.endswith("frame-ancestors 'self'")
    assert policy.replace(" 'unsafe-eval' 'wasm-unsafe-eval'", "").replace("ancestors 'self'", "ancestors 'none'") == (
        security.CONTENT_SECURITY_POLICY
    )
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN" and frame.headers["Cache-Control"] == "no-store"
    # Without the display's credential it is the display's friendly 404, under the strict policy.
    refused = app.test_client().get("/test/camera")
    assert refused.status_code == 404 and refused.headers["Content-Security-Policy"] == security.CONTENT_SECURITY_POLICY


def test_the_anonymous_pages_send_them_too(app, client):
    for url in ("/", "/login", "/setup", "/healthz"):
        response = client.get(url)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], url


def test_templates_have_nothing_a_strict_csp_blocks():
    """No inline script (a JSON data block is not run), no style attribute, no on* handler."""
    for template in (ROOT / "webapp" / "templates").rglob("*.html"):
        html = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, f"{template}: inline script {tag}"
        assert not re.search(r"\sstyle\s*=", html), f"{template}: a style attribute"
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), f"{template}: an inline event handler"


# ---- CSRF on every form -----------------------------------------------------------------------------


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_every_post_route_refuses_a_request_without_the_csrf_token(db_path):
    app = make_app(db_path, WTF_CSRF_ENABLED=True)
    add_clinician(app)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert (
        client.post("/login", data={"email": "doc@example.org", "password": PASSWORD, "csrf_token": token}).status_code
        == 302
    )
    page = client.get("/sessions/new").get_data(as_text=True)
    from tests.support.app import NEW_TEST

    created = client.post("/sessions/new", data={**NEW_TEST, "csrf_token": csrf_token(page)})
    assert created.status_code == 303
    public_id = created.headers["Location"].split("/")[2]
    before = db_rows(app)
    posts = [path for path, methods in rules(app) if "POST" in methods]
    assert len(posts) >= 5
    for path in posts:
        response = client.post(path.replace("<public_id>", public_id), data={**NEW_TEST, "confirm": "yes"})
        assert response.status_code in (400, 404), path  # /setup is 404 once a clinician exists
    assert db_rows(app) == before
    assert client.get("/").status_code == 200  # still signed in: the logout was refused too


# ---- cookies ------------------------------------------------------------------------------------------


def test_the_session_cookie_is_httponly_and_samesite(app, client):
    add_clinician(app)
    response = client.post("/login", data={"email": "doc@example.org", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_under_https_the_cookie_is_secure(db_path):
    app = make_app(db_path, PUBLIC_URL="https://visus.example.org")
    add_clinician(app)
    response = app.test_client().post(
        "/login", data={"email": "doc@example.org", "password": PASSWORD}, base_url="https://visus.example.org"
    )
    assert "Secure" in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in response.headers


def test_socketio_accepts_only_the_configured_origin(db_path):
    from webapp import socketio

    make_app(db_path, PUBLIC_URL="https://visus.example.org/base/")
    assert socketio.server.eio.cors_allowed_origins == ["https://visus.example.org"]
    make_app(db_path)  # no public URL: python-engineio's same-origin check (the request's Host)
    assert socketio.server.eio.cors_allowed_origins is None


# ---- the secret key -----------------------------------------------------------------------------------


def test_the_secret_key_comes_from_the_environment_or_is_made_once(tmp_path, monkeypatch):
    from webapp import create_app
    from webapp.config import from_environ, make_secret_key

    assert from_environ({})["SECRET_KEY"] is None  # never a default in code
    first = make_secret_key(str(tmp_path))  # start-up (webapp/startup.py)
    assert len(first) >= 64 and (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert make_secret_key(str(tmp_path)) == first
    assert make_secret_key(str(tmp_path / "elsewhere")) != first
    monkeypatch.setenv("VISUS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("VISUS_ASYNC_MODE", "threading")
    monkeypatch.delenv("VISUS_SECRET_KEY", raising=False)
    assert create_app().config["SECRET_KEY"] == first  # the instance folder's key
    monkeypatch.setenv("VISUS_SECRET_KEY", "from-the-environment")
    assert create_app().config["SECRET_KEY"] == "from-the-environment"


# ---- invite tokens ------------------------------------------------------------------------------------


def test_invite_tokens_are_random_long_and_stored_only_hashed(app, clinician_client):
    import base64

    public_id, token = create_test(clinician_client)
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
    assert len({create_test(clinician_client)[1] for _ in range(5)}) == 5
    pad_token = pad_token_from_state(display(app, token).last("state"))
    stored = repr(db_rows(app))
    assert token not in stored and pad_token not in stored and public_id in stored


def test_invites_expire_after_24_hours_by_default_and_then_change_nothing(app, clinician_client):
    from webapp.extensions import db
    from webapp.models import TestSession, utcnow

    assert app.config["INVITE_TTL_HOURS"] == 24
    public_id, token = create_test(clinician_client)
    with app.app_context():
        session = db.session.query(TestSession).filter_by(public_id=public_id).one()
        assert abs(session.invite_expires_at - (utcnow() + timedelta(hours=24))) < timedelta(minutes=1)
        session.invite_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    before = db_rows(app)
    assert clinician_client.get(f"/t/{token}").status_code == 410
    assert not display(app, token).connected
    assert db_rows(app) == before


def test_a_revoked_invite_stops_working_at_once(app, clinician_client):
    public_id, token = create_test(clinician_client)
    screen = display(app, token)
    start_testing(screen)
    assert clinician_client.post(f"/sessions/{public_id}/invite/revoke").status_code == 303
    assert not screen.connected
    before = db_rows(app)
    assert clinician_client.get(f"/t/{token}").status_code == 410
    assert not display(app, token).connected
    assert db_rows(app) == before


# ---- rate limits ----------------------------------------------------------------------------------------


def test_failed_logins_are_limited_per_address_and_good_ones_are_not_counted(db_path):
    app = make_app(db_path, LOGIN_RATE_LIMIT="3 per minute")
    add_clinician(app)
    client = app.test_client()
    for _ in range(5):  # good logins never count
        login(client)
        assert client.post("/logout").status_code == 302
    for _ in range(3):
        assert client.post("/login", data={"email": "doc@example.org", "password": "wrong password"}).status_code == 401
    limited = client.post("/login", data={"email": "doc@example.org", "password": PASSWORD})
    assert limited.status_code == 429 and b"Wait " in limited.data
    assert "Retry-After" in limited.headers
    other_address = app.test_client()
    assert (
        other_address.post(
            "/login", data={"email": "doc@example.org", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.2"}
        ).status_code
        == 302
    )


def test_the_default_login_limit_stops_a_guesser(app, client):
    add_clinician(app)
    codes = [
        client.post("/login", data={"email": "doc@example.org", "password": f"guess {i}"}).status_code
        for i in range(12)
    ]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]


def test_invite_lookups_are_limited_per_address(db_path):
    app = make_app(db_path, LINK_RATE_LIMIT="5 per minute")
    add_clinician(app)
    client = login(app.test_client())
    _, token = create_test(client)
    for _ in range(8):  # a valid link is not counted (exchanged, then back to the test in this browser)
        assert client.get(f"/t/{token}").status_code == 303
    codes = [client.get(f"/t/{'x' * 40}{i:03d}").status_code for i in range(5)]
    assert codes == [404] * 5
    limited = client.get(f"/t/{'y' * 43}")
    assert limited.status_code == 429 and "Retry-After" in limited.headers and b"Wait " in limited.data
    assert client.get(f"/t/{token}").status_code == 303  # a working link is never held up
    assert client.get("/test").status_code == 200  # the credential is not a lookup


def test_socket_events_are_limited_with_a_clear_ack(db_path):
    app = make_app(db_path, SOCKET_RATE_LIMIT=(3, 0.001))
    add_clinician(app)
    client = login(app.test_client())
    _, token = create_test(client)
    screen = display(app, token)
    assert [screen.send("page_event", {"kind": "visible", "detail": {}})["ok"] for _ in range(3)] == [True] * 3
    before = db_rows(app)
    ack = screen.send("page_event", {"kind": "visible", "detail": {}})
    assert ack["ok"] is False and ack["error"] == "rate_limited" and ack["retry_after_s"] > 0
    assert "wait" in ack["message"]
    assert db_rows(app) == before
    assert screen.send("consent")["ok"]  # a bucket per event: another event still passes


def test_refused_connects_are_limited_per_address_but_a_good_link_still_connects(db_path):
    app = make_app(db_path, SOCKET_CONNECT_RATE_LIMIT=(3, 0.001))
    add_clinician(app)
    client = login(app.test_client())
    _, token = create_test(client)
    assert display(app, token).connected  # good connects are not counted
    assert display(app, token).connected
    for i in range(3):
        forged = app.test_client()
        forged.set_cookie("visus_display", f"{'z' * 40}{i:03d}")
        assert not SocketUser(app, "/patient", auth={"device": "display"}, flask_test_client=forged).connected
    assert display(app, token).connected  # someone else's bad credentials from this address do not lock it out


def test_a_load_test_may_set_the_socket_limits_from_the_environment(db_path, monkeypatch):
    monkeypatch.setenv("VISUS_SOCKET_RATE_LIMIT", "1000,500")
    app = make_app(db_path)
    assert app.extensions["visus_socket_limiter"].burst == 1000
    monkeypatch.setenv("VISUS_SOCKET_RATE_LIMIT", "fast")
    with pytest.raises(ValueError, match="burst,per_second"):
        make_app(db_path)


def test_a_token_bucket_refills_at_its_rate(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(security.time, "time", lambda: now[0])
    bucket = security.SocketLimiter(2, 0.5)
    bucket.hit("k"), bucket.hit("k")
    with pytest.raises(security.RateLimited) as refused:
        bucket.hit("k")
    assert refused.value.retry_after_s == pytest.approx(2.0)
    now[0] += 2.0
    bucket.hit("k")
    bucket.hit("other key")
    with pytest.raises(ValueError, match="burst"):
        security.SocketLimiter(0, 1)


def test_the_socket_limiter_shares_its_buckets_through_redis(tmp_path):
    import shutil
    import subprocess

    from devtools.servers import free_port

    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        import time

        import redis

        client = redis.Redis(port=port)
        for _ in range(200):  # polling a starting process: there is no event to await
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        url = f"redis://127.0.0.1:{port}/0"
        one, two = security.SocketLimiter(3, 0.001, url), security.SocketLimiter(3, 0.001, url)
        one.hit("answer:sid"), two.hit("answer:sid"), one.hit("answer:sid")
        with pytest.raises(security.RateLimited):
            two.hit("answer:sid")  # the second process sees the first one's tokens taken
        with pytest.raises(security.RateLimited):
            two.check("answer:sid")
        two.check("another")
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


# ---- no token in the server's log ---------------------------------------------------------------------


def test_the_servers_output_never_contains_a_token(tmp_path):
    """python server.py (eventlet's WSGI server, its access log included): open a link, a bad
    link, connect a display and a pad, then read everything it printed."""
    import requests
    import socketio as socketio_client

    from tests.support.server import ServerProcess

    server = ServerProcess(tmp_path)
    app = with_schema(make_app(server.db_path, SECRET_KEY=server.secret_key))
    add_clinician(app)
    public_id, token = create_test(login(app.test_client()))
    server.start()
    try:
        browser = requests.Session()
        opened = browser.get(f"{server.base_url}/t/{token}", timeout=10)
        assert opened.status_code == 200 and [r.status_code for r in opened.history] == [303]
        bad = "b" * 43
        assert requests.get(f"{server.base_url}/t/{bad}", timeout=10).status_code == 404
        sio = socketio_client.SimpleClient()
        sio.connect(
            server.base_url,
            namespace="/patient",
            auth={"device": "display"},
            headers={"Cookie": f"visus_display={browser.cookies['visus_display']}"},
            transports=["websocket"],
        )
        name, state = sio.receive(timeout=10)
        assert name == "state"
        pad_token = pad_token_from_state(state)
        assert requests.get(f"{server.base_url}/pad/{pad_token}", timeout=10).history[0].status_code == 303
        ack = sio.call("calibration", {**CALIBRATION, "css_px_per_mm": -1}, timeout=10)
        assert ack["ok"] is False
        sio.disconnect()
        import websocket

        ws_url = server.base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        with pytest.raises(websocket.WebSocketBadStatusException):  # cross-site: refused before Socket.IO
            websocket.create_connection(ws_url, origin="https://evil.example", timeout=10)
        same_site = websocket.create_connection(ws_url, origin=server.base_url, timeout=10)
        assert same_site.recv().startswith("0{")  # engine.io's open packet
        same_site.close()
        refused = socketio_client.SimpleClient()
        with pytest.raises(socketio_client.exceptions.ConnectionError):
            refused.connect(
                server.base_url,
                namespace="/patient",
                auth={"device": "display"},
                headers={"Cookie": f"visus_display={bad}"},
                transports=["websocket"],
            )
    finally:
        server.stop()
    output = server.log_path.read_text()
    for secret in (token, bad, pad_token, browser.cookies["visus_display"]):
        assert secret not in output
    assert "Patient A" not in output  # nor the patient's reference
