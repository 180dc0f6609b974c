"""Absolute links given to patients (invite, pad).

By default they use the host the request came to. Behind a proxy, or when the clinician's
browser reaches the server by a name the patient's phone cannot (127.0.0.1), set
VISUS_PUBLIC_URL (e.g. https://visus.example.org) and links are built on it.
"""

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    base = current_app.config.get("PUBLIC_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
