"""Logbook entries in SQLite: append-only, hash-chained per logbook, durable before "saved".

The one API for the CLI, the web page and the JSON API:
:func:`add_entry`, :func:`correct_entry` (also withdraws), :func:`confirm_draft`,
:func:`list_entries` (current view or history) and :func:`verify_chain`.

Chain: every row of a logbook (kind) links to the previous row of the same
logbook. ``content_hash`` = SHA-256 of the row's canonical JSON envelope (id,
kind, entry, recorded_at, recorded_by, supersedes, reason, state, keep_until);
``hash`` = SHA-256 of ``prev_hash + content_hash`` (hex strings). Hashing the
content's digest rather than the content lets an export prove the whole chain
while carrying only the digests of entries outside its period.

A correction is a new row that supersedes an older one, with who, when and
why; a withdrawal is a correction with state ``withdrawn``. Nothing is ever
updated or deleted (the table's triggers refuse it within ``keep_until``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from agent.clock import keep_until, parse_moment
from agent.config import Settings
from agent.store.connection import Store
from rules.logbooks.judge import entry_flags
from rules.logbooks.records import (LOGBOOKS, DetectedTest, EntryError, Flag, LogbookView, LogEntry, spec_for, to_json,
                            validate_entry)

log = logging.getLogger(__name__)

GENESIS = "0" * 64
STATES = ("confirmed", "draft", "withdrawn")

# Called after every committed write with (kind, entry JSON, flags). The alerts
# feature subscribes here for A6.2.2 "report to NVWA" and A6.2.1 "consult the
# vet"; a listener that raises is logged and never undoes the write.
EntryListener = Callable[[str, dict, list[Flag]], None]
ENTRY_LISTENERS: list[EntryListener] = []


class LogbookError(ValueError):
    """The request does not fit the logbook's history (unknown or already corrected entry…)."""


@dataclass(frozen=True)
class StoredEntry:
    """One logbook row as stored, with who/when/why and its place in the chain."""

    id: int
    kind: str
    entry: dict
    recorded_at: str
    recorded_by: str
    supersedes: int | None
    reason: str | None
    state: str
    prev_hash: str
    hash: str
    keep_until: str
    superseded_by: int | None = None

    def envelope(self) -> dict:
        """Return what the chain hashes: everything but the chain links themselves."""
        return envelope_of(self.id, self.kind, self.entry, self.recorded_at, self.recorded_by, self.supersedes,
                           self.reason, self.state, self.keep_until)

    def to_json(self) -> dict:
        """Return the entry with its metadata, as `logbook list --format json` prints it."""
        return {"id": self.id, "kind": self.kind, "entry": self.entry, "recorded_at": self.recorded_at,
                "recorded_by": self.recorded_by, "supersedes": self.supersedes, "reason": self.reason,
                "state": self.state, "superseded_by": self.superseded_by, "keep_until": self.keep_until,
                "prev_hash": self.prev_hash, "hash": self.hash}


@dataclass(frozen=True)
class Saved:
    """The result of a write: the stored row and what the farmer must see at once."""

    entry: StoredEntry
    flags: list[Flag] = field(default_factory=list)


def envelope_of(id: int, kind: str, entry: dict, recorded_at: str, recorded_by: str, supersedes: int | None,
                reason: str | None, state: str, keep_until: str) -> dict:
    """Return the hashed envelope of a row."""
    return {"id": id, "kind": kind, "entry": entry, "recorded_at": recorded_at, "recorded_by": recorded_by,
            "supersedes": supersedes, "reason": reason, "state": state, "keep_until": keep_until}


def canonical(obj: Any) -> bytes:
    """Return the canonical JSON bytes of an object: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def content_hash(envelope: dict) -> str:
    """Return the SHA-256 (hex) of an envelope's canonical JSON."""
    return hashlib.sha256(canonical(envelope)).hexdigest()


def link_hash(prev_hash: str, content: str) -> str:
    """Return the chain hash of a row from the previous row's hash and its content hash."""
    return hashlib.sha256((prev_hash + content).encode("ascii")).hexdigest()


def _row(r: dict) -> StoredEntry:
    """Turn a logbook table row into a StoredEntry."""
    return StoredEntry(r["id"], r["kind"], json.loads(r["entry"]), r["recorded_at"], r["recorded_by"],
                       r["supersedes"], r["reason"], r["state"], r["prev_hash"], r["hash"], r["keep_until"])


