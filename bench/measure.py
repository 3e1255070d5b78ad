"""What the steady bench measures: a process's disk writes, CPU and memory; SQLite's WAL frames by table.

- :class:`Proc` reads ``/proc/<pid>/io`` (``write_bytes``: bytes this process caused to be written to
  the storage layer, counted when a page of the page cache is dirtied), ``/proc/<pid>/stat`` (CPU) and
  ``/proc/<pid>/status`` (RSS). File-system journal writes (jbd2) are not counted there: the WAL frame
  count is the second, independent figure.
- :class:`WalWatch` reads the database's ``-wal`` file a few times a second and counts every committed
  frame (a 4 KiB page image) by the table or index its page belongs to (SQLite's ``dbstat``), the
  commits, and the WAL restarts (checkpoints). Frames are what SQLite writes; each restart copies the
  distinct pages of the WAL generation back into the database file.
- :func:`private_broker` starts mosquitto with the shipped ``deploy/mosquitto.conf`` (queue limits,
  inflight window, persistence) on a free port in a private directory.
"""

from __future__ import annotations

import json
import os
import queue
import re
import sqlite3
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcSample:
    """One reading of a process's counters."""

    at: float
    write_bytes: int
    read_bytes: int
    wchar: int
    cpu_s: float
    rss_kb: int


