"""The logbook pages: a list per logbook with filters, each entry with its corrections, and the forms.

Every write goes through ``agent.logbooks.entries`` (the CLI's API): ``add_entry``,
``correct_entry`` (also withdrawals) and ``confirm_draft``. Those validate with
the record model and commit durably before they return, so "opgeslagen" is
only shown after the entry is on disk. Nothing is edited in place: a
correction is a new entry that supersedes the old one, with who, when and why.
Farmers write; auditors read the lists and histories; kiosk accounts see none.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from agent.logbooks import LogbookError, StoredEntry, add_entry, confirm_draft, correct_entry, get_entry, list_entries
from rules.logbooks import LOGBOOKS, EntryError, to_json, validate_entry
from rules.texts import N_
from webui.access import can_write, require_farmer
from webui.attention import drafts, logbook_sizes
from webui.forms import NON_FIELD, field_errors
from webui.i18n import current_translations, ngettext
from webui.i18n import gettext as _
from webui.logbook_forms import (
    bait_box_choices,
    carried_over,
    conflict_id,
    display,
    entry_from_form,
    house_choices,
    list_columns,
    logbook_fields,
    record_fields,
    signature_file,
    title,
)
from webui.state import get_config, get_store, get_writer, now, scores

bp = Blueprint("logbooks", __name__, url_prefix="/logbooks")

# Registers (a box, a flock) stay relevant for years: their list shows every entry by default.
REGISTERS = ("bait_boxes", "flocks")
DEFAULT_DAYS = 90
MAX_ROWS = 500
STATE_WORDS = {"confirmed": N_("bevestigd"), "draft": N_("concept, wacht op bevestiging"), "withdrawn": N_("ingetrokken")}


def spec_or_404(kind: str):
    """Return the logbook of a kind, or answer 404 naming it."""
    spec = LOGBOOKS.get(kind)
    if spec is None:
        abort(404, _("Logboek {kind} bestaat niet.", kind=kind))
    return spec


def entry_or_404(kind: str, entry_id: int) -> StoredEntry:
    """Return a stored entry of this logbook, or answer 404."""
    try:
        row = get_entry(get_store(), entry_id)
    except LogbookError:
        row = None
    if row is None or row.kind != kind:
        abort(404, _("Registratie #{id} bestaat niet in dit logboek.", id=entry_id))
    return row


def today() -> date:
    """Return the farm-local date."""
    return get_config().farm_view().local_date(now())


def flash_flags(flags) -> None:
    """Show every flag the logbook API returned, at once and prominently (A6.2.2, A6.2.1, 48-hour visitor…)."""
    for f in flags:
        flash(f"[{f.rule}] {f.message}", "flag-alert" if f.level == "alert" else "flag-warning")


@bp.get("/")
def index():
    """List the logbooks with their size and the drafts waiting for confirmation."""
    store = get_store()
    sizes = logbook_sizes(store)
    rows = [{"kind": kind, "title": title(kind), "rules": spec.rules, "count": sizes[kind][0], "last": sizes[kind][1]}
            for kind, spec in LOGBOOKS.items()]
    return render_template("logbooks/index.html", rows=rows, drafts=drafts(store), display=display,
                           columns=list_columns)


# --------------------------------------------------------------------------- lists


def _filters(kind: str) -> list[dict]:
    """Return the list's filters: house, every choice field of the record, the 48-hour question."""
    config = get_config()
    out = []
    for f in record_fields(kind).values():
        if f.widget in ("house", "houses"):
            out.append({"name": f.name, "label": _("Stal"), "choices": house_choices(config, kind)})
        elif f.widget == "select" and f.options:
            out.append({"name": f.name, "label": _(f.label),
                        "choices": [(value, _(label)) for value, label in f.options.items()]})
        elif f.widget == "yesno" and kind == "visitors":
            out.append({"name": f.name, "label": _("Pluimveecontact 48 uur"),
                        "choices": [("ja", _("ja")), ("nee", _("nee"))]})
    return out


