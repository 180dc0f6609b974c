"""Issue 12's holes, one test each: open redirect, login timing and weak credentials, CSV cells,
no-store and headers on /socket.io/, SQLite's deleted content and file modes, cross-site exports,
a client's "disconnect" event (docs/security.md)."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select, text

from devtools.patient_links import invite_headers
from tests.support.app import NEW_TEST, PASSWORD, add_clinician, login, make_app, with_schema
from webapp.extensions import db
from webapp.models import Clinician

# ---- 1. open redirect after sign-in ---------------------------------------------------------------

BYPASSES = [
    "//evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/%09/evil.example",
    "%2F%09%2Fevil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "https:evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "/%0A/x",
    "/%0D%0ALocation:%20//evil.example",
    "%0A/x",
    "/%5Cevil.example",
    "/%E3%80%80/evil.example",
    "///evil.example",
    " /x",
    "/%20/evil.example",
    "http:/evil.example",
    "data:text/html,x",
    "%252F%252Fevil.example",
]


@pytest.mark.parametrize("target", BYPASSES)
def test_login_never_redirects_off_the_site(app, client, target):
    add_clinician(app)
    response = client.post(f"/login?next={target}", data={"email": "doc@example.org", "password": PASSWORD})
    assert response.status_code == 302, response.data[:500]
    assert response.headers["Location"] == "/", target


def test_login_still_returns_to_a_page_of_this_site(app, client):
    add_clinician(app)
    response = client.post(
        "/login?next=%2Fsessions%2Fnew%3Fa%3D1", data={"email": "doc@example.org", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/sessions/new?a=1"


# ---- 2. login timing, common passwords, e-mail form -----------------------------------------------


def test_an_unknown_email_costs_the_same_password_hash_check_as_a_wrong_password(app, client, monkeypatch):
    """Counted through werkzeug's real check_password_hash (not a stand-in): one scrypt check each way,
    with the same method and cost as the stored hashes."""
    from webapp.auth import accounts

    add_clinician(app)
    real = accounts.check_password_hash
    methods = []

    def counting(pwhash, password):
        methods.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    assert client.post("/login", data={"email": "doc@example.org", "password": "wrong password"}).status_code == 401
    known = list(methods)
    methods.clear()
    assert client.post("/login", data={"email": "nobody@example.org", "password": "wrong password"}).status_code == 401
    assert len(known) == 1 and methods == known  # e.g. ["scrypt:32768:8:1"]


@pytest.mark.parametrize("password", ["1234567890", "qwertyuiop", "Password123", "1q2w3e4r5t", "IloveYou123"])
def test_a_common_password_is_refused_with_a_clear_message(app, client, password):
    response = client.post("/setup", data={"email": "a@example.org", "password": password, "confirm": password})
    assert response.status_code == 200
    assert b"most common passwords" in response.data
    with app.app_context():
        assert db.session.scalar(select(Clinician)) is None


@pytest.mark.parametrize(
    "email",
    [
        "x@y",
        "x@y.",
        "x@.com",
        "@example.org",
        "a b@example.org",
        "a@b@example.org",
        "a@example.c",
        "a@exa mple.org",
        "a@-example.org",
    ],
)
def test_an_email_without_the_form_local_at_domain_tld_is_refused(app, client, email):
    response = client.post("/setup", data={"email": email, "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 200 and b"valid email address" in response.data
    with app.app_context():
        assert db.session.scalar(select(Clinician)) is None


def test_the_cli_refuses_a_common_password_and_a_bad_email(app, runner):
    weak = runner.invoke(args=["create-clinician", "weak@example.org", "--password", "1234567890"])
    assert weak.exit_code != 0 and "most common passwords" in weak.output
    bad = runner.invoke(args=["create-clinician", "x@y", "--password", PASSWORD])
    assert bad.exit_code != 0 and "valid email address" in bad.output
    ok = runner.invoke(args=["create-clinician", "Dr.Who+visus@Clinic.example.org", "--password", PASSWORD])
    assert ok.exit_code == 0, ok.output


# ---- 3. CSV cells -----------------------------------------------------------------------------------

NASTY = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "a;=1+1",
    "a,=1+1",
    'say "hi";=1',
    "line\nbreak",
    " =1+1",
]


def split_in_every_locale(text: str) -> list[list[str]]:
    """Every cell as a spreadsheet would read the file with `,`, `;` or tab as its separator."""
    cells = []
    for delimiter in (",", ";", "\t"):
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            cells += row
    return cells


def test_no_csv_cell_is_a_formula_in_any_locale():
    from webapp.reports import csv_export

    rows = [{"a": nasty, "b": "-0.25", "c": "x"} for nasty in NASTY]
    text = csv_export.write_csv(["a", "b", "c"], rows)
    for cell in split_in_every_locale(text):
        assert not cell.lstrip(" \t\r\n").startswith(("=", "+", "@")), (cell, text)
        assert not cell.lstrip(" \t\r\n").startswith("-") or cell == "-0.25", (cell, text)
    read = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["a"] for r in read] == [
        "'" + n if n.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r", "\n")) else n for n in NASTY
    ]
    assert {r["b"] for r in read} == {"-0.25"} and {r["c"] for r in read} == {"x"}  # numbers stay numbers


def test_a_semicolon_cell_is_quoted():
    from webapp.reports import csv_export

    text = csv_export.write_csv(["a", "b"], [{"a": "x;=HYPERLINK(1)", "b": "1"}])
    assert text == 'a,b\r\n"x;=HYPERLINK(1)",1\r\n'


# ---- 4. no-store everywhere but static files; the same headers on /socket.io/ ------------------------


def test_every_page_but_static_files_is_no_store(app, clinician_client):
    from tests.support.app import page_urls

    urls = page_urls(app, clinician_client)
    public_id = next(u for u in urls if u.startswith("/sessions/") and u.count("/") >= 3).split("/")[2]
    for url in urls + [f"/sessions/{public_id}", f"/sessions/{public_id}/result", "/", "/sessions/new"]:
        response = clinician_client.get(url)
        response.close()
        if url.startswith("/static/"):
            assert "no-store" not in response.headers.get("Cache-Control", ""), url
        elif url.startswith("/i18n/"):  # the same catalog for everyone: revalidated by its ETag
            assert response.headers.get("ETag") and "no-store" not in response.headers.get("Cache-Control", ""), url
        elif url != "/optotypes.json":  # the same geometry for everyone: cached an hour
            assert response.headers.get("Cache-Control") == "no-store", url
    created = clinician_client.post("/sessions/new", data=NEW_TEST)
    assert created.status_code == 303
    invite = clinician_client.get(created.headers["Location"])
    assert invite.status_code == 200 and invite.headers["Cache-Control"] == "no-store"


def test_socketio_responses_carry_the_security_headers(app, client):
    from webapp.security import CONTENT_SECURITY_POLICY

    responses = [
        client.get("/socket.io/?EIO=4&transport=polling"),  # an Engine.IO handshake
        client.get("/socket.io/?EIO=4&transport=polling&sid=nonexistent"),  # refused
        client.get("/socket.io/?EIO=1&transport=bogus"),
    ]
    assert responses[0].status_code == 200 and responses[0].get_data(as_text=True).startswith("0{")
    for response in responses:
        headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert len(headers.getlist("Content-Security-Policy")) == 1


# ---- 5. SQLite: deleted content overwritten, files 0600 ----------------------------------------------


def test_sqlite_files_are_private_and_a_deletion_leaves_nothing_in_them(tmp_path):
    import os
    import stat

    from tests.support.app import a_session_with_everything
    from webapp.config import make_secret_key

    path = tmp_path / "visus.sqlite"
    app = with_schema(make_app(path))  # a new database file, made through the app
    make_secret_key(str(tmp_path / "instance"))  # what start-up does without VISUS_SECRET_KEY
    add_clinician(app)
    owner = login(app.test_client())
    reference = "Zebra-Patient-7731"
    public_id, _, _ = a_session_with_everything(app, owner, note="Unique-Note-5521", patient_reference=reference)
    keep_id, _, _ = a_session_with_everything(app, owner, patient_reference="Kept-Patient-1100")
    for name in ("visus.sqlite", "visus.sqlite-wal", "visus.sqlite-shm", "instance/secret_key"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600, name
    wal = (tmp_path / "visus.sqlite-wal").read_bytes() + path.read_bytes()
    assert reference.encode() in wal or b"Kept-Patient-1100" in wal  # the bytes are searchable at all
    response = owner.post(f"/sessions/{public_id}/delete", data={"confirm": "yes"})
    assert response.status_code == 302
    raw = path.read_bytes() + (tmp_path / "visus.sqlite-wal").read_bytes()
    for secret in (reference, "Unique-Note-5521"):
        assert secret.encode() not in raw, secret
    assert owner.get(f"/sessions/{keep_id}/result").status_code == 200  # the other session is whole
    with app.app_context():
        assert db.session.execute(text("PRAGMA secure_delete")).scalar() == 1
        db.engine.dispose()


# ---- a real server.py for the socket tests ---------------------------------------------------------


@pytest.fixture
def real_server(tmp_path):
    """server.py as a subprocess on its own database, with a clinician and a test made there."""
    from tests.support.app import create_test
    from tests.support.server import ServerProcess

    server = ServerProcess(tmp_path)
    app = with_schema(make_app(server.db_path, SECRET_KEY=server.secret_key))
    add_clinician(app)
    public_id, token = create_test(login(app.test_client()))
    server.start()
    server.app, server.public_id, server.token = app, public_id, token
    yield server
    server.stop()
    with app.app_context():
        db.engine.dispose()


def stored_session(app, public_id):
    from webapp.models import TestSession

    with app.app_context():
        db.session.remove()
        return db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))


# ---- 7. a client's event named "disconnect" ------------------------------------------------------------


def test_an_event_named_disconnect_from_a_client_changes_nothing(real_server):
    import socketio as socketio_client

    sio = socketio_client.SimpleClient()
    sio.connect(
        real_server.base_url,
        namespace="/patient",
        auth={"device": "display"},
        headers=invite_headers(real_server.base_url, real_server.token),  # the link, exchanged for its cookie
        transports=["websocket"],
    )
    try:
        assert sio.receive(timeout=10)[0] == "state"
        before = stored_session(real_server.app, real_server.public_id).display_sid
        assert before
        sio.emit("disconnect", "client namespace disconnect")
        assert sio.call("page_event", {"kind": "visible", "detail": {}}, timeout=10)["ok"]  # after the one above
        assert stored_session(real_server.app, real_server.public_id).display_sid == before  # still shown connected
        for name in ("disconnect", "connect", "disconnecting"):
            ack = sio.call(name, {"token": real_server.token, "device": "display"}, timeout=10)
            assert ack["ok"] is False and ack["error"] == "bad_event", ack
        assert stored_session(real_server.app, real_server.public_id).display_sid == before  # still shown connected
        assert sio.call("consent", {}, timeout=10)["ok"]  # and the socket still works
    finally:
        sio.disconnect()


# ---- 9. malformed Engine.IO / Socket.IO packets ------------------------------------------------------

MALFORMED = [
    "4{bad",
    "42[",
    "4\x00",
    "42/patient,[{]",
    "45",
    "451-[",
    "4a",
    "4-1",
    "44",
    "46",
    "40{",
    "42/x,1[",
    "4" + "9" * 30 + '["a"]',
    "40/nonexistent,{",
]


def test_malformed_packets_are_dropped_with_at_most_one_log_line(real_server):
    """500 malformed packets over real WebSockets, no token needed: the log grows by a line or two,
    not by a traceback each, and the server still serves."""
    import requests
    import socketio as socketio_client
    import websocket

    ws_url = real_server.base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    log_before = real_server.log_path.read_text()
    sent = 0
    ws = None
    while sent < 500:
        if ws is None:
            ws = websocket.create_connection(ws_url, origin=real_server.base_url, timeout=10)
            assert ws.recv().startswith("0{")
        try:
            ws.send(MALFORMED[sent % len(MALFORMED)])
            sent += 1
        except (websocket.WebSocketException, OSError):
            ws = None  # the server closed it after a malformed packet: open another
    ws.close()
    assert requests.get(real_server.base_url + "/healthz", timeout=10).ok
    sio = socketio_client.SimpleClient()  # the real protocol still works
    sio.connect(
        real_server.base_url,
        namespace="/patient",
        auth={"device": "display"},
        headers=invite_headers(real_server.base_url, real_server.token),  # the link, exchanged for its cookie
        transports=["websocket"],
    )
    assert sio.receive(timeout=10)[0] == "state"
    assert sio.call("consent", {}, timeout=10)["ok"]
    sio.disconnect()
    grown = real_server.log_path.read_text()[len(log_before) :]
    assert "Traceback" not in grown, grown[:3000]
    assert len(grown.splitlines()) <= 3, grown[:3000]
    assert "malformed Socket.IO packet" in grown and "4{bad" not in grown


# ---- 8. server.py: TCP_NODELAY on every connection, a port never shared ------------------------------


def test_a_second_server_on_a_port_in_use_refuses_to_start_and_the_first_still_serves(tmp_path):
    import os
    import subprocess
    import sys

    import requests

    from devtools.servers import ROOT
    from tests.support.server import ServerProcess

    first = ServerProcess(tmp_path).start()
    try:
        env = {
            **os.environ,
            "VISUS_HOST": "127.0.0.1",
            "VISUS_PORT": str(first.port),
            "VISUS_SECRET_KEY": "another key",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'second.sqlite'}",
        }
        try:
            second = subprocess.run(
                [sys.executable, "server.py"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"a second server started on port {first.port}, which the first one holds")
        assert second.returncode != 0
        assert f"port {first.port}" in second.stderr and "VISUS_PORT" in second.stderr, second.stderr
        assert not (tmp_path / "second.sqlite").exists() or (tmp_path / "second.sqlite").stat().st_size == 0
        for _ in range(5):  # every request reaches the first one
            assert requests.get(first.base_url + "/healthz", timeout=10).ok
    finally:
        first.stop()


def test_every_accepted_connection_has_tcp_nodelay():
    """server.py's protocol class (the one it gives socketio.run) on eventlet's real WSGI server, in a
    process of its own (server.py monkey-patches at import): the accepted connection has TCP_NODELAY."""
    import subprocess
    import sys

    from devtools.servers import ROOT

    script = (
        "import socket, urllib.request, eventlet, eventlet.wsgi, server\n"
        "seen = []\n"
        "class Probe(server.NoDelayHttpProtocol):\n"
        "    def setup(self):\n"
        "        super().setup()\n"
        "        seen.append(self.request.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))\n"
        "listener = eventlet.listen(('127.0.0.1', 0))\n"
        "app = lambda environ, start: (start('200 OK', []), [b'ok'])[1]\n"
        "eventlet.spawn(eventlet.wsgi.server, listener, app, protocol=Probe, log_output=False)\n"
        "urllib.request.urlopen(f'http://127.0.0.1:{listener.getsockname()[1]}/', timeout=10).read()\n"
        "print('nodelay', seen)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "nodelay [1]" in result.stdout, result.stdout


def test_server_py_runs_through_socketio_run_with_that_protocol():
    """The product's rule: eventlet runs through socketio.run (monkey_patch first); the protocol with
    TCP_NODELAY is the one it is given (read from server.py's syntax tree: no process can show it)."""
    import ast

    from devtools.servers import ROOT

    tree = ast.parse((ROOT / "server.py").read_text())
    first = tree.body[1] if isinstance(tree.body[0], ast.Expr) else tree.body[0]  # after the docstring
    assert isinstance(first, ast.Import) and first.names[0].name == "eventlet"
    runs = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "run"
        and getattr(node.func.value, "id", None) == "socketio"
    ]
    assert len(runs) == 1
    protocol = {kw.arg: kw.value for kw in runs[0].keywords}.get("protocol")
    assert isinstance(protocol, ast.Name) and protocol.id == "NoDelayHttpProtocol"


