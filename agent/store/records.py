"""The farmer's records besides the logbooks: self-assessment answers, documents, housing orders.

All three tables are append-only within their retention (``agent.store.schema``); a housing order is
corrected by a row that supersedes it. What a record means is ``agent.logbooks``' and ``rules``'
business; this module holds the tables' SQL. Rows are returned as dicts of the table's columns.
"""

from __future__ import annotations

from agent.store.connection import Store

DOCUMENT_COLUMNS = ("id, rule, kind, title, issued_on, valid_until, location, note, file_id, recorded_by,"
                    " recorded_at")
ANSWER_COLUMNS = "id, rule, location, status, note, answered_by, answered_at, file_id"


# --------------------------------------------------------------------------- self-assessment answers


def insert_answer(db, *, rule: str, location: str | None, status: str, note: str, answered_by: str,
                  answered_at: str, file_id: int | None, keep_until: str) -> int:
    """Append an answer inside the caller's transaction; return its id."""
    return db.execute(
        "INSERT INTO assessments(rule, location, status, note, answered_by, answered_at, file_id, keep_until)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [rule, location, status, note, answered_by, answered_at, file_id, keep_until]).lastrowid


def answer_rows(store: Store, rule: str | None = None, *, newest_first: bool = False) -> list[dict]:
    """Return the answers (to one rule), oldest first or newest first."""
    order = "answered_at DESC, id DESC" if newest_first else "answered_at, id"
    if rule is None:
        return store.query(f"SELECT {ANSWER_COLUMNS} FROM assessments ORDER BY {order}")
    return store.query(f"SELECT {ANSWER_COLUMNS} FROM assessments WHERE rule = ? ORDER BY {order}", [rule])


# --------------------------------------------------------------------------- documents


def insert_document(db, *, rule: str, kind: str, title: str, issued_on: str, valid_until: str | None,
                    location: str | None, note: str, file_id: int | None, recorded_by: str, recorded_at: str,
                    keep_until: str) -> int:
    """Append a document record inside the caller's transaction; return its id."""
    return db.execute(
        "INSERT INTO documents(rule, kind, title, issued_on, valid_until, location, note, file_id,"
        " recorded_by, recorded_at, keep_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [rule, kind, title, issued_on, valid_until, location, note, file_id, recorded_by, recorded_at,
         keep_until]).lastrowid


def document_rows(store: Store, rule: str | None = None, *, newest_first: bool = False) -> list[dict]:
    """Return the document records (of one rule), by issue date (newest first when asked)."""
    order = "issued_on DESC, id DESC" if newest_first else "issued_on, id"
    if rule is None:
        return store.query(f"SELECT {DOCUMENT_COLUMNS} FROM documents ORDER BY {order}")
    return store.query(f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE rule = ? ORDER BY {order}", [rule])


def get_document(store: Store, document_id: int) -> dict | None:
    """Return one document record, or None."""
    rows = store.query(f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = ?", [document_id])
    return rows[0] if rows else None


def has_documents(store: Store) -> bool:
    """Return whether any document was recorded."""
    return bool(store.execute("SELECT 1 FROM documents LIMIT 1").fetchone())


# --------------------------------------------------------------------------- housing orders (H3.12.11)


def housing_order_rows(store: Store) -> list[dict]:
    """Return the orders no later row supersedes (id, starts_on, ends_on, note), by first day."""
    return store.query(
        "SELECT id, starts_on, ends_on, note FROM housing_orders h"
        " WHERE NOT EXISTS (SELECT 1 FROM housing_orders n WHERE n.supersedes = h.id) ORDER BY starts_on, id")


def insert_housing_order(db, *, starts_on: str, ends_on: str | None, note: str, supersedes: int | None,
                         recorded_by: str, recorded_at: str, keep_until: str) -> int:
    """Append a housing-order row inside the caller's transaction; return its id."""
    return db.execute(
        "INSERT INTO housing_orders(starts_on, ends_on, note, supersedes, recorded_by, recorded_at, keep_until)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [starts_on, ends_on, note, supersedes, recorded_by, recorded_at, keep_until]).lastrowid
