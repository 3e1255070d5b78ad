"""The logbook rules' evaluation inputs: every logbook's view and the pop-hole days."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from agent.config import Settings
from agent.logbooks import logbook_view
from agent.store import Store


def _ms(moment: datetime) -> int:
    """Return integer milliseconds since the epoch."""
    return int(moment.timestamp() * 1000)


def pophole_days(store: Store, config: Settings, since: datetime, at: datetime) -> dict[str, frozenset[date]]:
    """Return, per house, the local days on which its pop-hole sensor reported (H3.12.10 journal by sensor)."""
    tz = config.farm_view().tz
    lo, hi = _ms(since - timedelta(days=1)), _ms(at)
    out: dict[str, set[date]] = {}
    for s in store.query("SELECT id, location FROM sensors WHERE kind = 'pophole'"):
        stamps = store.execute(
            "SELECT ts FROM readings WHERE sensor_id = ? AND ts BETWEEN ? AND ?"
            " UNION SELECT minute * 60000 FROM aggregates WHERE sensor_id = ? AND minute * 60000 BETWEEN ? AND ?",
            [s["id"], lo, hi, s["id"], lo, hi]).fetchall()
        days = out.setdefault(s["location"], set())
        days.update(datetime.fromtimestamp(ts / 1000, timezone.utc).astimezone(tz).date() for (ts,) in stamps)
    return {k: frozenset(v) for k, v in out.items()}


def load_logbook_inputs(store: Store, config: Settings, since: datetime, at: datetime) -> dict:
    """Return the evaluation inputs of the logbook rules (an INPUT_LOADERS entry)."""
    # The detected generator tests (A3.6) come with the sensor inputs: from the readings, not from events.
    return {"logbooks": logbook_view(store, at), "pophole_days": pophole_days(store, config, since, at)}