# ---- 10. nginx (deploy/): no link token in the access log ------------------------------------------------

NGINX_WITH_ACCESS_LOG = """\
{user}worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream visus {{ server 127.0.0.1:{backend}; }}
    server {{
        listen 127.0.0.1:{port};
        include {snippet};
    }}
}}
"""


def test_the_shipped_nginx_config_keeps_link_tokens_out_of_its_access_log(real_server, tmp_path):
    """Debian's nginx with deploy/nginx/visus-proxy.conf in front of server.py, logging every request."""
    import os
    import shutil
    import subprocess

    import requests

    from devtools.cluster import PROXY_SNIPPET
    from devtools.servers import free_port, port_open, stop_process, wait_for

    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        pytest.skip("Debian's nginx is not installed (scripts/test.sh installs it)")
    workdir = tmp_path / "nginx"
    workdir.mkdir()
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(
        NGINX_WITH_ACCESS_LOG.format(
            user="user root;\n" if os.geteuid() == 0 else "",
            dir=workdir,
            backend=real_server.port,
            port=port,
            snippet=PROXY_SNIPPET,
        )
    )
    process = subprocess.Popen(
        [nginx, "-e", str(workdir / "error.log"), "-p", str(workdir), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: port_open(port), "nginx", process=process, log=workdir / "error.log")
        base = f"http://127.0.0.1:{port}"
        token = real_server.token
        page = requests.get(f"{base}/t/{token}", timeout=10)
        assert page.status_code == 200 and "X-Content-Type-Options" in page.headers  # proxied to Visus
        assert requests.get(f"{base}/pad/{'p' * 43}?x=1", timeout=10).status_code == 404
        assert requests.get(f"{base}/t/{'q' * 43}", timeout=10).status_code == 404
        assert requests.get(f"{base}/healthz", timeout=10).ok
    finally:
        stop_process(process)
    log = (workdir / "access.log").read_text()
    assert "/healthz" in log  # the log works
    for secret in (token, "p" * 43, "q" * 43):
        assert secret not in log, log


# ---- 6. audited reads and exports refuse requests another site started --------------------------------


def audit_count(app) -> int:
    from webapp.audit import AuditEntry

    with app.app_context():
        db.session.remove()
        return len(db.session.scalars(select(AuditEntry)).all())


def test_audited_reads_refuse_a_cross_site_request_and_record_nothing(app, clinician_client):
    from tests.support.app import create_test

    public_id, _ = create_test(clinician_client)
    urls = [
        "/exports/results.csv",
        "/exports/trials.csv",
        f"/sessions/{public_id}/results.csv",
        f"/sessions/{public_id}/trials.csv",
        f"/sessions/{public_id}/fhir.json",
        f"/sessions/{public_id}/report",
        f"/sessions/{public_id}/report.pdf",
        f"/sessions/{public_id}/history",
        f"/sessions/{public_id}/result",
        f"/sessions/{public_id}",
        f"/sessions/{public_id}/audit",
    ]
    for url in urls:
        before = audit_count(app)
        for site in ("cross-site", "same-site"):
            refused = clinician_client.get(url, headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "navigate"})
            assert refused.status_code == 403, url
            assert f'href="{url}"' in refused.get_data(as_text=True) and refused.headers["Cache-Control"] == "no-store"
        assert audit_count(app) == before, url
        for site in ("same-origin", "none", None):
            headers = {"Sec-Fetch-Site": site} if site else {}
            assert clinician_client.get(url, headers=headers).status_code == 200, (url, site)
        assert audit_count(app) > before, url


