"""Who writes what: the tables a process other than ``ikb-agent run`` may write, and how they are enforced.

``ikb-agent run`` writes the evidence and everything derived from it (readings, sensors, events, the
per-day cache, roll-ups, the score snapshot, alerts and their outbox). The web process reads all of that
through a read-only connection and writes, through a second connection, only what a person does on the
page: :data:`WEB_WRITES`. That connection's SQLite authorizer refuses any other write at statement
preparation ("not authorized"), whatever code issues it. docs/ARCHITECTURE.md tells the whole story.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class Writes:
    """What a connection may do to one table: insert rows, delete rows, update these columns (None: any)."""

    insert: bool = False
    delete: bool = False
    update: frozenset[str] | None = frozenset()


# The web process: accounts and logins, API tokens, its own settings, what the farmer records (logbook
# entries, answers, documents, uploads, housing orders) and acknowledging an alert.
WEB_WRITES: Mapping[str, Writes] = {
    "users": Writes(insert=True, update=None),
    "api_tokens": Writes(insert=True, update=frozenset({"revoked_at"})),
    "login_failures": Writes(insert=True, delete=True),
    # Server-side sessions: logging in, the last-seen stamp, logging out (issue 13).
    "web_sessions": Writes(insert=True, delete=True, update=frozenset({"last_seen", "ended_at", "ended_why"})),
    "kv": Writes(insert=True, update=frozenset({"value"})),  # web.secret_key, the kiosk link
    "logbook": Writes(insert=True),
    "assessments": Writes(insert=True),
    "documents": Writes(insert=True),
    "files": Writes(insert=True),
    "housing_orders": Writes(insert=True),
    # An acknowledgement stops an alert's repeats: the alert's ack columns, its pending repeats, the link used.
    "alerts": Writes(update=frozenset({"acked_at", "acked_by", "acked_via", "next_repeat_at"})),
    "outbox": Writes(update=frozenset({"state", "last_error"})),
    "ack_tokens": Writes(update=frozenset({"used_at", "used_by"})),
}

_READS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_TRANSACTION,
          sqlite3.SQLITE_SAVEPOINT, sqlite3.SQLITE_PRAGMA, sqlite3.SQLITE_RECURSIVE}


def authorizer(allowed: Mapping[str, Writes]):
    """Return an SQLite authorizer callback that permits reading everything and writing only ``allowed``."""
    def check(action: int, arg1, arg2, _db, _trigger) -> int:
        if action in _READS:
            return sqlite3.SQLITE_OK
        writes = allowed.get(arg1) if isinstance(arg1, str) else None
        if writes is not None:
            if action == sqlite3.SQLITE_INSERT and writes.insert:
                return sqlite3.SQLITE_OK
            if action == sqlite3.SQLITE_DELETE and writes.delete:
                return sqlite3.SQLITE_OK
            if action == sqlite3.SQLITE_UPDATE and (writes.update is None or arg2 in writes.update):
                return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY

    return check
