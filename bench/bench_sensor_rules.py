"""Benchmark the sensor rules: a full `score` over two years, and the per-minute incremental tick.

The farm: 4 houses, an egg room, 20 sensors (per house lux, temperature, NH3 and
the ventilation alarm panel; egg-room temperature and humidity; mains and
generator; a pop-hole for the free-range house... see SENSORS). Two years of
one reading a minute per sensor: the last 35 days as raw readings, older days
as per-minute aggregates, as the agent keeps them.

Measured:
1. building the database (for reference only);
2. a `score` over the two years with nothing cached: derives every sensor's days in memory (it writes
   nothing; this is what `score` costs on a database `run` has not cached yet);
3. `run`'s backfill job caching those days (once per database, a slice every few minutes in `run`);
4. the full `score` again, in-process and as the CLI command (cached: the designed case);
5. the minute tick: one minute of new readings for every sensor, then
   `evaluate_tick` over the 30-day window — repeated, median and worst; and how many score-snapshot
   rows a tick rewrites;
6. the on-arrival judgement of the alarm rules (A3.4, A3.5) after an alarm-class batch.

Usage:  .venv/bin/python bench/bench_sensor_rules.py [--days 730] [--db PATH] [--rebuild] [--keep-cache]
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agent.config import load_config  # noqa: E402
from agent.evaluation.continuous import evaluate_alarm_rules, evaluate_tick  # noqa: E402
from agent.evaluation.score import score_window  # noqa: E402
from agent.evaluation.sensor_inputs import backfill_day_cache  # noqa: E402
from agent.store.connection import open_store  # noqa: E402
from agent.store.readings import insert_readings, sync_sensors  # noqa: E402

AT = datetime(2026, 11, 2, 11, 0, tzinfo=timezone.utc)
RAW_DAYS = 35
HOUSES = ("1", "2", "3", "4")

CONFIG = """\
[farm]
name = "Benchfarm"
kip_number = "123456"
latitude = 52.10
longitude = 5.60
timezone = "Europe/Amsterdam"

{houses}

[[egg_rooms]]
id = "E"

[storage]
path = "{db}"

{sensors}

[[alerts.channels]]
type = "webhook"
url = "http://127.0.0.1:9000/hook"
"""


def sensors() -> list[tuple[str, str, str]]:
    """Return the 20 sensors as (topic, kind, location)."""
    out = []
    for h in HOUSES:
        out += [(f"b/{h}/lux", "lux", h), (f"b/{h}/t", "temperature", h), (f"b/{h}/nh3", "nh3", h),
                (f"b/{h}/alarm", "ventilation_alarm", h)]
    out += [("b/E/t", "temperature", "E"), ("b/E/rh", "humidity", "E"), ("b/1/mains", "mains", "1"),
            ("b/1/gen", "generator", "1")]
    return out


def write_config(db: Path) -> Path:
    """Write the bench farm's configuration next to the database."""
    houses = "\n\n".join(f'[[houses]]\nid = "{h}"\nhousing = "{"free_range" if h == "1" else "barn"}"'
                         for h in HOUSES)
    sens = "\n\n".join(f'[[sensors]]\ntopic = "{t}"\nkind = "{k}"\nlocation = "{loc}"' for t, k, loc in sensors())
    path = db.with_suffix(".toml")
    path.write_text(CONFIG.format(houses=houses, db=db, sensors=sens), encoding="utf-8")
    return path


