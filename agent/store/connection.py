"""Open the SQLite database: WAL, foreign keys, durable commits, migrations applied.

The schema itself lives in :mod:`agent.store.schema`; the query functions of each
table family live beside this module and receive a :class:`Store`. Three kinds of
connection: read-write (``ikb-agent run`` and the CLI), read-only (``mode=ro``: the
web process's evidence), and restricted (``writes``: the web process's own writes,
see :mod:`agent.store.owners`).
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Mapping

from sqlite_utils import Database

from agent.store.owners import Writes, authorizer
from agent.store.schema import migrations
from rules.errors import IkbError
from rules.texts import N_


class StoreError(IkbError):
    """The database cannot be used; the message says why and what to do."""

    messages = {
        "unusable": N_("geen bruikbare SQLite-database ({detail})"),
        "newer": N_("geschreven door een nieuwere ikb-agent (schemastap {step} kent deze versie niet); installeer "
                    "die versie of nieuwer, of open een andere database"),
        "migrate": N_("kan het databaseschema niet bijwerken ({detail})"),
    }


class Store:
    """One SQLite database file, migrated to the current schema."""

    def __init__(self, path: str | Path, *, readonly: bool = False, writes: Mapping[str, Writes] | None = None):
        self.path = str(path)
        try:
            if readonly:
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False,
                                       timeout=30)
            else:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit is fsynced before we say "saved" (DESIGN §5).
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA busy_timeout = 30000")
        except sqlite3.DatabaseError as exc:
            raise StoreError(self.path, "unusable", {"detail": str(exc)}) from None
        self.db = Database(conn, execute_plugins=False)
        self.lock = threading.RLock()
        if not readonly:
            self._migrate()
        else:
            self._check_version()
        if writes is not None:
            # After the migrations: from here on, every write outside ``writes`` is refused.
            conn.set_authorizer(authorizer(writes))

    @property
    def conn(self) -> sqlite3.Connection:
        """Return the underlying sqlite3 connection."""
        return self.db.conn

    def _check_version(self) -> None:
        """Refuse a database written by a newer version of ikb-agent."""
        known = {m.name for m in migrations._migrations}
        unknown = [m.name for m in migrations.applied(self.db) if m.name not in known]
        if unknown:
            raise StoreError(self.path, "newer", {"step": unknown[0]})

    def _migrate(self) -> None:
        """Apply pending migrations, each in its own transaction."""
        try:
            self._check_version()
            migrations.apply(self.db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(self.path, "migrate", {"detail": str(exc)}) from None

    @contextmanager
    def transaction(self, *, immediate: bool = False):
        """Run a block in one transaction; committed (and fsynced) when it returns.

        ``immediate`` takes the write lock at the start: a transaction that reads and then
        writes while another connection writes (the ingest thread) would otherwise fail
        with "database is locked" instead of waiting.
        """
        with self.lock:
            if not immediate or self.conn.in_transaction:
                with self.db.atomic():
                    yield self.db
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def execute(self, sql: str, params=()) -> sqlite3.Cursor:
        """Run one statement (reads, or writes already inside `transaction()`)."""
        with self.lock:
            return self.db.execute(sql, params)

    def query(self, sql: str, params=()) -> list[dict]:
        """Return the rows of a query as dicts."""
        with self.lock:
            return list(self.db.query(sql, params))

    def max_id(self, table: str) -> int:
        """Return the highest ``id`` in a table (0 when empty): a watermark for polling it."""
        if not table.isidentifier():
            raise ValueError(f"not a table name: {table!r}")
        return self.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]

    def get_kv(self, key: str) -> str | None:
        """Return a stored setting."""
        row = self.query("SELECT value FROM kv WHERE key = ?", [key])
        return row[0]["value"] if row else None

    def set_kv(self, key: str, value: str) -> None:
        """Store a setting."""
        with self.transaction() as db:
            db.execute("INSERT INTO kv(key, value) VALUES (?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])

    def setdefault_kv(self, key: str, value: str) -> str:
        """Store a setting unless it exists; return the stored value (two processes starting at once agree)."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO kv(key, value) VALUES (?, ?)", [key, value])
        return self.get_kv(key)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()


def open_store(path: str | Path, *, readonly: bool = False, writes: Mapping[str, Writes] | None = None) -> Store:
    """Open the database at ``path``: creating and migrating it when needed, or read-only (``mode=ro``);
    ``writes``: refuse every write but these (the web process's own tables)."""
    return Store(path, readonly=readonly, writes=writes)
