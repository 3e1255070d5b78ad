"""The nightly backup: an online copy of the database to a directory of its own, checked, rotated.

A scheduled job of ``ikb-agent run`` looks every half hour whether the night's copy
is due (``[backup] at``, farm-local; a night missed while the Pi was off is made up
at the next look) and takes it with SQLite's backup API while ingestion goes on
(:func:`agent.store.snapshot`). Each copy is checked (:func:`check_copy`) before
the oldest copies beyond ``[backup] keep`` are deleted, so a bad night never costs a
good copy. The outcome — the last good copy, or the last failure — is kept in the
``kv`` table for ``ikb-agent status`` and the status page.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from agent.backup.check import check_copy
from agent.config import Settings
from agent.store import SnapshotError, Store, fsync_dir, snapshot
from rules.errors import IkbError
from rules.texts import N_

log = logging.getLogger(__name__)

LAST_KV = "backup.last"  # JSON of the last good copy
ERROR_KV = "backup.error"  # JSON of the last failed attempt, removed by the next good copy
CHECK_EVERY_S = 1800
STAMP = "%Y%m%dT%H%M%SZ"


class BackupError(IkbError):
    """The copy could not be taken or did not pass its check; the message says why."""

    messages = {
        "other_device": N_("back-upmap {directory} staat op het apparaat van de database (zit de USB-stick erin en "
                           "is hij aangekoppeld?)"),
        "copy": N_("back-up naar {directory} mislukt: {detail}"),
        "unsound": N_("back-up {file} is niet in orde en is verwijderd: {detail}"),
        "key": N_("de database is gekopieerd, maar de bedrijfssleutel {key} niet naar {directory}: {detail}"),
    }


@dataclass(frozen=True)
class BackupResult:
    """A copy taken and checked: where, how large, how long it took, what it verified, what rotation removed."""

    path: Path
    bytes: int
    seconds: float
    entries: int
    files: int
    at: datetime
    removed: list[Path] = field(default_factory=list)
    key: bool = False  # the farm key is kept beside the copies (farm.key)

    def to_json(self) -> dict:
        """Return the result as JSON (kept in kv, printed by `ikb-agent backup --format json`)."""
        return {"file": str(self.path), "bytes": self.bytes, "seconds": round(self.seconds, 3),
                "entries": self.entries, "files": self.files, "at": self.at.isoformat(),
                "removed": [str(p) for p in self.removed], "key": self.key}


def backup_pattern(db_path: str) -> re.Pattern:
    """Return the pattern of this database's copies: <stem>-YYYYMMDDTHHMMSSZ.db."""
    return re.compile(re.escape(Path(db_path).stem) + r"-(\d{8}T\d{6}Z)\.db")


def list_backups(directory: Path, db_path: str) -> list[Path]:
    """Return this database's copies in ``directory``, oldest first."""
    pattern = backup_pattern(db_path)
    try:
        names = [p.name for p in directory.iterdir() if p.is_file()]
    except OSError:
        return []
    return [directory / n for n in sorted(n for n in names if pattern.fullmatch(n))]


