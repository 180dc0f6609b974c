"""HTTP security headers, rate limits for HTTP (Flask-Limiter) and for socket events, the Socket.IO
origin check. See docs/security.md for what each one guards against (OWASP ASVS level 2)."""

from __future__ import annotations

import logging
import math
import threading
import time
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from webapp.i18n import N_, translate

# The pages need nothing else: ES modules and stylesheets from this origin, inline SVG only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

# The distance guard's camera frame (/test/camera, framed by the patient's display only) runs the face
# landmarks (webapp/static/js/vendor/face_mesh/): WebAssembly needs 'wasm-unsafe-eval', and the model's
# Emscripten glue (embind) builds its function wrappers with `new Function`, which needs 'unsafe-eval'.
# Scripts still come from this origin only and inline script stays forbidden; the frame may be framed
# by this origin only, and it holds nothing but the camera picture. Every other page, the display
# included, keeps the strict policy (docs/security.md).
CAMERA_FRAME_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "script-src 'self'", "script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'"
).replace("frame-ancestors 'none'", "frame-ancestors 'self'")

# Failed attempts only (a good login or a valid link is never counted). Keyed by what is guessed, so
# that one guesser does not lock out everybody behind the same address (a clinic's or a carrier's NAT):
# sign-in per e-mail and address, and per e-mail from anywhere (looser: a guesser on many addresses);
# link look-ups per address, but a link that works is never held up (a token has 256 random bits).
LOGIN_LIMIT = "10 per minute;60 per hour"
LOGIN_ACCOUNT_LIMIT = "20 per minute;100 per hour"
LINK_LOOKUP_LIMIT = "30 per minute;300 per hour"
# The phone's pairing code (webapp/pairing.py, 8 digits): failed attempts per client address, per
# code typed (keyed by what is guessed: many addresses trying one code) and in all (a guesser on
# many addresses). The total is what bounds a guesser's chance; docs/security.md has the arithmetic.
# No attempt is exempt, not even a right code: over a limit a right and a wrong code get the same
# answer, or the limit would tell a guesser which code works.
PAD_CODE_ADDRESS_LIMIT = "10 per minute;30 per hour"
PAD_CODE_VALUE_LIMIT = "3 per hour"
PAD_CODE_TOTAL_LIMIT = "100 per hour"
# Invite e-mails per clinician account, every one counted: a taken-over account cannot send much
# through the practice's mail server (a busy day is a few dozen invites).
INVITE_MAIL_LIMIT = "20 per minute;200 per day"


def public_origin(app: Flask) -> str | None:
    """scheme://host[:port] of VISUS_PUBLIC_URL, or None (then Socket.IO accepts the request's own host)."""
    base = app.config.get("PUBLIC_URL")
    if not base:
        return None
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


def socketio_origins(app: Flask) -> list[str] | None:
    """cors_allowed_origins for Socket.IO: the configured public origin; None means the same origin
    as the request's Host (python-engineio's default), which is what a single server needs."""
    origin = public_origin(app)
    return [origin] if origin else None


def security_headers(secure: bool) -> list[tuple[str, str]]:
    """The headers every response carries (Flask's pages here, Socket.IO's in SecurityHeadersMiddleware)."""
    headers = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Frame-Options", "DENY"),  # older browsers; frame-ancestors for the rest
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        # The video call (webapp/static/js/call.js) uses this origin's camera and microphone; the distance
        # guard's camera frame is of this origin too (an <iframe allow="camera">, /test/camera).
        ("Permissions-Policy", "camera=(self), microphone=(self), geolocation=(), payment=()"),
        # Pages hold health data or a clinician's session: no browser or proxy keeps a copy (the
        # back button after sign-out shows nothing). Static files set their own caching first.
        ("Cache-Control", "no-store"),
    ]
    if secure:
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return headers


def set_headers(response: Response) -> Response:
    for name, value in security_headers(request.is_secure):
        if name == "Referrer-Policy":
            response.headers[name] = value
        elif name == "Cache-Control" and request.endpoint == "static":
            continue  # Flask's send_file caching (conditional requests)
        else:
            response.headers.setdefault(name, value)
    return response


