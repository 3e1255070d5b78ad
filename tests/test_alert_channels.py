"""E-mail through a real SMTP server (aiosmtpd, STARTTLS + login) and MQTT through the real mosquitto.

The last tests run the whole alert service with its threads and the real
clock: one ventilation alarm reaches a webhook, a mailbox and an MQTT
subscriber. Ingestion (issue 3) is driven through its listener contract with
StoredReading-shaped batches.
"""

from __future__ import annotations

import json

import pytest

from agent.alerts.channels import EmailChannel, build_channels, state_topic
from agent.alerts.engine import acknowledge, list_alerts
from agent.alerts.outbox import DeliveryError, Dispatcher, Message
from agent.alerts.service import AlertService
from agent.store.connection import open_store

from .alerting import T0, Clock, MqttListener, SmtpReceiver, WebhookReceiver, reading, settings_with


@pytest.fixture
def smtp(tmp_path):
    server = SmtpReceiver(tmp_path).start()
    yield server
    server.stop()


def email_channel(smtp, *, password="geheim", extra=""):
    return f"""
[[alerts.channels]]
type = "email"
name = "mail"
smtp_host = "localhost"
smtp_port = {smtp.port}
starttls = true
username = "boer"
password = "{password}"
sender = "ikb-agent@hoeve.nl"
to = ["jan@hoeve.nl", "els@hoeve.nl"]
ca_file = "{smtp.cert}"
timeout = 5
{extra}
"""


def test_email_arrives_over_starttls_with_login_and_a_dutch_subject(tmp_path, store, smtp):
    settings = settings_with(tmp_path, email_channel(smtp))
    service = AlertService(store, settings, clock_fn=Clock(), mqtt_ack=False)
    service.listener([reading("ventilation_alarm", "2", 1, T0)])
    assert service.dispatcher.run_once(T0) == 1
    recipients, mail = smtp.wait()
    assert recipients == ["jan@hoeve.nl", "els@hoeve.nl"]
    assert mail["Subject"] == "[KRITIEK] Stal 2: ventilatie-alarm"
    assert mail["From"] == "ikb-agent@hoeve.nl" and mail["X-Priority"] == "1"
    body = mail.get_content()
    assert "Controleer direct de ventilatie in de stal." in body
    assert "Sinds: 28-03-2026 03:00" in body
    attempt = store.query("SELECT ok, detail FROM delivery_attempts")[0]
    assert attempt == {"ok": 1, "detail": "geaccepteerd door localhost"}


def test_a_refused_login_is_a_failed_attempt_with_the_reason_and_is_retried(tmp_path, store, smtp):
    settings = settings_with(tmp_path, email_channel(smtp, password="fout"))
    service = AlertService(store, settings, clock_fn=Clock(), mqtt_ack=False)
    service.listener([reading("ventilation_alarm", "2", 1, T0)])
    assert service.dispatcher.run_once(T0) == 0
    [attempt] = store.query("SELECT ok, detail FROM delivery_attempts")
    assert attempt["ok"] == 0 and attempt["detail"].startswith("SMTP-login geweigerd door localhost")
    assert store.query("SELECT state FROM outbox")[0]["state"] == "pending"


def test_an_untrusted_certificate_is_refused(tmp_path, store, smtp):
    settings = settings_with(tmp_path, email_channel(smtp).replace(f'ca_file = "{smtp.cert}"', ""))
    channel = EmailChannel(settings.alerts.channels[0], settings)
    with pytest.raises(DeliveryError, match="TLS|certificate"):
        channel.send(Message(1, None, "mail", "test", "info", {"summary": "x", "text": "y"}, 0, 0))


def test_mqtt_channel_publishes_retained_state_and_the_event_stream(tmp_path, store, broker):
    settings = settings_with(tmp_path, """
[[alerts.channels]]
type = "mqtt"
name = "dialer"
topic = "hoeve/alerts"
""", mqtt_port=broker.port)
    listener = MqttListener(broker.port, "hoeve/alerts/#").start()
    service = AlertService(store, settings, clock_fn=Clock(), mqtt_ack=False)
    for link in service._links.values():
        assert link.start(wait=5)
    try:
        service.listener([reading("ventilation_alarm", "1", 1, T0)])
        assert service.dispatcher.run_once(T0) == 1
        got = dict(listener.wait() for _ in range(2))
        state = got["hoeve/alerts/state/ventilation_alarm/1"]
        assert state["alert"]["state"] == "open" and state["summary"] == "[KRITIEK] Stal 1: ventilatie-alarm"
        assert got["hoeve/alerts/events"]["message_id"] == state["message_id"]
        # Acknowledged, then resolved: the retained state follows.
        acknowledge(store, state["alert"]["id"], by="jan", via="web", now=T0)
        service.listener([reading("ventilation_alarm", "1", 0, T0)])
        for minutes in (1, 6):
            service.tick(Clock().advance(minutes=minutes))
            service.dispatcher.run_once(Clock().advance(minutes=minutes))
        states = [doc for topic, doc in (listener.wait() for _ in range(4)) if "/state/" in topic]
        assert [(d["event"], d["alert"]["state"], d["alert"]["acknowledged"]) for d in states] == [
            ("acknowledged", "open", True), ("resolved", "closed", True)]
    finally:
        service.stop()
        listener.stop()
    # A subscriber that connects later (Home Assistant after a reboot) still sees the current state.
    late = MqttListener(broker.port, "hoeve/alerts/state/#").start()
    try:
        topic, doc = late.wait()
        assert topic == state_topic("hoeve/alerts", {"kind": "ventilation_alarm", "location": "1", "subject": ""})
        assert doc["alert"]["kind"] == "ventilation_alarm"
    finally:
        late.stop()


