"""The light schedule as a calendar strip: one cell per lighting day, judged on G3.8.9 and G3.8.10.

The cells show the sensor rules' own light days (``agent.evaluation.house_light_days``:
the days the score's loader derives and caches per configured lux and lamp sensor) and
their verdicts from ``rules.sensor.light.house_verdicts`` — the same code that scores
G3.8.9 and G3.8.10, the 24 h limits included, worst sensor first. The strip therefore says what the rule
page says, per night: the longest uninterrupted dark period, and whether it
was long enough (G3.8.9) and dark enough (G3.8.10); "onbekend" where the data
cannot decide (gaps), "loopt nog" for the lighting day still running.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from agent.config import Settings
from agent.evaluation import house_light_days
from agent.store import Store

HOUR_MS = 3_600_000
NO_DATA = 0.95  # a day this much gap is "geen gegevens" (a reading before it still holds a few minutes into it)


@dataclass(frozen=True)
class Night:
    """One lighting day of a house: its verdicts on G3.8.9 and G3.8.10 and what was measured."""

    day: date  # the date the lighting day starts on (at the configured day start, default 12:00)
    hours: float  # the lighting day's length: 23 or 25 around DST
    dark_h: float | None  # the longest known uninterrupted dark period (shortest over the house's sensors)
    g3_8_9: str | None  # ok | D | unknown | None (nothing to judge yet)
    g3_8_10: str | None
    detail: str  # the rules' own words for a deviation or a gap
    complete: bool
    no_data: bool

    @property
    def status(self) -> str:
        """Return bad | ok | unknown | running (the cell's colour; the word says which rule)."""
        verdicts = (self.g3_8_9, self.g3_8_10)
        if "D" in verdicts:
            return "bad"
        if "unknown" in verdicts:
            return "unknown"
        if self.g3_8_9 == "ok":
            return "ok"
        return "running" if not self.complete else "unknown"


def _dark_hours(days) -> float | None:
    """Return the shortest of the sensors' longest known dark periods, in hours."""
    known = [(d.dark_known[1] - d.dark_known[0]) / HOUR_MS for d in days if d.dark_known]
    return min(known) if known else None


def nights(store: Store, config: Settings, house: str, now: datetime, count: int) -> list[Night] | None:
    """Return the house's last ``count`` lighting days, oldest first; None when it has no lux sensor configured."""
    p = config.params().sensor_rules.light_for(house)
    tz = config.farm_view().tz
    local = now.astimezone(tz)
    current = local.date() if local.time() >= p.day_start else local.date() - timedelta(days=1)
    since = datetime.combine(current - timedelta(days=count - 1), p.day_start, tz)
    found = house_light_days(store, config, house, since, now)
    if found is None:
        return None
    # The sensors G3.8.9 is judged on (lux, or the lamps where daylight reaches the house), and their days.
    by_day: dict[date, list] = {}
    for _label, days in found.days_for("G3.8.9"):
        for d in days:
            by_day.setdefault(d.day, []).append(d)
    g9, g10 = found.verdicts("G3.8.9"), found.verdicts("G3.8.10")
    out = []
    for day in sorted(d for d in by_day if d >= current - timedelta(days=count - 1))[-count:]:
        days = by_day[day]
        v9, v10 = g9.get(day), g10.get(day)
        words = [o.detail for v in (v9, v10) if v is not None and v.status in ("D", "unknown")
                 for o in v.occurrences[:2]]
        out.append(Night(day, (days[0].end - days[0].start) / HOUR_MS, _dark_hours(days),
                         v9.status if v9 else None, v10.status if v10 else None,
                         "; ".join(dict.fromkeys(words)), all(d.complete for d in days),
                         all(d.gap_ms >= NO_DATA * d.elapsed_ms for d in days)))
    return out
