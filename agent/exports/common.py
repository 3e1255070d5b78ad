"""What every export format shares: the entries of a period, their rows as text, corrections, errors."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from agent.config import Settings
from agent.exports.columns import changes, columns, moment_text, numbers, text_rows
from agent.logbooks import StoredEntry, entry_date, select_entries, signatures
from agent.store import Store
from rules.errors import IkbError
from rules.logbooks import LogbookSpec
from rules.texts import N_


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


@lru_cache(maxsize=8)
def zone_info(zone: str) -> ZoneInfo:
    """Return the time zone of a name (the farm's, as the manifest names it)."""
    return ZoneInfo(zone)


# --------------------------------------------------------------------------- rows


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


def csv_header(spec: LogbookSpec, zone: str) -> list[str]:
    """Return the CSV header: Nr., the fields' Dutch labels, then the metadata's Dutch names."""
    return [c.label for c in columns(spec, zone)]


def csv_rows(spec: LogbookSpec, rows: list[StoredEntry], zone: str) -> list[list[str]]:
    """Return a logbook's rows as CSV cells, numbered 1…N in the order given, every cell neutralised."""
    return [[cell(c) for c in line] for line in text_rows(spec, rows, zone_info(zone), zone)[1]]


def period_view(kind: str, history: list[StoredEntry], start: date, end: date,
                zone: str) -> tuple[list[StoredEntry], list[str]]:
    """Return a period's current entries and its correction lines, from a logbook's whole history.

    The pack is built from the database's history and checked from the history in its chain file, both
    through this function: an entry missing from the CSV, XLSX or PDF is then a difference the verifier sees.
    """
    rows = select_entries(kind, history, start=start, end=end)
    return rows, correction_lines(kind, history, start, end, zone, numbers(rows))


def correction_lines(kind: str, history: list[StoredEntry], start: date, end: date, zone: str,
                     numbered: dict[int, int]) -> list[str]:
    """Return one line per correction, confirmation or withdrawal dated in the period: who, when, why, what.

    ``numbered`` maps the period's entries to their number in the document (``Nr.``); a line names the entry by
    that number and every row by its registration id.
    """
    tz = zone_info(zone)
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
        changed = changes(kind, old, r) if old is not None and r.state != "withdrawn" else []
        who = f"Nr. {numbered[r.id]} (id {r.id})" if r.id in numbered else f"Id {r.id}"
        lines.append(f"{who} {what} id {r.supersedes} — {r.recorded_by}, {moment_text(r.recorded_at, tz)}: "
                     f"{r.reason}" + (f" ({'; '.join(changed)})" if changed else ""))
    return lines


def signature_images(store: Store, rows: list[StoredEntry]) -> dict[int, bytes]:
    """Return the drawn signatures (file id → PNG) of visitors rows whose image still matches its entry."""
    out = {}
    for row in rows:
        value = row.entry.get("signature")
        png = signatures.signature_png(store, value)
        if png is not None:
            out[signatures.parse_reference(value)[0]] = png
    return out


# --------------------------------------------------------------------------- entry point


def _generated(config: Settings, now: datetime) -> str:
    """Return the farm-local generation time printed on exports."""
    return now.astimezone(config.farm_view().tz).strftime("%Y-%m-%d %H:%M %Z")
