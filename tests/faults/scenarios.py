"""Fault scenarios shared by the suite (short) and bench/faults.py (long): each returns its figures.

kill_scenario: `ikb-agent run` SIGKILLed again and again while a publisher streams QoS 1 readings without
device timestamps at a fixed rate and a logbook writer (itself SIGKILLed too) adds entries; afterwards every
published reading must be stored exactly once, every entry the writer reported saved must be there, the
chain intact and SQLite's integrity_check "ok".
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sensors.mqtt import MqttOptions, MqttPublisher
from tests.conftest import REPO
from tests.farmconfig import farm_dict, to_toml

WRITER = r"""
import sys, time
from datetime import datetime, timezone
from agent.config import load_config
from agent.logbooks import add_entry
from agent.store import open_store
config = load_config(sys.argv[1])
store = open_store(config.storage.path)
i = int(sys.argv[2])
while True:
    now = datetime.now(timezone.utc)
    day = config.farm_view().local_date(now).isoformat()
    saved = add_entry(store, config, "visitors", {"date": day, "arrival": "09:15", "name": f"bezoeker {i}",
                      "organisation": "x", "poultry_contact_48h": False, "houses": ["1"], "license_plate": "1-AB-2",
                      "signature": "X"}, by="writer", now=now)
    print(f"saved {saved.entry.id} {i}", flush=True)  # only after the commit: this is the acknowledgement
    i += 1
"""


@dataclass
class KillFigures:
    """What a kill scenario did and found."""

    published: int = 0
    stored: int = 0
    duplicates: int = 0
    missing: int = 0
    run_kills: int = 0
    writer_kills: int = 0
    entries_acknowledged: int = 0
    entries_missing: int = 0
    chain_problem: str | None = None
    integrity: str = ""
    seconds: float = 0.0
    restarts_s: list[float] = field(default_factory=list)


def _start_run(config: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from agent.cli.main import entry_point; entry_point()",
                             "--config", str(config), "run", "--log-level", "error"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _start_writer(config: Path, first: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(config), str(first)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def _stored(db: str) -> list[float]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return [r[0] for r in conn.execute(
            "SELECT value FROM readings r JOIN sensors s ON s.id = r.sensor_id WHERE s.topic = 'ikb/1/lux'")]
    finally:
        conn.close()


def kill_scenario(workdir: Path, broker_port: int, *, kills: int, rate: float, seconds: float,
                  writer_kills: int | None = None, seed: int = 13) -> KillFigures:
    """Stream `rate` msg/s for `seconds`, SIGKILL `run` `kills` times (and the logbook writer), then check."""
    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    data = farm_dict(workdir, mqtt={"port": broker_port, "client_id": f"agent-{workdir.name}"}, batch_size=200)
    config = workdir / "farm.toml"
    config.write_text(to_toml(data), encoding="utf-8")
    db = data["storage"]["path"]
    figures = KillFigures()
    writer_kills = kills if writer_kills is None else writer_kills
    run = _start_run(config)
    _wait_online(broker_port)  # subscribed: the broker keeps its session (and queues for it) from here on
    writer = _start_writer(config, 0)
    acknowledged: dict[int, int] = {}
    pub = MqttPublisher(MqttOptions(port=broker_port), client_id=f"pub-{workdir.name}")
    pub.connect()
    n = int(rate * seconds)
    kill_at = sorted(rng.sample(range(n // 10, n - n // 10), kills)) if kills else []
    writer_at = set(sorted(rng.sample(range(n // 10, n - n // 10), writer_kills))) if writer_kills else set()
    t0 = time.monotonic()
    for i in range(n):
        pub.publish("ikb/1/lux", str(i))
        if kill_at and i == kill_at[0]:
            kill_at.pop(0)
            os.kill(run.pid, signal.SIGKILL)
            run.wait(10)
            figures.run_kills += 1
            restarted = time.monotonic()
            run = _start_run(config)
            figures.restarts_s.append(time.monotonic() - restarted)
        if i in writer_at:
            os.kill(writer.pid, signal.SIGKILL)
            out, _ = writer.communicate(timeout=10)
            _acks(out, acknowledged)
            figures.writer_kills += 1
            writer = _start_writer(config, i * 1000)
        ahead = t0 + (i + 1) / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    pub.close(60)
    figures.published = n
    # The last writer is killed only once it has saved something (on a busy machine a writer can be killed
    # before its imports are done): the check below then always has acknowledged entries to look for.
    deadline = time.monotonic() + 30
    line = ""
    while not line.startswith("saved") and time.monotonic() < deadline:
        line = writer.stdout.readline()
        _acks(line, acknowledged)
    os.kill(writer.pid, signal.SIGKILL)
    out, _ = writer.communicate(timeout=10)
    _acks(out, acknowledged)
    figures.writer_kills += 1
    deadline = time.monotonic() + 90
    while len(_stored(db)) < n and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # redeliveries that would be duplicates have had their chance
    run.send_signal(signal.SIGTERM)
    run.communicate(timeout=30)
    figures.seconds = time.monotonic() - t0
    values = _stored(db)
    figures.stored = len(set(values))
    figures.duplicates = len(values) - len(set(values))
    figures.missing = len(set(range(n)) - {int(v) for v in values})
    _check_logbook(db, config, acknowledged, figures)
    return figures


def _wait_online(port: int, timeout: float = 60) -> None:
    """Wait until the agent's retained status on the broker says online (it has subscribed by then)."""
    from types import SimpleNamespace

    from tests.test_mqtt_ingest import status_of

    deadline = time.monotonic() + timeout
    while status_of(SimpleNamespace(port=port)) != "online":
        if time.monotonic() > deadline:
            raise TimeoutError("ikb-agent run did not come online")
        time.sleep(0.1)


def _acks(out: str, acknowledged: dict[int, int]) -> None:
    """Collect the entry ids a writer reported saved."""
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "saved":
            acknowledged[int(parts[1])] = int(parts[2])


def _check_logbook(db: str, config: Path, acknowledged: dict[int, int], figures: KillFigures) -> None:
    """Every acknowledged entry present, the chain intact, SQLite's integrity check ok."""
    from agent.logbooks import verify_chain
    from agent.store import open_store

    store = open_store(db, readonly=True)
    try:
        present = {r["id"] for r in store.query("SELECT id FROM logbook WHERE kind = 'visitors'")}
        figures.entries_acknowledged = len(acknowledged)
        figures.entries_missing = len(set(acknowledged) - present)
        figures.chain_problem = verify_chain(store, "visitors")
        figures.integrity = store.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        store.close()
