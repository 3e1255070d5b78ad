"""Ingestion benchmark (issue 3): throughput from a real mosquitto, memory, alarm latency, bytes per sensor-year.

Throughput: N QoS 1 messages (Zigbee2MQTT-style JSON, 20 sensors) are queued in
a private mosquitto for a persistent session while the consumer is away; then
the consumer connects and drains them. Three consumers, each in its own
process, measured in the same run:

- ``bare``: a paho subscriber that acknowledges and stores nothing (the ceiling);
- ``naive``: decode + one INSERT and COMMIT per message (WAL, synchronous=FULL);
- ``agent``: ikb-agent's real path (paho → RawMessage → Ingestor: decode,
  validate, batch commit, then manual ack), the process's peak RSS included.

Alarm latency: with the agent running and a background load, ventilation
alarms are published and timed until the ingest listener has them (committed).

Bytes per sensor-year: a year of readings every 10 s for several sensors goes
through the store day by day with the daily retention roll-up (35 days raw,
per-minute aggregates after); the file size is divided by the sensors.

    .venv/bin/python bench/ingest.py                 # all of it (about two minutes)
    .venv/bin/python bench/ingest.py --messages 50000 --skip-storage
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import paho.mqtt.client as mqtt  # noqa: E402 - after the path set-up
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

SENSORS = 20
CLIENT_ID = "bench-consumer"


def topic(i: int) -> str:
    """Return the topic of bench sensor i."""
    return f"zigbee2mqtt/bench_{i:02d}"


def farm_config(tmp: Path, port: int) -> Path:
    """Write a configuration with the bench sensors; return its path."""
    lines = ['[farm]', 'name = "Bench"', 'kip_number = "123456"', 'latitude = 52.1', 'longitude = 5.6',
             '[[houses]]', 'id = "1"', 'housing = "barn"', '[[egg_rooms]]', 'id = "E"',
             '[mqtt]', f'port = {port}', f'client_id = "{CLIENT_ID}"', '[storage]', f'path = "{tmp / "bench.db"}"']
    for i in range(SENSORS):
        lines += ['[[sensors]]', f'topic = "{topic(i)}"', 'kind = "temperature"', 'location = "1"',
                  'field = "temperature"']
    lines += ['[[sensors]]', 'topic = "bench/alarm"', 'kind = "ventilation_alarm"', 'location = "1"']
    path = tmp / "bench.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def connect_props(receive_maximum: int = 1000) -> Properties:
    """Return CONNECT properties of a persistent session."""
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = receive_maximum
    return props


def create_session(port: int) -> None:
    """Create the consumer's persistent session (subscribed), then leave it so messages queue."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=CLIENT_ID, protocol=mqtt.MQTTv5)
    c.connect("127.0.0.1", port, clean_start=True, properties=connect_props())
    c.loop_start()
    c.subscribe([(topic(i), 1) for i in range(SENSORS)])
    time.sleep(0.3)
    c.disconnect()
    c.loop_stop()


def fill(port: int, n: int) -> float:
    """Publish n QoS 1 messages round-robin over the sensors; return seconds taken."""
    from sensors.mqtt import MqttOptions, MqttPublisher

    pub = MqttPublisher(MqttOptions(port=port), client_id="bench-publisher")
    pub.connect()
    t0 = time.perf_counter()
    base = int(time.time() * 1000) - n  # device timestamps in the recent past, distinct per message
    for k in range(n):
        payload = json.dumps({"battery": 97, "humidity": 61.3, "linkquality": 120,
                              "temperature": round(18 + (k % 100) / 10, 1), "voltage": 2995,
                              "ts": base + k}, separators=(",", ":"))
        pub.publish(topic(k % SENSORS), payload)
    pub.close(120)
    return time.perf_counter() - t0


# ---------------------------------------------------------------------- consumers (run in subprocesses)


def consume_bare(port: int, n: int) -> dict:
    """Drain the queue with a paho subscriber that stores nothing."""
    done = threading.Event()
    count = [0]

    def on_message(client, userdata, message):
        count[0] += 1
        if count[0] >= n:
            done.set()

    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=CLIENT_ID, protocol=mqtt.MQTTv5)
    c.on_message = on_message
    t0 = time.perf_counter()
    c.connect("127.0.0.1", port, clean_start=False, properties=connect_props())
    c.loop_start()
    done.wait(600)
    elapsed = time.perf_counter() - t0
    c.disconnect()
    c.loop_stop()
    return {"messages": count[0], "seconds": elapsed}


