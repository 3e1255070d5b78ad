"""Broker durability and its SD-card cost (issue 13, Why 2): mosquitto 2.0 persistence settings compared.

For each setting: how many of 2,000 QoS 1 messages queued for a stopped agent survive a SIGKILL of the
broker 0.2 s and (autosave + 1) s after the last was accepted; the bytes the broker writes per second (and
per message) while a connected, acknowledging agent receives 20 messages a second; the database bytes per
queued message (each save rewrites the whole database, so a backlog makes every save larger); and, for
scale, the bytes `ikb-agent run` itself writes at the same rate. Bytes are what the process sends to the
storage layer (/proc/<pid>/io write_bytes; network writes do not count): run it on a disk, not a tmpfs.

    .venv/bin/python bench/broker_durability.py            # about two minutes
    .venv/bin/python bench/broker_durability.py --quick    # the shipped setting only
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import paho.mqtt.client as mqtt  # noqa: E402 - after the path set-up
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

from tests.conftest import free_port  # noqa: E402

SETTINGS = {
    "autosave_interval 60 (before)": "autosave_interval 60\n",
    "autosave_interval 5 (shipped)": "autosave_interval 5\n",
    "autosave_interval 1": "autosave_interval 1\n",
    "autosave_on_changes, every 100": "autosave_on_changes true\nautosave_interval 100\n",
    "autosave_on_changes, every change": "autosave_on_changes true\nautosave_interval 1\n",
}
RATE = 20  # messages a second: a farm of some 100 sensors


class Mosquitto:
    """A private mosquitto with one persistence setting."""

    def __init__(self, work: Path, setting: str):
        self.work, self.port = work, free_port()
        work.mkdir(parents=True, exist_ok=True)
        self.conf = work / "m.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                             f"persistence_location {work}/\nmax_queued_messages 1000000\nmax_inflight_messages 1000\n"
                             "log_dest none\n" + ("user root\n" if os.geteuid() == 0 else "") + setting)
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Mosquitto":
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        return self

    def written(self) -> int:
        return _wchar(self.proc.pid)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


def _wchar(pid: int) -> int:
    """Return the bytes a process sent to the storage layer so far (files only, not sockets)."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes"):
            return int(line.split()[1])
    return 0


def _client(port: int, client_id: str, persistent: bool = False, on_message=None) -> mqtt.Client:
    """Return a connected MQTT v5 client (a persistent session when asked)."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if on_message:
        c.on_message = on_message
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600 if persistent else 0
    c.connect("127.0.0.1", port, clean_start=not persistent, properties=props)
    c.loop_start()
    return c


def _publish(port: int, n: int, rate: float | None = None) -> None:
    """Publish n QoS 1 readings and wait for every PUBACK (the device forgets them then)."""
    pub = _client(port, "device")
    infos = []
    for i in range(n):
        infos.append(pub.publish("zigbee2mqtt/stal1_lux", f'{{"illuminance_lux": {i}, "linkquality": 120}}', qos=1))
        if rate:
            time.sleep(1 / rate)
    for info in infos:
        info.wait_for_publish(30)
    pub.disconnect()
    pub.loop_stop()


def survivors(work: Path, setting: str, delay: float, n: int = 2000) -> int:
    """Return how many of n messages queued for an absent persistent session survive a SIGKILL after delay s."""
    broker = Mosquitto(work, setting).start()
    agent = _client(broker.port, "agent", persistent=True)
    agent.subscribe("zigbee2mqtt/#", qos=1)
    time.sleep(0.3)
    agent.disconnect()
    agent.loop_stop()
    _publish(broker.port, n)
    time.sleep(delay)
    broker.kill()
    broker.start()
    got = []
    agent = _client(broker.port, "agent", persistent=True, on_message=lambda *a: got.append(1))
    time.sleep(1.5)
    agent.disconnect()
    agent.loop_stop()
    broker.stop()
    return len(got)


def steady(work: Path, setting: str, seconds: float) -> tuple[float, float]:
    """Return (bytes/s, bytes/message) the broker writes while a connected agent takes RATE msg/s."""
    broker = Mosquitto(work, setting).start()
    agent = _client(broker.port, "agent", persistent=True, on_message=lambda *a: None)
    agent.subscribe("zigbee2mqtt/#", qos=1)
    time.sleep(1.5)
    before = broker.written()
    n = int(RATE * seconds)
    _publish(broker.port, n, RATE)
    written = broker.written() - before
    agent.disconnect()
    agent.loop_stop()
    broker.stop()
    return written / seconds, written / n


def db_bytes_per_queued(work: Path, n: int = 20000) -> float:
    """Return the persistence file's bytes per message queued for an absent agent."""
    broker = Mosquitto(work, "autosave_interval 1\n").start()
    agent = _client(broker.port, "agent", persistent=True)
    agent.subscribe("zigbee2mqtt/#", qos=1)
    time.sleep(0.3)
    agent.disconnect()
    agent.loop_stop()
    time.sleep(1.5)
    empty = (work / "mosquitto.db").stat().st_size if (work / "mosquitto.db").exists() else 0
    _publish(broker.port, n)
    time.sleep(2.5)
    full = (work / "mosquitto.db").stat().st_size
    broker.stop()
    return (full - empty) / n


