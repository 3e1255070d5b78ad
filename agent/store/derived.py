"""The sensor rules' per-day cache (``derived_days``) and its change marks (``derived_marks``).

What a day holds is decided in ``agent.evaluation.derived``; this module only keeps it. Triggers on
``readings`` and ``aggregates`` (``agent.store.schema``) note every (sensor, hour) new data touched in
``derived_marks``. Readers take the marks into account without consuming them
(:func:`pending_marks`); only ``ikb-agent run`` consumes them and deletes the days they made stale
(:func:`consume_marks`), and stores newly derived days (:func:`store_days`).
"""

from __future__ import annotations

from typing import Callable, Iterable

from agent.store.connection import Store

DayKey = tuple[str, str, str]  # (family, subject, day)


def cached_days(store: Store, family: str, subject: str, first: str, last: str) -> list[tuple[str, str, str]]:
    """Return the cached (day, version, result) of a subject for the days ``first`` … ``last`` (ISO dates)."""
    return store.execute("SELECT day, version, result FROM derived_days WHERE family = ? AND subject = ?"
                         " AND day BETWEEN ? AND ?", [family, subject, first, last]).fetchall()


def pending_marks(store: Store) -> list[tuple[int, int]]:
    """Return the (sensor, hour) marks of data that arrived after the cached days were derived."""
    return store.execute("SELECT sensor_id, hour FROM derived_marks").fetchall()


def consume_marks(store: Store, stale: Callable[[list[tuple[int, int]]], Iterable[DayKey]]) -> int:
    """Take every mark and delete the cached days ``stale(marks)`` names, in one transaction; return how many."""
    with store.transaction() as db:
        # One statement takes the marks and empties the table, so a mark written meanwhile is never lost.
        marks = db.execute("DELETE FROM derived_marks RETURNING sensor_id, hour").fetchall()
        if not marks:
            return 0
        keys = list(stale([tuple(m) for m in marks]))
        db.conn.executemany("DELETE FROM derived_days WHERE family = ? AND subject = ? AND day = ?", keys)
    return len(keys)


DAY_COLUMNS = ("family", "subject", "day", "version", "start", "end", "result", "computed_at")


def store_days(store: Store, rows: list[tuple]) -> None:
    """Write derived days (family, subject, day, version, start, end, result, computed_at), replacing older ones."""
    with store.transaction() as db:
        db["derived_days"].upsert_all((dict(zip(DAY_COLUMNS, r)) for r in rows), pk=("family", "subject", "day"))
