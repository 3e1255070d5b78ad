"""The same answer everywhere: findings, light days and the pack's light table depend only on the readings.

- Property: a random permutation, duplication and delay of the same readings — arriving in
  batches while ``run`` evaluates in between, so days are derived and cached from part of the
  data — gives the same findings as the readings stored in order.
- Property: scoring windows in any order (with ``run``'s job in between) gives each window the
  findings it gets alone on a fresh copy of the database.
- End to end: a backlog of several days published to a real mosquitto while ``run`` evaluates
  gives the same findings, light days and ``light/stal-1.csv`` as replaying the same messages
  into a fresh database.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import clock
from agent.config import config_from_dict
from agent.evaluation import house_light_days, score_window
from agent.evaluation.continuous import evaluate_tick, record_generator_episodes
from agent.evaluation.lightdays import light_table_csv
from agent.ingest import Ingestor, ingest_all
from agent.store import open_store
from sensors.model import RawMessage
from tests.synth import AMS

from .farmconfig import SENSORS, farm_dict
from .test_mqtt_ingest import wait_for

STEP = timedelta(minutes=5)
GENERATOR = {"topic": "stal1/generator", "kind": "generator", "location": "1"}


def trace(start: datetime, days: int, *, generator_test: bool = True) -> list[RawMessage]:
    """Return a farm's messages, each with its own time, every 5 minutes over ``days`` from local midnight.

    Lux: lights 04:00–20:00, but 22:30 the second evening (a short night); the alarm panel silent an
    hour on the second night; the egg room humid for an hour; a 15-minute generator test on day two.
    """
    out = []
    t = start
    end = start + timedelta(days=days)
    while t < end:
        lt = t.astimezone(AMS)
        day = (lt.date() - start.astimezone(AMS).date()).days
        minute = lt.hour * 60 + lt.minute
        off = 22 * 60 + 30 if day == 1 else 20 * 60
        lux = 30.0 if 4 * 60 <= minute < off else 0.1
        ts = t.timestamp()
        stamp = {"ts": ts}
        out.append(RawMessage("ikb/1/lux", json.dumps({"value": lux, **stamp}).encode(), 0))
        if not (day == 1 and minute >= 23 * 60 or day == 2 and minute < 0):
            out.append(RawMessage("stal1/alarm", json.dumps({"value": "ok", **stamp}).encode(), 0))
        out.append(RawMessage("stal1/mains", json.dumps({"value": "on", **stamp}).encode(), 0))
        running = generator_test and day == 1 and 10 * 60 <= minute < 10 * 60 + 15
        out.append(RawMessage("stal1/generator", json.dumps({"value": "running" if running else "off",
                                                             **stamp}).encode(), 0))
        humid = day == 2 and 14 * 60 <= minute < 15 * 60
        out.append(RawMessage("tele/eierlokaal/SENSOR", json.dumps({
            "AM2301": {"Temperature": 12.0, "Humidity": 96.0 if humid else 70.0}, **stamp}).encode(), 0))
        t += STEP
    return out


def received(messages: list[RawMessage], at_ms: int) -> list[RawMessage]:
    """Return the messages as received at one moment (a backlog, a buffer emptied late)."""
    return [RawMessage(m.topic, m.payload, at_ms) for m in messages]


def settings_at(tmp_path, name: str, **extra):
    data = farm_dict(tmp_path / name, SENSORS + [GENERATOR], **extra.pop("ingest", {}))
    data.update(extra)
    (tmp_path / name).mkdir(exist_ok=True)
    return config_from_dict(data)


def answer(store, config, at: datetime, since: datetime) -> dict:
    """Return everything a score says: findings, dues and the verdict."""
    result = score_window(store, config, at=at, since=since)
    return {"findings": [f.to_json() for f in result.findings],
            "due": [asdict(d) for d in result.due]}


# --------------------------------------------------------------------------- properties (real SQLite files)

START = datetime(2026, 3, 2, tzinfo=AMS).astimezone(timezone.utc)
DAYS = 3
AT = START + timedelta(days=DAYS)
SINCE = AT - timedelta(days=30)
MESSAGES = trace(START, DAYS)
SLOW = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The readings stored in order in a fresh database, and what the score says about them."""
    tmp = tmp_path_factory.mktemp("reference")
    config = settings_at(tmp, "in-order")
    store = open_store(config.storage.path)
    counts = ingest_all(Ingestor(store, config, AT + timedelta(hours=1), live=False),
                        received(MESSAGES, int(AT.timestamp() * 1000)))
    assert counts.rejected == 0
    found = answer(store, config, AT, SINCE)
    store.close()
    return tmp, config, found


