"""`ikb-agent run` with a real mosquitto: the minute job and the on-arrival judgement of alarm inputs."""

from __future__ import annotations

import json

from agent import clock
from agent.cli.runner import Agent
from agent.config import config_from_dict
from agent.store.connection import open_store
from sensors.mqtt import MqttOptions, MqttPublisher

from .farmconfig import SENSORS, farm_dict
from .test_mqtt_ingest import wait_for


def finding(path, rule, location=""):
    """Return the stored current status of one rule, or None."""
    store = open_store(path, readonly=True)
    try:
        rows = store.query("SELECT status FROM findings WHERE rule = ? AND location = ?", [rule, location])
        return rows[0]["status"] if rows else None
    finally:
        store.close()


def test_a_mains_failure_is_judged_when_it_arrives(tmp_path, broker):
    sensors = SENSORS + [{"topic": "stal1/generator", "kind": "generator", "location": "1"}]
    data = farm_dict(tmp_path, sensors, mqtt={"port": broker.port, "client_id": f"agent-{tmp_path.name}"})
    data["sensor_rules"] = {"generator": {"start_grace_seconds": 30}}
    settings = config_from_dict(data)
    agent = Agent(settings)
    agent.start()
    try:
        assert agent.wait_connected(10)
        pub = MqttPublisher(MqttOptions(port=broker.port), client_id="pub")
        pub.connect()
        now = clock.utcnow().timestamp()
        # Mains lost five minutes ago and the generator never started (each message carries its own time).
        for ago in (300, 240, 180, 120, 60, 1):
            pub.publish("stal1/generator", json.dumps({"value": "off", "ts": now - ago}))
            pub.publish("stal1/mains", json.dumps({"value": "off", "ts": now - ago}))
        pub.close()
        path = settings.storage.path
        # The scheduled job first runs 5 s after the start: within 4 s this is the listener's doing.
        assert wait_for(lambda: finding(path, "A3.5") == "D", 4)
        store = open_store(path, readonly=True)
        try:
            [change] = store.query("SELECT from_status, to_status FROM status_changes WHERE rule = 'A3.5'")
            assert (change["from_status"], change["to_status"]) == (None, "D")
            # Judging wrote no episode: recording the outage is `run`'s own job.
            assert store.query("SELECT 1 FROM events WHERE kind = 'mains_outage'") == []
            agent.scheduler.run_now("episodes")
            [outage] = store.query("SELECT detail FROM events WHERE kind = 'mains_outage'")
            assert json.loads(outage["detail"])["result"] == "failed"
        finally:
            store.close()
    finally:
        agent.stop()


def test_the_minute_job_is_scheduled_and_records_the_score(tmp_path, broker):
    data = farm_dict(tmp_path, mqtt={"port": broker.port, "client_id": f"agent-{tmp_path.name}"})
    agent = Agent(config_from_dict(data))
    agent.start()
    try:
        names = [job.name for job in agent.scheduler.jobs]
        assert "evaluate" in names
        agent.scheduler.run_now("evaluate")  # what the scheduler does every minute
        path = agent.settings.storage.path
        assert finding(path, "G3.8.9", "1") == "unknown"
        assert finding(path, "A1.1") == "unknown"
    finally:
        agent.stop()
