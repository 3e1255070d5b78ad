"""Bench the web page: dashboard and chart server times on two years of data for 20 sensors.

    .venv/bin/python bench/web_bench.py [--db /tmp/ikb-web-bench.db] [--rebuild] [-n 40]

Builds (once; reused until --rebuild) a farm database with 20 sensors: raw
readings every minute for the last 35 days (the raw retention) and per-minute
aggregates for the 695 days before, about 21 million rows; and three years of
every logbook for two houses (bench/bench_logbook.py's history, ~4 200 entries). Then requests each
page n times through the Flask app in-process (server time only, no network)
and prints p50/p95/max in milliseconds. The first request of each page is
reported apart: it builds the hourly roll-ups once (a cache, kept in the
database) and fills the score cache.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.config import config_from_dict  # noqa: E402
from agent.store.connection import open_store  # noqa: E402
from agent.store.readings import sync_sensors, to_ms  # noqa: E402
from agent.store.users import add_user  # noqa: E402

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
RAW_DAYS, TOTAL_DAYS = 35, 730
SENSORS = ([(f"stal{h}/{k}", k, str(h)) for h in (1, 2, 3) for k in ("lux", "temperature", "humidity", "nh3",
                                                                      "ventilation_alarm")]
           + [("stal4/lux", "lux", "4"), ("stal4/alarm", "ventilation_alarm", "4")]
           + [("ei/t", "temperature", "E"), ("ei/rh", "humidity", "E"), ("ei/egg", "egg_temperature", "E")])


def farm(db: Path):
    """Return the bench farm's configuration."""
    return config_from_dict({
        "farm": {"name": "Benchbedrijf", "kip_number": "123456", "latitude": 52.1, "longitude": 5.6},
        "houses": [{"id": str(h), "housing": "free_range" if h == 1 else "barn"} for h in (1, 2, 3, 4)],
        "egg_rooms": [{"id": "E"}],
        "storage": {"path": str(db)},
        "sensors": [{"topic": t, "kind": k, "location": loc} for t, k, loc in SENSORS],
    })


