"""The clinician's pages: dashboard, new test, live view, result, invite revocation."""

from flask import Blueprint

bp = Blueprint("clinician", __name__)

from webapp.clinician import routes  # noqa: E402,F401


@bp.app_template_filter("local_time")
def _local_time(value, fmt=None):
    from webapp.clinician.times import FORMAT, local_time

    return local_time(value, fmt or FORMAT)


@bp.app_context_processor
def _time_zone():
    from webapp.clinician.times import zone_name

    return {"time_zone_name": zone_name}
