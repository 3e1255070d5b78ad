"""Rerun the benches behind issue 15's table and rewrite that table in docs/PERFORMANCE.md.

Runs, one after the other but for the simulated farm (about 15 minutes on the 2-core development machine):

- ``bench/ingest.py`` three times (the ratio to a bare paho subscriber moves with the machine's load;
  the median is reported);
- ``bench/bench_logbook.py --years 3`` (the audit pack of one year of every logbook, and its verify);
- ``bench/steady.py --farm 100`` (bytes written, RSS, CPU, live), and beside it and the catch-up
  ``--farm sim`` (5 minutes after a warm-up of 300 s);
- ``bench/steady.py --catch-up --hours 24`` (a queued day of 100 sensors, alarms timed meanwhile).

Then it prints the table and replaces the part of ``docs/PERFORMANCE.md`` between the markers
``<!-- run_all: begin -->`` and ``<!-- run_all: end -->`` with it, dated and with the machine named.
Every figure comes from this run; the "before" column is what the issue measured (2026-11, same machine).

    .venv/bin/python bench/run_all.py                 # all of it, rewrites docs/PERFORMANCE.md
    .venv/bin/python bench/run_all.py --no-write      # print only
    .venv/bin/python bench/run_all.py --quick         # shorter windows (a look, not for the docs)
    .venv/bin/python bench/run_all.py --long-sim steady-sim-80.json   # and a longer window measured apart

The simulated farm's window here is five minutes soon after `run` starts, so it holds start-up writes and
misses what comes a few times a day (a fold, the day's cached days). ``--long-sim`` shows beside it a longer
window measured separately (``bench/steady.py --farm sim --minutes 80 --warmup 300 --history-days 1 --json
FILE``: too long for this run's quarter of an hour), with its length and the time its file was written.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.steady import machine  # noqa: E402

PY = sys.executable
DOC = REPO / "docs" / "PERFORMANCE.md"
BEGIN, END = "<!-- run_all: begin -->", "<!-- run_all: end -->"


def start(args: list[str], background: bool = True) -> tuple:
    """Start one bench (what it prints goes to a file, never a full pipe); return what ``finish`` needs."""
    print(f"$ {' '.join(args)}{' &' if background else ''}", flush=True)
    log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    proc = subprocess.Popen([PY, *args[1:]] if args[0] == "python" else args, cwd=REPO, stdout=log,
                            stderr=subprocess.STDOUT, text=True)
    return proc, args, time.monotonic(), log


def finish(started: tuple, out: Path | None = None, timeout: float = 1800) -> tuple[dict | None, str]:
    """Wait for a bench; return its JSON figures (when it writes them to ``out``) and what it printed."""
    proc, args, t0, log = started
    try:
        proc.wait(timeout=max(1.0, timeout - (time.monotonic() - t0)))
        note = ""
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        note = "\n(run_all: gave up waiting for it)"
    log.seek(0)
    text = log.read() + note
    log.close()
    print(f"  {args[1] if len(args) > 1 else args[0]}: {time.monotonic() - t0:.0f} s, exit {proc.returncode}",
          flush=True)
    if proc.returncode != 0:
        print(text[-3000:])
        return None, text
    return (json.loads(out.read_text(encoding="utf-8")) if out and out.exists() else None), text


def run(args: list[str], out: Path | None = None, timeout: float = 1800) -> tuple[dict | None, str]:
    """Run one bench; return its JSON figures (when it writes them to ``out``) and what it printed."""
    return finish(start(args, background=False), out, timeout)


def pack_figures(text: str) -> dict:
    """Return the pack and verify times that bench_logbook.py printed."""
    found = {}
    pack = re.search(r"audit pack[^:\n]*:\s*([\d.]+)\s*s[^\n]*?(\d[\d,]*)\s*KiB", text)
    if pack:
        found["pack_s"], found["pack_kib"] = float(pack.group(1)), int(pack.group(2).replace(",", ""))
    verify = re.search(r"verify pack[^:\n]*:\s*([\d.]+)\s*(ms|s)\b", text)
    if verify:
        found["verify_s"] = float(verify.group(1)) / (1000 if verify.group(2) == "ms" else 1)
    return found


def collect(quick: bool, work: Path) -> dict:
    """Run every bench; return their figures by name."""
    got: dict = {}
    ratios = []
    for i in range(1 if quick else 3):
        out = work / f"ingest{i}.json"
        figures, _ = run(["python", "bench/ingest.py", "--messages", "50000" if quick else "100000",
                          "--skip-storage", "--json", str(out)], out)
        if figures:
            ratios.append(figures["ratio"])
            got["ingest"] = figures
    if ratios:
        got["ingest_ratios"] = ratios
    _, text = run(["python", "bench/bench_logbook.py", "--years", "3"])
    got["pack"] = pack_figures(text)
    # A day of history: the cache of its derived days is written during the warm-up, not in the window.
    # The simulated farm (a few messages a minute, under 1 % of a core) runs beside the 100-sensor farm
    # and the catch-up: its figures are bytes and memory, which the others' load does not change, and its
    # longer warm-up keeps the first evaluation after the history out of its window.
    minutes, warmup = ("1", "30") if quick else ("3", "150")
    sim_out = work / "steady-sim.json"
    sim = start(["python", "bench/steady.py", "--farm", "sim", "--minutes", minutes if quick else "5",
                 "--warmup", warmup if quick else "300", "--history-days", "1", "--json", str(sim_out)])
    out = work / "steady-100.json"
    got["steady_100"], _ = run(["python", "bench/steady.py", "--farm", "100", "--minutes", minutes,
                                "--warmup", warmup, "--history-days", "1", "--json", str(out)], out)
    out = work / "catch-up.json"
    got["catch_up"], _ = run(["python", "bench/steady.py", "--catch-up", "--hours", "2" if quick else "24",
                              "--json", str(out)], out)
    got["steady_sim"], _ = finish(sim, sim_out)
    return got


def table(got: dict) -> str:
    """Return issue 15's table, before and now, each row with its command."""
    def fmt(value, pattern: str, missing: str = "not measured (bench failed)") -> str:
        return pattern.format(value) if value is not None else missing

    sim, farm100, catch, ing, pack = (got.get("steady_sim") or {}, got.get("steady_100") or {},
                                      got.get("catch_up") or {}, got.get("ingest_ratios"), got.get("pack") or {})
    alarms = catch.get("alarms_while_catching_up") or {}
    long_sim = got.get("long_sim") or {}
    rows = [
        ("bytes written a day by `run` + `web`, simulated farm (16 sensors, live)",
         "≈ 0.9 GB a day (2.6 MB in 4 min); 1.79 GB a day on main before this work", "≤ 50 MB a day",
         fmt(sim.get("write_mb_per_day"), "{} MB a day in 5 minutes after the start")
         + (f"; {long_sim['write_mb_per_day']} MB a day in {long_sim['minutes']:g} minutes measured apart "
            f"({long_sim['written']})" if long_sim else ""),
         "`bench/steady.py --farm sim --minutes 5 --warmup 300`"
         + ("; apart: `--minutes 80 --warmup 300 --history-days 1`" if long_sim else "")),
        ("bytes written per stored reading, 100 sensors every 10 s", "≈ 45 KB", "≤ 2 KB",
         fmt(farm100.get("write_bytes_per_reading"), "{:,} bytes") + fmt(
             farm100.get("write_mb_per_day"), " ({} MB a day)", ""), "`bench/steady.py --farm 100`"),
        ("ingest as a share of a bare paho subscriber", "47–61 % over four runs", "≥ 70 %",
         fmt(ing, "{}") if not ing else f"{statistics.median(ing):.0%} median of "
         f"{', '.join(f'{r:.0%}' for r in ing)}", "`bench/ingest.py --messages 100000 --skip-storage` ×3"),
        ("audit pack, one year of every logbook (3-year history)", "6.3 s", "≤ 2 s",
         fmt(pack.get("pack_s"), "{:.2f} s") + fmt(pack.get("verify_s"), "; verify {:.2f} s", ""),
         "`bench/bench_logbook.py --years 3`"),
        ("RSS `run` / `web`, 100 sensors, a day of history, live",
         "57–64 MB / ≈ 64 MB", "≤ 80 MB each",
         fmt((farm100.get("run") or {}).get("rss_mb_end"), "{} MB")
         + fmt((farm100.get("web") or {}).get("rss_mb_end"), " / {} MB", " / ?")
         + fmt((catch.get("run") or {}).get("rss_mb_max"), "; after the day's catch-up: run max {} MB", "")
         + fmt(catch.get("web_rss_mb"), ", web {} MB", ""),
         "`bench/steady.py --farm 100`, `--catch-up`"),
        ("catch-up after a 24 h outage, 100 sensors every 10 s", "not measured",
         "≤ 3 min, alarms within 500 ms",
         fmt(catch.get("catch_up_seconds"), "{} s for " + f"{catch.get('queued', 0):,} messages")
         + (f"; {alarms.get('alarms')} alarms while catching up: p50 {alarms.get('p50_ms')} ms, "
            f"max {alarms.get('max_ms')} ms, {alarms.get('lost')} lost" if alarms else "")
         + fmt((catch.get("alarm_at_start") or {}).get("max_ms"), "; the alarm sent as `run` starts: {} ms", ""),
         "`bench/steady.py --catch-up --hours 24`"),
    ]
    m = machine()
    lines = [f"Measured {m['date']} by `bench/run_all.py` on {m['cpu']}, {m['cores']} cores, Python "
             f"{m['python']}, SQLite {m['sqlite']} (load average {m['load']} at the end).", "",
             "| figure | before (issue 15) | target | now | command |", "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines) + "\n"


def rewrite(doc: Path, text: str) -> bool:
    """Replace the marked part of the document; return False when the markers are missing."""
    old = doc.read_text(encoding="utf-8")
    start, end = old.find(BEGIN), old.find(END)
    if start < 0 or end < start:
        return False
    doc.write_text(old[:start + len(BEGIN)] + "\n" + text + old[end:], encoding="utf-8")
    return True


def main() -> None:
    """Run the benches, print the table, rewrite the document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter windows; never written to the docs")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--long-sim", type=Path, metavar="JSON",
                        help="a longer simulated-farm window measured apart (bench/steady.py --json)")
    args = parser.parse_args()
    long_sim = None
    if args.long_sim:
        try:
            long_sim = json.loads(args.long_sim.read_text(encoding="utf-8"))
            long_sim["written"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(args.long_sim.stat().st_mtime))
            float(long_sim["write_mb_per_day"]), float(long_sim["minutes"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SystemExit(f"run_all: --long-sim {args.long_sim}: not a bench/steady.py --json file ({exc})")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ikb-run-all-") as tmp:
        got = collect(args.quick, Path(tmp))
    got["long_sim"] = long_sim
    text = table(got)
    print(f"\n{text}\n(all benches: {(time.monotonic() - t0) / 60:.1f} min)")
    if args.quick or args.no_write:
        return
    if rewrite(DOC, text):
        print(f"rewrote the table in {DOC.relative_to(REPO)}")
    else:
        print(f"{DOC.relative_to(REPO)} has no {BEGIN} … {END} markers; nothing written")


if __name__ == "__main__":
    main()
