"""The rule browser: every catalogue rule, filterable; a page per rule with its texts, finding and forms.

Self-assessed rules get the answer form (``agent.logbooks.assessments.record_answer``,
with an optional photo); document rules get the document form
(``agent.logbooks.documents.record_document``, with an optional scan). Every occurrence
of a deviation that is over gets a link to record its repair (``agent.logbooks.record_repair``,
the ``corrective_actions`` logbook, with an optional photo or document). Forms are shown
to farmers only; an auditor sees the same page without them.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from agent.logbooks import AssessmentError, DocumentError, answer_history, record_answer, record_document, record_repair
from agent.store import (
    DOCUMENT_TYPES,
    IMAGE_TYPES,
    FileError,
    check_upload,
    document_rows,
    get_file,
    status_history,
    store_file,
)
from rules.catalogue import Rule, load_catalogue
from rules.documents import SPECS
from rules.errors import IkbError
from rules.findings import STATUSES, Finding, Occurrence, worst
from rules.logbooks import repairable
from rules.search import matches
from webui.access import can_write, require_farmer
from webui.forms import field_errors, fields_for, parse_form
from webui.i18n import current_translations, location_word
from webui.i18n import gettext as _
from webui.inputs import AssessmentInput, DocumentInput
from webui.logbook_forms import entry_from_form, logbook_fields
from webui.scores import current
from webui.state import get_config, get_store, get_writer, now, scores

bp = Blueprint("rules", __name__, url_prefix="/rules")

EVALUATIONS = ("sensor", "logbook", "document", "self_assessment")


def _rule_or_404(rule_id: str) -> Rule:
    """Return the rule or answer 404 naming it."""
    rule = load_catalogue().get(rule_id)
    if rule is None:
        abort(404, _("Regel {rule} bestaat niet in IKB Ei.", rule=rule_id))
    return rule


def _locations() -> list[tuple[str, str]]:
    """Return (id, name) of every house and egg room."""
    config = get_config()
    return [(h.id, location_word(h.id)) for h in config.houses] + \
        [(r.id, location_word(r.id)) for r in config.egg_rooms]


@bp.get("/")
def index():
    """List the rules, filtered by annex, status, evidence source, house and text."""
    config, catalogue = get_config(), load_catalogue()
    view = current(get_store(), config, now())
    args = {k: request.args.get(k, "").strip() for k in ("annex", "status", "source", "house", "q")}
    houses = {h.id: h for h in config.houses}
    by_rule: dict[str, list] = {}
    for f in view.score.findings:
        by_rule.setdefault(f.rule, []).append(f)
    rows = []
    for rule in catalogue:
        findings = by_rule.get(rule.id, [])
        if args["house"] in houses:
            if not rule.applies(houses[args["house"]].housing):
                continue
            findings = [f for f in findings if f.location in (args["house"], None)]
        if args["annex"] and rule.annex != args["annex"]:
            continue
        if args["source"] and rule.evaluation != args["source"]:
            continue
        status = worst(f.status for f in findings) if findings else None
        if args["status"] and status != args["status"]:
            continue
        if args["q"] and not matches(rule, args["q"]):
            continue
        rows.append((rule, status))
    return render_template("rules/index.html", rows=rows, args=args, annexes=sorted({r.annex for r in catalogue}),
                           statuses=STATUSES, evaluations=EVALUATIONS, houses=config.houses)


def _assess_fields(rule: Rule, values=None, errors=None):
    """Return the answer form's fields for a rule."""
    statuses = [("ok", _("ok — voldoet"))]
    for weight in rule.deviations.weights():
        text = rule.deviation_text(weight) or ""
        statuses.append((weight, f"{weight} — {text[:90]}{'…' if len(text) > 90 else ''}"))
    statuses.append(("nvt", _("nvt — niet van toepassing")))
    locations = [("", _("hele bedrijf"))] + _locations()
    return fields_for(AssessmentInput, values=values, errors=errors,
                      choices={"status": statuses, "location": locations})


def _document_fields(rule: Rule, values=None, errors=None):
    """Return the document form's fields for a document rule."""
    spec = SPECS[rule.id]
    exclude = () if spec.per_house else ("location",)
    houses = [(h.id, location_word(h.id)) for h in get_config().houses]
    return fields_for(DocumentInput, values=values, errors=errors, exclude=exclude,
                      choices={"location": houses} if spec.per_house else None)