@contextmanager
def _immediate(store: Store):
    """Run a block in one IMMEDIATE transaction: the chain head cannot move under us; commit = fsync."""
    with store.lock:
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
        raise EntryError([("recorded_by", "vul in wie dit registreert", "fill in who records this")])
    new_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM logbook").fetchone()[0]
    head = conn.execute("SELECT hash FROM logbook WHERE kind = ? ORDER BY id DESC LIMIT 1", [kind]).fetchone()
    prev = head[0] if head else GENESIS
    recorded_at = now.astimezone(timezone.utc).isoformat(timespec="seconds")
    keep = _keep(kind, now)
    env = envelope_of(new_id, kind, entry, recorded_at, by.strip(), supersedes, reason, state, keep)
    digest = link_hash(prev, content_hash(env))
    conn.execute(
        "INSERT INTO logbook(id, kind, entry, recorded_at, recorded_by, supersedes, reason, state, prev_hash, hash,"
        " keep_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [new_id, kind, json.dumps(entry, ensure_ascii=False, sort_keys=True), recorded_at, by.strip(), supersedes,
         reason, state, prev, digest, keep])
    return StoredEntry(new_id, kind, entry, recorded_at, by.strip(), supersedes, reason, state, prev, digest, keep)


def _rows(store: Store, kind: str | None = None) -> list[StoredEntry]:
    """Return every row (of one logbook, or all), oldest first, with superseded_by filled in."""
    sql = "SELECT * FROM logbook" + (" WHERE kind = ?" if kind else "") + " ORDER BY id"
    rows = [_row(r) for r in store.query(sql, [kind] if kind else [])]
    later = {r.supersedes: r.id for r in rows if r.supersedes is not None}
    return [replace(r, superseded_by=later.get(r.id)) for r in rows]


def current(rows: list[StoredEntry]) -> list[StoredEntry]:
    """Return the current view: rows nobody superseded that were not withdrawn."""
    return [r for r in rows if r.superseded_by is None and r.state != "withdrawn"]


# A row is current when no later row supersedes it and it is not a withdrawal.
_CURRENT_SQL = ("NOT EXISTS (SELECT 1 FROM logbook AS later WHERE later.supersedes = logbook.id)"
                " AND logbook.state != 'withdrawn'")


def _current_where(store: Store, kind: str, fields: dict[str, Any]) -> list[StoredEntry]:
    """Return the current rows of a logbook whose entry fields equal the given values (SQL-side)."""
    sql = f"SELECT * FROM logbook WHERE kind = ? AND {_CURRENT_SQL}"
    params: list[Any] = [kind]
    for name, value in fields.items():
        sql += f" AND json_extract(entry, '$.{name}') IS ?"
        params.append(value)
    return [_row(r) for r in store.query(sql + " ORDER BY id", params)]


# Stored rows never change, so a row's validated record can be kept by its hash.
_RECORDS: dict[str, Any] = {}
_RECORDS_MAX = 100_000


def record_of(row: StoredEntry):
    """Return the validated record of a stored row (EntryError when it no longer passes its model)."""
    record = _RECORDS.get(row.hash)
    if record is None:
        record = validate_entry(row.kind, row.entry)
        if len(_RECORDS) >= _RECORDS_MAX:
            _RECORDS.clear()
        _RECORDS[row.hash] = record
    return record


def _check_unique(store: Store, kind: str, record, ignore: int | None) -> None:
    """Refuse a second current entry for the same key (one day-sheet line per house per day…)."""
    spec = spec_for(kind)
    if not spec.unique:
        return
    data = to_json(record)
    key = {f: data[f] for f in spec.unique}
    for r in _current_where(store, kind, key):
        if r.id != ignore:
            values = ", ".join(f"{f}={v}" for f, v in key.items())
            raise EntryError([(spec.unique[-1], f"er is al een registratie met {values} (#{r.id}); corrigeer die "
                                                f"met `ikb-agent logbook correct {r.id}`",
                               f"an entry with {values} exists (#{r.id}); correct that one")])


def _notify(kind: str, entry: StoredEntry, flags: list[Flag]) -> None:
    """Call every listener after the commit; a failing listener is logged, never fatal."""
    for listener in list(ENTRY_LISTENERS):
        try:
            listener(kind, entry.entry, flags)
        except Exception:  # noqa: BLE001 - a listener must not undo or hide a committed write
            log.exception("logbook listener %r failed for %s #%s", listener, kind, entry.id)


