"""Open the SQLite database: WAL, foreign keys, durable commits, migrations applied.

The schema itself lives in :mod:`agent.store.schema`. Feature modules (readings,
logbooks, assessments, documents, users) keep their own queries and receive a
:class:`Store`.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from agent.store.schema import migrations


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""


# Dutch first (the farmer reads them), one place for the catalogue: what SQLite's errors mean on a farm.
STORAGE_PROBLEMS = {
    "full": "de schijf (SD-kaart) is vol: maak ruimte vrij; er is niets opgeslagen dat niet bevestigd was",
    "locked": "de database is bezet door een ander proces; probeer het zo opnieuw",
    "readonly": "de database is alleen-lezen (rechten of een beschadigde SD-kaart)",
    "io": "schijffout bij lezen of schrijven (SD-kaart defect?)",
    "not_db": "geen bruikbare SQLite-database",
    "cannot_open": "kan het databasebestand niet openen of aanmaken",
}


def storage_problem(exc: BaseException) -> str | None:
    """Return what a database error means for the farmer (Dutch), or None when it is no storage problem."""
    import errno

    if isinstance(exc, OSError) and not isinstance(exc, sqlite3.Error):
        return STORAGE_PROBLEMS["full"] if exc.errno == errno.ENOSPC else None
    if not isinstance(exc, sqlite3.Error):
        return None
    text = str(exc).lower()
    for needle, key in (("disk is full", "full"), ("database or disk is full", "full"), ("locked", "locked"),
                        ("busy", "locked"), ("readonly", "readonly"), ("disk i/o", "io"),
                        ("not a database", "not_db"), ("malformed", "not_db"), ("unable to open", "cannot_open")):
        if needle in text:
            return STORAGE_PROBLEMS[key]
    return None


class Store:
    """One SQLite database file, migrated to the current schema."""

    def __init__(self, path: str | Path, *, readonly: bool = False):
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
        except (sqlite3.Error, OSError, ValueError) as exc:  # ValueError: a NUL in the path
            why = storage_problem(exc) or (STORAGE_PROBLEMS["cannot_open"] if isinstance(exc, (OSError, ValueError))
                                           else STORAGE_PROBLEMS["not_db"])
            raise StoreError(f"{self.path}: {why} ({exc})") from None
        self.db = Database(conn, execute_plugins=False)
        self.lock = threading.RLock()
        if not readonly:
            self._migrate()
        else:
            self._check_version()

    @property
    def conn(self) -> sqlite3.Connection:
        """Return the underlying sqlite3 connection."""
        return self.db.conn

    def _check_version(self) -> None:
        """Refuse a database written by a newer version of ikb-agent."""
        known = {m.name for m in migrations._migrations}
        unknown = [m.name for m in migrations.applied(self.db) if m.name not in known]
        if unknown:
            raise StoreError(
                f"{self.path} was written by a newer ikb-agent (schema step {unknown[0]!r} is unknown "
                "to this version); install that version or newer, or open another database"
            )

    def _migrate(self) -> None:
        """Apply pending migrations, each in its own transaction."""
        try:
            self._check_version()
            migrations.apply(self.db)
        except sqlite3.DatabaseError as exc:
            why = storage_problem(exc) or "kan het databaseschema niet bijwerken"
            raise StoreError(f"{self.path}: {why} ({exc})") from None

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

    def get_kv(self, key: str) -> str | None:
        """Return a stored setting."""
        row = self.query("SELECT value FROM kv WHERE key = ?", [key])
        return row[0]["value"] if row else None

    def set_kv(self, key: str, value: str) -> None:
        """Store a setting."""
        with self.transaction() as db:
            db.execute("INSERT INTO kv(key, value) VALUES (?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])

    def close(self) -> None:
        """Close the connection."""
        self.db.close()


def open_store(path: str | Path, *, readonly: bool = False) -> Store:
    """Open (creating and migrating when needed) the database at ``path``."""
    return Store(path, readonly=readonly)