def _render_rule(rule: Rule, *, assess_values=None, assess_errors=None, doc_values=None, doc_errors=None,
                 status: int = 200):
    """Render a rule's page (with the forms for farmers)."""
    store = get_store()
    view = current(store, get_config(), now())
    findings = [f for f in view.score.findings if f.rule == rule.id]
    history = status_history(store, rule.id)
    answers = answer_history(store, rule.id)
    documents = document_rows(store, rule.id, newest_first=True)
    spec = SPECS.get(rule.id)
    writer = can_write()

    def repair_url(f: Finding, o: Occurrence) -> str | None:
        if not writer or o.repair is not None or not repairable(f, o, view.score.at):
            return None
        return url_for("rules.repair", rule_id=f.rule, location=f.location or "", start=o.start.isoformat())

    context = {
        "rule": rule, "findings": findings, "view": view, "history": history, "answers": answers,
        "documents": documents, "spec": spec, "repair_url": repair_url,
        "assess_fields": _assess_fields(rule, assess_values, assess_errors) if writer else None,
        "document_fields": _document_fields(rule, doc_values, doc_errors) if writer and spec else None,
        "assess_errors": assess_errors or {}, "doc_errors": doc_errors or {},
        "image_types": ",".join(IMAGE_TYPES), "document_types": ",".join(DOCUMENT_TYPES),
    }
    return render_template("rules/rule.html", **context), status


@bp.get("/<rule_id>")
def rule(rule_id: str):
    """Show one rule: texts, current finding, history, and the forms for farmers."""
    found = _rule_or_404(rule_id)
    if found.id != rule_id:
        return redirect(url_for("rules.rule", rule_id=found.id))
    return _render_rule(found)


def _upload(field: str, allowed: tuple[str, ...]):
    """Return (name, bytes, content type) of an optional upload, or raise FileError."""
    from flask import current_app

    upload = request.files.get(field)
    if upload is None or not upload.filename:
        return None
    data = upload.read(current_app.config["MAX_UPLOAD_BYTES"] + 1)
    return upload.filename, data, check_upload(upload.filename, data, allowed=allowed,
                                               max_bytes=current_app.config["MAX_UPLOAD_BYTES"])


@bp.route("/<rule_id>/assess", methods=["GET", "POST"])
@require_farmer
def assess(rule_id: str):
    """Record a self-assessment answer (farmers only); errors are shown at their field, nothing stored."""
    rule = _rule_or_404(rule_id)
    if request.method == "GET":
        return redirect(url_for("rules.rule", rule_id=rule.id) + "#beoordelen")
    answer, errors = parse_form(AssessmentInput, request.form)
    values = request.form.to_dict()
    if answer is not None and answer.location and answer.location not in {i for i, _n in _locations()}:
        errors["location"] = _("kies een stal of eierlokaal van dit bedrijf")
    upload = None
    try:
        upload = _upload("photo", IMAGE_TYPES)
    except FileError as exc:
        errors["photo"] = exc.problems[0].render(current_translations())
    if errors:
        return _render_rule(rule, assess_values=values, assess_errors=errors, status=422)
    store, moment, user = get_writer(), now(), _user_name()
    try:
        with _with_upload(store, upload, user, moment) as file_id:
            record_answer(store, load_catalogue(), rule_id=rule.id, status=answer.status, note=answer.note,
                          answered_by=user, now=moment, location=answer.location,
                          locations={i for i, _n in _locations()}, file_id=file_id)
    except AssessmentError as exc:
        return _render_rule(rule, assess_values=values, assess_errors=_at_fields(exc, AssessmentInput, "status"), status=422)
    scores().invalidate(now())
    flash(_("Opgeslagen: {rule} = {status}.", rule=rule.id, status=answer.status), "ok")
    return redirect(url_for("rules.rule", rule_id=rule.id))


@bp.route("/<rule_id>/document", methods=["GET", "POST"])
@require_farmer
def document(rule_id: str):
    """Record a document for a document rule (farmers only), with an optional scan."""
    rule = _rule_or_404(rule_id)
    if rule.id not in SPECS:
        abort(404, _("Regel {rule} wordt niet met een document aangetoond.", rule=rule.id))
    if request.method == "GET":
        return redirect(url_for("rules.rule", rule_id=rule.id) + "#document")
    doc, errors = parse_form(DocumentInput, request.form)
    values = request.form.to_dict()
    upload = None
    try:
        upload = _upload("file", DOCUMENT_TYPES)
    except FileError as exc:
        errors["file"] = exc.problems[0].render(current_translations())
    if errors:
        return _render_rule(rule, doc_values=values, doc_errors=errors, status=422)
    store, moment, user = get_writer(), now(), _user_name()
    try:
        with _with_upload(store, upload, user, moment) as file_id:
            record_document(store, kind=rule.id, issued_on=doc.issued_on, valid_until=doc.valid_until,
                            title=doc.title, location=doc.location, note=doc.note, recorded_by=user, now=moment,
                            house_ids={h.id for h in get_config().houses}, file_id=file_id)
    except DocumentError as exc:
        return _render_rule(rule, doc_values=values, doc_errors=_at_fields(exc, DocumentInput, "issued_on"), status=422)
    scores().invalidate(now())
    flash(_("Document opgeslagen."), "ok")
    return redirect(url_for("rules.rule", rule_id=rule.id))


