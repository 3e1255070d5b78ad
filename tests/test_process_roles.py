"""The web process reads; `run` writes: the web's connections refuse writes to evidence, and a whole web
session leaves the evidence and the agent's caches exactly as they were (real SQLite file)."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import timedelta

import pytest

from agent.config import SensorSection
from agent.store.connection import open_store
from agent.store.readings import insert_readings, sync_sensors, to_ms
from tests.synth import light_samples, local
from webui.state import get_store, get_writer

from .web_fixtures import NOW, accounts, app, client_for, clock, db_path, farm_config, farmer, web_store  # noqa: F401

# One plain INSERT per evidence table (and the agent's own tables), as a bug in the web process might issue it.
EVIDENCE_INSERTS = {
    "readings": "INSERT INTO readings(sensor_id, ts, value) VALUES (1, 1, 1.0)",
    "logbook": "INSERT INTO logbook(kind, entry, recorded_at, recorded_by, prev_hash, hash, keep_until)"
               " VALUES ('visitors', '{}', '2026-11-01T12:00:00+00:00', 'web', 'x', 'y', '2099-01-01')",
    "findings": "INSERT INTO findings(rule, location, status, source, summary, evaluated_at)"
                " VALUES ('A1.1', '', 'ok', 'logbook', 'x', '2026-11-01T12:00:00+00:00')",
    "derived_days": "INSERT INTO derived_days(family, subject, day, version, start, \"end\", result, computed_at)"
                    " VALUES ('light', '1', '2026-11-01', 'v', 0, 1, '{}', 0)",
    "events": "INSERT INTO events(kind, location, start, detail) VALUES ('generator_test', NULL, 1, '{}')",
}
# What only `run` writes: the web's writer refuses these too, although it may write the logbook.
RUN_ONLY = ("readings", "findings", "derived_days", "events")


@pytest.mark.parametrize("table", sorted(EVIDENCE_INSERTS))
def test_the_web_process_cannot_write_evidence_tables(app, web_store, table):
    with app.test_request_context("/"):
        store = get_store()
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.execute(EVIDENCE_INSERTS[table])
        if table in RUN_ONLY:
            with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
                get_writer().execute(EVIDENCE_INSERTS[table])
    assert web_store.query(f"SELECT count(*) AS n FROM {table}")[0]["n"] == 0


def test_the_web_writer_refuses_whatever_the_web_does_not_own(app):
    with app.test_request_context("/"):
        writer = get_writer()
        for sql in ("UPDATE alerts SET state = 'closed'", "DELETE FROM users", "DELETE FROM kv",
                    "INSERT INTO status_changes(rule, location, to_status, at) VALUES ('A1.1', '', 'ok', 'x')",
                    "INSERT INTO score_window(id, since, at) VALUES (1, 'x', 'y')",
                    "CREATE TABLE sneaky (x)", "DROP TABLE rollups"):
            with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
                writer.execute(sql)
        # What it owns it may write: an acknowledgement's columns, its own settings.
        writer.execute("UPDATE alerts SET acked_at = 1 WHERE id = -1")
        writer.set_kv("web.test", "ja")
        assert get_store().get_kv("web.test") == "ja"


def _evidence_digest(path) -> dict[str, str]:
    """Return a digest of every table's rows (the web's own tables excepted)."""
    own = {"users", "api_tokens", "login_failures", "kv", "_sqlite_migrations"}
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: hashlib.sha256(repr(conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()).encode()).hexdigest()
                for t in tables if t not in own and not t.startswith("sqlite_")}
    finally:
        conn.close()


def test_a_whole_web_session_leaves_the_evidence_and_the_agents_caches_as_they_were(farmer, db_path, clock):
    store = open_store(db_path)
    try:
        [lux] = sync_sensors(store, [SensorSection(topic="zigbee2mqtt/stal1_lux", field="illuminance_lux",
                                                   kind="lux", location="1")], NOW - timedelta(days=40)).values()
        first = (NOW - timedelta(days=6)).date()
        with store.transaction() as db:
            insert_readings(db, [(lux.id, t, v) for t, v in light_samples(first, 6)])
            # Older minutes as aggregates, so a long chart has hours to roll up.
            db.conn.executemany("INSERT INTO aggregates(sensor_id, minute, n, vmin, vmax, mean) VALUES (?, ?, 1, 1, 1, 1)",
                                [(lux.id, to_ms(local(first - timedelta(days=1), "00:00")) // 60000 - k)
                                 for k in range(1, 30 * 1440, 7)])
    finally:
        store.close()
    before = _evidence_digest(db_path)
    with sqlite3.connect(db_path) as conn:  # readings arrived: their marks wait for `run` to consume them
        assert conn.execute("SELECT count(*) FROM derived_marks").fetchone()[0] > 0
    at = NOW.isoformat().replace("+00:00", "Z")
    for page in ("/", "/live", "/charts/light/1?range=48h", "/charts/light/1?range=365d", "/rules/", "/rules/G3.8.9",
                 "/api/v1/score", f"/api/v1/score?at={at}&since=2026-10-01T00:00:00Z", "/api/v1/findings",
                 f"/api/v1/readings?sensor={lux.id}&since=2026-09-01T00:00:00Z", "/audit/export/all.zip"):
        assert farmer.get(page).status_code == 200, page
    assert _evidence_digest(db_path) == before
