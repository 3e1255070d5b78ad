"""Episodes in ``events``: sensors gone silent (ingestion), generator tests, mains outages and the alarm
panels' test alarms (``run``).

Times in integer milliseconds UTC; ``detail`` is a JSON object. An episode is identified by
(kind, location, start); one still running has no ``end`` yet.
"""

from __future__ import annotations

import json
from typing import Iterable

from agent.store.connection import Store


def record_episodes(store: Store, rows: Iterable[tuple[str, str | None, int, int | None, str]], *,
                    reconcile: tuple[tuple[str, ...], int, int] | None = None, keep: set[int] = frozenset()) -> int:
    """Store (kind, location, start, end, detail) episodes once each; return how many rows changed.

    Idempotent: an episode already stored is left alone, except that one stored while still running
    gets its end and detail once it has ended (an ended one never turns back into a running one), and
    one that readings arriving late lengthened gets its new end. ``reconcile`` = (kinds, lo, hi): the
    episodes given are all there are of those kinds starting in ``[lo, hi)``; a stored one not among
    them, and not in ``keep`` (ids a logbook entry refers to), is removed.
    """
    rows = list(rows)
    changed = 0
    with store.transaction(immediate=True) as db:
        for kind, location, start, end, detail in rows:
            existing = db.execute('SELECT id, "end", detail FROM events WHERE kind = ? AND location IS ? AND start = ?',
                                  [kind, location, start]).fetchone()
            if existing is None:
                db.execute('INSERT INTO events(kind, location, start, "end", detail) VALUES (?, ?, ?, ?, ?)',
                           [kind, location, start, end, detail])
                changed += 1
            elif (end, detail) != (existing[1], existing[2]) and not (end is None and existing[1] is not None):
                db.execute('UPDATE events SET "end" = ?, detail = ? WHERE id = ?', [end, detail, existing[0]])
                changed += 1
        if reconcile is not None:
            kinds, lo, hi = reconcile
            found = {(kind, location, start) for kind, location, start, _e, _d in rows}
            marks = ",".join("?" * len(kinds))
            for event_id, kind, location, start in db.execute(
                    f"SELECT id, kind, location, start FROM events WHERE kind IN ({marks}) AND start >= ?"
                    " AND start < ?", [*kinds, lo, hi]).fetchall():
                if (kind, location, start) not in found and event_id not in keep:
                    db.execute("DELETE FROM events WHERE id = ?", [event_id])
                    changed += 1
    return changed


def record_episode(store: Store, kind: str, location: str | None, start: int, end: int | None, detail: str) -> int:
    """Return the id of the episode (kind, location, start), recording it first when it is not stored yet."""
    with store.transaction(immediate=True) as db:
        row = db.execute("SELECT id FROM events WHERE kind = ? AND location IS ? AND start = ?",
                         [kind, location, start]).fetchone()
        if row is not None:
            return row[0]
        return db.execute('INSERT INTO events(kind, location, start, "end", detail) VALUES (?, ?, ?, ?, ?)',
                          [kind, location, start, end, detail]).lastrowid


def episode_ids(store: Store, kind: str) -> dict[tuple[str | None, int], int]:
    """Return the stored episodes of a kind as (location, start) → event id."""
    return {(location, start): event_id for event_id, location, start in store.execute(
        "SELECT id, location, start FROM events WHERE kind = ?", [kind]).fetchall()}


def finished_episodes(store: Store, kind: str, until_ms: int) -> list[dict]:
    """Return the stored episodes of a kind that ended by ``until_ms``, oldest first (with their detail)."""
    rows = store.query('SELECT id, location, start, "end", detail FROM events WHERE kind = ?'
                       ' AND "end" IS NOT NULL AND "end" <= ? ORDER BY start', [kind, until_ms])
    for r in rows:
        try:
            detail = json.loads(r["detail"] or "{}")
        except ValueError:
            detail = {}
        r["detail"] = detail if isinstance(detail, dict) else {}
    return rows


