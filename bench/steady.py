"""Steady load (issue 15): `ikb-agent run` and `web` live against a private mosquitto, as on a farm.

Three scenarios, each with `run` and `web` as their own processes, the shipped
``deploy/mosquitto.conf`` (private port and directory) and the dashboard polled
every 10 s by a logged-in farmer:

- ``--farm sim``: the simulated farm of ``ikb-agent simulate`` (2 houses, an egg
  room, 16 sensors from 30 s to 2 min), ``--history-days`` of it published first
  so the database holds a few days, then live;
- ``--farm 100``: 100 sensors (9 houses, 2 egg rooms, mains, generator, pop-holes),
  each one message every 10 s with its device time (10 messages a second);
- ``--catch-up``: that 100-sensor farm after an outage of ``--hours`` (24): the
  agent's session is created, the agent stopped, a day of messages queued
  (864,000), then ``run`` and ``web`` start while the farm keeps publishing live
  and a ventilation alarm is raised every few seconds; the alarms are timed from
  publishing to the webhook receiving the alert.

Measured over ``--minutes`` after ``--warmup`` seconds: bytes written (``/proc/<pid>/io``
``write_bytes``) of `run` and `web`, SQLite's committed WAL frames by table (why it
writes), commits, WAL restarts, CPU share, RSS at start and end, readings stored,
the page's response time.

    .venv/bin/python bench/steady.py --farm sim --minutes 4
    .venv/bin/python bench/steady.py --farm 100 --minutes 4
    .venv/bin/python bench/steady.py --catch-up --hours 24
    .venv/bin/python bench/steady.py --farm sim --minutes 1 --warmup 30 --json out.json   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.measure import Proc, Receiver, WalWatch, private_broker  # noqa: E402

EXE = REPO / ".venv" / "bin" / "ikb-agent"
FARM_ENV = {"MALLOC_ARENA_MAX": "2"}  # as deploy/ikb-agent.service and ikb-agent-web.service set it
PASSWORD = "steady bench password"
POLL_S = 10
HOUSES_100 = 9


def free_port() -> int:
    """Return a loopback TCP port that is free right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------- the 100-sensor farm


def farm100_sensors() -> list[dict]:
    """Return the 100 sensors: (topic, kind, location, model key) per sensor."""
    out = []
    for h in range(1, HOUSES_100 + 1):
        house = str(h)
        for kind, n in (("lux", 2), ("temperature", 3), ("humidity", 2), ("nh3", 1), ("co2", 1),
                        ("ventilation_alarm", 1)):
            for k in range(n):
                out.append({"topic": f"farm/{house}/{kind}/{k}", "kind": kind, "location": house})
    for room in ("E1", "E2"):
        for kind in ("temperature", "humidity", "egg_temperature"):
            out.append({"topic": f"farm/{room}/{kind}", "kind": kind, "location": room})
    out.append({"topic": "farm/power/mains", "kind": "mains", "location": "1"})
    out.append({"topic": "farm/power/generator", "kind": "generator", "location": "1"})
    for house in ("1", "2"):
        out.append({"topic": f"farm/{house}/pophole", "kind": "pophole", "location": house})
    assert len(out) == 100
    return out