class SecurityHeadersMiddleware:
    """WSGI middleware around the whole app: Socket.IO's responses (/socket.io/, answered by
    python-engineio before Flask sees the request, so Flask's after_request never runs) get the same
    headers as the pages. A header the response already has is left as it is."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        secure = environ.get("wsgi.url_scheme") == "https"

        def with_headers(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            headers = list(headers) + [
                (name, value) for name, value in security_headers(secure) if name.lower() not in present
            ]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, with_headers)


# Sec-Fetch-Site values of a request this site made itself, or the user did (address bar, bookmark).
SAME_ORIGIN_FETCH = ("same-origin", "none")


def refuse_cross_site() -> None:
    """Before anything audited is read or exported: refuse a request another site started.

    The session cookie is SameSite=Lax, so a link or redirect on another site still opens a page here
    with the clinician's session, and each opening writes an audit entry in their name. Browsers say
    who started a request in Sec-Fetch-Site (Fetch Metadata; Chromium 76, Firefox 90, Safari 16.4):
    anything but same-origin or none (typed, bookmarked) gets a page with a link to the same
    address, which the clinician can follow on purpose (a click here is same-origin). A request
    without the header (an older browser, a script with the cookie) is let through.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is None or site in SAME_ORIGIN_FETCH:
        return
    target = request.full_path.rstrip("?") if request.query_string else request.path
    abort(Response(render_template("errors/cross_site.html", target=target), 403))


# Socket.IO's lifecycle events: the protocol reserves these names, and a client that sends an event
# so named must not run the server's handler of the real one (a "disconnect" that marks a device gone).
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)


def refuse_reserved_events(server) -> None:
    """Drop a client's EVENT packet named like a reserved event, answering its ack with an error.
    python-socketio hands a client's events and the server's own lifecycle calls to the same
    handlers (Server._trigger_event), so the check sits where only client packets pass."""
    handle_event = server._handle_event

    def checked(eio_sid, namespace, id, data):
        if data and isinstance(data[0], str) and data[0] in RESERVED_EVENTS:
            if id is not None:
                from socketio import packet

                server._send_packet(
                    eio_sid,
                    server.packet_class(
                        packet.ACK,
                        namespace=namespace or "/",
                        id=id,
                        data=[
                            {
                                "ok": False,
                                "error": "bad_event",
                                "message": f"{data[0]!r} is a reserved Socket.IO event name; a client may not send it.",
                            }
                        ],
                    ),
                )
            return None
        return handle_event(eio_sid, namespace, id, data)

    server._handle_event = checked


class MalformedPacket(ValueError):
    """A Socket.IO packet that cannot be decoded."""


# What python-socketio raises itself for a well-formed packet of a kind a client may not send.
_REFUSED_PACKETS = ("Unexpected binary packet", "Unexpected CONNECT_ERROR packet.", "Unknown packet type.")


class MalformedPackets:
    """Malformed Socket.IO packets from clients: counted and dropped (the connection is closed, as the
    reference JavaScript server does on a parse error), with at most one log line per `interval_s`
    saying how many, never their content. Without this, python-engineio logs each one with its
    traceback, twice (its own handler and the root logger): anyone could fill the disk."""

    def __init__(self, logger, interval_s: float = 60.0):
        self.logger = logger
        self.interval_s = interval_s
        self.total = 0
        self._unlogged = 0
        self._logged_at = -math.inf

    def dropped(self, error: Exception) -> None:
        self.total += 1
        self._unlogged += 1
        now = time.monotonic()
        if now - self._logged_at >= self.interval_s:
            self.logger.warning(
                "dropped %d malformed Socket.IO packet(s) (%d since start; last: %s); at most one such line every %d s",
                self._unlogged,
                self.total,
                type(error).__name__,
                self.interval_s,
            )
            self._unlogged = 0
            self._logged_at = now


