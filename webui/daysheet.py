"""The flock day sheet (koppelkaart) as a fast per-house form for a phone in the barn.

One screen per house and day: today prefilled, yesterday's figures beside each
input, one tap to save. A second visit the same day corrects that day's line
(with a reason: nothing is overwritten). After saving, the flags the logbook
API returns — A6.2.2 "meld bij de NVWA", A6.2.1 "raadpleeg de dierenarts",
a missing flock — stand at the top of the page, large.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from agent.logbooks import StoredEntry, add_entry, correct_entry, list_entries
from rules.logbooks import EntryError, jumps, validate_entry
from webui.access import require_farmer
from webui.forms import NON_FIELD, field_errors
from webui.i18n import fmt_date, fmt_number, location_word
from webui.i18n import gettext as _
from webui.logbook_forms import display, entry_from_form, logbook_fields
from webui.logbooks import _user, attempt, changed, flash_flags, today
from webui.state import get_config, get_store, get_writer, now, scores

bp = Blueprint("daysheet", __name__, url_prefix="/daysheet")

KIND = "flock_day"
# What the farmer fills in each day, in the order he counts it in the barn.
FIGURES = ("mortality", "culls", "eggs", "water_l", "feed_kg")
CHECKS = ("inspected", "dead_removed", "vet_consulted", "nvwa_reported")
FIELDS = FIGURES + ("inspected_by",) + CHECKS + ("notes",)


@dataclass
class FlockInfo:
    """The flock in the house on the sheet's day: when placed, how old, how many hens at the start of the day."""

    placed_on: date
    age_weeks: int
    placed: int
    present: int


def _lines(house: str, start: date, end: date) -> dict[str, StoredEntry]:
    """Return the current day-sheet lines of a house in [start, end], by date."""
    return {r.entry["date"]: r for r in list_entries(get_store(), KIND, start=start, end=end)
            if r.entry.get("house") == house}


def _sheet(house: str, day: date) -> StoredEntry | None:
    """Return the current day-sheet line of a house for a day."""
    return _lines(house, day, day).get(day.isoformat())


def _the_day(house: str, day: date) -> tuple[StoredEntry | None, StoredEntry | None, FlockInfo | None]:
    """Return the day's line, the day before's, and the flock in the house (one read of the sheet)."""
    flocks = [r.entry for r in list_entries(get_store(), "flocks") if r.entry.get("house") == house
              and r.entry["placed_on"] <= day.isoformat()
              and (r.entry.get("depopulated_on") or "9999") >= day.isoformat()]
    flock = max(flocks, key=lambda e: e["placed_on"]) if flocks else None
    placed_on = date.fromisoformat(flock["placed_on"]) if flock else day
    lines = _lines(house, min(placed_on, day - timedelta(days=1)), day)
    info = None
    if flock:
        # A6.2.2: mortality includes culls; hens at the start of the day = placed − earlier losses.
        losses = sum(int(r.entry.get("mortality") or 0) + int(r.entry.get("culls") or 0)
                     for d, r in lines.items() if placed_on.isoformat() <= d < day.isoformat())
        age = (day - date.fromisoformat(flock["hatched_on"])).days // 7
        info = FlockInfo(placed_on, age, int(flock["number_placed"]), int(flock["number_placed"]) - losses)
    return lines.get(day.isoformat()), lines.get((day - timedelta(days=1)).isoformat()), info


def _house_or_404(house: str) -> None:
    """Answer 404 for a house the farm does not have."""
    if house not in {h.id for h in get_config().houses}:
        abort(404, _("Stal {id} bestaat niet.", id=house))


def _day() -> date:
    """Return the sheet's day from the query string or form (default today; never in the future)."""
    text = request.values.get("date") or ""
    try:
        day = date.fromisoformat(text) if text else today()
    except ValueError:
        abort(400, _("Datum verwacht als JJJJ-MM-DD."))
    if day > today():
        abort(400, _("Een koppelkaart legt vast wat gebeurd is; deze datum ligt in de toekomst."))
    return day


@bp.get("/")
@require_farmer
def index():
    """Choose the house (straight to it when the farm has one)."""
    config = get_config()
    if len(config.houses) == 1:
        return redirect(url_for("daysheet.sheet", house=config.houses[0].id))
    day = today()
    houses = [(h.id, location_word(h.id), _sheet(h.id, day)) for h in config.houses]
    return render_template("daysheet/index.html", houses=houses, day=day)


