"""The continuous evaluation: the minute tick records status changes; alarm inputs are judged on arrival."""

from __future__ import annotations

from datetime import timedelta

from agent.evaluation.continuous import evaluate_tick, on_readings
from agent.evaluation.score import score_window
from agent.ingest.ingestor import StoredReading
from agent.store.connection import open_store
from agent.store.scores import latest_score, record_score
from rules.findings import Due, Finding, Occurrence, Repair
from rules.kinds import GENERATOR_OFF, MAINS_OFF, VENTILATION_OK
from rules.scoring import score
from tests.synth import ms, series, state_samples
from tests.test_sensor_store import AT, FIRST, SINCE, _create_channel_tests, farm, fill, put  # noqa: F401


def short_window(config):
    """Return the configuration with a 3-day evaluation window (the stored data spans a few days)."""
    return config.model_copy(update={"evaluation": config.evaluation.model_copy(update={"window_days": 3})})


def current(store, rule, location="1"):
    rows = store.query("SELECT status FROM findings WHERE rule = ? AND location = ?", [rule, location])
    return rows[0]["status"] if rows else None


def test_the_tick_records_findings_and_only_changes(farm):
    _path, config, store, ids = farm
    config = short_window(config)
    fill(store, ids)
    _create_channel_tests(store, [(AT - timedelta(days=3), 1)])
    first = evaluate_tick(store, config, AT)
    assert {c["rule"] for c in first} >= {"G3.8.9", "A3.4", "A3.5", "E3.3"}
    assert all(c["from"] is None for c in first)
    assert current(store, "G3.8.9") == "ok" and current(store, "A3.4") == "ok"
    assert evaluate_tick(store, config, AT + timedelta(minutes=1)) == []


def test_a_panel_falling_silent_is_a_status_change(farm):
    _path, config, store, ids = farm
    config = short_window(config)
    fill(store, ids)
    _create_channel_tests(store, [(AT - timedelta(days=3), 1)])
    # The panel's last message is at AT + 1 day (fill() stores readings until then); 15 min later it is silent.
    end = AT + timedelta(days=1)
    evaluate_tick(store, config, end)
    assert current(store, "A3.4") == "ok"
    # The house's thermometer is still heard, so the agent was listening: the panel itself went quiet.
    put(store, ids, "ikb/1/climate", series(end, end + timedelta(minutes=16), lambda t: 20.0), "t")
    changes = evaluate_tick(store, config, end + timedelta(minutes=15))
    assert {"rule": "A3.4", "location": "1", "from": "ok", "to": "D",
            "at": (end + timedelta(minutes=15)).isoformat()} in changes
    history = store.query("SELECT from_status, to_status FROM status_changes WHERE rule = 'A3.4' AND location = '1'")
    assert [(h["from_status"], h["to_status"]) for h in history] == [(None, "ok"), ("ok", "D")]


def test_a_mains_failure_is_judged_on_arrival(farm):
    _path, config, store, ids = farm
    config = short_window(config)
    fill(store, ids)
    end = AT + timedelta(days=1)
    evaluate_tick(store, config, end - timedelta(minutes=1))
    assert current(store, "A3.5", "") == "ok"
    lux_only = [StoredReading(ids[("ikb/1/lux", "")], "lux", "1", ms(end), 30.0, "ikb/1/lux")]
    assert on_readings(store, config, lux_only, end) == []
    # The mains fail; three minutes later the generator still reports "off".
    mains = state_samples([(end, MAINS_OFF)], end + timedelta(minutes=4))
    put(store, ids, "ikb/1/mains", mains)
    put(store, ids, "ikb/1/generator", state_samples([(end, GENERATOR_OFF)], end + timedelta(minutes=4)))
    put(store, ids, "ikb/1/alarm", state_samples([(end, VENTILATION_OK)], end + timedelta(minutes=4)))
    batch = [StoredReading(ids[("ikb/1/mains", "")], "mains", "1", t, v, "ikb/1/mains") for t, v in mains]
    changes = on_readings(store, config, batch, end + timedelta(minutes=3))
    assert [(c["rule"], c["location"], c["from"], c["to"]) for c in changes] == [("A3.5", None, "ok", "D")]
    # The other rules' current findings are untouched by the partial evaluation.
    assert current(store, "G3.8.9") == "ok"


