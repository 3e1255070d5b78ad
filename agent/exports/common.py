"""What every export format shares: the entries of a period, their rows as text, corrections, errors."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from agent.config import Settings
from agent.exports.columns import changes, columns, moment_text, text_rows
from agent.logbooks import StoredEntry, entry_date, list_entries, signatures
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
    }


@lru_cache(maxsize=8)
def zone_info(zone: str) -> ZoneInfo:
    """Return the time zone of a name (the farm's, as the manifest names it)."""
    return ZoneInfo(zone)


# --------------------------------------------------------------------------- rows


def csv_header(spec: LogbookSpec, zone: str) -> list[str]:
    """Return the CSV header: Nr., the fields' Dutch labels, then the metadata's Dutch names."""
    return [c.label for c in columns(spec, zone)]


def csv_rows(spec: LogbookSpec, rows: list[StoredEntry], zone: str) -> list[list[str]]:
    """Return a logbook's rows as CSV cells, numbered 1…N in the order given."""
    return text_rows(spec, rows, zone_info(zone), zone)[1]


def entries_for(store: Store, kind: str, start: date, end: date) -> list[StoredEntry]:
    """Return the current entries (drafts included) of a logbook dated within [start, end]."""
    return list_entries(store, kind, start=start, end=end)


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