def _confirmed(store: Store, kind: str, where: dict[str, Any], since: str | None = None) -> tuple[LogEntry, ...]:
    """Return the confirmed current entries of a logbook matching ``where`` (dated from ``since``)."""
    rows = _current_where(store, kind, where)
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
        raise LogbookError(f"state: expected confirmed or draft, got {state!r}")
    with _immediate(store) as conn:
        _check_unique(store, kind, record, None)
        stored = _append(conn, kind, to_json(record), by=by, now=now, state=state)
    flags = _flags(store, kind, record)
    _notify(kind, stored, flags)
    return Saved(stored, flags)


def get_entry(store: Store, entry_id: int) -> StoredEntry:
    """Return one row with superseded_by filled in, or raise LogbookError."""
    rows = store.query("SELECT kind FROM logbook WHERE id = ?", [entry_id])
    if not rows:
        raise LogbookError(f"id: geen logboekregel #{entry_id}")
    return next(r for r in _rows(store, rows[0]["kind"]) if r.id == entry_id)


def _open_for_change(store: Store, entry_id: int) -> StoredEntry:
    """Return a row that may be corrected: it exists and nothing superseded it yet."""
    old = get_entry(store, entry_id)
    if old.superseded_by is not None:
        raise LogbookError(f"id: #{entry_id} is al gecorrigeerd door #{old.superseded_by}; corrigeer die regel")
    if old.state == "withdrawn":
        raise LogbookError(f"id: #{entry_id} is een intrekking; er valt niets meer te corrigeren")
    return old


def correct_entry(store: Store, config: Settings, entry_id: int, changes: dict | None, *, by: str, now: datetime,
                  reason: str, withdraw: bool = False) -> Saved:
    """Store a correction of an entry: the old entry with ``changes`` applied (or withdrawn), who/when/why.

    ``changes`` holds only the fields to change (``null`` clears an optional
    one). The old entry stays in the history, superseded by the new one.
    """
    if not reason or not reason.strip():
        raise EntryError([("reason", "geef de reden van de correctie", "give the reason for the correction")])
    old = _open_for_change(store, entry_id)
    if withdraw:
        record, entry, state = None, old.entry, "withdrawn"
    else:
        if not isinstance(changes, dict) or not changes:
            raise EntryError([("", "geef de velden die veranderen als JSON-object", "give the changed fields")])
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
        raise LogbookError(f"id: #{entry_id} is geen concept (status {old.state})")
    record = validate_entry(old.kind, {**old.entry, **(changes or {})}, houses=_houses(config),
                            today=_today(config, now))
    with _immediate(store) as conn:
        _open_for_change(store, entry_id)
        stored = _append(conn, old.kind, to_json(record), by=by, now=now, supersedes=entry_id,
                         reason="bevestigd", state="confirmed")
    flags = _flags(store, old.kind, record)
    _notify(old.kind, stored, flags)
    return Saved(stored, flags)


def _entry_date(kind: str, entry: dict) -> date | None:
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
    rows = _rows(store, kind)
    if not history:
        rows = current(rows)

    def inside(r: StoredEntry) -> bool:
        day = _entry_date(kind, r.entry)
        return day is None or ((start is None or day >= start) and (end is None or day <= end))

    rows = [r for r in rows if inside(r)]
    if history:
        return rows
    return sorted(rows, key=lambda r: (_entry_date(kind, r.entry) or date.min, r.id))


def chain_head(store: Store, kind: str) -> tuple[str, int]:
    """Return a logbook's last hash and its number of rows (GENESIS, 0 when empty)."""
    row = store.query("SELECT hash, (SELECT count(*) FROM logbook WHERE kind = ?) AS n FROM logbook WHERE kind = ?"
                      " ORDER BY id DESC LIMIT 1", [kind, kind])
    return (row[0]["hash"], row[0]["n"]) if row else (GENESIS, 0)


@dataclass
class ChainCheck:
    """The outcome of checking a chain: the first problem (None when intact), its head and length."""

    problem: str | None
    head: str = GENESIS
    entries: int = 0
    records: dict = field(default_factory=dict)  # hash → envelope, for the rows that carry one


