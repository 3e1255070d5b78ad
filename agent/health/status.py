"""The agent's health in one object: ``ikb-agent status`` prints it, the web's status page shows it.

It combines what the running agent says about itself (its runtime file: broker
connection, progress, watchdog) with what the database holds (last message per
sensor, rejected messages, the alert outbox, the last evaluation, the last
backup) and the file system (database size, free space, where the backups go).
Reading it writes nothing.

``render_status`` (the text of ``ikb-agent status``) is in :mod:`agent.cli.health`.

``healthy`` is false when any problem of level ``error`` is present: the agent
is not running, hangs, has no broker connection, or the last backup failed.
Warnings (a silent sensor, messages waiting to be sent, no recent backup, backups
on the database's own card, little free space) are shown without making it unhealthy.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from agent.alerts import outbox_depth
from agent.backup import last_backup, list_backups, same_device
from agent.config import Settings
from agent.health.runtime import read_runtime, runtime_dir, runtime_file
from agent.ingest import rejection_totals, sensor_status
from agent.store import Store, from_ms, last_evaluated
from rules.kinds import KIND_WORDS
from rules.texts import N_
from sensors.decode import REASONS  # noqa: F401 - the rejection reasons' words, for the page and the CLI

OUTBOX_LATE_S = 15 * 60  # a message waiting longer than this to be sent is worth a warning
DISK_LOW_FRACTION = 0.10
BACKUP_LATE = timedelta(hours=48)

# Problem texts: Dutch msgids (agent/translations), translated where they are shown (the CLI, the page).
TEXTS = {
    "agent_down": N_("De agent (ikb-agent run) draait niet: er worden geen metingen opgeslagen en geen alarmen "
                     "verstuurd."),
    "agent_stale": N_("De agent heeft zijn status al {age} s niet bijgewerkt: hij hangt of is gestopt."),
    "no_progress": N_("De agent maakt geen voortgang ({problem}); de watchdog herstart hem."),
    "broker_down": N_("Geen verbinding met de MQTT-broker {broker}."),
    "backup_failed": N_("De laatste back-up is mislukt: {error}"),
    "backup_none": N_("Er is nog geen back-up gemaakt."),
    "backup_late": N_("De laatste goede back-up is van {at}: ouder dan twee dagen."),
    "backup_same_device": N_("De back-ups staan op dezelfde schijf als de database: zet ze op een USB-stick."),
    "sensor_offline": N_("Sensor {topic} ({kind}, {location}) is stil sinds {since}."),
    "outbox_late": N_("Meldingen wachten op verzending ({n}), de oudste sinds {since}."),
    "disk_low": N_("Nog {free} MB vrij op de schijf van de database."),
}


def problem(level: str, code: str, **values) -> dict:
    """Return one problem: its level, code, values and Dutch text."""
    return {"level": level, "code": code, "values": values, "text": problem_text(code, values)}


def _dutch(text: str, **values) -> str:
    """Return a msgid as it is: Dutch, with its values filled in."""
    return text.format(**values)


def problem_text(code: str, values: dict, gettext: Callable[..., str] = _dutch,
                 moment: Callable[[str], str] = str) -> str:
    """Return a problem in words, in the caller's language: a sensor's kind as a word, moments as ``moment`` writes them.

    ``values`` keep the codes and ISO moments (``status --format json``); only the sentence shows words.
    """
    shown = dict(values)
    if "kind" in shown:
        shown["kind"] = gettext(KIND_WORDS.get(shown["kind"], shown["kind"]))
    for key in ("since", "at"):
        if shown.get(key):
            shown[key] = moment(shown[key])
    return gettext(TEXTS[code], **shown)


def _db_files(path: str) -> dict:
    """Return the sizes of the database and its WAL and the free space beside them."""
    sizes = {suffix: os.path.getsize(path + suffix) for suffix in ("", "-wal") if os.path.exists(path + suffix)}
    disk = shutil.disk_usage(os.path.dirname(os.path.abspath(path)))
    return {"path": os.path.abspath(path), "bytes": sizes.get("", 0), "wal_bytes": sizes.get("-wal", 0),
            "disk_free_bytes": disk.free, "disk_total_bytes": disk.total}


def _backup_part(store: Store, settings: Settings, now: datetime) -> tuple[dict, list[dict]]:
    """Return the backup section and its problems."""
    directory = settings.backup.directory_for(store.path)
    good, failed = last_backup(store)
    copies = list_backups(directory, store.path)
    if copies and (good is None or Path(good.get("file", "")).name < copies[-1].name):
        # A newer copy than the database records: the database was restored from an older one, or
        # another process took it. Every copy with its final name passed its check when it was taken.
        stamp = datetime.strptime(copies[-1].stem.rsplit("-", 1)[-1], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        good = {"file": str(copies[-1]), "at": stamp.isoformat(), "bytes": copies[-1].stat().st_size}
    part = {"enabled": settings.backup.enabled, "directory": str(directory), "at": settings.backup.at,
            "keep": settings.backup.keep, "copies": len(copies), "last": good, "last_error": failed,
            "same_device": same_device(directory, store.path)}
    problems = []
    if not settings.backup.enabled:
        return part, problems
    if failed:
        problems.append(problem("error", "backup_failed", error=failed.get("error", "?")))
    if good is None:
        problems.append(problem("warning", "backup_none"))
    elif now - datetime.fromisoformat(good["at"]) > BACKUP_LATE:
        problems.append(problem("warning", "backup_late", at=good["at"]))
    if part["same_device"]:
        problems.append(problem("warning", "backup_same_device"))
    return part, problems


def collect_status(store: Store, settings: Settings, now: datetime, runtime: dict | None) -> dict:
    """Return the agent's health: ``runtime`` is the running agent's runtime file (None when none runs)."""
    problems: list[dict] = []
    broker = f"{settings.mqtt.host}:{settings.mqtt.port}"
    agent = {"running": runtime is not None, "pid": None, "started_at": None, "updated_s": None}
    watchdog: dict = {"systemd": None, "watchdog_s": None, "progress": None, "problem": None,
                      "last_keep_alive_at": None}
    connected = None
    ingest: dict = {}
    evaluation: dict = {"last_at": last_evaluated(store)}
    if runtime is None:
        problems.append(problem("error", "agent_down"))
    else:
        agent.update(pid=runtime["pid"], started_at=runtime.get("started_at"), updated_s=round(runtime["age_s"], 1))
        watchdog.update(runtime.get("watchdog") or {})
        connected = bool((runtime.get("broker") or {}).get("connected"))
        broker = (runtime.get("broker") or {}).get("address") or broker  # the one the agent actually uses
        ingest = runtime.get("ingest") or {}
        evaluation.update(runtime.get("evaluation") or {})
        if runtime.get("stale"):
            problems.append(problem("error", "agent_stale", age=round(runtime["age_s"])))
        elif watchdog.get("problem"):
            problems.append(problem("error", "no_progress", problem=watchdog["problem"]))
        if not connected:
            problems.append(problem("error", "broker_down", broker=broker))
    sensors = []
    known = {(s.topic, s.field or ""): s for s in sensor_status(store)}
    for c in settings.sensors:  # every configured sensor, also one the agent never registered or heard
        s = known.get((c.topic, c.field or ""))
        sensors.append({"topic": c.topic, "field": c.field, "kind": c.kind, "location": c.location,
                        "last_seen": s.last_seen.isoformat() if s and s.last_seen else None,
                        "last_value": s.last_value if s else None, "interval_s": s.interval_s if s else None,
                        "offline_since": s.offline_since.isoformat() if s and s.offline_since else None})
        if s and s.offline_since:
            problems.append(problem("warning", "sensor_offline", topic=c.topic, kind=c.kind, location=c.location,
                                    since=s.offline_since.isoformat()))
    outbox = outbox_depth(store)
    oldest = outbox.pop("oldest_pending_ms")
    outbox["oldest_pending_at"] = from_ms(oldest).isoformat() if oldest is not None else None
    if oldest is not None and (now - from_ms(oldest)).total_seconds() > OUTBOX_LATE_S:
        problems.append(problem("warning", "outbox_late", n=outbox["pending"], since=outbox["oldest_pending_at"]))
    database = _db_files(store.path)
    if database["disk_free_bytes"] < DISK_LOW_FRACTION * database["disk_total_bytes"]:
        problems.append(problem("warning", "disk_low", free=database["disk_free_bytes"] // 1_000_000))
    backup, backup_problems = _backup_part(store, settings, now)
    problems += backup_problems
    return {
        "at": now.isoformat(),
        "healthy": not any(p["level"] == "error" for p in problems),
        "problems": problems,
        "agent": agent,
        "broker": {"address": broker, "connected": connected},
        "ingest": ingest,
        "sensors": sensors,
        "rejected": rejection_totals(store),
        "outbox": outbox,
        "evaluation": evaluation,
        "database": database,
        "backup": backup,
        "watchdog": watchdog,
    }


def running_agent(settings: Settings, db_path: str, now: datetime) -> dict | None:
    """Return the runtime file of the agent running on ``db_path``, or None when none runs."""
    return read_runtime(runtime_file(runtime_dir(settings.health.runtime_dir), db_path), now)


def agent_status(store: Store, settings: Settings, now: datetime) -> dict:
    """Return the health of the agent that runs (or should run) on ``store``: what `status` and the web show."""
    return collect_status(store, settings, now, running_agent(settings, store.path, now))
