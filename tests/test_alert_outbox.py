"""The outbox and its dispatcher against a real HTTP receiver: retries, backoff, restarts, signatures."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from agent.alerts.channels import SIGNATURE_HEADER, WebhookChannel, build_channels
from agent.alerts.outbox import Dispatcher, backoff_ms, enqueue
from agent.store.connection import open_store
from agent.store.readings import to_ms

from .alerting import T0, Clock, WebhookReceiver, settings_with


def payload(summary: str, severity: str = "critical") -> dict:
    return {"event": "raised", "severity": severity, "summary": summary, "text": summary + "\n\nDetails.",
            "alert": None, "ack_url": None}


@pytest.fixture
def receiver():
    r = WebhookReceiver().start()
    yield r
    r.stop()


def webhook_settings(tmp_path, url, extra=""):
    return settings_with(tmp_path, f"""
[[alerts.channels]]
type = "webhook"
name = "telefoon"
url = "{url}"
timeout = 2
{extra}
""")


def put(store, summary, at=T0, severity="critical", channel="telefoon") -> int:
    with store.transaction() as db:
        return enqueue(db, channel=channel, event="raised", severity=severity, payload=payload(summary, severity),
                       now_ms=to_ms(at))


def rows(store, sql, params=()):
    return store.query(sql, params)


def test_a_queued_message_reaches_the_webhook_and_the_attempt_is_recorded(tmp_path, store, receiver):
    settings = webhook_settings(tmp_path, receiver.url)
    dispatcher = Dispatcher(store, build_channels(settings, None))
    msg_id = put(store, "[KRITIEK] Stal 2: ventilatie-alarm")
    assert dispatcher.run_once(T0) == 1
    hit = receiver.wait()
    assert hit.json["summary"] == "[KRITIEK] Stal 2: ventilatie-alarm"
    assert hit.json["message_id"] == f"ikb-123456-{msg_id}"
    assert hit.headers["X-IKB-Message-Id"] == f"ikb-123456-{msg_id}"
    [row] = rows(store, "SELECT state, attempts, delivered_at FROM outbox")
    assert row == {"state": "delivered", "attempts": 1, "delivered_at": to_ms(T0)}
    [attempt] = rows(store, "SELECT ok, detail FROM delivery_attempts")
    assert attempt == {"ok": 1, "detail": "HTTP 200"}
    assert dispatcher.run_once(T0) == 0  # delivered once, not again


def test_receiver_down_for_a_minute_then_back_still_gets_the_alert(tmp_path, store, receiver):
    settings = webhook_settings(tmp_path, receiver.url)
    dispatcher = Dispatcher(store, build_channels(settings, None), retry_base=5, retry_max=300)
    receiver.stop()
    put(store, "[KRITIEK] Stal 1: ventilatie-alarm")
    clock = Clock()
    for _ in range(4):  # T0, +5 s, +15 s, +35 s: each attempt fails and is logged with its reason
        assert dispatcher.run_once(clock()) == 0
        [row] = rows(store, "SELECT next_attempt_at FROM outbox")
        clock.now = T0.fromtimestamp(row["next_attempt_at"] / 1000, T0.tzinfo)
    attempts = rows(store, "SELECT at, ok, detail FROM delivery_attempts ORDER BY id")
    assert [a["at"] - to_ms(T0) for a in attempts] == [0, 5000, 15000, 35000]
    assert all(a["ok"] == 0 and "niet bereikbaar" in a["detail"] for a in attempts)
    receiver.start()  # back after a minute
    assert dispatcher.run_once(clock.advance(seconds=0)) == 1
    assert receiver.wait().json["summary"] == "[KRITIEK] Stal 1: ventilatie-alarm"
    [row] = rows(store, "SELECT state, attempts FROM outbox")
    assert row == {"state": "delivered", "attempts": 5}


def test_a_retry_is_not_attempted_before_its_backoff(tmp_path, store, receiver):
    settings = webhook_settings(tmp_path, receiver.url)
    dispatcher = Dispatcher(store, build_channels(settings, None), retry_base=5, retry_max=300)
    receiver.status = 503
    put(store, "x")
    dispatcher.run_once(T0)
    receiver.status = 200
    clock = Clock()
    assert dispatcher.run_once(clock.advance(seconds=4)) == 0
    assert len(rows(store, "SELECT id FROM delivery_attempts")) == 1
    assert rows(store, "SELECT detail FROM delivery_attempts")[0]["detail"].startswith("HTTP 503")
    assert dispatcher.run_once(clock.advance(seconds=1)) == 1


def test_backoff_doubles_and_is_capped():
    assert [backoff_ms(n, 5, 300) for n in (1, 2, 3, 4, 7, 8, 50)] == [
        5000, 10000, 20000, 40000, 300000, 300000, 300000]


def test_pending_messages_survive_a_restart(tmp_path, receiver):
    settings = webhook_settings(tmp_path, receiver.url)
    path = tmp_path / "farm.db"
    first = open_store(path)
    receiver.stop()
    put(first, "[KRITIEK] Stal 2: ventilatie-alarm")
    Dispatcher(first, build_channels(settings, None)).run_once(T0)
    first.close()  # the agent stops (or the Pi loses power) with the message undelivered
    receiver.start()
    second = open_store(path)
    assert Dispatcher(second, build_channels(settings, None)).run_once(Clock().advance(minutes=5)) == 1
    assert receiver.wait().json["summary"] == "[KRITIEK] Stal 2: ventilatie-alarm"
    second.close()


def test_critical_messages_go_before_older_info(tmp_path, store, receiver):
    settings = webhook_settings(tmp_path, receiver.url)
    put(store, "info 1", severity="info")
    put(store, "warning", severity="warning")
    put(store, "critical", severity="critical")
    Dispatcher(store, build_channels(settings, None)).run_once(T0)
    assert [receiver.wait().json["summary"] for _ in range(3)] == ["critical", "warning", "info 1"]


def test_signature_header_is_the_hmac_of_the_body(tmp_path, store, receiver):
    settings = webhook_settings(tmp_path, receiver.url, 'secret = "geheim"')
    put(store, "signed")
    Dispatcher(store, build_channels(settings, None)).run_once(T0)
    hit = receiver.wait()
    expected = "sha256=" + hmac.new(b"geheim", hit.body, hashlib.sha256).hexdigest()
    assert hit.headers[SIGNATURE_HEADER] == expected


def test_ntfy_format_publishes_json_to_the_server_root_with_the_topic(tmp_path, store, receiver):
    settings = webhook_settings(tmp_path, f"http://127.0.0.1:{receiver.port}/boer-jan", 'format = "ntfy"')
    with store.transaction() as db:
        enqueue(db, channel="telefoon", event="raised", severity="critical",
                payload={**payload("[KRITIEK] Stal 2: ventilatie-alarm"), "ack_url": "http://pi:8080/alerts/ack/t"},
                now_ms=to_ms(T0))
    Dispatcher(store, build_channels(settings, None)).run_once(T0)
    hit = receiver.wait()
    assert hit.path == "/"
    doc = hit.json
    assert doc["topic"] == "boer-jan" and doc["priority"] == 5
    assert doc["title"] == "[KRITIEK] Stal 2: ventilatie-alarm"
    assert doc["actions"] == [{"action": "view", "label": "Bevestigen", "url": "http://pi:8080/alerts/ack/t"}]


def test_a_dead_channel_does_not_hold_up_a_live_one(tmp_path, store, receiver):
    settings = settings_with(tmp_path, f"""