def farm100_toml(port: int, db: Path, web_port: int, hook_port: int | None) -> str:
    """Return the configuration of the 100-sensor farm (webhook alerts when ``hook_port``)."""
    lines = ['[farm]', 'name = "Bench 100"', 'kip_number = "123456"', 'latitude = 52.1', 'longitude = 5.6',
             'timezone = "Europe/Amsterdam"', '']
    for h in range(1, HOUSES_100 + 1):
        housing = "free_range" if h <= 2 else "barn"
        lines += ['[[houses]]', f'id = "{h}"', f'housing = "{housing}"', 'mechanical_ventilation = true', '']
    for room in ("E1", "E2"):
        lines += ['[[egg_rooms]]', f'id = "{room}"', '']
    lines += ['[mqtt]', f'port = {port}', 'client_id = "ikb-steady"', '', '[storage]', f'path = "{db}"', '',
              '[web]', 'host = "127.0.0.1"', f'port = {web_port}', '']
    if hook_port:
        lines += ['[alerts]', 'clear_seconds = 0', 'repeat_minutes = 0', 'digest_minutes = 0', 'quiet_minutes = 0',
                  '', '[[alerts.channels]]', 'type = "webhook"', 'name = "bench"',
                  f'url = "http://127.0.0.1:{hook_port}/hook"', 'severities = ["critical"]', '']
    for s in farm100_sensors():
        lines += ['[[sensors]]', f'topic = "{s["topic"]}"', f'kind = "{s["kind"]}"', f'location = "{s["location"]}"',
                  '']
    return "\n".join(lines)


def farm100_value(model, sensor: dict, t: datetime):
    """Return a sensor's value at a moment, from the simulator's farm model."""
    kind, loc = sensor["kind"], sensor["location"]
    if kind == "lux":
        return model.lux("1" if loc in ("1", "3", "5", "7", "9") else "2", t)
    if kind in ("temperature", "humidity", "nh3", "co2") and not loc.startswith("E"):
        return model.barn(loc, t)[kind]
    if kind in ("temperature", "humidity", "egg_temperature"):
        air, hum, egg = (model.egg_room(t)[k] for k in ("temperature", "humidity", "egg_temperature"))
        return {"temperature": air, "humidity": hum, "egg_temperature": egg}[kind]
    if kind == "ventilation_alarm":
        return "ok"
    if kind == "mains":
        return model.mains(t)
    if kind == "generator":
        return model.generator(t)
    return model.pophole_open(t)


def farm100_messages(start: datetime, end: datetime, every_s: float = 10):
    """Yield (moment, topic, payload) for every sensor every ``every_s`` in [start, end), spread evenly."""
    from sensors.simulator import FarmModel

    model = FarmModel(faulty_house=None)
    sensors = farm100_sensors()
    step = every_s / len(sensors)
    t0 = start.timestamp() // every_s * every_s
    k = 0
    while True:
        cycle, i = divmod(k, len(sensors))
        at = t0 + cycle * every_s + i * step
        k += 1
        if at < start.timestamp():
            continue
        if at >= end.timestamp():
            return
        moment = datetime.fromtimestamp(at, timezone.utc)
        s = sensors[i]
        yield at, s["topic"], json.dumps({"value": farm100_value(model, s, moment),
                                          "ts": moment.isoformat(timespec="milliseconds")})


def replay_history(procs: "Processes", work: Path, days: float) -> None:
    """Store ``days`` of the 100-sensor farm before it goes live (a trace through `ikb-agent replay`)."""
    from sensors.trace import trace_line

    end = datetime.now(timezone.utc)
    trace = work / "history.jsonl"
    with trace.open("w", encoding="utf-8") as out:
        for at, topic, payload in farm100_messages(end - timedelta(days=days), end):
            out.write(trace_line(int(at * 1000), topic, payload) + "\n")
    print(f"storing {days:g} days of history …", flush=True)
    procs.cli("replay", str(trace))
    trace.unlink()


class LivePublisher(threading.Thread):
    """Publish the 100-sensor farm in real time (QoS 1) until stopped."""

    def __init__(self, port: int):
        super().__init__(daemon=True, name="farm100")
        from sensors.mqtt import MqttOptions, MqttPublisher

        self.pub = MqttPublisher(MqttOptions(port=port), client_id="steady-farm")
        self.pub.connect()
        self.stop_event = threading.Event()
        self.sent = 0

    def run(self) -> None:
        start = datetime.now(timezone.utc)
        for at, topic, payload in farm100_messages(start, start + timedelta(days=365)):
            delay = at - time.time()
            if delay > 0 and self.stop_event.wait(delay):
                break
            if self.stop_event.is_set():
                break
            self.pub.publish(topic, payload)
            self.sent += 1
        self.pub.close(10)


