"""Backups and restore (issue 16): online copies while the agent writes, checked, rotated; restore refuses
damaged copies and a database in use; a copy before every schema upgrade."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

from agent import clock
from agent.backup import (
    BackupError,
    RestoreError,
    backup_due,
    check_copy,
    last_backup,
    list_backups,
    restore_database,
    run_backup,
    take_backup,
)
from agent.cli.runner import Agent
from agent.config import config_from_dict
from agent.logbooks import add_entry, verify_chains
from agent.store import integrity_problem, open_store, store_file
from agent.store.schema import migrations
from sensors.mqtt import MqttOptions, MqttPublisher

from .farmconfig import farm_dict
from .test_logbook import GOOD
from .test_mqtt_ingest import wait_for

TZ = ZoneInfo("Europe/Amsterdam")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def visitor(n: int, today: str) -> dict:
    return dict(GOOD["visitors"], date=today, name=f"Bezoeker {n}", houses=["1"])


def farm_with_entries(tmp_path, n=3):
    """Return (settings, path) of a farm database holding n visitor entries and one uploaded file."""
    settings = config_from_dict(farm_dict(tmp_path))
    path = Path(settings.storage.path)
    store = open_store(path)
    now = clock.utcnow()
    today = now.astimezone(TZ).date().isoformat()
    try:
        for i in range(n):
            add_entry(store, settings, "visitors", visitor(i, today), by="jan", now=now)
        with store.transaction() as db:
            store_file(db, name="foto.png", content_type="image/png", data=PNG, uploaded_by="jan", now=now)
    finally:
        store.close()
    return settings, path


def rows(path: Path, sql: str) -> list:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --------------------------------------------------------------------------- the case named in the issue


def test_backup_taken_while_the_agent_writes_restores_to_a_database_that_passes_integrity_check_and_verify(
        tmp_path, broker, cli):
    settings = config_from_dict(farm_dict(tmp_path, mqtt={"port": broker.port, "client_id": f"a-{tmp_path.name}"}))
    agent = Agent(settings)
    agent.start()
    stop = threading.Event()
    written = {"readings": 0, "entries": 0}

    def publish():
        pub = MqttPublisher(MqttOptions(port=broker.port), client_id=f"pub-{tmp_path.name}")
        pub.connect()
        while not stop.is_set():
            pub.publish("ikb/1/lux", str(written["readings"] % 400))
            written["readings"] += 1
            time.sleep(0.002)
        pub.close()

    def record():
        store = open_store(settings.storage.path)
        today = clock.utcnow().astimezone(TZ).date().isoformat()
        while not stop.is_set():
            add_entry(store, settings, "visitors", visitor(written["entries"], today), by="jan", now=clock.utcnow())
            written["entries"] += 1
            stop.wait(0.01)
        store.close()

    threads = [threading.Thread(target=publish), threading.Thread(target=record)]
    copies = []
    try:
        assert agent.wait_connected(10)
        for t in threads:
            t.start()
        backups = tmp_path / "usb"
        job_store = open_store(settings.storage.path)
        try:
            for i in range(4):
                assert wait_for(lambda: written["entries"] > 10 * (i + 1)
                                and agent.ingestor.counts.stored > 100 * (i + 1), 20)
                copies.append(take_backup(job_store, backups, keep=10,
                                          now=clock.utcnow() + timedelta(seconds=i)))
        finally:
            job_store.close()
        # The writers go on after the last copy (on a busy machine they may not have had a turn yet): the
        # second entry counted from here was begun after the copy was complete.
        after = written["entries"]
        assert wait_for(lambda: written["entries"] > after + 1, 20)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        agent.stop()
    total_entries = rows(Path(settings.storage.path), "SELECT count(*) FROM logbook")[0][0]
    assert total_entries == written["entries"]
    # Every copy was taken while both writers ran: each holds a consistent prefix of what was written.
    counts = [rows(c.path, "SELECT count(*) FROM logbook")[0][0] for c in copies]
    assert counts == sorted(counts) and 0 < counts[0] and counts[-1] < total_entries
    readings = [rows(c.path, "SELECT count(*) FROM readings")[0][0] for c in copies]
    assert readings == sorted(readings) and readings[0] > 0
    restored = cli("restore", str(copies[1].path))
    assert restored.code == 0, restored.err
    db = Path(settings.storage.path)
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    store = open_store(db, readonly=True)
    try:
        assert verify_chains(store) == (None, counts[1])
    finally:
        store.close()
    # `ikb-agent verify` on an audit pack exported from the restored database.
    pack = tmp_path / "pack.zip"
    exported = cli("export", "--kind", "all", "--format", "zip", "--out", str(pack))
    assert exported.code == 0, exported.err
    verified = cli("verify", str(pack))
    assert verified.code == 0, verified.out + verified.err
    # The database it replaced is kept aside, with everything that was written.
    [aside] = [p for p in tmp_path.iterdir() if p.name.startswith("farm.db.replaced-") and not p.name.endswith("-wal")]
    assert rows(aside, "SELECT count(*) FROM logbook")[0][0] == total_entries


# --------------------------------------------------------------------------- damaged copies are refused


def _flip_bytes(path: Path) -> None:
    """Overwrite the middle of the file's last pages with garbage (a failing USB stick)."""
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(len(data) - 3 * page, len(data) - page, 97):
        data[start] ^= 0x5A
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    """Cut the copy short (unplugged while it was written)."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _edit_with_sqlite(path: Path, table: str, sql: str) -> None:
    """Change rows of an append-only table inside the copy with SQLite's own tools: a sound file, altered evidence."""
    conn = sqlite3.connect(path)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", [table]):
        conn.execute(f'DROP TRIGGER "{name}"')
    conn.execute(sql)
    conn.commit()
    conn.close()


