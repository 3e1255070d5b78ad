"""Logbook forms drawn from the record models (``rules.logbooks.form_fields``), and submitted forms read back.

The record model is the one definition: its labels (Dutch or English), widget
hints, options and per-field messages give the form; a submitted form becomes
the same JSON object the CLI takes, and ``validate_entry`` (through
``agent.logbooks.entries``) judges it, so the page shows the CLI's messages, each at its
field. Widgets beyond phase 1's: ``yesno`` (two big buttons), ``house`` (a
select of the farm's houses), ``houses`` (toggle buttons), ``products`` (rows
of product name and admission number), ``hidden`` (not on the form).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

from werkzeug.datastructures import MultiDict

from agent.config import Settings
from rules.logbooks import LOGBOOKS, EntryError, form_fields
from webui.forms import FieldSpec
from webui.i18n import fmt_date, fmt_number, language, location_word
from webui.i18n import gettext as _


@lru_cache(maxsize=64)
def record_fields(kind: str, lang: str = "nl") -> tuple[dict, ...]:
    """Return ``rules.logbooks.form_fields`` of a logbook, computed once per language (read-only)."""
    return tuple(form_fields(kind, lang))


@lru_cache(maxsize=64)
def _by_name(kind: str, lang: str) -> dict[str, dict]:
    """Return a logbook's fields by name."""
    return {f["name"]: f for f in record_fields(kind, lang)}


PRODUCT_ROWS = 3  # rows of the products widget (R&O: cleaning agent, disinfectant, a third)
FREE_RANGE_HOUSINGS = ("free_range", "organic")
NON_FIELD = "_form"


def house_choices(config: Settings, kind: str) -> list[tuple[str, str]]:
    """Return (id, name) of the houses a logbook's house field may name (free range: only such houses)."""
    houses = config.houses
    if kind == "free_range":
        houses = [h for h in houses if h.housing in FREE_RANGE_HOUSINGS]
    return [(h.id, location_word(h.id)) for h in houses]


def logbook_fields(kind: str, config: Settings, *, values: dict | None = None, errors: dict | None = None,
                   only: tuple[str, ...] | None = None) -> list[FieldSpec]:
    """Return the form fields of a logbook in the page's language, with values and errors filled in."""
    values, errors = values or {}, errors or {}
    out = []
    for f in record_fields(kind, language()):
        widget = f["widget"]
        if widget == "hidden" or (only is not None and f["name"] not in only):
            continue
        choices: list[tuple[str, str]] = list((f["options"] or {}).items())
        if widget in ("house", "houses"):
            choices = house_choices(config, kind)
        if widget == "house":
            widget = "select"
        if widget == "signature":
            widget = "text"  # on the farmer's form: initials; the kiosk draws a signature
        value = values.get(f["name"], f["default"])
        if widget == "products":
            value = _product_rows(value)
        out.append(FieldSpec(name=f["name"], label=f["label"], widget=widget, required=f["required"],
                             choices=choices, help=f["rule"] or "", value=value, error=errors.get(f["name"]),
                             step="any" if widget == "number" else None, rule=f["rule"]))
    return out


def _product_rows(value: Any) -> list[dict]:
    """Return the products as PRODUCT_ROWS rows of {name, admission_number} (empty rows to fill)."""
    rows = [dict(p) for p in value if isinstance(p, dict)] if isinstance(value, list) else []
    return rows + [{"name": "", "admission_number": ""} for _i in range(max(0, PRODUCT_ROWS - len(rows)))]


def entry_from_form(kind: str, form: MultiDict, *, only: tuple[str, ...] | None = None) -> dict:
    """Return the submitted form as the logbook's JSON object (empty fields left out, as the CLI would)."""
    data: dict[str, Any] = {}
    for f in record_fields(kind):
        name, widget = f["name"], f["widget"]
        if widget == "hidden" or (only is not None and name not in only):
            continue
        if widget == "houses":
            data[name] = [h.strip() for h in form.getlist(name) if h.strip()]
        elif widget == "products":
            rows = []
            for i in range(PRODUCT_ROWS):
                product = {k: form.get(f"{name}-{i}-{k}", "").strip() for k in ("name", "admission_number")}
                if any(product.values()):
                    rows.append(product)
            data[name] = rows
        elif widget == "yesno":
            value = form.get(name, "").strip().lower()
            if value in ("ja", "nee"):
                data[name] = value
        else:
            value = form.get(name, "").strip()
            if widget == "number":
                # A Dutch phone keyboard types 12,5; the record model reads 12.5.
                value = value.replace(",", ".")
            if value:
                data[name] = value
    return data


def error_messages(exc: EntryError) -> dict[str, str]:
    """Return one message per form field (the page's language), from the logbook's validation."""
    index = 1 if language() == "nl" else 2
    out: dict[str, str] = {}
    for problem in exc.problems:
        path, message = problem[0], problem[index]
        name = re.split(r"[.\[]", path, maxsplit=1)[0] if path else NON_FIELD
        nested = re.match(r"^\w+\[(\d+)\]", path or "")
        if nested:
            message = _("regel {n}", n=int(nested.group(1)) + 1) + ": " + message
        out.setdefault(name, message)
    return out


def conflict_id(exc: EntryError) -> int | None:
    """Return the id of the existing entry a uniqueness refusal names (to offer its correction)."""
    for problem in exc.problems:
        match = re.search(r"\(#(\d+)\)", problem[1])
        if match:
            return int(match.group(1))
    return None


# --------------------------------------------------------------------------- showing stored values


def signature_file(value: Any) -> int | None:
    """Return the file id a drawn signature refers to (``file:<id>;sha256:<hex>``), else None."""
    match = re.match(r"^file:(\d+);sha256:[0-9a-f]{64}$", value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def display(kind: str, name: str, value: Any) -> str:
    """Return a stored value as the page shows it: option labels, ja/nee, dates in words, lists joined."""
    if value is None or value == "" or value == []:
        return "—"
    meta = _by_name(kind, language()).get(name)
    options = (meta or {}).get("options") or {}
    widget = (meta or {}).get("widget")
    if isinstance(value, bool):
        return _("ja") if value else _("nee")
    if isinstance(value, list):
        return ", ".join(display_item(kind, name, v) for v in value)
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
        return options[str(value)]
    if widget == "house":
        return location_word(str(value))
    return str(value)


def display_item(kind: str, name: str, value: Any) -> str:
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
    fields = record_fields(kind, language())
    if kind in LIST_COLUMNS:
        labels = {f["name"]: f["label"] for f in fields}
        return [(name, labels[name]) for name in LIST_COLUMNS[kind]]
    cols = [(f["name"], f["label"]) for f in fields if f["widget"] not in ("hidden", "textarea", "signature")]
    return cols[:limit]


def changed_fields(kind: str, old: dict, new: dict) -> list[tuple[str, str, str]]:
    """Return (label, old, new) for every field a correction changed."""
    out = []
    for f in record_fields(kind, language()):
        name = f["name"]
        if old.get(name) != new.get(name):
            out.append((f["label"], display(kind, name, old.get(name)), display(kind, name, new.get(name))))
    return out


def title(kind: str) -> str:
    """Return a logbook's name in the page's language."""
    spec = LOGBOOKS[kind]
    return spec.title_nl if language() == "nl" else spec.title_en
