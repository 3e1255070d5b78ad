"""What every export format shares: the entries of a period, their values as text, corrections, errors."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from agent.config import Settings
from agent.logbooks import StoredEntry, entry_date, list_entries
from agent.store import Store
from rules.errors import IkbError
from rules.logbooks import LOGBOOKS, LogbookSpec
from rules.texts import N_

META = ("id", "state", "recorded_at", "recorded_by", "supersedes", "reason", "hash")


STATE_NL = {"confirmed": "bevestigd", "draft": "concept", "withdrawn": "ingetrokken"}


class ExportError(IkbError):
    """The export could not be written; the message says why and what to do."""

    messages = {
        "kind": N_("onbekend logboek {kind}; kies uit {options} of all"),
        "format": N_("onbekend formaat {format}; kies uit csv, xlsx, pdf, zip"),
        "write": N_("kan niet schrijven ({detail})"),
        "font": N_("PDF-export heeft het lettertype DejaVu Sans nodig (DejaVuSans.ttf niet gevonden in {dirs}); "
                   "installeer het met: sudo apt-get install fonts-dejavu-core"),
    }


# --------------------------------------------------------------------------- rows


def _widget(spec: LogbookSpec, name: str) -> str:
    """Return a field's widget hint (date, time, number, yesno, …)."""
    return (spec.model.model_fields[name].json_schema_extra or {}).get("widget", "text")


def render(value) -> str:
    """Return a field value as text for CSV and PDF cells (ja/nee, lists joined, signatures abridged)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, list):
        return ", ".join(render(v) for v in value)
    if isinstance(value, dict):
        if set(value) == {"name", "admission_number"}:
            return f"{value['name']} ({value['admission_number']})"
        return ", ".join(f"{k}: {render(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    if text.startswith("data:image/"):
        return f"[handtekening, afbeelding sha256 {hashlib.sha256(text.encode()).hexdigest()[:12]}]"
    return text


def csv_row(spec: LogbookSpec, row: StoredEntry) -> list[str]:
    """Return one CSV row: the record's fields, then the entry's metadata."""
    meta = {"id": str(row.id), "state": row.state, "recorded_at": row.recorded_at, "recorded_by": row.recorded_by,
            "supersedes": "" if row.supersedes is None else str(row.supersedes), "reason": row.reason or "",
            "hash": row.hash}
    return [render(row.entry.get(name)) for name in spec.columns()] + [meta[m] for m in META]


def csv_header(spec: LogbookSpec) -> list[str]:
    """Return the CSV header: field names, then metadata names."""
    return spec.columns() + list(META)


def entries_for(store: Store, kind: str, start: date, end: date) -> list[StoredEntry]:
    """Return the current entries (drafts included) of a logbook dated within [start, end]."""
    return list_entries(store, kind, start=start, end=end)


def corrections_for(store: Store, kind: str, start: date, end: date) -> list[str]:
    """Return one line per correction, confirmation or withdrawal dated in the period: who, when, why, what."""
    history = list_entries(store, kind, history=True)
    by_id = {r.id: r for r in history}
    lines = []
    for r in history:
        day = entry_date(kind, r.entry)
        if not r.supersedes or (day is not None and not start <= day <= end):
            continue
        old = by_id.get(r.supersedes)
        if r.state == "withdrawn":
            what = "trekt in"
        elif old is not None and old.state == "draft":
            what = "bevestigt concept"
        else:
            what = "corrigeert"
        changed = [f"{k}: {render(old.entry.get(k))} → {render(r.entry.get(k))}" for k in LOGBOOKS[kind].columns()
                   if old is not None and r.state != "withdrawn" and old.entry.get(k) != r.entry.get(k)]
        lines.append(f"#{r.id} {what} #{r.supersedes} — {r.recorded_by}, {r.recorded_at[:16].replace('T', ' ')}: "
                     f"{r.reason}" + (f" ({'; '.join(changed)})" if changed else ""))
    return lines


# --------------------------------------------------------------------------- entry point


def _generated(config: Settings, now: datetime) -> str:
    """Return the farm-local generation time printed on exports."""
    return now.astimezone(config.farm_view().tz).strftime("%Y-%m-%d %H:%M %Z")
