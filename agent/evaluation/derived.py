"""The sensor rules' per-day cache: each sensor's day is derived once and kept.

Scoring two years of minute data must not re-read two years of readings, and
the minute job must not rescan them either. So every *subject* (a lux sensor,
a state sensor, a climate sensor, an egg room's air pair) has its days derived
by the pure functions in ``rules/`` and stored in ``derived_days`` as JSON,
tagged with a version (the thresholds' fingerprint and the code version).

New readings invalidate exactly the days they touch: triggers on ``readings``
and ``aggregates`` (``agent/schema.py``) note each (sensor, hour) in
``derived_marks``; :func:`apply_marks` turns those into deleted cache rows,
whatever wrote the readings (live MQTT, replay, an import). Only days that lie
wholly (with the context they need) before the moment of evaluation are
cached; the day still running is derived on every call, from its data only.

The cache is derived data: losing it costs time, not evidence. A read-only
store (the web process) derives without writing, and a day whose marks no
writer has applied yet is derived from the readings, never read stale from
the cache: every reader sees the same days the next ``run`` tick caches.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import time
from typing import Callable, Sequence

from agent.store import Store, series
from rules.sensor import HOUR, DayRecord, LocalDay, days_between, merge_intervals, to_dt

log = logging.getLogger(__name__)

CHUNK_DAYS = 31  # derive missing days in chunks, so two years of minutes never sit in memory at once
DECODED_MAX = 100_000  # cached days kept decoded in this process (a few hundred bytes each)
_DECODED: dict[tuple, tuple[str, DayRecord]] = {}

Compute = Callable[[Sequence[list], LocalDay, "int | None"], DayRecord]


@dataclass(frozen=True)
class Subject:
    """Something whose days are derived: one sensor, or an egg room's air sensors together."""

    family: str  # light | state | climate | condensation
    key: str  # cache key within the family
    label: str  # how the farmer knows it
    location: str
    kind: str
    sensor_ids: tuple[int | None, ...]  # inputs, in the order ``compute`` expects (None: not registered yet)
    day_start: time
    before_ms: int  # data needed before a day
    after_ms: int  # data needed after a day
    version: str
    compute: Compute
    record: type
    known_from: int | None = None  # state sensors: nothing is expected before the sensor was registered


def _writable(store: Store, action: Callable[[], None]) -> None:
    """Run a cache write; on a read-only or busy database, go on without caching."""
    try:
        action()
    except sqlite3.OperationalError as exc:
        log.info("sensor-rule cache not written: %s", exc)


def apply_marks(store: Store, subjects: Sequence[Subject], tz) -> int:
    """Delete the cached days that new readings touched; return how many were deleted."""
    deleted = 0

    def run() -> None:
        nonlocal deleted
        with store.transaction() as db:
            # One statement takes the marks and empties the table, so a mark written meanwhile is never lost.
            marks = db.execute("DELETE FROM derived_marks RETURNING sensor_id, hour").fetchall()
            if not marks:
                return
            hours: dict[int, list[tuple[int, int]]] = {}
            for sensor_id, hour in marks:
                hours.setdefault(sensor_id, []).append((hour * HOUR, (hour + 1) * HOUR))
            stale = {(subject.family, subject.key, day) for subject in subjects
                     for day in _touched(subject, hours, tz)}
            db.conn.executemany("DELETE FROM derived_days WHERE family = ? AND subject = ? AND day = ?", list(stale))
            deleted = len(stale)

    _writable(store, run)
    return deleted


def _touched(subject: Subject, hours: dict[int, list[tuple[int, int]]], tz) -> set[str]:
    """Return the days (ISO) of a subject that readings in these (sensor → hour spans) touch."""
    touched = [iv for sid in subject.sensor_ids if sid in hours for iv in hours[sid]]
    return {day.day.isoformat() for lo, hi in merge_intervals(touched)
            for day in days_between(lo - subject.after_ms, hi + subject.before_ms, subject.day_start, tz)}


