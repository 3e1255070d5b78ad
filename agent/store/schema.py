"""The SQLite schema, as ordered migrations. The only module that defines tables.

Migrations are named in the order they run (m001, m004, …: the gaps are steps that were merged).

Rules for changing it:
- add a new migration at the end; never edit or reorder one that has shipped;
- never drop or recreate a table that holds logbook entries, answers or
  documents (they are evidence for two to three years, A9.1 / E9.4);
- each migration runs in one transaction (sqlite-utils ``Migrations``).

Times: readings use integer milliseconds since the epoch (UTC) for compactness;
records the farmer writes use ISO 8601 text with offset.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("ikb-agent")


def _run(db: Database, statements: str) -> None:
    """Execute ;-separated DDL statements inside the migration's transaction."""
    for statement in statements.split(";\n"):
        if statement.strip():
            db.execute(statement)


def _append_only(table: str, keep_column: str | None) -> str:
    """Return triggers that forbid UPDATE, and DELETE of rows still within retention."""
    when = f"WHEN old.{keep_column} >= date('now') " if keep_column else ""
    return f"""
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only: record a correction instead'); END;
CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {when}
BEGIN SELECT RAISE(ABORT, '{table} rows within retention cannot be deleted'); END;
"""

def _keep_two_years(table: str, column: str, *, ms: bool) -> str:
    """Return a trigger that refuses deleting rows younger than two years (evidence, A9.1)."""
    limit = "CAST(strftime('%s', 'now', '-2 years') AS INTEGER) * 1000" if ms else "date('now', '-2 years')"
    return f"""
CREATE TRIGGER {table}_keep BEFORE DELETE ON {table} WHEN old.{column} >= {limit}
BEGIN SELECT RAISE(ABORT, '{table} rows younger than two years cannot be deleted'); END;
"""

@migrations(name="m001_initial")
def m001_initial(db: Database) -> None:
    """Create the first schema: sensors, readings, evidence records, findings, users."""
    _run(db, """
CREATE TABLE sensors (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    field TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    location TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (topic, field)
);
CREATE TABLE readings (
    sensor_id INTEGER NOT NULL REFERENCES sensors(id),
    ts INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (sensor_id, ts)
) WITHOUT ROWID;
CREATE TABLE aggregates (
    sensor_id INTEGER NOT NULL REFERENCES sensors(id),
    minute INTEGER NOT NULL,
    n INTEGER NOT NULL,
    vmin REAL NOT NULL,
    vmax REAL NOT NULL,
    mean REAL NOT NULL,
    PRIMARY KEY (sensor_id, minute)
) WITHOUT ROWID;
CREATE TABLE sensor_health (
    sensor_id INTEGER PRIMARY KEY REFERENCES sensors(id),
    last_seen INTEGER,
    last_value REAL,
    interval_s REAL
);
CREATE TABLE rejections (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    topic TEXT,
    head TEXT,
    reason TEXT NOT NULL
);
CREATE TABLE rejection_counts (
    reason TEXT PRIMARY KEY,
    n INTEGER NOT NULL,
    last_at INTEGER NOT NULL
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    location TEXT,
    sensor_id INTEGER REFERENCES sensors(id),
    start INTEGER NOT NULL,
    "end" INTEGER,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_kind_start ON events(kind, start);
CREATE TABLE logbook (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    entry TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    supersedes INTEGER REFERENCES logbook(id),
    reason TEXT,
    state TEXT NOT NULL DEFAULT 'confirmed',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    keep_until TEXT NOT NULL
);
CREATE INDEX logbook_kind ON logbook(kind, id);
CREATE TABLE assessments (
    id INTEGER PRIMARY KEY,
    rule TEXT NOT NULL,
    location TEXT,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    answered_by TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    file_id INTEGER REFERENCES files(id),
    keep_until TEXT NOT NULL
);
CREATE INDEX assessments_rule ON assessments(rule, answered_at);
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    uploaded_at TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    keep_until TEXT NOT NULL
);
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    rule TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    valid_until TEXT,
    location TEXT,
    note TEXT NOT NULL DEFAULT '',
    file_id INTEGER REFERENCES files(id),
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    keep_until TEXT NOT NULL
);
CREATE TABLE findings (
    rule TEXT NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    summary TEXT NOT NULL,
    occurrences TEXT NOT NULL DEFAULT '[]',
    evaluated_at TEXT NOT NULL,
    PRIMARY KEY (rule, location)
) WITHOUT ROWID;
CREATE TABLE status_changes (
    id INTEGER PRIMARY KEY,
    rule TEXT NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    from_status TEXT,
    to_status TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX status_changes_rule ON status_changes(rule, at);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('farmer', 'auditor', 'kiosk')),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
""" + _append_only("logbook", "keep_until") + _append_only("assessments", "keep_until")
         + _append_only("documents", "keep_until") + _append_only("files", "keep_until"))


