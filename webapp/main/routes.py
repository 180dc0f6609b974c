from flask import jsonify

from webapp.main import bp


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/i18n/<code>.json")
def catalog(code: str):
    """A language's catalog for the patient's ES modules (webapp/static/js/i18n.js): the same .po
    file as the server's words; addressed with its content hash (`?v=`), so it may be kept long."""
    from flask import abort, make_response, request

    from webapp import i18n

    if code not in i18n.LANGUAGES:
        abort(404)
    body, etag = i18n.catalog_json(code)
    response = make_response(body)
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    response.set_etag(etag)
    response.headers["Cache-Control"] = (
        "public, max-age=31536000, immutable" if request.args.get("v") == etag else "no-cache"
    )
    return response.make_conditional(request)