def _edit_entry(path: Path) -> None:
    """Change a visitor's name (the chain breaks)."""
    _edit_with_sqlite(path, "logbook", "UPDATE logbook SET entry = json_set(entry, '$.name', 'Iemand anders') WHERE id = 2")


def _edit_file(path: Path) -> None:
    """Change an uploaded photo's bytes."""
    _edit_with_sqlite(path, "files", "UPDATE files SET data = zeroblob(length(data))")


def _not_a_database(path: Path) -> None:
    path.write_bytes(b"this is a holiday photo, not a database\n" * 100)


@pytest.mark.parametrize("damage, words", [
    (_flip_bytes, "integrity"),
    (_truncate, "integrity"),
    (_edit_entry, "chain"),
    (_edit_file, "SHA-256"),
    (_not_a_database, "not an SQLite database"),
])
def test_a_corrupted_backup_is_refused(tmp_path, cli, damage, words):
    settings, db = farm_with_entries(tmp_path, n=40)
    store = open_store(db)
    try:
        copy = take_backup(store, tmp_path / "usb", keep=3, now=clock.utcnow()).path
    finally:
        store.close()
    assert check_copy(copy).problem is None
    damage(copy)
    before = sha(db)
    result = cli("restore", str(copy))
    assert result.code == 1
    assert "geweigerd: de kopie is beschadigd" in result.err and words in result.err
    assert sha(db) == before  # nothing was replaced
    assert not [p for p in tmp_path.iterdir() if ".replaced-" in p.name or ".restoring" in p.name]


def test_restore_refuses_while_the_agent_runs(tmp_path, broker, cli):
    settings = config_from_dict(farm_dict(tmp_path, mqtt={"port": broker.port, "client_id": f"a-{tmp_path.name}"}))
    store = open_store(settings.storage.path)
    copy = take_backup(store, tmp_path / "usb", keep=3, now=clock.utcnow()).path
    store.close()
    agent = Agent(settings)
    agent.start()
    try:
        before = sha(Path(settings.storage.path))
        with pytest.raises(RestoreError) as refused:
            restore_database(copy, settings.storage.path, now=clock.utcnow(), agent_pid=agent_pid(settings))
        assert refused.value.code == "agent" and refused.value.params["pid"] == os.getpid()
        # the cli fixture's farm keeps its database at the same path
        result = cli("--lang", "en", "restore", str(copy))
        assert result.code == 1 and f"refused: ikb-agent run (process {os.getpid()}) is using" in result.err
        assert sha(Path(settings.storage.path)) == before
    finally:
        agent.stop()