@migrations(name="m004_sensor_rules")
def m004_sensor_rules(db: Database) -> None:
    """Add the sensor rules' per-day cache, its change marks, and the housing-order record (H3.12.11)."""
    _run(db, """
CREATE TABLE derived_days (
    family TEXT NOT NULL,
    subject TEXT NOT NULL,
    day TEXT NOT NULL,
    version TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    result TEXT NOT NULL,
    computed_at INTEGER NOT NULL,
    PRIMARY KEY (family, subject, day)
) WITHOUT ROWID;
CREATE TABLE derived_marks (
    sensor_id INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    PRIMARY KEY (sensor_id, hour)
) WITHOUT ROWID;
CREATE TRIGGER readings_mark_derived AFTER INSERT ON readings
BEGIN INSERT OR IGNORE INTO derived_marks(sensor_id, hour) VALUES (new.sensor_id, new.ts / 3600000); END;
CREATE TRIGGER aggregates_mark_derived AFTER INSERT ON aggregates
BEGIN INSERT OR IGNORE INTO derived_marks(sensor_id, hour) VALUES (new.sensor_id, new.minute / 60); END;
CREATE TABLE housing_orders (
    id INTEGER PRIMARY KEY,
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    note TEXT NOT NULL DEFAULT '',
    supersedes INTEGER REFERENCES housing_orders(id),
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    keep_until TEXT NOT NULL
);
CREATE INDEX events_kind_location_start ON events(kind, location, start);
""" + _append_only("housing_orders", "keep_until"))
@migrations(name="m005_logbooks")
def m005_logbooks(db: Database) -> None:
    """Index logbook corrections: the current view asks "is this row superseded?" per row."""
    _run(db, "CREATE INDEX logbook_supersedes ON logbook(supersedes)")


@migrations(name="m006_web")
def m006_web(db: Database) -> None:
    """Add what the web page needs: API tokens, login failures, the evidence line of findings, roll-ups.

``rollups`` holds hourly min/max/sum of the per-minute aggregates: a cache for
long charts (agent/downsample.py), rebuildable from the aggregates at any time.
"""
    _run(db, """
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    label TEXT NOT NULL DEFAULT '',
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    account TEXT NOT NULL,
    ip TEXT NOT NULL
);
CREATE INDEX login_failures_account ON login_failures(account, at);
CREATE INDEX login_failures_ip ON login_failures(ip, at);
ALTER TABLE findings ADD COLUMN evidence TEXT;
CREATE TABLE rollups (
    sensor_id INTEGER NOT NULL REFERENCES sensors(id),
    hour INTEGER NOT NULL,
    n INTEGER NOT NULL,
    vmin REAL NOT NULL,
    vmax REAL NOT NULL,
    total REAL NOT NULL,
    PRIMARY KEY (sensor_id, hour)
) WITHOUT ROWID;
""")


