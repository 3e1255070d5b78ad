"""What a fold of readings_recent into readings_main writes, by how often it runs (issue 15, SD card).

A farm like the simulated one (16 sensors, every 30 s to 2 min) with three days in ``readings_main``;
live readings are appended to ``readings_recent`` in one commit a minute, as ``run`` does, and folded
(:func:`agent.ingest.ingestor.fold_recent`, the agent's own statement) every N hours. The WAL's growth
(autocheckpoint off) counts the frames (4 KiB pages) each commit writes.

    .venv/bin/python bench/fold_cost.py                 # folds every 1, 2, 3 and 6 hours
    .venv/bin/python bench/fold_cost.py --hours 1 6 --sensors 100
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agent.config import config_from_dict  # noqa: E402
from agent.ingest.ingestor import fold_recent  # noqa: E402
from agent.store import open_store, sync_sensors  # noqa: E402

FRAME = 4096 + 24  # a WAL frame: the page and its header


def measure(every_h: int, sensors: int, span_h: int) -> dict:
    """Append a minute's readings per commit for ``span_h`` hours, folding every ``every_h``; return figures."""
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "farm.db"
        settings = config_from_dict({
            "farm": {"name": "Bench", "kip_number": "123456", "latitude": 52.1, "longitude": 5.6},
            "houses": [{"id": "1", "housing": "free_range"}], "storage": {"path": str(path)},
            "sensors": [{"topic": f"bench/{i}", "kind": "temperature", "location": "1"} for i in range(sensors)]})
        store = open_store(path)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        ids = [r.id for r in sync_sensors(store, settings.sensors, now).values()]
        period = {sid: 30_000 * (1 + i % 4) for i, sid in enumerate(ids)}  # 30 s, 1, 1.5 and 2 min
        start = int((now - timedelta(days=3)).timestamp() * 1000)
        live = int(now.timestamp() * 1000)
        with store.transaction() as db:
            db.conn.executemany("INSERT INTO readings_main(sensor_id, ts, value) VALUES (?, ?, ?)",
                                [(sid, t, rng.random()) for sid in ids for t in range(start, live, period[sid])])
        conn = store.conn
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        wal = Path(str(path) + "-wal")

        def frames(write) -> int:
            before = wal.stat().st_size if wal.exists() else 0
            with store.transaction(immediate=True):
                write()
            return ((wal.stat().st_size if wal.exists() else 0) - before) // FRAME

        appended = folded = folds = 0
        for minute in range(span_h * 60):
            lo, hi = live + minute * 60_000, live + (minute + 1) * 60_000
            rows = sorted((t, sid, rng.random()) for sid in ids
                          for t in range(lo + (-lo) % period[sid], hi, period[sid]))
            appended += frames(lambda rows=rows: conn.executemany(
                "INSERT INTO readings(ts, sensor_id, value) VALUES (?, ?, ?)", rows))  # into readings_recent
            if (minute + 1) % (every_h * 60) == 0:
                folded += frames(lambda: fold_recent(conn))
                folds += 1
        store.close()
    return {"every_h": every_h, "folds": folds, "frames_per_fold": folded / max(folds, 1),
            "fold_frames_per_hour": folded / span_h, "append_frames_per_commit": appended / (span_h * 60)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=int, nargs="+", default=[1, 2, 3, 6], help="fold every N hours")
    ap.add_argument("--sensors", type=int, default=16)
    ap.add_argument("--span", type=int, default=12, help="hours of live readings (default 12)")
    args = ap.parse_args()
    print(f"{args.sensors} sensors, {args.span} h live, a commit a minute; WAL frames (4 KiB pages)")
    for every in args.hours:
        r = measure(every, args.sensors, args.span)
        print(f"fold every {every} h: {r['frames_per_fold']:.0f} frames a fold, {r['fold_frames_per_hour']:.1f} a"
              f" hour; appending: {r['append_frames_per_commit']:.2f} a commit")


if __name__ == "__main__":
    main()