# ---------------------------------------------------------------------- processes


class Processes:
    """`ikb-agent run` and `web` for one configuration, with their logs in the work dir."""

    def __init__(self, work: Path, config: Path, web_port: int):
        self.work, self.config, self.web_port = work, config, web_port
        self.run: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None

    def cli(self, *args: str, stdin: str | None = None) -> None:
        subprocess.run([str(EXE), "--config", str(self.config), *args], input=stdin, text=True, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=1200)

    def start_run(self) -> None:
        self.run = subprocess.Popen([str(EXE), "--config", str(self.config), "run"], stdout=subprocess.DEVNULL,
                                    stderr=open(self.work / "run.log", "ab"),
                                    env={**os.environ, **FARM_ENV, "PYTHONUNBUFFERED": "1"})

    def start_web(self) -> None:
        self.web = subprocess.Popen([str(EXE), "--config", str(self.config), "web", "--port", str(self.web_port)],
                                    stdout=subprocess.DEVNULL, stderr=open(self.work / "web.log", "ab"),
                                    env={**os.environ, **FARM_ENV})
        wait_for(lambda: _http_ok(f"http://127.0.0.1:{self.web_port}/login"), 60, "the web page")

    @staticmethod
    def stop(proc: subprocess.Popen | None) -> None:
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def stop_all(self) -> None:
        self.stop(self.web)
        self.stop(self.run)


