"""Alarm latency: from publishing a ventilation alarm on the broker to the webhook receiving the alert.

Runs a private mosquitto, ``ikb-agent run`` as its own process, a local
webhook receiver, and a publisher that keeps the agent busy with other
sensor traffic (lux readings, QoS 1) at ``--rate`` messages per second.
Alarms are raised in rounds, one per house, and cleared again; each alarm's
latency is measured from just before its PUBLISH to the webhook's receipt.

    .venv/bin/python bench/alert_latency.py --alarms 200 --rate 1000

Prints p50/p99/max latency, alarms lost (none expected), and the load that
was actually published and ingested. Results go to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.measure import Receiver  # noqa: E402
from sensors.mqtt import MqttLink, MqttOptions  # noqa: E402
from tests.conftest import Broker, free_port  # noqa: E402


def config_text(db: Path, broker_port: int, hook_port: int, houses: int, lux_sensors: int) -> str:
    """Return the bench farm: one alarm panel per house, many lux sensors, one webhook channel."""
    parts = [f"""
[farm]
name = "Benchmark"
kip_number = "123456"
latitude = 52.1
longitude = 5.6

[mqtt]
host = "127.0.0.1"
port = {broker_port}
client_id = "ikb-bench-agent"

[storage]
path = "{db}"

[alerts]
clear_seconds = 0
repeat_minutes = 0
digest_minutes = 0
quiet_minutes = 0

[sensor_rules.ventilation]
heartbeat_timeout_minutes = 600

