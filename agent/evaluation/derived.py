"""The sensor rules' per-day cache: each sensor's day is derived once and kept.

Scoring two years of minute data must not re-read two years of readings, and
the minute job must not rescan them either. So every *subject* (a lux sensor,
a state sensor, a climate sensor, an egg room's air pair) has its days derived
by the pure functions in ``rules/`` and stored in ``derived_days`` as JSON,
tagged with a version (the thresholds' fingerprint and the code version).

New readings invalidate exactly the days they touch: triggers on ``readings``
and ``aggregates`` (``agent.store.schema``) note each (sensor, hour) in
``derived_marks``. Only ``ikb-agent run`` writes the cache (:func:`apply_marks`
turns marks into deleted days, :func:`cache_days` stores newly settled days);
every reader (the scoring loader, the web process, ``ikb-agent score``, exports)
reads it with :func:`subject_days`, which ignores the days pending marks made
stale and derives in memory whatever is not cached, without writing. Only days
that lie wholly (with the context they need) before the moment of evaluation
are cached; the day still running is derived on every call, from its data only.

The cache is derived data: losing it costs time, not evidence.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import time
from typing import Callable, Sequence

from agent.store import DayKey, Store, cached_days, consume_marks, pending_marks, raise_watermark, series, store_days
from rules.sensor import HOUR, DayRecord, LocalDay, days_between, merge_intervals, to_dt

log = logging.getLogger(__name__)

CHUNK_DAYS = 31  # derive missing days in chunks, so two years of minutes never sit in memory at once
# Cached days kept decoded in this process, least recently used dropped first: the minute job's window
# (31 days of ~100 subjects on a 100-sensor farm) several times over, about 0.7 KB each. Unbounded, a
# year's chart on the page or `score` over the history would keep every day it ever read.
DECODED_MAX = 10_000
_DECODED: OrderedDict[tuple, tuple[bytes, DayRecord]] = OrderedDict()  # key → (digest of the text, record)
_DECODED_LOCK = threading.Lock()  # the web's request threads share it

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


def _writable(action: Callable[[], object]) -> None:
    """Run a cache write; on a busy database, go on without caching (the next run writes it)."""
    try:
        action()
    except sqlite3.OperationalError as exc:
        log.info("sensor-rule cache not written: %s", exc)


def stale_keys(subjects: Sequence[Subject], marks: Sequence[tuple[int, int]], tz) -> set[DayKey]:
    """Return the cached days (family, subject, day) that data marked by (sensor, hour) may have changed."""
    hours: dict[int, list[tuple[int, int]]] = {}
    for sensor_id, hour in marks:
        hours.setdefault(sensor_id, []).append((hour * HOUR, (hour + 1) * HOUR))
    stale = set()
    for subject in subjects:
        touched = [iv for sid in subject.sensor_ids if sid in hours for iv in hours[sid]]
        for lo, hi in merge_intervals(touched):
            for day in days_between(lo - subject.after_ms, hi + subject.before_ms, subject.day_start, tz):
                stale.add((subject.family, subject.key, day.day.isoformat()))
    return stale


def pending_stale(store: Store, subjects: Sequence[Subject], tz) -> frozenset[DayKey]:
    """Return the cached days that data arrived since would change (for readers, who consume no marks)."""
    marks = pending_marks(store)
    return frozenset(stale_keys(subjects, marks, tz)) if marks else frozenset()


def apply_marks(store: Store, subjects: Sequence[Subject], tz) -> int:
    """Delete the cached days that new readings touched; return how many were deleted (``run`` only)."""
    deleted = 0

    def run() -> None:
        nonlocal deleted
        deleted = consume_marks(store, lambda marks: stale_keys(subjects, marks, tz))

    _writable(run)
    return deleted


def _series(store: Store, subject: Subject, lo: int, hi: int) -> list[list]:
    """Return each input's (ts, value) readings in ``[lo, hi]``."""
    return [series(store, sid, to_dt(lo), to_dt(hi)) if sid is not None else [] for sid in subject.sensor_ids]


def _cached(store: Store, subject: Subject, days: list[LocalDay], stale: frozenset[DayKey]) -> dict[str, str]:
    """Return day → cached JSON of the subject's current version, leaving out days marked stale."""
    rows = cached_days(store, subject.family, subject.key, days[0].day.isoformat(), days[-1].day.isoformat())
    return {day: result for day, version, result in rows
            if version == subject.version and (subject.family, subject.key, day) not in stale}