@settings(max_examples=8, **SLOW)
@given(st.randoms(use_true_random=False), st.floats(0, 0.3), st.integers(1, 4), st.integers(0, 48))
def test_a_permutation_duplication_and_delay_of_the_readings_gives_the_same_findings(
        reference, tmp_path_factory, rnd, duplicated, batches, late_hours):
    tmp, _config, expected = reference
    config = settings_at(tmp_path_factory.mktemp("variant"), "variant")
    store = open_store(config.storage.path)
    messages = list(MESSAGES)
    messages += rnd.sample(MESSAGES, int(len(MESSAGES) * duplicated))
    rnd.shuffle(messages)
    # Registered later than the reference, receiving late: neither may matter.
    arrival = AT + timedelta(hours=late_hours)
    ingestor = Ingestor(store, config, arrival + timedelta(days=5), live=False)
    size = len(messages) // batches + 1
    for k in range(0, len(messages), size):
        ingest_all(ingestor, received(messages[k:k + size], int(arrival.timestamp() * 1000)))
        # `run` evaluates between batches: days derived (and cached), episodes recorded from part of the readings.
        evaluate_tick(store, config, arrival)
        record_generator_episodes(store, config, arrival)
        evaluate_tick(store, config, AT)
    assert answer(store, config, AT, SINCE) == expected
    store.close()


WINDOWS = [(START + timedelta(hours=h), START + timedelta(hours=h) - timedelta(days=d))
           for h, d in ((18, 30), (33, 1), (47, 2), (72, 30), (72, 2), (60, 30))]


@pytest.fixture(scope="module")
def alone(reference, tmp_path_factory):
    """Each window scored alone, on a fresh copy of the in-order database."""
    tmp, config, _found = reference
    out = {}
    for k, (at, since) in enumerate(WINDOWS):
        copy = tmp_path_factory.mktemp(f"alone{k}") / "farm.db"
        shutil.copy(config.storage.path, copy)
        store = open_store(copy)
        out[k] = answer(store, config, at, since)
        store.close()
    return out


@settings(max_examples=8, **SLOW)
@given(st.lists(st.tuples(st.sampled_from(range(len(WINDOWS))), st.booleans()), min_size=2, max_size=6))
def test_scoring_windows_in_any_order_gives_the_same_findings(reference, alone, tmp_path_factory, order):
    tmp, config, _found = reference
    copy = tmp_path_factory.mktemp("order") / "farm.db"
    shutil.copy(config.storage.path, copy)
    store = open_store(copy)
    for k, tick_first in order:
        at, since = WINDOWS[k]
        if tick_first:
            evaluate_tick(store, config, at)  # run's jobs: the snapshot and the cached days, the events
            record_generator_episodes(store, config, at)
        assert answer(store, config, at, since) == alone[k], WINDOWS[k]
    store.close()


# --------------------------------------------------------------------------- end to end through mosquitto