def agent_writes(work: Path, seconds: float) -> float:
    """Return the bytes/s `ikb-agent run` writes while it stores RATE lux readings a second."""
    broker = Mosquitto(work / "b", "autosave_interval 5\n").start()
    cfg = work / "farm.toml"
    cfg.write_text(f"""[farm]\nname = "Bench"\nkip_number = "123456"\nlatitude = 52.1\nlongitude = 5.6\n
[[houses]]\nid = "1"\nhousing = "barn"\n[mqtt]\nport = {broker.port}\nclient_id = "bench-agent"\n
[storage]\npath = "{work / 'farm.db'}"\n[[sensors]]\ntopic = "zigbee2mqtt/stal1_lux"\nkind = "lux"\nlocation = "1"
field = "illuminance_lux"\n""")
    proc = subprocess.Popen([sys.executable, "-c", "from agent.cli.main import entry_point; entry_point()",
                             "--config", str(cfg), "run", "--log-level", "error"], cwd=REPO, stderr=subprocess.DEVNULL)
    time.sleep(4)
    before = _wchar(proc.pid)
    _publish(broker.port, int(RATE * seconds), RATE)
    written = _wchar(proc.pid) - before
    proc.send_signal(signal.SIGTERM)
    proc.wait(15)
    broker.stop()
    return written / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the shipped setting")
    parser.add_argument("--seconds", type=float, default=20, help="length of the steady-state run")
    parser.add_argument("--dir", help="where the brokers keep their files (a disk, not a tmpfs; default: TMPDIR)")
    args = parser.parse_args()
    names = [n for n in SETTINGS if "shipped" in n] if args.quick else list(SETTINGS)
    with tempfile.TemporaryDirectory(prefix="ikb-broker-", dir=args.dir) as tmp:
        tmp = Path(tmp)
        print(f"mosquitto {subprocess.run(['mosquitto', '-h'], capture_output=True, text=True).stdout.split()[2]}, "
              f"{os.cpu_count()} cores; steady state {RATE} msg/s for {args.seconds:g} s")
        print(f"{'setting':38} {'kill +0.2 s':>12} {'kill +save+1 s':>15} {'steady B/s':>11} {'B/msg':>7}")
        for i, name in enumerate(names):
            setting = SETTINGS[name]
            interval = int(setting.split()[-1]) if "on_changes" not in setting else 1
            early = survivors(tmp / f"k{i}a", setting, 0.2)
            late = survivors(tmp / f"k{i}b", setting, interval + 1 if interval < 30 else 2)
            rate, per = steady(tmp / f"s{i}", setting, args.seconds)
            late_label = f"{late}/2000" + ("" if interval < 30 else " (+2 s)")
            print(f"{name:38} {early:>7}/2000 {late_label:>15} {rate:>11.0f} {per:>7.0f}")
        per_msg = db_bytes_per_queued(tmp / "db")
        print(f"persistence file: {per_msg:.0f} bytes per queued message; a save during a backlog of Q messages "
              f"writes about Q x {per_msg:.0f} bytes")
        for hours in (0.1, 1, 8):
            q = RATE * 3600 * hours
            for interval in (5, 60):
                saves = hours * 3600 / interval
                total = saves * (q / 2) * per_msg  # the backlog grows linearly: the mean save is half the last
                print(f"  agent away {hours:g} h at {RATE} msg/s, autosave_interval {interval}: "
                      f"about {total / 1e9:.2f} GB written by the broker")
        print(f"ikb-agent run itself at {RATE} msg/s: {agent_writes(tmp / 'agent', args.seconds):.0f} B/s written")


if __name__ == "__main__":
    main()