def subject_days(store: Store, subject: Subject, lo: int, hi: int, tz,
                 stale: frozenset[DayKey] = frozenset()) -> tuple[DayRecord, ...]:
    """Return the subject's days overlapping ``[lo, hi)``: cached ones read, the others derived in memory.

    Writes nothing. ``stale``: cached days that newer data changed (:func:`pending_stale`).
    """
    days = days_between(lo, hi, subject.day_start, tz)
    if not days:
        return ()
    cached = _cached(store, subject, days, stale)
    out: dict = {}
    missing: list[LocalDay] = []
    for d in days:
        settled = d.end + subject.after_ms <= hi
        if settled and d.day.isoformat() in cached:
            out[d.day] = _decode(store, subject, d.day.isoformat(), cached[d.day.isoformat()])
        elif settled:
            missing.append(d)
        else:
            out[d.day] = _derive(store, subject, [d], hi)[0]
    for i in range(0, len(missing), CHUNK_DAYS):
        out.update({r.day: r for r in _derive(store, subject, missing[i:i + CHUNK_DAYS], None)})
    return tuple(out[d.day] for d in days)


def cache_days(store: Store, subject: Subject, lo: int, hi: int, tz, limit: int | None = None) -> int:
    """Derive and store the subject's settled days in ``[lo, hi)`` that are not cached; return how many (``run``).

    ``limit``: derive at most this many, the newest first. Call :func:`apply_marks` first: the days new
    data touched are then missing here and derived again.
    """
    days = [d for d in days_between(lo, hi, subject.day_start, tz) if d.end + subject.after_ms <= hi]
    if not days:
        return 0
    cached = _cached(store, subject, days, frozenset())
    missing = [d for d in days if d.day.isoformat() not in cached]
    if limit is not None:
        missing = missing[max(0, len(missing) - limit):]
    if missing:
        # Before reading their data: a reading committed from here on is read below, or marks the day.
        try:
            raise_watermark(store, max(d.end + subject.after_ms for d in missing))
        except sqlite3.OperationalError as exc:
            log.info("sensor-rule cache not written: %s", exc)
            return 0
    for i in range(0, len(missing), CHUNK_DAYS):
        derived = _derive(store, subject, missing[i:i + CHUNK_DAYS], None)
        rows = []
        for r in derived:
            text = json.dumps(r.to_json(), separators=(",", ":"))
            rows.append((subject.family, subject.key, r.day.isoformat(), subject.version, r.start, r.end, text,
                         int(hi)))
            _remember(store, subject, r.day.isoformat(), text, r)
        _writable(lambda rows=rows: store_days(store, rows))
    return len(missing)


def _decode(store: Store, subject: Subject, day: str, text: str) -> DayRecord:
    """Return a cached day as a record, decoding its JSON only when this process has not seen that text.

    The minute job reads the same cached days every minute; comparing the stored text with the
    one decoded before is much cheaper than decoding it again, and stays right whoever wrote the row.
    """
    key, digest = (store.path, subject.family, subject.key, day), _digest(text)
    with _DECODED_LOCK:
        seen = _DECODED.get(key)
        if seen is not None and seen[0] == digest:
            _DECODED.move_to_end(key)
            return seen[1]
    record = subject.record.from_json(json.loads(text))
    _remember(store, subject, day, text, record)
    return record


def _digest(text: str) -> bytes:
    """Return what identifies a cached day's text (kept instead of the text: 16 bytes, not hundreds)."""
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _remember(store: Store, subject: Subject, day: str, text: str, record: DayRecord) -> None:
    """Keep a cached day's decoded record in this process, by the text it was decoded from."""
    key = (store.path, subject.family, subject.key, day)
    with _DECODED_LOCK:
        _DECODED[key] = (_digest(text), record)
        _DECODED.move_to_end(key)
        while len(_DECODED) > DECODED_MAX:
            _DECODED.popitem(last=False)


def _derive(store: Store, subject: Subject, days: list[LocalDay], until: int | None) -> list[DayRecord]:
    """Derive consecutive days from one read of their readings (``until``: data up to there only)."""
    lo = days[0].start - subject.before_ms
    hi = days[-1].end + subject.after_ms if until is None else until
    data = _series(store, subject, lo, hi)
    return [subject.compute(data, d, until) for d in days]
