"""Open the SQLite database: WAL, foreign keys, durable commits, migrations applied.

The schema itself lives in :mod:`agent.store.schema`; the query functions of each
table family live beside this module and receive a :class:`Store`. Three kinds of
connection: read-write (``ikb-agent run`` and the CLI), read-only (``mode=ro``: the
web process's evidence), and restricted (``writes``: the web process's own writes,
see :mod:`agent.store.owners`).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Mapping

from sqlite_utils import Database

from agent.store.owners import Writes, authorizer
from agent.store.schema import migrations
from agent.store.snapshot import SnapshotError, integrity_problem, snapshot
from rules.errors import IkbError
from rules.texts import N_

log = logging.getLogger(__name__)
SYNCHRONOUS = ("FULL", "NORMAL")


class StoreError(IkbError):
    """The database cannot be used; the message says why and what to do."""

    messages = {
        "unusable": N_("geen bruikbare SQLite-database ({detail})"),
        "newer": N_("geschreven door een nieuwere ikb-agent (schemastap {step} kent deze versie niet); installeer "
                    "die versie of nieuwer, of open een andere database"),
        "migrate": N_("kan het databaseschema niet bijwerken ({detail})"),
        # What SQLite's errors mean on a farm (issue 13: a full disk was "not a usable SQLite database").
        "full": N_("de schijf (SD-kaart) is vol: maak ruimte vrij; wat niet bevestigd is, is niet opgeslagen "
                   "({detail})"),
        "locked": N_("de database is bezet door een ander proces; probeer het zo opnieuw ({detail})"),
        "readonly": N_("de database is alleen-lezen: rechten, of een beschadigde SD-kaart ({detail})"),
        "io": N_("schijffout bij lezen of schrijven: is de SD-kaart defect? ({detail})"),
        "cannot_open": N_("kan het databasebestand niet openen of aanmaken ({detail})"),
        "run_lock": N_("er draait al een `ikb-agent run` op deze database (proces {pid}); stop die eerst "
                       "(`systemctl stop ikb-agent`): twee agents op één database slaan metingen dubbel op"),
        "copy_first": N_("werkt het databaseschema niet bij zonder eerst een kopie van de database ({detail})"),
        "copy_unsound": N_("werkt het databaseschema niet bij: de kopie die eerst is gemaakt is niet in orde "
                           "({detail})"),
        "sensor_id": N_("sensor {topic} heeft nummer {id} in de database, hoger dan {most}, het hoogste dat de "
                        "agent kan opslaan; er is niets opgeslagen"),
    }


# SQLite's (and the OS's) words → StoreError codes.
_STORAGE_WORDS = (("disk is full", "full"), ("locked", "locked"), ("busy", "locked"), ("readonly", "readonly"),
                  ("disk i/o", "io"), ("not a database", "unusable"), ("malformed", "unusable"),
                  ("unable to open", "cannot_open"))


def storage_error(exc: BaseException, path: str = "") -> StoreError | None:
    """Return a database or file error as a StoreError saying what it means, or None when it is no such error."""
    import errno

    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, OSError) and not isinstance(exc, sqlite3.Error):
        code = "full" if exc.errno == errno.ENOSPC else None
    elif isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        code = next((c for needle, c in _STORAGE_WORDS if needle in text), None)
    else:
        code = None
    return StoreError(path, code, {"detail": str(exc)}) if code else None


class Store:
    """One SQLite database file, migrated to the current schema."""

    def __init__(self, path: str | Path, *, readonly: bool = False, writes: Mapping[str, Writes] | None = None,
                 synchronous: str = "FULL", cache_kib: int | None = None):
        if synchronous not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS}")
        self.path = str(path)
        self.synchronous = synchronous
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
            # FULL: a commit is fsynced before we say "saved" (DESIGN §5). NORMAL (WAL): fsynced at the next
            # checkpoint or the next FULL commit of any connection — for `run`'s jobs, whose writes can be
            # computed again; their evidence writes (logbook entries) use :meth:`durable`.
            conn.execute(f"PRAGMA synchronous = {synchronous}")
            conn.execute("PRAGMA busy_timeout = 30000")
            if cache_kib is not None:
                conn.execute(f"PRAGMA cache_size = {-int(cache_kib)}")
        except (sqlite3.Error, OSError, ValueError) as exc:  # ValueError: a NUL in the path
            known = storage_error(exc, self.path)
            code = "cannot_open" if isinstance(exc, (OSError, ValueError)) else "unusable"
            raise known or StoreError(self.path, code, {"detail": str(exc)}) from None
        self.db = Database(conn, execute_plugins=False)
        # sqlite-utils finds out whether SQLite has INSERT … ON CONFLICT (3.24+) by creating a table on the
        # connection's first upsert. When that probe met another connection's write (SQLITE_BUSY_SNAPSHOT
        # in a read transaction: no busy wait) it settled on its old upsert for good — a key-only INSERT OR
        # IGNORE that a table with NOT NULL columns silently ignores — and the minute job's findings and
        # score window were never stored (the demo's first run, while its history streamed in). Say it.
        self.db._supports_on_conflict = sqlite3.sqlite_version_info >= (3, 24, 0)
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
        """Apply pending migrations, each in its own transaction, after a checked copy of an older database."""
        try:
            self._check_version()
            pending = migrations.pending(self.db)
            if pending and migrations.applied(self.db):
                self._copy_before(pending[0].name)
            migrations.apply(self.db)
        except sqlite3.DatabaseError as exc:
            raise storage_error(exc, self.path) or StoreError(self.path, "migrate", {"detail": str(exc)}) from None

    def _copy_before(self, step: str) -> None:
        """Keep a checked copy of the database as it was before schema step ``step`` (an upgrade)."""
        dest = Path(f"{self.path}.before-{step}")
        if dest.exists() and integrity_problem(dest) is not None:
            dest.unlink()  # a damaged copy from an interrupted start: take it again
        if not dest.exists():
            try:
                snapshot(self.path, dest)
            except SnapshotError as exc:
                if not dest.exists():  # else the web process took it at the same moment
                    raise StoreError(self.path, "copy_first", {"detail": str(exc)}) from None
            else:
                log.warning("database copied to %s before schema step %s", dest, step)
        problem = integrity_problem(dest)
        if problem:
            raise StoreError(self.path, "copy_unsound", {"detail": problem})

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

    @contextmanager
    def durable(self):
        """Run a block whose commits are fsynced before they return (``synchronous=FULL``), whatever this
        connection's own setting: evidence someone is told is saved."""
        with self.lock:
            if self.synchronous == "FULL":
                yield self
                return
            self.conn.execute("PRAGMA synchronous = FULL")
            try:
                yield self
            finally:
                self.conn.execute(f"PRAGMA synchronous = {self.synchronous}")

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

    def set_kvs(self, values: dict[str, str | None]) -> None:
        """Store several settings in one transaction; None deletes one."""
        with self.transaction() as db:
            for key, value in values.items():
                if value is None:
                    db.execute("DELETE FROM kv WHERE key = ?", [key])
                else:
                    db.execute("INSERT INTO kv(key, value) VALUES (?, ?) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])

    def table_names(self) -> set[str]:
        """Return the names of the database's tables and views (``readings`` is a view since m010)."""
        return {r["name"] for r in self.query("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}

    def close(self) -> None:
        """Close the connection."""
        self.db.close()


# A connection's page cache when it is not the hot path (issue 15): the web page's readers, `run`'s listener,
# jobs and alert connections. SQLite's default is 2000 KiB each, resident once touched; the pages come back
# from the OS's cache of the file (docs/PERFORMANCE.md, "Issue 15: memory (RSS)").
SMALL_CACHE_KIB = 512


def open_store(path: str | Path, *, readonly: bool = False, writes: Mapping[str, Writes] | None = None,
               synchronous: str = "FULL", cache_kib: int | None = None) -> Store:
    """Open the database at ``path``: creating and migrating it when needed, or read-only (``mode=ro``);
    ``writes``: refuse every write but these (the web process's own tables); ``synchronous``: FULL (every
    commit on disk when it returns) unless the connection writes only what can be computed again (NORMAL);
    ``cache_kib``: SQLite's page cache for this connection (default 2000 KiB)."""
    return Store(path, readonly=readonly, writes=writes, synchronous=synchronous, cache_kib=cache_kib)
