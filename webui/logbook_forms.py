"""The logbook forms (drawn by :mod:`webui.forms` from the record models) and stored entries as the page shows them.

A logbook's form is the generic form of its record model with the farm's houses as the choices of its
``house``/``houses`` field; a submitted form becomes the JSON object the CLI takes and
``agent.logbooks.entries`` validates it, so the page shows the CLI's messages, each at its field.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

from werkzeug.datastructures import MultiDict

from agent.config import Settings
from rules.logbooks import LOGBOOKS, EntryError, FieldMeta, form_fields
from webui.forms import FieldSpec, fields_for, form_data
from webui.i18n import fmt_date, fmt_number, location_word
from webui.i18n import gettext as _

FREE_RANGE_HOUSINGS = ("free_range", "organic")


@lru_cache(maxsize=64)
def record_fields(kind: str) -> dict[str, FieldMeta]:
    """Return a logbook's fields by name, in form order (msgids; computed once)."""
    return {f.name: f for f in form_fields(kind)}


def house_choices(config: Settings, kind: str) -> list[tuple[str, str]]:
    """Return (id, name) of the houses a logbook's house field may name (free range: only such houses)."""
    houses = config.houses
    if kind == "free_range":
        houses = [h for h in houses if h.housing in FREE_RANGE_HOUSINGS]
    return [(h.id, location_word(h.id)) for h in houses]


def logbook_fields(kind: str, config: Settings, *, values: dict | None = None, errors: dict | None = None,
                   only: tuple[str, ...] | None = None, choices: dict | None = None,
                   several: tuple[str, ...] = ()) -> list[FieldSpec]:
    """Return the form fields of a logbook in the page's language, with values and errors filled in.

    ``choices`` adds this form's choices for other fields (the bait boxes of the register); the fields
    named in ``several`` become toggle buttons of which several may be chosen (one entry each).
    """
    houses = house_choices(config, kind)
    choices = {f.name: houses for f in record_fields(kind).values() if f.widget in ("house", "houses")} \
        | (choices or {})
    specs = fields_for(LOGBOOKS[kind].model, values=values, errors=errors, choices=choices, only=only)
    for spec in specs:
        if spec.name in several:
            spec.widget = "houses"
            spec.value = spec.value if isinstance(spec.value, list) else [spec.value] if spec.value else []
    return specs


# What a new entry takes over from the logbook's last one: the same product, its Ctgb number and where
# its label and safety sheet are, who checks, which lab. What was seen (uptake, effect, figures) never.
CARRY_OVER = {
    "pest_control": ("measures", "product", "admission_number", "label_location", "sds_location", "volume",
                     "checked_by", "inspector"),
    "cleaning": ("products", "performed_by"),
    "checks": ("checked_by",),
    "hygienogram": ("sampled_by", "accredited"),
    "samples": ("lab", "method"),
}


def carried_over(kind: str, last: dict | None) -> dict:
    """Return the values a new entry starts with from the logbook's last entry (nothing when there is none)."""
    if not last:
        return {}
    return {name: last[name] for name in CARRY_OVER.get(kind, ()) if last.get(name) not in (None, "", [])}


def bait_box_choices(boxes: list[dict], today: date) -> list[tuple[str, str]]:
    """Return the register's boxes still in place as (number, 'number — location (pest)') choices (A4.5.3)."""
    pests = record_fields("bait_boxes")["target_pest"].options or {}
    out = []
    for box in sorted(boxes, key=lambda b: (len(b["number"]), b["number"])):
        if box.get("removed_on") and box["removed_on"] <= today.isoformat():
            continue
        pest = pests.get(box.get("target_pest", ""), "")
        out.append((box["number"], f"{box['number']} — {box.get('location', '')}" + (f" ({_(pest)})" if pest else "")))
    return out


def entry_from_form(kind: str, form: MultiDict, *, only: tuple[str, ...] | None = None) -> dict:
    """Return the submitted form as the logbook's JSON object (empty fields left out, as the CLI would)."""
    return form_data(LOGBOOKS[kind].model, form, only=only)


def conflict_id(exc: EntryError) -> int | None:
    """Return the id of the existing entry a uniqueness refusal names (to offer its correction)."""
    return next((p.params["id"] for p in exc.problems if p.code == "duplicate"), None)


# --------------------------------------------------------------------------- showing stored values


def signature_file(value: Any) -> int | None:
    """Return the file id a drawn signature refers to (``file:<id>;sha256:<hex>``), else None."""
    match = re.match(r"^file:(\d+);sha256:[0-9a-f]{64}$", value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def display(kind: str, name: str, value: Any) -> str:
    """Return a stored value as the page shows it: option labels, ja/nee, dates in words, lists joined."""
    if value is None or value == "" or value == []:
        return "—"
    meta = record_fields(kind).get(name)
    options = (meta.options if meta else None) or {}
    widget = meta.widget if meta else None
    if isinstance(value, bool):
        return _("ja") if value else _("nee")
    if isinstance(value, list):
        return ", ".join(display_item(name, v) for v in value)
    if widget == "signature" and signature_file(value) is not None:
        return _("getekend")
    if widget == "date" and isinstance(value, str):
        try:
            return fmt_date(date.fromisoformat(value))
        except ValueError:
            return value
    if widget == "number" and isinstance(value, (int, float)):
        return fmt_number(value, 1 if value != int(value) else 0)
    if str(value) in options:
        return _(options[str(value)])
    if widget == "house":
        return location_word(str(value))
    return str(value)


def display_item(name: str, value: Any) -> str:
    """Return one item of a list value (a product, a house)."""
    if isinstance(value, dict) and set(value) >= {"name", "admission_number"}:
        return f"{value['name']} ({value['admission_number']})"
    if name == "houses":
        return location_word(str(value))
    return str(value)


# Where the first fields are not what a list needs: the pest-control log's label and safety-sheet
# locations are the same on every line; who checked and the uptake are what an auditor scans for.
LIST_COLUMNS = {"pest_control": ("date", "bait_box", "product", "admission_number", "volume", "uptake",
                                 "checked_by", "inspector")}


def list_columns(kind: str, limit: int = 9) -> list[tuple[str, str]]:
    """Return (field, label) of the columns a logbook's list shows (long texts are on the entry's page)."""
    fields = record_fields(kind)
    if kind in LIST_COLUMNS:
        return [(name, _(fields[name].label)) for name in LIST_COLUMNS[kind]]
    cols = [(f.name, _(f.label)) for f in fields.values() if f.widget not in ("hidden", "textarea", "signature")]
    return cols[:limit]


def changed_fields(kind: str, old: dict, new: dict) -> list[tuple[str, str, str]]:
    """Return (label, old, new) for every field a correction changed."""
    return [(_(f.label), display(kind, name, old.get(name)), display(kind, name, new.get(name)))
            for name, f in record_fields(kind).items() if old.get(name) != new.get(name)]


def title(kind: str) -> str:
    """Return a logbook's name in the page's language."""
    return _(LOGBOOKS[kind].title)
