"""The demo's history: how far it is stored and judged (agent.history), and the dashboard saying so."""

from __future__ import annotations

import json

import pytest

from agent.history import HISTORY_KV, HistoryState, history_state

from .web_fixtures import accounts, app, client_for, clock, db_path, farm_config, farmer, web_store  # noqa: F401

H = 3_600_000
START, SENT = 0, 72 * H  # three days of history, sent by hour 72


@pytest.mark.parametrize("newest,sent,judged,expected", [
    (None, False, None, HistoryState("loading", 0)),
    (29 * H, False, None, HistoryState("loading", 40)),  # 29 of 72 hours stored
    (72 * H, False, None, HistoryState("loading", 99)),  # the sender has not caught up yet: never 100 %
    (60 * H, True, None, HistoryState("loading", 83)),
    (72 * H - 60_000, True, 10 * H, HistoryState("judging", 99)),  # stored; the last score is older
    (72 * H, True, 72 * H + 30_000, HistoryState("done", 100)),
])
def test_the_history_is_loading_until_stored_and_judged(newest, sent, judged, expected):
    assert history_state(START, SENT, newest, sent, judged) == expected


def test_the_dashboard_says_the_history_is_loading_and_polls_fast_until_done(farmer, web_store):
    web_store.set_kv(HISTORY_KV, json.dumps({"state": "loading", "percent": 40}))
    html = farmer.get("/").get_data(as_text=True)
    assert "Geschiedenis laden… 40 %" in html and "kan nog veranderen" in html
    assert 'hx-trigger="every 2s"' in html
    web_store.set_kv(HISTORY_KV, json.dumps({"state": "judging", "percent": 99}))
    assert "Geschiedenis beoordelen…" in farmer.get("/live").get_data(as_text=True)
    web_store.set_kv(HISTORY_KV, json.dumps({"state": "done", "percent": 100}))
    html = farmer.get("/").get_data(as_text=True)
    assert "Geschiedenis" not in html and 'hx-trigger="every 30s"' in html


def test_a_farm_without_a_demo_history_shows_nothing_of_it(farmer):
    assert "history-loading" not in farmer.get("/").get_data(as_text=True)


def test_the_history_is_stored_as_it_goes_and_done_once_run_judged_it(tmp_path):
    """HistoryLoad against a real database: loading, then judging once stored, done after run's score."""
    from datetime import datetime, timedelta, timezone

    from agent.config import SensorSection
    from agent.history import HistoryLoad, read_history
    from agent.store import open_store, record_score
    from agent.store.readings import insert_readings, sync_sensors, to_ms
    from rules.scoring import score

    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    caught_up = start + timedelta(days=3)
    store = open_store(tmp_path / "farm.db")
    load = HistoryLoad(str(tmp_path / "farm.db"), start, lambda: caught_up)
    assert load.check(store) == read_history(store) == HistoryState("loading", 0)
    [lux] = sync_sensors(store, [SensorSection(topic="t/lux", kind="lux", location="1")], start).values()
    with store.transaction() as db:
        insert_readings(db, [(lux.id, to_ms(caught_up), 5.0)])
    load.caught_up()
    assert load.check(store) == read_history(store) == HistoryState("judging", 99)
    record_score(store, score([], at=caught_up, since=caught_up - timedelta(days=30)), caught_up)
    assert load.check(store) == read_history(store) == HistoryState("done", 100)
    store.close()
