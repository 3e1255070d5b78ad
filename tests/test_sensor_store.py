"""The sensor rules over stored data: readings in SQLite, the per-day cache, events, records, `score`."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from agent.config import load_config
from agent.evaluation.continuous import record_generator_episodes
from agent.evaluation.score import score_window
from agent.evaluation.sensor_inputs import backfill_day_cache, journal_for, load_sensor_inputs, refresh_day_cache
from agent.store.connection import open_store
from agent.store.readings import insert_readings, sync_sensors
from rules.kinds import GENERATOR_OFF, GENERATOR_RUNNING, POPHOLE_CLOSED, POPHOLE_OPEN, VENTILATION_OK
from tests.conftest import FARM_TOML
from tests.synth import light_samples, local, ms, series, state_samples

# The shared two-house farm (house 2 without mechanical ventilation) with every kind of sensor.
FARM = FARM_TOML.split("[mqtt]")[0] + """\
[storage]
path = "{db}"

[[sensors]]
topic = "ikb/1/lux"
kind = "lux"
location = "1"

[[sensors]]
topic = "ikb/1/alarm"
kind = "ventilation_alarm"
location = "1"

[[sensors]]
topic = "ikb/1/generator"
kind = "generator"
location = "1"

[[sensors]]
topic = "ikb/1/mains"
kind = "mains"
location = "1"

[[sensors]]
topic = "ikb/1/pophole"
kind = "pophole"
location = "1"
interval = 3600

[[sensors]]
topic = "ikb/1/climate"
kind = "temperature"
location = "1"
field = "t"

[[sensors]]
topic = "tele/E/SENSOR"
kind = "temperature"
location = "E"
field = "AM2301.Temperature"

[[sensors]]
topic = "tele/E/SENSOR"
kind = "humidity"
location = "E"
field = "AM2301.Humidity"