@migrations(name="m007_alerts")
def m007_alerts(db: Database) -> None:
    """Create the alert tables: alerts, the delivery outbox, attempts, ack tokens, channel tests.

    Times in ms UTC (they schedule work); channel_tests keeps the ISO text
    the A3.4 evaluator reads. Nothing younger than two years may be deleted:
    what was sent when, and whether it arrived, is evidence.
    """
    _run(db, """
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    title TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    flaps INTEGER NOT NULL DEFAULT 0,
    clear_since INTEGER,
    closed_at INTEGER,
    expires_at INTEGER,
    acked_at INTEGER,
    acked_by TEXT,
    acked_via TEXT,
    ack_announced INTEGER NOT NULL DEFAULT 0,
    level INTEGER NOT NULL DEFAULT 0,
    notified_at INTEGER,
    next_repeat_at INTEGER,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX alerts_one_open ON alerts(kind, location, subject) WHERE state = 'open';
CREATE INDEX alerts_opened ON alerts(opened_at);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER REFERENCES alerts(id),
    channel TEXT NOT NULL,
    event TEXT NOT NULL,
    severity TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'held', 'delivered', 'cancelled', 'failed', 'digested')),
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered_at INTEGER,
    last_error TEXT,
    digest_id INTEGER REFERENCES outbox(id)
);
CREATE INDEX outbox_due ON outbox(state, channel, next_attempt_at);
CREATE INDEX outbox_alert ON outbox(alert_id);
CREATE TABLE delivery_attempts (
    id INTEGER PRIMARY KEY,
    outbox_id INTEGER NOT NULL REFERENCES outbox(id),
    channel TEXT NOT NULL,
    at INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    detail TEXT NOT NULL,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX delivery_attempts_outbox ON delivery_attempts(outbox_id);
CREATE TABLE ack_tokens (
    token TEXT PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    channel TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    used_at INTEGER,
    used_by TEXT
);
CREATE TABLE channel_tests (
    id INTEGER PRIMARY KEY,
    channel TEXT,
    sent_at TEXT,
    delivered INTEGER,
    detail TEXT
);
CREATE TRIGGER delivery_attempts_no_update BEFORE UPDATE ON delivery_attempts
BEGIN SELECT RAISE(ABORT, 'delivery_attempts is append-only'); END;
CREATE TRIGGER channel_tests_no_update BEFORE UPDATE ON channel_tests
BEGIN SELECT RAISE(ABORT, 'channel_tests is append-only'); END;
""" + _keep_two_years("alerts", "opened_at", ms=True) + _keep_two_years("outbox", "created_at", ms=True)
         + _keep_two_years("delivery_attempts", "at", ms=True) + _keep_two_years("ack_tokens", "created_at", ms=True)
         + _keep_two_years("channel_tests", "sent_at", ms=False))


@migrations(name="m008_score_snapshot")
def m008_score_snapshot(db: Database) -> None:
    """Keep `run`'s whole score for the web to read: findings as score documents, the summary, the window.

    The snapshot is three tables written only by ``ikb-agent run`` (agent/store/scores.py):
    ``findings`` (one row per rule and location, now with the finding's whole score document as
    ``Finding.to_json`` gives it: DESIGN §3.5 v2, with repairs on occurrences, ``repaired``,
    ``not_checked`` and the set-up steps), ``score_summary`` (the rest of the score as
    ``Score.to_json`` gives it: verdict, the categories' weight texts, counts, the due list and the
    set-up list) and ``score_window`` (the window and the moment of the last whole evaluation:
    `run`'s heartbeat).
    Findings and the summary are rewritten only when they change; an evaluation that changes
    nothing writes one small ``score_window`` row. ``findings.evaluated_at`` is from here on the
    moment the row last changed.

    Amended before any release (DECISIONS.md, "One migration 8"): the scoring branch's
    ``m008_findings_v2`` (a ``findings.finding`` column) was folded into this one.
    """
    _run(db, """
ALTER TABLE findings ADD COLUMN document TEXT;
CREATE TABLE score_summary (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    summary TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE TABLE score_window (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    since TEXT NOT NULL,
    at TEXT NOT NULL
);
""")


@migrations(name="m009_web_sessions")
def m009_web_sessions(db: Database) -> None:
    """Keep web sessions on the server, so logging out, disabling an account or a new password ends them.

    ``id`` is the SHA-256 of the random session id in the (signed) cookie: the table alone logs nobody in.
    Times in ms UTC. Ended sessions are kept a while for `ikb-agent user list` and then pruned.
    """
    _run(db, """
CREATE TABLE web_sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    ended_at INTEGER,
    ended_why TEXT
);
CREATE INDEX web_sessions_user ON web_sessions(user_id, ended_at);
""")