def value(kind: str, minute: int) -> float:
    """Return a plausible reading for a kind at an epoch minute (lux follows a 16/8 light programme)."""
    hour = (minute // 60 + 1) % 24
    if kind == "lux":
        return 0.1 if hour < 6 or hour >= 22 else 30.0 + (minute % 7)
    if kind in ("temperature", "egg_temperature"):
        return 12.0 + 3 * math.sin(minute / 720)
    if kind == "humidity":
        return 75.0 + 10 * math.sin(minute / 300)
    if kind == "nh3":
        return 8.0 + (minute % 5)
    return 0.0


def build(db: Path) -> None:
    """Write the bench database: accounts, sensors, raw readings and aggregates."""
    started = time.monotonic()
    store = open_store(db)
    config = farm(db)
    add_user(store, "jan", "farmer", "bench password", NOW)
    sensors = sync_sensors(store, config.sensors, NOW - timedelta(days=TOTAL_DAYS))
    now_min = to_ms(NOW) // 60000
    raw_from = now_min - RAW_DAYS * 1440
    agg_from = now_min - TOTAL_DAYS * 1440
    for (topic, _field), sensor in sensors.items():
        with store.transaction() as db_:
            db_.conn.executemany(
                "INSERT INTO aggregates(sensor_id, minute, n, vmin, vmax, mean) VALUES (?, ?, 6, ?, ?, ?)",
                ((sensor.id, m, v - 0.5, v + 0.5, v) for m in range(agg_from, raw_from)
                 for v in [value(sensor.kind, m)]))
            db_.conn.executemany(
                "INSERT INTO readings(sensor_id, ts, value) VALUES (?, ?, ?)",
                ((sensor.id, m * 60000, value(sensor.kind, m)) for m in range(raw_from, now_min + 1)))
        print(f"  {topic}: done ({time.monotonic() - started:.0f} s)", flush=True)
    store.close()


def measure(client, path: str, n: int) -> tuple[float, list[float]]:
    """Return the first request's time and the next n times (ms)."""
    times = []
    for i in range(n + 1):
        t = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times[0], times[1:]


def p95(values: list[float]) -> float:
    """Return the 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def main() -> None:
    """Build the database when needed, then print the table of server times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(Path(tempfile.gettempdir()) / "ikb-web-bench.db"))
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("-n", type=int, default=40)
    args = parser.parse_args()
    db = Path(args.db)
    if args.rebuild or not db.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        print(f"building {db} …", flush=True)
        build(db)
    config = farm(db)
    store = open_store(db)
    if not store.query("SELECT 1 FROM logbook LIMIT 1"):
        # Three years of every logbook for houses 1 and 2 (bench/bench_logbook.py's farm), for the
        # logbook pages and the dashboard's open flags.
        from bench.bench_logbook import fill

        started = time.monotonic()
        entries = fill(store, config, (NOW - timedelta(days=3 * 365)).date(), (NOW - timedelta(days=1)).date())
        print(f"  logbooks: {entries} entries ({time.monotonic() - started:.0f} s)", flush=True)
    rows = store.query("SELECT (SELECT count(*) FROM readings) AS raw, (SELECT count(*) FROM aggregates) AS agg,"
                       " (SELECT count(*) FROM sensors) AS sensors")[0]
    print(f"database: {db} ({db.stat().st_size / 1e6:.0f} MB): {rows['sensors']} sensors, "
          f"{rows['raw']:,} raw readings, {rows['agg']:,} per-minute aggregates")

    from agent.evaluation import backfill_day_cache, refresh_day_cache, score_window
    from agent.store import latest_score, record_score, roll_up_charts

    # What `run` keeps up to date and the pages only read: chart roll-ups and the per-day cache.
    t = time.perf_counter()
    roll_up_charts(store)
    refresh_day_cache(store, config, NOW - timedelta(days=30), NOW)
    while backfill_day_cache(store, config, NOW):
        pass
    print(f"  `run`'s caches brought up to date in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    result = score_window(store, config, at=NOW, since=NOW - timedelta(days=30))
    eval_ms = (time.perf_counter() - t) * 1000
    record_score(store, result, NOW)  # `run`'s snapshot: the pages read it
    t = time.perf_counter()
    latest_score(store)
    table_ms = (time.perf_counter() - t) * 1000
    print(f"score_window (30 days): {eval_ms:.1f} ms; reading `run`'s score snapshot: {table_ms:.1f} ms")
    store.close()

    from webui import create_app

    app = create_app(config, db, {"CLOCK": lambda: NOW})
    client = app.test_client()
    login = client.get("/login")
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', login.get_data(as_text=True)).group(1)
    client.post("/login", data={"name": "jan", "password": "bench password", "csrf_token": token})
    pages = ["/", "/live", "/charts/light/1", "/charts/light/1?range=7d", "/charts/light/1?range=30d",
             "/charts/light/1?range=90d", "/charts/light/1?range=365d", "/charts/egg-room/E",
             "/charts/egg-room/E?range=365d", "/api/v1/readings?sensor=1&points=300", "/rules/",
             "/logbooks/", "/logbooks/flock_day/", "/logbooks/visitors/?from=2024-01-01", "/daysheet/1",
             "/kiosk/", "/api/v1/logbooks/flock_day?since=2026-08-01", "/exercise/", "/exercise/A4",
             "/exercise/print", "/rules/?q=ongedierte", "/alerts/", "/logbooks/pest_control/new"]
    print(f"\n{'page':<42} {'first':>8} {'p50':>7} {'p95':>7} {'max':>7}   (ms, n={args.n})")
    for path in pages:
        first, times = measure(client, path, args.n)
        print(f"{path:<42} {first:8.1f} {statistics.median(times):7.1f} {p95(times):7.1f} {max(times):7.1f}")
    app.extensions["ikb"].close()


if __name__ == "__main__":
    main()
