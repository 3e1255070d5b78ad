"""The documents the farm publishes upstream (docs/UPSTREAM.md): status, score, open alerts, chain heads.

Each is JSON with ``version`` (this format's number), the KIP number and ``time``. They are drawn
from what the agent already recorded — the run loop's score snapshot, the alerts table, the logbook
chains, sensor health — and judge nothing themselves. ``essence`` is the part whose change is
worth a message: a document is published when its essence changed, or as a heartbeat.
"""

from __future__ import annotations

import re
from datetime import datetime
from importlib import metadata

from agent.alerts import list_alerts
from agent.config import Settings
from agent.ingest import sensor_status
from agent.logbooks import canonical, chain_head
from agent.signing import ALGORITHM, FarmKey, check_signature, key_fingerprint
from agent.store import Store, latest_score
from rules.logbooks import LOGBOOKS

VERSION = 1
KINDS = ("status", "score", "alerts", "chain")


def topic(settings: Settings, kind: str) -> str:
    """Return the upstream topic of a document: ``ikb/<kip_number>/<kind>``."""
    return f"{settings.upstream.topic_root}/{settings.farm.kip_number}/{kind}"


def ack_topic(settings: Settings) -> str:
    """Return the one topic that comes down from upstream: acknowledgements of alerts."""
    return f"{settings.upstream.topic_root}/{settings.farm.kip_number}/alerts/ack"


def connected_topic(settings: Settings) -> str:
    """Return the bridge's own notification topic (1 connected, 0 not), set in the bridge configuration."""
    return f"{settings.upstream.topic_root}/{settings.farm.kip_number}/connected"


def agent_version() -> str:
    """Return the installed ikb-agent version."""
    try:
        return metadata.version("ikb-agent")
    except metadata.PackageNotFoundError:
        return "unknown"


def _head(settings: Settings, now: datetime) -> dict:
    """Return the fields every document starts with."""
    return {"version": VERSION, "kip_number": settings.farm.kip_number, "time": now.isoformat()}


def status_doc(store: Store, settings: Settings, now: datetime, *, started: datetime,
               fingerprint: str | None) -> dict:
    """Return the farm's status: the agent, its key's fingerprint, houses and sensors (offline ones counted)."""
    sensors = sensor_status(store)
    return {**_head(settings, now), "farm": settings.farm.name, "agent": agent_version(),
            "started": started.isoformat(), "fingerprint": fingerprint, "houses": len(settings.houses),
            "sensors": {"configured": len(sensors), "offline": sum(1 for s in sensors if s.offline_since)}}


def score_doc(store: Store, settings: Settings, now: datetime) -> dict:
    """Return the verdict, the counts per category and the unknown share of the run loop's last score."""
    stored = latest_score(store)
    result = stored.score if stored else None
    if result is None:
        return {**_head(settings, now), "verdict": None, "counts": None, "unknown_share": None, "evaluated_at": None}
    total = sum(result.counts.values())
    return {**_head(settings, now), "verdict": result.verdict, "counts": dict(result.counts),
            "unknown_share": round(result.counts.get("unknown", 0) / total, 3) if total else None,
            "evaluated_at": result.at.isoformat(), "window_days": settings.evaluation.window_days}


def alerts_doc(store: Store, settings: Settings, now: datetime) -> dict:
    """Return the open alerts: kind, severity, where, since when, and whether someone acknowledged them."""
    alerts = [{"id": a.id, "kind": a.kind, "severity": a.severity, "location": a.location, "subject": a.subject,
               "title": a.title, "opened_at": a.opened_at.isoformat(),
               "acknowledged": a.acked_at is not None} for a in list_alerts(store)]
    return {**_head(settings, now), "open": alerts}


def chain_doc(store: Store, settings: Settings, now: datetime, key: FarmKey) -> dict:
    """Return every logbook's chain head (entries, last hash) at ``now``, signed with the farm key."""
    heads = {}
    for kind in LOGBOOKS:
        last, entries = chain_head(store, kind)
        heads[kind] = {"entries": entries, "hash": last}
    doc = {**_head(settings, now), "heads": heads, "key": key.public_info()}
    return {**doc, "signature": key.sign(canonical(doc))}


def essence(kind: str, doc: dict) -> dict:
    """Return the part of a document whose change is news (everything but the times)."""
    skip = {"time", "evaluated_at"} if kind in ("score", "status") else {"time"}
    return {k: v for k, v in doc.items() if k not in skip}


def check_chain_doc(doc) -> str | None:
    """Return None when a chain-heads document is well formed and signed by the key it carries, else why not."""
    if not isinstance(doc, dict):
        return "not a JSON object"
    try:
        heads, key, signature = doc["heads"], doc["key"], doc["signature"]
        if doc.get("version") != VERSION or key.get("algorithm") != ALGORITHM:
            return f"unknown format (version {doc.get('version')!r}, algorithm {key.get('algorithm')!r})"
        if datetime.fromisoformat(doc["time"]).tzinfo is None or not str(doc["kip_number"]).isdigit():
            return "missing or malformed fields"
        for item in heads.values():
            if not (type(item["entries"]) is int and item["entries"] >= 0
                    and re.fullmatch(r"[0-9a-f]{64}", item["hash"])):
                return "missing or malformed fields"
        if key_fingerprint(key["public_key"]) != key.get("fingerprint"):
            return "the fingerprint does not belong to the public key"
        body = {k: v for k, v in doc.items() if k != "signature"}
        problem = check_signature(key["public_key"], signature, canonical(body))
    except (KeyError, TypeError, ValueError, AttributeError):
        return "missing or malformed fields"
    return problem