def _render(house: str, day: date, *, values: dict | None = None, errors: dict | None = None, reason: str = "",
            questions: dict | None = None, status: int = 200):
    """Render the day sheet of a house."""
    existing, yesterday, flock = _the_day(house, day)
    if values is None:
        if existing is not None:
            values = dict(existing.entry)
        else:
            # Who inspected yesterday most likely inspects today.
            values = {"inspected": True, "dead_removed": True, "vet_consulted": False, "nvwa_reported": False,
                      "inspected_by": (yesterday.entry.get("inspected_by") if yesterday else None) or _user()}
    fields = {f.name: f for f in logbook_fields(KIND, get_config(), values=values, errors=errors, only=FIELDS)}
    return render_template(
        "daysheet/sheet.html", house=house, day=day, today=today(), existing=existing, yesterday=yesterday,
        figures=[fields[n] for n in FIGURES], checks=[fields[n] for n in CHECKS], who=fields["inspected_by"],
        notes=fields["notes"], flock=flock, errors=errors or {}, form_error=(errors or {}).get(NON_FIELD),
        questions=questions or {},
        reason=reason, display=display, prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1) if day < today() else None), status


@bp.get("/<house>")
@require_farmer
def sheet(house: str):
    """Show the day sheet of a house: today's line (or a past day's), yesterday's figures beside it."""
    _house_or_404(house)
    return _render(house, _day())


def _problems(data: dict, existing: StoredEntry | None, reason: str) -> dict[str, str]:
    """Return every message about a submitted line at once: its fields and, for a correction, the reason."""
    errors: dict[str, str] = {}
    try:
        if existing is None:
            validate_entry(KIND, data, houses={h.id: h.housing for h in get_config().houses}, today=today())
        else:
            changed(KIND, existing.entry, data)
    except EntryError as exc:
        errors.update(field_errors(exc))
    if existing is not None and not reason:
        errors.setdefault("reason", field_errors(EntryError("reason", "reason"))["reason"])
    return errors


def _questions(data: dict, yesterday: StoredEntry | None) -> dict[str, str]:
    """Return a 'klopt dat?' per figure that jumped from yesterday's and is not confirmed yet."""
    out = {}
    for jump in jumps(data, yesterday.entry if yesterday else None):
        if request.form.get(f"confirm-{jump.field}") == "ja":
            continue
        digits = 0 if jump.field in ("mortality", "eggs") else 1
        today_text, before = fmt_number(jump.today, digits), fmt_number(jump.yesterday, digits)
        if jump.field == "mortality":
            out[jump.field] = _("{today} dood, gisteren {yesterday}: klopt dat?", today=today_text, yesterday=before)
        else:
            change = format(jump.change, "+d")
            out[jump.field] = _("{today}, gisteren {yesterday} ({change} %): klopt dat?", today=today_text,
                                yesterday=before, change=change)
    return out


@bp.post("/<house>")
@require_farmer
def save(house: str):
    """Save the day's line (a new entry, or a correction of the day's line with its reason); show the flags.

    Every message comes in one round — each field's, the correction's reason, and a 'klopt dat?' for a
    figure that jumped from yesterday's (``rules.logbooks.jumps``) — and nothing is stored until the
    farmer has answered them all.
    """
    _house_or_404(house)
    day = _day()
    data = entry_from_form(KIND, request.form, only=FIELDS) | {"date": day.isoformat(), "house": house}
    existing, yesterday, _flock = _the_day(house, day)
    reason = request.form.get("reason", "").strip()
    errors, questions = _problems(data, existing, reason), _questions(data, yesterday)
    if errors or questions:
        return _render(house, day, values=data, errors=errors, questions=questions, reason=reason, status=422)
    store, config = get_writer(), get_config()

    def write():
        if existing is None:
            return add_entry(store, config, KIND, data, by=_user(), now=now())
        return correct_entry(store, config, existing.id, changed(KIND, existing.entry, data), by=_user(), now=now(),
                             reason=reason)

    saved, refused = attempt(write, lambda errors, status, _conflict: _render(house, day, values=data, errors=errors,
                                                                               reason=reason, status=status))
    if refused:
        return refused
    scores().invalidate(now())
    flash(_("Opgeslagen: {house}, {day} (#{id}).", house=location_word(house), day=fmt_date(day),
            id=saved.entry.id), "ok")
    flash_flags(saved.flags)
    return redirect(url_for("daysheet.sheet", house=house, date=day.isoformat()))
