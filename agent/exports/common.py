"""What every export format shares: the entries of a period, their values as text, corrections, errors."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime

from agent.config import Settings
from agent.logbooks import StoredEntry, entry_date, select_entries
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
        # Issue 13: rows edited outside ikb-agent are never exported.
        "chain_broken": N_("de hashketen klopt niet ({problem}); de database is buiten ikb-agent gewijzigd. Er wordt "
                           "geen export gemaakt: meld dit aan de certificerende instelling"),
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


# A spreadsheet takes a cell starting with one of these for a formula (or DDE command): "=HYPERLINK(…)",
# "=cmd|' /C calc'!A0", "+…", "-…", "@SUM(…)"; tab and carriage return start one in some importers.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?(?:[eE][+-]?\d+)?", re.ASCII)


def cell(text: str) -> str:
    """Return a text as a spreadsheet cell that is never a formula: a leading ' where it could start one.

    The one place CSV and XLSX cells pass (the kiosk lets anyone type a visitor's name); the verifier
    compares a pack's cells in this form, so it checks the neutralised text against the chain.
    """
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_row(spec: LogbookSpec, row: StoredEntry) -> list[str]:
    """Return one CSV row: the record's fields, then the entry's metadata (every cell neutralised)."""
    meta = {"id": str(row.id), "state": row.state, "recorded_at": row.recorded_at, "recorded_by": row.recorded_by,
            "supersedes": "" if row.supersedes is None else str(row.supersedes), "reason": row.reason or "",
            "hash": row.hash}
    return [cell(render(row.entry.get(name))) for name in spec.columns()] + [cell(meta[m]) for m in META]


def csv_header(spec: LogbookSpec) -> list[str]:
    """Return the CSV header: field names, then metadata names."""
    return spec.columns() + list(META)


def period_view(kind: str, history: list[StoredEntry], start: date, end: date) -> tuple[list[StoredEntry], list[str]]:
    """Return a period's current entries and its correction lines, from a logbook's whole history.

    The pack is built from the database's history and checked from the history in its chain file, both
    through this function: an entry missing from the CSV, XLSX or PDF is then a difference the verifier sees.
    """
    return select_entries(kind, history, start=start, end=end), correction_lines(kind, history, start, end)


def correction_lines(kind: str, history: list[StoredEntry], start: date, end: date) -> list[str]:
    """Return one line per correction, confirmation or withdrawal dated in the period: who, when, why, what."""
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