[[alerts.channels]]
type = "webhook"
name = "dood"
url = "http://127.0.0.1:9/hook"
timeout = 1
[[alerts.channels]]
type = "webhook"
name = "levend"
url = "{receiver.url}"
""")
    put(store, "naar dood", channel="dood")
    put(store, "naar levend", channel="levend")
    Dispatcher(store, build_channels(settings, None)).run_once(T0)
    assert receiver.wait().json["summary"] == "naar levend"
    states = {r["channel"]: r["state"] for r in rows(store, "SELECT channel, state FROM outbox")}
    assert states == {"dood": "pending", "levend": "delivered"}


def test_worker_threads_deliver_as_soon_as_they_are_woken(tmp_path, store, receiver):
    settings = webhook_settings(tmp_path, receiver.url)
    dispatcher = Dispatcher(store, build_channels(settings, None), poll_seconds=30)
    dispatcher.start()
    try:
        put(store, "wakker")
        dispatcher.wake()
        assert receiver.wait(timeout=5).json["summary"] == "wakker"
    finally:
        dispatcher.stop()


def test_history_younger_than_two_years_cannot_be_deleted(tmp_path, store, receiver):
    settings = webhook_settings(tmp_path, receiver.url)
    put(store, "bewijs")
    Dispatcher(store, build_channels(settings, None)).run_once(T0)
    for table in ("outbox", "delivery_attempts"):
        with pytest.raises(Exception, match="cannot be deleted"):
            with store.transaction() as db:
                db.execute(f"DELETE FROM {table}")
    with pytest.raises(Exception, match="append-only"):
        with store.transaction() as db:
            db.execute("UPDATE delivery_attempts SET ok = 1")


def test_webhook_channel_reports_a_hanging_receiver_as_a_timeout(tmp_path):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    port = listener.getsockname()[1]
    settings = webhook_settings(tmp_path, f"http://127.0.0.1:{port}/hook")
    channel = WebhookChannel(settings.alerts.channels[0].model_copy(update={"timeout": 0.3}), settings)
    from agent.alerts.outbox import DeliveryError, Message

    with pytest.raises(DeliveryError, match="binnen 0.3 s|timed out"):
        channel.send(Message(1, None, "telefoon", "test", "info", payload("x"), 0, 0))
    listener.close()