def drop_malformed_packets(server, counter: MalformedPackets) -> None:
    base = server.packet_class

    class StrictPacket(base):
        @classmethod
        def data_is_binary(cls, data) -> bool:
            """python-socketio's own answer (bytes anywhere in the lists and dicts of a message's
            data), without the list and the lambda its check builds at every level of every
            message the server sends (about a tenth of a millisecond an emit; issue 12)."""
            stack = [data]
            while stack:
                item = stack.pop()
                if isinstance(item, (bytes, bytearray)):
                    return True
                if isinstance(item, list):
                    stack.extend(item)
                elif isinstance(item, dict):
                    stack.extend(item.values())
            return False

        def __init__(self, *args, encoded_packet=None, **kwargs):
            if encoded_packet is None:
                super().__init__(*args, **kwargs)
                return
            try:
                super().__init__(*args, encoded_packet=encoded_packet, **kwargs)
            except Exception as error:
                raise MalformedPacket(f"{type(error).__name__}: {error}") from None

    server.packet_class = StrictPacket
    handle_message = server.eio.handlers["message"]

    def checked(eio_sid, data):
        try:
            return handle_message(eio_sid, data)
        except ValueError as error:
            if not isinstance(error, MalformedPacket) and str(error) not in _REFUSED_PACKETS:
                raise
            server._binary_packet.pop(eio_sid, None)
            counter.dropped(error)
            try:
                server.eio.disconnect(eio_sid)
            except Exception:  # already gone
                pass
            return None

    server.eio.handlers["message"] = checked


def harden_socketio(app: Flask, socketio) -> None:
    """After socketio.init_app: the security headers on /socket.io/ responses, reserved events refused,
    malformed packets dropped quietly."""
    app.wsgi_app = SecurityHeadersMiddleware(app.wsgi_app)
    refuse_reserved_events(socketio.server)
    # A logger of its own: app.logger also has Flask's handler besides the root one (a line twice).
    counter = MalformedPackets(
        logging.getLogger("webapp.security"), app.config.get("MALFORMED_PACKET_LOG_INTERVAL_S", 60.0)
    )
    app.extensions["visus_malformed_packets"] = counter
    drop_malformed_packets(socketio.server, counter)


def _failed(response: Response) -> bool:
    return response.status_code >= 400


