"""What the pages show about light and condensation: dark spells, light hours, dew point.

Display estimates for tiles and charts, computed from the stored series:
a reading holds until the next one, but never longer than ``MAX_HOLD_MS``
(a longer gap is "no data", never dark and never light). The scored verdicts
come from the rule evaluators; these only draw the picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

# G3.8.10: at most 0.5 lux during the dark period.
DARK_LUX = 0.5
# G3.8.8: at least 20 lux during the light period; between the two is dusk/dim light.
LIGHT_LUX = 20.0
# G3.8.9: one uninterrupted dark period of at least 8 hours.
MIN_DARK_H = 8.0
# G3.8.7: at most 16 hours of light per day.
MAX_LIGHT_H = 16.0
MAX_HOLD_MS = 15 * 60 * 1000


@dataclass(frozen=True)
class Spell:
    """A stretch of time [start_ms, end_ms)."""

    start: int
    end: int

    @property
    def hours(self) -> float:
        """Return the length in hours."""
        return (self.end - self.start) / 3_600_000


def spells(points: list[tuple[int, float]], inside, until_ms: int | None = None,
           max_hold_ms: int = MAX_HOLD_MS) -> list[Spell]:
    """Return the stretches where ``inside(value)`` holds, each reading holding until the next."""
    out: list[Spell] = []
    start = None
    last_end = None
    for i, (ts, value) in enumerate(points):
        nxt = points[i + 1][0] if i + 1 < len(points) else (until_ms if until_ms is not None else ts)
        end = min(nxt, ts + max_hold_ms)
        if inside(value):
            if start is None or (last_end is not None and ts > last_end):
                if start is not None:
                    out.append(Spell(start, last_end))
                start = ts
            last_end = end
        else:
            if start is not None:
                out.append(Spell(start, last_end))
                start = None
    if start is not None and last_end is not None and last_end > start:
        out.append(Spell(start, last_end))
    return [s for s in out if s.end > s.start]


def dark_spells(points, until_ms=None) -> list[Spell]:
    """Return the dark stretches (≤ 0.5 lux)."""
    return spells(points, lambda v: v <= DARK_LUX, until_ms)


def light_spells(points, until_ms=None) -> list[Spell]:
    """Return the lit stretches (above the dark limit, dusk included)."""
    return spells(points, lambda v: v > DARK_LUX, until_ms)


def dusk_spells(points, until_ms=None) -> list[Spell]:
    """Return the dim stretches between dark and full light (dusk and dawn)."""
    return spells(points, lambda v: DARK_LUX < v < LIGHT_LUX, until_ms)


def lighting_day(now: datetime, tz, start: time = time(12)) -> tuple[datetime, datetime]:
    """Return the lighting day holding last night: from noon (local) before it to noon after, capped at now."""
    # Before noon the night is this morning's; after noon it is still this morning's:
    # either way the lighting day began yesterday at noon.
    local = now.astimezone(tz)
    begin = datetime.combine(local.date() - timedelta(days=1), start, tz)
    end = min(begin + timedelta(days=1), now.astimezone(tz))
    return begin, end