def agent_pid(settings) -> int | None:
    from agent.health import read_runtime, runtime_dir, runtime_file

    found = read_runtime(runtime_file(runtime_dir(settings.health.runtime_dir), settings.storage.path),
                        clock.utcnow())
    return found["pid"] if found else None


def test_restore_refuses_while_another_process_has_the_database_open(tmp_path):
    settings, db = farm_with_entries(tmp_path)
    store = open_store(db)
    copy = take_backup(store, tmp_path / "usb", keep=3, now=clock.utcnow()).path
    store.close()
    # The web process, say: a different process with the database open.
    holder = subprocess.Popen([sys.executable, "-c", "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]);"
                               " c.execute('SELECT count(*) FROM logbook').fetchall(); print('open', flush=True);"
                               " time.sleep(30)", str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(RestoreError) as refused:
            restore_database(copy, db, now=clock.utcnow())
        assert refused.value.code == "open" and refused.value.params["pids"] == str(holder.pid)
    finally:
        holder.kill()
        holder.wait()
    restore_database(copy, db, now=clock.utcnow())  # once it is gone, the restore goes ahead


def test_restore_puts_the_copy_in_place_and_keeps_the_replaced_database(tmp_path):
    settings, db = farm_with_entries(tmp_path, n=2)
    store = open_store(db)
    copy = take_backup(store, tmp_path / "usb", keep=3, now=clock.utcnow()).path
    today = clock.utcnow().astimezone(TZ).date().isoformat()
    add_entry(store, settings, "visitors", visitor(99, today), by="jan", now=clock.utcnow())  # after the copy
    store.close()
    result = restore_database(copy, db, now=datetime(2026, 11, 2, 8, tzinfo=timezone.utc))
    assert [p.name for p in result.set_aside][0] == "farm.db.replaced-20261102T080000Z"
    assert rows(db, "SELECT count(*) FROM logbook") == [(2,)]
    assert rows(result.set_aside[0], "SELECT count(*) FROM logbook") == [(3,)]
    assert result.check.entries == 2 and result.check.files == 1


# --------------------------------------------------------------------------- nightly job, rotation, record


def test_copies_are_rotated_and_each_is_checked(tmp_path):
    settings, db = farm_with_entries(tmp_path)
    store = open_store(db)
    usb = tmp_path / "usb"
    try:
        start = datetime(2026, 11, 1, 2, 30, tzinfo=timezone.utc)
        taken = [take_backup(store, usb, keep=3, now=start + timedelta(days=d)) for d in range(5)]
        kept = list_backups(usb, str(db))
        assert [p.name for p in kept] == [t.path.name for t in taken[2:]]
        assert [p.name for p in taken[4].removed] == [taken[1].path.name]
        assert all(integrity_problem(p) is None and check_copy(p).entries == 3 for p in kept)
        good, failed = last_backup(store)
        assert good["file"] == str(taken[4].path) and failed is None
    finally:
        store.close()


def test_a_copy_that_fails_its_check_is_removed_and_costs_no_good_copy(tmp_path):
    settings, db = farm_with_entries(tmp_path)
    store = open_store(db)
    usb = tmp_path / "usb"
    start = datetime(2026, 11, 1, 2, 30, tzinfo=timezone.utc)
    try:
        good = [take_backup(store, usb, keep=2, now=start + timedelta(days=d)) for d in range(2)]
    finally:
        store.close()
    _edit_entry(db)  # the live database's chain is broken: the next copy cannot pass
    store = open_store(db)
    try:
        with pytest.raises(BackupError) as failed_copy:
            take_backup(store, usb, keep=2, now=start + timedelta(days=2))
        assert failed_copy.value.code == "unsound"
        assert list_backups(usb, str(db)) == [g.path for g in good]
        last, failed = last_backup(store)
        assert last["file"] == str(good[1].path) and "chain" in failed["error"]
    finally:
        store.close()


def test_a_backup_directory_on_the_database_device_is_refused_when_a_usb_stick_is_required(tmp_path):
    settings, db = farm_with_entries(tmp_path)
    store = open_store(db)
    try:
        with pytest.raises(BackupError) as refused:
            take_backup(store, tmp_path / "media-usb", keep=2, now=clock.utcnow(), require_other_device=True)
        assert refused.value.code == "other_device" and "USB-stick" in str(refused.value)
        assert not (tmp_path / "media-usb").exists()
        # /dev/shm is another device (tmpfs): accepted.
        shm = Path("/dev/shm") / f"ikb-{tmp_path.name}"
        try:
            take_backup(store, shm, keep=2, now=clock.utcnow(), require_other_device=True)
            assert len(list_backups(shm, str(db))) == 1
        finally:
            for p in shm.glob("*"):
                p.unlink()
            shm.rmdir()
    finally:
        store.close()


@pytest.mark.parametrize("now_local, last_local, due", [
    ("2026-11-02 03:29", "2026-11-01 03:31", False),  # before tonight's slot; last night's copy exists
    ("2026-11-02 03:31", "2026-11-01 03:31", True),  # after tonight's slot
    ("2026-11-02 03:31", "2026-11-02 03:30", False),  # taken at the slot
    ("2026-11-02 12:00", None, True),  # never taken: at once
    ("2026-11-05 10:00", "2026-11-01 03:31", True),  # the Pi was off for nights: made up at once
    ("2026-03-29 03:45", "2026-03-28 03:31", True),  # spring-forward night: 03:30 local still comes
])
def test_the_nightly_copy_is_due_after_the_configured_local_time(now_local, last_local, due):
    def moment(text):
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ).astimezone(timezone.utc)

    assert backup_due(moment(now_local), moment(last_local) if last_local else None, "03:30", TZ) is due


def test_the_backup_job_takes_one_copy_a_night(tmp_path):
    data = farm_dict(tmp_path)
    data["backup"] = {"directory": str(tmp_path / "usb"), "keep": 5, "at": "03:30"}
    settings = config_from_dict(data)
    store = open_store(settings.storage.path)
    night = datetime(2026, 11, 2, 3, 40, tzinfo=TZ).astimezone(timezone.utc)
    try:
        assert run_backup(store, settings, night) is not None
        assert run_backup(store, settings, night + timedelta(minutes=30)) is None  # the same night
        assert run_backup(store, settings, night + timedelta(hours=20)) is None  # 23:40, before the next slot
        assert run_backup(store, settings, night + timedelta(days=1)) is not None
        assert len(list_backups(tmp_path / "usb", settings.storage.path)) == 2
    finally:
        store.close()


def test_backups_switched_off_take_nothing(tmp_path):
    data = farm_dict(tmp_path)
    data["backup"] = {"enabled": False, "directory": str(tmp_path / "usb")}
    settings = config_from_dict(data)
    store = open_store(settings.storage.path)
    try:
        assert run_backup(store, settings, clock.utcnow()) is None
        assert not (tmp_path / "usb").exists()
    finally:
        store.close()


# --------------------------------------------------------------------------- upgrades


def test_an_upgrade_copies_the_database_before_its_schema_changes(tmp_path):
    path = tmp_path / "farm.db"
    last = migrations._migrations[-1].name
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before=last)  # the database of the previous version
    db.execute("CREATE TABLE before_upgrade(x)")
    db.conn.commit()
    db.close()
    store = open_store(path)  # this version's start: migrates
    try:
        assert not [m for m in migrations.pending(store.db)]
    finally:
        store.close()
    copy = tmp_path / f"farm.db.before-{last}"
    assert integrity_problem(copy) is None
    applied = [r[0] for r in rows(copy, "SELECT name FROM _sqlite_migrations")]
    assert last not in applied and applied
    assert rows(copy, "SELECT count(*) FROM before_upgrade") == [(0,)]
    # A fresh database is not copied, and a database already at this version is not copied again.
    open_store(tmp_path / "new.db").close()
    open_store(path).close()
    assert sorted(p.name for p in tmp_path.iterdir() if ".before-" in p.name) == [copy.name]


