"""A3.6 drafts: every finished generator test the sensors detected becomes a `checks` draft to confirm."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from agent.config import Settings
from agent.logbooks.entries import Saved, _rows, add_entry, current_entries
from agent.store import Store, finished_episodes
from agent.store import to_ms as _ms

# --------------------------------------------------------------------------- A3.6 drafts from detected tests


def draft_detected_checks(store: Store, config: Settings, now: datetime) -> list[Saved]:
    """Draft a `checks` entry for every finished detected generator test that has none yet.

    The draft waits for the farmer's confirmation (`logbook confirm ID`); a
    detected test never confirmed scores A3.6 B. Idempotent: a test already
    referenced by any checks row (draft, confirmed or withdrawn) is skipped,
    as is one the farmer already registered by hand that day.
    """
    farm = config.farm_view()
    houses = {h.id for h in config.houses}
    referenced = {r.entry.get("event_id") for r in _rows(store, "checks")}
    manual = {(r.entry.get("date"), r.entry.get("house"))
              for r in current_entries(store, "checks", state="confirmed", fields={"item": "generator"})}
    events = finished_episodes(store, "generator_test", _ms(now))
    saved = []
    for ev in events:
        if ev["id"] in referenced:
            continue
        start = datetime.fromtimestamp(ev["start"] / 1000, timezone.utc).astimezone(farm.tz)
        end = datetime.fromtimestamp(ev["end"] / 1000, timezone.utc).astimezone(farm.tz)
        house = ev["location"] if ev["location"] in houses else None
        day = start.date().isoformat()
        if (day, house) in manual or (day, None) in manual:
            continue
        detail = ev["detail"]
        result = detail.get("result") if detail.get("result") in ("ok", "fault") else "ok"
        minutes = round((end - start).total_seconds() / 60)
        entry = {"date": day, "item": "generator", "result": result, "checked_by": "automatisch gedetecteerd",
                 "notes": f"Testloop gedetecteerd {start:%H:%M}–{end:%H:%M} ({minutes} min); bevestig of corrigeer.",
                 "time": f"{start:%H:%M}", "house": house, "source": "detected", "event_id": ev["id"]}
        saved.append(add_entry(store, config, "checks", entry, by="ikb-agent", now=now, state="draft"))
    return saved


# --------------------------------------------------------------------------- scheduled jobs

DRAFT_EVERY_S = 300  # a finished test run is drafted within five minutes


def draft_job(store: Store, config: Settings) -> tuple[str, Callable[[datetime], object], float]:
    """Return (name, function(now), interval) of the job that drafts detected generator tests."""
    return "logbook-drafts", lambda now: draft_detected_checks(store, config, now), DRAFT_EVERY_S
