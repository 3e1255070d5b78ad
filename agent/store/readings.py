"""Sensor readings in SQLite: the sensor registry, batched inserts, and series queries.

Readings are keyed by (sensor, timestamp in integer milliseconds UTC); a
redelivered message with the same timestamp is a duplicate and is not stored
twice. Raw readings are kept for the recent window, per-minute aggregates for
years; :func:`series` reads whichever covers the asked window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from agent.store.connection import Store, StoreError
from agent.store.schema import RECENT_KEY, recent_id


@dataclass(frozen=True, slots=True)
class SensorRow:
    """A configured sensor as stored (its id is stable across restarts)."""

    id: int
    topic: str
    field: str
    kind: str
    location: str


def to_ms(moment: datetime) -> int:
    """Return integer milliseconds since the epoch for an aware moment."""
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """Return the aware UTC moment of integer milliseconds since the epoch."""
    return datetime.fromtimestamp(ms / 1000, timezone.utc)


def sync_sensors(store: Store, sensors, now: datetime) -> dict[tuple[str, str], SensorRow]:
    """Register configured sensors (never deleting old ones); return them by (topic, field)."""
    with store.transaction() as db:
        for s in sensors:
            field = s.field or ""
            db.execute(
                "INSERT INTO sensors(topic, field, kind, location, created_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(topic, field) DO UPDATE SET kind = excluded.kind, location = excluded.location",
                [s.topic, field, s.kind, s.location, to_ms(now)],
            )
    rows = store.query("SELECT id, topic, field, kind, location FROM sensors")
    configured = {(s.topic, s.field or "") for s in sensors}
    found = {(r["topic"], r["field"]): SensorRow(**r) for r in rows if (r["topic"], r["field"]) in configured}
    for row in found.values():
        if not 0 <= row.id < RECENT_KEY:  # readings_recent's key holds the sensor in its low 20 bits (schema m011)
            raise StoreError(store.path, "sensor_id", {"topic": row.topic, "id": row.id, "most": RECENT_KEY - 1})
    return found


# The smaller / larger of two columns ``a`` and ``b`` of which either may be NULL (SQLite's min(a, b) is
# NULL then). An aggregate over the ``readings`` view reads every row of both tables, so the store asks
# readings_main and readings_recent each (their primary keys answer min and max at once) and takes these.
LEAST = "coalesce(min(a, b), a, b)"
GREATEST = "coalesce(max(a, b), a, b)"


def first_raw_ms(db, sensor_id: int, lo: int, hi: int) -> int | None:
    """Return the moment (ms) of a sensor's earliest raw reading in ``[lo, hi)``, or None."""
    return db.execute(f"SELECT {LEAST} FROM (SELECT"
                      " (SELECT min(ts) FROM readings_main WHERE sensor_id = ?1 AND ts >= ?2 AND ts < ?3) AS a,"
                      " (SELECT min(ts) FROM readings_recent WHERE sensor_id = ?1 AND ts >= ?2 AND ts < ?3"
                      f" AND id >= {recent_id('?2', '0')} AND id < {recent_id('?3', '0')}) AS b)",
                      [sensor_id, lo, hi]).fetchone()[0]


def insert_readings(db, rows) -> int:
    """Insert (sensor_id, ts_ms, value) rows inside the caller's transaction; return how many were new.

    Duplicates of an existing (sensor, timestamp) are ignored: MQTT QoS 1 may
    deliver a message twice.
    """
    # Straight into readings_main (a bulk load: history), unless the live agent holds the reading in
    # readings_recent (agent.store.schema m010).
    before = db.conn.total_changes
    db.conn.executemany("INSERT OR IGNORE INTO readings_main(sensor_id, ts, value) SELECT ?1, ?2, ?3"
                        f" WHERE NOT EXISTS (SELECT 1 FROM readings_recent WHERE id = {recent_id('?2', '?1')})", rows)
    return db.conn.total_changes - before


