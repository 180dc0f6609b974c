from flask import jsonify, make_response, render_template
from sqlalchemy import select

from acuity.optotypes import all_geometry
from webapp.patient import bp
from webapp import tokens
from webapp.extensions import db
from webapp.live.patient import invite_problem
from webapp.models import TestSession


def _no_store(response):
    # The token is in the URL: keep the page out of caches and out of referrers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _page(session: TestSession | None, template: str, **context):
    problem = invite_problem(session)
    if problem:
        status = 404 if session is None else 410
        return _no_store(make_response(render_template("errors/link.html", message=problem), status))
    return _no_store(make_response(render_template(template, **context)))


@bp.get("/t/<token>")
def test_page(token: str):
    """The patient's display: calibration, then the optotypes."""
    session = db.session.scalar(select(TestSession).where(TestSession.invite_token_hash == tokens.token_hash(token)))
    return _page(session, "patient/test.html", invite_token=token)


@bp.get("/pad/<pad_token>")
def pad(pad_token: str):
    """The answer pad on the patient's phone."""
    session = db.session.scalar(select(TestSession).where(TestSession.pad_token_hash == tokens.token_hash(pad_token)))
    return _page(session, "patient/pad.html", pad_token=pad_token)


@bp.get("/optotypes.json")
def optotypes():
    """The optotype geometry: the browser draws only from this."""
    response = jsonify(all_geometry())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