def offline_candidates(db, sensor_ids: list[int]) -> list[tuple]:
    """Return (id, location, kind, topic, created_at, last_seen, interval_s) of the sensors among ``sensor_ids``
    without an open ``sensor_offline`` event (``db``: a Store, or an open transaction)."""
    marks = ",".join("?" * len(sensor_ids))
    return db.execute(
        f"SELECT s.id, s.location, s.kind, s.topic, s.created_at, h.last_seen, h.interval_s FROM sensors s"
        f" LEFT JOIN sensor_health h ON h.sensor_id = s.id WHERE s.id IN ({marks}) AND NOT EXISTS ("
        " SELECT 1 FROM events e WHERE e.kind = 'sensor_offline' AND e.sensor_id = s.id AND e.\"end\" IS NULL)",
        list(sensor_ids)).fetchall()


def open_offline_event(db, sensor_id: int, location: str, start: int, detail: str) -> None:
    """Record inside the caller's transaction that a sensor has been silent since ``start`` (ms)."""
    db.execute("INSERT INTO events(kind, location, sensor_id, start, \"end\", detail)"
               " VALUES ('sensor_offline', ?, ?, ?, NULL, ?)", [location, sensor_id, start, detail])


def close_offline_events(db, heard: dict[int, int]) -> list[int]:
    """End, inside the caller's transaction, the open offline events of sensors heard after they began;
    ``heard``: sensor → the moment (ms) it was heard. Return the sensors that came back."""
    back = []
    for event_id, sid, start in db.execute("SELECT id, sensor_id, start FROM events WHERE kind = 'sensor_offline'"
                                           " AND \"end\" IS NULL").fetchall():
        if sid in heard and heard[sid] > start:
            db.execute("UPDATE events SET \"end\" = ? WHERE id = ?", (heard[sid], event_id))
            back.append(sid)
    return back


def sensor_health_rows(store: Store) -> list[dict]:
    """Return every sensor with what ingestion knows of it (last_seen, last_value, interval_s) and the start of
    its open offline event (offline_since), by location, kind and id.

    `run` writes ``sensor_health`` every ten minutes; a live reading stored since (``readings_recent``, one
    scan of it) is newer, and its moment and value are taken instead.
    """
    return store.query(
        "SELECT s.id, s.topic, s.field, s.kind, s.location,"
        " CASE WHEN r.ts > coalesce(h.last_seen, r.ts - 1) THEN r.ts ELSE h.last_seen END AS last_seen,"
        " CASE WHEN r.ts > coalesce(h.last_seen, r.ts - 1) THEN r.value ELSE h.last_value END AS last_value,"
        " h.interval_s,"
        " (SELECT min(e.start) FROM events e WHERE e.kind = 'sensor_offline' AND e.sensor_id = s.id"
        "  AND e.\"end\" IS NULL) AS offline_since"
        " FROM sensors s LEFT JOIN sensor_health h ON h.sensor_id = s.id"
        " LEFT JOIN (SELECT sensor_id, max(ts) AS ts, value FROM readings_recent GROUP BY sensor_id) r"
        " ON r.sensor_id = s.id ORDER BY s.location, s.kind, s.id")


def offline_events_after(store: Store, last_id: int) -> list[dict]:
    """Return the ``sensor_offline`` events after row ``last_id`` with their sensor's kind and topic, oldest first."""
    return store.query('SELECT e.id, e.location, e.sensor_id, e.start, e."end", s.kind, s.topic FROM events e'
                       " LEFT JOIN sensors s ON s.id = e.sensor_id WHERE e.id > ? AND e.kind = 'sensor_offline'"
                       " ORDER BY e.id", [last_id])


def event_ended(store: Store, event_id) -> bool:
    """Return whether an event has an end."""
    return bool(store.execute('SELECT 1 FROM events WHERE id = ? AND "end" IS NOT NULL', [event_id]).fetchone())


def events_between(store: Store, lo_ms: int, hi_ms: int) -> list[dict]:
    """Return every event that started in ``[lo_ms, hi_ms)``, oldest first."""
    return store.query('SELECT id, kind, location, start, "end", detail FROM events'
                       " WHERE start >= ? AND start < ? ORDER BY start, id", [lo_ms, hi_ms])
