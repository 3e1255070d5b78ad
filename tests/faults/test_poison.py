"""Poisonous MQTT messages (issue 13, Why 1): no message stops ingestion or alarms, live or replayed.

A 401-digit integer on a numeric or alarm topic raised OverflowError, 2,000-deep JSON RecursionError; either
killed the ingest thread while the process stayed up, and the redelivered message killed it again. Now each is
a dead letter with its reason, acknowledged, and the ventilation alarm published after it is stored and sent.
"""

from __future__ import annotations

import json

from agent.cli.runner import Agent
from agent.ingest import Ingestor, ingest_all
from agent.store import open_store
from sensors.model import RawMessage
from tests.alerting import WebhookReceiver, settings_with
from tests.test_mqtt_ingest import publisher, wait_for

POISON = [
    ("401-digit integer on the lux topic", "zigbee2mqtt/stal1_lux", json.dumps({"illuminance_lux": int("9" * 401)})),
    ("401-digit integer on the alarm topic", "stal1/alarm", "9" * 401),
    ("401-digit integer in an alarm object", "stal1/alarm", '{"value": ' + "9" * 401 + "}"),
    ("2,000-deep JSON array", "stal1/alarm", "[" * 2000 + "]" * 2000),
    ("1,500-deep JSON on the lux topic", "zigbee2mqtt/stal1_lux", "[" * 1500 + "]" * 1500),
    ("NUL byte", "stal1/alarm", "al\x00arm"),
    ("ts null", "stal1/alarm", '{"value": "alarm", "ts": null}'),
    ("unicode digits", "zigbee2mqtt/stal1_lux", '{"illuminance_lux": "٢١"}'),
]


def _dead_letters(path) -> list[dict]:
    """Return the dead-letter rows, oldest first."""
    s = open_store(path, readonly=True)
    try:
        return s.query("SELECT topic, head, reason FROM rejections ORDER BY id")
    finally:
        s.close()


def test_a_poisonous_message_is_dead_lettered_and_the_alarm_after_it_is_stored_and_sent(tmp_path, broker):
    hook = WebhookReceiver().start()
    settings = settings_with(tmp_path, f'[[alerts.channels]]\ntype = "webhook"\nurl = "{hook.url}"\n',
                             panels=True, mqtt_port=broker.port)
    agent = Agent(settings)
    agent.start()
    try:
        assert agent.wait_connected(10)
        pub = publisher(broker)
        for _name, topic, payload in POISON:
            pub.publish(topic, payload)
        pub.publish("stal1/alarm", "alarm")  # the real ventilation alarm, after the poison
        pub.close()
        hit = hook.wait(15)
        assert hit.json["alert"]["kind"] == "ventilation_alarm" and hit.json["alert"]["location"] == "1"
        # The alarm inputs have their own session: the alarm can overtake poison sent on other topics.
        assert wait_for(lambda: agent.ingestor.received >= len(POISON) + 1, timeout=10)
        assert agent.ingestor.wait_idle(5) and agent.ingestor.alive
        assert agent.ingestor.received == len(POISON) + 1 == agent.ingestor.finished  # all acknowledged
    finally:
        agent.stop()
        hook.stop()
    letters = _dead_letters(settings.storage.path)
    # In arrival order per topic: the alarm inputs come in a session of their own and are taken first.
    by_topic = {t: [r["reason"] for r in letters if r["topic"] == t] for t in ("zigbee2mqtt/stal1_lux", "stal1/alarm")}
    assert by_topic == {"zigbee2mqtt/stal1_lux": ["out_of_range", "invalid_json", "not_a_number"],
                        "stal1/alarm": ["unknown_state", "unknown_state", "invalid_json", "unknown_state",
                                        "bad_timestamp"]}
    assert len(letters) == len(POISON)
    nul = next(r["head"] for r in letters if r["head"].startswith("al"))
    assert nul.startswith("al\\x00arm"), "a NUL byte must not cut the dead-letter text short"


def test_the_poison_does_not_come_back_after_a_restart(tmp_path, broker):
    """Acknowledged as a dead letter: a restarted agent is not handed the same message again."""
    settings = settings_with(tmp_path, "", panels=True, mqtt_port=broker.port)
    for round_ in range(2):
        agent = Agent(settings)
        agent.start()
        try:
            assert agent.wait_connected(10)
            if round_ == 0:
                pub = publisher(broker)
                pub.publish("stal1/alarm", "9" * 401)
                pub.close()
                assert wait_for(lambda: agent.ingestor.finished == 1, 10)
            else:
                pub = publisher(broker)
                pub.publish("stal1/alarm", "ok")
                pub.close()
                assert wait_for(lambda: agent.ingestor.finished >= 1, 10)
                assert agent.ingestor.counts.rejected == 0  # nothing redelivered
        finally:
            agent.stop()
    assert len(_dead_letters(settings.storage.path)) == 1