def check_chain(items, where: Callable[[int, dict], str]) -> ChainCheck:
    """Check chain items in order: each {"id", "prev_hash", "hash"} with its "record" envelope or "content_hash".

    ``where(number, item)`` names an item in a problem message.
    """
    out = ChainCheck(None)
    for number, item in enumerate(items, start=1):
        try:
            if "record" in item:
                r = item["record"]
                env = envelope_of(r["id"], r["kind"], r["entry"], r["recorded_at"], r["recorded_by"],
                                  r["supersedes"], r["reason"], r["state"], r["keep_until"])
                digest = content_hash(env)
            else:
                digest = item["content_hash"]
            if item["prev_hash"] != out.head:
                out.problem = f"{where(number, item)}: prev_hash does not match the previous entry's hash"
            elif link_hash(out.head, digest) != item["hash"]:
                out.problem = f"{where(number, item)}: hash does not match its content"
        except (KeyError, TypeError, ValueError) as exc:
            out.problem = f"{where(number, item)}: unreadable ({exc.__class__.__name__})"
        if out.problem:
            return out
        if "record" in item:
            out.records[item["hash"]] = item["record"]
        out.head, out.entries = item["hash"], out.entries + 1
    return out


def verify_chain(store: Store, kind: str) -> str | None:
    """Return the first problem in a stored logbook's chain, or None when it is intact."""
    items = ({"id": r.id, "prev_hash": r.prev_hash, "hash": r.hash, "record": r.envelope()}
             for r in _rows(store, kind))
    return check_chain(items, lambda n, item: f"entry #{item.get('id')}").problem


# --------------------------------------------------------------------------- evaluation inputs


def logbook_view(store: Store, at: datetime) -> LogbookView:
    """Return every logbook's current view as it stood at ``at`` (later corrections ignored)."""
    rows = [r for r in _rows(store) if parse_moment(r.recorded_at) <= at]
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
            invalid.append((r.id, r.kind, str(exc), _entry_date(r.kind, r.entry)))
            continue
        item = LogEntry(r.id, r.kind, record, parse_moment(r.recorded_at), r.recorded_by, r.state)
        if r.state == "draft":
            drafts.append(item)
        else:
            entries.setdefault(r.kind, []).append(item)
    return LogbookView({k: tuple(v) for k, v in entries.items()}, tuple(drafts), tuple(invalid),
                       frozenset(dismissed))


def _ms(moment: datetime) -> int:
    """Return integer milliseconds since the epoch."""
    return int(moment.timestamp() * 1000)


def detected_tests(store: Store, until: datetime) -> list[DetectedTest]:
    """Return the finished generator test runs the sensor rules detected, ended by ``until``.

    A run still in progress is not judged yet: its draft is written when it ends.
    """
    rows = store.query("SELECT id, location, start, \"end\" FROM events WHERE kind = 'generator_test'"
                       " AND \"end\" IS NOT NULL AND \"end\" <= ? ORDER BY start", [_ms(until)])
    return [DetectedTest(r["id"], r["location"], datetime.fromtimestamp(r["start"] / 1000, timezone.utc),
                         datetime.fromtimestamp(r["end"] / 1000, timezone.utc) if r["end"] is not None else None)
            for r in rows]


def pophole_days(store: Store, config: Settings, since: datetime, at: datetime) -> dict[str, frozenset[date]]:
    """Return, per house, the local days on which its pop-hole sensor reported (H3.12.10 journal by sensor)."""
    tz = config.farm_view().tz
    lo, hi = _ms(since - timedelta(days=1)), _ms(at)
    out: dict[str, set[date]] = {}
    for s in store.query("SELECT id, location FROM sensors WHERE kind = 'pophole'"):
        stamps = store.execute(
            "SELECT ts FROM readings WHERE sensor_id = ? AND ts BETWEEN ? AND ?"
            " UNION SELECT minute * 60000 FROM aggregates WHERE sensor_id = ? AND minute * 60000 BETWEEN ? AND ?",
            [s["id"], lo, hi, s["id"], lo, hi]).fetchall()
        days = out.setdefault(s["location"], set())
        days.update(datetime.fromtimestamp(ts / 1000, timezone.utc).astimezone(tz).date() for (ts,) in stamps)
    return {k: frozenset(v) for k, v in out.items()}


def load_logbook_inputs(store: Store, config: Settings, since: datetime, at: datetime) -> dict:
    """Return the evaluation inputs of the logbook rules (an INPUT_LOADERS entry)."""
    return {"logbooks": logbook_view(store, at), "generator_tests": tuple(detected_tests(store, at)),
            "pophole_days": pophole_days(store, config, since, at)}


# --------------------------------------------------------------------------- A3.6 drafts from detected tests


