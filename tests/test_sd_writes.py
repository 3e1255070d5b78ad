"""What `run` writes to the SD card (issue 15): only evidence and what changed, evidence still durable.

Real SQLite files throughout; the write counts are SQLite's own (``total_changes``, rows) or the
pragma as the connection reports it, never timings (bench/steady.py measures bytes).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from agent.config import config_from_dict
from agent.evaluation.derived import cache_days
from agent.evaluation.sensor_inputs import build_subjects
from agent.ingest.ingestor import DELIVERY_TAG_MAX, Ingestor
from agent.store import raise_watermark
from agent.store.connection import open_store
from agent.store.readings import first_reading_ms, insert_readings, newest_reading_ms, series, to_ms
from sensors.model import RawMessage

from .farmconfig import farm_dict, settings_for
from .test_ingest import count as rows

T0 = datetime(2026, 3, 28, 20, 0, tzinfo=timezone.utc)
T0_MS = to_ms(T0)


def msg(topic, payload, at_ms, **kw):
    """Return a raw message received at ``at_ms``."""
    return RawMessage(topic, str(payload).encode(), at_ms, **kw)


@pytest.fixture
def farm(tmp_path):
    """Return (settings, store) of the small farm with the farm's own batching (a minute; the test farms'
    quarter-second is for tests that wait for a reading to appear)."""
    settings = settings_for(tmp_path, flush_interval_ms=60_000)
    store = open_store(settings.storage.path)
    yield settings, store
    store.close()


# ---------------------------------------------------------------------- when a batch is committed


def test_a_change_of_an_alarm_input_is_committed_at_once_and_other_readings_wait_for_the_batch(farm):
    settings, store = farm
    ing = Ingestor(store, settings, T0)  # live: what `run` does
    ing.process(msg("stal1/mains", "on", T0_MS))  # nothing stored yet to compare with: no change
    ing.process(msg("ikb/1/lux", "5", T0_MS + 10))
    assert rows(store, "readings") == 0  # waiting for the batch (a minute, or 500 messages)
    ing.process(msg("stal1/mains", "off", T0_MS + 20))  # power gone: an alarm
    assert rows(store, "readings") == 3
    ing.process(msg("stal1/mains", "off", T0_MS + 30))
    ing.process(msg("ikb/1/lux", "6", T0_MS + 40))
    assert rows(store, "readings") == 3
    ing.process(msg("stal1/mains", "on", T0_MS + 50))  # power back: no alarm, but the alarm is over
    assert rows(store, "readings") == 5  # the lux reading went with it; the unchanged "off" was not stored
    ing.process(msg("stal1/alarm", "ok", T0_MS + 60))
    assert rows(store, "readings") == 5


def test_a_restarted_ingestor_compares_an_alarm_input_with_what_is_stored(farm):
    settings, store = farm
    first = Ingestor(store, settings, T0)
    first.process(msg("stal1/mains", "off", T0_MS))
    assert rows(store, "readings") == 1
    again = Ingestor(store, settings, T0 + timedelta(minutes=5))
    again.process(msg("stal1/mains", "on", T0_MS + 300_000))  # the first message after a restart, a change
    assert rows(store, "readings") == 2


# ---------------------------------------------------------------------- readings_recent and readings_main


def test_live_readings_are_appended_then_moved_once_and_every_reader_sees_each_once(farm):
    settings, store = farm
    ing = Ingestor(store, settings, T0)
    sid = next(s.id for s in ing.specs if s.kind == "lux")
    for i in range(10):
        ing.process(msg("ikb/1/lux", json.dumps({"value": i, "ts": T0_MS + i * 1000}), T0_MS + i * 1000 + 5))
    assert ing.flush()
    assert (rows(store, "readings_recent"), rows(store, "readings_main")) == (10, 0)
    expected = [(T0_MS + i * 1000, float(i)) for i in range(10)]
    assert series(store, sid, T0, T0 + timedelta(minutes=1)) == expected
    assert ing.fold() == 10
    assert (rows(store, "readings_recent"), rows(store, "readings_main")) == (0, 10)
    assert series(store, sid, T0, T0 + timedelta(minutes=1)) == expected
    # Stored once whichever table holds it: a redelivery after the move, a trace replayed over it.
    ing.process(msg("ikb/1/lux", json.dumps({"value": 3, "ts": T0_MS + 3000}), T0_MS + 20_000))
    ing.process(msg("ikb/1/lux", json.dumps({"value": 10, "ts": T0_MS + 10_000}), T0_MS + 20_000))
    assert ing.flush()
    replay = Ingestor(store, settings, T0, live=False)
    for i in (9, 10):
        replay.process(msg("ikb/1/lux", json.dumps({"value": i, "ts": T0_MS + i * 1000}), T0_MS + 30_000))
    assert replay.flush()
    with store.transaction() as db:
        assert insert_readings(db, [(sid, T0_MS + 10_000, 10.0), (sid, T0_MS + 11_000, 11.0)]) == 1
    assert (ing.counts.stored, ing.counts.duplicates) == (11, 1)
    assert (replay.counts.stored, replay.counts.duplicates) == (0, 2)
    assert series(store, sid, T0, T0 + timedelta(minutes=1)) == [(T0_MS + i * 1000, float(i)) for i in range(12)]
    assert (first_reading_ms(store, sid), newest_reading_ms(store)) == (T0_MS, T0_MS + 11_000)


def test_a_stopped_agent_moves_what_it_staged_and_a_crashed_one_is_caught_up_by_the_next(farm):
    settings, store = farm
    ing = Ingestor(store, settings, T0)
    for i in range(3):
        ing.process(msg("ikb/1/lux", str(i), T0_MS + i * 1000))
    assert ing.flush()
    # A crash: nothing moved. The next ingestor finds the staged rows and moves them with its first commit.
    nxt = Ingestor(store, settings, T0 + timedelta(minutes=1))
    assert rows(store, "readings_recent") == 3
    nxt.process(msg("stal1/alarm", "alarm", T0_MS + 60_000))
    assert (rows(store, "readings_recent"), rows(store, "readings_main")) == (0, 4)
    # A clean stop moves what waits.
    nxt.start()
    nxt.submit(msg("ikb/1/lux", "7", T0_MS + 61_000))
    nxt.stop()
    assert (rows(store, "readings_recent"), rows(store, "readings_main")) == (0, 5)


def test_a_minutes_readings_appended_to_a_long_recent_table_take_about_one_new_page_a_commit(farm):
    """readings_recent is a rowid table keyed in time order: a full last page gets a new page after it
    (one write), where the old index-tree layout rebalanced it with its neighbours (three or four)."""
    from agent.ingest.ingestor import insert_sql

    settings, store = farm
    ids = [s.id for s in Ingestor(store, settings, T0).specs]
    wal = Path(settings.storage.path + "-wal")
    store.conn.execute("PRAGMA wal_autocheckpoint=0")
    frames = []
    for minute in range(180):  # three hours of the farm's sensors every 15 s, a commit a minute
        batch = [(sid, T0_MS + minute * 60_000 + k * 15_000 + i, 20.0 + k) for k in range(4)
                 for i, sid in enumerate(ids)]
        before = wal.stat().st_size if wal.exists() else 0
        with store.transaction(immediate=True) as db:
            for row in batch:
                db.conn.execute(insert_sql("readings_recent"), row)
        frames.append((wal.stat().st_size - before) // (4096 + 24))
    assert rows(store, "readings_recent") == 180 * 4 * len(ids)
    late = frames[60:]  # once the table spans many pages
    assert sum(late) / len(late) < 1.6, late  # the index-tree layout: about 2.3


def test_readings_waiting_in_the_recent_table_survive_the_upgrade_to_its_new_layout(tmp_path):
    from sqlite_utils import Database

    from agent.store.schema import migrations

    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="m011_recent_rowid")
    db.execute("INSERT INTO sensors(id, topic, field, kind, location, created_at) VALUES (3, 'ikb/1/lux', '',"
               " 'lux', '1', 0)")
    db.conn.executemany("INSERT INTO readings(sensor_id, ts, value) VALUES (3, ?, ?)",
                        [(T0_MS + i * 1000, float(i)) for i in range(5)])
    db.conn.commit()
    assert db.execute("SELECT count(*) FROM readings_recent").fetchone()[0] == 5
    db.close()
    store = open_store(path)  # the new version migrates
    assert store.execute("SELECT id, ts, sensor_id, value FROM readings_recent ORDER BY id").fetchall() == [
        ((T0_MS + i * 1000) * 2**20 + 3, T0_MS + i * 1000, 3, float(i)) for i in range(5)]
    assert series(store, 3, T0, T0 + timedelta(minutes=1)) == [(T0_MS + i * 1000, float(i)) for i in range(5)]
    with store.transaction() as tx:  # still stored once, whichever table is asked
        assert insert_readings(tx, [(3, T0_MS + 2000, 2.0), (3, T0_MS + 9000, 9.0)]) == 1
        tx.conn.execute("INSERT INTO readings(sensor_id, ts, value) VALUES (3, ?, 4.0)", [T0_MS + 4000])
        tx.conn.execute("DELETE FROM readings WHERE sensor_id = 3 AND ts = ?", [T0_MS])
    assert rows(store, "readings") == 5 and newest_reading_ms(store) == T0_MS + 9000
    assert first_reading_ms(store, 3) == T0_MS + 1000
    store.close()


# ---------------------------------------------------------------------- the delivery guard


def test_the_delivery_guard_is_a_ring_rewritten_in_place_and_survives_a_restart(tmp_path):
    settings = settings_for(tmp_path, mqtt={"receive_maximum": 20})
    store = open_store(settings.storage.path)
    ing = Ingestor(store, settings, T0)
    for i in range(50):  # batches that store no reading (each message rejected) keep their guard in the ring
        ing.process(msg("ikb/1/lux", f"x{i}", T0_MS + i, mid=i + 1, qos=1))
        if i % 10 == 9:
            assert ing.flush()
    assert rows(store, "ingest_deliveries") == 20  # receive_maximum slots, never more
    # After a restart, a redelivery of one of the last 20 is recognised; an older one is not (the broker
    # cannot hold it unacknowledged: at most receive_maximum messages are in flight).
    again = Ingestor(store, settings, T0 + timedelta(minutes=1))
    again.process(msg("ikb/1/lux", "x49", T0_MS + 100, mid=50, qos=1, dup=True))
    again.process(msg("ikb/1/lux", "x31", T0_MS + 101, mid=32, qos=1, dup=True))
    again.process(msg("ikb/1/lux", "x4", T0_MS + 102, mid=5, qos=1, dup=True))
    again.process(msg("ikb/1/lux", "4", T0_MS + 103, mid=51, qos=1))  # a reading: this batch's guard on its row
    assert again.flush()
    assert (again.counts.duplicates, again.counts.rejected, again.counts.stored) == (2, 1, 1)
    # A smaller window: the ring is laid out again with the tags and keeps the newest.
    small = Ingestor(store, settings_for(tmp_path, mqtt={"receive_maximum": 10}), T0 + timedelta(minutes=2))
    assert rows(store, "ingest_deliveries") == 10
    small.process(msg("ikb/1/lux", "4", T0_MS + 200, mid=51, qos=1, dup=True))
    small.process(msg("ikb/1/lux", "x4", T0_MS + 201, mid=5, qos=1, dup=True))
    assert small.flush()
    assert (small.counts.duplicates, small.counts.rejected) == (2, 0)
    store.close()


def test_a_small_live_batch_carries_its_delivery_guard_on_its_newest_row_and_a_crash_loses_none(farm):
    """The guard of a minute's batch rides on the page of readings the commit writes anyway; after a crash
    before the PUBACKs, a restart, or a fold, each redelivery is still recognised."""
    settings, store = farm
    tags = "SELECT count(*) FROM readings_recent WHERE deliveries IS NOT NULL"
    ing = Ingestor(store, settings, T0)
    sent = [msg("ikb/1/lux", str(i), T0_MS + i * 1000, mid=i + 1, qos=1) for i in range(10)]
    for m in sent:
        ing.process(m)
    assert ing.flush()
    assert (rows(store, "ingest_deliveries"), store.execute(tags).fetchone()[0]) == (0, 1)
    # A batch that stores no reading (a rejection) keeps its guard in the ring.
    bad = msg("ikb/1/lux", "geen getal", T0_MS + 20_000, mid=11, qos=1)
    ing.process(bad)
    assert ing.flush()
    assert rows(store, "ingest_deliveries") == 1
    # A crash: the restarted agent reads both, and lays the ring out again with the whole guard.
    again = Ingestor(store, settings, T0 + timedelta(minutes=1))
    assert (rows(store, "ingest_deliveries"), store.execute(tags).fetchone()[0]) == (11, 0)
    for m in [*sent, bad]:
        again.process(dataclasses.replace(m, received_ms=m.received_ms + 60_000, dup=True))
    assert again.flush()
    assert (again.counts.duplicates, again.counts.stored, again.counts.rejected) == (11, 0, 0)
    # A tagged batch, then a fold (which empties readings_recent): the guard goes to the ring first.
    more = [msg("ikb/1/lux", str(i), T0_MS + 100_000 + i, mid=100 + i, qos=1) for i in range(3)]
    for m in more:
        again.process(m)
    assert again.flush()
    assert store.execute(tags).fetchone()[0] == 1
    assert again.fold() == 3  # the first ten were moved by the restarted agent's first commit
    third = Ingestor(store, settings, T0 + timedelta(minutes=2))
    for m in more:
        third.process(dataclasses.replace(m, received_ms=m.received_ms + 60_000, dup=True))
    assert third.flush()
    assert (third.counts.duplicates, third.counts.stored, rows(store)) == (3, 0, 13)
    # A batch bigger than a tag holds keeps its guard in the ring.
    big = [msg("ikb/1/lux", str(i), T0_MS + 200_000 + i, mid=1000 + i, qos=1) for i in range(DELIVERY_TAG_MAX + 1)]
    for m in big:
        third.process(m)
    assert third.flush()
    assert store.execute(tags).fetchone()[0] == 0


def test_a_commit_that_fails_after_packing_its_guard_is_retried_whole_and_a_restart_still_knows_it(farm, caplog):
    """The database refuses the batch after its guard was packed (here a trigger; on a farm a full disk):
    nothing is acknowledged, the retry commits the same batch once, and after a crash its redeliveries are
    recognised with the sequence numbers the retry gave them."""
    settings, store = farm
    ing = Ingestor(store, settings, T0)
    sent = [msg("ikb/1/lux", str(i), T0_MS + i * 1000, mid=i + 1, qos=1) for i in range(5)]
    for m in sent:
        ing.process(m)
    with store.transaction() as db:
        db.execute("CREATE TRIGGER refuse_guard BEFORE UPDATE OF deliveries ON readings_recent"
                   " BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    assert not ing.flush()
    assert (rows(store), ing.counts.stored) == (0, 0)
    with store.transaction() as db:
        db.execute("DROP TRIGGER refuse_guard")
    assert ing.flush()
    assert (rows(store), ing.counts.stored) == (5, 5)
    again = Ingestor(store, settings, T0 + timedelta(minutes=1))
    for m in sent:
        again.process(dataclasses.replace(m, received_ms=m.received_ms + 60_000, dup=True))
    assert again.flush()
    assert (again.counts.duplicates, again.counts.stored, rows(store)) == (5, 0, 5)


def test_a_damaged_delivery_guard_is_said_in_the_log_and_the_agent_starts(farm, caplog):
    settings, store = farm
    ing = Ingestor(store, settings, T0)
    ing.process(msg("ikb/1/lux", "1", T0_MS, mid=1, qos=1))
    assert ing.flush()
    with store.transaction() as db:
        db.execute("UPDATE readings_recent SET deliveries = x'0102' WHERE deliveries IS NOT NULL")
    again = Ingestor(store, settings, T0 + timedelta(minutes=1))
    assert "a damaged delivery guard on readings_recent" in caplog.text
    again.process(msg("ikb/1/lux", "2", T0_MS + 1000, mid=2, qos=1))
    assert again.flush() and rows(store) == 2


def test_a_minutes_commit_with_its_delivery_guard_takes_about_one_new_page(farm):
    """A minute's readings of the farm's sensors, each an MQTT delivery to remember: the commit writes the
    page of readings it appends to, not a page of the guard as well (bench/steady.py: a third less)."""
    settings, store = farm
    ing = Ingestor(store, settings, T0)
    climate = json.dumps({"AM2301": {"Temperature": 20.5, "Humidity": 61}})
    wal = Path(settings.storage.path + "-wal")
    store.conn.execute("PRAGMA wal_autocheckpoint=0")
    frames, mid = [], 0
    for minute in range(120):
        before = wal.stat().st_size if wal.exists() else 0
        for k in range(4):
            for topic, payload in (("ikb/1/lux", "20"), ("tele/eierlokaal/SENSOR", climate)):
                mid += 1
                ing.process(msg(topic, payload, T0_MS + minute * 60_000 + k * 15_000, mid=mid, qos=1))
        assert ing.flush()
        frames.append((wal.stat().st_size - before) // (4096 + 24))
    late = frames[30:]
    assert sum(late) / len(late) < 1.6, late  # with the guard in a page of its own: about 2.4
    assert rows(store, "ingest_deliveries") == 0


def test_an_older_versions_delivery_guard_is_carried_over(tmp_path):
    import base64
    import struct
    import zlib

    from sqlite_utils import Database

    from agent.store.schema import migrations

    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="m010_sd_writes")
    crc = zlib.crc32(b"8", zlib.crc32(b"ikb/1/lux"))  # message 8 was committed, its PUBACK lost
    blob = base64.b64encode(b"".join(struct.pack("<HI", mid, c) for mid, c in ((7, 1), (8, crc), (9, 2)))).decode()
    db.execute("INSERT INTO kv(key, value) VALUES ('ingest.recent_deliveries', ?)", [blob])
    db.conn.commit()
    db.close()
    store = open_store(path)  # the new version migrates
    assert store.get_kv("ingest.recent_deliveries") is None
    assert [(mid, c) for _slot, _seq, mid, c in store.execute("SELECT * FROM ingest_deliveries ORDER BY seq")] == [
        (7, 1), (8, crc), (9, 2)]
    ing = Ingestor(store, settings_for(tmp_path), T0)
    ing.process(RawMessage("ikb/1/lux", b"8", T0_MS, mid=8, qos=1, dup=True))
    assert ing.flush()
    assert (ing.counts.duplicates, ing.counts.stored) == (1, 0)
    store.close()


# ---------------------------------------------------------------------- marks for the per-day cache


def test_a_live_reading_after_the_cached_days_leaves_no_mark_and_a_late_one_still_does(farm):
    settings, store = farm
    ing = Ingestor(store, settings, T0, live=False)
    sid = next(s.id for s in ing.specs if s.kind == "lux")
    # Two days of lux readings, the days cached by `run` (which raises the watermark first).
    for i in range(0, 48 * 60, 10):
        ing.process(msg("ikb/1/lux", json.dumps({"value": 20.0, "ts": T0_MS + i * 60_000}), T0_MS + i * 60_000))
    assert ing.flush()
    store.execute("DELETE FROM derived_marks")
    now = T0 + timedelta(days=2)
    subject = next(s for s in build_subjects(store, settings, settings.params().sensor_rules)
                   if s.family == "light" and s.sensor_ids == (sid,))
    assert cache_days(store, subject, T0_MS, to_ms(now), settings.farm_view().tz) >= 1
    until = store.execute("SELECT until FROM derived_watermark").fetchone()[0]
    assert until <= to_ms(now)
    live = Ingestor(store, settings, now)
    live.process(msg("ikb/1/lux", json.dumps({"value": 21.0, "ts": to_ms(now)}), to_ms(now)))
    assert live.flush()
    assert rows(store, "derived_marks") == 0  # nothing cached can change: no page written for it
    late = to_ms(T0 + timedelta(hours=27, minutes=5))  # inside a cached day
    live.process(msg("ikb/1/lux", json.dumps({"value": 0.0, "ts": late}), to_ms(now) + 1000))
    assert live.flush()
    assert store.execute("SELECT sensor_id, hour FROM derived_marks").fetchall() == [(sid, late // 3_600_000)]


def test_the_watermark_only_rises(farm):
    _settings, store = farm
    assert raise_watermark(store, 1000)
    assert not raise_watermark(store, 500)
    assert store.execute("SELECT until FROM derived_watermark").fetchone()[0] == 1000
    assert raise_watermark(store, 2000)


# ---------------------------------------------------------------------- sensor health


def test_a_write_handed_to_ingestion_goes_with_its_next_commit_of_readings_latest_per_key(farm):
    settings, store = farm
    ing = Ingestor(store, settings, T0)
    seen = []
    ing.ride_along("window", lambda conn: seen.append("first"))
    ing.ride_along("window", lambda conn: conn.execute(
        "INSERT INTO kv(key, value) VALUES ('ride', 'second')"))  # the latest of a key replaces the earlier
    assert rows(store, "kv WHERE key = 'ride'") == 0
    ing.process(msg("ikb/1/lux", "5", T0_MS))
    assert ing.flush()
    assert seen == [] and store.get_kv("ride") == "second"  # in the same commit as the reading
    assert rows(store, "readings") == 1
    ing.process(msg("ikb/1/lux", "6", T0_MS + 1000))
    assert ing.flush()  # done once: the next commit carries nothing more
    assert rows(store, "kv WHERE key = 'ride'") == 1


def test_a_handed_over_write_that_fails_is_dropped_and_never_keeps_readings_from_being_stored(farm, caplog):
    settings, store = farm
    ing = Ingestor(store, settings, T0)

    def broken(conn):
        conn.execute("INSERT INTO kv(key, value) VALUES ('half', 'written')")
        raise ValueError("a stored moment that does not parse")

    ing.ride_along("window", broken)
    ing.ride_along("other", lambda conn: conn.execute("INSERT INTO kv(key, value) VALUES ('other', 'ok')"))
    ing.process(msg("stal1/mains", "on", T0_MS))
    ing.process(msg("stal1/mains", "off", T0_MS + 10))  # an alarm: committed at once, rider or not
    assert rows(store, "readings") == 2
    assert store.get_kv("half") is None and store.get_kv("other") == "ok"  # undone; the other one kept
    assert "window not written with the readings" in caplog.text
    ing.process(msg("ikb/1/lux", "5", T0_MS + 20))
    assert ing.flush() and rows(store, "readings") == 3  # dropped, not retried with every commit


def test_sensor_health_is_written_every_ten_minutes_live_and_on_stop_and_status_shows_newer_readings(farm):
    from agent.ingest import sensor_status

    settings, store = farm
    ing = Ingestor(store, settings, T0)
    sid = next(s.id for s in ing.specs if s.kind == "lux")

    def last_seen():
        return store.execute("SELECT last_seen FROM sensor_health WHERE sensor_id = ?", [sid]).fetchone()[0]

    ing.process(msg("stal1/mains", "on", T0_MS))
    ing.process(msg("ikb/1/lux", "1", T0_MS + 1000))
    ing.process(msg("stal1/mains", "off", T0_MS + 2000))  # committed at once: the first commit writes health
    assert last_seen() == T0_MS + 1000
    ing.process(msg("ikb/1/lux", "2", T0_MS + 3000))
    ing.process(msg("stal1/mains", "on", T0_MS + 4000))  # a second commit within ten minutes: health waits
    assert last_seen() == T0_MS + 1000
    assert ing.heard()[sid] == T0_MS + 3000  # what `run`'s health check reads meanwhile
    # What `ikb-agent status` and the upstream documents show meanwhile: the newer stored reading.
    status = next(s for s in sensor_status(store) if s.sensor_id == sid)
    assert (to_ms(status.last_seen), status.last_value) == (T0_MS + 3000, 2.0)
    ing.write_health()
    assert last_seen() == T0_MS + 3000


def test_the_health_check_takes_what_the_ingestor_heard_over_the_stored_moment(farm):
    from agent.ingest.health import check_health

    settings, store = farm
    ing = Ingestor(store, settings, T0)
    ids = [s.id for s in ing.specs]
    for i in range(12):  # every 30 s: the interval is learned
        ing.process(msg("ikb/1/lux", str(i), T0_MS + i * 30_000))
    assert ing.flush()
    ing.write_health()
    later = T0 + timedelta(minutes=10)
    heard = {**ing.heard(), ids[0]: to_ms(later) - 10_000}
    assert ids[0] not in check_health(store, later, sensor_ids=ids, started=T0, heard=heard)
    assert ids[0] in check_health(store, later, sensor_ids=ids, started=T0)


# ---------------------------------------------------------------------- durability where it is evidence


def test_config_default_commits_a_minute_and_accepts_up_to_ten(tmp_path):
    data = farm_dict(tmp_path)
    data["ingest"] = {}
    assert config_from_dict(data).ingest.flush_interval_ms == 60_000
    data["ingest"] = {"flush_interval_ms": 600_000}
    assert config_from_dict(data).ingest.flush_interval_ms == 600_000


MODES = {2: "FULL", 1: "NORMAL", 0: "OFF"}


def synchronous_at_commits(store, statements: list[str]) -> list[str]:
    """Return the synchronous setting in force at each COMMIT of a statement sequence traced on ``store``
    (which now has its own setting again)."""
    mode, out = MODES[store.execute("PRAGMA synchronous").fetchone()[0]], []
    for sql in statements:
        text = " ".join(sql.split()).upper()
        if text.startswith("PRAGMA SYNCHRONOUS ="):
            mode = text.split("=", 1)[1].strip()
        elif text in ("COMMIT", "END"):
            out.append(mode)
    return out


def test_readings_and_logbook_entries_are_fsynced_and_only_the_jobs_own_writes_are_not(tmp_path, broker):
    from agent.cli.runner import Agent
    from agent.logbooks import add_entry

    settings = settings_for(tmp_path, mqtt={"port": broker.port, "client_id": f"agent-{tmp_path.name}"})
    agent = Agent(settings)
    agent.start()
    try:
        ingest, listener, jobs = agent.stores
        assert agent.ingestor.store is ingest
        # PRAGMA synchronous: 2 = FULL (fsync at every commit), 1 = NORMAL (at the checkpoint)
        assert [s.execute("PRAGMA synchronous").fetchone()[0] for s in (ingest, listener, jobs)] == [2, 2, 1]
        # A logbook entry written on the jobs' connection (a drafted check) is fsynced all the same.
        traced: list[str] = []
        jobs.conn.set_trace_callback(traced.append)
        try:
            add_entry(jobs, settings, "checks", {"date": "2026-03-28", "item": "generator", "result": "ok",
                                                 "checked_by": "agent", "notes": ""},
                      by="ikb-agent", now=T0, state="draft")
        finally:
            jobs.conn.set_trace_callback(None)
        assert synchronous_at_commits(jobs, traced) == ["FULL"]
        assert jobs.execute("PRAGMA synchronous").fetchone()[0] == 1  # and the jobs' own setting is back
        # The ingest path commits on its FULL connection: traced the same way.
        traced.clear()
        ingest.conn.set_trace_callback(traced.append)
        try:
            agent.ingestor.submit(msg("stal1/alarm", "alarm", T0_MS))
            assert agent.ingestor.wait_idle(10)
        finally:
            ingest.conn.set_trace_callback(None)
        assert synchronous_at_commits(ingest, traced) and set(synchronous_at_commits(ingest, traced)) == {"FULL"}
    finally:
        agent.stop()


def test_the_web_writes_what_people_record_with_fsync(tmp_path, config_file):
    from agent.config import load_config
    from webui import create_app
    from webui.state import get_writer

    app = create_app(load_config(config_file), str(tmp_path / "farm.db"))
    with app.test_request_context("/"):
        assert get_writer().execute("PRAGMA synchronous").fetchone()[0] == 2


def test_a_sensor_numbered_past_what_the_recent_table_holds_stops_the_start_with_a_clear_message(farm):
    """readings_recent's key keeps the sensor in 20 bits: a sensor numbered beyond would have its readings
    refused one by one, out of sight. Never reached by configuring sensors; refused at the start all the same."""
    from agent.store import RECENT_KEY, StoreError
    from agent.store.readings import sync_sensors

    settings, store = farm
    with store.transaction() as db:
        db.execute("INSERT INTO sensors(id, topic, field, kind, location, created_at) VALUES (?, 'ikb/9/lux', '',"
                   " 'lux', '1', 0)", [RECENT_KEY])
    extra = settings.sensors[0].model_copy(update={"topic": "ikb/9/lux"})
    with pytest.raises(StoreError) as caught:
        sync_sensors(store, [*settings.sensors, extra], T0)
    assert str(caught.value).endswith(
        f"sensor ikb/9/lux heeft nummer {RECENT_KEY} in de database, hoger dan {RECENT_KEY - 1}, het hoogste dat de"
        " agent kan opslaan; er is niets opgeslagen")
    assert rows(store) == 0


def test_a_page_left_open_all_day_writes_its_session_once_an_hour_and_a_short_idle_limit_is_kept(tmp_path):
    """The bench's poller (every 10 s) wrote its login session every ten minutes: 144 commits a day on the SD
    card for nothing but "still here". Now once an hour, or a tenth of the idle limit when that is shorter."""
    from agent.store.users import add_user, session_user, start_session

    store = open_store(tmp_path / "farm.db")
    t0 = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)
    add_user(store, "boer", "farmer", "lang genoeg wachtwoord", t0)
    uid = store.query("SELECT id FROM users WHERE name = 'boer'")[0]["id"]
    sid = start_session(store, uid, t0)

    def day_of_polls(idle_s):
        writes, seen = 0, store.query("SELECT last_seen FROM web_sessions")[0]["last_seen"]
        start = datetime.fromtimestamp(seen / 1000, timezone.utc)
        for k in range(1, 24 * 360 + 1):  # a poll every 10 s for a day
            assert session_user(store, sid, start + timedelta(seconds=10 * k), max_age_s=90 * 86400, idle_s=idle_s)
            now_seen = store.query("SELECT last_seen FROM web_sessions")[0]["last_seen"]
            writes += now_seen != seen
            seen = now_seen
        return writes

    # Written by the first poll past the interval: every 3,610 s with the default idle limit (7 days), every
    # 370 s with an idle limit of an hour (a tenth of it); the session never ends while the page polls.
    assert day_of_polls(7 * 86400) == 86400 // 3610 == 23  # was 86400 // 610 == 141
    assert day_of_polls(3600) == 86400 // 370
    store.close()
