"""``ikb-agent restore FILE``: put a checked copy in place of the database, keeping the replaced one aside.

Order, so that a refusal never leaves anything changed:

1. refuse while a process holds the database: the running agent (its runtime file,
   read by the caller) or any process with the file open (``/proc/*/fd``: the web process too) — a
   file replaced under an open SQLite connection is a corrupt database;
2. check the copy (:func:`check_copy`: integrity, schema, chains, files) and refuse a damaged one;
3. copy it beside the database, fsync, and check that copy again (the SD card can fail too);
4. move the current database (and its ``-wal``) aside as ``<db>.replaced-<time>``,
   move the checked copy into place with the old file's owner and mode, fsync the directory.

The schema is not touched: an older copy is migrated by the next start, after the
automatic copy every upgrade takes (:mod:`agent.store.connection`).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from agent.backup.check import CopyCheck, check_copy
from agent.store import fsync_dir
from rules.errors import IkbError
from rules.texts import N_

STAMP = "%Y%m%dT%H%M%SZ"


class RestoreError(IkbError):
    """The restore was refused or failed; the message says why and whether anything changed."""

    messages = {
        "itself": N_("geweigerd: {file} is de database zelf"),
        "agent": N_("geweigerd: ikb-agent run (proces {pid}) gebruikt {db}; stop die eerst (systemctl stop ikb-agent "
                    "ikb-agent-web); er is niets veranderd"),
        "open": N_("geweigerd: {db} is open in proces {pids} (de webpagina of de agent); stop die eerst (systemctl "
                   "stop ikb-agent ikb-agent-web); er is niets veranderd"),
        "live": N_("geweigerd: {file} heeft wijzigingen in {wal} (een draaiende database, geen back-up); maak een "
                   "kopie met `ikb-agent backup`; er is niets veranderd"),
        "damaged": N_("geweigerd: de kopie is beschadigd: {detail}; er is niets veranderd"),
        "copy": N_("kan {file} niet naast {db} kopiëren: {detail}; er is niets veranderd"),
        "staging": N_("de kopie naast de database is beschadigd ({detail}); de schijf kan stuk zijn; er is niets "
                      "veranderd"),
    }


@dataclass(frozen=True)
class RestoreResult:
    """What was restored, from where, and where the replaced database now lies."""

    database: Path
    source: Path
    set_aside: list[Path]
    check: CopyCheck


def holders(db_path: Path) -> list[int]:
    """Return the ids of other processes that have the database (or its WAL) open (Linux /proc)."""
    targets = {str(db_path.resolve()), str(db_path.resolve()) + "-wal"}
    found = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in targets:
                    found.append(int(entry.name))
                    break
        except OSError:  # gone meanwhile, or not ours to look at
            continue
    return sorted(found)


def _refuse_if_in_use(db: Path, agent_pid: int | None) -> None:
    """Raise RestoreError when the agent or another process uses the database."""
    if agent_pid is not None:
        raise RestoreError("", "agent", {"pid": agent_pid, "db": str(db)})
    pids = holders(db)
    if pids:
        raise RestoreError("", "open", {"db": str(db), "pids": ", ".join(map(str, pids))})


def restore_database(source: str | Path, db_path: str | Path, *, now: datetime,
                     agent_pid: int | None = None) -> RestoreResult:
    """Replace the database at ``db_path`` with the checked copy ``source``; keep the replaced file aside.

    ``agent_pid``: the process of a running agent on this database (from its runtime file), if any.
    """
    source, db = Path(source), Path(db_path)
    if db.exists() and source.resolve() == db.resolve():
        raise RestoreError("", "itself", {"file": str(source)})
    _refuse_if_in_use(db, agent_pid)
    wal = Path(f"{source}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        # Copying the main file alone would silently drop what the WAL holds.
        raise RestoreError("", "live", {"file": str(source), "wal": wal.name})
    check = check_copy(source)
    if check.problem:
        raise RestoreError("", "damaged", {"detail": check.problem})
    db.parent.mkdir(parents=True, exist_ok=True)
    staging = db.with_name(f".{db.name}.restoring")
    try:
        shutil.copyfile(source, staging)
        with open(staging, "rb+") as handle:
            os.fsync(handle.fileno())
    except OSError as exc:
        staging.unlink(missing_ok=True)
        raise RestoreError("", "copy", {"file": str(source), "db": str(db), "detail": str(exc)}) from None
    again = check_copy(staging)
    if again.problem:
        staging.unlink(missing_ok=True)
        raise RestoreError("", "staging", {"detail": again.problem})
    owner = db if db.exists() else db.parent
    st = owner.stat()
    stamp = now.strftime(STAMP)
    aside = []
    for suffix in ("", "-wal"):  # the database and its WAL stay a pair under the new name
        current = Path(f"{db}{suffix}")
        if current.exists():
            moved = Path(f"{db}.replaced-{stamp}{suffix}")
            os.rename(current, moved)
            aside.append(moved)
    Path(f"{db}-shm").unlink(missing_ok=True)  # an index of the old WAL; wrong for the restored file
    os.rename(staging, db)
    try:
        os.chown(db, st.st_uid, st.st_gid)
        os.chmod(db, st.st_mode & 0o666 if owner == db else 0o640)
    except OSError:  # not root: the file stays ours, as the old one was
        pass
    fsync_dir(db.parent)
    return RestoreResult(db, source, aside, check)
