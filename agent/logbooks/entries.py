"""Logbook entries in SQLite: append-only, hash-chained per logbook, durable before "saved".

The one API for the CLI, the web page and the JSON API: :func:`add_entry`, :func:`correct_entry` (also
withdraws), :func:`confirm_draft`, :func:`list_entries` (current view or history) and :func:`verify_chain`.

A correction is a new row that supersedes an older one, with who, when and why; a withdrawal is a correction
with state ``withdrawn``. Nothing is ever updated or deleted (the table's triggers refuse it within
``keep_until``)."""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import Any, Callable

from agent.clock import keep_until, parse_moment
from agent.config import Settings
from agent.logbooks.chain import GENESIS, StoredEntry, check_chain, content_hash, envelope_of, link_hash
from agent.store import (
    Store,
    chain_tail,
    current_rows,
    get_row,
    insert_row,
    logbook_head,
    logbook_rows,
    referenced_events,
)
from rules.errors import IkbError
from rules.logbooks import (
    LOGBOOKS,
    EntryError,
    Flag,
    LogbookView,
    LogEntry,
    entry_flags,
    spec_for,
    to_json,
    validate_entry,
)
from rules.texts import N_

log = logging.getLogger(__name__)


STATES = ("confirmed", "draft", "withdrawn")


# Called after every committed write with (kind, entry JSON, flags). The alerts
# feature subscribes here for A6.2.2 "report to NVWA" and A6.2.1 "consult the
# vet"; a listener that raises is logged and never undoes the write.
EntryListener = Callable[[str, dict, list[Flag]], None]


ENTRY_LISTENERS: list[EntryListener] = []


class LogbookError(IkbError):
    """The request does not fit the logbook's history (unknown or already corrected entry…)."""

    messages = {
        "no_entry": N_("geen registratie #{id}"),
        "corrected": N_("#{id} is al gecorrigeerd door #{by}; corrigeer die registratie"),
        "withdrawn": N_("#{id} is een intrekking; er valt niets meer te corrigeren"),
        "not_draft": N_("#{id} is geen concept (status {state})"),
    }


@dataclass(frozen=True)
class Saved:
    """The result of a write: the stored row and what the farmer must see at once."""

    entry: StoredEntry
    flags: list[Flag] = field(default_factory=list)


def _row(r: dict) -> StoredEntry:
    """Turn a logbook table row into a StoredEntry."""
    return StoredEntry(r["id"], r["kind"], json.loads(r["entry"]), r["recorded_at"], r["recorded_by"],
                       r["supersedes"], r["reason"], r["state"], r["prev_hash"], r["hash"], r["keep_until"])


@contextmanager
def _immediate(store: Store):
    """Run a block in one IMMEDIATE transaction: the chain head cannot move under us; commit = fsync
    (also on `run`'s job connection, which otherwise does not fsync: a draft is an entry too)."""
    with store.durable():
        conn = store.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def _houses(config: Settings) -> dict[str, str]:
    """Return house id → housing, for validating house fields."""
    return {h.id: h.housing for h in config.houses}


def _today(config: Settings, now: datetime) -> date:
    """Return the farm-local date of a moment."""
    return config.farm_view().local_date(now)


def _keep(kind: str, now: datetime) -> str:
    """Return until when a new row must be kept: 2 years (A9.1), 3 for flock records (E9.4)."""
    return keep_until(now, spec_for(kind).keep_years)


def _append(conn, kind: str, entry: dict, *, by: str, now: datetime, supersedes: int | None = None,
            reason: str | None = None, state: str = "confirmed") -> StoredEntry:
    """Insert one chained row inside an open IMMEDIATE transaction and return it."""
    if not by or not by.strip():
        raise EntryError("recorded_by", "who")
    new_id, head = chain_tail(conn, kind)
    prev = head or GENESIS
    recorded_at = now.astimezone(timezone.utc).isoformat(timespec="seconds")
    keep = _keep(kind, now)
    env = envelope_of(new_id, kind, entry, recorded_at, by.strip(), supersedes, reason, state, keep)
    digest = link_hash(prev, content_hash(env))
    insert_row(conn, {"id": new_id, "kind": kind, "entry": json.dumps(entry, ensure_ascii=False, sort_keys=True),
                      "recorded_at": recorded_at, "recorded_by": by.strip(), "supersedes": supersedes,
                      "reason": reason, "state": state, "prev_hash": prev, "hash": digest, "keep_until": keep})
    return StoredEntry(new_id, kind, entry, recorded_at, by.strip(), supersedes, reason, state, prev, digest, keep)