@migrations(name="m010_sd_writes")
def m010_sd_writes(db: Database) -> None:
    """Write less to the SD card (issue 15; docs/PERFORMANCE.md, "SD-card writes").

    - ``readings`` becomes a view of two tables: ``readings_main`` (the old table, clustered by sensor
      and time, as every reader wants it) and ``readings_recent``, clustered by time, where live
      ingestion appends. A commit then rewrites the last page of ``readings_recent`` (live readings
      arrive in time order) instead of one page per sensor in the batch; ``ikb-agent run`` moves the recent rows into ``readings_main``
      every few minutes in one transaction (each sensor's page once). Readers query ``readings`` as
      before; an INSERT into the view goes to ``readings_recent``, a DELETE to whichever holds the row. A reading is stored once: the
      primary key of each table, and no row of ``readings_recent`` whose (sensor, ts) is in
      ``readings_main``.
    - ``ingest_deliveries``: the redelivery guard (docs/INGEST.md, "Exactly once after a crash") as a
      ring of ``receive_maximum`` slots updated in place, instead of one 8 KB ``kv`` row (three pages)
      rewritten by every commit. The guard of an older version is carried over.
    - ``derived_watermark``: the end of the data the per-day cache has read (``run`` raises it before
      it derives a day). A reading after it can change no cached day and leaves no ``derived_marks``
      row — which every live reading did, one page per commit.
    """
    import base64
    import struct

    mark = ("WHEN new.ts <= coalesce((SELECT until FROM derived_watermark WHERE id = 1), 9223372036854775807)\n"
            "BEGIN INSERT OR IGNORE INTO derived_marks(sensor_id, hour) VALUES (new.sensor_id, new.ts / 3600000); END")
    _run(db, f"""
CREATE TABLE ingest_deliveries (
    slot INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL,
    mid INTEGER NOT NULL,
    crc INTEGER NOT NULL
);
CREATE TABLE derived_watermark (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    until INTEGER NOT NULL
);
DROP TRIGGER readings_mark_derived;
ALTER TABLE readings RENAME TO readings_main;
CREATE TABLE readings_recent (
    ts INTEGER NOT NULL,
    sensor_id INTEGER NOT NULL REFERENCES sensors(id),
    value REAL NOT NULL,
    PRIMARY KEY (ts, sensor_id)
) WITHOUT ROWID;
CREATE TRIGGER readings_mark_derived AFTER INSERT ON readings_main
{mark};
CREATE TRIGGER readings_recent_mark_derived AFTER INSERT ON readings_recent
{mark};
CREATE VIEW readings AS
SELECT sensor_id, ts, value FROM readings_main UNION ALL SELECT sensor_id, ts, value FROM readings_recent;
CREATE TRIGGER readings_insert INSTEAD OF INSERT ON readings
BEGIN INSERT OR IGNORE INTO readings_recent(sensor_id, ts, value) SELECT new.sensor_id, new.ts, new.value
WHERE NOT EXISTS (SELECT 1 FROM readings_main WHERE sensor_id = new.sensor_id AND ts = new.ts); END;
CREATE TRIGGER readings_delete INSTEAD OF DELETE ON readings
BEGIN DELETE FROM readings_main WHERE sensor_id = old.sensor_id AND ts = old.ts; DELETE FROM readings_recent
WHERE sensor_id = old.sensor_id AND ts = old.ts; END;
""")
    # Cached days so far were derived from data up to their computed_at at most.
    db.execute("INSERT INTO derived_watermark(id, until) SELECT 1, max(computed_at) FROM derived_days"
               " HAVING count(*) > 0")
    row = db.execute("SELECT value FROM kv WHERE key = 'ingest.recent_deliveries'").fetchone()
    if row and row[0]:
        try:
            raw = base64.b64decode(row[0])
            pairs = list(struct.iter_unpack("<HI", raw[: len(raw) // 6 * 6]))
        except (ValueError, struct.error):
            pairs = []
        db.conn.executemany("INSERT INTO ingest_deliveries(slot, seq, mid, crc) VALUES (?, ?, ?, ?)",
                            [(i + 1, i + 1, mid, crc) for i, (mid, crc) in enumerate(pairs)])
    db.execute("DELETE FROM kv WHERE key = 'ingest.recent_deliveries'")


# readings_recent's key: a reading's moment and sensor in one integer, in time order (rowid order is ts
# order as long as sensor ids stay below 2**20; moments fit until the year 2248).
RECENT_KEY = 1 << 20


def recent_id(ts: str, sensor: str) -> str:
    """Return the SQL expression of readings_recent's key for the SQL expressions of a moment and a sensor."""
    return f"{ts} * {RECENT_KEY} + {sensor}"


def recent_key(ts_ms: int, sensor_id: int) -> int:
    """Return readings_recent's key of a reading: the value :func:`recent_id` computes in SQL."""
    return ts_ms * RECENT_KEY + sensor_id


@migrations(name="m011_recent_rowid")
def m011_recent_rowid(db: Database) -> None:
    """Append live readings to a rowid table (issue 15, SD card; docs/PERFORMANCE.md, "SD-card writes").

    ``readings_recent`` was an index b-tree (WITHOUT ROWID, key (ts, sensor)). SQLite splits a full last
    page of such a tree by rebalancing it with its neighbours: once the table had a few pages, nearly
    every commit of a minute's readings rewrote three or four pages. A rowid table whose key grows takes
    a new last page instead (SQLite's "quick balance"): one page a commit. The key ``id`` is
    ``ts * 2**20 + sensor_id`` (RECENT_KEY), so a (sensor, ts) is still stored once and found by one seek,
    and rowid order is time order. ``readings`` (the view) and its triggers are made again over it.
    """
    mark = ("WHEN new.ts <= coalesce((SELECT until FROM derived_watermark WHERE id = 1), 9223372036854775807)\n"
            "BEGIN INSERT OR IGNORE INTO derived_marks(sensor_id, hour) VALUES (new.sensor_id, new.ts / 3600000); END")
    _run(db, f"""
DROP VIEW readings;
ALTER TABLE readings_recent RENAME TO readings_recent_m010;
CREATE TABLE readings_recent (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    sensor_id INTEGER NOT NULL REFERENCES sensors(id),
    value REAL NOT NULL,
    CHECK (id = {recent_id('ts', 'sensor_id')} AND sensor_id >= 0 AND sensor_id < {RECENT_KEY})
);
INSERT INTO readings_recent(id, ts, sensor_id, value)
SELECT {recent_id('ts', 'sensor_id')}, ts, sensor_id, value FROM readings_recent_m010 ORDER BY ts, sensor_id;
DROP TABLE readings_recent_m010;
CREATE TRIGGER readings_recent_mark_derived AFTER INSERT ON readings_recent
{mark};
CREATE VIEW readings AS
SELECT sensor_id, ts, value FROM readings_main UNION ALL SELECT sensor_id, ts, value FROM readings_recent;
CREATE TRIGGER readings_insert INSTEAD OF INSERT ON readings
BEGIN INSERT OR IGNORE INTO readings_recent(id, sensor_id, ts, value)
SELECT {recent_id('new.ts', 'new.sensor_id')}, new.sensor_id, new.ts, new.value
WHERE NOT EXISTS (SELECT 1 FROM readings_main WHERE sensor_id = new.sensor_id AND ts = new.ts); END;
CREATE TRIGGER readings_delete INSTEAD OF DELETE ON readings
BEGIN DELETE FROM readings_main WHERE sensor_id = old.sensor_id AND ts = old.ts; DELETE FROM readings_recent
WHERE id = {recent_id('old.ts', 'old.sensor_id')}; END;
""")


@migrations(name="m012_recent_deliveries")
def m012_recent_deliveries(db: Database) -> None:
    """Let a live batch carry its delivery guard on one of its own rows (issue 15, SD card).

    The guard (``ingest_deliveries``, docs/INGEST.md "Exactly once after a crash") was a page of its own
    in every commit of readings: on the SD card a second page costs about a third of the commit. A live
    batch of up to ``DELIVERY_TAG_MAX`` deliveries now packs them into ``deliveries`` of its newest row of
    ``readings_recent``, the page that commit writes anyway; the ring takes the rest (batches without a
    new row, big batches) and, at each fold and start, what the tags held. NULL on every
    other row: one byte of the row's header.
    """
    _run(db, "ALTER TABLE readings_recent ADD COLUMN deliveries BLOB;")