def test_replay_of_the_hostile_trace_counts_every_line(tmp_path, cli):
    trace = tmp_path / "hostile.jsonl"
    lines = [json.dumps({"ts": "2026-03-28T21:59:00+01:00", "topic": t, "payload": p}) for _n, t, p in POISON]
    lines += ['{"ts": "2026-03-28T21:59:00+01:00", "topic": "zigbee2mqtt/stal1_lux", "payload": ' + "[" * 3000
              + "]" * 3000 + "}", '{"ts": 1e300, "topic": "zigbee2mqtt/stal1_lux", "payload": 1}',
              '{"ts": ' + "9" * 401 + ', "topic": "zigbee2mqtt/stal1_lux", "payload": 1}',
              '{"ts": "2026-03-28T21:59:00+01:00", "topic": "zigbee2mqtt/stal1_lux", "payload": "\\ud800"}',
              '{"ts": "2026-03-28T21:59:00+01:00", "topic": "\\ud800", "payload": 1}']
    trace.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli("replay", str(trace), "--format", "json")
    assert result.code == 0, result.err
    counts = json.loads(result.out)
    assert counts["stored"] == 0 and counts["rejected"] == len(lines), counts


class _Boom(Exception):
    pass


def test_a_decoder_fault_dead_letters_only_that_message(tmp_path, store, config, monkeypatch):
    """Whatever decoding raises (a bug), the message is a dead letter 'decode_failed' and the rest is stored."""
    ingestor = Ingestor(store, config, _now(), live=False)
    real = ingestor.decoder.decode

    def decode(msg):
        if msg.payload == b"13":
            raise _Boom("unlucky")
        return real(msg)

    monkeypatch.setattr(ingestor.decoder, "decode", decode)
    msgs = [RawMessage("zigbee2mqtt/stal1_lux", json.dumps({"illuminance_lux": v}).encode() if v != 13 else b"13",
                       _ms() + v) for v in range(20)]
    counts = ingest_all(ingestor, msgs)
    assert (counts.stored, counts.rejected, dict(counts.reasons)) == (19, 1, {"decode_failed": 1})
    assert "_Boom('unlucky')" in store.query("SELECT head FROM rejections")[0]["head"]


def test_a_reading_the_database_refuses_is_dead_lettered_and_the_batch_stored(tmp_path, store, config):
    """A value SQLite cannot take (here a timestamp beyond 64 bits) costs that reading, not the batch."""
    from sensors.model import Reading

    ingestor = Ingestor(store, config, _now(), live=False)
    spec = ingestor.specs[0]
    ingestor._readings += [Reading(spec, _ms(), 5.0, True), Reading(spec, 2**70, 6.0, True)]
    ingestor._msgs.append(RawMessage(spec.topic, b"x", _ms()))
    assert ingestor.flush()
    assert store.query("SELECT value FROM readings") == [{"value": 5.0}]
    assert store.query("SELECT reason FROM rejections") == [{"reason": "store_failed"}]


def test_a_dead_ingest_thread_ends_the_agent_with_a_reason(tmp_path, broker, monkeypatch):
    """A worker thread that dies ends `run` (non-zero): systemd restarts it instead of a silent agent."""
    settings = settings_with(tmp_path, "", panels=True, mqtt_port=broker.port)
    agent = Agent(settings)
    agent.start()
    try:
        assert agent.wait_connected(10)

        def die(self):
            raise RuntimeError("simulated fault outside any message")

        monkeypatch.setattr(Ingestor, "_commit", die)
        pub = publisher(broker)
        pub.publish("stal1/alarm", "ok")
        pub.close()
        import threading

        stop = threading.Event()
        assert wait_for(lambda: not agent.ingestor.alive, 10)
        reason = agent.wait(stop)
    finally:
        agent.stop()
    assert reason and "ingest thread stopped" in reason and "simulated fault" in reason


def _ms() -> int:
    return int(_now().timestamp() * 1000)


def _now():
    from datetime import datetime, timezone

    return datetime(2026, 3, 28, 20, 59, tzinfo=timezone.utc)