def _rows(store: Store, kind: str | None = None) -> list[StoredEntry]:
    """Return every row (of one logbook, or all), oldest first, with superseded_by filled in."""
    return with_successors([_row(r) for r in logbook_rows(store, kind)])


def with_successors(rows: list[StoredEntry]) -> list[StoredEntry]:
    """Return rows with superseded_by filled in from the rows that supersede them."""
    later = {r.supersedes: r.id for r in rows if r.supersedes is not None}
    return [replace(r, superseded_by=later.get(r.id)) for r in rows]


def current_entries(store: Store, kind: str | None = None, *, state: str | None = None,
                    fields: dict[str, Any] | None = None) -> list[StoredEntry]:
    """Return the current view: rows nobody superseded that were not withdrawn (of one logbook, in one state,
    with these entry field values), oldest first."""
    return [_row(r) for r in current_rows(store, kind, state=state, fields=fields)]


# Stored rows never change, so a row's validated record can be kept by its hash. Bounded (issue 15): a record
# is about 1.3 KB resident, and the minute job reads every current entry, so the cache holds the first
# _RECORDS_MAX records it meets (≈ 25 MB; four years of a nine-house farm's logbooks) and validates the rest
# each time. Not least-recently-used: every minute's reading of all entries would then evict each record before
# its next use and validate them all, every minute.
_RECORDS: dict[str, Any] = {}
_RECORDS_MAX = 20_000


def record_of(row: StoredEntry):
    """Return the validated record of a stored row (EntryError when it no longer passes its model)."""
    record = _RECORDS.get(row.hash)
    if record is None:
        record = validate_entry(row.kind, row.entry)
        if len(_RECORDS) < _RECORDS_MAX:
            _RECORDS[row.hash] = record
    return record


def _check_unique(store: Store, kind: str, record, ignore: int | None) -> None:
    """Refuse a second current entry for the same key (one day-sheet line per house per day…)."""
    spec = spec_for(kind)
    if not spec.unique:
        return
    data = to_json(record)
    key = {f: data[f] for f in spec.unique}
    for r in current_entries(store, kind, fields=key):
        if r.id != ignore:
            raise EntryError(spec.unique[-1], "duplicate", {"values": [f"{f}={v}" for f, v in key.items()], "id": r.id})


def _notify(kind: str, entry: StoredEntry, flags: list[Flag]) -> None:
    """Call every listener after the commit; a failing listener is logged, never fatal."""
    for listener in list(ENTRY_LISTENERS):
        try:
            listener(kind, entry.entry, flags)
        except Exception:  # noqa: BLE001 - a listener must not undo or hide a committed write
            log.exception("logbook listener %r failed for %s #%s", listener, kind, entry.id)


def _confirmed(store: Store, kind: str, where: dict[str, Any], since: str | None = None) -> tuple[LogEntry, ...]:
    """Return the confirmed current entries of a logbook matching ``where`` (dated from ``since``)."""
    rows = current_entries(store, kind, fields=where)
    field = spec_for(kind).date_field
    return tuple(LogEntry(r.id, kind, record_of(r), parse_moment(r.recorded_at), r.recorded_by) for r in rows
                 if r.state == "confirmed" and (since is None or str(r.entry.get(field)) >= since))


def _flags(store: Store, kind: str, record) -> list[Flag]:
    """Return the flags of a record just written, judged against the current logbooks it relates to."""
    entries: dict[str, tuple[LogEntry, ...]] = {}
    if kind == "flock_day":
        entries["flocks"] = _confirmed(store, "flocks", {"house": record.house})
        placed = [e.record.placed_on for e in entries["flocks"] if e.record.placed_on <= record.date]
        # Mortality counts from the placement: only the current flock's days are needed.
        since = max(placed).isoformat() if placed else record.date.isoformat()
        entries["flock_day"] = _confirmed(store, "flock_day", {"house": record.house}, since)
    elif kind == "pest_control":
        entries["bait_boxes"] = _confirmed(store, "bait_boxes", {})
    return entry_flags(kind, record, LogbookView(entries))


