"""HTTP security headers, rate limits for HTTP (Flask-Limiter) and for socket events, the Socket.IO
origin check. See docs/security.md for what each one guards against (OWASP ASVS level 2)."""
from __future__ import annotations

import math
import threading
import time
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# The pages need nothing else: ES modules and stylesheets from this origin, inline SVG only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

# Failed attempts only (a good login or a valid link is never counted), per client address.
LOGIN_LIMIT = "10 per minute;60 per hour"
LINK_LOOKUP_LIMIT = "30 per minute;300 per hour"



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


def set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")  # older browsers; frame-ancestors for the rest
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers["Referrer-Policy"] = "no-referrer"
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    # The video call (webapp/static/js/call.js) uses this origin's camera and microphone, never a frame's.
    headers.setdefault("Permissions-Policy", "camera=(self), microphone=(self), geolocation=(), payment=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


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
    limits = {"auth.login": ("LOGIN_RATE_LIMIT", LOGIN_LIMIT, ["POST"]),
              "auth.setup": ("LOGIN_RATE_LIMIT", LOGIN_LIMIT, ["POST"]),
              "patient.test_page": ("LINK_RATE_LIMIT", LINK_LOOKUP_LIMIT, None),
              "patient.pad": ("LINK_RATE_LIMIT", LINK_LOOKUP_LIMIT, None)}
    for endpoint, (key, default, methods) in limits.items():
        decorate = limiter.limit(app.config.get(key, default), methods=methods, deduct_when=_failed,
                                 error_message=RATE_LIMITED_MESSAGE, scope=key)
        app.view_functions[endpoint] = decorate(app.view_functions[endpoint])
    app.after_request(set_headers)
    redis_url = app.config.get("REDIS_URL")
    # (burst, per_second): webapp/config.py, VISUS_SOCKET_RATE_LIMIT and VISUS_SOCKET_CONNECT_RATE_LIMIT.
    app.extensions["visus_socket_limiter"] = SocketLimiter(*app.config["SOCKET_RATE_LIMIT"], redis_url)
    app.extensions["visus_connect_limiter"] = SocketLimiter(*app.config["SOCKET_CONNECT_RATE_LIMIT"], redis_url)


RATE_LIMITED_MESSAGE = "Too many attempts from this address; wait a minute, then try again."


class RateLimited(Exception):
    def __init__(self, retry_after_s: float):
        super().__init__(retry_after_s)
        self.retry_after_s = retry_after_s

    @property
    def message(self) -> str:
        return f"Too many requests; wait {max(1, math.ceil(self.retry_after_s))} s, then try again."


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
    """Count one socket event from this socket (raises RateLimited)."""
    current_app.extensions["visus_socket_limiter"].hit(f"{event}:{request.sid}")


def connect_check() -> None:
    """Before a patient connect is looked up: raise RateLimited if this address failed too often."""
    current_app.extensions["visus_connect_limiter"].check(f"connect:{client_address()}")


def connect_refused() -> None:
    """Count one refused patient connect (a bad, expired or withdrawn link) from this address."""
    try:
        current_app.extensions["visus_connect_limiter"].hit(f"connect:{client_address()}")
    except RateLimited:
        pass  # refused anyway; the next attempt is stopped by connect_check