def test_mqtt_channel_with_the_broker_down_retries_until_it_is_back(tmp_path, store, broker):
    settings = settings_with(tmp_path, """
[[alerts.channels]]
type = "mqtt"
name = "dialer"
topic = "hoeve/alerts"
timeout = 1
""", mqtt_port=broker.port)
    broker.stop()
    service = AlertService(store, settings, clock_fn=Clock(), mqtt_ack=False)
    for link in service._links.values():
        link.start()
    try:
        service.listener([reading("ventilation_alarm", "1", 1, T0)])
        assert service.dispatcher.run_once(T0) == 0
        assert "geen verbinding" in store.query("SELECT detail FROM delivery_attempts")[0]["detail"]
        broker.start()
        listener = MqttListener(broker.port, "hoeve/alerts/events").start()
        for link in service._links.values():  # the link reconnects on its own
            assert link.wait_ready(35)
        clock = Clock()
        assert service.dispatcher.run_once(clock.advance(minutes=1)) == 1
        assert listener.wait()[1]["event"] == "raised"
        listener.stop()
    finally:
        service.stop()


# ---------------------------------------------------------------------- the whole service, threads and all


def test_a_ventilation_alarm_arrives_at_webhook_email_and_mqtt(tmp_path, broker, smtp):
    hook = WebhookReceiver().start()
    settings = settings_with(tmp_path, f"""
[[alerts.channels]]
type = "webhook"
name = "telefoon"
url = "{hook.url}"
[[alerts.channels]]
type = "mqtt"
name = "dialer"
topic = "hoeve/alerts"
""" + email_channel(smtp), mqtt_port=broker.port)
    listener = MqttListener(broker.port, "hoeve/alerts/events").start()
    store = open_store(tmp_path / "farm.db")
    # As agent.cli.runner composes it: the listener's connection, and a second one for the threads.
    service = AlertService(store, settings, background_store=open_store(tmp_path / "farm.db"))
    service.start()
    try:
        assert all(link.wait_ready(5) for link in service._links.values())
        service.listener([reading("ventilation_alarm", "2", 1, service.clock())])
        assert hook.wait().json["summary"] == "[KRITIEK] Stal 2: ventilatie-alarm"
        assert smtp.wait()[1]["Subject"] == "[KRITIEK] Stal 2: ventilatie-alarm"
        assert listener.wait()[1]["summary"] == "[KRITIEK] Stal 2: ventilatie-alarm"
        # The farm's alarm dialer acknowledges on the ack topic.
        alert_id = list_alerts(store)[0].id
        service.ack_link.publish(f"{settings.alerts.ack_topic}/kiezer", json.dumps({"id": alert_id}))
        for _ in range(100):
            if list_alerts(store)[0].acked_by:
                break
            service._stop.wait(0.05)
        assert list_alerts(store)[0].acked_by == "kiezer (mqtt)"
    finally:
        service.stop()
        listener.stop()
        hook.stop()
        store.close()


def test_dispatcher_keeps_channels_apart(tmp_path, store, smtp):
    """An e-mail server that refuses us does not delay the webhook."""
    hook = WebhookReceiver().start()
    settings = settings_with(tmp_path, f"""
[[alerts.channels]]
type = "webhook"
name = "telefoon"
url = "{hook.url}"
""" + email_channel(smtp, password="fout"))
    service = AlertService(store, settings, clock_fn=Clock(), mqtt_ack=False)
    service.listener([reading("ventilation_alarm", "1", 1, T0)])
    Dispatcher(store, build_channels(settings, None)).run_once(T0)
    assert hook.wait().json["event"] == "raised"
    states = {r["channel"]: r["state"] for r in store.query("SELECT channel, state FROM outbox")}
    assert states == {"telefoon": "delivered", "mail": "pending"}
    hook.stop()


def test_an_alarm_published_on_the_broker_reaches_all_three_through_the_running_agent(tmp_path, broker, smtp):
    """End to end: mosquitto → `ikb-agent run` (ingest, listener) → webhook, e-mail and MQTT."""
    from agent.cli.runner import Agent
    from sensors.mqtt import MqttLink, MqttOptions

    hook = WebhookReceiver().start()
    settings = settings_with(tmp_path, f"""
[[alerts.channels]]
type = "webhook"
name = "telefoon"
url = "{hook.url}"
[[alerts.channels]]
type = "mqtt"
name = "dialer"
topic = "hoeve/alerts"
""" + email_channel(smtp), panels=True, mqtt_port=broker.port)
    listener = MqttListener(broker.port, "hoeve/alerts/events").start()
    agent = Agent(settings)
    agent.start()
    sensor = MqttLink(MqttOptions(port=broker.port), "alarm-panel-stal2")
    try:
        assert agent.wait_connected(10)
        assert sensor.start(wait=5)
        sensor.publish("stal2/alarm", "alarm")
        assert hook.wait().json["summary"] == "[KRITIEK] Stal 2: ventilatie-alarm"
        assert smtp.wait()[1]["Subject"] == "[KRITIEK] Stal 2: ventilatie-alarm"
        assert listener.wait()[1]["summary"] == "[KRITIEK] Stal 2: ventilatie-alarm"
    finally:
        sensor.stop()
        agent.stop()  # closes the alert service with it
        listener.stop()
        hook.stop()
    store = open_store(tmp_path / "farm.db")
    delivered = store.query("SELECT channel FROM outbox WHERE state = 'delivered' ORDER BY channel")
    assert [r["channel"] for r in delivered] == ["dialer", "mail", "telefoon"]
    store.close()