[[alerts.channels]]
type = "webhook"
name = "telefoon"
url = "http://127.0.0.1:9000/hook"
"""

FIRST = date(2026, 1, 12)
DAYS = 4
SINCE, AT = local(FIRST, "12:00"), local(FIRST + timedelta(days=DAYS), "12:00")


@pytest.fixture
def farm(tmp_path: Path):
    path = tmp_path / "farm.toml"
    path.write_text(FARM.format(db=tmp_path / "farm.db"), encoding="utf-8")
    config = load_config(path)
    store = open_store(config.storage.path)
    ids = {(s.topic, s.field): s.id for s in sync_sensors(store, config.sensors, SINCE - timedelta(days=1)).values()}
    yield path, config, store, ids
    store.close()


def put(store, ids, topic, samples, field=""):
    """Store readings of one sensor."""
    with store.transaction() as db:
        insert_readings(db, [(ids[(topic, field)], t, v) for t, v in samples])


def fill(store, ids, *, lux=None, panel_silences=()):
    """Store a clean farm: light program, alarm panel, mains and generator, pop-hole, climate, egg room."""
    start, end = SINCE - timedelta(days=1), AT + timedelta(days=1)
    put(store, ids, "ikb/1/lux", lux if lux is not None else light_samples(FIRST, DAYS))
    put(store, ids, "ikb/1/alarm", state_samples([(start, VENTILATION_OK)], end, silences=panel_silences))
    put(store, ids, "ikb/1/mains", state_samples([(start, 1)], end))
    t0 = local(FIRST + timedelta(days=1), "10:00")
    put(store, ids, "ikb/1/generator", state_samples(
        [(start, GENERATOR_OFF), (t0, GENERATOR_RUNNING), (t0 + timedelta(minutes=15), GENERATOR_OFF)], end))
    put(store, ids, "ikb/1/climate", series(start, end, lambda t: 20.0), "t")
    put(store, ids, "tele/E/SENSOR", series(start, end, lambda t: 12.0), "AM2301.Temperature")
    put(store, ids, "tele/E/SENSOR", series(start, end, lambda t: 70.0), "AM2301.Humidity")
    changes = [(start, POPHOLE_CLOSED)]
    for i in range(-1, DAYS + 1):
        day = FIRST + timedelta(days=i)
        changes += [(local(day, "09:00"), POPHOLE_OPEN), (local(day, "18:00"), POPHOLE_CLOSED)]
    put(store, ids, "ikb/1/pophole", state_samples(changes, end, heartbeat_s=3600))


def statuses(result, location="1"):
    return {f.rule: f.status for f in result.findings if f.location == location}


def test_a_clean_farm_from_stored_readings(farm):
    _path, config, store, ids = farm
    fill(store, ids)
    result = score_window(store, config, at=AT, since=SINCE)
    got = statuses(result)
    assert {r: got[r] for r in ("G3.8.7", "G3.8.8", "G3.8.9", "G3.8.10", "G3.8.11", "A3.3", "H3.12.8")} == {
        r: "ok" for r in ("G3.8.7", "G3.8.8", "G3.8.9", "G3.8.10", "G3.8.11", "A3.3", "H3.12.8")}
    # The panel works; the agent has listened only since the window began and no channel test is
    # recorded yet: unknown (tests before the agent cannot be known), not C.
    assert got["A3.4"] == "unknown"
    assert statuses(result, None)["A3.5"] == "ok"  # one generator for the farm, tested on day 2
    assert statuses(result, "2")["A3.5"] == "nvt"
    assert statuses(result, "E")["E3.3"] == "ok"
    assert statuses(result, "2")["A3.4"] == "nvt"
    assert statuses(result, "2")["G3.8.9"] == "unknown"  # house 2 has no lux sensor


def test_score_command_over_stored_data(farm, cli):
    path, _config, store, ids = farm
    fill(store, ids, lux=light_samples(FIRST, DAYS, off="20:30"))
    result = cli("score", "--at", AT.isoformat(), "--since", SINCE.isoformat(), "--format", "json", config=path)
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    g389 = next(f for f in doc["findings"] if f["rule"] == "G3.8.9" and f["location"] == "1")
    assert g389["status"] == "D" and g389["source"] == "sensor"
    assert g389["summary"] == "Duisterperiode niet ononderbroken of < 8 uur."
    assert len(g389["occurrences"]) == DAYS
    assert "langste ononderbroken donkerperiode 7 u" in g389["occurrences"][0]["detail"]
    assert doc["verdict"] == "repair_required"
    text = cli("score", "--at", AT.isoformat(), "--since", SINCE.isoformat(), config=path).out
    assert "G3.8.9" in text and "langste ononderbroken donkerperiode" in text


def test_days_are_cached_by_run_and_late_readings_recompute_them(farm):
    _path, config, store, ids = farm
    fill(store, ids)
    assert statuses(score_window(store, config, at=AT, since=SINCE))["G3.8.10"] == "ok"
    assert store.query("SELECT count(*) AS n FROM derived_days")[0]["n"] == 0  # scoring writes no cache
    refresh_day_cache(store, config, SINCE, AT)  # `run`'s step before each evaluation
    cached = store.query("SELECT day FROM derived_days WHERE family = 'light'")
    # The lighting day before the window (the 24 h rules see a stretch crossing into it) and every day
    # of the window but the last, whose context (the next morning's dawn) is not there yet.
    assert len(cached) == DAYS
    assert store.query("SELECT count(*) AS n FROM derived_marks")[0]["n"] == 0
    # A night light switched on in the second night, recorded late (a replayed trace).
    night = [(t, 3.0) for t, v in light_samples(FIRST, DAYS)
             if local(FIRST + timedelta(days=1), "22:00") <= local(FIRST, "00:00") + timedelta(milliseconds=t - ms(
                 local(FIRST, "00:00"))) < local(FIRST + timedelta(days=2), "02:00")]
    with store.transaction() as db:
        db.conn.executemany("DELETE FROM readings WHERE sensor_id = ? AND ts = ?",
                            [(ids[("ikb/1/lux", "")], t) for t, _v in night])
    put(store, ids, "ikb/1/lux", night)
    # A reader sees the late readings at once (the stale cached night is derived again in memory) ...
    result = score_window(store, config, at=AT, since=SINCE)
    g3810 = next(f for f in result.findings if f.rule == "G3.8.10" and f.location == "1")
    assert g3810.status == "D"
    # Only the second lighting day: the 4 hours at 3 lux (and that night's dusk and dawn below 5 lux).
    day = (local(FIRST + timedelta(days=1), "12:00"), local(FIRST + timedelta(days=2), "12:00"))
    assert all(day[0] <= o.start and o.end <= day[1] for o in g3810.occurrences), g3810.occurrences
    assert any(o.detail.endswith("gedurende 4 u 00 min") for o in g3810.occurrences)
    # ... without consuming the marks; `run` consumes them and stores the night again.
    assert store.query("SELECT count(*) AS n FROM derived_marks")[0]["n"] > 0
    refresh_day_cache(store, config, SINCE, AT)
    assert store.query("SELECT count(*) AS n FROM derived_marks")[0]["n"] == 0
    assert len(store.query("SELECT day FROM derived_days WHERE family = 'light'")) == DAYS
    assert score_window(store, config, at=AT, since=SINCE) == result


def test_minute_aggregates_give_the_same_verdicts(farm):
    """Readings older than the raw window live as per-minute aggregates; the rules read them the same way."""
    _path, config, store, ids = farm
    fill(store, ids, lux=[])
    sid = ids[("ikb/1/lux", "")]
    with store.transaction() as db:
        db.conn.executemany("INSERT INTO aggregates(sensor_id, minute, n, vmin, vmax, mean) VALUES (?, ?, 1, ?, ?, ?)",
                            [(sid, t // 60_000, v, v, v) for t, v in light_samples(FIRST, DAYS, lux_dark=2.0)])
    got = statuses(score_window(store, config, at=AT, since=SINCE))
    # 2 lux in the night: light in the dark period (G3.8.10), and no dark at all (G3.8.9: dimmed is not dark).
    assert (got["G3.8.10"], got["G3.8.9"], got["G3.8.8"]) == ("D", "D", "ok")


def test_scoring_writes_no_events_and_gives_the_same_answer_twice(farm):
    """Scoring has no side effects: A3.6 sees the detected test the first time as the second."""
    _path, config, store, ids = farm
    fill(store, ids)
    first, second = (score_window(store, config, at=AT, since=SINCE) for _ in range(2))
    assert store.query("SELECT count(*) AS n FROM events")[0]["n"] == 0
    assert [f.to_json() for f in first.findings] == [f.to_json() for f in second.findings]
    a36 = next(f for f in first.findings if f.rule == "A3.6" and f.location == "1")
    assert a36.status == "B" and "niet geregistreerd" in a36.occurrences[0].detail


def test_generator_tests_become_events_once(farm):
    _path, config, store, ids = farm
    fill(store, ids)
    score_window(store, config, at=AT, since=SINCE)
    assert store.query("SELECT 1 FROM events") == []  # scoring records nothing
    for _ in range(2):
        record_generator_episodes(store, config, AT)  # `run`'s job
    events = store.query("SELECT kind, location, start, \"end\", detail FROM events WHERE kind = 'generator_test'")
    assert len(events) == 1
    assert events[0]["location"] is None  # one generator for the farm
    assert events[0]["start"] == ms(local(FIRST + timedelta(days=1), "10:00"))
    assert json.loads(events[0]["detail"])["result"] == "ok"


def test_an_ongoing_episode_is_completed_not_duplicated(farm):
    _path, config, store, ids = farm
    fill(store, ids)
    t0 = local(FIRST + timedelta(days=1), "10:00")
    record_generator_episodes(store, config, t0 + timedelta(minutes=5))
    [running] = store.query("SELECT \"end\" FROM events WHERE kind = 'generator_test'")
    assert running["end"] is None
    record_generator_episodes(store, config, AT)
    [done] = store.query("SELECT \"end\" FROM events WHERE kind = 'generator_test'")
    assert done["end"] == ms(t0 + timedelta(minutes=15))
    record_generator_episodes(store, config, t0 + timedelta(minutes=5))  # a past window never reopens it
    assert store.query("SELECT \"end\" FROM events WHERE kind = 'generator_test'")[0]["end"] == done["end"]


def test_a_silent_panel_from_stored_readings(farm):
    _path, config, store, ids = farm
    silence = (local(FIRST + timedelta(days=1), "02:00"), local(FIRST + timedelta(days=1), "03:00"))
    fill(store, ids, panel_silences=(silence,))
    a34 = next(f for f in score_window(store, config, at=AT, since=SINCE).findings
               if f.rule == "A3.4" and f.location == "1")
    assert a34.status == "D"
    assert any("niet gehoord gedurende 1 u 01 min" in o.detail for o in a34.occurrences)


def test_a_panel_silent_while_nothing_was_heard_is_not_a_deviation(farm):
    _path, config, store, ids = farm
    fill(store, ids)
    quiet = (ms(local(FIRST + timedelta(days=1), "02:00")), ms(local(FIRST + timedelta(days=1), "03:00")))
    with store.transaction() as db:
        db.execute("DELETE FROM readings WHERE ts >= ? AND ts < ?", list(quiet))
    _create_channel_tests(store, [(AT - timedelta(days=3), 1)])
    a34 = next(f for f in score_window(store, config, at=AT, since=SINCE).findings
               if f.rule == "A3.4" and f.location == "1")
    assert a34.status == "ok", a34


def _create_channel_tests(store, rows):
    """Create the alerts feature's table (its contract) and record channel tests."""
    with store.transaction() as db:
        db.execute("CREATE TABLE IF NOT EXISTS channel_tests (id INTEGER PRIMARY KEY, channel TEXT, sent_at TEXT,"
                   " delivered INTEGER, detail TEXT)")
        db.conn.executemany("INSERT INTO channel_tests(channel, sent_at, delivered, detail) VALUES (?, ?, ?, '')",
                            [("telefoon", moment.isoformat(), delivered) for moment, delivered in rows])


