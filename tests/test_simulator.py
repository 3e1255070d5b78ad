"""The simulated farm: its configuration and its stream agree, and what happens on the farm is in the data."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from agent.config import load_config
from agent.history import read_history
from agent.ingest.ingestor import Ingestor, ingest_all
from agent.store.connection import open_store
from agent.store.readings import series
from sensors.simulator import DEVICES, FarmModel, catch_up_moment, farm_toml, publish_stream, trace_messages
from sensors.trace import read_trace, trace_line

from .conftest import REPO

START = datetime(2026, 3, 27, 23, 0, tzinfo=timezone.utc)  # local midnight, 28 March (the night before DST)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """Return (settings, store, counts) after replaying ten simulated days."""
    tmp = tmp_path_factory.mktemp("sim")
    path = tmp / "farm.toml"
    path.write_text(farm_toml(db_path=str(tmp / "sim.db")), encoding="utf-8")
    settings = load_config(path)
    store = open_store(settings.storage.path)
    lines = (trace_line(ts, topic, payload) for ts, topic, payload in
             trace_messages(FarmModel(), START, START + timedelta(days=10)))
    counts = ingest_all(Ingestor(store, settings, START, live=False, batch_size=5000), read_trace(lines))
    yield settings, store, counts
    store.close()


def values(store, topic, field, since, until):
    """Return the stored (local hour, value) pairs of one sensor."""
    sid = store.query("SELECT id FROM sensors WHERE topic = ? AND field = ?", [topic, field])[0]["id"]
    return series(store, sid, since, until)


def test_every_simulated_message_is_accepted_and_every_sensor_reports(simulated):
    settings, store, counts = simulated
    assert counts.rejected == 0, counts.reasons
    per_sensor = dict(store.execute("SELECT sensor_id, count(*) FROM readings GROUP BY sensor_id").fetchall())
    assert len(per_sensor) == len(settings.sensors) == sum(len(d.sensors) for d in DEVICES)
    kinds = {s.kind for s in settings.sensors}
    assert kinds == {"lux", "temperature", "humidity", "nh3", "co2", "egg_temperature", "ventilation_alarm",
                     "generator", "mains", "pophole"}


def test_the_light_programs_have_dawn_dusk_and_one_misbehaving_house(simulated):
    _, store, _ = simulated
    day = START + timedelta(days=1)  # 29 March, local
    house1 = values(store, "zigbee2mqtt/stal1_lux", "illuminance_lux", day, day + timedelta(days=1))
    dark = [v for t, v in house1 if 22 <= (datetime.fromtimestamp(t / 1000, timezone.utc).hour + 2) % 24
            or (datetime.fromtimestamp(t / 1000, timezone.utc).hour + 2) % 24 < 4]
    assert dark and max(dark) <= 0.5  # G3.8.10: dark is dark
    assert 14.5 <= sum(1 for _, v in house1 if v >= 20) / 60 <= 16  # G3.8.7: at most 16 h of light
    dimmed = [v for _, v in house1 if 1 < v < 20]
    assert len(dimmed) >= 30  # G3.8.11: two 30-minute ramps, read every minute
    # House 2 in turn: no dusk, lights on in the dark, a short night.
    faults = []
    for d in range(3):
        since = START + timedelta(days=d)
        lux2 = values(store, "ikb/2/lux", "", since, since + timedelta(days=1))
        night = [v for t, v in lux2 if 1.0 <= (t - since.timestamp() * 1000) / 3_600_000 < 1.3]
        ramps = sum(1 for _, v in lux2 if 1 < v < 20)
        faults.append((max(night) > 20, ramps))
    assert any(on_in_dark for on_in_dark, _ in faults)
    assert min(r for _, r in faults) < 35  # a day with only one ramp: no dusk


def test_alarm_power_and_condensation_events_happen(simulated):
    _, store, _ = simulated
    until = START + timedelta(days=10)
    alarm = values(store, "stal1/ventilatie/alarm", "", START, until)
    assert {v for _, v in alarm} == {0.0, 1.0}
    mains = values(store, "shellypro1-aggregaat/status/input:0", "state", START, until)
    generator = values(store, "aggregaat/status", "", START, until)
    assert 0.0 in {v for _, v in mains} and 1.0 in {v for _, v in generator}
    # The generator starts within a minute of every outage.
    for t, v in mains:
        if v == 0.0:
            assert any(t <= g <= t + 60_000 and gv == 1.0 for g, gv in generator)
    # Condensation spell: dew point (Magnus) above the egg probe's temperature.
    air = dict(values(store, "tele/eierlokaal/SENSOR", "AM2301.Temperature", START, until))
    hum = dict(values(store, "tele/eierlokaal/SENSOR", "AM2301.Humidity", START, until))
    egg = dict(values(store, "tele/eierlokaal/SENSOR", "DS18B20.Temperature", START, until))

    def dew(t, rh):
        g = math.log(rh / 100) + 17.62 * t / (243.12 + t)
        return 243.12 * g / (17.62 - g)

    wet = [ts for ts in air if ts in hum and ts in egg and dew(air[ts], hum[ts]) > egg[ts]]
    assert 60 <= len(wet) <= 2 * 3 * 60  # a few hours on two of the ten days


def test_replaying_the_same_days_again_stores_nothing_new(simulated):
    settings, store, first = simulated
    lines = (trace_line(ts, topic, payload) for ts, topic, payload in
             trace_messages(FarmModel(), START, START + timedelta(days=1)))
    again = ingest_all(Ingestor(store, settings, START, live=False), read_trace(lines))
    assert again.stored == 0 and again.rejected == 0 and again.duplicates > 0


def test_catching_up_runs_faster_than_real_time_but_never_ahead_of_it():
    now = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
    start = now - timedelta(hours=2)
    assert catch_up_moment(start, 60, 60, now) == now - timedelta(hours=1)
    assert catch_up_moment(start, 60, 600, now) == now
    assert catch_up_moment(start, 0, 0, now) == now


def test_publishing_sends_history_at_once_and_skips_what_cannot_carry_its_time():
    now = datetime.now(timezone.utc)
    sent: list[tuple[str, bytes]] = []
    stats = publish_stream(lambda topic, payload: sent.append((topic, payload)), FarmModel(),
                           now - timedelta(hours=1), speed=0, stop=threading.Event(), end=now - timedelta(minutes=1))
    assert stats.published == len(sent) > 500
    # ESPHome publishes bare values stamped on receipt: sending old ones now would misdate them.
    assert stats.skipped >= 2 * 58 and not any(topic.startswith("stal2/sensor/") for topic, _ in sent)
    assert all(json.loads(p) for t, p in sent if not t.startswith("stal2/sensor/"))


def test_demo_runs_broker_simulator_and_agent_and_stops_cleanly_on_ctrl_c(tmp_path):
    workdir = tmp_path / "demo"
    proc = subprocess.Popen([sys.executable, "-c", "from agent.cli.main import entry_point; entry_point()", "demo",
                             "--dir", str(workdir), "--history", "0.2", "--port", "18099"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        stored, states = 0, []
        while time.monotonic() < deadline and (stored < 1000 or not states):
            time.sleep(0.3)
            if (workdir / "demo.db").exists():
                try:
                    store = open_store(workdir / "demo.db", readonly=True)
                    stored = store.execute("SELECT count(*) FROM readings").fetchone()[0]
                    state = read_history(store)
                    store.close()
                    if state is not None:
                        states.append(state)
                except Exception:  # noqa: BLE001 - the database may be mid-creation
                    pass
        assert stored >= 1000
        # The page is told how far the history has come, while it is still loading or being judged.
        assert states and states[0].loading and 0 <= states[0].percent <= 100
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "http://127.0.0.1:18099/" in out and "Demo gestopt." in out
    assert "unreachable" not in err
    assert "127.0.0.1" in (workdir / "ikb-agent.toml").read_text()
    store = open_store(workdir / "demo.db", readonly=True)
    assert store.query("SELECT name, role FROM users") == [{"name": "boer", "role": "farmer"}]
    store.close()
    assert "boer / demo-wachtwoord" in out
    broker_log = (workdir / "mosquitto" / "mosquitto.log").read_text()
    assert "ikb-agent-demo" in broker_log and "Saving in-memory database" in broker_log