def test_backup_and_status_from_the_command_line(tmp_path, cli):
    from .farmconfig import to_toml

    settings, db = farm_with_entries(tmp_path)
    data = farm_dict(tmp_path)
    data["backup"] = {"directory": str(tmp_path / "usb"), "keep": 2}
    config = tmp_path / "farm.toml"
    config.write_text(to_toml(data), encoding="utf-8")
    made = cli("backup", "--format", "json", config=config)
    assert made.code == 0, made.err
    out = json.loads(made.out)
    assert Path(out["file"]).parent == tmp_path / "usb" and out["entries"] == 3 and out["files"] == 1
    status = cli("status", "--format", "json", config=config)
    assert status.code == 1  # no agent runs on this farm
    body = json.loads(status.out)
    assert body["backup"]["last"]["file"] == out["file"] and body["backup"]["copies"] == 1
    assert body["healthy"] is False and body["problems"][0]["code"] == "agent_down"


def test_after_a_restore_the_status_still_knows_the_newest_copy(tmp_path, config_file):
    from agent.config import load_config
    from agent.health import agent_status

    settings, db = farm_with_entries(tmp_path)
    store = open_store(db)
    start = datetime(2026, 11, 1, 2, 30, tzinfo=timezone.utc)
    first, second = (take_backup(store, tmp_path / "backups", keep=5, now=start + timedelta(days=d)) for d in (0, 1))
    store.close()
    restore_database(first.path, db, now=start + timedelta(days=2))  # its kv knows no copy at all
    store = open_store(db, readonly=True)
    try:
        status = agent_status(store, load_config(config_file), start + timedelta(days=2))
    finally:
        store.close()
    backup = status["backup"]
    assert backup["last"]["file"] == str(second.path) and backup["copies"] == 2
    assert "backup_none" not in [p["code"] for p in status["problems"]]