@pytest.mark.browser
def test_in_chromium_the_download_links_work_and_a_link_from_another_site_is_refused(tmp_path, browser):
    from tests.support.flows import create_test, sign_in
    from tests.support.server import ServerProcess

    server = ServerProcess(tmp_path).start()  # migrates its database at start-up
    app = make_app(server.db_path, SECRET_KEY=server.secret_key)
    context = browser.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        sign_in(page, server.base_url)
        _, public_id = create_test(page, server.base_url, eyes="right")
        page.goto(f"{server.base_url}/sessions/{public_id}/result")
        before = audit_count(app)
        with page.expect_download() as download:
            page.click("text=results CSV")
        assert download.value.suggested_filename == f"visus-results-{public_id}.csv"
        page.goto(f"{server.base_url}/")
        with page.expect_download() as download:
            page.click("text=results CSV")
        assert download.value.suggested_filename == "visus-results.csv"
        after_own_clicks = audit_count(app)
        assert after_own_clicks > before
        # Another site links to the export (the session cookie is SameSite=Lax: it goes along).
        evil = context.new_page()
        evil.route(
            "http://evil.example/",
            lambda route: route.fulfill(
                content_type="text/html", body=f'<a id="go" href="{server.base_url}/exports/results.csv">free stuff</a>'
            ),
        )
        evil.goto("http://evil.example/")
        with evil.expect_navigation():
            evil.click("#go")
        assert "Open it from Visus" in evil.content()
        assert audit_count(app) == after_own_clicks  # nothing written in the clinician's name
        with evil.expect_download() as download:  # the clinician may still choose to open it
            evil.click("[data-cross-site-continue]")
        assert download.value.suggested_filename == "visus-results.csv"
    finally:
        context.close()
        server.stop()
        with app.app_context():
            db.engine.dispose()