def _matches(row: StoredEntry, args: dict[str, str], filters: list[dict]) -> bool:
    """Return whether an entry passes the chosen filters."""
    for f in filters:
        wanted = args.get(f["name"])
        if not wanted:
            continue
        value = row.entry.get(f["name"])
        if isinstance(value, list):
            if wanted not in value:
                return False
        elif isinstance(value, bool):
            if value != (wanted == "ja"):
                return False
        elif str(value) != wanted:
            return False
    if args.get("state") and row.state != args["state"]:
        return False
    query = (args.get("q") or "").lower()
    return not query or query in " ".join(str(v) for v in row.entry.values()).lower()


def _period(kind: str) -> tuple[date | None, date | None]:
    """Return the list's period from the query string (default: the last 90 days; registers: all)."""
    try:
        start = date.fromisoformat(request.args["from"]) if request.args.get("from") else None
        end = date.fromisoformat(request.args["to"]) if request.args.get("to") else None
    except ValueError:
        abort(400, _("Datum verwacht als JJJJ-MM-DD."))
    if "from" not in request.args and kind not in REGISTERS:
        start = today() - timedelta(days=DEFAULT_DAYS)
    if start and end and start > end:
        abort(400, _("De begindatum ligt na de einddatum."))
    return start, end


@bp.get("/<kind>/")
def entries(kind: str):
    """List a logbook: the current view or every row (history), filtered by period, house and kind."""
    spec = spec_or_404(kind)
    start, end = _period(kind)
    history = request.args.get("history") == "1"
    filters = _filters(kind)
    args = {k: request.args.get(k, "").strip() for k in [f["name"] for f in filters] + ["q", "state"]}
    rows = [r for r in list_entries(get_store(), kind, history=history, start=start, end=end)
            if _matches(r, args, filters)]
    rows.reverse()  # newest first
    return render_template("logbooks/list.html", kind=kind, spec=spec, title=title(kind), rows=rows[:MAX_ROWS],
                           total=len(rows), max_rows=MAX_ROWS, columns=list_columns(kind), filters=filters,
                           args=args, start=start, end=end, history=history, display=display,
                           state_words=STATE_WORDS, writer=can_write())


def versions(kind: str, row: StoredEntry) -> list[StoredEntry]:
    """Return every version of an entry, oldest first: the row it started as and each correction of it."""
    by_id = {r.id: r for r in list_entries(get_store(), kind, history=True)}
    first = row
    while first.supersedes is not None and first.supersedes in by_id:
        first = by_id[first.supersedes]
    out = [first]
    while out[-1].superseded_by is not None and out[-1].superseded_by in by_id:
        out.append(by_id[out[-1].superseded_by])
    return out


@bp.get("/<kind>/<int:entry_id>")
def entry(kind: str, entry_id: int):
    """Show one entry with every field and its correction history (who, when, why, what changed)."""
    from webui.logbook_forms import changed_fields

    spec = spec_or_404(kind)
    row = entry_or_404(kind, entry_id)
    chain = versions(kind, row)
    changes = {v.id: changed_fields(kind, prev.entry, v.entry)
               for prev, v in zip(chain, chain[1:]) if v.state != "withdrawn"}
    fields = [{"name": f.name, "label": _(f.label), "rule": f.rule} for f in record_fields(kind).values()
              if f.widget != "hidden" or row.entry.get(f.name)]
    return render_template("logbooks/entry.html", kind=kind, spec=spec, title=title(kind), row=row,
                           versions=chain, changes=changes, fields=fields, display=display,
                           signature_file=signature_file, state_words=STATE_WORDS, writer=can_write())


# --------------------------------------------------------------------------- forms


def _register_choices(kind: str) -> dict[str, list[tuple[str, str]]]:
    """Return the choices a form takes from a register: a pest-control check names a box of the register."""
    if kind != "pest_control":
        return {}
    boxes = bait_box_choices([r.entry for r in list_entries(get_store(), "bait_boxes")], today())
    return {"bait_box": boxes} if boxes else {}


def _render_form(kind: str, mode: str, *, values: dict | None = None, errors: dict | None = None,
                 row: StoredEntry | None = None, reason: str = "", status: int = 200, conflict: int | None = None):
    """Render a logbook form: new entry, correction or confirmation of a draft."""
    choices = _register_choices(kind)
    # A new check may cover several boxes of the register at once: one entry per box.
    several = tuple(choices) if mode == "new" else ()
    fields = logbook_fields(kind, get_config(), values=values, errors=errors, choices=choices, several=several)
    return render_template("logbooks/form.html", kind=kind, spec=LOGBOOKS[kind], title=title(kind), mode=mode,
                           fields=fields, errors=errors or {}, form_error=(errors or {}).get(NON_FIELD), row=row,
                           reason=reason, conflict=conflict, register=bool(choices)), status


