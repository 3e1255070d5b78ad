"""The auditor's view: read-only, with a download per logbook and the audit pack for a period.

Every logbook of ``rules.logbooks.LOGBOOKS`` gets CSV, XLSX and PDF; the
audit pack (zip, with manifest and hash chains, checked by ``ikb-agent
verify``) holds them all. The files come from ``agent.exports.export_bytes``,
exactly what ``ikb-agent export`` writes. Routes:
``/audit/export/<kind>.<fmt>?from=YYYY-MM-DD&to=YYYY-MM-DD`` with kind a
logbook or ``all`` and fmt ``csv``, ``xlsx``, ``pdf`` or ``zip`` (kind ``all``).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, render_template, request

from agent.exports import ExportError, export_bytes
from rules.logbooks import LOGBOOKS
from webui.i18n import current_translations
from webui.i18n import gettext as _
from webui.logbook_forms import title
from webui.state import get_config, get_store, now

bp = Blueprint("audit", __name__, url_prefix="/audit")

FORMATS = ("csv", "xlsx", "pdf")
MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "pdf": "application/pdf", "zip": "application/zip"}


def _period() -> tuple[date, date]:
    """Return the asked period; default the last two years (A9.1 retention), ending today."""
    today = get_config().farm_view().local_date(now())
    try:
        end = date.fromisoformat(request.args.get("to") or today.isoformat())
        start = date.fromisoformat(request.args.get("from") or (end - timedelta(days=730)).isoformat())
    except ValueError:
        abort(400, _("Datum verwacht als JJJJ-MM-DD."))
    if start > end:
        abort(400, _("De begindatum ligt na de einddatum."))
    return start, end


@bp.get("/")
def index():
    """Show the audit page: period, downloads per logbook, the audit pack."""
    start, end = _period()
    logbooks = [(kind, title(kind), spec.rules) for kind, spec in LOGBOOKS.items()]
    return render_template("audit/index.html", start=start, end=end, logbooks=logbooks, formats=FORMATS)


@bp.get("/export/<kind>.<fmt>")
def export(kind: str, fmt: str):
    """Download one logbook (csv/xlsx/pdf) or the audit pack (all.zip) for the period."""
    if (kind not in LOGBOOKS and kind != "all") or fmt not in MIMETYPES or (fmt == "zip") != (kind == "all"):
        abort(404, _("Deze export bestaat niet."))
    start, end = _period()
    try:
        filename, data = export_bytes(get_store(), get_config(), kind, fmt, start, end, now())
    except ExportError as exc:  # e.g. the PDF font package is missing: the message names it
        return render_template("error.html", code=503, message=exc.line(current_translations())), 503
    response = Response(data, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
