"""What one commit costs the disk, by the number of pages it writes (issue 15, SD card).

A database in WAL mode next to this repository (the disk `run` would use here) takes commits of 1 to 4
changed pages, each a row in its own table. Before each commit the page cache is written out (``os.sync``),
so each commit's cost is what it dirties: the WAL frames (a frame is a page and 24 bytes, so frames straddle
the page cache's pages) and the WAL index (``-shm``). The figure is ``write_bytes`` of ``/proc/self/io``.

    .venv/bin/python bench/commit_cost.py            # synchronous=FULL, the WAL already full size
    .venv/bin/python bench/commit_cost.py --growing  # a fresh WAL that grows with each commit
    .venv/bin/python bench/commit_cost.py --minute   # a minute whose score changed a finding's text

docs/PERFORMANCE.md ("Fourth round") uses it to tell a cost per commit from a cost per page. ``--minute``
(fifth round) compares the two ways a minute can write a finding whose text changed while its status did
not: the commit of readings (one page, ``synchronous=FULL``) followed by a commit of its own (the finding's
page and the window's, ``synchronous=NORMAL``, the page cache written back in between, as the kernel does
within 30 s), or the two pages riding on the commit of readings (``Ingestor.ride_along``).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_bytes() -> int:
    """Return this process's bytes sent to storage so far."""
    with open("/proc/self/io", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("write_bytes"):
                return int(line.split()[1])
    raise SystemExit("bench: /proc/self/io has no write_bytes")


def database(path: Path, synchronous: str, *, full_wal: bool) -> sqlite3.Connection:
    """Return a connection to a new WAL database of four tables, its WAL already full size when ``full_wal``."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    for t in range(4):
        conn.execute(f"CREATE TABLE t{t}(k INTEGER PRIMARY KEY, v BLOB)")
    if full_wal:  # a full-size WAL, restarted: the next commits overwrite it, as on a farm after hours
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO t3(k, v) VALUES (?, ?)", ((10**7 + i, bytes(3000)) for i in range(1000)))
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(RESTART)")
    return conn


def measure(pages: int, growing: bool, synchronous: str, commits: int = 30) -> list[int]:
    """Return the bytes of each of ``commits`` commits that change ``pages`` pages."""
    with tempfile.TemporaryDirectory(dir=ROOT, prefix=".commit-cost-") as tmp:
        conn = database(Path(tmp) / "c.db", synchronous, full_wal=not growing)
        out, key = [], 0
        for _ in range(commits):
            os.sync()
            time.sleep(0.1)
            before = write_bytes()
            conn.execute("BEGIN")
            for t in range(pages):
                key += 1
                conn.execute(f"INSERT OR REPLACE INTO t{t}(k, v) VALUES (?, ?)", (key if t == 0 else key % 5, b"x" * 60))
            conn.execute("COMMIT")
            out.append(write_bytes() - before)
        conn.close()
    return out


def minute(riding: bool, minutes: int = 30) -> list[int]:
    """Return the bytes of each of ``minutes`` minutes: readings, and a finding and the window (see above)."""
    with tempfile.TemporaryDirectory(dir=ROOT, prefix=".commit-cost-") as tmp:
        readings = database(Path(tmp) / "c.db", "FULL", full_wal=True)
        jobs = sqlite3.connect(Path(tmp) / "c.db", isolation_level=None)
        jobs.execute("PRAGMA synchronous=NORMAL")
        out = []
        for key in range(1, minutes + 1):
            os.sync()
            time.sleep(0.1)
            before = write_bytes()
            readings.execute("BEGIN")
            readings.execute("INSERT INTO t0(k, v) VALUES (?, ?)", (key, b"x" * 60))
            score = readings if riding else jobs
            if not riding:
                readings.execute("COMMIT")
                os.sync()
                score.execute("BEGIN")
            score.execute("INSERT OR REPLACE INTO t1(k, v) VALUES (1, ?)", (b"finding %d" % key,))
            score.execute("INSERT OR REPLACE INTO t2(k, v) VALUES (1, ?)", (b"window %d" % key,))
            score.execute("COMMIT")
            out.append(write_bytes() - before)
        readings.close()
        jobs.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--growing", action="store_true", help="a fresh WAL that grows (default: full size, overwritten)")
    parser.add_argument("--synchronous", default="FULL", choices=("FULL", "NORMAL"))
    parser.add_argument("--minute", action="store_true", help="a minute with a changed finding: own commit or riding")
    args = parser.parse_args()
    if args.minute:
        for riding in (False, True):
            costs = minute(riding)
            way = "riding on the commit of readings" if riding else "a commit of its own"
            print(f"  readings + a finding and the window, {way}: median {statistics.median(costs) / 1024:.0f} KiB a "
                  f"minute (min {min(costs) / 1024:.0f}, max {max(costs) / 1024:.0f}) over {len(costs)} minutes"
                  f" = {statistics.median(costs) * 1440 / 1e6:.1f} MB a day")
        return
    print(f"WAL {'growing' if args.growing else 'full size, overwritten'}, synchronous={args.synchronous}")
    for pages in (1, 2, 3, 4):
        costs = measure(pages, args.growing, args.synchronous)
        print(f"  {pages} page(s) a commit: median {statistics.median(costs) / 1024:.0f} KiB "
              f"(min {min(costs) / 1024:.0f}, max {max(costs) / 1024:.0f}) over {len(costs)} commits")


if __name__ == "__main__":
    main()
