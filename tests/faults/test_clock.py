"""The clock jumping backward and forward, through the agent's injected clock (issue 13).

A Raspberry Pi has no battery clock: it boots with the time it was switched off (fake-hwclock), then NTP
jumps it forward; a wrong NTP answer can jump it back. Readings without a device timestamp are stamped with
the receipt time: across both jumps every one is stored exactly once, and a reading is never stamped before
one received earlier. A forward jump makes every sensor look silent to the health job for a moment; the next
reading closes that.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from agent.cli.runner import Agent
from agent.store import open_store
from tests.farmconfig import settings_for
from tests.test_mqtt_ingest import publisher, wait_for


class JumpingClock:
    """The real time plus an offset the test moves."""

    def __init__(self):
        self.offset = timedelta(0)
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            return datetime.now(timezone.utc) + self.offset

    def jump(self, delta: timedelta) -> None:
        with self.lock:
            self.offset += delta


def _rows(db) -> list[tuple[int, float]]:
    store = open_store(db, readonly=True)
    try:
        return [(r["ts"], r["value"]) for r in store.query(
            "SELECT ts, value FROM readings r JOIN sensors s ON s.id = r.sensor_id WHERE s.topic = 'ikb/1/lux'"
            " ORDER BY ts")]
    finally:
        store.close()


def test_readings_across_clock_jumps_are_stored_once_and_in_order(tmp_path, broker):
    settings = settings_for(tmp_path, mqtt={"port": broker.port, "client_id": "agent-clock"})
    clock = JumpingClock()
    agent = Agent(settings, now=clock)
    agent.start()
    try:
        assert agent.wait_connected(10)
        pub = publisher(broker)
        n = 0
        for jump in (timedelta(0), timedelta(hours=-1), timedelta(days=1), timedelta(days=-1, minutes=-30)):
            clock.jump(jump)
            for _ in range(200):
                pub.publish("ikb/1/lux", str(n))
                n += 1
            pub.flush(10)
            assert wait_for(lambda: len(_rows(settings.storage.path)) == n, 15)
            if jump > timedelta(0):
                # The health job, told a day has passed, takes every sensor for silent...
                agent.scheduler.run_now("sensor-health")
        pub.publish("ikb/1/lux", str(n))  # ...until it is heard again
        pub.close()
        assert wait_for(lambda: len(_rows(settings.storage.path)) == n + 1, 15)
        assert agent.ingestor.wait_idle(5)
    finally:
        agent.stop()
    rows = _rows(settings.storage.path)
    assert [v for _ts, v in rows] == [float(i) for i in range(n + 1)]  # once each, never stamped before an older one
    store = open_store(settings.storage.path, readonly=True)
    try:
        lux = store.query("SELECT id FROM sensors WHERE topic = 'ikb/1/lux'")[0]["id"]
        still_open = store.query("SELECT count(*) AS n FROM events WHERE kind = 'sensor_offline' AND sensor_id = ?"
                                 " AND \"end\" IS NULL", [lux])[0]["n"]
    finally:
        store.close()
    assert still_open == 0