def consume_naive(port: int, n: int, db: str) -> dict:
    """Drain the queue writing one row and one commit per message."""
    conn = sqlite3.connect(db, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS readings (sensor_id INTEGER, ts INTEGER, value REAL,"
                 " PRIMARY KEY (sensor_id, ts)) WITHOUT ROWID")
    ids = {topic(i): i for i in range(SENSORS)}
    done = threading.Event()
    count = [0]

    def on_message(client, userdata, message):
        doc = json.loads(message.payload)
        with conn:
            conn.execute("INSERT OR IGNORE INTO readings VALUES (?, ?, ?)",
                         (ids[message.topic], doc["ts"], float(doc["temperature"])))
        count[0] += 1
        if count[0] >= n:
            done.set()

    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=CLIENT_ID, protocol=mqtt.MQTTv5)
    c.on_message = on_message
    t0 = time.perf_counter()
    c.connect("127.0.0.1", port, clean_start=False, properties=connect_props())
    c.loop_start()
    done.wait(600)
    elapsed = time.perf_counter() - t0
    c.disconnect()
    c.loop_stop()
    return {"messages": count[0], "seconds": elapsed}


def consume_agent(port: int, n: int, config: str) -> dict:
    """Drain the queue through ikb-agent's own path (Agent: subscriber + Ingestor + scheduler)."""
    from agent.cli.runner import Agent
    from agent.config import load_config

    settings = load_config(config)
    agent = Agent(settings)
    t0 = time.perf_counter()
    agent.start()
    done = threading.Event()

    def listener(batch) -> None:
        # Production has listeners (alerts): pay for building the StoredReading objects too. The ingest thread
        # calls it after each commit, with ``finished`` counted: the end is seen as the bare consumer sees its
        # own, without a loop polling for it in this process (a poll every 2 ms took the GIL from the agent's
        # threads 500 times a second, up to 8 % of the samples of a profile).
        if agent.ingestor.finished >= n:
            done.set()

    agent.ingestor.add_listener(listener)
    if n == 0:
        agent.wait_connected(10)
    # The listener wakes us; the slow poll only covers a last batch that stored nothing (no listener call).
    while not done.wait(0.5) and agent.ingestor.finished < n and time.perf_counter() - t0 < 600:
        pass
    elapsed = time.perf_counter() - t0
    stored = agent.ingestor.counts.stored
    agent.stop()
    return {"messages": agent.ingestor.finished, "stored": stored, "seconds": elapsed,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def alarm_latency(port: int, config: str, alarms: int, background: int) -> dict:
    """Return broker-to-listener latency of alarms published during a background load (ms)."""
    from agent.cli.runner import Agent
    from agent.config import load_config
    from sensors.mqtt import MqttOptions, MqttPublisher

    settings = load_config(config)
    agent = Agent(settings)
    agent.start()
    agent.wait_connected(10)
    sent: dict[float, float] = {}
    got: dict[float, float] = {}

    def listener(batch):
        now = time.perf_counter()
        for r in batch:
            if r.kind == "ventilation_alarm" and r.value == 1.0:
                got.setdefault(r.ts_ms, now)

    agent.ingestor.add_listener(listener)
    stop = threading.Event()

    def load():
        pub = MqttPublisher(MqttOptions(port=port), client_id="bench-load")
        pub.connect()
        k = 0
        while not stop.is_set():
            pub.publish(topic(k % SENSORS), json.dumps({"temperature": 20.0, "ts": int(time.time() * 1000) - 10}))
            k += 1
            time.sleep(1 / background)
        pub.close(10)

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    pub = MqttPublisher(MqttOptions(port=port), client_id="bench-alarms")
    pub.connect()
    time.sleep(0.5)
    for k in range(alarms):
        ts = int(time.time() * 1000)
        sent[ts] = time.perf_counter()
        pub.publish("bench/alarm", json.dumps({"value": "alarm", "ts": ts}))
        time.sleep(0.1)
        pub.publish("bench/alarm", json.dumps({"value": "ok", "ts": ts + 50}))
        time.sleep(0.1)
    time.sleep(1)
    stop.set()
    loader.join(10)
    pub.close(10)
    agent.stop()
    latencies = sorted((got[ts] - t) * 1000 for ts, t in sent.items() if ts in got)
    return {"alarms": alarms, "received": len(latencies), "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], "max_ms": latencies[-1],
            "background_msg_s": background}


# ---------------------------------------------------------------------- storage


def bytes_per_sensor_year(sensors: int = 4, interval_s: int = 10) -> dict:
    """Store a year of readings every interval_s for several sensors with the daily roll-up; return sizes."""
    from agent.store.connection import open_store
    from agent.store.readings import insert_readings
    from agent.store.retention import roll_up

    tmp = Path(tempfile.mkdtemp(prefix="ikb-bench-size-"))
    store = open_store(tmp / "size.db")
    with store.transaction() as db:
        for i in range(sensors):
            kind = ("temperature", "humidity", "lux", "co2")[i % 4]
            db.execute("INSERT INTO sensors(topic, field, kind, location, created_at) VALUES (?, '', ?, '1', 0)",
                       [f"size/{i}", kind])
    ids = [r["id"] for r in store.query("SELECT id FROM sensors ORDER BY id")]
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    rng = random.Random(1)
    level = [20.0] * sensors
    per_day = 86_400 // interval_s
    for day in range(365):
        base = int((start + timedelta(days=day)).timestamp() * 1000)
        rows = []
        for k in range(per_day):
            for i, sid in enumerate(ids):
                level[i] = min(40.0, max(0.0, level[i] + rng.uniform(-0.1, 0.1)))
                rows.append((sid, base + k * interval_s * 1000 + i, round(level[i], 1)))
        with store.transaction() as db:
            insert_readings(db, rows)
        roll_up(store, start + timedelta(days=day + 1), raw_retention_days=35, aggregate_retention_days=800)
    page_size, pages, free = (store.execute(f"PRAGMA {p}").fetchone()[0] for p in
                              ("page_size", "page_count", "freelist_count"))
    raw = store.execute("SELECT count(*) FROM readings").fetchone()[0]
    aggs = store.execute("SELECT count(*) FROM aggregates").fetchone()[0]
    store.close()
    size = page_size * (pages - free)
    return {"sensors": sensors, "interval_s": interval_s, "raw_rows": raw, "aggregate_rows": aggs,
            "file_bytes": page_size * pages, "used_bytes": size, "mb_per_sensor_year": size / sensors / 1e6}


# ---------------------------------------------------------------------- driver


def run_consumer(kind: str, port: int, n: int, tmp: Path, config: Path) -> dict:
    """Run one consumer in a fresh process and return its JSON result."""
    args = [sys.executable, __file__, "--consumer", kind, "--port", str(port), "--messages", str(n),
            "--db", str(tmp / f"{kind}.db"), "--config", str(config)]
    out = subprocess.run(args, check=True, capture_output=True, text=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--skip-storage", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (bench/run_all.py)")
    parser.add_argument("--consumer", choices=["bare", "naive", "agent"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.consumer:
        result = {"bare": lambda: consume_bare(args.port, args.messages),
                  "naive": lambda: consume_naive(args.port, args.messages, args.db),
                  "agent": lambda: consume_agent(args.port, args.messages, args.config)}[args.consumer]()
        print(json.dumps(result))
        return

    from agent.cli.demo import PrivateBroker

    n = args.messages
    tmp = Path(tempfile.mkdtemp(prefix="ikb-bench-"))
    broker = PrivateBroker(tmp / "broker").start()
    config = farm_config(tmp, broker.port)
    print(f"ikb-agent ingestion benchmark: {n} messages, {SENSORS} sensors, {os.cpu_count()} cores, "
          f"mosquitto on 127.0.0.1:{broker.port}")
    results = {}
    try:
        for kind in ("bare", "naive", "agent"):
            if kind == "agent":
                # The agent's first start registers the sensors; its session must exist before filling.
                run_consumer("agent", broker.port, 0, tmp, config)
            else:
                create_session(broker.port)
            fill_s = fill(broker.port, n)
            r = run_consumer(kind, broker.port, n, tmp, config)
            r["msg_s"] = r["messages"] / r["seconds"]
            results[kind] = r
            extra = f", peak RSS {r['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in r else ""
            print(f"  {kind:<6} {r['msg_s']:>9,.0f} msg/s  ({r['messages']} in {r['seconds']:.2f} s;"
                  f" queue filled in {fill_s:.1f} s){extra}")
        ratio = results["agent"]["msg_s"] / results["bare"]["msg_s"]
        results["ratio"] = ratio
        print(f"  agent / bare = {ratio:.0%}   agent / naive = {results['agent']['msg_s'] / results['naive']['msg_s']:.1f}x")
        lat = alarm_latency(broker.port, str(config), alarms=100, background=500)
        print(f"  alarm broker→listener: p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, "
              f"max {lat['max_ms']:.1f} ms ({lat['received']}/{lat['alarms']} alarms, "
              f"{lat['background_msg_s']} msg/s background)")
        results["alarm_latency"] = lat
    finally:
        broker.stop()
    if not args.skip_storage:
        size = bytes_per_sensor_year()
        print(f"  storage: {size['mb_per_sensor_year']:.1f} MB per sensor-year at one reading per "
              f"{size['interval_s']} s ({size['sensors']} sensors: {size['raw_rows']} raw rows (35 days),"
              f" {size['aggregate_rows']} minute aggregates, {size['used_bytes'] / 1e6:.1f} MB used)")
        results["storage"] = size
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
