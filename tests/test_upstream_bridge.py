"""Beyond one farm (issue 16, item 5): the shipped bridge configuration between the farm's mosquitto and a
real upstream broker (RabbitMQ with its MQTT plugin, TLS with client certificates), the agent's upstream
publisher, `ikb-agent fleet`, and `verify --broker` against chain heads received upstream earlier."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.subscribeoptions import SubscribeOptions

from agent.config import load_config
from agent.evaluation.continuous import evaluate_tick
from agent.store.connection import open_store
from agent.upstream import check_chain_doc, upstream_job
from sensors.mqtt import MqttOptions, fetch_retained

from .conftest import FARM_TOML, REPO, Broker
from .rabbitmq import SERVER, CertAuthority, RabbitMQ
from .test_export import fill
from .test_signing import export_pack, rewrite_history

KIP = "123456"
BRIDGE = REPO / "deploy" / "mosquitto-bridge.conf.example"

pytestmark = pytest.mark.skipif(not SERVER.exists(), reason="rabbitmq-server is not installed "
                                "(./dev test installs it: apt-get install rabbitmq-server)")


def shipped_bridge(upstream: RabbitMQ, certs: Path) -> str:
    """Return deploy/mosquitto-bridge.conf.example with its placeholders filled and loopback paths."""
    text = BRIDGE.read_text(encoding="utf-8")
    text = text.replace("@KIP@", KIP).replace("@UPSTREAM_HOST@", "127.0.0.1")
    text = text.replace("@UPSTREAM_PORT@", str(upstream.mqtts_port))
    text = text.replace("/etc/mosquitto/certs/ikb-upstream/ca.crt", str(certs / "ca.crt"))
    text = text.replace("/etc/mosquitto/certs/ikb-upstream/farm.crt", str(certs / f"ikb-{KIP}.crt"))
    return text.replace("/etc/mosquitto/certs/ikb-upstream/farm.key", str(certs / f"ikb-{KIP}.key"))


class Setup:
    """The integrator's broker, the farm's mosquitto bridged to it, the farm's agent data."""

    def __init__(self, root: Path):
        self.ca = CertAuthority(root / "certs")
        self.ca.issue(f"ikb-{KIP}")
        self.integrator = self.ca.issue("integrator")
        self.upstream = RabbitMQ(root / "rabbitmq", self.ca, users=[f"ikb-{KIP}", "integrator"], farms=[KIP])
        self.farm_broker = Broker(root / "farm-broker")
        with open(self.farm_broker.conf, "a", encoding="utf-8") as fh:
            fh.write(shipped_bridge(self.upstream, root / "certs"))
        toml = FARM_TOML.format(db=root / "farm.db").replace("port = 1883", f"port = {self.farm_broker.port}")
        (root / "ikb-agent.toml").write_text(toml + "\n[upstream]\nenabled = true\n", encoding="utf-8")
        self.config_file = root / "ikb-agent.toml"
        self.config = load_config(self.config_file)

    def integrator_options(self, client_id: str = "integrator-test") -> MqttOptions:
        """Return the integrator's client options for the upstream broker."""
        cert, key = self.integrator
        return MqttOptions(host="127.0.0.1", port=self.upstream.mqtts_port, tls=True, ca_file=str(self.ca.ca_file),
                           cert_file=str(cert), key_file=str(key), client_id=client_id, mqtt_version=4)

    def upstream_retained(self, *kinds: str, wait: float = 20) -> dict[str, bytes]:
        """Return {kind: payload} of this farm's retained topics upstream, waiting until all are there."""
        deadline = time.monotonic() + wait
        while True:
            got = dict(fetch_retained(self.integrator_options(), [f"ikb/{KIP}/{k}" for k in kinds], quiet=0.3))
            found = {name.rsplit("/", 1)[1]: payload for name, payload in got.items()}
            if set(kinds) <= set(found) or time.monotonic() > deadline:
                return found
            time.sleep(0.3)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    s = Setup(tmp_path_factory.mktemp("upstream"))
    s.upstream.start()
    s.farm_broker.start()
    store = open_store(s.config.storage.path)
    fill(store, s.config)
    evaluate_tick(store, s.config, datetime.now(timezone.utc))  # the run loop's score, as upstream will see it
    store.close()
    yield s
    s.farm_broker.stop()
    s.upstream.stop()


@pytest.fixture(scope="module")
def published(setup):
    """Run the agent's upstream job once against the farm broker; return the payloads found upstream."""
    store = open_store(setup.config.storage.path)
    job = upstream_job(store, setup.config)
    assert job is not None
    try:
        deadline = time.monotonic() + 20
        while True:  # the job's first run may come before its client is connected; the scheduler retries too
            try:
                assert job.function(datetime.now(timezone.utc)) == 4
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        job.close()
        store.close()
    return setup.upstream_retained("status", "score", "alerts", "chain", "connected")


