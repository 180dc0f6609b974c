"""Opening a patient link as a browser would, for clients that are not browsers (tests, bench/).

A patient link (`/t/<token>`, `/pad/<pad token>`) works once: it is exchanged for a credential
cookie, which the Socket.IO connect then carries (webapp/credentials.py, docs/protocol.md §2).
"""

from __future__ import annotations

import requests


def open_link(base_url: str, path: str, timeout: float = 30) -> dict[str, str]:
    """Exchange a patient link for its credential; returns the headers a Socket.IO client connects
    with (`{"Cookie": ...}`). Raises if the link was refused.

    A python-socketio client that reconnects must carry the cookie in its `http_session` instead
    (tests/support/clients.py, Recorder.connect): python-engineio's WebSocket upgrade deletes the
    Cookie header from the dict kept for reconnecting."""
    response = requests.get(base_url.rstrip("/") + path, allow_redirects=False, timeout=timeout)
    if response.status_code != 303 or not response.cookies:
        raise RuntimeError(f"the patient link was refused: HTTP {response.status_code}")
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in response.cookies.items())}


def invite_headers(base_url: str, token: str) -> dict[str, str]:
    return open_link(base_url, f"/t/{token}")


def pad_headers(base_url: str, pad_token: str) -> dict[str, str]:
    return open_link(base_url, f"/pad/{pad_token}")
