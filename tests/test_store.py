"""The SQLite store: migrations keep data, newer databases are refused, evidence is append-only."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

from agent.logbooks.assessments import record_answer
from agent.store.connection import StoreError, open_store
from agent.store.schema import migrations
from rules.catalogue import load_catalogue

NOW = datetime(2026, 11, 1, 12, tzinfo=timezone.utc)


def test_fresh_database_is_wal_with_foreign_keys(store):
    assert store.query("PRAGMA journal_mode")[0]["journal_mode"] == "wal"
    assert store.query("PRAGMA foreign_keys")[0]["foreign_keys"] == 1
    assert {m.name for m in migrations.applied(store.db)} == {m.name for m in migrations._migrations}


def test_reopening_an_existing_file_keeps_its_data(tmp_path):
    path = tmp_path / "farm.db"
    first = open_store(path)
    record_answer(first, load_catalogue(), rule_id="A4.1.6", status="ok", note="", answered_by="jan", now=NOW)
    first.close()
    again = open_store(path)
    rows = again.query("SELECT rule, status FROM assessments")
    assert rows == [{"rule": "A4.1.6", "status": "ok"}]


def test_pending_migration_applies_to_an_old_file_without_losing_rows(tmp_path):
    """A database created before a later migration existed gets it applied, data intact."""
    path = tmp_path / "old.db"
    s = open_store(path)
    record_answer(s, load_catalogue(), rule_id="A1.1", status="ok", note="", answered_by="jan", now=NOW)
    s.close()

    @migrations(name="zz_test_add_column")
    def add_column(db):
        db.execute("ALTER TABLE assessments ADD COLUMN test_extra TEXT")

    try:
        s = open_store(path)
        assert s.query("SELECT rule, test_extra FROM assessments") == [{"rule": "A1.1", "test_extra": None}]
        s.close()
    finally:
        migrations._migrations.pop()


def test_a_database_from_a_newer_version_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "newer.db"
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO _sqlite_migrations(migration_set, name, applied_at) VALUES ('ikb-agent', 'm999_future', 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="geschreven door een nieuwere ikb-agent .*m999_future.*installeer die versie"):
        open_store(path)


def test_not_a_database_is_reported(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="geen bruikbare SQLite-database"):
        open_store(path)


@pytest.mark.parametrize("table", ["assessments", "logbook", "documents", "files"])
def test_evidence_tables_refuse_update_and_delete(store, table):
    record_answer(store, load_catalogue(), rule_id="A1.1", status="ok", note="", answered_by="jan", now=NOW)
    with store.transaction() as db:
        db.execute("INSERT INTO logbook(kind, entry, recorded_at, recorded_by, prev_hash, hash, keep_until)"
                   " VALUES ('visitors', '{}', 'x', 'jan', '0', 'h1', '2099-01-01')")
        db.execute("INSERT INTO files(name, content_type, size, sha256, data, uploaded_at, uploaded_by, keep_until)"
                   " VALUES ('a', 'image/png', 1, 'x', x'00', 'x', 'jan', '2099-01-01')")
        db.execute("INSERT INTO documents(rule, kind, title, issued_on, recorded_by, recorded_at, keep_until)"
                   " VALUES ('A1.2', 'electrical_inspection', 't', '2026-01-01', 'jan', 'x', '2099-01-01')")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        with store.transaction() as db:
            db.execute(f"UPDATE {table} SET keep_until = '2000-01-01'")
    with pytest.raises(sqlite3.IntegrityError, match="within retention cannot be deleted"):
        with store.transaction() as db:
            db.execute(f"DELETE FROM {table}")
    assert store.query(f"SELECT count(*) AS n FROM {table}")[0]["n"] == 1


def test_the_score_snapshot_is_stored_when_the_first_upsert_meets_another_writer(tmp_path):
    """The demo's first run: the minute job's first upsert came while the history streamed in; sqlite-utils'
    probe for INSERT … ON CONFLICT failed (stale snapshot, no busy wait), it fell back to a key-only INSERT OR
    IGNORE, and every finding and the score window were silently not stored (NOT NULL columns)."""
    path = tmp_path / "farm.db"
    job, ingest = open_store(path, synchronous="NORMAL"), open_store(path)
    statements: list[str] = []
    job.conn.set_trace_callback(statements.append)
    try:
        job.conn.execute("BEGIN")
        job.conn.execute("SELECT count(*) FROM kv").fetchall()  # a read snapshot ...
        ingest.set_kv("ingest.elsewhere", "1")  # ... that another connection's commit makes stale
        assert job.db.supports_on_conflict, "SQLite 3.24+ has INSERT … ON CONFLICT: no probe, no fallback"
        job.conn.execute("ROLLBACK")
        assert not any("create table" in s.lower() for s in statements), "no probe table on the SD card"
        with job.transaction(immediate=True) as db:
            db["score_window"].upsert({"id": 1, "since": "2026-11-01T00:00:00+00:00",
                                       "at": "2026-11-30T00:00:00+00:00"}, pk="id")
        assert ingest.execute("SELECT since, at FROM score_window").fetchall() == [
            ("2026-11-01T00:00:00+00:00", "2026-11-30T00:00:00+00:00")]
    finally:
        job.close()
        ingest.close()
