"""Scheduled jobs of the ingest feature, called with a fixed clock: retention roll-up and sensor health."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from agent.ingest.health import check_health, sensor_status
from agent.ingest.ingestor import Ingestor
from agent.scheduler import JobSpec, Scheduler
from agent.store.connection import open_store
from agent.store.readings import insert_readings, series, to_ms
from agent.store.retention import roll_up
from sensors.model import RawMessage

from .farmconfig import settings_for

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def sensor_id(store, topic):
    """Return the id of the sensor on a topic."""
    return store.query("SELECT id FROM sensors WHERE topic = ?", [topic])[0]["id"]


def test_old_raw_readings_become_minute_aggregates_and_state_changes_stay(tmp_path):
    settings = settings_for(tmp_path)
    store = open_store(settings.storage.path)
    Ingestor(store, settings, NOW, live=False)
    lux, alarm = sensor_id(store, "ikb/1/lux"), sensor_id(store, "stal1/alarm")
    old = to_ms(NOW - timedelta(days=40))
    recent = to_ms(NOW - timedelta(days=1))
    with store.transaction() as db:
        # Six lux readings per minute for two minutes, 40 days ago; and some recent ones.
        insert_readings(db, [(lux, old + i * 10_000, float(i)) for i in range(12)])
        insert_readings(db, [(lux, recent + i * 10_000, 5.0) for i in range(3)])
        # Alarm panel 40 days ago: ok, ok (heartbeat), alarm, alarm (heartbeat), ok.
        insert_readings(db, [(alarm, old, 0.0), (alarm, old + 60_000, 0.0), (alarm, old + 90_000, 1.0),
                             (alarm, old + 150_000, 1.0), (alarm, old + 200_000, 0.0)])
    result = roll_up(store, NOW, raw_retention_days=35, aggregate_retention_days=800)
    assert result.aggregated == 12 + 5 and result.kept_changes == 3
    aggs = store.query("SELECT minute, n, vmin, vmax, mean FROM aggregates WHERE sensor_id = ? ORDER BY minute", [lux])
    first_minute = old // 60_000
    assert aggs == [{"minute": first_minute, "n": 6, "vmin": 0.0, "vmax": 5.0, "mean": 2.5},
                    {"minute": first_minute + 1, "n": 6, "vmin": 6.0, "vmax": 11.0, "mean": 8.5}]
    # Raw rows outside the window are gone (lux), or thinned to the changes (alarm).
    assert [v for _, v in series(store, lux, NOW - timedelta(days=41), NOW)] == [2.5, 8.5, 5.0, 5.0, 5.0]
    assert [(t - old, v) for t, v in store.execute(
        "SELECT ts, value FROM readings WHERE sensor_id = ? ORDER BY ts", [alarm]).fetchall()] == [
        (0, 0.0), (90_000, 1.0), (200_000, 0.0)]
    # Running again changes nothing: the change rows kept are not aggregated twice.
    again = roll_up(store, NOW + timedelta(hours=1), raw_retention_days=35, aggregate_retention_days=800)
    assert again.aggregated == 0
    assert store.query("SELECT sum(n) AS n FROM aggregates WHERE sensor_id = ?", [alarm])[0]["n"] == 5
    # A late raw reading for a rolled-up minute merges into it.
    with store.transaction() as db:
        insert_readings(db, [(lux, old + 5_000, 100.0)])
    roll_up(store, NOW, raw_retention_days=35, aggregate_retention_days=800)
    merged = store.query("SELECT n, vmax, mean FROM aggregates WHERE sensor_id = ? AND minute = ?", [lux, first_minute])
    assert merged == [{"n": 7, "vmax": 100.0, "mean": (15 + 100) / 7}]
    # Aggregates past their retention expire.
    later = NOW + timedelta(days=798)
    assert roll_up(store, later, raw_retention_days=35, aggregate_retention_days=800).aggregates_expired == 2 + 4
    assert store.query("SELECT count(*) AS n FROM aggregates")[0]["n"] == 1  # yesterday's minute, rolled up now
    store.close()


def test_a_silent_sensor_gets_an_offline_event_closed_when_heard_again(tmp_path):
    settings = settings_for(tmp_path, sensors=[
        {"topic": "ikb/1/lux", "kind": "lux", "location": "1", "interval": 60},
        {"topic": "ikb/1/temp", "kind": "temperature", "location": "1"},
    ])
    store = open_store(settings.storage.path)
    ing = Ingestor(store, settings, NOW, live=False)
    lux, temp = sensor_id(store, "ikb/1/lux"), sensor_id(store, "ikb/1/temp")
    t0 = to_ms(NOW)
    ing.process(RawMessage("ikb/1/lux", b"10", t0))
    ing.process(RawMessage("ikb/1/temp", b"20", t0))
    ing.flush()
    ids = [lux, temp]
    # Three intervals (180 s) of silence is still fine; a little more is not.
    assert check_health(store, NOW + timedelta(seconds=180), sensor_ids=ids, started=NOW) == []
    assert check_health(store, NOW + timedelta(seconds=181), sensor_ids=ids, started=NOW) == [lux]
    assert check_health(store, NOW + timedelta(seconds=300), sensor_ids=ids, started=NOW) == []  # already open
    event = store.query("SELECT kind, location, sensor_id, start, \"end\" FROM events")
    assert event == [{"kind": "sensor_offline", "location": "1", "sensor_id": lux, "start": t0, "end": None}]
    status = {s.sensor_id: s for s in sensor_status(store, ids)}
    assert status[lux].offline_since == NOW and status[temp].offline_since is None
    # The temperature sensor's interval is not known (nor configured): no judgement yet.
    assert status[temp].interval_s is None
    ing.process(RawMessage("ikb/1/lux", b"11", t0 + 400_000))
    ing.flush()
    assert store.query("SELECT \"end\" FROM events")[0]["end"] == t0 + 400_000
    assert sensor_status(store, [lux])[0].offline_since is None
    store.close()


def test_silence_while_the_agent_was_down_is_not_the_sensors_fault(tmp_path):
    settings = settings_for(tmp_path, sensors=[{"topic": "ikb/1/lux", "kind": "lux", "location": "1",
                                                "interval": 60}])
    store = open_store(settings.storage.path)
    ing = Ingestor(store, settings, NOW, live=False)
    ing.process(RawMessage("ikb/1/lux", b"10", to_ms(NOW)))
    ing.flush()
    restarted = NOW + timedelta(days=1)
    ids = [s.id for s in ing.specs]
    assert check_health(store, restarted + timedelta(seconds=60), sensor_ids=ids, started=restarted) == []
    assert check_health(store, restarted + timedelta(seconds=200), sensor_ids=ids, started=restarted) == ids
    store.close()


def test_a_crashing_job_is_logged_and_the_others_keep_running(caplog):
    ran = threading.Event()
    calls = []

    def broken(now):
        raise ValueError("boom")

    def fine(now):
        calls.append(now)
        ran.set()

    fixed = datetime(2026, 1, 1, tzinfo=timezone.utc)
    scheduler = Scheduler([JobSpec("broken", broken, 0.05, first_delay_s=0), JobSpec("fine", fine, 0.05, 0)],
                          now=lambda: fixed)
    scheduler.start()
    try:
        assert ran.wait(5)
        deadline = datetime.now().timestamp() + 5
        while scheduler.failures.get("broken", 0) < 2 and datetime.now().timestamp() < deadline:
            ran.clear()
            ran.wait(1)
    finally:
        scheduler.stop()
    assert scheduler.failures["broken"] >= 2 and calls[0] == fixed
    assert any("job broken failed: ValueError('boom')" in r.getMessage() for r in caplog.records)


def test_jobs_run_on_a_c_library_without_malloc_trim(monkeypatch):
    """Issue 15: the heap is handed back after each job on glibc; on musl or macOS (no malloc_trim) jobs still run."""
    import ctypes

    from agent import memory

    assert memory.release_memory() is True  # this machine's glibc

    class NoTrim:
        def __init__(self, name):
            pass

    memory._malloc_trim.cache_clear()
    monkeypatch.setattr(ctypes, "CDLL", NoTrim)  # a C library without the symbol
    try:
        calls = []
        scheduler = Scheduler([JobSpec("evaluate", calls.append, 60)], now=lambda: NOW)
        scheduler.run_now("evaluate")
        assert calls == [NOW] and scheduler.runs["evaluate"].error is None
        assert memory.release_memory() is False
    finally:
        memory._malloc_trim.cache_clear()
