"""Is a copy of the database sound: SQLite's integrity check, a schema this version knows, intact chains.

Used on every nightly copy before older copies are rotated away, and by
``ikb-agent restore`` before anything is replaced. A copy passes only when
``PRAGMA integrity_check`` says ok, its schema is not from a newer ikb-agent,
every logbook's hash chain verifies (an edited entry shows), and every stored
file matches its SHA-256.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent.logbooks import verify_chains
from agent.store import StoreError, integrity_problem, open_store, verify_files


@dataclass(frozen=True)
class CopyCheck:
    """The outcome of checking a copy: the first problem (None when sound) and what was verified."""

    problem: str | None
    entries: int = 0  # logbook rows whose chain links were verified
    files: int = 0  # stored files whose SHA-256 was verified

    def to_json(self) -> dict:
        """Return the check as JSON."""
        return {"ok": self.problem is None, "problem": self.problem, "entries": self.entries, "files": self.files}


def check_copy(path: str | Path) -> CopyCheck:
    """Check a database file (a backup, or one about to be restored); never modifies it."""
    problem = integrity_problem(path)
    if problem:
        return CopyCheck(problem)
    try:
        store = open_store(path, readonly=True)
    except StoreError as exc:
        return CopyCheck(str(exc))
    try:
        if not {"logbook", "files", "readings"} <= store.table_names():
            return CopyCheck(f"{path}: not an ikb-agent database (no logbook, files and readings tables)")
        problem, entries = verify_chains(store)
        if problem:
            return CopyCheck(f"{path}: logbook chain broken: {problem}", entries)
        problem, files = verify_files(store)
        if problem:
            return CopyCheck(f"{path}: {problem}", entries, files)
        return CopyCheck(None, entries, files)
    except Exception as exc:  # noqa: BLE001 - a damaged copy may fail anywhere; it is refused, not a crash
        return CopyCheck(f"{path}: unreadable ({exc.__class__.__name__}: {str(exc)[:200]})")
    finally:
        store.close()