def test_a_backlog_published_while_run_evaluates_gives_what_a_fresh_replay_gives(tmp_path, broker):
    """Several days arrive at once after an outage, while `run` evaluates: the same as a replay into a fresh DB."""
    from agent.cli.runner import Agent
    from sensors.mqtt import MqttOptions, MqttPublisher

    now = clock.utcnow()
    # Three days up to now: the newest readings are fresh, so the alarm listener judges A3.4/A3.5 on
    # arrival too, while the older days are still coming in.
    start = datetime.fromtimestamp((now - timedelta(days=3)).timestamp() // 300 * 300, timezone.utc)
    at = start + timedelta(days=3)
    messages = trace(start, 3, generator_test=False)
    live = settings_at(tmp_path, "live", mqtt={"port": broker.port, "client_id": f"agent-{tmp_path.name}"},
                       evaluation={"interval_seconds": 10})
    agent = Agent(live)
    agent.start()
    try:
        assert agent.wait_connected(10)
        pub = MqttPublisher(MqttOptions(port=broker.port), client_id="backlog")
        pub.connect()
        third = len(messages) // 3 + 1
        for k in range(0, len(messages), third):
            for m in messages[k:k + third]:
                pub.publish(m.topic, m.payload)
            agent.scheduler.run_now("evaluate")  # an evaluation while the backlog is arriving
            agent.scheduler.run_now("episodes")
        pub.close()
        path = live.storage.path

        def stored() -> int:
            store = open_store(path, readonly=True)
            try:
                return store.query("SELECT count(*) AS n FROM readings")[0]["n"]
            finally:
                store.close()

        replay = settings_at(tmp_path, "replay")
        fresh = open_store(replay.storage.path)
        ingest_all(Ingestor(fresh, replay, now, live=False), received(messages, int(now.timestamp() * 1000)))
        expected = fresh.query("SELECT count(*) AS n FROM readings")[0]["n"]
        assert wait_for(lambda: stored() == expected, 60), (stored(), expected)
        agent.scheduler.run_now("evaluate")
    finally:
        agent.stop()
    store = open_store(live.storage.path)
    since = at - timedelta(days=30)
    assert answer(store, live, at, since) == answer(fresh, replay, at, since)

    def days(s, config):
        found = house_light_days(s, config, "1", at - timedelta(days=3), at)
        return [[d.to_json() for d in ds] for _label, ds in found.sensors]

    assert days(store, live) == days(fresh, replay)
    first, last = start.astimezone(AMS).date() - timedelta(days=1), at.astimezone(AMS).date()
    table = light_table_csv(store, live, "1", first, last)
    assert table == light_table_csv(fresh, replay, "1", first, last)
    header, *rows = [r.split(";") for r in table.decode("utf-8-sig").splitlines()]
    # The short second night is G3.8.9 D in the pack's table as in the score; no night is "geen gegevens".
    assert [r[header.index("G3.8.9")] for r in rows].count("D") == 1
    store.close()
    fresh.close()


def test_the_pack_light_table_says_what_the_score_says_for_the_short_night(reference):
    """The day table in the audit pack and the score agree on the same night."""
    _tmp, config, found = reference
    store = open_store(config.storage.path)
    table = light_table_csv(store, config, "1", date(2026, 3, 2), date(2026, 3, 4)).decode("utf-8-sig")
    store.close()
    header, *rows = [r.split(";") for r in table.splitlines()]
    g389 = {r[0]: r[header.index("G3.8.9")] for r in rows}
    assert g389["2026-03-03"] == "D"
    [finding] = [f for f in found["findings"] if f["rule"] == "G3.8.9" and f["location"] == "1"]
    assert finding["status"] == "D"
    assert [o["detail"] for o in finding["occurrences"]] == ["langste ononderbroken donkerperiode 5 u 30 min "
                                                              "(min. 8 u 00 min)"]


def test_the_pack_condensation_table_says_what_the_score_says(reference):
    """The egg room's day table in the audit pack: an hour within the margin is a risk, and E3.3 stays ok."""
    from agent.evaluation.roomdays import room_table_csv

    _tmp, config, found = reference
    store = open_store(config.storage.path)
    table = room_table_csv(store, config, "E", date(2026, 3, 2), date(2026, 3, 4)).decode("utf-8-sig")
    store.close()
    header, *rows = [r.split(";") for r in table.splitlines()]
    humid = next(r for r in rows if r[0] == "2026-03-04")
    assert (humid[header.index("Binnen de marge van het dauwpunt (min)")], humid[header.index("Condens (min)")], humid[header.index("E3.3")]) == (
        "60", "0", "ok")
    # The first day has no history for the egg estimate (three of its hours untrusted) and the days before
    # it no readings: the 30-day window is unknown, in the score as in the table.
    first = next(r for r in rows if r[0] == "2026-03-02")
    assert first[header.index("E3.3")] == "onbekend"
    [finding] = [f for f in found["findings"] if f["rule"] == "E3.3"]
    assert finding["status"] == "unknown" and finding["summary"].startswith("Onvoldoende gegevens: 2 van 30 dagen")