def series(store: Store, sensor_id: int, since: datetime, until: datetime) -> list[tuple[int, float]]:
    """Return (ts_ms, value) pairs of one sensor in [since, until], oldest first.

    Raw readings where they exist; for older stretches, the per-minute means of
    the aggregates (stamped at the start of their minute).
    """
    lo, hi = to_ms(since), to_ms(until)
    raw = store.execute("SELECT ts, value FROM readings WHERE sensor_id = ? AND ts BETWEEN ? AND ? ORDER BY ts",
                        [sensor_id, lo, hi]).fetchall()
    first_raw = raw[0][0] if raw else hi + 1
    if first_raw <= lo:
        return raw
    # Bounds on the bare column, so the primary key (sensor_id, minute) serves the range.
    agg = store.execute("SELECT minute * 60000, mean FROM aggregates WHERE sensor_id = ? AND minute >= ?"
                        " AND minute < ? ORDER BY minute", [sensor_id, -(-lo // 60000), -(-first_raw // 60000)]
                        ).fetchall()
    return agg + raw


def sensors_at(store: Store, location: str, kind: str) -> list[SensorRow]:
    """Return the stored sensors of one kind at one location."""
    rows = store.query("SELECT id, topic, field, kind, location FROM sensors WHERE location = ? AND kind = ?",
                       [location, kind])
    return [SensorRow(**r) for r in rows]


def list_sensors(store: Store) -> list[dict]:
    """Return every stored sensor (id, topic, field, kind, location), by id."""
    return store.query("SELECT id, topic, field, kind, location FROM sensors ORDER BY id")


def get_sensor(store: Store, sensor_id: int) -> dict | None:
    """Return one stored sensor, or None."""
    rows = store.query("SELECT id, topic, field, kind, location FROM sensors WHERE id = ?", [sensor_id])
    return rows[0] if rows else None


def sensor_registry(store: Store) -> list[dict]:
    """Return every stored sensor with its registration moment and learned interval (id, topic, field,
    created_at, interval_s)."""
    return store.query("SELECT s.id, s.topic, s.field, s.created_at, h.interval_s FROM sensors s"
                       " LEFT JOIN sensor_health h ON h.sensor_id = s.id")


def last_reading(db, sensor_id: int, at_or_before: int | None = None) -> tuple[int, float] | None:
    """Return the newest stored (ts_ms, value) of a sensor (at or before a moment), or None.

    ``db`` is anything with ``execute``: a Store, or the connection of an open transaction (ingestion).
    """
    # Each table in its own order (the view would sort readings_recent): readings_main by its key,
    # readings_recent backwards from its newest row, whose key is in time order (schema m011).
    if at_or_before is None:
        main = db.execute("SELECT ts, value FROM readings_main WHERE sensor_id = ? ORDER BY ts DESC LIMIT 1",
                          (sensor_id,)).fetchone()
        recent = db.execute("SELECT ts, value FROM readings_recent WHERE sensor_id = ? ORDER BY id DESC LIMIT 1",
                            (sensor_id,)).fetchone()
    else:
        main = db.execute("SELECT ts, value FROM readings_main WHERE sensor_id = ? AND ts <= ?"
                          " ORDER BY ts DESC LIMIT 1", (sensor_id, at_or_before)).fetchone()
        recent = db.execute("SELECT ts, value FROM readings_recent WHERE sensor_id = ? AND ts <= ?"
                            f" AND id < {recent_id('(? + 1)', '0')} ORDER BY id DESC LIMIT 1",
                            (sensor_id, at_or_before, at_or_before)).fetchone()
    row = max((r for r in (main, recent) if r is not None), default=None, key=lambda r: r[0])
    return (row[0], row[1]) if row else None


def last_seen(store: Store, sensor_ids: list[int]) -> dict[int, int]:
    """Return when each of the sensors was last heard (ms), as ingestion noted it; unheard ones are left out."""
    if not sensor_ids:
        return {}
    rows = store.query(f"SELECT sensor_id, last_seen FROM sensor_health WHERE sensor_id IN"
                       f" ({','.join('?' * len(sensor_ids))}) AND last_seen IS NOT NULL", list(sensor_ids))
    return {r["sensor_id"]: r["last_seen"] for r in rows}


def first_reading_ms(store: Store, sensor_id: int) -> int | None:
    """Return the moment (ms) of a sensor's oldest stored reading, raw or aggregated, or None."""
    # Two primary-key seeks: the oldest raw reading and the oldest aggregated minute.
    raw = store.execute(f"SELECT {LEAST} FROM (SELECT (SELECT min(ts) FROM readings_main WHERE sensor_id = ?1) AS a,"
                        " (SELECT min(ts) FROM readings_recent WHERE sensor_id = ?1) AS b)", [sensor_id]).fetchone()[0]
    agg = store.execute("SELECT min(minute) FROM aggregates WHERE sensor_id = ?", [sensor_id]).fetchone()[0]
    found = [t for t in (raw, agg * 60_000 if agg is not None else None) if t is not None]
    return min(found) if found else None


def newest_reading_ms(store: Store) -> int | None:
    """Return the moment (ms) of the newest raw reading of any sensor, or None."""
    # Per table: an aggregate over the ``readings`` view would read every row.
    return store.execute(f"SELECT {GREATEST} FROM (SELECT (SELECT max(ts) FROM readings_main) AS a,"
                         " (SELECT ts FROM readings_recent ORDER BY id DESC LIMIT 1) AS b)").fetchone()[0]


def heard_between(store: Store, sensor_id: int, lo: int, hi: int) -> bool:
    """Return whether a sensor has any reading (raw or aggregated) in ``[lo, hi)`` (ms)."""
    if store.execute("SELECT 1 FROM readings WHERE sensor_id = ? AND ts >= ? AND ts < ? LIMIT 1",
                     [sensor_id, lo, hi]).fetchone():
        return True
    return bool(store.execute("SELECT 1 FROM aggregates WHERE sensor_id = ? AND minute >= ? AND minute < ? LIMIT 1",
                              [sensor_id, lo // 60_000, (hi + 59_999) // 60_000]).fetchone())


def reading_stamps(store: Store, sensor_id: int, lo: int, hi: int) -> list[int]:
    """Return the moments (ms) of a sensor's readings in ``[lo, hi]``, raw and aggregated minutes alike."""
    return [ts for (ts,) in store.execute(
        "SELECT ts FROM readings WHERE sensor_id = ? AND ts BETWEEN ? AND ?"
        " UNION SELECT minute * 60000 FROM aggregates WHERE sensor_id = ? AND minute * 60000 BETWEEN ? AND ?",
        [sensor_id, lo, hi, sensor_id, lo, hi]).fetchall()]


def sensors_of_kind(store: Store, kind: str) -> list[SensorRow]:
    """Return the stored sensors of one kind, wherever they are."""
    rows = store.query("SELECT id, topic, field, kind, location FROM sensors WHERE kind = ?", [kind])
    return [SensorRow(**r) for r in rows]


def rejection_counts(store: Store) -> list[dict]:
    """Return the rejected messages counted by reason (``reason``, ``n``, ``last_at`` ms), most first."""
    return store.query("SELECT reason, n, last_at FROM rejection_counts ORDER BY n DESC, reason")


INTERVAL_SAMPLE = 64  # readings an interval is judged on
INTERVAL_MIN_GAPS = 8  # gaps needed before it is


def reading_interval(store: Store, sensor_id: int) -> float | None:
    """Return a sensor's interval in seconds from its stored readings: the 90th percentile of the latest gaps.

    A function of what is stored, not of the order it arrived in: a replay, a backlog and the live feed
    of the same readings give the same interval. None with too few readings.
    """
    stamps = [r[0] for r in store.execute("SELECT ts FROM readings WHERE sensor_id = ? ORDER BY ts DESC LIMIT ?",
                                          [sensor_id, INTERVAL_SAMPLE + 1])]
    if len(stamps) <= INTERVAL_MIN_GAPS:
        stamps = [r[0] * 60_000 for r in store.execute(
            "SELECT minute FROM aggregates WHERE sensor_id = ? ORDER BY minute DESC LIMIT ?",
            [sensor_id, INTERVAL_SAMPLE + 1])]
    if len(stamps) <= INTERVAL_MIN_GAPS:
        return None
    gaps = sorted(a - b for a, b in zip(stamps, stamps[1:]))
    return gaps[min(len(gaps) - 1, int(len(gaps) * 0.9))] / 1000