[[alerts.channels]]
type = "webhook"
name = "bench"
url = "http://127.0.0.1:{hook_port}/hook"
severities = ["critical"]
"""]
    for h in range(1, houses + 1):
        parts.append(f'[[houses]]\nid = "{h}"\nhousing = "barn"\n')
        parts.append(f'[[sensors]]\ntopic = "bench/stal{h}/alarm"\nkind = "ventilation_alarm"\nlocation = "{h}"\n')
    for j in range(lux_sensors):
        parts.append(f'[[sensors]]\ntopic = "bench/lux/{j}"\nkind = "lux"\nlocation = "{j % houses + 1}"\n'
                     'field = "illuminance_lux"\n')
    return "\n".join(parts)


class Load(threading.Thread):
    """Publish lux readings at a steady rate (QoS 1) until stopped."""

    def __init__(self, link: MqttLink, rate: int, sensors: int):
        super().__init__(daemon=True)
        self.link, self.rate, self.sensors = link, rate, sensors
        self.sent = 0
        self.stop_event = threading.Event()

    def run(self):
        step = 0.01  # publish in slices of 10 ms
        per_slice = self.rate * step
        start = time.perf_counter()
        owed = 0.0
        n = 0
        while not self.stop_event.is_set():
            owed += per_slice
            while owed >= 1:
                topic = f"bench/lux/{n % self.sensors}"
                self.link.client.publish(topic, json.dumps({"illuminance_lux": 20 + n % 7}), qos=1)
                n += 1
                owed -= 1
            self.sent = n
            next_at = start + (n / self.rate)
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(min(delay, step))


def wait_for(predicate, timeout: float, what: str) -> None:
    """Poll predicate until true; exit with a message after timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    sys.exit(f"bench: timed out waiting for {what}")


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=200, help="alarms to measure (default 200)")
    parser.add_argument("--rate", type=int, default=1000, help="other sensor messages per second (default 1000)")
    parser.add_argument("--houses", type=int, default=20, help="alarm panels, one per house (default 20)")
    parser.add_argument("--lux-sensors", type=int, default=100, help="lux sensors carrying the load (default 100)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (agent log, database)")
    args = parser.parse_args()
    if not (REPO / "agent" / "runner.py").exists():
        sys.exit("bench: agent/runner.py (ikb-agent run, issue 3) is not in this version yet")

    work = Path(tempfile.mkdtemp(prefix="ikb-alert-bench-"))
    broker = Broker(work / "broker").start()
    hook_port = free_port()
    receiver = Receiver(hook_port)
    db = work / "bench.db"
    cfg = work / "bench.toml"
    cfg.write_text(config_text(db, broker.port, hook_port, args.houses, args.lux_sensors), encoding="utf-8")
    exe = REPO / ".venv" / "bin" / "ikb-agent"
    agent = subprocess.Popen([str(exe), "--config", str(cfg), "run"], stdout=subprocess.DEVNULL,
                             stderr=open(work / "agent.log", "wb"), env={**os.environ, "PYTHONUNBUFFERED": "1"})
    publisher = MqttLink(MqttOptions(port=broker.port), "ikb-bench-publisher")
    publisher.client.max_inflight_messages_set(1000)
    publisher.start(wait=10)
    houses = {str(h) for h in range(1, args.houses + 1)}
    load = Load(publisher, args.rate, args.lux_sensors)
    try:
        # Warm up: every panel says "ok" and is stored, so the agent is subscribed and ingesting.
        def panels_stored() -> bool:
            if not db.exists():
                return False
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                try:
                    n = conn.execute("SELECT count(DISTINCT r.sensor_id) FROM readings r JOIN sensors s"
                                     " ON s.id = r.sensor_id WHERE s.kind = 'ventilation_alarm'").fetchone()[0]
                except sqlite3.OperationalError:
                    return False
            if n < len(houses):
                for h in houses:
                    publisher.publish(f"bench/stal{h}/alarm", "ok")
            return n >= len(houses)

        wait_for(panels_stored, 60, "the agent to store the panels' first messages")
        load.start()
        time.sleep(3)  # let the load reach its steady state
        started_load = (time.time(), load.sent)
        latencies: list[float] = []
        slow: list[tuple[float, float]] = []  # (seconds into the run, latency)
        lost = 0
        while len(latencies) + lost < args.alarms:
            sent_at: dict[str, float] = {}
            for h in sorted(houses, key=int):
                sent_at[h] = time.time()
                publisher.publish(f"bench/stal{h}/alarm", "alarm")
                time.sleep(0.05)
            got = receiver.collect("raised", houses, timeout=15)
            latencies += [got[h] - sent_at[h] for h in got]
            slow += [(sent_at[h] - started_load[0], got[h] - sent_at[h]) for h in got]
            lost += len(houses) - len(got)
            for h in houses:
                publisher.publish(f"bench/stal{h}/alarm", "ok")
            receiver.collect("resolved", set(got), timeout=30)  # closed: the next alarm is a new alert
        elapsed, sent = time.time() - started_load[0], load.sent - started_load[1]
        load.stop_event.set()
        load.join(5)
        time.sleep(2)
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            stored = conn.execute("SELECT count(*) FROM readings r JOIN sensors s ON s.id = r.sensor_id"
                                  " WHERE s.kind = 'lux'").fetchone()[0]
    finally:
        load.stop_event.set()
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(20)
        except subprocess.TimeoutExpired:
            agent.kill()
        publisher.stop()
        broker.stop()
        receiver.server.shutdown()
    ms = sorted(x * 1000 for x in latencies)
    p = lambda q: ms[min(len(ms) - 1, int(round(q * (len(ms) - 1))))]  # noqa: E731
    print(f"alarms measured: {len(ms)} (lost: {lost}) over {args.houses} houses")
    print(f"background load: {sent / elapsed:.0f} msg/s published for {elapsed:.0f} s "
          f"({args.lux_sensors} lux sensors, QoS 1); {stored} lux readings stored in total")
    print(f"latency publish -> webhook: p50 {p(0.50):.1f} ms, p99 {p(0.99):.1f} ms, max {ms[-1]:.1f} ms, "
          f"mean {statistics.fmean(ms):.1f} ms")
    worst = sorted(slow, key=lambda x: -x[1])[:5]
    print("slowest: " + ", ".join(f"{lat * 1000:.0f} ms at {t:.0f} s" for t, lat in worst))
    print(f"target p99 <= 500 ms: {'met' if p(0.99) <= 500 and not lost else 'NOT met'}")
    if args.keep:
        print(f"work dir (agent log, database): {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
