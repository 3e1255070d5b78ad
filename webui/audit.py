"""The auditor's view: read-only, with a download per logbook, the audit pack for a period, and a pack check.

Every logbook of ``rules.logbooks.LOGBOOKS`` gets CSV, XLSX and PDF; the files come from
``agent.exports.export_bytes``, exactly what ``ikb-agent export`` writes. Routes:

- ``/audit/?from=YYYY-MM-DD&to=YYYY-MM-DD`` — the page; a bad period is said in words, the form kept.
- ``/audit/export/<kind>.<fmt>?from=…&to=…`` — kind a logbook or ``all``, fmt ``csv``, ``xlsx``, ``pdf`` or
  ``zip`` (kind ``all``: the audit pack, built while the request waits — for scripts).
- ``POST /audit/pack`` — build the audit pack in the background (:mod:`webui.packjobs`);
  ``/audit/pack/<job>`` shows its progress, ``…/status`` is the polled part, ``…/download`` the zip.
- ``POST /audit/verify`` — check an uploaded pack as ``ikb-agent verify`` does, in the background too; its
  job page shows the verdict.

Starting a pack and checking one write nothing to the farm's database, so auditors may post them.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, send_file, url_for

from agent.exports import ExportError, export_bytes
from rules.logbooks import LOGBOOKS
from webui.access import roles
from webui.i18n import current_translations
from webui.i18n import gettext as _
from webui.logbook_forms import title
from webui.packjobs import PackJobs
from webui.state import get_config, get_store, now

bp = Blueprint("audit", __name__, url_prefix="/audit")

FORMATS = ("csv", "xlsx", "pdf")
MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "pdf": "application/pdf", "zip": "application/zip"}
AUDITORS = ("farmer", "auditor")


class PeriodError(ValueError):
    """The asked period cannot be used; the message says why (Dutch msgid, translated when shown)."""


def _period(args) -> tuple[date, date]:
    """Return the asked period; default the last two years (A9.1 retention), ending today."""
    today = get_config().farm_view().local_date(now())
    try:
        end = date.fromisoformat(args.get("to") or today.isoformat())
        start = date.fromisoformat(args.get("from") or (end - timedelta(days=730)).isoformat())
    except ValueError:
        raise PeriodError(_("Datum verwacht als JJJJ-MM-DD.")) from None
    if start > end:
        raise PeriodError(_("De begindatum ({start}) ligt na de einddatum ({end}); kies een begindatum op of vóór "
                            "de einddatum.", start=start.isoformat(), end=end.isoformat()))
    return start, end


def _jobs() -> PackJobs:
    """Return this process's pack jobs."""
    return current_app.extensions["ikb_packs"]


def _page(start: str, end: str, *, error: str | None = None, code: int = 200):
    """Render the audit page with the period as typed (kept when refused) and any message."""
    logbooks = [(kind, title(kind), spec.rules) for kind, spec in LOGBOOKS.items()]
    return render_template("audit/index.html", start=start, end=end, logbooks=logbooks, formats=FORMATS,
                           error=error), code


@bp.get("/")
def index():
    """Show the audit page: period, downloads per logbook, the audit pack, the pack check."""
    try:
        start, end = _period(request.args)
    except PeriodError as exc:
        return _page(request.args.get("from", ""), request.args.get("to", ""), error=str(exc), code=400)
    return _page(start.isoformat(), end.isoformat())


@bp.get("/export/<kind>.<fmt>")
def export(kind: str, fmt: str):
    """Download one logbook (csv/xlsx/pdf) or the audit pack (all.zip) for the period."""
    if (kind not in LOGBOOKS and kind != "all") or fmt not in MIMETYPES or (fmt == "zip") != (kind == "all"):
        abort(404, _("Deze export bestaat niet."))
    try:
        start, end = _period(request.args)
    except PeriodError as exc:
        return _page(request.args.get("from", ""), request.args.get("to", ""), error=str(exc), code=400)
    try:
        filename, data = export_bytes(get_store(), get_config(), kind, fmt, start, end, now())
    except ExportError as exc:  # e.g. the PDF font package is missing: the message names it
        return render_template("error.html", code=503, message=exc.line(current_translations())), 503
    response = Response(data, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.post("/pack")
@roles(read=AUDITORS, write=AUDITORS)
def start_pack():
    """Start building the audit pack of the period in the background and show its progress."""
    try:
        start, end = _period(request.form)
    except PeriodError as exc:
        return _page(request.form.get("from", ""), request.form.get("to", ""), error=str(exc), code=400)
    job = _jobs().start(current_app._get_current_object(), g.user["id"], start, end, now())
    return redirect(url_for("audit.pack", job_id=job.id), code=303)


def _job_or_404(job_id: str):
    """Return the logged-in person's job, or 404 (an expired or someone else's job)."""
    job = _jobs().get(job_id, g.user["id"])
    if job is None:
        abort(404, _("Dit auditpakket bestaat niet (meer); maak het opnieuw."))
    return job


def _failure(job) -> str:
    """Return why a job failed, in the page's language."""
    if isinstance(job.error, ExportError):
        return job.error.line(current_translations())
    if job.kind == "check":
        return _("Het auditpakket kon niet worden gecontroleerd; de oorzaak staat in het logboek van het programma.")
    return _("Het auditpakket kon niet worden gemaakt; de oorzaak staat in het logboek van het programma.")


def _verdict(job) -> str | None:
    """Return a finished check's line, as ``ikb-agent verify`` prints it."""
    if job.verdict is None:
        return None
    ok, detail = job.verdict
    return (_("{pack}: intact: {detail}", pack=job.filename, detail=detail) if ok
            else _("{pack}: NIET INTACT: {detail}", pack=job.filename, detail=detail))


@bp.get("/pack/<job_id>")
def pack(job_id: str):
    """Show a pack job: its progress bar while it builds, the download link when it is done."""
    job = _job_or_404(job_id)
    return render_template("audit/pack.html", job=job, failure=_failure(job) if job.state == "failed" else None,
                           verdict=_verdict(job))


@bp.get("/pack/<job_id>/status")
def pack_status(job_id: str):
    """Return the job's progress part (polled by the page until the job has finished)."""
    job = _job_or_404(job_id)
    return render_template("audit/_pack_status.html", job=job,
                           failure=_failure(job) if job.state == "failed" else None, verdict=_verdict(job))


@bp.get("/pack/<job_id>/download")
def pack_download(job_id: str):
    """Download a finished pack."""
    job = _job_or_404(job_id)
    if job.kind != "build" or job.state != "done" or job.path is None or not job.path.exists():
        abort(404, _("Dit auditpakket is nog niet klaar of niet meer beschikbaar; maak het opnieuw."))
    return send_file(job.path, mimetype=MIMETYPES["zip"], as_attachment=True, download_name=job.filename)


@bp.post("/verify")
@roles(read=AUDITORS, write=AUDITORS)
def verify():
    """Check an uploaded audit pack (as ``ikb-agent verify`` does) in the background and show its job."""
    start, end = request.form.get("from", ""), request.form.get("to", "")
    upload = request.files.get("pack")
    if upload is None or not upload.filename:
        return _page(start, end, error=_("Kies het zip-bestand van een auditpakket om te controleren."), code=400)
    try:
        period = _period(request.form)
    except PeriodError:
        period = (date.min, date.min)  # the check does not depend on the page's period
    job = _jobs().check(g.user["id"], upload, Path(upload.filename).name, *period)
    if job is None:
        return _page(start, end, error=_("Het gekozen bestand is leeg."), code=400)
    return redirect(url_for("audit.pack", job_id=job.id), code=303)
