"""Sensor health: which configured sensors have gone silent.

Each sensor has an expected interval (``interval`` in its [[sensors]] table, or
learned by the ingestor from the gaps between its messages). A sensor silent
for longer than ``[ingest] offline_after`` times that interval (and at least
``offline_min_s``) gets an open ``events`` row of kind ``sensor_offline``;
the ingestor closes it (sets ``end``) when the sensor is heard again. Rules see
the silence as missing data; alerts can report the event.

Silence is only counted from the moment the agent started: while the agent
itself was down nobody listened, and the broker's queue fills that gap.
A configured sensor never heard at all is offline after ``NEVER_HEARD_S``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from agent.store import (
    Store,
    from_ms,
    offline_candidates,
    open_offline_event,
    rejection_counts,
    sensor_health_rows,
    to_ms,
)

log = logging.getLogger(__name__)

NEVER_HEARD_S = 3600


@dataclass(frozen=True, slots=True)
class SensorStatus:
    """One sensor as the status page shows it."""

    sensor_id: int
    topic: str
    field: str
    kind: str
    location: str
    last_seen: datetime | None
    last_value: float | None
    interval_s: float | None
    offline_since: datetime | None  # start of the open sensor_offline event


def check_health(store: Store, now: datetime, *, sensor_ids: list[int], started: datetime,
                 offline_after: float = 3.0, offline_min_s: float = 120,
                 heard: Mapping[int, int] | None = None) -> list[int]:
    """Open a sensor_offline event for each silent sensor without one; return their ids.

    ``heard``: when each sensor was last heard as the running ingestor knows it (it writes
    ``sensor_health`` only every ten minutes), taken over the stored moment when later.
    """
    now_ms, started_ms = to_ms(now), to_ms(started)
    opened: list[int] = []
    if not sensor_ids:
        return opened
    heard = heard or {}
    with store.transaction(immediate=True) as db:
        rows = offline_candidates(db, sensor_ids)
        for sid, location, kind, topic, created_at, last_seen, interval_s in rows:
            if heard.get(sid) is not None and (last_seen is None or heard[sid] > last_seen):
                last_seen = heard[sid]
            if last_seen is None:
                silent_since, limit_s = max(created_at, started_ms), NEVER_HEARD_S
            elif interval_s:
                silent_since, limit_s = max(last_seen, started_ms), max(offline_min_s, offline_after * interval_s)
            else:
                continue  # interval not known yet: no judgement
            if now_ms - silent_since <= limit_s * 1000:
                continue
            start = last_seen if last_seen is not None else silent_since
            detail = {"topic": topic, "kind": kind, "interval_s": interval_s, "declared_at": now_ms}
            open_offline_event(db, sid, location, start, json.dumps(detail))
            opened.append(sid)
            log.warning("sensor %s (%s, %s) offline: not heard since %s", topic, kind, location,
                        from_ms(start).isoformat() if last_seen is not None else "never")
    return opened


def sensor_status(store: Store, sensor_ids: list[int] | None = None) -> list[SensorStatus]:
    """Return every (or the given) sensor's last reading, interval and open offline event."""
    rows = sensor_health_rows(store)
    wanted = set(sensor_ids) if sensor_ids is not None else None
    return [SensorStatus(r["id"], r["topic"], r["field"], r["kind"], r["location"],
                         from_ms(r["last_seen"]) if r["last_seen"] is not None else None, r["last_value"],
                         r["interval_s"], from_ms(r["offline_since"]) if r["offline_since"] is not None else None)
            for r in rows if wanted is None or r["id"] in wanted]


def rejection_totals(store: Store) -> dict:
    """Return the rejected messages counted by reason since the database began, with the latest moment."""
    rows = rejection_counts(store)
    last = max((r["last_at"] for r in rows if r["last_at"] is not None), default=None)
    return {"total": sum(r["n"] for r in rows), "reasons": {r["reason"]: r["n"] for r in rows},
            "last_at": from_ms(last).isoformat() if last is not None else None}
