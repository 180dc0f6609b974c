"""Report, exports and history of a clinician's own test sessions (login required; another
clinician's session is a 404, as in webapp/clinician). No patient identity goes into a URL: the
history is reached from one of the patient's sessions."""

from __future__ import annotations

import json

from flask import Response, current_app, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp import audit, plots, security
from webapp.clinician.routes import owned
from webapp.extensions import db
from webapp.models import TestSession
from webapp.reports import bp, charts, csv_export, fhir, pdf
from webapp.reports.data import DEFAULT_CHANGE_LIMIT_LOGMAR, SESSION_STATUS, history, session_report


def _private(response: Response, filename: str | None = None) -> Response:
    """Health data: never cached by a browser or a proxy; downloads named by session id only."""
    response.headers["Cache-Control"] = "no-store"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _own_sessions() -> list[TestSession]:
    return list(
        db.session.scalars(
            select(TestSession)
            .where(TestSession.clinician_id == current_user.id)
            .order_by(TestSession.created_at, TestSession.id)
        )
    )


def _viewed(public_id: str, action: str) -> TestSession:
    """The clinician's own session, its viewing recorded in the audit log."""
    session = owned(public_id)
    audit.viewed(session, action)
    return session


def _exported(action: str) -> list[TestSession]:
    security.refuse_cross_site()  # as audit.viewed: no entries in the clinician's name from another site
    sessions = _own_sessions()
    for session in sessions:
        audit.record(session, action, current_user.id)
    db.session.commit()
    return sessions


@bp.get("/sessions/<public_id>/report")
@login_required
def report(public_id: str):
    data = session_report(_viewed(public_id, "report_view"))
    for eye in data["eyes"]:
        eye["plot_svg"] = plots.trial_plot_svg(
            eye["trials"],
            eye["result"],
            title=f"{eye['eye_name']}: size per trial",
            element_id=f"trial-plot-{eye['eye']}",
        )
    return _private(Response(render_template("reports/report.html", report=data)))


@bp.get("/sessions/<public_id>/report.pdf")
@login_required
def report_pdf(public_id: str):
    data = session_report(_viewed(public_id, "report_pdf"))
    return _private(Response(pdf.report_pdf(data), mimetype="application/pdf"), f"visus-report-{public_id}.pdf")


@bp.get("/sessions/<public_id>/results.csv")
@login_required
def session_results_csv(public_id: str):
    text = csv_export.results_csv([session_report(_viewed(public_id, "results_csv"))])
    return _private(Response(text, mimetype="text/csv"), f"visus-results-{public_id}.csv")


@bp.get("/sessions/<public_id>/trials.csv")
@login_required
def session_trials_csv(public_id: str):
    text = csv_export.trials_csv([session_report(_viewed(public_id, "trials_csv"))])
    return _private(Response(text, mimetype="text/csv"), f"visus-trials-{public_id}.csv")


@bp.get("/exports/results.csv")
@login_required
def all_results_csv():
    text = csv_export.results_csv(session_report(s) for s in _exported("export_all_results"))
    return _private(Response(text, mimetype="text/csv"), "visus-results.csv")


@bp.get("/exports/trials.csv")
@login_required
def all_trials_csv():
    text = csv_export.trials_csv(session_report(s) for s in _exported("export_all_trials"))
    return _private(Response(text, mimetype="text/csv"), "visus-trials.csv")


@bp.get("/sessions/<public_id>/fhir.json")
@login_required
def session_fhir(public_id: str):
    bundle = fhir.session_bundle(session_report(_viewed(public_id, "fhir_export")))
    return _private(
        Response(json.dumps(bundle, indent=2, ensure_ascii=False), mimetype="application/fhir+json"),
        f"visus-fhir-{public_id}.json",
    )


@bp.get("/sessions/<public_id>/history")
@login_required
def patient_history(public_id: str):
    """Every test of this clinician with the same patient reference as this session, over time."""
    session = _viewed(public_id, "history_view")
    same_patient = list(
        db.session.scalars(
            select(TestSession).where(
                TestSession.clinician_id == current_user.id, TestSession.patient_reference == session.patient_reference
            )
        )
    )
    limit = float(current_app.config.get("HISTORY_CHANGE_LIMIT_LOGMAR", DEFAULT_CHANGE_LIMIT_LOGMAR))
    data = history(same_patient, limit)
    plot_svg = charts.history_plot_svg(data["eyes"], title="logMAR over time, per eye")
    sessions = sorted(same_patient, key=lambda s: (s.created_at, s.id), reverse=True)
    return _private(
        Response(
            render_template(
                "reports/history.html",
                session=session,
                history=data,
                plot_svg=plot_svg,
                sessions=sessions,
                status_words=SESSION_STATUS,
            )
        )
    )
