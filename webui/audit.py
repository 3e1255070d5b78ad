"""The auditor's view: read-only, with a download per logbook and the audit pack for a period.

Exports are built by ``agent/export.py`` (issue 5). The routes are fixed here:
``/audit/export/<kind>.<fmt>?from=YYYY-MM-DD&to=YYYY-MM-DD`` with kind one of the
logbooks or ``all`` and fmt ``csv``, ``xlsx``, ``pdf`` or ``zip`` (the audit pack,
kind ``all``). Until that module is installed they answer 503 and say so.
"""

from __future__ import annotations

import importlib
from datetime import date, timedelta

from flask import Blueprint, abort, render_template, request

from webui.i18n import gettext as _
from webui.state import get_config, get_store, now

bp = Blueprint("audit", __name__, url_prefix="/audit")

LOGBOOKS = {"visitors": "Bezoekers (A4.2.2)", "pest_control": "Plaagdierbestrijding (A4.5.1)",
            "cleaning": "Reinigen en ontsmetten (A4.4.5)", "checks": "Controles alarm en noodstroom (A3.6)"}
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
    return render_template("audit/index.html", start=start, end=end, logbooks=LOGBOOKS, formats=FORMATS,
                           available=_export_module() is not None)


def _export_module():
    """Return agent.export when it is installed (built by the logbook feature), else None."""
    try:
        return importlib.import_module("agent.export")
    except ImportError:
        return None


@bp.get("/export/<kind>.<fmt>")
def export(kind: str, fmt: str):
    """Download one logbook (csv/xlsx/pdf) or the audit pack (all.zip) for the period."""
    if (kind not in LOGBOOKS and kind != "all") or fmt not in MIMETYPES or (fmt == "zip") != (kind == "all"):
        abort(404, _("Deze export bestaat niet."))
    start, end = _period()
    module = _export_module()
    if module is None or not hasattr(module, "export_bytes"):
        return render_template("error.html", code=503, message=_(
            "Exporteren is in deze versie nog niet beschikbaar: het komt met de logboeken.")), 503
    # Contract for agent/export.py (issue 5): export_bytes(store, config, kind, fmt, start, end) -> (filename, bytes).
    filename, data = module.export_bytes(get_store(), get_config(), kind, fmt, start, end)
    from flask import Response

    response = Response(data, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