def test_channel_tests_decide_the_off_farm_part_of_a3_4(farm):
    _path, config, store, ids = farm
    fill(store, ids)
    _create_channel_tests(store, [(AT - timedelta(days=90), 1), (AT - timedelta(days=2), 0)])
    assert statuses(score_window(store, config, at=AT, since=SINCE))["A3.4"] == "C"
    _create_channel_tests(store, [(AT - timedelta(days=20), 1)])
    result = score_window(store, config, at=AT, since=SINCE)
    assert statuses(result)["A3.4"] == "ok"
    assert any(d.rule == "A3.4" and d.what.startswith("Testbericht") for d in result.due)


def test_checks_logbook_feeds_the_generator(farm):
    from agent.logbooks.entries import add_entry

    _path, config, store, ids = farm
    fill(store, ids)
    entry = {"date": (FIRST + timedelta(days=2)).isoformat(), "item": "generator", "result": "fault",
             "checked_by": "jan"}
    add_entry(store, config, "checks", entry, by="jan", now=AT - timedelta(hours=1))
    a35 = next(f for f in score_window(store, config, at=AT, since=SINCE).findings if f.rule == "A3.5"
               and f.location is None)
    assert a35.status == "D" and "storing" in a35.occurrences[0].detail
    # As it stood before the entry was made, the generator was fine.
    earlier = score_window(store, config, at=AT - timedelta(hours=2), since=SINCE)
    assert next(f for f in earlier.findings if f.rule == "A3.5" and f.location is None).status == "ok"


