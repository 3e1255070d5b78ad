"""Bad input to `fleet` and `verify --heads/--broker`: a clear message and an exit code, never a traceback."""

from __future__ import annotations

import json

from sensors.mqtt import MqttOptions, MqttPublisher

from .conftest import free_port


def test_fleet_refuses_a_broker_address_it_cannot_use(cli):
    result = cli("fleet", "--broker", "http://broker.example", config=None)
    assert result.code == 2 and "--broker: expected mqtt://host:port or mqtts://host:port" in result.err
    result = cli("fleet", "--broker", "mqtt://127.0.0.1:1883", "--kip", "12a", config=None)
    assert result.code == 2 and "--kip: verwacht een KIP-nummer (cijfers), niet '12a'" in result.err


def test_fleet_says_when_the_broker_cannot_be_reached(cli):
    result = cli("fleet", "--broker", f"mqtt://127.0.0.1:{free_port()}", "--timeout", "1", config=None)
    assert result.code == 1 and "niet bereikbaar" in result.err


def test_fleet_shows_malformed_and_forged_farm_documents_as_problems(cli, broker):
    publisher = MqttPublisher(MqttOptions(port=broker.port), client_id="junk")
    publisher.connect()
    publisher.publish("ikb/111111/status", b"not json", retain=True)
    publisher.publish("ikb/111111/chain", json.dumps({"version": 1, "heads": {}}).encode(), retain=True)
    publisher.publish("ikb/222222/score", json.dumps({"version": 1, "verdict": "ready", "counts": {"D": 0}}).encode(),
                      retain=True)
    publisher.close()
    result = cli("fleet", "--broker", f"mqtt://127.0.0.1:{broker.port}", "--format", "json", config=None)
    assert result.code == 0, result.err
    rows = {r["kip_number"]: r for r in json.loads(result.out)}
    assert rows["111111"]["problems"] == ["status: not a JSON object", "chain: missing or malformed fields"]
    assert rows["222222"]["verdict"] == "ready" and rows["222222"]["missing"] == ["status", "alerts", "chain"]
    text = cli("fleet", "--broker", f"mqtt://127.0.0.1:{broker.port}", config=None).out
    assert "! status: not a JSON object" in text


def test_verify_refuses_a_heads_file_that_is_not_json(cli, tmp_path):
    heads = tmp_path / "heads.jsonl"
    heads.write_text("{not json\n", encoding="utf-8")
    pack = tmp_path / "pack.zip"
    pack.write_bytes(b"PK")
    result = cli("verify", str(pack), "--heads", str(heads), config=None)
    assert result.code == 2 and "heads.jsonl line 1: not valid JSON" in result.err


def test_a_signed_heads_document_with_malformed_fields_is_refused(store, config):
    from agent.signing import farm_key
    from agent.upstream import check_chain_doc
    from agent.upstream.documents import chain_doc

    from .test_upstream import NOW

    doc = chain_doc(store, config, NOW, farm_key(config.key_path()))
    assert check_chain_doc(doc) is None
    for bad in ({"time": "2026-03-04T13:00:00"}, {"kip_number": "12a"},
                {"heads": {"visitors": {"entries": "2", "hash": "0" * 64}}},
                {"heads": {"visitors": {"entries": 2, "hash": "xyz"}}}):
        assert check_chain_doc({**doc, **bad}) == "missing or malformed fields", bad