def test_the_listener_ignores_replayed_history(farm, monkeypatch):
    from agent import clock
    from agent.evaluation.continuous import alarm_listener

    _path, config, store, ids = farm
    config = short_window(config)
    fill(store, ids)
    end = AT + timedelta(days=1)
    monkeypatch.setattr(clock, "utcnow", lambda: end + timedelta(minutes=3))
    listener = alarm_listener(store, config)
    old = [StoredReading(ids[("ikb/1/mains", "")], "mains", "1", ms(end - timedelta(hours=2)), 1.0, "ikb/1/mains")]
    assert listener(old) == [] and current(store, "A3.5", "") is None
    fresh = [StoredReading(ids[("ikb/1/mains", "")], "mains", "1", ms(end), 1.0, "ikb/1/mains")]
    assert {c["rule"] for c in listener(fresh)} == {"A3.4", "A3.5"} and current(store, "A3.5", "") == "ok"


def test_the_snapshot_is_the_whole_score_and_is_rewritten_only_where_it_changed(farm):
    _path, config, store, ids = farm
    config = short_window(config)
    fill(store, ids)
    _create_channel_tests(store, [(AT - timedelta(days=3), 1)])
    evaluate_tick(store, config, AT)
    findings = store.query("SELECT rule, location, evaluated_at FROM findings ORDER BY rule, location")
    summary = store.query("SELECT summary, changed_at FROM score_summary")
    changes = store.query("SELECT count(*) AS n FROM status_changes")[0]["n"]
    later = AT + timedelta(minutes=1)
    assert evaluate_tick(store, config, later) == []
    # Nothing changed: no finding row and no summary rewritten, only the window moved on.
    assert store.query("SELECT rule, location, evaluated_at FROM findings ORDER BY rule, location") == findings
    assert store.query("SELECT summary, changed_at FROM score_summary") == summary
    assert store.query("SELECT count(*) AS n FROM status_changes")[0]["n"] == changes
    assert store.query("SELECT since, at FROM score_window") == [
        {"since": (later - timedelta(days=3)).isoformat(), "at": later.isoformat()}]
    # Read back, the snapshot is the score itself: findings, due list, counts, verdict, window.
    assert latest_score(store).score == score_window(store, config, at=later, since=later - timedelta(days=3))


def test_an_unchanged_minute_keeps_its_window_or_hands_it_to_the_next_commit_of_readings_never_moving_it_back(farm):
    """`run` gives the minute job the ingest thread's next commit: a quiet minute costs no commit of its own
    (on the SD card each commit also rewrites pages of the WAL index), the window is written every other
    minute, and the page still sees the farm evaluated (stale only after three intervals and a minute)."""
    _path, config, store, ids = farm
    config = short_window(config)
    fill(store, ids)
    _create_channel_tests(store, [(AT - timedelta(days=3), 1)])
    handed = []
    evaluate_tick(store, config, AT, handed.append)  # no window stored yet: written at once
    assert handed == [] and latest_score(store).score.at == AT
    frames = store.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()  # (busy, frames in the WAL, copied)
    # A minute later nothing changed: the window of a minute ago stands, nothing is written or handed over.
    assert evaluate_tick(store, config, AT + timedelta(minutes=1), handed.append) == []
    assert handed == [] and store.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone() == frames
    assert latest_score(store).score.at == AT
    # Two minutes later the window goes with the next commit of readings, not in a commit of its own.
    later = AT + timedelta(minutes=2)
    assert evaluate_tick(store, config, later, handed.append) == []
    assert len(handed) == 1
    assert store.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone() == frames
    assert latest_score(store).score.at == AT
    with store.transaction() as db:  # the ingest thread's commit
        handed[0](db.conn)
    assert latest_score(store).score == score_window(store, config, at=later, since=later - timedelta(days=3))
    # A late hand-over never moves the window back over a newer one written meanwhile.
    evaluate_tick(store, config, later + timedelta(minutes=1))
    with store.transaction() as db:
        handed[0](db.conn)
    assert latest_score(store).score.at == later + timedelta(minutes=1)
    # With no readings arriving a handed-over window would not land: past two and a half intervals the job
    # writes it itself, so the page never reads one older than three.
    handed.clear()
    much_later = later + timedelta(minutes=4)
    evaluate_tick(store, config, much_later, handed.append)
    assert handed == [] and latest_score(store).score.at == much_later
    # The clock set back (a wrong NTP step corrected): the window from the future is replaced at once.
    evaluate_tick(store, config, later, handed.append)
    assert handed == [] and latest_score(store).score.at == later