def test_status_score_and_chain_heads_arrive_upstream_over_the_shipped_bridge(setup, published):
    status = json.loads(published["status"])
    assert status["version"] == 1 and status["kip_number"] == KIP and status["farm"] == "Pluimveebedrijf De Hoeve"
    score = json.loads(published["score"])
    assert score["verdict"] in ("suspension", "repair_required", "remarks", "incomplete", "ready")
    assert set(score["counts"]) == {"ok", "B", "C", "D", "KO", "nvt", "unknown"}
    assert 0 < score["unknown_share"] <= 1
    chain = json.loads(published["chain"])
    assert check_chain_doc(chain) is None
    assert chain["heads"]["visitors"]["entries"] == 2
    assert chain["key"]["fingerprint"] == status["fingerprint"]
    assert json.loads(published["alerts"])["open"] == []
    assert published["connected"] == b"1"  # the bridge's own notification


def _local_listener(port: int, got: list, ready: threading.Event) -> mqtt.Client:
    """Subscribe to everything on the farm broker (new messages only) and collect (topic, payload)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="farm-spy", protocol=mqtt.MQTTv5)
    client.on_message = lambda c, u, m: got.append((m.topic, bytes(m.payload)))
    client.on_subscribe = lambda *a: ready.set()
    client.on_connect = lambda c, *a: c.subscribe([("#", SubscribeOptions(qos=1, retainHandling=2))])
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def test_a_message_published_upstream_outside_the_allowed_topics_never_reaches_the_farm(setup, published):
    got: list = []
    ready = threading.Event()
    spy = _local_listener(setup.farm_broker.port, got, ready)
    assert ready.wait(10)
    cert, key = setup.integrator
    up = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="integrator-pub", protocol=mqtt.MQTTv311)
    up.tls_set(ca_certs=str(setup.ca.ca_file), certfile=str(cert), keyfile=str(key))
    up.connect("127.0.0.1", setup.upstream.mqtts_port)
    up.loop_start()
    try:
        forbidden = ["zigbee2mqtt/stal1_lux",  # a fake sensor reading
                     f"ikb/{KIP}/status",  # the farm's own up topics, spoofed
                     f"ikb/{KIP}/chain", f"ikb/{KIP}/alerts/ack/extra", f"ikb/{KIP}/command",
                     "ikb-agent/alerts/ack",  # the local ack topic name, published upstream
                     "ikb/654321/alerts/ack"]  # another farm's acknowledgement
        for name in forbidden:
            up.publish(name, b'{"illuminance_lux": 999}', qos=1).wait_for_publish(10)
        up.publish(f"ikb/{KIP}/alerts/ack", b'{"id": 7, "by": "servicedesk"}', qos=1).wait_for_publish(10)
        deadline = time.monotonic() + 15
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # anything else the bridge might pass down would have arrived by now
    finally:
        up.disconnect()
        up.loop_stop()
        spy.disconnect()
        spy.loop_stop()
    # The acknowledgement came down, renamed to the agent's [alerts] ack_topic; nothing else did.
    assert got == [("ikb-agent/alerts/ack", b'{"id": 7, "by": "servicedesk"}')]


def test_fleet_lists_the_farm_from_the_upstream_broker(setup, published, cli):
    cert, key = setup.integrator
    args = ["fleet", "--broker", f"mqtts://127.0.0.1:{setup.upstream.mqtts_port}", "--ca", str(setup.ca.ca_file),
            "--cert", str(cert), "--key", str(key)]
    result = cli(*args, "--kip", KIP, "--format", "json", config=None)
    assert result.code == 0, result.err
    [row] = json.loads(result.out)
    score = json.loads(published["score"])
    assert row["kip_number"] == KIP and row["connected"] is True and row["verdict"] == score["verdict"]
    assert row["counts"] == score["counts"] and row["missing"] == [] and row["problems"] == []
    # RabbitMQ 3.x sends no retained messages to wildcard subscriptions: fleet says what to do instead.
    assert "--kip" in cli(*args, config=None).out


def test_fleet_without_kip_numbers_lists_farms_on_a_broker_with_wildcard_retained(setup, published, cli):
    # The farm's own mosquitto holds the same retained documents and serves wildcards.
    result = cli("fleet", "--broker", f"mqtt://127.0.0.1:{setup.farm_broker.port}", config=None)
    assert result.code == 0, result.err
    assert result.out.splitlines()[1].startswith(f"{KIP:<10} Pluimveebedrijf De Hoeve")


def test_verify_against_the_broker_fails_a_pack_rewritten_after_the_heads_were_published(
        setup, published, cli, tmp_path):
    cert, key = setup.integrator
    broker = ["--broker", f"mqtts://127.0.0.1:{setup.upstream.mqtts_port}", "--ca", str(setup.ca.ca_file),
              "--cert", str(cert), "--key", str(key)]

    farm_cli = lambda *a: cli(*a, config=setup.config_file)  # noqa: E731
    honest = export_pack(farm_cli, tmp_path / "honest.zip")
    result = cli("verify", str(honest), *broker, config=None)
    assert result.code == 0 and "1 eerder gepubliceerde ketenhoofden" in result.out, result.err

    store = open_store(setup.config.storage.path)
    first = store.query("SELECT id FROM logbook WHERE kind = 'visitors' ORDER BY id LIMIT 1")[0]["id"]
    store.close()
    rewrite_history(Path(setup.config.storage.path), first, {"arrival": "06:05"})
    forged = export_pack(farm_cli, tmp_path / "forged.zip")
    assert cli("verify", str(forged), config=None).code == 0  # consistent and signed: the old check is fooled
    result = cli("verify", str(forged), *broker, config=None)
    assert result.code == 1 and "rewritten after that moment" in result.err
