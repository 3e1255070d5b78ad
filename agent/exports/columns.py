"""How a logbook reads in an export: Dutch column names, Dutch values, local times, numbers without gaps.

Every format (CSV, XLSX, PDF, the pack's ``index.html``) and the verifier draw a logbook's rows through this
module, so they say the same thing and the verifier can render a chain record the way the export did.

- Column names are the record model's labels (``rules.logbooks.describe``; Dutch msgids, Dutch is the source
  language) and Dutch names for the entry's metadata.
- Values go through the field's option labels (``weinig``, ``plaagdierbeheersbedrijf``); yes/no is ``ja``/``nee``
  everywhere; numbers carry a decimal comma (the CSV is read by Dutch Excel).
- ``recorded_at`` (stored in UTC) is shown in the farm's time zone; the zone is named once per document (a
  column header here, the heading of a PDF or page).
- ``Nr.`` numbers a logbook's entries in the document 1, 2, 3 … without gaps; the global row id stays as the
  reference into the chain (``Registratie-id``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from agent.logbooks import StoredEntry, signatures
from rules.logbooks import LOGBOOKS, FieldMeta, LogbookSpec, describe

STATE_NL = {"confirmed": "bevestigd", "draft": "concept", "withdrawn": "ingetrokken"}
YES, NO = "ja", "nee"
MOMENT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Column:
    """One column of a logbook table: a record field or a piece of the entry's metadata."""

    key: str  # the field name, or nr/state/recorded_at/recorded_by/supersedes/reason/id/hash
    label: str  # the Dutch column name
    widget: str  # the field's widget; metadata: nr, state, moment, text, id, hash
    field: FieldMeta | None = None


@lru_cache(maxsize=32)
def _fields(kind: str) -> tuple[FieldMeta, ...]:
    """Return a logbook's fields (computed once)."""
    return describe(LOGBOOKS[kind].model)


def columns(spec: LogbookSpec, zone: str) -> list[Column]:
    """Return a logbook's columns in order: Nr., the record's fields, then who/when/why and the chain reference."""
    out = [Column("nr", "Nr.", "nr")]
    out += [Column(f.name, f.label, f.widget, f) for f in _fields(spec.kind)]
    out += [Column("state", "Status", "state"),
            Column("recorded_at", f"Geregistreerd op ({zone})", "moment"),
            Column("recorded_by", "Geregistreerd door", "text"),
            Column("supersedes", "Corrigeert registratie-id", "id"),
            Column("reason", "Reden correctie", "text"),
            Column("id", "Registratie-id", "id"),
            Column("hash", "Ketenhash", "hash")]
    return out


def local_moment(stamp: str, tz: ZoneInfo) -> datetime:
    """Return a stored UTC timestamp (ISO 8601) as a naive farm-local datetime."""
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:  # stored stamps carry +00:00; a bare one is UTC too
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(tz).replace(tzinfo=None)


def moment_text(stamp: str, tz: ZoneInfo) -> str:
    """Return a stored UTC timestamp as farm-local ``YYYY-MM-DD HH:MM``."""
    try:
        return local_moment(stamp, tz).strftime(MOMENT)
    except (TypeError, ValueError):
        return str(stamp)


def number_text(value: float | int) -> str:
    """Return a number the Dutch way: decimal comma, no exponent, no trailing zeros."""
    if isinstance(value, int):
        return str(value)
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def signature_text(value: str) -> str:
    """Return what a signature cell says: the drawn image's file in the pack, or the typed initials."""
    ref = signatures.parse_reference(value)
    if ref is not None:
        return f"getekend (signatures/{ref[0]}.png)"
    if value.startswith("data:image/"):
        import hashlib

        return f"getekend (afbeelding, sha256 {hashlib.sha256(value.encode()).hexdigest()[:12]})"
    return value


def value_text(meta: FieldMeta | None, value: Any) -> str:
    """Return a record value as text: option labels, ja/nee, decimal commas, lists joined, signatures named."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, list):
        return ", ".join(value_text(meta, v) for v in value)
    if isinstance(value, dict):
        if set(value) >= {"name", "admission_number"}:
            return f"{value['name']} ({value['admission_number']})"
        return ", ".join(f"{k}: {value_text(None, v)}" for k, v in value.items())
    if isinstance(value, (int, float)):
        return number_text(value)
    text = str(value)
    if meta is not None:
        if meta.options and text in meta.options:
            return meta.options[text]
        if meta.widget == "signature":
            return signature_text(text)
    return text


def typed_value(meta: FieldMeta | None, value: Any) -> Any:
    """Return a record value as a spreadsheet value: dates, times and numbers typed; everything else as text."""
    if value is None:
        return None
    widget = meta.widget if meta else "text"
    try:
        if widget == "date" and isinstance(value, str):
            return date.fromisoformat(value)
        if widget == "time" and isinstance(value, str):
            return time.fromisoformat(value)
    except ValueError:
        return str(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return value_text(meta, value)


def meta_value(column: Column, number: int, row: StoredEntry, tz: ZoneInfo) -> Any:
    """Return a metadata cell's value (numbers as int, the moment as a local datetime)."""
    key = column.key
    if key == "nr":
        return number
    if key == "state":
        return STATE_NL.get(row.state, row.state)
    if key == "recorded_at":
        try:
            return local_moment(row.recorded_at, tz)
        except (TypeError, ValueError):
            return row.recorded_at
    if key == "reason":
        return row.reason or ""
    return getattr(row, key)


def cell_text(column: Column, number: int, row: StoredEntry, tz: ZoneInfo) -> str:
    """Return one cell of a logbook row as text (CSV, PDF, the pack's page)."""
    if column.field is not None:
        return value_text(column.field, row.entry.get(column.key))
    value = meta_value(column, number, row, tz)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(MOMENT)
    return str(value)


def cell_typed(column: Column, number: int, row: StoredEntry, tz: ZoneInfo) -> Any:
    """Return one cell of a logbook row as a spreadsheet value."""
    if column.field is not None:
        return typed_value(column.field, row.entry.get(column.key))
    return meta_value(column, number, row, tz)


def text_rows(spec: LogbookSpec, rows: list[StoredEntry], tz: ZoneInfo, zone: str) -> tuple[list[str], list[list[str]]]:
    """Return (header, rows) of a logbook as text; rows numbered 1…N in the order given."""
    cols = columns(spec, zone)
    return [c.label for c in cols], [[cell_text(c, n, r, tz) for c in cols] for n, r in enumerate(rows, start=1)]


def numbers(rows: list[StoredEntry]) -> dict[int, int]:
    """Return each row id's number in the document (1…N in the order given)."""
    return {r.id: n for n, r in enumerate(rows, start=1)}


def changes(kind: str, old: StoredEntry, new: StoredEntry) -> list[str]:
    """Return "Label: old → new" for every field a correction changed."""
    return [f"{f.label}: {value_text(f, old.entry.get(f.name))} → {value_text(f, new.entry.get(f.name))}"
            for f in _fields(kind) if old.entry.get(f.name) != new.entry.get(f.name)]