def init_app(app: Flask) -> None:
    """Called by create_app after the blueprints are registered."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Under HTTPS (VISUS_PUBLIC_URL https://..., or VISUS_SECURE_COOKIES=1) cookies go over HTTPS only.
    if (public_origin(app) or "").startswith("https://") or app.config.get("SECURE_COOKIES"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    # One limiter per app (tests make many apps; a shared one would stack the same limit up).
    limiter = Limiter(key_func=get_remote_address, default_limits=[], app=app)
    # The limits are put on the registered views here, so the views' modules stay as they are.
    signing_in = "Too many failed sign-ins with this e-mail address."
    # A patient's (the page's language, webapp/main/errors.py); the clinician's stay English.
    bad_links = N_("Too many links that do not work were opened from this network.")
    bad_codes = N_("Too many codes that do not work were typed. Scan the square code on your test screen instead.")
    bad_codes_anywhere = N_(
        "Too many codes that do not work were typed on this service. Scan the square code on your test screen instead."
    )
    # endpoint: [(config key, default, methods, key function, message, exempt when), ...]
    limits = {
        "auth.login": [
            ("LOGIN_RATE_LIMIT", LOGIN_LIMIT, ["POST"], _email_and_address, signing_in, None),
            ("LOGIN_ACCOUNT_RATE_LIMIT", LOGIN_ACCOUNT_LIMIT, ["POST"], _email, signing_in, None),
        ],
        "auth.setup": [
            (
                "LOGIN_RATE_LIMIT",
                LOGIN_LIMIT,
                ["POST"],
                get_remote_address,
                "Too many failed attempts from this network.",
                None,
            )
        ],
        "patient.test_page": [("LINK_RATE_LIMIT", LINK_LOOKUP_LIMIT, None, get_remote_address, bad_links, _link_works)],
        "patient.pad": [("LINK_RATE_LIMIT", LINK_LOOKUP_LIMIT, None, get_remote_address, bad_links, _link_works)],
        # A colleague's invite link (webapp/practice.py): only links that do not work are counted.
        "practice.join": [("LINK_RATE_LIMIT", LINK_LOOKUP_LIMIT, None, get_remote_address, bad_links, None)],
        "patient.pad_code": [
            ("PAD_CODE_ADDRESS_LIMIT", PAD_CODE_ADDRESS_LIMIT, ["POST"], get_remote_address, bad_codes, None),
            ("PAD_CODE_VALUE_LIMIT", PAD_CODE_VALUE_LIMIT, ["POST"], _typed_code, bad_codes, None),
            ("PAD_CODE_TOTAL_LIMIT", PAD_CODE_TOTAL_LIMIT, ["POST"], _everyone, bad_codes_anywhere, None),
        ],
    }
    for endpoint, rules in limits.items():
        for key, default, methods, key_func, message, exempt_when in rules:
            decorate = limiter.limit(
                app.config.get(key, default),
                methods=methods,
                deduct_when=_failed,
                key_func=key_func,
                exempt_when=exempt_when,
                on_breach=_too_many(message),
                scope=f"{key}:{endpoint}",
            )
            app.view_functions[endpoint] = decorate(app.view_functions[endpoint])
    mail_limit = limiter.limit(
        app.config.get("INVITE_MAIL_RATE_LIMIT", INVITE_MAIL_LIMIT),
        methods=["POST"],
        key_func=_clinician,
        on_breach=_too_many("Too many invite e-mails were sent from this account."),
        scope="INVITE_MAIL_RATE_LIMIT",
    )
    app.view_functions["clinician.email_invite"] = mail_limit(app.view_functions["clinician.email_invite"])
    app.after_request(set_headers)
    redis_url = app.config.get("REDIS_URL")
    # (burst, per_second): webapp/config.py, VISUS_SOCKET_RATE_LIMIT and VISUS_SOCKET_CONNECT_RATE_LIMIT.
    app.extensions["visus_socket_limiter"] = SocketLimiter(*app.config["SOCKET_RATE_LIMIT"], redis_url)
    app.extensions["visus_connect_limiter"] = SocketLimiter(*app.config["SOCKET_CONNECT_RATE_LIMIT"], redis_url)
    app.extensions["visus_session_limiter"] = SocketLimiter(*app.config["SOCKET_SESSION_RATE_LIMIT"], redis_url)
    app.extensions["visus_address_limiter"] = SocketLimiter(*app.config["SOCKET_ADDRESS_RATE_LIMIT"], redis_url)


def _email() -> str:
    """The e-mail a sign-in tries, as the accounts compare it."""
    return "email:" + (request.form.get("email") or "").strip().lower()[:254]


def _clinician() -> str:
    from flask_login import current_user

    return f"clinician:{current_user.get_id() if current_user.is_authenticated else get_remote_address()}"


def _email_and_address() -> str:
    return f"{_email()}|{get_remote_address()}"


def _typed_code() -> str:
    """The pairing code typed, as webapp/pairing.py reads it (anything else is one key)."""
    from webapp.pairing import normalise  # the app's modules import this one

    return "pad-code:" + (normalise(request.form.get("code")) or "not-a-code")


def _everyone() -> str:
    return "everyone"


def _link_works() -> bool:
    """Whether /t/<token> or /pad/<pad_token> opens a test: such a request is neither counted nor
    held up by other people's bad links from the same address."""
    from webapp.credentials import invite_problem, session_for_link  # the app's modules import this one

    args = request.view_args or {}
    device, token = ("display", args.get("token")) if "token" in args else ("pad", args.get("pad_token"))
    if not isinstance(token, str) or not 10 <= len(token) <= 100:
        return False
    return invite_problem(session_for_link(token, device)) is None


TOO_MANY = N_("Too many attempts")
WAIT = N_("{what} Wait {seconds} s, then try again.")


def _too_many(message: str):
    """Flask-Limiter's on_breach: a page saying what was refused and how long to wait, and Retry-After."""

    def on_breach(limit) -> Response:
        from webapp.main.errors import error_language, error_page  # the app's modules import this one

        wait_s = max(1, int(limit.reset_at - time.time()))  # as Flask-Limiter's Retry-After
        response = error_page(429, TOO_MANY, WAIT, what=translate(error_language(), message), seconds=wait_s)
        response.headers["Retry-After"] = str(wait_s)
        return response

    return on_breach


