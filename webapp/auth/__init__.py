"""Clinician accounts: first-run set-up, login, logout and the create-clinician command."""

from flask import Blueprint

bp = Blueprint("auth", __name__, cli_group=None)

from webapp.auth import cli, routes  # noqa: E402,F401
