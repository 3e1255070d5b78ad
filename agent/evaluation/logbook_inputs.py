"""The logbook rules' evaluation inputs: every logbook's view and the days pop-hole sensors reported."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from agent.config import Settings
from agent.logbooks import logbook_view
from agent.store import Store, reading_stamps, sensors_of_kind, to_ms


def pophole_days(store: Store, config: Settings, since: datetime, at: datetime) -> dict[str, frozenset[date]]:
    """Return, per house, the local days on which its pop-hole sensor reported (H3.12.10 journal by sensor)."""
    tz = config.farm_view().tz
    lo, hi = to_ms(since - timedelta(days=1)), to_ms(at)
    out: dict[str, set[date]] = {}
    for s in sensors_of_kind(store, "pophole"):
        days = out.setdefault(s.location, set())
        days.update(datetime.fromtimestamp(ts / 1000, timezone.utc).astimezone(tz).date()
                    for ts in reading_stamps(store, s.id, lo, hi))
    return {k: frozenset(v) for k, v in out.items()}


def load_logbook_inputs(store: Store, config: Settings, since: datetime, at: datetime) -> dict:
    """Return the evaluation inputs of the logbook rules (an INPUT_LOADERS entry).

    The generator tests the sensors detected (A3.6) come with the sensor inputs (``generator_tests``).
    """
    view = logbook_view(store, at)
    return {"logbooks": view, "repairs": view.of("corrective_actions"),
            "pophole_days": pophole_days(store, config, since, at)}
