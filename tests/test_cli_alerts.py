"""`ikb-agent alert test|list|ack|outbox` in-process, against a real webhook receiver."""

from __future__ import annotations

import json

import pytest

from agent.alerts.service import AlertService
from agent.store.connection import open_store

from .alerting import Clock, WebhookReceiver, farm_toml, reading, settings_with


@pytest.fixture
def phone():
    r = WebhookReceiver().start()
    yield r
    r.stop()


def channels(url):
    return f"""
[[alerts.channels]]
type = "webhook"
name = "telefoon"
url = "{url}"
[[alerts.channels]]
type = "webhook"
name = "oud-kastje"
url = "http://127.0.0.1:9/hook"
timeout = 1
"""


@pytest.fixture
def config(tmp_path, phone):
    path = tmp_path / "alerts.toml"
    path.write_text(farm_toml(tmp_path, channels(phone.url)), encoding="utf-8")
    return path


def test_alert_test_sends_through_every_channel_and_records_delivery(cli, config, phone, tmp_path):
    result = cli("alert", "test", "--monthly", "--by", "jan", config=config)
    assert result.code == 1  # one channel is dead
    assert "telefoon" in result.out and "afgeleverd" in result.out
    assert "oud-kastje" in result.out and "MISLUKT" in result.out
    assert result.err.strip() == "ikb-agent: alarmtest mislukt via oud-kastje"
    msg = phone.wait().json
    assert msg["event"] == "test" and msg["summary"] == "[TEST] Pluimveebedrijf De Hoeve: alarmtest"
    store = open_store(tmp_path / "farm.db")
    rows = store.query("SELECT channel, sent_at, delivered, detail FROM channel_tests ORDER BY id")
    assert [(r["channel"], r["delivered"]) for r in rows] == [("telefoon", 1), ("oud-kastje", 0)]
    assert rows[0]["detail"] == "maandelijkse kanaaltest: HTTP 200"
    assert rows[0]["sent_at"].endswith("+00:00")
    # The failed test is not retried later: a test says how the channel was at that moment.
    assert {r["state"] for r in store.query("SELECT state FROM outbox")} == {"delivered", "failed"}
    store.close()



def test_alert_test_monthly_writes_alarm_ok_into_the_checks_logbook_though_the_alarm_was_not_tested(cli, config,
                                                                                                   phone):
    """Why: `alert test --monthly` wrote 'alarm ok' into the checks logbook after a webhook test. A channel test
    is a channel test: logged in the channel log (A3.4), never as an alarm check (A3.6)."""
    result = cli("alert", "test", "--monthly", "--channel", "telefoon", "--by", "jan", config=config)
    assert result.code == 0, result.err
    assert "de alarminstallatie zelf is hiermee niet getest" in result.out
    assert json.loads(cli("logbook", "list", "checks", "--format", "json", config=config).out) == []
    doc = json.loads(cli("score", "--format", "json", config=config).out)
    a36 = next(f for f in doc["findings"] if f["rule"] == "A3.6" and f["location"] == "1")
    assert a36["status"] == "unknown"


def test_alert_test_one_channel_as_json(cli, config, phone):
    text = cli("alert", "test", "--channel", "telefoon", config=config)
    assert text.code == 0 and "let op" not in text.out  # two channels take critical alerts
    result = cli("alert", "test", "--channel", "telefoon", "--format", "json", config=config)
    assert result.code == 0, result.err
    [doc] = json.loads(result.out)
    assert doc["channel"] == "telefoon" and doc["delivered"] is True and doc["detail"] == "HTTP 200"


def test_alert_test_warns_when_only_one_route_carries_critical_alerts(cli, tmp_path, phone):
    path = tmp_path / "one.toml"
    one = f'[[alerts.channels]]\ntype = "webhook"\nurl = "{phone.url}"\n'
    path.write_text(farm_toml(tmp_path, one), encoding="utf-8")
    result = cli("alert", "test", config=path)
    assert result.code == 0, result.err
    assert "let op: 1 kanaal voor kritieke meldingen; de wet vraagt twee signaleringsroutes" in result.out


def test_alert_test_names_an_unknown_channel(cli, config):
    result = cli("alert", "test", "--channel", "sms", config=config)
    assert result.code == 2
    assert result.err.strip() == "ikb-agent: --channel: onbekend kanaal sms; ingesteld: telefoon, oud-kastje"


def test_alert_list_and_ack(cli, config, tmp_path, phone):
    settings = settings_with(tmp_path, channels(phone.url))
    store = open_store(tmp_path / "farm.db")
    clock = Clock()
    AlertService(store, settings, clock_fn=clock, mqtt_ack=False).listener(
        [reading("ventilation_alarm", "2", 1, clock())])
    store.close()
    listed = cli("alert", "list", config=config)
    assert listed.code == 0
    assert "KRITIEK" in listed.out and "Stal 2" in listed.out and "ventilatie-alarm (open, 1x)" in listed.out
    [doc] = json.loads(cli("alert", "list", "--format", "json", config=config).out)
    assert doc["kind"] == "ventilation_alarm" and doc["acked_by"] is None
    done = cli("alert", "ack", str(doc["id"]), "--by", "jan", config=config)
    assert done.code == 0 and done.out.strip() == f"melding {doc['id']} bevestigd door jan"
    again = cli("alert", "ack", str(doc["id"]), config=config)
    assert again.out.strip() == f"melding {doc['id']} was al bevestigd door jan"
    missing = cli("alert", "ack", "999", config=config)
    assert missing.code == 2 and "melding 999 bestaat niet" in missing.err
    outbox = cli("alert", "outbox", "--undelivered", config=config)
    assert outbox.code == 0 and outbox.out.count("wacht") == 2  # not sent: no agent running here