def draft_detected_checks(store: Store, config: Settings, now: datetime) -> list[Saved]:
    """Draft a `checks` entry for every finished detected generator test that has none yet.

    The draft waits for the farmer's confirmation (`logbook confirm ID`); a
    detected test never confirmed scores A3.6 B. Idempotent: a test already
    referenced by any checks row (draft, confirmed or withdrawn) is skipped,
    as is one the farmer already registered by hand that day.
    """
    farm = config.farm_view()
    houses = {h.id for h in config.houses}
    rows = _rows(store, "checks")
    referenced = {r.entry.get("event_id") for r in rows}
    manual = {(r.entry.get("date"), r.entry.get("house")) for r in current(rows)
              if r.entry.get("item") == "generator" and r.state == "confirmed"}
    events = store.query("SELECT id, location, start, \"end\", detail FROM events WHERE kind = 'generator_test'"
                         " AND \"end\" IS NOT NULL AND \"end\" <= ? ORDER BY start", [_ms(now)])
    saved = []
    for ev in events:
        if ev["id"] in referenced:
            continue
        start = datetime.fromtimestamp(ev["start"] / 1000, timezone.utc).astimezone(farm.tz)
        end = datetime.fromtimestamp(ev["end"] / 1000, timezone.utc).astimezone(farm.tz)
        house = ev["location"] if ev["location"] in houses else None
        day = start.date().isoformat()
        if (day, house) in manual or (day, None) in manual:
            continue
        try:
            detail = json.loads(ev["detail"] or "{}")
        except ValueError:
            detail = {}
        result = detail.get("result") if detail.get("result") in ("ok", "fault") else "ok"
        minutes = round((end - start).total_seconds() / 60)
        entry = {"date": day, "item": "generator", "result": result, "checked_by": "automatisch gedetecteerd",
                 "notes": f"Testloop gedetecteerd {start:%H:%M}–{end:%H:%M} ({minutes} min); bevestig of corrigeer.",
                 "time": f"{start:%H:%M}", "house": house, "source": "detected", "event_id": ev["id"]}
        saved.append(add_entry(store, config, "checks", entry, by="ikb-agent", now=now, state="draft"))
    return saved


# --------------------------------------------------------------------------- retention and storage use


def storage_report(store: Store, now: datetime) -> dict:
    """Return the storage use: database and WAL size, free disk, rows per table, logbook rows per kind.

    A scheduled job logs this daily; nothing here deletes anything (A9.1/E9.4).
    """
    path = store.path
    sizes = {p: os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p)}
    disk = shutil.disk_usage(os.path.dirname(os.path.abspath(path)))
    tables = [r["name"] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    rows = {t: store.query(f'SELECT count(*) AS n FROM "{t}"')[0]["n"] for t in tables}
    kinds = {r["kind"]: {"rows": r["n"], "oldest": r["oldest"], "keep_until_max": r["keep"]}
             for r in store.query("SELECT kind, count(*) AS n, min(recorded_at) AS oldest, max(keep_until) AS keep"
                                  " FROM logbook GROUP BY kind ORDER BY kind")}
    return {"at": now.isoformat(), "database": path, "database_bytes": sizes.get(path, 0),
            "wal_bytes": sizes.get(path + "-wal", 0), "disk_free_bytes": disk.free, "disk_total_bytes": disk.total,
            "rows": rows, "logbooks": kinds}


def format_storage_report(report: dict) -> str:
    """Return the storage report as one log line."""
    mb = 1024 * 1024
    books = ", ".join(f"{k} {v['rows']}" for k, v in report["logbooks"].items()) or "geen"
    return (f"opslag: database {report['database_bytes'] / mb:.1f} MB (+ WAL {report['wal_bytes'] / mb:.1f} MB), "
            f"vrij {report['disk_free_bytes'] / mb:.0f} MB van {report['disk_total_bytes'] / mb:.0f} MB; "
            f"metingen {report['rows'].get('readings', 0)}; logboekregels: {books}")


# --------------------------------------------------------------------------- scheduled jobs

DRAFT_EVERY_S = 300  # a finished test run is drafted within five minutes
STORAGE_EVERY_S = 24 * 3600


def draft_job(store: Store, config: Settings) -> tuple[str, Callable[[datetime], object], float]:
    """Return (name, function(now), interval) of the job that drafts detected generator tests."""
    return "logbook-drafts", lambda now: draft_detected_checks(store, config, now), DRAFT_EVERY_S


def storage_job(store: Store, config: Settings) -> tuple[str, Callable[[datetime], object], float]:
    """Return (name, function(now), interval) of the daily storage-use report."""

    def run(now: datetime) -> dict:
        report = storage_report(store, now)
        log.info(format_storage_report(report))
        return report

    return "storage-report", run, STORAGE_EVERY_S
