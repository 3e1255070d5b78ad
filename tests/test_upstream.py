"""The upstream publisher (on change, daily heartbeat, chain heads daily, all again on a new bridge
connection) and Home Assistant discovery against a real mosquitto (issue 16, items 5 and 7)."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta, timezone

import jinja2
import pytest

from agent.alerts.engine import AlertEngine
from agent.config import config_from_dict
from agent.evaluation.continuous import evaluate_tick
from agent.signing import farm_key
from agent.store.readings import insert_readings, sync_sensors, to_ms
from agent.upstream import UpstreamPublisher, check_chain_doc, upstream_job
from sensors.mqtt import MqttOptions, fetch_retained

from .conftest import FARM_TOML
from .synth import light_samples

NOW = datetime(2026, 3, 4, 13, tzinfo=timezone.utc)  # 14:00 in Amsterdam, after three programmed nights


def settings(tmp_path, port: int = 1883, **sections):
    """Return the test farm's configuration with extra sections (e.g. upstream={"enabled": True})."""
    import tomllib

    data = tomllib.loads(FARM_TOML.format(db=tmp_path / "farm.db"))
    data["mqtt"]["port"] = port
    data.update(sections)
    return config_from_dict(data)


@pytest.fixture
def publisher(tmp_path, store):
    config = settings(tmp_path, upstream={"enabled": True})
    sent: list[tuple[str, dict]] = []
    pub = UpstreamPublisher(store, config, lambda name, body: sent.append((name, json.loads(body))),
                            farm_key(config.key_path()), started=NOW)
    return pub, sent, config


def test_everything_goes_out_once_then_only_what_changed(publisher, store):
    pub, sent, config = publisher
    assert pub.run(NOW) == 4
    assert [name for name, _doc in sent] == ["ikb/123456/status", "ikb/123456/score", "ikb/123456/alerts",
                                             "ikb/123456/chain"]
    assert sent[1][1]["verdict"] is None  # the run loop has not scored yet: no verdict, never a guess
    sent.clear()
    assert pub.run(NOW + timedelta(minutes=1)) == 0  # nothing changed: nothing written anywhere
    evaluate_tick(store, config, NOW + timedelta(minutes=2))
    assert pub.run(NOW + timedelta(minutes=3)) == 1
    [(name, doc)] = sent
    assert name == "ikb/123456/score" and doc["verdict"] == "incomplete" and doc["counts"]["unknown"] > 0
    sent.clear()
    AlertEngine(store, config).raise_alert("ventilation_alarm", "1", to_ms(NOW + timedelta(minutes=4)))
    assert pub.run(NOW + timedelta(minutes=5)) == 1
    [(name, doc)] = sent
    assert name == "ikb/123456/alerts" and [(a["kind"], a["severity"], a["location"]) for a in doc["open"]] == [
        ("ventilation_alarm", "critical", "1")]


def test_status_and_score_beat_daily_and_the_chain_heads_go_out_daily(publisher):
    pub, sent, _config = publisher
    pub.run(NOW)
    sent.clear()
    assert pub.run(NOW + timedelta(hours=23)) == 0
    assert pub.run(NOW + timedelta(hours=24, minutes=1)) == 3
    assert sorted(name.rsplit("/", 1)[1] for name, _doc in sent) == ["chain", "score", "status"]
    chain = dict(sent)["ikb/123456/chain"]
    assert check_chain_doc(chain) is None and chain["time"] == (NOW + timedelta(hours=24, minutes=1)).isoformat()


def test_a_new_bridge_connection_sends_everything_again(publisher):
    pub, sent, _config = publisher
    pub.run(NOW)
    sent.clear()
    pub.on_connected(b"0")
    assert pub.run(NOW + timedelta(minutes=1)) == 0
    pub.on_connected(b"1")  # mosquitto's bridge notification: upstream may have lost its retained store
    assert pub.run(NOW + timedelta(minutes=2)) == 4


def test_a_failed_publish_is_tried_again_at_the_next_run(tmp_path, store):
    config = settings(tmp_path, upstream={"enabled": True})
    calls = []

    def flaky(name, body):
        calls.append(name)
        if len(calls) == 1:
            raise RuntimeError("upstream: geen verbinding")

    pub = UpstreamPublisher(store, config, flaky, farm_key(config.key_path()), started=NOW)
    with pytest.raises(RuntimeError):
        pub.run(NOW)
    assert pub.run(NOW + timedelta(minutes=1)) == 4


def test_upstream_off_and_home_assistant_off_means_no_job_but_a_farm_key(tmp_path, store):
    config = settings(tmp_path)
    assert upstream_job(store, config) is None
    assert config.key_path().exists()  # created on the first run, for the packs it will sign


def test_home_assistant_discovers_the_verdict_each_houses_dark_period_and_open_alerts(tmp_path, store, broker):
    config = settings(tmp_path, port=broker.port, homeassistant={"enabled": True})
    sensor = sync_sensors(store, config.sensors, NOW)[("zigbee2mqtt/stal1_lux", "illuminance_lux")]
    with store.transaction() as db:  # lights on 04:00, off 19:30 with a 20-minute dusk: 8.5 h dark
        insert_readings(db, [(sensor.id, t, v) for t, v in light_samples(date(2026, 3, 1), 3, on="04:00",
                                                                         off="19:30") if t <= to_ms(NOW)])
    evaluate_tick(store, config, NOW)
    AlertEngine(store, config).raise_alert("ventilation_alarm", "1", to_ms(NOW))
    job = upstream_job(store, config)
    try:
        for _ in range(50):
            try:
                job.function(NOW)
                break
            except RuntimeError:  # not connected yet
                time.sleep(0.1)
    finally:
        job.close()
    retained = dict(fetch_retained(MqttOptions(port=broker.port, client_id="ha"), ["homeassistant/#",
                                                                                    "ikb-agent/homeassistant"]))
    configs = {name: json.loads(body) for name, body in retained.items() if name.startswith("homeassistant/")}
    assert sorted(configs) == ["homeassistant/sensor/ikb_agent_123456/dark_1/config",  # house 2 has no lux sensor
                               "homeassistant/sensor/ikb_agent_123456/open_alerts/config",
                               "homeassistant/sensor/ikb_agent_123456/verdict/config"]
    for doc in configs.values():
        assert doc["state_topic"] == "ikb-agent/homeassistant" and doc["availability_topic"] == "ikb-agent/status"
        assert doc["device"]["identifiers"] == ["ikb-agent-123456"] and doc["unique_id"].startswith("ikb_agent_")
    state = json.loads(retained["ikb-agent/homeassistant"])
    assert not [name for name in retained if name.startswith("ikb/")]  # upstream is off: nothing for the bridge

    def shown(obj: str) -> str:
        """Render a discovered sensor's value as Home Assistant's Jinja template would."""
        template = configs[f"homeassistant/sensor/ikb_agent_123456/{obj}/config"]["value_template"]
        return jinja2.Environment().from_string(template).render(value_json=state)

    assert shown("verdict") == state["verdict"] and state["verdict"] in configs[
        "homeassistant/sensor/ikb_agent_123456/verdict/config"]["options"]
    assert shown("open_alerts") == "1" and state["alerts"][0].startswith("critical: ")
    # The night of 3 to 4 March: dark from the end of the dusk (19:30) until the dawn ramp (04:00).
    assert 8.4 <= float(shown("dark_1")) <= 8.7
    assert state["houses"]["1"]["start"].startswith("2026-03-03T19:")
    assert state["houses"]["1"]["end"].startswith("2026-03-04T04:")