# ---- 11. sign-out ends the session on the server; idle and absolute lifetimes ------------------------------


def copy_of_cookies(app, client):
    """Another client holding exactly the cookies `client` holds now (a stolen or copied cookie)."""
    thief = app.test_client()
    for cookie in client._cookies.values():
        thief.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return thief


SIGNED_IN_PAGES = ["/sessions/new", "/exports/results.csv", "/exports/trials.csv", "/audit"]


def test_a_cookie_copied_before_sign_out_opens_nothing_afterwards(app, clinician_client):
    from tests.support.app import watcher

    thief = copy_of_cookies(app, clinician_client)
    for url in SIGNED_IN_PAGES:
        assert thief.get(url).status_code == 200, url  # the copy works while the sign-in lasts
    live = watcher(app, clinician_client)
    assert live.connected
    assert clinician_client.post("/logout").status_code == 302
    assert not live.connected  # the open live view of that sign-in was disconnected
    for url in SIGNED_IN_PAGES:
        response = thief.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url
    assert not watcher(app, thief).connected  # no new clinician socket either
    login(clinician_client)  # a new sign-in works
    assert clinician_client.get("/sessions/new").status_code == 200
    assert thief.get("/sessions/new").status_code == 302


def test_an_open_live_view_cannot_steer_after_its_sign_in_ended(app, clinician_client):
    """A socket this process could not disconnect (say, held by another process) is refused at its next
    event, because every event loads the clinician through the server-side session."""
    from tests.support.app import create_test, display, start_testing, watcher
    from webapp.auth import sessions

    public_id, token = create_test(clinician_client)
    start_testing(display(app, token))
    live = watcher(app, clinician_client)
    assert live.send("watch", {"session_id": public_id})["ok"]
    with app.app_context():
        ended = sessions.ClinicianSession.query.update({"revoked_at": sessions.utcnow()})
        db.session.commit()
        assert ended == 1
    before = audit_count(app)
    for event, data in (
        ("note", {"session_id": public_id, "text": "after sign-out"}),
        ("end", {"session_id": public_id}),
    ):
        ack = live.send(event, data)
        assert ack["ok"] is False and ack["error"] == "forbidden", ack
    assert audit_count(app) == before