def value(kind: str, minute: int) -> float:
    """Return a plausible reading for a sensor kind at an epoch minute (UTC; a 04:00–20:00 CET program)."""
    m = minute % 1440
    if kind == "lux":
        local = (m + 60) % 1440
        if 4 * 60 <= local < 20 * 60 - 20:
            return 30.0
        if 20 * 60 - 20 <= local < 20 * 60:
            return 30.0 * (20 * 60 - local) / 20
        return 0.0
    if kind == "temperature":
        return 20.0 + 2.0 * math.sin(m / 1440 * 2 * math.pi)
    if kind == "humidity":
        return 70.0
    if kind == "nh3":
        return 9.0
    if kind == "mains":
        return 1.0
    if kind == "generator":
        # A 15-minute test on the 1st of every 30-day stretch.
        return 1.0 if (minute // 1440) % 30 == 0 and 600 <= m < 615 else 0.0
    return 0.0  # ventilation_alarm ok


def build(db: Path, days: int) -> Path:
    """Create the database: raw readings for the last 35 days, minute aggregates before."""
    config_path = write_config(db)
    config = load_config(config_path)
    store = open_store(db)
    start = AT - timedelta(days=days)
    rows = sync_sensors(store, config.sensors, start)
    ids = {s.topic: (s.id, s.kind) for s in rows.values()}
    first, last, raw_from = int(start.timestamp() // 60), int(AT.timestamp() // 60), int(
        (AT - timedelta(days=RAW_DAYS)).timestamp() // 60)
    for topic, (sid, kind) in ids.items():
        for chunk in range(first, last, 1440 * 10):
            minutes = range(chunk, min(chunk + 1440 * 10, last))
            with store.transaction() as tx:
                agg = [(sid, m, 1, value(kind, m), value(kind, m), value(kind, m)) for m in minutes if m < raw_from]
                if agg:
                    tx.conn.executemany("INSERT OR IGNORE INTO aggregates(sensor_id, minute, n, vmin, vmax, mean)"
                                        " VALUES (?, ?, ?, ?, ?, ?)", agg)
                raw = [(sid, m * 60_000, value(kind, m)) for m in minutes if m >= raw_from]
                if raw:
                    insert_readings(tx, raw)
    store.close()
    return config_path


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--db", type=Path, default=Path("/tmp/ikb-bench-sensor-rules.db"))
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--ticks", type=int, default=30)
    parser.add_argument("--keep-cache", action="store_true", help="reuse the cached days of an earlier run")
    args = parser.parse_args()
    if args.rebuild or not args.db.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(args.db) + suffix).unlink(missing_ok=True)
        t = time.perf_counter()
        config_path = build(args.db, args.days)
        print(f"build: {len(sensors())} sensors × {args.days} days of minute data in {time.perf_counter() - t:.1f} s")
    else:
        config_path = write_config(args.db)
    config = load_config(config_path)
    store = open_store(args.db)
    since = AT - timedelta(days=args.days)

    if not args.keep_cache:
        with store.transaction() as tx:
            tx.execute("DELETE FROM derived_days")
    t = time.perf_counter()
    score_window(store, config, at=AT, since=since)
    print(f"score over {args.days} days, nothing cached (derives every day in memory, writes nothing): "
          f"{time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    cached = 0
    while True:  # what `run`'s backfill job does, a slice every few minutes
        done = backfill_day_cache(store, config, AT)
        cached += done
        if not done:
            break
    print(f"`run`'s backfill: {cached} sensor-days derived and cached in {time.perf_counter() - t:.2f} s")
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        result = score_window(store, config, at=AT, since=since)
        runs.append(time.perf_counter() - t)
    print(f"score over {args.days} days, cached, in-process: best {min(runs):.2f} s, "
          f"median {statistics.median(runs):.2f} s (verdict {result.verdict})")
    cmd = [str(Path(sys.executable).parent / "ikb-agent"), "--config", str(config_path), "score",
           "--at", AT.isoformat(), "--since", since.isoformat(), "--format", "json"]
    cli_runs = []
    for _ in range(3):
        t = time.perf_counter()
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        cli_runs.append(time.perf_counter() - t)
        if done.returncode != 0:
            raise SystemExit(done.stderr)
    print(f"`ikb-agent score --since <{args.days} days> --at …` as a command: best {min(cli_runs):.2f} s, "
          f"median {statistics.median(cli_runs):.2f} s (process start and imports included)")

    now = AT
    evaluate_tick(store, config, now)  # the agent's first tick after start-up
    ids = {r["topic"]: (r["id"], r["kind"]) for r in store.query("SELECT id, topic, kind FROM sensors")}
    ticks, rewritten = [], []
    for _ in range(args.ticks):
        now += timedelta(minutes=1)
        minute = int(now.timestamp() // 60)
        with store.transaction() as tx:
            insert_readings(tx, [(sid, minute * 60_000, value(kind, minute)) for sid, kind in ids.values()])
        t = time.perf_counter()
        evaluate_tick(store, config, now)
        ticks.append((time.perf_counter() - t) * 1000)
        rewritten.append(store.query("SELECT count(*) AS n FROM findings WHERE evaluated_at = ?",
                                     [now.isoformat()])[0]["n"])
    total = store.query("SELECT count(*) AS n FROM findings")[0]["n"]
    print(f"minute tick over the {config.evaluation.window_days}-day window ({args.ticks} ticks): median "
          f"{statistics.median(ticks):.0f} ms, worst {max(ticks):.0f} ms; finding rows rewritten per tick: "
          f"median {statistics.median(rewritten):.0f}, most {max(rewritten)} of {total}")
    arrivals = []
    for _ in range(args.ticks):
        t = time.perf_counter()
        evaluate_alarm_rules(store, config, now)
        arrivals.append((time.perf_counter() - t) * 1000)
    print(f"on-arrival judgement of A3.4/A3.5 ({args.ticks} runs): median {statistics.median(arrivals):.0f} ms, "
          f"worst {max(arrivals):.0f} ms")
    store.close()


if __name__ == "__main__":
    main()