def test_housing_order_command_and_its_effect(farm, cli):
    path, config, store, ids = farm
    fill(store, ids)
    assert cli("housing-order", "add", "--from", "2026-01-05", "--by", "jan", config=path).code == 0
    bad = cli("housing-order", "add", "--from", "2026-01-10", "--by", "jan", config=path)
    assert bad.code == 2 and "from: overlapt ophokplicht 1" in bad.err
    bad = cli("housing-order", "add", "--from", "gisteren", config=path)
    assert bad.code == 2 and "from: verwacht een datum JJJJ-MM-DD" in bad.err
    result = score_window(store, config, at=AT, since=SINCE)
    assert statuses(result)["H3.12.8"] == "nvt" and statuses(result)["H3.12.11"] == "ok"
    assert cli("housing-order", "end", "1", "--on", "2026-01-13", "--by", "jan", config=path).code == 0
    listed = json.loads(cli("housing-order", "list", "--format", "json", config=path).out)
    assert listed == [{"id": 2, "from": "2026-01-05", "to": "2026-01-13", "note": ""}]
    assert statuses(score_window(store, config, at=AT, since=SINCE))["H3.12.8"] == "ok"
    with pytest.raises(Exception, match="append-only"):
        with store.transaction() as db:
            db.execute("UPDATE housing_orders SET ends_on = NULL")


def test_free_range_journal_hours(farm):
    _path, config, store, ids = farm
    fill(store, ids)
    hours = journal_for(store, config, "1", FIRST, FIRST + timedelta(days=2))
    assert hours[FIRST + timedelta(days=1)] == pytest.approx(9.0, abs=0.01)


def test_a_read_only_store_scores_without_writing(farm, tmp_path):
    _path, config, store, ids = farm
    fill(store, ids)
    ro = open_store(config.storage.path, readonly=True)
    try:
        result = score_window(ro, config, at=AT, since=SINCE)
        assert statuses(result)["G3.8.9"] == "ok"
    finally:
        ro.close()
    assert store.query("SELECT count(*) AS n FROM derived_days")[0]["n"] == 0


def test_loading_only_alarm_inputs(farm):
    _path, config, store, ids = farm
    fill(store, ids)
    inputs = load_sensor_inputs(store, config, SINCE, AT, families=("ventilation_alarm",))
    assert inputs["ventilation_alarm"]["1"][0].days and inputs["light"]["1"] == ()


AGENT_TABLES = ("events", "derived_days", "derived_marks", "findings", "status_changes", "score_summary",
                "score_window", "logbook", "rollups")