class Proc:
    """A process whose counters are read from /proc."""

    def __init__(self, pid: int):
        self.pid = pid

    def sample(self) -> ProcSample | None:
        """Return the process's counters now, or None when it has gone."""
        try:
            io = dict(line.split(": ") for line in Path(f"/proc/{self.pid}/io").read_text().splitlines())
            stat = Path(f"/proc/{self.pid}/stat").read_text()
            status = Path(f"/proc/{self.pid}/status").read_text()
        except (OSError, ValueError):
            return None
        fields = stat[stat.rindex(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        return ProcSample(time.monotonic(), int(io["write_bytes"]), int(io["read_bytes"]), int(io["wchar"]), cpu,
                          rss)


ATTRIBUTE_EVERY_S = 10  # frames are attributed to tables with the page map read this often
WAL_HEADER = 32
FRAME_HEADER = 24


@dataclass
class WalCounts:
    """Frames, commits and WAL restarts seen, and frames per table."""

    frames: int = 0
    commits: int = 0
    restarts: int = 0
    missed_restarts: int = 0
    checkpoint_pages: int = 0  # distinct pages of the finished WAL generations (copied back at checkpoint)
    by_table: Counter = field(default_factory=Counter)
    commit_sizes: list = field(default_factory=list)


class WalWatch(threading.Thread):
    """Count the committed frames of a WAL file, by the table their page belongs to."""

    def __init__(self, db: Path, every_s: float = 0.2, log_commits: bool = False):
        super().__init__(daemon=True, name="walwatch")
        self.commit_log: list[tuple[float, list[int]]] | None = [] if log_commits else None
        self.db = Path(db)
        self.wal = Path(str(db) + "-wal")
        self.every_s = every_s
        self.counts = WalCounts()
        self.stop_event = threading.Event()
        self.page_size = 4096
        self._salts: tuple[int, int] | None = None
        self._seq: int | None = None
        self._next = 0  # index of the first frame not yet counted in this generation
        self._pages_this_gen: set[int] = set()
        self._pages: dict[int, str] = {}
        self._pages_read_at = 0.0
        self._lock = threading.Lock()
        self._pending: Counter = Counter()  # page numbers not yet attributed
        self._frames_in_tx = 0

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self._poll()
            except OSError:
                pass
            self.stop_event.wait(self.every_s)
        self._poll()
        self._attribute(final=True)

    def stop(self) -> WalCounts:
        """Stop watching; return the counts."""
        self.stop_event.set()
        self.join(30)
        return self.counts

    def _poll(self) -> None:
        try:
            with open(self.wal, "rb") as f:
                head = f.read(WAL_HEADER)
                if len(head) < WAL_HEADER:
                    return
                _magic, _version, page_size, seq, salt1, salt2 = struct.unpack(">IIIIII", head[:24])
                self.page_size = page_size or self.page_size
                salts = (salt1, salt2)
                if salts != self._salts:
                    if self._salts is not None:
                        with self._lock:
                            self.counts.restarts += 1
                            if self._seq is not None and seq > self._seq + 1:
                                self.counts.missed_restarts += seq - self._seq - 1
                            self.counts.checkpoint_pages += len(self._pages_this_gen)
                        self._pages_this_gen = set()
                    self._salts, self._seq, self._next = salts, seq, 0
                    self._frames_in_tx = 0
                frame_size = FRAME_HEADER + self.page_size
                index = self._next
                tx: list[int] = []
                while True:
                    f.seek(WAL_HEADER + index * frame_size)
                    fh = f.read(FRAME_HEADER)
                    if len(fh) < FRAME_HEADER:
                        break
                    pageno, commit, s1, s2 = struct.unpack(">IIII", fh[:16])
                    if (s1, s2) != salts:
                        break
                    tx.append(pageno)
                    index += 1
                    if commit:  # a commit frame: the transaction's frames are final
                        with self._lock:
                            self.counts.frames += len(tx)
                            self.counts.commits += 1
                            self.counts.commit_sizes.append(len(tx))
                            self._pending.update(tx)
                            if self.commit_log is not None:
                                self.commit_log.append((time.time(), list(tx)))
                        self._pages_this_gen.update(tx)
                        self._next = index
                        tx = []
        except FileNotFoundError:
            return
        if time.monotonic() - self._pages_read_at > ATTRIBUTE_EVERY_S:
            self._attribute()

    def _attribute(self, final: bool = False) -> None:
        """Attribute pending frames to tables (dbstat's page map, read again when a page is unknown)."""
        with self._lock:
            pending, self._pending = self._pending, Counter()
        if pending or final:
            self._read_pages()  # afresh: a freed page may belong to another table now
        for page, n in pending.items():
            self.counts.by_table[self._pages.get(page, "(free list / new page)")] += n

    def commits_by_table(self) -> list[tuple[float, dict[str, int]]]:
        """Return each logged commit as (moment, frames by table), pages attributed with the last page map."""
        with self._lock:
            log = list(self.commit_log or [])
        out = []
        for at, tx in log:
            tables: dict[str, int] = {}
            for page in tx:
                name = self._pages.get(page, "(free list / new page)")
                tables[name] = tables.get(name, 0) + 1
            out.append((at, tables))
        return out

    def _read_pages(self) -> None:
        self._pages_read_at = time.monotonic()
        try:
            conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
            try:
                self._pages = {pageno: name for name, pageno in conn.execute("SELECT name, pageno FROM dbstat")}
            finally:
                conn.close()
        except sqlite3.Error:
            pass


def private_broker(workdir: Path, port: int):
    """Start mosquitto with the shipped configuration (queue, inflight, persistence) on a private port."""
    import subprocess

    workdir.mkdir(parents=True, exist_ok=True)
    shipped = (REPO / "deploy" / "mosquitto.conf").read_text(encoding="utf-8")
    lines = []
    for line in shipped.splitlines():
        key = line.split("#", 1)[0].split()
        if key and key[0] in ("listener", "persistence_location", "log_dest", "password_file", "acl_file",
                              "allow_anonymous", "user"):
            continue  # the bench's clients have no accounts: what is measured is the queue and the disk
        lines.append(line)
    lines.append("allow_anonymous true")
    lines += [f"listener {port} 127.0.0.1", f"persistence_location {workdir}/", "log_dest none"]
    if os.geteuid() == 0:
        lines.append("user root")  # as root, mosquitto would drop to the `mosquitto` user and not write here
    conf = workdir / "mosquitto.conf"
    conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import shutil
    import socket

    proc = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {proc.returncode}") from None
            time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("mosquitto did not start listening")


class Receiver:
    """Webhook receiver that notes when each alert message arrived."""

    def __init__(self, port: int):
        self.messages: "queue.Queue[tuple[float, dict]]" = queue.Queue()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.messages.put((time.time(), json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def collect(self, event: str, locations: set[str], timeout: float) -> dict[str, float]:
        """Wait for one `event` message per location; return receipt time by location."""
        got: dict[str, float] = {}
        deadline = time.time() + timeout
        while set(got) != locations and time.time() < deadline:
            try:
                at, doc = self.messages.get(timeout=max(0.0, deadline - time.time()))
            except queue.Empty:
                break
            location = (doc.get("alert") or {}).get("location")
            if doc.get("event") == event and location in locations:
                got.setdefault(location, at)
        return got
