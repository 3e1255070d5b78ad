"""Readings reduced to a few hundred buckets for charts and the API (min, max, mean per bucket).

Raw readings are grouped in SQL; older stretches come from the per-minute
aggregates, and for buckets of an hour or more from hourly roll-ups of those
aggregates (table ``rollups``), so that a year of one sensor is a few thousand
rows to read, not half a million. Roll-ups are a cache derived from the
aggregates, written only by ``ikb-agent run`` (:func:`roll_up_charts`, after
each retention roll-up), a week per transaction so ingestion never waits long
for the database; they can be rebuilt at any time. :func:`downsample` only
reads: hours not rolled up yet are grouped from the aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agent.store.connection import Store
from agent.store.readings import to_ms

# Bucket widths a chart may use, in seconds: the smallest one that gives at most
# the asked number of points is chosen, so buckets start at round times.
STEPS_S = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)
HOUR_MS = 3_600_000
ROLLUP_CHUNK_MIN = 7 * 24 * 60


@dataclass(frozen=True, slots=True)
class Bucket:
    """Readings of one sensor in [start, start + width)."""

    start: int  # ms since the epoch (UTC)
    n: int
    vmin: float
    vmax: float
    mean: float


def bucket_width_s(since: datetime, until: datetime, points: int) -> int:
    """Return the bucket width (seconds) for at most ``points`` buckets over the window."""
    span = max(1.0, (until - since).total_seconds())
    for step in STEPS_S:
        if span / step <= points:
            return step
    return STEPS_S[-1]


def ensure_rollups(store: Store, sensor_id: int, until_minute: int | None = None) -> int:
    """Bring the sensor's hourly roll-ups up to date with its aggregates; return the hours written."""
    last = store.execute("SELECT max(hour) FROM rollups WHERE sensor_id = ?", [sensor_id]).fetchone()[0]
    top = store.execute("SELECT max(minute) FROM aggregates WHERE sensor_id = ?", [sensor_id]).fetchone()[0]
    if top is None:
        return 0
    if until_minute is not None:
        top = min(top, until_minute)
    if last is None:
        first = store.execute("SELECT min(minute) FROM aggregates WHERE sensor_id = ?", [sensor_id]).fetchone()[0]
        start = first - first % 60
    else:
        start = last * 60  # the last hour may have been partial: roll it again
    written = 0
    while start <= top:
        end = min(start + ROLLUP_CHUNK_MIN, top + 1)
        with store.transaction() as db:
            cur = db.execute(
                "INSERT OR REPLACE INTO rollups(sensor_id, hour, n, vmin, vmax, total)"
                " SELECT sensor_id, minute / 60, sum(n), min(vmin), max(vmax), sum(mean * n) FROM aggregates"
                " WHERE sensor_id = ? AND minute >= ? AND minute < ? GROUP BY minute / 60",
                [sensor_id, start, end])
            written += cur.rowcount
        start = end
    return written


def roll_up_charts(store: Store) -> int:
    """Bring every sensor's hourly roll-ups up to date; return the hours written (``run``'s job)."""
    return sum(ensure_rollups(store, row[0]) for row in store.execute("SELECT id FROM sensors").fetchall())


def _rolled_up_until(store: Store, sensor_id: int) -> int:
    """Return the hour before which the sensor's roll-ups are complete (its last rolled-up hour may be partial)."""
    last = store.execute("SELECT max(hour) FROM rollups WHERE sensor_id = ?", [sensor_id]).fetchone()[0]
    return last if last is not None else -(2**62)


def _merge(rows) -> dict[int, list]:
    """Combine partial buckets that share a start."""
    out: dict[int, list] = {}
    for start, n, vmin, vmax, total in rows:
        if not n:
            continue
        have = out.get(start)
        if have is None:
            out[start] = [n, vmin, vmax, total]
        else:
            have[0] += n
            have[1] = min(have[1], vmin)
            have[2] = max(have[2], vmax)
            have[3] += total
    return out


def downsample(store: Store, sensor_id: int, since: datetime, until: datetime, points: int = 300) -> list[Bucket]:
    """Return at most about ``points`` buckets of one sensor over [since, until], oldest first."""
    width_ms = bucket_width_s(since, until, points) * 1000
    lo, hi = to_ms(since), to_ms(until)
    first_raw = store.execute("SELECT min(ts) FROM readings WHERE sensor_id = ? AND ts BETWEEN ? AND ?",
                              [sensor_id, lo, hi]).fetchone()[0]
    raw_from = first_raw if first_raw is not None else hi + 1
    rows = list(store.execute(
        "SELECT (ts / ?1) * ?1, count(*), min(value), max(value), sum(value) FROM readings"
        " WHERE sensor_id = ?2 AND ts BETWEEN ?3 AND ?4 GROUP BY ts / ?1", [width_ms, sensor_id, raw_from, hi]))
    if raw_from > lo:
        lo_min, hi_min = -(-lo // 60000), (raw_from - 1) // 60000  # whole minutes inside [lo, raw_from)
        lo_hour, hi_hour = -(-lo_min // 60), (hi_min + 1) // 60  # whole hours inside
        hi_hour = min(hi_hour, max(lo_hour, _rolled_up_until(store, sensor_id))) if width_ms >= HOUR_MS else hi_hour
        if width_ms >= HOUR_MS and lo_hour < hi_hour:
            rows += store.execute(
                "SELECT (hour * 3600000 / ?1) * ?1, sum(n), min(vmin), max(vmax), sum(total) FROM rollups"
                " WHERE sensor_id = ?2 AND hour >= ?3 AND hour < ?4 GROUP BY hour * 3600000 / ?1",
                [width_ms, sensor_id, lo_hour, hi_hour]).fetchall()
            edges = [(lo_min, min(lo_hour * 60, hi_min + 1)), (max(hi_hour * 60, lo_min), hi_min + 1)]
        else:
            edges = [(lo_min, hi_min + 1)]
        for a, b in edges:
            if a < b:
                rows += store.execute(
                    "SELECT (minute * 60000 / ?1) * ?1, sum(n), min(vmin), max(vmax), sum(mean * n) FROM aggregates"
                    " WHERE sensor_id = ?2 AND minute >= ?3 AND minute < ?4 GROUP BY minute * 60000 / ?1",
                    [width_ms, sensor_id, a, b]).fetchall()
    merged = _merge(rows)
    return [Bucket(start, n, vmin, vmax, total / n) for start, (n, vmin, vmax, total) in sorted(merged.items())]