def rotate(directory: Path, db_path: str, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` copies; return what was deleted."""
    removed = []
    for old in list_backups(directory, db_path)[:-keep]:
        try:
            old.unlink()
            removed.append(old)
        except OSError as exc:
            log.warning("cannot remove the old backup %s: %s", old, exc)
    return removed


def same_device(directory: Path, db_path: str) -> bool | None:
    """Return whether ``directory`` (or, before it exists, its nearest existing parent) lies on the
    database's own device; None when the database's directory is missing."""
    probe = directory.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return probe.stat().st_dev == Path(db_path).resolve().parent.stat().st_dev
    except OSError:
        return None


def keep_key(key_path: Path, directory: Path) -> bool:
    """Keep a copy of the farm key (``farm.key``, mode 0600) in the backup directory; return whether one is there.

    The key signs audit packs and chain heads; it never lives in the database, so a copy of the
    database alone would lose it with the SD card (docs/UPSTREAM.md).
    """
    if not key_path.is_file():
        return False
    data = key_path.read_bytes()
    dest = directory / "farm.key"
    try:
        if dest.exists() and dest.read_bytes() == data:
            return True
        tmp = directory / ".farm.key.partial"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
        fsync_dir(directory)
    except OSError as exc:
        raise BackupError("", "key", {"key": str(key_path), "directory": str(directory), "detail": str(exc)}) from None
    return True


def take_backup(store: Store, directory: Path, keep: int, now: datetime, *,
                require_other_device: bool = False, key_path: Path | None = None) -> BackupResult:
    """Copy the database into ``directory`` while it is in use, check the copy, then rotate; record the outcome.

    ``key_path``: the farm key, copied beside the database copies as ``farm.key`` when it exists.
    """
    started = time.monotonic()
    dest = directory / f"{Path(store.path).stem}-{now.strftime(STAMP)}.db"
    try:
        if require_other_device and same_device(directory, store.path) is not False:
            raise BackupError("", "other_device", {"directory": str(directory)})
        try:
            directory.mkdir(parents=True, exist_ok=True)
            size = snapshot(store.path, dest)
        except (SnapshotError, OSError) as exc:
            raise BackupError("", "copy", {"directory": str(directory), "detail": str(exc)}) from None
        check = check_copy(dest)
        if check.problem:
            dest.unlink(missing_ok=True)  # never let a bad copy push a good one out of the rotation
            raise BackupError("", "unsound", {"file": str(dest), "detail": check.problem})
        key_kept = keep_key(key_path, directory) if key_path is not None else False
    except BackupError as exc:
        store.set_kv(ERROR_KV, json.dumps({"at": now.isoformat(), "error": str(exc), "code": exc.code,
                                           "directory": str(directory)}))
        raise
    result = BackupResult(dest, size, time.monotonic() - started, check.entries, check.files, now,
                          rotate(directory, store.path, keep), key_kept)
    store.set_kvs({LAST_KV: json.dumps(result.to_json()), ERROR_KV: None})
    log.info("backup %s: %.1f MB in %.1f s; %d logbook rows and %d files verified%s", dest, size / 1e6,
             result.seconds, check.entries, check.files,
             f"; removed {len(result.removed)} old" if result.removed else "")
    return result


def last_backup(store: Store) -> tuple[dict | None, dict | None]:
    """Return the last good copy and the last failure since (each as recorded, or None)."""
    def load(key: str) -> dict | None:
        text = store.get_kv(key)
        try:
            return json.loads(text) if text else None
        except ValueError:
            return None

    return load(LAST_KV), load(ERROR_KV)


def slot_before(now: datetime, at: str, tz: ZoneInfo) -> datetime:
    """Return the latest moment at farm-local time ``at`` (HH:MM) not after ``now``."""
    local = now.astimezone(tz)
    hour, minute = (int(x) for x in at.split(":"))
    slot = datetime.combine(local.date(), dtime(hour, minute), tz)
    if slot > local:
        slot = datetime.combine(local.date() - timedelta(days=1), dtime(hour, minute), tz)
    return slot


def backup_due(now: datetime, last_at: datetime | None, at: str, tz: ZoneInfo) -> bool:
    """Return whether the night's copy is due: none taken since the latest ``at``."""
    return last_at is None or last_at < slot_before(now, at, tz)


def run_backup(store: Store, settings: Settings, now: datetime) -> BackupResult | None:
    """Take the night's copy when it is due; return it, or None when not due (or backups are off)."""
    if not settings.backup.enabled:
        return None
    good, _ = last_backup(store)
    last_at = datetime.fromisoformat(good["at"]) if good and good.get("at") else None
    if not backup_due(now, last_at, settings.backup.at, settings.farm_view().tz):
        return None
    b = settings.backup
    return take_backup(store, b.directory_for(store.path), b.keep, now, require_other_device=b.require_other_device,
                       key_path=settings.key_path())


def backup_job(store: Store, settings: Settings) -> tuple[str, Callable[[datetime], object], float, float]:
    """Return (name, function(now), interval, first delay) of the nightly backup job."""
    return "backup", lambda now: run_backup(store, settings, now), CHECK_EVERY_S, 120.0