def test_a_finding_whose_text_runs_on_goes_with_the_next_commit_of_readings_and_a_status_change_at_once(tmp_path):
    """A deviation still going on ("aaneengesloten licht 17 u 18 min") reads differently every minute; with its
    status unchanged it is written inside the ingest thread's next commit, not in a commit of its own (each
    commit costs the SD card pages of the WAL index). A status change is written at once: the alerts read it."""
    store = open_store(tmp_path / "farm.db")
    minute = timedelta(minutes=1)

    def light(at, minutes, status="D"):
        spell = Occurrence(AT - timedelta(hours=17), None, f"aaneengesloten licht 17 u {minutes:02d} min")
        return score([Finding("G3.8.7", "1", status, "sensor", "Lichtschema niet in orde", (spell,) if status == "D" else ()),
                      Finding("A3.4", "1", "ok", "sensor", "alarm in orde")], at=at, since=at - timedelta(days=30))

    def tick(result, handed):
        return record_score(store, result, result.at, later=handed.append,
                            later_within=minute * 5 / 2, kept_within=minute * 3 / 2)

    handed = []
    assert len(tick(light(AT, 18), handed)) == 2 and handed == []  # the first snapshot: at once
    frames = store.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    # A minute later the light is still on: a new text, the same status. Nothing is written yet ...
    assert tick(light(AT + minute, 19), handed) == [] and len(handed) == 1
    assert store.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone() == frames
    assert latest_score(store).score == light(AT, 18)
    # ... until the next commit of readings carries it: the page then reads the whole score of that minute.
    with store.transaction() as db:
        handed.pop()(db.conn)
    assert latest_score(store).score == light(AT + minute, 19)
    assert store.query("SELECT count(*) AS n FROM status_changes")[0]["n"] == 2
    # A hand-over that lands late never undoes a newer write of the same finding by another writer.
    tick(light(AT + 2 * minute, 20), handed)
    record_score(store, light(AT + 2 * minute, 21), AT + 2 * minute, whole=False)
    with store.transaction() as db:
        handed.pop()(db.conn)
    assert "17 u 21 min" in latest_score(store).score.findings[0].occurrences[0].detail
    # The lights go off and the deviation is over: a status change, written at once and returned for the alerts.
    changes = tick(light(AT + 3 * minute, 0, status="ok"), handed)
    assert handed == [] and [(c["rule"], c["from"], c["to"]) for c in changes] == [("G3.8.7", "D", "ok")]
    assert latest_score(store).score == light(AT + 3 * minute, 0, status="ok")
    store.close()


