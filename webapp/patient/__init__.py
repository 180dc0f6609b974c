"""The patient's pages: the test page (display), the answer pad, and the optotype geometry."""

from flask import Blueprint

bp = Blueprint("patient", __name__)

from webapp.patient import routes  # noqa: E402,F401
