"""The clinician's pages: dashboard, new test, live view, result, invite revocation, patients."""

from flask import Blueprint

bp = Blueprint("clinician", __name__)

from webapp.clinician import patients, routes  # noqa: E402,F401
