"""Retention of sensor readings: full resolution for a recent window, then per-minute aggregates.

Raw readings older than ``[storage] raw_retention_days`` (default 35) are rolled
into ``aggregates(sensor_id, minute, n, vmin, vmax, mean)`` and removed; the
aggregates are kept ``aggregate_retention_days`` (≥ 731: two years, A9.1).
State sensors (alarm panel, generator, mains, pop-hole) keep their *changes* as
raw readings for as long as the aggregates: the exact start and end of an alarm
episode or a mains outage stays evidence; only the unchanged heartbeat rows go.

Rolling up is idempotent and resumable: each sensor-day is one transaction that
adds to the aggregates (merging with a minute already rolled up) and deletes
the raw rows it covered.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from agent.store.connection import Store
from agent.store.readings import first_raw_ms, to_ms
from rules.kinds import KINDS

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
MINUTE_MS = 60_000
# kv row: per state sensor, the moment up to which its readings were rolled up (its kept
# change rows lie below it and must not be aggregated twice).
WATERMARK_KEY = "retention.state_rolled_until"


@dataclass
class RollUp:
    """What one roll-up run did."""

    aggregated: int = 0  # raw readings folded into aggregates
    kept_changes: int = 0  # state readings kept because they are changes
    aggregates_expired: int = 0


def roll_up(store: Store, now: datetime, *, raw_retention_days: int, aggregate_retention_days: int,
            max_days: int | None = None) -> RollUp:
    """Fold raw readings older than the raw window into per-minute aggregates; expire old aggregates.

    ``max_days`` bounds the work of one run (sensor-days); the next run continues.
    """
    cutoff = to_ms(now - timedelta(days=raw_retention_days)) // MINUTE_MS * MINUTE_MS
    expire_before = to_ms(now - timedelta(days=aggregate_retention_days)) // MINUTE_MS
    result = RollUp()
    budget = max_days
    marks = {int(k): v for k, v in json.loads(store.get_kv(WATERMARK_KEY) or "{}").items()}
    for sensor in store.query("SELECT id, kind FROM sensors ORDER BY id"):
        sid = sensor["id"]
        is_state = sensor["kind"] in KINDS and KINDS[sensor["kind"]].is_state
        floor = marks.get(sid, 0) if is_state else 0
        start = _first(store, sid, floor, cutoff)
        while start is not None:
            if budget is not None:
                if budget <= 0:
                    return result
                budget -= 1
            end = min(cutoff, (start // DAY_MS + 1) * DAY_MS)
            _roll_day(store, sid, is_state, start, end, result, marks)
            start = _first(store, sid, end, cutoff)
        with store.transaction(immediate=True) as db:
            result.aggregates_expired += db.execute(
                "DELETE FROM aggregates WHERE sensor_id = ? AND minute < ?", [sid, expire_before]).rowcount
    if result.aggregated:
        log.info("rolled %d raw readings into aggregates (%d state changes kept)", result.aggregated,
                 result.kept_changes)
    return result


def _first(store: Store, sid: int, lo: int, hi: int) -> int | None:
    """Return the earliest raw reading of a sensor in [lo, hi), or None."""
    return first_raw_ms(store, sid, lo, hi)


def _roll_day(store: Store, sid: int, is_state: bool, start: int, end: int, result: RollUp,
              marks: dict[int, int]) -> None:
    """Aggregate and remove one sensor's raw readings in [start, end) in one transaction."""
    with store.transaction(immediate=True) as db:
        db.execute(
            "INSERT INTO aggregates(sensor_id, minute, n, vmin, vmax, mean)"
            " SELECT sensor_id, ts / 60000, count(*), min(value), max(value), avg(value) FROM readings"
            " WHERE sensor_id = ? AND ts >= ? AND ts < ? GROUP BY ts / 60000"
            " ON CONFLICT(sensor_id, minute) DO UPDATE SET"
            " mean = (mean * n + excluded.mean * excluded.n) / (n + excluded.n),"
            " n = n + excluded.n, vmin = min(vmin, excluded.vmin), vmax = max(vmax, excluded.vmax)",
            [sid, start, end])
        if is_state:
            # Keep the changes (the first reading, and each whose value differs from the one before).
            total = db.execute("SELECT count(*) FROM readings WHERE sensor_id = ? AND ts >= ? AND ts < ?",
                               [sid, start, end]).fetchone()[0]
            deleted = db.execute(
                "DELETE FROM readings_main WHERE sensor_id = ? AND ts IN ("
                " SELECT ts FROM (SELECT ts, value, lag(value) OVER (ORDER BY ts) AS prev FROM readings"
                "  WHERE sensor_id = ? AND ts < ?) WHERE ts >= ? AND prev = value)",
                [sid, sid, end, start]).rowcount
            result.kept_changes += total - deleted
            marks[sid] = end
            db.execute("INSERT INTO kv(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       [WATERMARK_KEY, json.dumps(marks)])
        else:
            total = db.execute("DELETE FROM readings_main WHERE sensor_id = ? AND ts >= ? AND ts < ?",
                               [sid, start, end]).rowcount
        result.aggregated += total
