"""The ingest path without a broker: batches, duplicates, state changes, dead letters, listeners, replay."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from agent.ingest.ingestor import Ingestor, StoredReading
from agent.store.connection import open_store
from agent.store.readings import from_ms, series, to_ms
from sensors.model import RawMessage
from sensors.trace import trace_line

from .farmconfig import farm_dict, settings_for, to_toml

T0 = datetime(2026, 3, 28, 20, 0, tzinfo=timezone.utc)
T0_MS = to_ms(T0)

@pytest.fixture
def cli_for(cli, tmp_path):
    """Return a runner of the CLI with a configuration written from a mapping."""
    def make(data: dict):
        path = tmp_path / "farm.toml"
        path.write_text(to_toml(data), encoding="utf-8")
        return lambda *args: cli(*args, config=path)

    return make


def msg(topic, payload, at_ms, **kw):
    """Return a raw message received at ``at_ms``."""
    data = payload if isinstance(payload, bytes) else str(payload).encode()
    return RawMessage(topic, data, at_ms, **kw)


def count(store, table="readings"):
    """Return the number of rows of a table."""
    return store.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def farm(tmp_path):
    """Return (settings, store) of the small farm."""
    settings = settings_for(tmp_path)
    store = open_store(settings.storage.path)
    yield settings, store
    store.close()


def test_measurements_are_stored_per_message_and_redeliveries_once(farm):
    settings, store = farm
    ing = Ingestor(store, settings, T0, live=False)
    for i in range(10):
        ing.process(msg("ikb/1/lux", json.dumps({"value": i, "ts": T0_MS + i * 1000}), T0_MS + i * 1000 + 5))
    ing.process(msg("ikb/1/lux", json.dumps({"value": 3, "ts": T0_MS + 3000}), T0_MS + 9000))  # redelivery
    assert ing.flush()
    assert (ing.counts.stored, ing.counts.duplicates, ing.counts.rejected) == (10, 1, 0)
    sid = ing.specs[0].id
    assert series(store, sid, T0, T0 + timedelta(minutes=1)) == [(T0_MS + i * 1000, float(i)) for i in range(10)]


def test_state_sensors_are_stored_on_change_plus_one_heartbeat_per_minute(farm):
    settings, store = farm
    ing = Ingestor(store, settings, T0, live=False)
    # The panel says "ok" every 10 s for 3 minutes, then "alarm" twice, then "ok".
    times = [T0_MS + i * 10_000 for i in range(18)]
    for t in times:
        ing.process(msg("stal1/alarm", "ok", t))
    ing.process(msg("stal1/alarm", "alarm", T0_MS + 180_000))
    ing.process(msg("stal1/alarm", "alarm", T0_MS + 190_000))
    ing.process(msg("stal1/alarm", "ok", T0_MS + 200_000))
    ing.flush()
    sid = next(s.id for s in ing.specs if s.kind == "ventilation_alarm")
    rows = series(store, sid, T0, T0 + timedelta(hours=1))
    assert rows == [(T0_MS, 0.0), (T0_MS + 60_000, 0.0), (T0_MS + 120_000, 0.0),
                    (T0_MS + 180_000, 1.0), (T0_MS + 200_000, 0.0)]
    # Heartbeat evidence: no gap between stored readings exceeds 60 s + the panel's interval.
    assert max(b[0] - a[0] for a, b in zip(rows, rows[1:])) <= 60_000 + 10_000
    # "stored" counts rows written; unchanged repeats count as duplicates (already known).
    assert ing.counts.stored == 5 and ing.counts.duplicates == 16


def test_state_on_change_survives_a_restart_and_out_of_order_arrivals(farm):
    settings, store = farm
    first = Ingestor(store, settings, T0, live=False)
    first.process(msg("stal1/mains", "on", T0_MS))
    first.flush()
    second = Ingestor(store, settings, T0, live=False)
    second.process(msg("stal1/mains", "on", T0_MS + 5_000))  # unchanged, known from the database
    second.process(msg("stal1/mains", json.dumps({"value": "off", "ts": T0_MS + 30_000}), T0_MS + 31_000))
    second.process(msg("stal1/mains", json.dumps({"value": "on", "ts": T0_MS + 20_000}), T0_MS + 32_000))  # late
    second.flush()
    sid = next(s.id for s in second.specs if s.kind == "mains")
    assert [v for _, v in series(store, sid, T0, T0 + timedelta(minutes=5))] == [1.0, 0.0]
    assert second.counts.duplicates == 2


def test_rejections_are_counted_by_reason_and_kept_in_a_bounded_dead_letter_table(tmp_path):
    settings = settings_for(tmp_path, dead_letter_max=10)
    store = open_store(settings.storage.path)
    ing = Ingestor(store, settings, T0, live=False)
    for i in range(25):
        ing.process(msg("ikb/1/lux", "-1", T0_MS + i))
    ing.process(msg("ikb/1/lux", "NaN", T0_MS + 100))
    ing.process(msg("ikb/E/unknown", "1", T0_MS + 101))
    ing.flush()
    assert ing.counts.rejected == 27
    assert dict(ing.counts.reasons) == {"out_of_range": 25, "not_finite": 1, "unknown_topic": 1}
    counts = {r["reason"]: r["n"] for r in store.query("SELECT reason, n FROM rejection_counts")}
    assert counts == {"out_of_range": 25, "not_finite": 1, "unknown_topic": 1}
    dead = store.query("SELECT topic, head, reason, at FROM rejections ORDER BY id")
    assert len(dead) == 10
    assert dead[-1] == {"topic": "ikb/E/unknown", "head": "1", "reason": "unknown_topic", "at": T0_MS + 101}
    assert dead[-2]["head"].startswith("NaN") and count(store) == 0


def test_listeners_get_committed_new_readings_and_a_failing_one_does_not_stop_ingestion(farm, caplog):
    settings, store = farm
    ing = Ingestor(store, settings, T0, live=False)
    got: list[list[StoredReading]] = []

    def broken(batch):
        raise RuntimeError("boom " + "x" * 1000)

    def recorder(batch):
        # Called after the commit: the readings are in the database already.
        assert count(store) >= len(batch)
        got.append(batch)

    ing.add_listener(broken)
    ing.add_listener(recorder)
    ing.process(msg("tele/eierlokaal/SENSOR", json.dumps({"AM2301": {"Temperature": 4.5, "Humidity": 91}}), T0_MS))
    ing.process(msg("tele/eierlokaal/SENSOR", json.dumps({"AM2301": {"Temperature": 4.5, "Humidity": 91}}), T0_MS))
    ing.flush()
    ing.process(msg("ikb/1/lux", "12", T0_MS + 1000))
    ing.flush()
    flat = [r for batch in got for r in batch]
    assert [(r.kind, r.location, r.value, r.topic) for r in flat] == [
        ("temperature", "E", 4.5, "tele/eierlokaal/SENSOR"), ("humidity", "E", 91.0, "tele/eierlokaal/SENSOR"),
        ("lux", "1", 12.0, "ikb/1/lux")]
    assert all(from_ms(r.ts_ms) >= T0 for r in flat)
    failures = [rec for rec in caplog.records if "broken" in rec.getMessage()]
    assert len(failures) == 2 and all(len(rec.getMessage()) < 400 for rec in failures)


def test_an_alarm_is_committed_at_once_without_waiting_for_the_batch(farm):
    settings, store = farm
    ing = Ingestor(store, settings, T0, live=False)  # batch_size 500
    ing.process(msg("ikb/1/lux", "5", T0_MS))
    assert count(store) == 0  # still batching
    ing.process(msg("stal1/alarm", "alarm", T0_MS + 10))
    assert count(store) == 2
    ing.process(msg("stal1/mains", "off", T0_MS + 20))
    assert count(store) == 3


def test_health_follows_the_latest_reading_and_learns_the_interval(farm):
    settings, store = farm
    ing = Ingestor(store, settings, T0, live=False)
    for i in range(12):
        ing.process(msg("ikb/1/lux", str(i), T0_MS + i * 30_000))
    ing.process(msg("ikb/1/lux", json.dumps({"value": 99, "ts": T0_MS - 60_000}), T0_MS + 400_000))  # old one
    ing.flush()
    sid = ing.specs[0].id
    row = store.query("SELECT last_seen, last_value, interval_s FROM sensor_health WHERE sensor_id = ?", [sid])[0]
    assert row == {"last_seen": T0_MS + 11 * 30_000, "last_value": 11.0, "interval_s": 30.0}


def test_replay_cli_prints_the_contract_json_and_is_idempotent(tmp_path, cli_for):
    trace = tmp_path / "night.jsonl"
    lines = [trace_line(T0_MS + i * 60_000, "ikb/1/lux", 0.2) for i in range(5)]
    lines += [trace_line(T0_MS, "stal1/alarm", "ok"), trace_line(T0_MS + 10_000, "stal1/alarm", "ok"),
              trace_line(T0_MS + 20_000, "stal1/alarm", "ALARM"),
              trace_line(T0_MS, "ikb/1/lux", -4), "this is not json",
              json.dumps({"ts": "2026-03-28T21:00:00+01:00", "topic": "ikb/9/lux", "payload": 1}),
              trace_line(T0_MS, "tele/eierlokaal/SENSOR", {"AM2301": {"Temperature": 4.2, "Humidity": 150}})]
    trace.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = cli_for(farm_dict(tmp_path))
    first = run("replay", str(trace), "--format", "json")
    assert first.code == 0, first.err
    assert json.loads(first.out) == {
        "stored": 5 + 2 + 1, "rejected": 4, "duplicates": 1,
        "reasons": {"malformed_line": 1, "out_of_range": 2, "unknown_topic": 1}}
    again = json.loads(run("replay", str(trace), "--format", "json").out)
    assert again == {"stored": 0, "rejected": 4, "duplicates": 9,
                     "reasons": {"malformed_line": 1, "out_of_range": 2, "unknown_topic": 1}}
    text = run("replay", str(trace))
    assert "opgeslagen: 0" in text.out and "malformed_line" in text.out


def test_replay_of_a_missing_file_is_a_usage_error(tmp_path, cli_for):
    result = cli_for(farm_dict(tmp_path))("replay", str(tmp_path / "nope.jsonl"))
    assert result.code == 2 and "nope.jsonl" in result.err and len(result.err.strip().splitlines()) == 1


def test_a_batch_with_one_reading_already_stored_keeps_the_new_ones_and_counts_the_duplicate(farm):
    """One INSERT for a whole batch when every reading is new; one stored already sends it reading by
    reading: the new ones are stored and passed on, the old one counted, none twice."""
    settings, store = farm
    ing = Ingestor(store, settings, T0)
    heard = []
    ing.add_listener(heard.extend)
    ing.process(msg("ikb/1/lux", json.dumps({"value": 5, "ts": T0_MS}), T0_MS))
    assert ing.flush()
    for i in range(4):  # the first is the reading stored above, sent again by the device
        ing.process(msg("ikb/1/lux", json.dumps({"value": 5 + i, "ts": T0_MS + i * 1000}), T0_MS + i * 1000))
    assert ing.flush()
    assert [r.value for r in heard] == [5.0, 6.0, 7.0, 8.0]
    assert (ing.counts.stored, ing.counts.duplicates) == (4, 1)
    assert count(store) == 4


def test_a_batch_of_a_thousand_readings_is_stored_whole_and_every_redelivery_is_recognised(farm):
    """A big batch goes in as several multi-row INSERTs (and as many ring writes): every reading is
    stored and passed on once, and after a crash before the PUBACKs the broker resending all of them
    (DUP, same packet ids) to the restarted agent stores nothing twice."""
    settings, store = farm
    ing = Ingestor(store, settings, T0, batch_size=1000)
    heard = []
    ing.add_listener(heard.extend)
    # no device timestamp: only the guard (packet id and checksum) can tell a redelivery from a new reading
    sent = [msg("ikb/1/lux", json.dumps({"value": i % 500}), T0_MS + i * 1000, mid=i + 1, qos=1, generation=1)
            for i in range(1000)]
    for m in sent:
        ing.process(m)  # the thousandth fills the batch: committed
    assert ing.pending_since() is None
    assert (ing.counts.stored, count(store)) == (1000, 1000)
    assert [(r.ts_ms, r.value) for r in heard] == [(T0_MS + i * 1000, float(i % 500)) for i in range(1000)]
    again = Ingestor(store, settings, T0, batch_size=1000)  # restarted: the guard is read from the database
    again.add_listener(heard.extend)
    for m in sent:
        again.process(dataclasses.replace(m, received_ms=m.received_ms + 3_600_000, dup=True, generation=2))
    assert again.flush()
    assert (again.counts.stored, again.counts.duplicates, count(store), len(heard)) == (0, 1000, 1000, 1000)


def test_a_big_batch_with_one_reading_already_stored_deep_inside_keeps_every_new_one(farm):
    settings, store = farm
    ing = Ingestor(store, settings, T0, batch_size=1000)
    heard = []
    ing.add_listener(heard.extend)
    ing.process(msg("ikb/1/lux", json.dumps({"value": 7, "ts": T0_MS + 700_000}), T0_MS + 700_000))
    assert ing.flush()
    for i in range(1000):  # reading 700 is the one stored above, in the third INSERT of the batch
        ing.process(msg("ikb/1/lux", json.dumps({"value": 7 if i == 700 else 1, "ts": T0_MS + i * 1000}),
                        T0_MS + i * 1000))
    assert ing.flush()
    assert (ing.counts.stored, ing.counts.duplicates, count(store)) == (1000, 1, 1000)
    assert [r.ts_ms for r in heard] == [T0_MS + 700_000] + [T0_MS + i * 1000 for i in range(1000) if i != 700]


def test_a_backlog_waits_with_the_broker_beyond_the_inbox_bound_and_nothing_is_lost():
    """Issue 15: during a catch-up the inbox is full; its bound is what `run` holds, the network thread waits."""
    import threading

    from agent.ingest.ingestor import QUEUE_MAX, Inbox

    assert QUEUE_MAX <= 2_000  # 20,000 held 6.6 MB of messages at the catch-up's peak
    inbox = Inbox(QUEUE_MAX)
    n = QUEUE_MAX + 500
    network = threading.Thread(target=lambda: [inbox.put(RawMessage("farm/1/t", b"%d" % i, i)) for i in range(n)])
    network.start()
    network.join(1.0)
    assert network.is_alive()  # waiting: the rest stays with the broker (TCP backpressure)
    assert inbox._fifo.qsize() == QUEUE_MAX
    inbox.put(RawMessage("farm/1/alarm", b"1", 0), urgent=True)  # an alarm input never waits
    got = [inbox.get(timeout=5) for _ in range(n + 1)]
    network.join(5)
    assert got[0].topic == "farm/1/alarm"
    assert [int(m.payload) for m in got[1:]] == list(range(n))


def test_an_alarm_sessions_backlog_waits_with_the_broker_beyond_its_own_bound_and_still_goes_first():
    """A catch-up after an outage: mosquitto 2.0 sent the alarm session's queue past its Receive Maximum, and
    25,000 alarm-input messages (with a wake token each) sat in `run`'s memory: 89 MB at the peak, target 80.
    The alarm inputs now have their own bound; a backlog beyond it waits with the broker, in order."""
    import threading

    from agent.ingest.ingestor import QUEUE_MAX, Inbox

    inbox = Inbox(QUEUE_MAX)
    n = QUEUE_MAX + 500
    alarms = threading.Thread(target=lambda: [inbox.put(RawMessage("farm/1/alarm", b"%d" % i, i), urgent=True)
                                              for i in range(n)])
    alarms.start()
    alarms.join(1.0)
    assert alarms.is_alive()  # waiting: the alarm session's own backlog stays with the broker
    assert len(inbox._urgent) == QUEUE_MAX and inbox._fifo.qsize() == 1  # one wake token, not one per message
    inbox.put(RawMessage("farm/1/t", b"x", 0))  # the rest's queue is not held up by the alarms' bound
    got = [inbox.get(timeout=5) for _ in range(n + 1)]
    alarms.join(5)
    # The alarms queued come first and all arrive in order; the rest's message is not lost meanwhile.
    assert all(m.topic == "farm/1/alarm" for m in got[:QUEUE_MAX])
    assert [int(m.payload) for m in got if m.topic == "farm/1/alarm"] == list(range(n))
    assert [m.topic for m in got].count("farm/1/t") == 1
    # An alarm arriving while the ingest thread waits on an empty inbox wakes it at once.
    waiter = threading.Thread(target=lambda: got.append(inbox.get(timeout=5)))
    waiter.start()
    time.sleep(0.2)
    inbox.put(RawMessage("farm/2/alarm", b"1", 0), urgent=True)
    waiter.join(1.0)
    assert not waiter.is_alive() and got[-1].topic == "farm/2/alarm"