def _user() -> str:
    """Return the logged-in account's name (recorded as who wrote the entry)."""
    return g.user["name"]


def _houses() -> dict[str, str]:
    """Return house id → housing, for validating house fields."""
    return {h.id: h.housing for h in get_config().houses}


def _shown_fields(kind: str) -> set[str]:
    """Return the fields the form shows (the others, such as a draft's event id, are kept as they were)."""
    return {f.name for f in record_fields(kind).values() if f.widget != "hidden"}


def revised(kind: str, old: dict, submitted: dict) -> dict:
    """Return the whole entry after a correction: hidden fields kept, shown fields as submitted, validated.

    Raises EntryError (named fields) like ``logbook correct`` would.
    """
    shown = _shown_fields(kind)
    merged = {k: v for k, v in old.items() if k not in shown} | submitted
    record = validate_entry(kind, merged, houses=_houses(), today=today())
    return to_json(record)


def changed(kind: str, old: dict, submitted: dict) -> dict:
    """Return the corrected entry, refusing a correction that changes nothing."""
    new_entry = revised(kind, old, submitted)
    if new_entry == old:
        raise EntryError("", "unchanged")
    return new_entry


def attempt(write, rerender):
    """Run a logbook write; return (saved, None), or (None, the form again with the messages at their fields).

    ``rerender(errors, status, conflict)`` draws the form: 422 for an invalid
    entry (conflict = the id of the entry a uniqueness refusal names), 409 when
    the entry was corrected by someone else meanwhile.
    """
    try:
        return write(), None
    except EntryError as exc:
        return None, rerender(field_errors(exc), 422, conflict_id(exc))
    except LogbookError as exc:
        return None, rerender({NON_FIELD: exc.problems[0].render(current_translations())}, 409, None)


def _open_entry(kind: str, entry_id: int, *, draft: bool):
    """Return (entry, None) when it may be corrected (draft: confirmed), else (None, a redirect saying why)."""
    spec_or_404(kind)
    row = entry_or_404(kind, entry_id)
    if row.superseded_by is None and (row.state == "draft" if draft else row.state != "withdrawn"):
        return row, None
    flash(_("Registratie #{id} is geen concept dat op bevestiging wacht.", id=entry_id) if draft else
          _("Registratie #{id} is al gecorrigeerd of ingetrokken; corrigeer de nieuwste versie.", id=entry_id), "error")
    return None, redirect(url_for("logbooks.entry", kind=kind, entry_id=entry_id))


@bp.route("/<kind>/new", methods=["GET", "POST"])
@require_farmer
def new(kind: str):
    """Add an entry; the CLI's validation names each bad field and nothing is stored then."""
    spec = spec_or_404(kind)
    if kind == "corrective_actions":
        # A repair names the occurrence it repairs: it is recorded from the deviation on the rule's page.
        flash(_("Registreer een herstel bij de afwijking zelf: kies de regel en dan 'Herstel registreren'."), "info")
        return redirect(url_for("rules.index", status="D"))
    if request.method == "GET":
        current = list_entries(get_store(), kind)
        values = carried_over(kind, current[-1].entry if current else None) | {spec.date_field: today().isoformat()}
        return _render_form(kind, "new", values=values)
    data = entry_from_form(kind, request.form)
    several = [v for v in request.form.getlist("bait_box") if v] if _register_choices(kind) else []
    entries = [{**data, "bait_box": box} for box in several] or [data]
    shown = {**data, "bait_box": several} if several else data
    saved, refused = attempt(lambda: _add_all(kind, entries),
                             lambda errors, status, conflict: _render_form(kind, "new", values=shown, errors=errors,
                                                                           status=status, conflict=conflict))
    if refused:
        return refused
    scores().invalidate(now())
    if len(saved) == 1:
        flash(_("Opgeslagen: {title} #{id}.", title=title(kind), id=saved[0].entry.id), "ok")
    else:
        flash(ngettext("Opgeslagen: {n} registratie in {title}: #{ids}.", "Opgeslagen: {n} registraties in {title}: #{ids}.",
                       len(saved), title=title(kind), ids=", #".join(str(s.entry.id) for s in saved)), "ok")
    for one in saved:
        flash_flags(one.flags)
    return redirect(url_for("logbooks.entries", kind=kind))