def _pending(store: Store, subject: Subject, tz) -> set[str]:
    """Return the days of a subject whose cached result new readings made stale, marks not yet applied."""
    ids = [sid for sid in subject.sensor_ids if sid is not None]
    if not ids:
        return set()
    rows = store.execute(f"SELECT sensor_id, hour FROM derived_marks WHERE sensor_id IN ({','.join('?' * len(ids))})",
                         ids).fetchall()
    hours: dict[int, list[tuple[int, int]]] = {}
    for sensor_id, hour in rows:
        hours.setdefault(sensor_id, []).append((hour * HOUR, (hour + 1) * HOUR))
    return _touched(subject, hours, tz) if hours else set()


def _series(store: Store, subject: Subject, lo: int, hi: int) -> list[list]:
    """Return each input's (ts, value) readings in ``[lo, hi]``."""
    return [series(store, sid, to_dt(lo), to_dt(hi)) if sid is not None else [] for sid in subject.sensor_ids]


def subject_days(store: Store, subject: Subject, lo: int, hi: int, tz) -> tuple[DayRecord, ...]:
    """Return the subject's days overlapping ``[lo, hi)``, from the cache where it can, deriving the rest."""
    days = days_between(lo, hi, subject.day_start, tz)
    if not days:
        return ()
    rows = store.execute(
        "SELECT day, version, result FROM derived_days WHERE family = ? AND subject = ? AND day BETWEEN ? AND ?",
        [subject.family, subject.key, days[0].day.isoformat(), days[-1].day.isoformat()]).fetchall()
    cached = {day: result for day, version, result in rows if version == subject.version}
    stale = _pending(store, subject, tz)
    out: dict = {}
    missing: list[LocalDay] = []
    for d in days:
        settled = d.end + subject.after_ms <= hi
        if settled and d.day.isoformat() in stale:
            # New readings touched this day and no writer has applied their marks yet (a read-only
            # reader): derive it from the readings as they are now, and leave the cache to `run`.
            out[d.day] = _derive(store, subject, [d], None)[0]
        elif settled and d.day.isoformat() in cached:
            out[d.day] = _decode(store, subject, d.day.isoformat(), cached[d.day.isoformat()])
        elif settled:
            missing.append(d)
        else:
            out[d.day] = _derive(store, subject, [d], hi)[0]
    for i in range(0, len(missing), CHUNK_DAYS):
        chunk = missing[i:i + CHUNK_DAYS]
        derived = _derive(store, subject, chunk, None)
        rows = [(subject.family, subject.key, r.day.isoformat(), subject.version, r.start, r.end,
                 json.dumps(r.to_json(), separators=(",", ":")), int(hi)) for r in derived]
        _writable(store, lambda rows=rows: _store_rows(store, rows))
        out.update({r.day: r for r in derived})
    return tuple(out[d.day] for d in days)


def _decode(store: Store, subject: Subject, day: str, text: str) -> DayRecord:
    """Return a cached day as a record, decoding its JSON only when this process has not seen that text.

    The minute job reads the same cached days every minute; comparing the stored text with the
    one decoded before is much cheaper than decoding it again, and stays right whoever wrote the row.
    """
    key = (store.path, subject.family, subject.key, day)
    seen = _DECODED.get(key)
    if seen is not None and seen[0] == text:
        return seen[1]
    record = subject.record.from_json(json.loads(text))
    if len(_DECODED) >= DECODED_MAX:
        _DECODED.clear()
    _DECODED[key] = (text, record)
    return record


def _store_rows(store: Store, rows: list[tuple]) -> None:
    """Write derived days (replacing older versions)."""
    with store.transaction() as db:
        db.conn.executemany(
            'INSERT INTO derived_days(family, subject, day, version, start, "end", result, computed_at)'
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(family, subject, day) DO UPDATE SET"
            ' version = excluded.version, start = excluded.start, "end" = excluded."end",'
            " result = excluded.result, computed_at = excluded.computed_at", rows)


def _derive(store: Store, subject: Subject, days: list[LocalDay], until: int | None) -> list[DayRecord]:
    """Derive consecutive days from one read of their readings (``until``: data up to there only)."""
    lo = days[0].start - subject.before_ms
    hi = days[-1].end + subject.after_ms if until is None else until
    data = _series(store, subject, lo, hi)
    return [subject.compute(data, d, until) for d in days]
