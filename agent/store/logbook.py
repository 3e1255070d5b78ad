"""The ``logbook`` table: every logbook's entries, append-only and hash-chained per logbook.

What an entry means, how the chain is computed and validated is ``agent.logbooks``' business; this
module holds the table's SQL. A row is *current* when no later row supersedes it and it is not a
withdrawal (:data:`CURRENT`, used by :func:`current_rows` and every count of current entries). Rows are
returned as dicts of the table's columns, oldest first.
"""

from __future__ import annotations

from typing import Any

from agent.store.connection import Store

# A row is current when no later row supersedes it and it is not a withdrawal.
CURRENT = ("NOT EXISTS (SELECT 1 FROM logbook AS later WHERE later.supersedes = logbook.id)"
           " AND logbook.state != 'withdrawn'")
COLUMNS = ("id", "kind", "entry", "recorded_at", "recorded_by", "supersedes", "reason", "state", "prev_hash", "hash",
           "keep_until")


def logbook_rows(store: Store, kind: str | None = None) -> list[dict]:
    """Return every row (of one logbook, or of all), corrections and withdrawals included, oldest first."""
    sql = "SELECT * FROM logbook" + (" WHERE kind = ?" if kind else "") + " ORDER BY id"
    return store.query(sql, [kind] if kind else [])


def _current_sql(kind: str | None, state: str | None, fields: dict[str, Any] | None) -> tuple[str, list]:
    """Return the WHERE clause and parameters that select current rows."""
    sql, params = CURRENT, []
    if kind is not None:
        sql += " AND kind = ?"
        params.append(kind)
    if state is not None:
        sql += " AND state = ?"
        params.append(state)
    for name, value in (fields or {}).items():
        if not name.isidentifier():
            raise ValueError(f"not a field name: {name!r}")
        sql += f" AND json_extract(entry, '$.{name}') IS ?"
        params.append(value)
    return sql, params


def current_rows(store: Store, kind: str | None = None, *, state: str | None = None,
                 fields: dict[str, Any] | None = None) -> list[dict]:
    """Return the current rows (of one logbook; in one state; whose entry fields equal ``fields``), oldest first."""
    where, params = _current_sql(kind, state, fields)
    return store.query(f"SELECT * FROM logbook WHERE {where} ORDER BY id", params)


def count_current(store: Store, kind: str | None = None, *, state: str | None = None) -> int:
    """Return how many rows are current (of one logbook; in one state)."""
    where, params = _current_sql(kind, state, None)
    return store.execute(f"SELECT count(*) FROM logbook WHERE {where}", params).fetchone()[0]


def latest_entry_date(store: Store, kind: str, date_field: str) -> str | None:
    """Return the latest own date (``date_field``) among a logbook's current entries."""
    where, params = _current_sql(kind, None, None)
    if not date_field.isidentifier():
        raise ValueError(f"not a field name: {date_field!r}")
    return store.execute(f"SELECT max(json_extract(entry, '$.{date_field}')) FROM logbook WHERE {where}",
                         params).fetchone()[0]


def get_row(store: Store, entry_id: int) -> dict | None:
    """Return one row, or None."""
    rows = store.query("SELECT * FROM logbook WHERE id = ?", [entry_id])
    return rows[0] if rows else None


def last_row_id(store: Store) -> int | None:
    """Return the id of the newest row of any logbook (None when every logbook is empty)."""
    return store.execute("SELECT max(id) FROM logbook").fetchone()[0]


def rows_after(store: Store, last_id: int, limit: int = 1000) -> list[dict]:
    """Return (id, kind) of the rows after row ``last_id``, oldest first (for polling new entries)."""
    return store.query("SELECT id, kind FROM logbook WHERE id > ? ORDER BY id LIMIT ?", [last_id, limit])


def chain_tail(db, kind: str) -> tuple[int, str | None]:
    """Return the id the next row gets and the hash of the logbook's last row (None when empty).

    Call inside the IMMEDIATE transaction that inserts the row, so the chain cannot move meanwhile.
    """
    new_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM logbook").fetchone()[0]
    head = db.execute("SELECT hash FROM logbook WHERE kind = ? ORDER BY id DESC LIMIT 1", [kind]).fetchone()
    return new_id, head[0] if head else None


def insert_row(db, row: dict) -> None:
    """Insert one row (every column of :data:`COLUMNS`) inside the caller's transaction."""
    db.execute(f"INSERT INTO logbook({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
               [row[c] for c in COLUMNS])


def logbook_head(store: Store, kind: str) -> tuple[str, int] | None:
    """Return a logbook's last hash and its number of rows, or None when it is empty."""
    row = store.query("SELECT hash, (SELECT count(*) FROM logbook WHERE kind = ?) AS n FROM logbook WHERE kind = ?"
                      " ORDER BY id DESC LIMIT 1", [kind, kind])
    return (row[0]["hash"], row[0]["n"]) if row else None


def referenced_events(store: Store, kind: str) -> set[int]:
    """Return the sensor events any row of a logbook refers to (``event_id``: a draft, a confirmation, a withdrawal)."""
    rows = store.execute("SELECT json_extract(entry, '$.event_id') FROM logbook WHERE kind = ?"
                         " AND json_valid(entry)", [kind]).fetchall()
    return {int(r[0]) for r in rows if isinstance(r[0], int)}
