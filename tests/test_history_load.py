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
