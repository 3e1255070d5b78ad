"""What the farmer must see first on the dashboard: open A6.2.x flags, today's 48-hour visitors, drafts.

The logbook API returns its flags at the moment of writing (the day sheet
shows them at once); this module finds the ones still open for the
dashboard: a trigger of A6.2.2 (report to the NVWA) or A6.2.1 (consult the
vet) on a day sheet of the last week without the report recorded, a visitor
today who answered "yes" to the 48-hour question (A4.2.2), and the drafted
checks waiting for confirmation (A3.6).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, timedelta

from agent.clock import parse_moment
from agent.logbooks import StoredEntry, current_entries, list_entries, record_of
from agent.store import Store, count_current, last_row_id, latest_entry_date
from rules.logbooks import LOGBOOKS, EntryError, Flag, LogbookView, LogEntry, entry_flags

OPEN_FLAG_CODES = ("report_nvwa", "consult_vet")  # A6.2.2, A6.2.1
RECENT_DAYS = 7  # day sheets of the last week are judged for open flags


@dataclass
class Attention:
    """The dashboard's first section."""

    flags: list[Flag] = field(default_factory=list)
    contacts: list[StoredEntry] = field(default_factory=list)
    drafts: int = 0

    def __bool__(self) -> bool:
        return bool(self.flags or self.contacts or self.drafts)


def _entries(rows: list[StoredEntry]) -> tuple[LogEntry, ...]:
    """Return the confirmed rows as the rules see them (rows that no longer validate are skipped)."""
    out = []
    for r in rows:
        if r.state != "confirmed":
            continue
        try:
            out.append(LogEntry(r.id, r.kind, record_of(r), parse_moment(r.recorded_at), r.recorded_by))
        except EntryError:
            continue
    return tuple(out)


def open_flags(store: Store, today: date) -> list[Flag]:
    """Return the A6.2.2 / A6.2.1 flags of the last week's day sheets whose report is not recorded."""
    recent = [r for r in list_entries(store, "flock_day", start=today - timedelta(days=RECENT_DAYS - 1), end=today)
              if r.state == "confirmed"]
    if not recent:
        return []
    flocks = list_entries(store, "flocks")
    out: dict[tuple[str, str], Flag] = {}
    for house in sorted({r.entry.get("house") for r in recent}):
        house_flocks = _entries([f for f in flocks if f.entry.get("house") == house])
        first_recent = min(r.entry["date"] for r in recent if r.entry.get("house") == house)
        placed = [e.record.placed_on for e in house_flocks if e.record.placed_on.isoformat() <= first_recent]
        # A6.2.2 counts losses from the placement: the sheets of the current flock are needed.
        since = max(placed) if placed else date.fromisoformat(first_recent)
        days = _entries([r for r in list_entries(store, "flock_day", start=since, end=today)
                         if r.entry.get("house") == house])
        view = LogbookView({"flocks": house_flocks, "flock_day": days})
        for entry in sorted((e for e in days if e.record.date.isoformat() >= first_recent),
                            key=lambda e: e.record.date):
            for flag in entry_flags("flock_day", entry.record, view):
                if flag.code in OPEN_FLAG_CODES:
                    out[(flag.code, house)] = flag  # the latest sheet's wording of the episode
    return list(out.values())


def poultry_contacts(store: Store, today: date) -> list[StoredEntry]:
    """Return today's visitors who answered "yes" to the 48-hour question (A4.2.2)."""
    return [r for r in list_entries(store, "visitors", start=today, end=today)
            if r.entry.get("poultry_contact_48h") is True]


def waiting_drafts(store: Store) -> int:
    """Return how many drafted entries wait for the farmer's confirmation."""
    return count_current(store, state="draft")


def drafts(store: Store) -> list[StoredEntry]:
    """Return the drafted entries waiting for confirmation (sensor-detected generator tests, A3.6)."""
    return current_entries(store, state="draft")


def logbook_sizes(store: Store) -> dict[str, tuple[int, str | None]]:
    """Return per logbook the number of current entries and the latest entry's own date."""
    return {kind: (count_current(store, kind), latest_entry_date(store, kind, spec.date_field))
            for kind, spec in LOGBOOKS.items()}


# The dashboard is polled every 30 s; logbooks change only when someone writes. Open flags
# are kept per (database, last logbook row, day) and recomputed after any write.
_FLAGS: dict[tuple, list[Flag]] = {}
_LOCK = threading.Lock()


def cached_open_flags(store: Store, today: date) -> list[Flag]:
    """Return the open flags, recomputed only when a logbook row was added or the day changed."""
    key = (store.path, last_row_id(store), today)
    with _LOCK:
        found = _FLAGS.get(key)
    if found is None:
        found = open_flags(store, today)
        with _LOCK:
            _FLAGS.clear()  # one farm per process: only the newest key matters
            _FLAGS[key] = found
    return found


def attention(store: Store, today: date) -> Attention:
    """Return what the dashboard shows before the verdict."""
    return Attention(cached_open_flags(store, today), poultry_contacts(store, today), waiting_drafts(store))
