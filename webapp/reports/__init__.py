"""Clinical report and interoperability: a printable report and PDF per test session, CSV and
FHIR R4 exports, and the history of one patient reference (docs/exports.md).

Everything here reads the stored session through `data.session_report`, which returns plain
dicts; the HTML page, the PDF, the CSV files and the FHIR Bundle are all drawn from those dicts.
"""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from webapp.reports import routes  # noqa: E402,F401