def _http_ok(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def wait_for(predicate, timeout: float, what: str) -> None:
    """Poll ``predicate`` until true; stop the bench with a message after ``timeout``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise SystemExit(f"bench: timed out waiting for {what}")


class PagePoller(threading.Thread):
    """A logged-in farmer's browser: the dashboard fetched every 10 s."""

    def __init__(self, port: int, user: str):
        super().__init__(daemon=True, name="poller")
        import re

        import requests

        self.base = f"http://127.0.0.1:{port}"
        self.session = requests.Session()
        page = self.session.get(self.base + "/login", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        r = self.session.post(self.base + "/login", data={"name": user, "password": PASSWORD, "csrf_token": token},
                              timeout=30)
        if r.status_code != 200 or "/login" in r.url:
            raise SystemExit(f"bench: could not log in to the web page ({r.status_code})")
        self.stop_event = threading.Event()
        self.times_ms: list[float] = []
        self.errors = 0

    def run(self) -> None:
        while not self.stop_event.is_set():
            t0 = time.perf_counter()
            try:
                ok = self.session.get(self.base + "/", timeout=60).status_code == 200
            except Exception:  # noqa: BLE001 - counted
                ok = False
            if ok:
                self.times_ms.append((time.perf_counter() - t0) * 1000)
            else:
                self.errors += 1
            self.stop_event.wait(POLL_S)


def snapshot_rows(db: Path) -> dict:
    """Return the score snapshot's size: findings rows, window row, status changes so far."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("findings", "score_window", "status_changes")}


def readings_count(db: Path) -> int:
    """Return how many raw readings and minute aggregates the database holds."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute("SELECT (SELECT count(*) FROM readings) + (SELECT count(*) FROM aggregates)").fetchone()[0]


# ---------------------------------------------------------------------- measuring a window


def measure(procs: Processes, db: Path, minutes: float, poller: PagePoller | None,
            broker: subprocess.Popen | None = None, log_commits: bool = False) -> dict:
    """Measure `run` and `web` (and the broker's own disk writes) over ``minutes``; return the figures."""
    run_p, web_p = Proc(procs.run.pid), Proc(procs.web.pid)
    broker_p = Proc(broker.pid) if broker is not None else None
    b0 = broker_p.sample() if broker_p else None
    watch = WalWatch(db, log_commits=log_commits)
    watch.start()
    r0, w0 = run_p.sample(), web_p.sample()
    n0 = readings_count(db)
    snap0 = snapshot_rows(db)
    rss_max = {"run": r0.rss_kb, "web": w0.rss_kb}
    deadline = time.monotonic() + minutes * 60
    while time.monotonic() < deadline:
        time.sleep(min(5, max(0.0, deadline - time.monotonic())))
        for name, p in (("run", run_p), ("web", web_p)):
            s = p.sample()
            if s is None:
                raise SystemExit(f"bench: `{name}` exited (see its log in the work dir)")
            rss_max[name] = max(rss_max[name], s.rss_kb)
    r1, w1 = run_p.sample(), web_p.sample()
    b1 = broker_p.sample() if broker_p else None
    counts = watch.stop()
    n1 = readings_count(db)
    snap1 = snapshot_rows(db)
    wall = r1.at - r0.at
    stored = n1 - n0
    written = (r1.write_bytes - r0.write_bytes) + (w1.write_bytes - w0.write_bytes)
    page_kib = watch.page_size / 1024
    out = {
        "minutes": round(wall / 60, 2),
        "readings_stored": stored,
        "run": {"write_bytes": r1.write_bytes - r0.write_bytes, "cpu_pct": round(100 * (r1.cpu_s - r0.cpu_s) / wall, 2),
                "rss_mb_start": round(r0.rss_kb / 1024, 1), "rss_mb_end": round(r1.rss_kb / 1024, 1),
                "rss_mb_max": round(rss_max["run"] / 1024, 1)},
        "web": {"write_bytes": w1.write_bytes - w0.write_bytes, "cpu_pct": round(100 * (w1.cpu_s - w0.cpu_s) / wall, 2),
                "rss_mb_start": round(w0.rss_kb / 1024, 1), "rss_mb_end": round(w1.rss_kb / 1024, 1),
                "rss_mb_max": round(rss_max["web"] / 1024, 1)},
        # The farm's broker runs on the same Pi and SD card: its autosaves are the farm's writes too.
        "broker": ({"write_bytes": b1.write_bytes - b0.write_bytes,
                    "write_mb_per_day": round((b1.write_bytes - b0.write_bytes) / wall * 86400 / 1e6, 1),
                    "db_bytes": broker_db_size(procs.work)} if b0 and b1 else None),
        "snapshot": {"findings": snap1["findings"], "window": snap1["score_window"],
                     "status_changes": snap1["status_changes"] - snap0["status_changes"]},
        "write_bytes": written,
        "write_mb_per_day": round(written / wall * 86400 / 1e6, 1),
        "write_bytes_per_reading": round(written / stored) if stored else None,
        "wal": {"frames": counts.frames, "commits": counts.commits, "restarts": counts.restarts,
                "missed_restarts": counts.missed_restarts, "checkpoint_pages": counts.checkpoint_pages,
                "frames_per_min": round(counts.frames / wall * 60, 1),
                "commits_per_min": round(counts.commits / wall * 60, 1),
                "commit_sizes": counts.commit_sizes,
                "kib_per_min": round(counts.frames * (page_kib + 24 / 1024) / wall * 60, 1),
                "by_table_per_min": {name: round(n / wall * 60, 1) for name, n in counts.by_table.most_common()}},
    }
    if log_commits:
        t0 = time.time() - (time.monotonic() - r0.at)  # the window's start, wall clock
        out["commits"] = [{"at_s": round(at - t0, 1), "frames": sum(tables.values()), "tables": tables}
                          for at, tables in watch.commits_by_table()]
    if poller is not None:
        ms = sorted(poller.times_ms)
        out["page"] = {"polls": len(ms), "errors": poller.errors,
                       "p50_ms": round(statistics.median(ms), 1) if ms else None,
                       "max_ms": round(ms[-1], 1) if ms else None}
    return out


def broker_db_size(work: Path) -> int | None:
    """Return the size of the private broker's persistence file, or None when it has none yet."""
    try:
        return (work / "broker" / "mosquitto.db").stat().st_size
    except OSError:
        return None


def report(title: str, m: dict) -> None:
    """Print the figures of a measured window."""
    print(f"\n== {title}: {m['minutes']} min measured ==")
    print(f"readings stored: {m['readings_stored']}")
    print(f"bytes written (run + web): {m['write_bytes'] / 1e6:.2f} MB -> {m['write_mb_per_day']} MB a day; "
          f"{m['write_bytes_per_reading']} bytes per stored reading")
    for name in ("run", "web"):
        p = m[name]
        print(f"  {name}: {p['write_bytes'] / 1e6:.2f} MB written, CPU {p['cpu_pct']} % of a core, RSS "
              f"{p['rss_mb_start']} -> {p['rss_mb_end']} MB (max {p['rss_mb_max']})")
    if m.get("broker"):
        b = m["broker"]
        print(f"  broker (mosquitto, same disk): {b['write_bytes'] / 1e6:.2f} MB written -> {b['write_mb_per_day']} MB "
              f"a day; its database {b['db_bytes']} bytes")
    w = m["wal"]
    print(f"WAL: {w['frames_per_min']} frames/min ({w['kib_per_min']} KiB/min), {w['commits_per_min']} commits/min, "
          f"{w['restarts']} restarts (checkpoints, copying back {w.get('checkpoint_pages', 0)} pages)")
    big = [n for n in w.get("commit_sizes", []) if n >= 40]
    if big:  # a fold, or a transient such as the first evaluation after the history: --commits tells which
        print(f"  of which {len(big)} commits of 40 frames or more ({sum(big)} frames; --commits shows their tables)")
    for name, n in list(w["by_table_per_min"].items())[:15]:
        print(f"  {n:8.1f} frames/min  {name}")
    snap = m["snapshot"]
    print(f"score snapshot: {snap['findings']} findings, {snap['window']} window row, {snap['status_changes']} "
          "status changes in the window")
    for c in m.get("commits", []):
        tables = ", ".join(f"{name} {n}" for name, n in sorted(c["tables"].items(), key=lambda kv: -kv[1]))
        print(f"  commit at {c['at_s']:7.1f} s: {c['frames']:4d} frames: {tables}")
    if "page" in m:
        print(f"page: {m['page']['polls']} polls, p50 {m['page']['p50_ms']} ms, max {m['page']['max_ms']} ms, "
              f"{m['page']['errors']} errors")


# ---------------------------------------------------------------------- scenarios


def on_tmpfs(cfg: Path, work: Path) -> None:
    """Put the runtime status file in memory, as on the farm (systemd's RuntimeDirectory, /run is tmpfs).

    ``run`` rewrites it every 10 s; under /tmp on this disk it would count as SD-card writes that a farm
    never has.
    """
    shm = Path("/dev/shm")
    directory = (shm if shm.is_dir() else work) / f"ikb-steady-{work.name}"
    with cfg.open("a", encoding="utf-8") as f:
        f.write(f'\n[health]\nruntime_dir = "{directory}"\n')


def with_ingest(cfg: Path, settings: list[str]) -> None:
    """Add ``[ingest]`` settings (``KEY=VALUE``, e.g. ``batch_size=100``) to compare batching choices."""
    if settings:
        with cfg.open("a", encoding="utf-8") as f:
            f.write("\n[ingest]\n" + "".join(f"{k.strip()} = {v.strip()}\n" for k, v in
                                              (item.split("=", 1) for item in settings)))


def steady(args, work: Path) -> dict:
    """Run a farm live and measure it."""
    from sensors.simulator import farm_toml

    port, web_port = free_port(), free_port()
    broker = private_broker(work / "broker", port)
    db = work / "farm.db"
    cfg = work / "farm.toml"
    if args.farm == "sim":
        cfg.write_text(farm_toml(mqtt_port=port, db_path=str(db), web_port=web_port), encoding="utf-8")
    else:
        cfg.write_text(farm100_toml(port, db, web_port, None), encoding="utf-8")
    on_tmpfs(cfg, work)
    with_ingest(cfg, args.ingest)
    procs = Processes(work, cfg, web_port)
    publisher = sim = None
    try:
        procs.cli("user", "add", "boer", "--role", "farmer", stdin=PASSWORD + "\n")
        if args.farm == "100" and args.history_days:
            replay_history(procs, work, args.history_days)
        procs.start_run()
        procs.start_web()
        if args.farm == "sim":
            sim = subprocess.Popen([str(EXE), "--config", str(cfg), "simulate", "--backfill", str(args.history_days),
                                    "--speed", "0"], stdout=open(work / "simulate.log", "wb"),
                                   stderr=subprocess.STDOUT)
            wait_for(lambda: "live" in (work / "simulate.log").read_text(errors="replace"), 600,
                     "the simulator to publish its history")
        else:
            publisher = LivePublisher(port)
            publisher.start()
        poller = PagePoller(web_port, "boer")
        poller.start()
        print(f"warming up {args.warmup} s …", flush=True)
        time.sleep(args.warmup)
        m = measure(procs, db, args.minutes, poller, broker, log_commits=args.commits)
        poller.stop_event.set()
        m["scenario"] = f"farm {args.farm}"
        m["sensors"] = 16 if args.farm == "sim" else 100
        return m
    finally:
        if publisher is not None:
            publisher.stop_event.set()
        if sim is not None:
            sim.send_signal(signal.SIGINT)
            try:
                sim.wait(10)
            except subprocess.TimeoutExpired:
                sim.kill()
        procs.stop_all()
        broker.terminate()
        broker.wait(30)


def catch_up(args, work: Path) -> dict:
    """Queue ``--hours`` of the 100-sensor farm while the agent is away; time the catch-up and alarms meanwhile."""
    from sensors.mqtt import MqttOptions, MqttPublisher

    port, web_port, hook_port = free_port(), free_port(), free_port()
    broker = private_broker(work / "broker", port)
    receiver = Receiver(hook_port)
    db = work / "farm.db"
    cfg = work / "farm.toml"
    cfg.write_text(farm100_toml(port, db, web_port, hook_port), encoding="utf-8")
    on_tmpfs(cfg, work)
    procs = Processes(work, cfg, web_port)
    live = None
    alarm_house = str(HOUSES_100)
    alarm_topic = f"farm/{alarm_house}/ventilation_alarm/0"
    try:
        procs.cli("user", "add", "boer", "--role", "farmer", stdin=PASSWORD + "\n")
        # The agent's persistent session: run once until it stores a reading, then stop it.
        procs.start_run()
        pub = MqttPublisher(MqttOptions(port=port), client_id="steady-backlog")
        pub.connect()

        def first_stored() -> bool:
            pub.publish(alarm_topic, json.dumps({"value": "ok", "ts": datetime.now(timezone.utc).isoformat()}))
            return db.exists() and readings_count(db) > 0

        # "ok" from an alarm input never heard before is not a change: it waits for the minute's commit.
        wait_for(first_stored, 150, "the agent's first reading")
        procs.stop(procs.run)
        end = datetime.now(timezone.utc)
        start = end - timedelta(hours=args.hours)
        print(f"queueing {args.hours} h of 100 sensors every 10 s …", flush=True)
        t0 = time.perf_counter()
        queued = 0
        last = None
        # Caught up = the last queued reading of a measuring sensor is stored. An alarm input, mains, generator
        # or pop-hole stores a change or one row a minute: its last message, unchanged, is never stored, and
        # the bench waited out --max-minutes whenever the backlog happened to end on one.
        states = {s["topic"] for s in farm100_sensors()
                  if s["kind"] in ("ventilation_alarm", "mains", "generator", "pophole")}
        for _at, topic, payload in farm100_messages(start, end):
            pub.publish(topic, payload)
            queued += 1
            if topic not in states:
                last = (topic, payload)
        pub.close(600)
        queue_s = time.perf_counter() - t0
        print(f"queued {queued} messages in {queue_s:.0f} s", flush=True)
        last_ts = datetime.fromisoformat(json.loads(last[1])["ts"])
        last_topic = last[0]
        # The agent comes back: the farm publishes live again, the backlog drains.
        live = LivePublisher(port)
        live.start()
        t_start, t_wall = time.monotonic(), time.time()
        procs.start_run()
        run_p = Proc(procs.run.pid)
        watch = WalWatch(db)
        watch.start()
        w0 = run_p.sample()
        rss_max = w0.rss_kb if w0 else 0
        alarms = []
        alarm_pub = MqttPublisher(MqttOptions(port=port), client_id="steady-alarms")
        alarm_pub.connect()

        def drained() -> bool:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
                sid = conn.execute("SELECT id FROM sensors WHERE topic = ?", [last_topic]).fetchone()
                if sid is None:
                    return False
                ms = int(last_ts.timestamp() * 1000)
                return conn.execute("SELECT 1 FROM readings WHERE sensor_id = ? AND ts = ?", [sid[0], ms]).fetchone() \
                    is not None

        done_at = None
        deadline = time.monotonic() + args.max_minutes * 60
        while time.monotonic() < deadline:
            if done_at is None and drained():
                done_at = time.monotonic()
                print(f"caught up after {done_at - t_start:.0f} s", flush=True)
            if done_at is not None and time.monotonic() - done_at > args.after_s:
                break
            # One alarm at a time, timed to the webhook; then cleared (the next alarm is a new alert).
            # The first alarm goes out as `run` starts: its time includes the start (imports, sessions).
            phase = "at start" if not alarms else "catching up" if done_at is None else "after"
            sent = time.time()
            alarm_pub.publish(alarm_topic, json.dumps({"value": "alarm", "ts": datetime.now(timezone.utc).isoformat()}))
            got = receiver.collect("raised", {alarm_house}, max(1.0, deadline - time.monotonic())).get(alarm_house)
            alarms.append({"phase": phase, "at_s": round(sent - t_wall, 1),
                           "latency_ms": None if got is None else round((got - sent) * 1000, 1)})
            alarm_pub.publish(alarm_topic, json.dumps({"value": "ok", "ts": datetime.now(timezone.utc).isoformat()}))
            receiver.collect("resolved", {alarm_house}, max(1.0, deadline - time.monotonic()))
            s = run_p.sample()
            if s is not None:
                rss_max = max(rss_max, s.rss_kb)
            time.sleep(args.alarm_every)
        w1 = run_p.sample()
        counts = watch.stop()
        procs.start_web()
        poller = PagePoller(web_port, "boer")
        poller.start()
        time.sleep(2 * POLL_S + 1)
        poller.stop_event.set()
        web_rss = Proc(procs.web.pid).sample().rss_kb
        run_rss = run_p.sample().rss_kb
        stored = readings_count(db)
    finally:
        if live is not None:
            live.stop_event.set()
        procs.stop_all()
        broker.terminate()
        broker.wait(60)
        receiver.server.shutdown()

    def lat(phase: str) -> dict:
        xs = sorted(a["latency_ms"] for a in alarms if a["phase"] == phase and a["latency_ms"] is not None)
        lost = sum(1 for a in alarms if a["phase"] == phase and a["latency_ms"] is None)
        if not xs:
            return {"alarms": 0, "lost": lost}
        return {"alarms": len(xs), "lost": lost, "p50_ms": round(statistics.median(xs), 1), "max_ms": xs[-1]}

    return {
        "scenario": f"catch-up {args.hours} h", "queued": queued, "queue_seconds": round(queue_s, 1),
        "catch_up_seconds": None if done_at is None else round(done_at - t_start, 1),
        "alarm_at_start": lat("at start"), "alarms_while_catching_up": lat("catching up"),
        "alarms_after": lat("after"),
        "run": {"write_bytes": w1.write_bytes - w0.write_bytes, "cpu_s": round(w1.cpu_s - w0.cpu_s, 1),
                "rss_mb_max": round(rss_max / 1024, 1), "rss_mb_end": round(run_rss / 1024, 1)},
        "web_rss_mb": round(web_rss / 1024, 1), "page_p50_ms": round(statistics.median(poller.times_ms), 1)
        if poller.times_ms else None,
        "readings_in_db": stored,
        "wal": {"frames": counts.frames, "commits": counts.commits, "restarts": counts.restarts,
                "by_table": dict(counts.by_table.most_common(12))},
        "alarms": alarms,
    }


def report_catch_up(m: dict) -> None:
    """Print the figures of a catch-up run."""
    print(f"\n== {m['scenario']}: {m['queued']} messages queued in {m['queue_seconds']} s ==")
    print(f"caught up after: {m['catch_up_seconds']} s (target <= 180 s)")
    start = m.get("alarm_at_start") or {}
    if start.get("alarms"):
        print(f"the alarm sent as `run` starts (its start included): {start['max_ms']} ms")
    for phase in ("alarms_while_catching_up", "alarms_after"):
        a = m[phase]
        print(f"{phase.replace('_', ' ')}: {a.get('alarms')} timed, {a.get('lost')} not alerted within the timeout; "
              f"p50 {a.get('p50_ms')} ms, max {a.get('max_ms')} ms")
    r = m["run"]
    print(f"run: {r['write_bytes'] / 1e6:.1f} MB written, {r['cpu_s']} s CPU, RSS max {r['rss_mb_max']} MB, "
          f"end {r['rss_mb_end']} MB; web RSS {m['web_rss_mb']} MB (page p50 {m['page_p50_ms']} ms)")
    print(f"WAL: {m['wal']['frames']} frames in {m['wal']['commits']} commits, {m['wal']['restarts']} restarts")


def main(argv: list[str] | None = None) -> dict:
    """Run one scenario; print its figures (and write them as JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--farm", choices=("sim", "100"), default="sim", help="which farm runs live (default sim)")
    parser.add_argument("--minutes", type=float, default=4, help="minutes measured (default 4)")
    parser.add_argument("--warmup", type=float, default=150, help="seconds before measuring (default 150)")
    parser.add_argument("--history-days", type=float, default=None,
                        help="days stored before going live (default: sim 3, published; 100 sensors 1, replayed)")
    parser.add_argument("--catch-up", action="store_true", help="the catch-up scenario instead")
    parser.add_argument("--hours", type=float, default=24, help="catch-up: hours of outage queued (default 24)")
    parser.add_argument("--alarm-every", type=float, default=3, help="catch-up: seconds between alarms")
    parser.add_argument("--after-s", type=float, default=30, help="catch-up: seconds measured after catching up")
    parser.add_argument("--max-minutes", type=float, default=15, help="catch-up: give up after this many minutes")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--commits", action="store_true", help="also list each commit's frames by table")
    parser.add_argument("--ingest", action="append", default=[], metavar="KEY=VALUE",
                        help="an [ingest] setting for the live farm, e.g. batch_size=100 (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs, database)")
    args = parser.parse_args(argv)
    if args.history_days is None:
        args.history_days = 3 if args.farm == "sim" else 1
    if not EXE.exists():
        raise SystemExit(f"bench: {EXE} not found (run ./dev test first)")
    work = Path(tempfile.mkdtemp(prefix="ikb-steady-"))
    try:
        if args.catch_up:
            m = catch_up(args, work)
            report_catch_up(m)
        else:
            m = steady(args, work)
            report(m["scenario"], m)
        m["machine"] = machine()
        if args.json:
            args.json.write_text(json.dumps(m, indent=1), encoding="utf-8")
        return m
    finally:
        if args.keep:
            print(f"work dir: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def machine() -> dict:
    """Return what the figures were measured on."""
    import platform

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.machine())
    return {"date": datetime.now().date().isoformat(), "cpu": model, "cores": os.cpu_count(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "load": round(os.getloadavg()[0], 1)}


if __name__ == "__main__":
    main()