def _add_all(kind: str, entries: list[dict]) -> list:
    """Validate every entry first (all or nothing), then store each; return what was saved."""
    for entry in entries:
        validate_entry(kind, entry, houses=_houses(), today=today())
    return [add_entry(get_writer(), get_config(), kind, entry, by=_user(), now=now()) for entry in entries]


@bp.route("/<kind>/<int:entry_id>/correct", methods=["GET", "POST"])
@require_farmer
def correct(kind: str, entry_id: int):
    """Correct an entry: a new entry supersedes it, with the reason; the old one stays in the history."""
    row, elsewhere = _open_entry(kind, entry_id, draft=False)
    if elsewhere:
        return elsewhere
    if request.method == "GET":
        return _render_form(kind, "correct", values=row.entry, row=row)
    data = entry_from_form(kind, request.form)
    reason = request.form.get("reason", "").strip()
    saved, refused = attempt(
        lambda: correct_entry(get_writer(), get_config(), entry_id, changed(kind, row.entry, data), by=_user(),
                              now=now(), reason=reason),
        lambda errors, status, conflict: _render_form(kind, "correct", values=data, errors=errors, row=row,
                                                      reason=reason, status=status, conflict=conflict))
    if refused:
        return refused
    scores().invalidate(now())
    flash(_("Gecorrigeerd: #{old} is vervangen door #{new}.", old=entry_id, new=saved.entry.id), "ok")
    flash_flags(saved.flags)
    return redirect(url_for("logbooks.entry", kind=kind, entry_id=saved.entry.id))


@bp.post("/<kind>/<int:entry_id>/withdraw")
@require_farmer
def withdraw(kind: str, entry_id: int):
    """Withdraw an entry (a wrong draft, a double entry): a withdrawal row with the reason; nothing is deleted."""
    spec_or_404(kind)
    entry_or_404(kind, entry_id)
    try:
        correct_entry(get_writer(), get_config(), entry_id, None, by=_user(), now=now(),
                      reason=request.form.get("reason", ""), withdraw=True)
    except EntryError as exc:
        errors = field_errors(exc)
        flash(errors.get("reason") or next(iter(errors.values())), "error")
        return redirect(url_for("logbooks.entry", kind=kind, entry_id=entry_id))
    except LogbookError as exc:
        flash(exc.problems[0].render(current_translations()), "error")
        return redirect(url_for("logbooks.entry", kind=kind, entry_id=entry_id))
    scores().invalidate(now())
    flash(_("Ingetrokken: #{id}. De registratie blijft in de geschiedenis.", id=entry_id), "ok")
    return redirect(url_for("logbooks.entries", kind=kind))


@bp.route("/<kind>/<int:entry_id>/confirm", methods=["GET", "POST"])
@require_farmer
def confirm(kind: str, entry_id: int):
    """Confirm a draft (a generator test the sensors detected), completing or changing it first."""
    row, elsewhere = _open_entry(kind, entry_id, draft=True)
    if elsewhere:
        return elsewhere
    if request.method == "GET":
        values = dict(row.entry)
        if kind == "checks" and values.get("source") == "detected" and values.get("checked_by") == \
                "automatisch gedetecteerd":
            values["checked_by"] = _user()  # who confirms is who vouches for the check
        return _render_form(kind, "confirm", values=values, row=row)
    data = entry_from_form(kind, request.form)
    saved, refused = attempt(
        lambda: confirm_draft(get_writer(), get_config(), entry_id, by=_user(), now=now(),
                              changes=revised(kind, row.entry, data)),
        lambda errors, status, conflict: _render_form(kind, "confirm", values=data, errors=errors, row=row,
                                                      status=status))
    if refused:
        return refused
    scores().invalidate(now())
    flash(_("Bevestigd: #{old} is vastgelegd als #{new}.", old=entry_id, new=saved.entry.id), "ok")
    flash_flags(saved.flags)
    return redirect(url_for("logbooks.index"))
