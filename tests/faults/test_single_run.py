"""Two `run` processes on one database (issue 13, Why 3): the second is refused with a clear line.

Before, both ran with the same client id (17 takeovers each in 35 s) and 648 of 4,000 readings without a
device timestamp were stored twice.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from agent.cli.runner import Agent
from agent.store import RunLock, StoreError
from tests.farmconfig import farm_dict, settings_for, to_toml
from tests.test_mqtt_ingest import agent_process, publisher, status_of, stored_values, wait_for


def test_a_second_run_on_the_same_database_is_refused_and_the_first_stores_everything_once(tmp_path, broker):
    data = farm_dict(tmp_path, mqtt={"port": broker.port, "client_id": "agent-one"})
    config = tmp_path / "farm.toml"
    config.write_text(to_toml(data), encoding="utf-8")
    first = agent_process(config)
    try:
        assert wait_for(lambda: status_of(broker) == "online", 15)
        second = agent_process(config)
        out, err = second.communicate(timeout=20)
        assert second.returncode == 1
        assert "er draait al een `ikb-agent run` op" in err and str(first.pid) in err, err
        assert "Traceback" not in err
        pub = publisher(broker)
        for i in range(500):
            pub.publish("ikb/1/lux", str(i))  # no device timestamp: a second agent would store them twice
        pub.close()
        assert wait_for(lambda: len(stored_values(data["storage"]["path"])) >= 500, 20)
        time.sleep(0.5)
        assert sorted(stored_values(data["storage"]["path"])) == [float(i) for i in range(500)]
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=15)
    assert first.returncode == 0


def test_the_lock_goes_with_the_process_even_when_it_is_killed(tmp_path, broker):
    data = farm_dict(tmp_path, mqtt={"port": broker.port, "client_id": "agent-killed"})
    config = tmp_path / "farm.toml"
    config.write_text(to_toml(data), encoding="utf-8")
    proc = agent_process(config)
    assert wait_for(lambda: status_of(broker) == "online", 15)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    RunLock(data["storage"]["path"]).acquire().release()  # no stale lock after SIGKILL


def test_an_agent_in_this_process_holds_the_lock_until_it_stops(tmp_path, broker):
    settings = settings_for(tmp_path, mqtt={"port": broker.port, "client_id": "agent-inproc"})
    agent = Agent(settings)
    agent.start()
    try:
        with pytest.raises(StoreError, match="er draait al een"):
            Agent(settings).start()
    finally:
        agent.stop()
    again = Agent(settings)
    again.start()
    again.stop()