def _row_counts(store):
    return {t: store.query(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in AGENT_TABLES}


def test_scoring_the_same_window_twice_or_after_other_windows_gives_identical_findings(farm):
    """A generator test run in the readings: scoring once used to record it, so a second score judged A3.6 anew."""
    _path, config, store, ids = farm
    fill(store, ids)  # the generator ran 15 minutes with mains present on the second day: a test
    before = _row_counts(store)
    first = score_window(store, config, at=AT, since=SINCE)
    a36 = next(f for f in first.findings if f.rule == "A3.6" and f.location == "1")
    assert a36.status == "B" and "aggregaattest gedetecteerd" in a36.occurrences[0].detail
    assert score_window(store, config, at=AT, since=SINCE) == first
    t0 = local(FIRST + timedelta(days=1), "10:00")
    for at in (t0 + timedelta(minutes=5), t0 + timedelta(hours=1), AT - timedelta(days=1), AT + timedelta(days=1)):
        score_window(store, config, at=at, since=at - timedelta(days=3))
    assert score_window(store, config, at=AT, since=SINCE) == first
    assert _row_counts(store) == before  # no events, no cached days, no drafts: scoring wrote nothing


def test_the_score_command_computes_without_writing(farm, cli):
    path, config, store, ids = farm
    fill(store, ids)
    before = _row_counts(store)
    assert before["derived_marks"] > 0  # readings waiting for `run` to refresh the cache
    result = cli("score", "--at", AT.isoformat(), "--since", SINCE.isoformat(), "--format", "json", config=path)
    assert result.code == 0, result.err
    assert {f["rule"]: f["status"] for f in json.loads(result.out)["findings"] if f["location"] == "1"}["A3.6"] == "B"
    assert _row_counts(store) == before


def test_runs_backfill_caches_the_kept_history_a_slice_at_a_time_newest_first(farm):
    _path, config, store, ids = farm
    fill(store, ids)
    later = AT + timedelta(days=60)  # the filled days now lie before any evaluation window
    assert backfill_day_cache(store, config, later, budget=3) == 3
    light = [r["day"] for r in store.query("SELECT day FROM derived_days WHERE family = 'light' ORDER BY day")]
    total = backfill_day_cache(store, config, later)
    assert total > 0 and backfill_day_cache(store, config, later) == 0  # all cached: nothing left to do
    every = [r["day"] for r in store.query("SELECT day FROM derived_days WHERE family = 'light' ORDER BY day")]
    assert not light or light[-1] == every[-1]  # the newest days came first
    # The cached history gives the same score as deriving it all in memory.
    fresh = score_window(store, config, at=AT, since=SINCE)
    with store.transaction() as db:
        db.execute("DELETE FROM derived_days")
    assert score_window(store, config, at=AT, since=SINCE) == fresh


def test_a_sensor_every_minute_whose_stamps_jitter_keeps_one_hold_and_its_cached_days(farm):
    """A per-minute sensor's 90th-percentile gap of 60.001 s one minute and 60.000 the next is still a
    sensor every minute: the same hold (5 minutes, so a 10-minute silence is a gap either way) and the
    same cached days, not all of them derived and written again at each flip (issue 15)."""
    from agent.evaluation.sensor_inputs import configured_sensors

    _path, config, store, ids = farm
    fill(store, ids)  # the climate sensor every 60.000 s, until a day after AT
    sensor = ids[("ikb/1/climate", "t")]

    def interval() -> float:
        return next(s.interval_s for s in configured_sensors(store, config) if s.topic == "ikb/1/climate")

    def days_written() -> set:
        return {tuple(r) for r in store.execute(
            "SELECT day, version, computed_at FROM derived_days WHERE subject = ?", [str(sensor)])}

    refresh_day_cache(store, config, SINCE, AT)
    assert interval() == 60
    written = days_written()
    assert written
    # Then its clock runs a millisecond a minute slow: each of the newest gaps is 60.001 s.
    last = ms(AT + timedelta(days=1)) - 60_000
    put(store, ids, "ikb/1/climate", [(last + n * 60_001, 20.0) for n in range(1, 21)], "t")
    assert interval() == 60
    refresh_day_cache(store, config, SINCE, AT)
    assert days_written() == written  # nothing derived and written again
    # A sensor that really reports every five minutes takes the five-minute step.
    last += 20 * 60_001
    put(store, ids, "ikb/1/climate", [(last + n * 300_500, 20.0) for n in range(1, 71)], "t")
    assert interval() == 300
