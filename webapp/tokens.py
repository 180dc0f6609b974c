"""Invite and pad tokens: random, stored only as SHA-256 hashes; QR codes of their links."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import io
import secrets

import segno


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_public_id() -> str:
    """A random id for URLs (72 bits). Never starting with "-": a spreadsheet reads a CSV cell that
    starts with "-" as a formula, so the exports would have to prefix it and the id would change."""
    while True:
        public_id = secrets.token_urlsafe(9)
        if not public_id.startswith("-"):
            return public_id


def derived_token(secret_key: str, purpose: str, public_id: str, nonce: str) -> str:
    """A link token of a session (`purpose` "pad" or "invite"), derived so the server can show it again
    (the display after a reload, the clinician's invite page). Only its hash is stored; without the
    app's secret key the stored nonce reveals nothing, and a new nonce revokes the old token.
    """
    digest = hmac.new(secret_key.encode("utf-8"), f"{purpose}:{public_id}:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def pad_token(secret_key: str, public_id: str, nonce: str) -> str:
    return derived_token(secret_key, "pad", public_id, nonce)


def invite_token(secret_key: str, public_id: str, nonce: str) -> str:
    return derived_token(secret_key, "invite", public_id, nonce)


# The data mask of every QR code made here. ISO/IEC 18004 (section 7.8) lets the encoder pick any of
# the eight masks (a reader finds the one used in the format information); segno picks the one with
# the lowest penalty score by drawing and scoring all eight, about three quarters of the code's CPU
# (about 14 ms against 3 ms a code, issue 12: a display's set-up made one per test). Mask 4 is the
# one segno itself picked most often for pad links (58 of 200 random ones, then mask 2: 56).
QR_MASK = 4


@functools.lru_cache(maxsize=512)  # a pure function of its text; the display's state carries it often
def qr_svg(text: str, title: str) -> str:
    """A QR code as SVG text: no XML declaration, with its namespace (so it parses as XML too),
    scalable (viewBox, no width/height), dark modules on white."""
    qr = segno.make(text, error="m", mask=QR_MASK)
    out = io.BytesIO()
    qr.save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        omitsize=True,
        title=title,
        scale=4,
        border=2,
        dark="#000",
        light="#fff",
        svgclass="segno",
    )
    return out.getvalue().decode("utf-8")
