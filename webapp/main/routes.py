from flask import jsonify

from webapp.main import bp


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")