class RateLimited(Exception):
    MESSAGE = N_("Too many requests; wait {seconds} s, then try again.")

    def __init__(self, retry_after_s: float):
        super().__init__(retry_after_s)
        self.retry_after_s = retry_after_s

    @property
    def seconds(self) -> int:
        return max(1, math.ceil(self.retry_after_s))

    @property
    def message(self) -> str:
        return self.MESSAGE.format(seconds=self.seconds)


class SocketLimiter:
    """Token buckets, one per key (client address or socket, and event): `burst` tokens, refilled
    at `per_second`. In Redis when REDIS_URL is set (shared by every server process), else in memory."""

    # KEYS[1]: bucket; ARGV: burst, per_second, now (s). Returns 0 if allowed, else ms to wait.
    LUA = """
local burst = tonumber(ARGV[1]); local rate = tonumber(ARGV[2]); local now = tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(b[1]) or burst; local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate * 1000) end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return wait
"""

    def __init__(self, burst: float, per_second: float, redis_url: str | None = None):
        if burst < 1 or per_second <= 0:
            raise ValueError("A socket rate limit needs burst >= 1 and per_second > 0.")
        self.burst = float(burst)
        self.per_second = float(per_second)
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)
            self._script = self._redis.register_script(self.LUA)

    def _tokens(self, key: str, now: float) -> float:
        if self._redis is not None:
            tokens, at = self._redis.hmget(f"visus:ratelimit:{key}", "t", "at")
            if tokens is None:
                return self.burst
            tokens, at = float(tokens), float(at)
        else:
            tokens, at = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - at) * self.per_second)

    def check(self, key: str) -> None:
        """Raise RateLimited if `key` has no token left, without taking one."""
        now = time.time()
        tokens = self._tokens(key, now)
        if tokens < 1:
            raise RateLimited((1 - tokens) / self.per_second)

    def hit(self, key: str) -> None:
        """Take one token for `key`, or raise RateLimited with the seconds to wait."""
        now = time.time()
        if self._redis is not None:
            wait_ms = int(self._script(keys=[f"visus:ratelimit:{key}"], args=[self.burst, self.per_second, now]))
            if wait_ms:
                raise RateLimited(wait_ms / 1000)
            return
        with self._lock:
            tokens, at = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.per_second)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                raise RateLimited((1 - tokens) / self.per_second)
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > 100_000:  # forget full buckets rather than grow without end
                self._buckets = {k: v for k, v in self._buckets.items() if v[0] < self.burst - 1}


def client_address() -> str:
    return request.remote_addr or "unknown"


def socket_hit(event: str) -> None:
    """Count one socket event from this socket and from this client address (raises RateLimited).
    Behind a proxy the address is the one VISUS_PROXIES trusts (ProxyFix wraps Socket.IO too)."""
    current_app.extensions["visus_socket_limiter"].hit(f"{event}:{request.sid}")
    current_app.extensions["visus_address_limiter"].hit(f"address:{event}:{client_address()}")


def session_hit(event: str, public_id: str) -> None:
    """Count one socket event for this test session, whichever socket sent it: reconnecting gives a
    fresh socket bucket but not a fresh session bucket (raises RateLimited)."""
    current_app.extensions["visus_session_limiter"].hit(f"session:{event}:{public_id}")


def connect_refused(message: str, language: str | None) -> str:
    """Count one refused patient connect (a bad, expired or withdrawn link) from this address; the
    message to refuse it with, in the patient's `language`: `message` (an English message id), or how
    long to wait once the address has failed too often. A link that works is never counted nor held
    up (other people may share the address)."""
    try:
        current_app.extensions["visus_connect_limiter"].hit(f"connect:{client_address()}")
    except RateLimited as error:
        return translate(language, RateLimited.MESSAGE, seconds=error.seconds)
    return translate(language, message)