def add_entry(store: Store, config: Settings, kind: str, data: Any, *, by: str, now: datetime,
              state: str = "confirmed") -> Saved:
    """Validate and durably store a new entry; return it with the flags to show at once.

    Raises EntryError naming every bad field; nothing is stored then.
    """
    record = validate_entry(kind, data, houses=_houses(config), today=_today(config, now))
    if state not in ("confirmed", "draft"):
        raise ValueError(f"state: expected confirmed or draft, got {state!r}")  # a caller's mistake, not input
    with _immediate(store) as conn:
        _check_unique(store, kind, record, None)
        stored = _append(conn, kind, to_json(record), by=by, now=now, state=state)
    flags = _flags(store, kind, record)
    _notify(kind, stored, flags)
    return Saved(stored, flags)


def get_entry(store: Store, entry_id: int) -> StoredEntry:
    """Return one row with superseded_by filled in, or raise LogbookError."""
    row = get_row(store, entry_id)
    if row is None:
        raise LogbookError("id", "no_entry", {"id": entry_id})
    return next(r for r in _rows(store, row["kind"]) if r.id == entry_id)


def _open_for_change(store: Store, entry_id: int) -> StoredEntry:
    """Return a row that may be corrected: it exists and nothing superseded it yet."""
    old = get_entry(store, entry_id)
    if old.superseded_by is not None:
        raise LogbookError("id", "corrected", {"id": entry_id, "by": old.superseded_by})
    if old.state == "withdrawn":
        raise LogbookError("id", "withdrawn", {"id": entry_id})
    return old


def correct_entry(store: Store, config: Settings, entry_id: int, changes: dict | None, *, by: str, now: datetime,
                  reason: str, withdraw: bool = False) -> Saved:
    """Store a correction of an entry: the old entry with ``changes`` applied (or withdrawn), who/when/why.

    ``changes`` holds only the fields to change (``null`` clears an optional
    one). The old entry stays in the history, superseded by the new one.
    """
    if not reason or not reason.strip():
        raise EntryError("reason", "reason")
    old = _open_for_change(store, entry_id)
    if withdraw:
        record, entry, state = None, old.entry, "withdrawn"
    else:
        if not isinstance(changes, dict) or not changes:
            raise EntryError("", "changes")
        record = validate_entry(old.kind, {**old.entry, **changes}, houses=_houses(config),
                                today=_today(config, now))
        entry, state = to_json(record), "confirmed"
    with _immediate(store) as conn:
        _open_for_change(store, entry_id)  # nobody corrected it since we looked
        if record is not None:
            _check_unique(store, old.kind, record, entry_id)
        stored = _append(conn, old.kind, entry, by=by, now=now, supersedes=entry_id, reason=reason.strip(),
                         state=state)
    flags = _flags(store, old.kind, record) if record is not None else []
    _notify(old.kind, stored, flags)
    return Saved(stored, flags)


def confirm_draft(store: Store, config: Settings, entry_id: int, *, by: str, now: datetime,
                  changes: dict | None = None) -> Saved:
    """Confirm a draft (e.g. a detected generator test), optionally completing it; return the confirmed entry."""
    old = _open_for_change(store, entry_id)
    if old.state != "draft":
        raise LogbookError("id", "not_draft", {"id": entry_id, "state": old.state})
    record = validate_entry(old.kind, {**old.entry, **(changes or {})}, houses=_houses(config),
                            today=_today(config, now))
    with _immediate(store) as conn:
        _open_for_change(store, entry_id)
        stored = _append(conn, old.kind, to_json(record), by=by, now=now, supersedes=entry_id,
                         reason="bevestigd", state="confirmed")
    flags = _flags(store, old.kind, record)
    _notify(old.kind, stored, flags)
    return Saved(stored, flags)


