"""Backup benchmark (issue 16): how long the nightly copy, its check and a restore take, and what a copy
taken during ingestion costs the writer.

A database of a given size is built: readings of 20 sensors every 10 s (inserted
directly, like the ingestor's batches), 2,000 logbook entries through the real
append path (hash chain), a few uploaded photos. Then:

- ``take``: :func:`agent.backup.take_backup` (online copy + integrity check + chains + files), timed,
  with its parts (copy, check) timed separately;
- ``writer``: a thread commits a batch of 100 readings every 50 ms (like the ingestor under load)
  while a copy is taken; the longest commit during the copy against the longest without one;
- ``restore``: :func:`agent.backup.restore_database` of that copy, timed.

    .venv/bin/python bench/backup.py                # about 100 MB (a farm's year, roughly)
    .venv/bin/python bench/backup.py --days 10      # smaller
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agent.backup import check_copy, restore_database, take_backup  # noqa: E402
from agent.config import config_from_dict  # noqa: E402
from agent.logbooks import add_entry  # noqa: E402
from agent.store import integrity_problem, open_store, snapshot, store_file  # noqa: E402

SENSORS = 20


def build(path: Path, days: float, entries: int) -> tuple:
    """Create the database: readings, logbook entries, files; return (settings, seconds)."""
    started = time.monotonic()
    settings = config_from_dict({
        "farm": {"name": "Bench", "kip_number": "123456", "latitude": 52.1, "longitude": 5.6},
        "houses": [{"id": "1", "housing": "free_range"}], "storage": {"path": str(path)},
        "sensors": [{"topic": f"bench/{i}", "kind": "temperature", "location": "1"} for i in range(SENSORS)]})
    store = open_store(path)
    from agent.store import sync_sensors

    ids = [r.id for r in sync_sensors(store, settings.sensors, datetime.now(timezone.utc)).values()]
    start_ms = int((datetime.now(timezone.utc) - timedelta(days=days)).timestamp() * 1000)
    n = int(days * 86400 / 10)
    rng = random.Random(1)
    for chunk in range(0, n, 8640):
        rows = [(sid, start_ms + i * 10_000, round(18 + rng.random() * 4, 2))
                for i in range(chunk, min(n, chunk + 8640)) for sid in ids]
        with store.transaction() as db:
            db.conn.executemany("INSERT INTO readings(sensor_id, ts, value) VALUES (?, ?, ?)", rows)
    now = datetime.now(timezone.utc)
    today = now.date().isoformat()
    for i in range(entries):
        add_entry(store, settings, "visitors", {
            "date": today, "arrival": "09:15", "name": f"Bezoeker {i}", "organisation": "Voer",
            "poultry_contact_48h": False, "houses": ["1"], "license_plate": "12-ABC-3", "signature": "PJ"},
            by="bench", now=now)
    photo = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                          "1f15c4890000000d49444154789c63f8ffff3f0005fe02fea7358184000000"
                          "0049454e44ae426082")
    with store.transaction() as db:
        for i in range(20):
            store_file(db, name=f"foto{i}.png", content_type="image/png", data=photo, uploaded_by="bench", now=now)
    store.close()
    return settings, time.monotonic() - started


def writer(path: Path, stop: threading.Event, latencies: list, sid: int) -> None:
    """Commit 100 readings every 50 ms, as the ingestor does under load; record each commit's duration."""
    store = open_store(path)
    ts = int(time.time() * 1000) + 10**9
    while not stop.is_set():
        rows = [(sid, ts + i, 20.0) for i in range(100)]
        ts += 100
        t0 = time.monotonic()
        with store.transaction(immediate=True) as db:
            db.conn.executemany("INSERT INTO readings(sensor_id, ts, value) VALUES (?, ?, ?)", rows)
        latencies.append((t0, time.monotonic() - t0))
        stop.wait(0.05)
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=float, default=35, help="days of raw readings (20 sensors, every 10 s)")
    parser.add_argument("--entries", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ikb-bench-backup-") as tmp:
        tmp = Path(tmp)
        db = tmp / "farm.db"
        settings, built = build(db, args.days, args.entries)
        size = db.stat().st_size + (Path(f"{db}-wal").stat().st_size if Path(f"{db}-wal").exists() else 0)
        print(f"database: {size / 1e6:.1f} MB ({args.days:g} days x {SENSORS} sensors every 10 s, "
              f"{args.entries} logbook entries), built in {built:.0f} s")

        t0 = time.monotonic()
        snapshot(db, tmp / "plain-copy.db")
        copy_s = time.monotonic() - t0
        t0 = time.monotonic()
        integrity_problem(tmp / "plain-copy.db")
        integrity_s = time.monotonic() - t0
        t0 = time.monotonic()
        check = check_copy(tmp / "plain-copy.db")
        check_s = time.monotonic() - t0
        print(f"copy (backup API, one step, fsync): {copy_s:.2f} s; integrity_check {integrity_s:.2f} s; "
              f"full check (integrity + {check.entries} chain rows + {check.files} files) {check_s:.2f} s")

        quiet: list[float] = []
        stop = threading.Event()
        sid = 1
        t = threading.Thread(target=writer, args=(db, stop, quiet, sid))
        t.start()
        time.sleep(3)
        stop.set()
        t.join()
        busy: list[float] = []
        stop = threading.Event()
        t = threading.Thread(target=writer, args=(db, stop, busy, sid + 1))
        t.start()
        time.sleep(0.5)
        store = open_store(db)
        t_start = time.monotonic()
        result = take_backup(store, tmp / "usb", keep=3, now=datetime.now(timezone.utc))
        t_end = time.monotonic()
        store.close()
        time.sleep(0.2)
        during = [dt for t0, dt in busy if t0 + dt >= t_start and t0 <= t_end]
        quiet = [dt for _t0, dt in quiet]
        stop.set()
        t.join()
        print(f"take_backup (copy + check + rotate) during writes: {result.seconds:.2f} s, {result.bytes / 1e6:.1f} MB")
        print(f"writer commits (100 rows): without a copy p50 {statistics.median(quiet) * 1000:.1f} ms, "
              f"max {max(quiet) * 1000:.1f} ms; during the copy "
              + (f"n={len(during)} p50 {statistics.median(during) * 1000:.1f} ms, max {max(during) * 1000:.1f} ms"
                 if during else "none (the copy took less than one writer interval)"))

        t0 = time.monotonic()
        restored = restore_database(result.path, db, now=datetime.now(timezone.utc))
        print(f"restore (check, copy beside, check again, swap): {time.monotonic() - t0:.2f} s "
              f"({restored.check.entries} chain rows verified)")


if __name__ == "__main__":
    main()