def _at_fields(exc, model, first: str) -> dict[str, str]:
    """Return an agent refusal's messages at their form fields (one the form lacks goes to ``first``)."""
    out: dict[str, str] = {}
    for name, message in field_errors(exc).items():
        out.setdefault(name if name in model.model_fields else first, message)
    return out


REPAIR_KIND = "corrective_actions"
REPAIR_FIELDS = ("date", "time", "action", "performed_by")


def _occurrence_or_404(rule: Rule, location: str | None, start_text: str) -> tuple[Finding, Occurrence]:
    """Return the current finding and the occurrence a repair names, or answer 404 saying what was missing."""
    from datetime import datetime

    try:
        start = datetime.fromisoformat(start_text)
    except ValueError:
        abort(404, _("Geen afwijking van {rule} die op dat moment begon.", rule=rule.id))
    view = current(get_store(), get_config(), now())
    for f in view.score.findings:
        if f.rule == rule.id and f.location == location:
            for o in f.occurrences:
                if o.start == start:
                    return f, o
    abort(404, _("Geen afwijking van {rule} die op dat moment begon.", rule=rule.id))


def _render_repair(rule: Rule, finding: Finding, occurrence: Occurrence, *, values=None, errors=None,
                   status: int = 200):
    """Render the repair form of one occurrence (fields from the corrective_actions record model)."""
    errors = errors or {}
    fields = logbook_fields(REPAIR_KIND, get_config(), values=values, errors=errors, only=REPAIR_FIELDS)
    return render_template("rules/repair.html", rule=rule, finding=finding, occurrence=occurrence, fields=fields,
                           errors=errors, document_types=",".join(DOCUMENT_TYPES)), status


@bp.route("/<rule_id>/repair", methods=["GET", "POST"])
@require_farmer
def repair(rule_id: str):
    """Record the repair of one occurrence of a deviation (farmers only): what, when, who, a photo or document."""
    rule = _rule_or_404(rule_id)
    source = request.args if request.method == "GET" else request.form
    location = source.get("location") or None
    finding, occurrence = _occurrence_or_404(rule, location, source.get("start", ""))
    if request.method == "GET":
        today = get_config().farm_view().local_date(now())
        return _render_repair(rule, finding, occurrence,
                              values={"date": today.isoformat(), "performed_by": _user_name()})
    data = entry_from_form(REPAIR_KIND, request.form, only=REPAIR_FIELDS)
    data.update({"rule": rule.id, "location": location, "deviation_start": occurrence.start.isoformat()})
    from flask import current_app

    uploads = []
    upload = request.files.get("attachment")
    if upload is not None and upload.filename:
        uploads.append((upload.filename, upload.read(current_app.config["MAX_UPLOAD_BYTES"] + 1)))
    try:
        saved = record_repair(get_writer(), get_config(), current(get_store(), get_config(), now()).score, data,
                              by=_user_name(), now=now(), uploads=uploads,
                              max_bytes=current_app.config["MAX_UPLOAD_BYTES"])
    except IkbError as exc:  # the entry, the occurrence it names, or an upload: each at its field
        messages = field_errors(exc)
        if "attachments" in messages:
            messages["attachment"] = messages.pop("attachments")
        return _render_repair(rule, finding, occurrence, values=data, errors=messages, status=422)
    scores().invalidate(now())
    flash(_("Herstel vastgelegd: {rule} #{id}.", rule=rule.id, id=saved.entry.id), "ok")
    return redirect(url_for("rules.rule", rule_id=rule.id))


@contextmanager
def _with_upload(store, upload, user: str, moment):
    """Store an optional upload and yield its file id, in one transaction with the record made inside.

    A refused record leaves no orphan file behind (files are append-only).
    """
    with store.transaction() as db:
        yield store_file(db, name=upload[0], content_type=upload[2], data=upload[1], uploaded_by=user,
                         now=moment) if upload else None


def _user_name() -> str:
    """Return the logged-in account's name (recorded as who answered)."""
    from flask import g

    return g.user["name"]


@bp.get("/files/<int:file_id>")
def file(file_id: int):
    """Return a stored photo or scan (inline for photos, as a download for PDFs)."""
    row = get_file(get_store(), file_id)
    if row is None:
        abort(404, _("Bestand {id} bestaat niet.", id=file_id))
    disposition = "inline" if row["content_type"].startswith("image/") else "attachment"
    response = Response(row["data"], mimetype=row["content_type"])
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{_quote(row['name'])}"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


def _quote(name: str) -> str:
    """Return a file name percent-encoded for Content-Disposition."""
    from urllib.parse import quote

    return quote(name, safe="")