def entry_date(kind: str, entry: dict) -> date | None:
    """Return the entry's own date (its logbook's date field)."""
    value = entry.get(spec_for(kind).date_field)
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def list_entries(store: Store, kind: str, *, history: bool = False, start: date | None = None,
                 end: date | None = None) -> list[StoredEntry]:
    """Return a logbook's current view (or, with history, every row), by entry date then id.

    ``start``/``end`` keep the entries whose own date lies in [start, end].
    """
    spec_for(kind)
    rows = _rows(store, kind) if history else current_entries(store, kind)
    return select_entries(kind, rows, history=history, start=start, end=end)


def select_entries(kind: str, rows: list[StoredEntry], *, history: bool = False, start: date | None = None,
                   end: date | None = None) -> list[StoredEntry]:
    """Return what :func:`list_entries` returns, from a logbook's rows (with successors) already in hand.

    The audit pack and its verifier both call this on the same rows (the database's, the pack's chain file),
    so an export and its check cannot differ on which entries belong to a period.
    """
    if not history:  # the current view: rows nobody superseded that were not withdrawn
        rows = [r for r in rows if r.superseded_by is None and r.state != "withdrawn"]

    def inside(r: StoredEntry) -> bool:
        day = entry_date(kind, r.entry)
        return day is None or ((start is None or day >= start) and (end is None or day <= end))

    rows = [r for r in rows if inside(r)]
    if history:
        return rows
    return sorted(rows, key=lambda r: (entry_date(kind, r.entry) or date.min, r.id))


def chain_head(store: Store, kind: str) -> tuple[str, int]:
    """Return a logbook's last hash and its number of rows (GENESIS, 0 when empty)."""
    return logbook_head(store, kind) or (GENESIS, 0)


def _chain_problem(rows: list[StoredEntry], label: str = "") -> str | None:
    """Return the first problem in one logbook's rows (oldest first), or None when the chain is intact."""
    items = ({"id": r.id, "prev_hash": r.prev_hash, "hash": r.hash, "record": r.envelope()} for r in rows)
    return check_chain(items, lambda n, item: f"{label}entry #{item.get('id')}").problem


def verify_chain(store: Store, kind: str) -> str | None:
    """Return the first problem in a stored logbook's chain, or None when it is intact."""
    return _chain_problem(_rows(store, kind))


def verify_chains(store: Store) -> tuple[str | None, int]:
    """Check every logbook's chain; return the first problem (None when all are intact) and the rows checked."""
    by_kind: dict[str, list[StoredEntry]] = {}
    rows = _rows(store)
    for r in rows:
        by_kind.setdefault(r.kind, []).append(r)
    for kind, items in sorted(by_kind.items()):
        problem = _chain_problem(items, f"{kind} ")
        if problem:
            return problem, len(rows)
    return None, len(rows)


# --------------------------------------------------------------------------- evaluation inputs


def logbook_view(store: Store, at: datetime, kind: str | None = None) -> LogbookView:
    """Return every logbook's (or one logbook's) current view as it stood at ``at`` (later corrections ignored)."""
    rows = [r for r in _rows(store, kind) if parse_moment(r.recorded_at) <= at]
    later = {r.supersedes: r.id for r in rows if r.supersedes is not None}
    rows = [replace(r, superseded_by=later.get(r.id)) for r in rows]
    entries: dict[str, list[LogEntry]] = {}
    drafts, invalid, dismissed = [], [], set()
    for r in rows:
        if r.state == "withdrawn" and r.kind == "checks" and r.entry.get("event_id") is not None:
            dismissed.add(r.entry["event_id"])
        if r.superseded_by is not None or r.state == "withdrawn" or r.kind not in LOGBOOKS:
            continue
        try:
            record = record_of(r)
        except EntryError as exc:
            invalid.append((r.id, r.kind, str(exc), entry_date(r.kind, r.entry)))
            continue
        item = LogEntry(r.id, r.kind, record, parse_moment(r.recorded_at), r.recorded_by, r.state)
        if r.state == "draft":
            drafts.append(item)
        else:
            entries.setdefault(r.kind, []).append(item)
    return LogbookView({k: tuple(v) for k, v in entries.items()}, tuple(drafts), tuple(invalid),
                       frozenset(dismissed))


def logbook_event_ids(store: Store, kind: str) -> set[int]:
    """Return the sensor events any row of a logbook refers to (``event_id``: a draft, a confirmation, a withdrawal)."""
    return referenced_events(store, kind)