def test_a_score_handed_over_when_run_stops_is_written_on_the_way_out(farm):  # noqa: F811
    """`run` stops while the minute's score waits for a commit of readings that will not come: the stop writes
    it, so the page and the next `run` start from the newest score, not the one a minute older."""
    from agent.ingest.ingestor import Ingestor

    _path, config, store, _ids = farm
    minute = timedelta(minutes=1)

    def light(at, minutes):
        spell = Occurrence(AT - timedelta(hours=17), None, f"aaneengesloten licht 17 u {minutes:02d} min")
        return score([Finding("G3.8.7", "1", "D", "sensor", "Lichtschema niet in orde", (spell,))],
                     at=at, since=at - timedelta(days=30))

    ing = Ingestor(store, config, AT)
    ing.start()
    try:
        record_score(store, light(AT, 18), AT)
        handed = lambda write: ing.ride_along("score snapshot", write)  # noqa: E731 - as `run` hands it over
        assert record_score(store, light(AT + minute, 19), AT + minute, later=handed,
                            later_within=minute * 5 / 2, kept_within=minute * 3 / 2) == []
        assert latest_score(store).score == light(AT, 18)  # waiting for readings that do not come
    finally:
        ing.stop()
    assert latest_score(store).score == light(AT + minute, 19)


def test_a_handed_over_summary_lands_with_the_readings_but_never_over_a_newer_one(tmp_path):
    """Only the summary changed (a due date moved, no status): it rides on the next commit of readings too, and
    a late hand-over does not put back a summary another writer replaced meanwhile."""
    store = open_store(tmp_path / "farm.db")
    minute = timedelta(minutes=1)
    findings = [Finding("A3.4", "1", "ok", "sensor", "alarm in orde")]

    def due_in(at, days):
        return score(findings, at=at, since=at - timedelta(days=30),
                     due=[Due("A6.3.1", None, (AT + timedelta(days=days)).date(), "Drinkwateronderzoek")])

    def tick(result, handed):
        return record_score(store, result, result.at, later=handed.append,
                            later_within=minute * 5 / 2, kept_within=minute * 3 / 2)

    handed = []
    tick(due_in(AT, 9), handed)
    assert tick(due_in(AT + minute, 8), handed) == [] and len(handed) == 1
    assert latest_score(store).score.due == due_in(AT, 9).due  # not written yet
    with store.transaction() as db:
        handed.pop()(db.conn)
    assert latest_score(store).score == due_in(AT + minute, 8)
    # Handed over, then the summary is replaced by another writer before the commit of readings comes.
    tick(due_in(AT + 2 * minute, 7), handed)
    record_score(store, due_in(AT + 2 * minute, 6), AT + 2 * minute, whole=False)
    with store.transaction() as db:
        handed.pop()(db.conn)
    assert latest_score(store).score.due == due_in(AT, 6).due
    store.close()


def test_the_snapshot_keeps_repairs_not_checked_and_setup_steps_exactly_as_the_score_json_has_them(tmp_path):
    store = open_store(tmp_path / "farm.db")
    repaired = Finding("A4.1.6", None, "D", "self_assessment", "Kadavers in de stal", (
        Occurrence(AT - timedelta(days=2), AT - timedelta(days=1), "kadavers in de stal",
                   Repair(7, (AT - timedelta(days=1)).date(), "naar de koelcel", "jan", "10:15")),))
    not_checked = Finding("A3.6", "2", "nvt", "logbook", "Niet gecontroleerd", not_checked=True)
    waiting = Finding("A3.4", "1", "unknown", "sensor", "Geen alarmkast gekoppeld",
                      setup=("Koppel de alarmkast van stal 1 aan de agent",))
    due = [Due("A6.3.1", None, (AT + timedelta(days=9)).date(), "Drinkwateronderzoek")]
    result = score([repaired, not_checked, waiting], at=AT, since=AT - timedelta(days=30), due=due)
    record_score(store, result, AT)
    back = latest_score(store).score
    # What `ikb-agent score` prints is what the page and the API read back from `run`'s snapshot.
    assert back.to_json() == result.to_json()
    assert back.verdict == "remarks" and back.findings[0].repaired and "points" not in back.to_json()
    assert back.setup == [{"step": "Koppel de alarmkast van stal 1 aan de agent", "rules": ["A3.4"],
                           "locations": ["1"]}]
    store.close()
