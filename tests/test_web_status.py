"""The farmer's status page (issue 16): the same health `ikb-agent status` reports, with a real running agent."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from agent.cli.runner import Agent
from agent.health import TEXTS
from sensors.mqtt import MqttOptions, MqttPublisher

from .test_mqtt_ingest import wait_for
from .web_fixtures import (  # noqa: F401
    accounts,
    app,
    auditor,
    client_for,
    clock,
    db_path,
    farm_config,
    farmer,
    token_of,
)


def _farmer_now(client_for, clock):
    """Return the farmer logged in at the real now (the agent's runtime file carries real times; a session
    made at the fixture's date would be past its idle limit by then)."""
    clock.now = datetime.now(timezone.utc)
    return client_for("jan")


def test_the_farmer_sees_that_the_agent_is_not_running(client_for, clock):
    farmer = _farmer_now(client_for, clock)
    page = farmer.get("/status/").get_data(as_text=True)
    assert "Er is een probleem" in page and "draait niet" in page
    assert "De agent (ikb-agent run) draait niet" in page
    assert "zigbee2mqtt/stal1_lux" in page and "nooit" in page  # the configured sensor, never heard


def test_the_status_page_shows_a_running_agent_its_broker_and_the_last_message(client_for, clock, farm_config, db_path,
                                                                               broker, tmp_path):
    settings = farm_config.model_copy(update={"mqtt": farm_config.mqtt.model_copy(
        update={"port": broker.port, "client_id": f"agent-{tmp_path.name}"})})
    agent = Agent(settings, str(db_path))
    agent.start()
    try:
        assert agent.wait_connected(10)
        pub = MqttPublisher(MqttOptions(port=broker.port), client_id=f"pub-{tmp_path.name}")
        pub.connect()
        pub.publish("zigbee2mqtt/stal1_lux", '{"illuminance_lux": 42.5}')
        pub.publish("zigbee2mqtt/stal1_lux", "not json")  # rejected, and counted
        pub.close()
        assert wait_for(lambda: agent.ingestor.counts.stored == 1 and agent.ingestor.counts.rejected == 1, 10)
        agent.watchdog.check()  # the runtime file as `run`'s main loop rewrites it every few seconds
        farmer = _farmer_now(client_for, clock)
        page = farmer.get("/status/").get_data(as_text=True)
    finally:
        agent.stop()
    assert "Alles werkt" in page and "draait sinds" in page
    assert f"127.0.0.1:{broker.port}:" in page and "niet verbonden" not in page
    assert "de agent maakt voortgang" in page
    row = re.search(r"<tr>\s*<td>zigbee2mqtt/stal1_lux.*?</tr>", page, re.S).group(0)
    assert "42.5" in row and "nooit" not in row
    assert re.search(r"Afgewezen berichten</th><td>1<", page)
    # Warnings do not make it unhealthy, but the farmer reads them.
    assert "Er is nog geen back-up gemaakt." in page


def test_only_the_farmer_sees_the_status_page(auditor, client_for):
    assert auditor.get("/status/").status_code == 403
    assert client_for("tablet").get("/status/").status_code in (302, 403)
    assert client_for(None).get("/status/").status_code == 302  # to the login page


def test_status_problems_read_in_english_too(client_for, clock):
    farmer = _farmer_now(client_for, clock)
    farmer.post("/language", data={"lang": "en", "csrf_token": token_of(farmer), "next": "/status/"})
    page = farmer.get("/status/").get_data(as_text=True)
    assert "There is a problem" in page and "The agent (ikb-agent run) is not running" in page
    from agent.i18n import translations

    english = translations("en")
    for dutch in TEXTS.values():  # every problem text has its English, with the same placeholders
        assert english.gettext(dutch) != dutch
        assert set(re.findall(r"{\w*}", dutch)) == set(re.findall(r"{\w*}", english.gettext(dutch)))


def test_the_status_page_names_a_silent_sensor_and_refused_messages_in_words(cli, client_for, clock, db_path, tmp_path):
    """The farmer reads 'lichtsterkte' and 'bericht is leeg', never 'lux' or 'empty_payload', and local times."""
    import json
    from datetime import timedelta

    from agent.ingest import check_health
    from agent.store import open_store, sensors_of_kind

    now = datetime.now(timezone.utc).replace(microsecond=0)
    heard = now - timedelta(hours=3)
    trace = tmp_path / "trace.jsonl"
    lines = [{"ts": (heard + timedelta(minutes=5 * i)).isoformat(), "topic": "zigbee2mqtt/stal1_lux",
              "payload": {"illuminance_lux": 40.0 + i}} for i in range(12)]
    lines.append({"ts": heard.isoformat(), "topic": "zigbee2mqtt/stal1_lux", "payload": ""})
    trace.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert cli("replay", str(trace)).code == 0
    store = open_store(db_path)
    check_health(store, now, sensor_ids=[s.id for s in sensors_of_kind(store, "lux")], started=heard)
    store.close()
    page = _farmer_now(client_for, clock)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.get("/status/").get_data(as_text=True)))
    assert "Sensor zigbee2mqtt/stal1_lux (lichtsterkte, 1) is stil sinds" in text
    assert (heard + timedelta(minutes=10)).isoformat() not in text  # a local time, not the ISO moment
    assert "bericht is leeg: 1" in text and "empty_payload" not in text
    row = re.search(r"<tr[^>]*>\s*<td>zigbee2mqtt/stal1_lux.*?</tr>", page.get("/status/").get_data(as_text=True), re.S)
    assert "<td>lichtsterkte</td><td>Stal 1</td>" in row.group(0)
