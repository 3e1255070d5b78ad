"""Online copies of the database file: SQLite's backup API, fsynced, checked, self-contained.

A copy is taken in one step (``pages=-1``): it reads one consistent snapshot while
the ``run`` process goes on writing into the WAL (a copy made in small steps
restarts every time another connection commits, which the ingestor does several
times a second). The copy is switched to rollback-journal mode so it is one
self-contained file that can be opened read-only without ``-wal``/``-shm``
files appearing beside it (on a USB stick, in a mail to the vendor).
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path


class SnapshotError(Exception):
    """The copy could not be made or is not a sound SQLite database; the message says why."""


def fsync_dir(path: str | Path) -> None:
    """Make a rename or a new file in ``path`` durable (best effort where directories cannot be opened)."""
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _publish(partial: Path, dest: Path) -> None:
    """Give the finished copy its name without ever replacing an existing file."""
    try:
        os.link(partial, dest)  # fails when dest appeared meanwhile: the first copy stays
    except OSError as exc:
        # FAT and exFAT (most USB sticks) have no hard links: rename, checking first.
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP) or dest.exists():
            raise
        os.rename(partial, dest)


def snapshot(source: str | Path, dest: str | Path) -> int:
    """Copy the live database ``source`` into the new file ``dest`` (fsynced); return its size in bytes.

    The copy is written under a temporary name and linked into place, so ``dest`` is never
    a half-written file and an existing ``dest`` is never replaced (SnapshotError).
    """
    dest = Path(dest)
    if dest.exists():
        raise SnapshotError(f"{dest} exists already; not overwriting it")
    partial = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise SnapshotError(f"{source}: cannot open the database ({exc})") from None
    try:
        partial.unlink(missing_ok=True)
        out = sqlite3.connect(str(partial))
        try:
            src.execute("PRAGMA busy_timeout = 30000")
            src.backup(out, pages=-1)
            out.execute("PRAGMA journal_mode = DELETE")
            out.commit()
        finally:
            out.close()
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        _publish(partial, dest)
        fsync_dir(dest.parent)
    except (sqlite3.Error, OSError) as exc:
        raise SnapshotError(f"copying {source} to {dest} failed: {exc}") from None
    finally:
        src.close()
        partial.unlink(missing_ok=True)
        Path(str(partial) + "-journal").unlink(missing_ok=True)
    return dest.stat().st_size


def integrity_problem(path: str | Path) -> str | None:
    """Return what ``PRAGMA integrity_check`` finds wrong with a database file, or None when it is sound."""
    path = Path(path)
    if not path.is_file():
        return f"{path}: no such file"
    with open(path, "rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            return f"{path}: not an SQLite database"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return f"{path}: cannot be opened ({exc})"
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
    except sqlite3.DatabaseError as exc:
        return f"{path}: integrity check failed ({exc})"
    finally:
        conn.close()
    if rows != ["ok"]:
        return f"{path}: integrity check failed: " + "; ".join(rows[:3])
    return None
