"""Episodes in ``events``: sensors gone silent (ingestion), generator tests and mains outages (``run``).

Times in integer milliseconds UTC; ``detail`` is a JSON object. An episode is identified by
(kind, location, start); one still running has no ``end`` yet.
"""

from __future__ import annotations

import json
from typing import Iterable

from agent.store.connection import Store


def record_episodes(store: Store, rows: Iterable[tuple[str, str | None, int, int | None, str]]) -> int:
    """Store (kind, location, start, end, detail) episodes once each; return how many rows changed.

    Idempotent: an episode already stored is left alone, except that one stored while still running
    gets its end and detail once it has ended (an ended one never turns back into a running one).
    """
    rows = list(rows)
    if not rows:
        return 0
    changed = 0
    with store.transaction(immediate=True) as db:
        for kind, location, start, end, detail in rows:
            existing = db.execute('SELECT id, "end", detail FROM events WHERE kind = ? AND location IS ? AND start = ?',
                                  [kind, location, start]).fetchone()
            if existing is None:
                db.execute('INSERT INTO events(kind, location, start, "end", detail) VALUES (?, ?, ?, ?, ?)',
                           [kind, location, start, end, detail])
                changed += 1
            elif existing[1] is None and (end is not None or existing[2] != detail):
                db.execute('UPDATE events SET "end" = ?, detail = ? WHERE id = ?', [end, detail, existing[0]])
                changed += 1
    return changed


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


def events_between(store: Store, lo_ms: int, hi_ms: int) -> list[dict]:
    """Return every event that started in ``[lo_ms, hi_ms)``, oldest first."""
    return store.query('SELECT id, kind, location, start, "end", detail FROM events'
                       " WHERE start >= ? AND start < ? ORDER BY start, id", [lo_ms, hi_ms])