def test_a_live_database_with_its_wal_is_refused_as_a_copy(tmp_path):
    settings, db = farm_with_entries(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    live = other / "live.db"
    writer = sqlite3.connect(live)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("CREATE TABLE t(x)")
    writer.execute("INSERT INTO t VALUES (1)")
    writer.commit()  # committed into live.db-wal, not yet into live.db
    try:
        before = sha(db)
        with pytest.raises(RestoreError) as refused:
            restore_database(live, db, now=clock.utcnow())
        assert refused.value.code == "live" and refused.value.params["wal"] == "live.db-wal"
        assert sha(db) == before
    finally:
        writer.close()


def test_the_farm_key_is_kept_beside_the_copies(tmp_path):
    from agent.signing import create_key

    data = farm_dict(tmp_path)
    data["backup"] = {"directory": str(tmp_path / "usb")}
    settings = config_from_dict(data)
    key = create_key(settings.key_path())
    store = open_store(settings.storage.path)
    try:
        result = run_backup(store, settings, clock.utcnow())
    finally:
        store.close()
    kept = tmp_path / "usb" / "farm.key"
    assert result.key and kept.read_bytes() == settings.key_path().read_bytes()
    assert oct(kept.stat().st_mode)[-3:] == "600"
    assert key.fingerprint  # the same key signs after a restore from this stick
    assert list_backups(tmp_path / "usb", settings.storage.path) == [result.path]  # the key is not a copy
