"""Benchmark the logbooks: durable writes, reading three years back, scoring, the audit pack.

Run: .venv/bin/python bench/bench_logbook.py [--years 3] [--dir /tmp/ikb-bench]
Prints one line per measurement. A farm of two houses keeping every logbook
for three years: 2 day-sheet lines a day, ~3 visitors a week, 10 bait boxes
checked monthly, monthly checks, flocks every ~15 months.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.config import load_config  # noqa: E402
from agent.evaluation.score import score_window  # noqa: E402
from agent.exports import build_pack, verify_pack  # noqa: E402
from agent.logbooks.entries import add_entry, list_entries, logbook_view  # noqa: E402
from agent.store.connection import open_store  # noqa: E402
from rules.logbooks import LOGBOOKS  # noqa: E402

TOML = """[farm]
name = "Benchbedrijf"
kip_number = "123456"
latitude = 52.1
longitude = 5.6
[[houses]]
id = "1"
housing = "free_range"
[[houses]]
id = "2"
housing = "barn"
[storage]
path = "{db}"
"""


def fill(store, config, start: date, end: date) -> int:
    """Write a realistic history directly through add_entry; return the number of entries."""
    n = 0

    def add(kind, data, day):
        nonlocal n
        add_entry(store, config, kind, data, by="bench", now=datetime.combine(day, datetime.min.time(),
                                                                              timezone.utc) + timedelta(hours=20))
        n += 1

    for house in ("1", "2"):
        add("flocks", {"house": house, "placed_on": start.isoformat(), "hatched_on": (start - timedelta(weeks=17))
            .isoformat(), "number_placed": 20000, "origin": "Opfok"}, start)
    for b in range(10):
        add("bait_boxes", {"number": str(b), "location": f"plek {b}", "target_pest": "mice", "product": "blok",
                           "fixed": True, "placed_on": start.isoformat()}, start)
    day = start
    while day <= end:
        for house in ("1", "2"):
            add("flock_day", {"date": day.isoformat(), "house": house, "inspected": True, "inspected_by": "Jan",
                              "mortality": 3, "eggs": 18500, "water_l": 4000}, day)
        add("free_range", {"date": day.isoformat(), "house": "1", "hours": 7}, day)
        if day.weekday() in (0, 2, 4):
            add("visitors", {"date": day.isoformat(), "arrival": "09:00", "name": "Bezoeker", "organisation": "GD",
                             "poultry_contact_48h": False, "houses": ["1"], "license_plate": "AB-1",
                             "signature": "B"}, day)
        if day.day == 5:
            for b in range(10):
                add("pest_control", {"date": day.isoformat(), "bait_box": str(b), "measures": "gecontroleerd",
                                     "product": "blok", "admission_number": "12345 N", "label_location": "kantoor",
                                     "sds_location": "kantoor", "volume": "20 g", "uptake": "none",
                                     "effect": "geen", "checked_by": "self"}, day)
            for item in ("generator", "alarm"):
                add("checks", {"date": day.isoformat(), "item": item, "result": "ok", "checked_by": "Jan"}, day)
        day += timedelta(days=1)
    return n


def timed(fn, repeat=5):
    """Return (median seconds, last result) over repeated calls."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def timed_cpu(fn):
    """Return (wall seconds, CPU seconds, result) of one call."""
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - t0, time.process_time() - c0, result


def median_of(runs) -> str:
    """Return "median wall s (CPU s)" of timed_cpu runs."""
    return (f"{statistics.median(r[0] for r in runs):.2f} s (CPU {statistics.median(r[1] for r in runs):.2f} s, "
            f"median of {len(runs)})")


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="ikb-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "ikb.toml").write_text(TOML.format(db=work / "bench.db"), encoding="utf-8")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work / 'bench.db'}{suffix}").unlink(missing_ok=True)
    config = load_config(work / "ikb.toml")
    store = open_store(config.storage.path)
    end = date(2026, 6, 1)
    start = end - timedelta(days=int(365 * args.years))
    t0 = time.perf_counter()
    n = fill(store, config, start, end)
    elapsed = time.perf_counter() - t0
    print(f"fill: {n} entries in {elapsed:.1f} s = {elapsed / n * 1000:.2f} ms per durable add_entry "
          f"(validation + chain + fsync)")
    at = datetime(2026, 6, 1, 10, tzinfo=timezone.utc)
    t, _ = timed(lambda: list_entries(store, "flock_day"))
    print(f"list_entries flock_day current view ({int(365 * args.years * 2)} lines): {t * 1000:.0f} ms")
    t, view = timed(lambda: logbook_view(store, at))
    print(f"logbook_view (all logbooks, validated, as of at): {t * 1000:.0f} ms")
    t, result = timed(lambda: score_window(store, config, at=at, since=at - timedelta(days=30)), repeat=3)
    print(f"score_window 30 days (all rules, logbooks loaded): {t * 1000:.0f} ms, verdict {result.verdict}")
    # Issue 15: the audit pack (one year of every logbook) and its verification, each the median of 3 runs;
    # CPU seconds beside wall seconds, since other work on a shared machine stretches the wall clock.
    packs = [timed_cpu(lambda: build_pack(store, config, list(LOGBOOKS), end - timedelta(days=365), end, at))
             for _ in range(3)]
    data = packs[-1][2]
    pack = work / "pack.zip"
    pack.write_bytes(data)
    print(f"audit pack, one year, all logbooks: {median_of(packs)}, {len(data) / 1024:.0f} KiB")
    checks = [timed_cpu(lambda: verify_pack(pack)) for _ in range(3)]
    print(f"verify pack (renders every PDF again): {median_of(checks)}, {checks[-1][2][1]}")
    size = Path(config.storage.path).stat().st_size
    print(f"database: {size / 1024 / 1024:.1f} MiB for {n} entries ({size / n:.0f} bytes per entry)")
    store.close()
    if not args.dir:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
