"""A full disk (issue 13): nothing acknowledged that is not stored, everything stored once space returns.

The database lives on a small tmpfs that a ballast file fills up where the test may mount one (root, as in
CI's container); elsewhere SQLite's max_page_count on the agent's own connection plays the full disk.
"""

from __future__ import annotations

import errno
import logging
import subprocess
import time
from pathlib import Path

import pytest

from agent.cli.runner import Agent
from agent.store import open_store
from tests.farmconfig import settings_for
from tests.test_mqtt_ingest import publisher, stored_values, wait_for


class SmallDisk:
    """A tmpfs of a few MB that can be filled with ballast and freed again."""

    def __init__(self, path: Path, size_mb: int = 8, mount: bool = True):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.mounted = mount and subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs",
                                                 str(path)], capture_output=True).returncode == 0
        self.ballast = path / "ballast"

    def fill(self) -> None:
        """Write ballast until the disk is full."""
        with open(self.ballast, "ab", buffering=0) as fh:
            chunk = b"\0" * 65536
            try:
                while True:
                    fh.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        with open(self.ballast, "ab", buffering=0) as fh:  # the last few bytes too
            try:
                while True:
                    fh.write(b"\0" * 512)
            except OSError:
                pass

    def free(self) -> None:
        self.ballast.unlink(missing_ok=True)

    def unmount(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


@pytest.fixture(params=["tmpfs", "max_page_count"])
def disk(tmp_path, request):
    d = SmallDisk(tmp_path / "disk", mount=request.param == "tmpfs")
    yield d
    d.unmount()


def _page_limit(agent: Agent, limit: int | None) -> None:
    """Play a full disk on the agent's ingest connection (max_page_count), or lift it."""
    conn = agent.stores[0].conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages if limit is None else limit}")


def test_a_full_disk_holds_back_acknowledgements_and_loses_nothing(disk, broker, cli, caplog):
    caplog.set_level(logging.ERROR, logger="agent.ingest.ingestor")
    settings = settings_for(disk.path, mqtt={"port": broker.port, "client_id": "agent-full"})
    db = settings.storage.path
    agent = Agent(settings)
    agent.start()
    try:
        assert agent.wait_connected(10)
        pub = publisher(broker)
        for i in range(100):
            pub.publish("ikb/1/lux", str(i))
        pub.flush(10)
        assert wait_for(lambda: len(stored_values(db)) == 100, 10)
        if disk.mounted:
            disk.fill()
        else:
            _page_limit(agent, None)
        for i in range(100, 1100):
            pub.publish("ikb/1/lux", str(i))
        pub.close(30)  # the broker has them all: the devices forget them
        time.sleep(2)
        # Whatever was acknowledged is stored: the broker keeps the rest.
        assert agent.ingestor.finished <= len(stored_values(db))
        assert len(stored_values(db)) < 1100 and "could not store a batch" in caplog.text
        if disk.mounted:
            refused = cli("--db", db, "logbook", "add", "checks", "--json",
                          '{"date": "2026-03-01", "item": "alarm", "result": "ok", "checked_by": "Jan"}')
            assert refused.code == 1 and "schijf (SD-kaart) is vol" in refused.err and "Traceback" not in refused.err
            disk.free()
        else:
            _page_limit(agent, 1_000_000)
        assert wait_for(lambda: len(stored_values(db)) >= 1100, 40)
        time.sleep(0.5)
    finally:
        agent.stop()
    values = stored_values(db)
    assert sorted(values) == [float(i) for i in range(1100)]
    store = open_store(db, readonly=True)
    try:
        assert store.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.query("SELECT count(*) AS n FROM logbook")[0]["n"] == 0  # the refused entry is not there
    finally:
        store.close()
