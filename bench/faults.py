"""The fault suite's long runs (issue 13): the numbers docs/RELIABILITY.md quotes.

- kills: `ikb-agent run` SIGKILLed N times during a QoS 1 stream at R msg/s without device timestamps, and
  a logbook writer SIGKILLed N times during its writes: readings stored once, entries acknowledged and
  present, chain intact, integrity_check.
- broker-kill: mosquitto SIGKILLed mid-stream with the agent running (test broker, autosave 1 s): what the
  broker had acknowledged to the publisher but not yet handed to the agent's commit is the honest loss.
- broker-away: mosquitto stopped for M minutes with the agent running; the agent waits (backoff to 60 s) and
  takes up the stream when it returns; time to reconnect.
- hostile: N hostile payloads (any bytes, any JSON, giant numbers, deep nesting, unicode digits) through a
  live agent, a real ventilation alarm after them: every message accounted for, the alarm stored.

    .venv/bin/python bench/faults.py                     # everything: about 8 minutes
    .venv/bin/python bench/faults.py --only kills --kills 50 --rate 1000 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import Broker  # noqa: E402
from tests.faults.scenarios import kill_scenario  # noqa: E402


def run_kills(tmp: Path, kills: int, rate: float, seconds: float) -> None:
    broker = Broker(tmp / "broker").start()
    try:
        f = kill_scenario(tmp / "farm", broker.port, kills=kills, rate=rate, seconds=seconds)
    finally:
        broker.stop()
    print(f"kills: {f.run_kills} SIGKILLs of run and {f.writer_kills} of the logbook writer in {f.seconds:.0f} s; "
          f"{f.published} readings published at {rate:g}/s: {f.stored} stored, {f.duplicates} twice, "
          f"{f.missing} missing; {f.entries_acknowledged} logbook entries acknowledged, {f.entries_missing} missing; "
          f"chain {'intact' if f.chain_problem is None else f.chain_problem}; integrity_check {f.integrity}")


def _agent(tmp: Path, port: int):
    from agent.cli.runner import Agent
    from tests.farmconfig import settings_for

    settings = settings_for(tmp, mqtt={"port": port, "client_id": f"bench-{tmp.name}"})
    agent = Agent(settings)
    agent.start()
    assert agent.wait_connected(15)
    return agent, settings


def _count(db: str, topic: str = "ikb/1/lux") -> int:
    from tests.test_mqtt_ingest import stored_values

    return len(stored_values(db, topic))


def run_broker_kill(tmp: Path, rate: float, seconds: float) -> None:
    from sensors.mqtt import MqttOptions, MqttPublisher

    broker = Broker(tmp / "broker").start()
    agent, settings = _agent(tmp / "farm", broker.port)
    pub = MqttPublisher(MqttOptions(port=broker.port), client_id="bench-device")
    pub.connect()
    n, killed_at = int(rate * seconds), None
    confirmed_before_kill = 0
    try:
        t0 = time.monotonic()
        for i in range(n):
            pub.publish("ikb/1/lux", str(i))
            if i == n // 2:
                confirmed_before_kill = pub.confirmed
                broker.proc.kill()
                broker.proc.wait()
                killed_at = i
                time.sleep(1)
                broker.start()
            ahead = t0 + (i + 1) / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        pub.close(60)
        deadline = time.monotonic() + 60
        while _count(settings.storage.path) < n and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1)
        from tests.test_mqtt_ingest import stored_values

        values = stored_values(settings.storage.path)
    finally:
        agent.stop()
        broker.stop()
    missing = len(set(range(n)) - {int(v) for v in values})
    print(f"broker-kill: mosquitto SIGKILLed after message {killed_at} of {n} at {rate:g}/s with the agent running "
          f"(autosave 1 s); {confirmed_before_kill} confirmed to the device before the kill; {len(set(values))} "
          f"distinct readings stored, {missing} missing, {len(values) - len(set(values))} stored twice (QoS 1 "
          f"device-to-broker resends without a device timestamp; docs/INGEST.md)")


def run_broker_away(tmp: Path, minutes: float) -> None:
    broker = Broker(tmp / "broker").start()
    agent, settings = _agent(tmp / "farm", broker.port)
    from tests.test_mqtt_ingest import publisher

    try:
        pub = publisher(broker)
        pub.publish("ikb/1/lux", "1")
        pub.close()
        broker.stop()
        t_down = time.monotonic()
        time.sleep(minutes * 60)
        alive = agent.ingestor.alive and not agent.subscriber.fatal
        broker.start()
        t_back = time.monotonic()
        while not agent.subscriber.connected.is_set() and time.monotonic() - t_back < 120:
            time.sleep(0.1)
        reconnect = time.monotonic() - t_back
        pub = publisher(broker)
        pub.publish("ikb/1/lux", "2")
        pub.close()
        deadline = time.monotonic() + 20
        while _count(settings.storage.path) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        stored = _count(settings.storage.path)
    finally:
        agent.stop()
        broker.stop()
    print(f"broker-away: broker stopped {time.monotonic() - t_down:.0f} s in all ({minutes:g} min away); agent alive "
          f"throughout: {alive}; reconnected {reconnect:.1f} s after the broker returned; readings before and after "
          f"stored: {stored}/2")


def run_hostile(tmp: Path, n: int) -> None:
    from hypothesis import strategies as st

    from tests.faults.test_fuzz_decode import json_values
    from tests.test_mqtt_ingest import publisher

    rnd = random.Random(13)
    broker = Broker(tmp / "broker").start()
    agent, settings = _agent(tmp / "farm", broker.port)
    topics = ["ikb/1/lux", "stal1/alarm", "stal1/mains", "tele/eierlokaal/SENSOR"]
    payloads = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            payloads.append(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 300))))
        elif kind == 1:
            payloads.append(json.dumps(json_values.example()).encode())
        elif kind == 2:
            payloads.append(("9" * rnd.randint(300, 500)).encode())
        elif kind == 3:
            depth = rnd.randint(900, 2040)
            payloads.append(("[" * depth + "]" * depth).encode())
        else:
            payloads.append(json.dumps({"value": st.sampled_from(["٢١", "２１.５", "२१", "1_0"]).example()}).encode())
    try:
        pub = publisher(broker)
        for i, payload in enumerate(payloads):
            pub.publish(topics[i % len(topics)], payload)
        pub.publish("stal1/alarm", "alarm")
        pub.close()
        deadline = time.monotonic() + 60
        while agent.ingestor.finished < n + 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        alive, finished = agent.ingestor.alive, agent.ingestor.finished
        alarm = _count(settings.storage.path, "stal1/alarm")
        counts = agent.ingestor.counts
    finally:
        agent.stop()
        broker.stop()
    print(f"hostile: {n} hostile payloads and 1 real alarm through a live agent: {finished} acknowledged, "
          f"{counts.stored} readings stored, {counts.rejected} dead letters ({len(counts.reasons)} reasons), "
          f"ingest thread alive: {alive}; the alarm stored: {alarm >= 1}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["kills", "broker-kill", "broker-away", "hostile"])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--away-minutes", type=float, default=3)
    parser.add_argument("--hostile", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ikb-faults-") as tmp:
        tmp = Path(tmp)
        if args.only in (None, "kills"):
            run_kills(tmp / "kills", args.kills, args.rate, args.seconds)
        if args.only in (None, "broker-kill"):
            run_broker_kill(tmp / "bkill", args.rate, 10)
        if args.only in (None, "broker-away"):
            run_broker_away(tmp / "away", args.away_minutes)
        if args.only in (None, "hostile"):
            run_hostile(tmp / "hostile", args.hostile)


if __name__ == "__main__":
    main()