def test_a_sign_in_ends_after_the_idle_and_the_absolute_lifetime(app, clinician_client, monkeypatch):
    from datetime import timedelta

    from webapp.auth import sessions

    start = sessions.utcnow()
    clock = [start]
    monkeypatch.setattr(sessions, "utcnow", lambda: clock[0])
    clinician_client.post("/logout")
    login(clinician_client)  # signed in at `start`
    assert app.config["SESSION_IDLE_MINUTES"] == 30 and app.config["SESSION_MAX_HOURS"] == 12
    # Busy: a request every 20 minutes keeps it alive, up to 12 hours after the sign-in.
    while clock[0] + timedelta(minutes=20) < start + timedelta(hours=12):
        clock[0] += timedelta(minutes=20)
        assert clinician_client.get("/sessions/new").status_code == 200, clock[0] - start
    clock[0] = start + timedelta(hours=12, minutes=1)
    assert clinician_client.get("/sessions/new").status_code == 302  # absolute lifetime
    login(clinician_client)
    clock[0] += timedelta(minutes=29)
    assert clinician_client.get("/sessions/new").status_code == 200
    clock[0] += timedelta(minutes=31)
    assert clinician_client.get("/sessions/new").status_code == 302  # idle lifetime


def test_a_password_change_or_a_removed_account_ends_every_sign_in(app, client, runner):
    from tests.support.app import add_clinician as add
    from webapp.models import Clinician

    add(app, "other@example.org")
    first = login(app.test_client(), "other@example.org")
    second = login(app.test_client(), "other@example.org")
    result = runner.invoke(args=["set-password", "other@example.org", "--password", "a new long passphrase"])
    assert result.exit_code == 0 and "2 sign-in(s) ended" in result.output, result.output
    assert first.get("/sessions/new").status_code == 302 and second.get("/sessions/new").status_code == 302
    weak = runner.invoke(args=["set-password", "other@example.org", "--password", "1234567890"])
    assert weak.exit_code != 0 and "most common passwords" in weak.output
    third = login(app.test_client(), "other@example.org", "a new long passphrase")
    assert third.get("/sessions/new").status_code == 200
    with app.app_context():
        db.session.delete(db.session.scalar(select(Clinician).where(Clinician.email == "other@example.org")))
        db.session.commit()
    assert third.get("/sessions/new").status_code == 302
