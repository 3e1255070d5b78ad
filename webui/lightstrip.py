"""The light schedule as a calendar strip: one cell per night, judged against G3.8.9 and G3.8.10.

A display estimate derived from the lux readings with ``webui/lightview.py``'s
classification (dark ≤ 0.5 lx), because the sensor rules' light-day table is
not on ``main`` yet; the verdicts that count stay the evaluators' (rule pages).
Per lighting day (noon to noon, farm-local, DESIGN §4):

- G3.8.9: the longest uninterrupted dark stretch must last 8 hours;
- G3.8.10: no light (> 0.5 lx) inside the night's dark period, i.e. between
  dark stretches of an hour or more (a light switched on at 02:00);
- a day with less than 80 % of its readings is "onvolledig" unless the data
  there is already shows a deviation (unknown is never ok).

Readings come as 5-minute buckets (15-minute beyond a month) whose maximum
decides darkness, so a bucket holding the switch-off counts as light: the
estimate errs towards too short, never towards too long. A settled night (ended
two hours ago) never changes, so it is kept in a small per-process cache and a
year of nights costs one query once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from agent.downsample import downsample
from agent.readings import to_ms
from agent.store import Store
from webui.lightview import DARK_LUX, MIN_DARK_H, Spell, spells

SETTLE_MS = 2 * 3_600_000
MIN_COVERAGE = 0.8
MAIN_DARK_H = 1.0  # dark stretches of at least an hour make up the night's dark period
FINE_NIGHTS = 31  # up to this many nights at 5-minute resolution, beyond at 15 minutes

_CACHE: dict[tuple, "Night"] = {}
_CACHE_MAX = 20_000
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Night:
    """One lighting day: its longest dark stretch, light inside the dark period, how much data there was."""

    start: datetime  # local noon that begins the lighting day
    dark_h: float | None  # longest uninterrupted dark stretch (G3.8.9)
    interrupted: bool  # light above 0.5 lx between the night's dark stretches (G3.8.10)
    coverage: float  # share of the lighting day with readings
    running: bool = False  # the lighting day has not ended yet

    @property
    def short(self) -> bool:
        """Return whether the night broke G3.8.9 (only judged once the lighting day is over, or already long)."""
        return self.dark_h is not None and self.dark_h < MIN_DARK_H and not self.running and \
            self.coverage >= MIN_COVERAGE

    @property
    def status(self) -> str:
        """Return ok | bad | none | running."""
        if self.interrupted or self.short:
            return "bad"
        if self.dark_h is not None and self.dark_h >= MIN_DARK_H:
            return "ok"
        return "running" if self.running else "none"


def _next_noon(start: datetime) -> datetime:
    """Return the local noon ending a lighting day (23 or 25 hours later across a DST change)."""
    return datetime.combine(start.date() + timedelta(days=1), time(12), start.tzinfo)


def _night(start: datetime, buckets: list[tuple[int, float]], width_ms: int, until_ms: int) -> Night:
    """Judge one lighting day from its (bucket start, max lux) pairs."""
    lo, end = to_ms(start), to_ms(_next_noon(start))
    hi = min(end, until_ms)
    running = hi < end
    points = [(t, v) for t, v in buckets if lo <= t < hi]
    coverage = len(points) * width_ms / (end - lo)
    if not points:
        return Night(start, None, False, 0.0, running=running)
    # G3.8.10: dark is at most 0.5 lx; a bucket whose brightest reading is above that is light.
    dark = [Spell(max(s.start, lo), min(s.end, hi))
            for s in spells(points, lambda v: v <= DARK_LUX, until_ms=hi, max_hold_ms=width_ms)]
    dark = [s for s in dark if s.end > s.start]
    longest = max((s.hours for s in dark), default=0.0)
    main = [s for s in dark if s.hours >= MAIN_DARK_H]
    # Light between two main dark stretches is light during the dark period.
    interrupted = any(b.start > a.end for a, b in zip(main, main[1:]))
    return Night(start, longest, interrupted, min(1.0, coverage), running=running)


def lighting_day_start(moment: datetime, tz) -> datetime:
    """Return the local noon that began the lighting day holding ``moment``."""
    local = moment.astimezone(tz)
    day = local.date() if local.time() >= time(12) else local.date() - timedelta(days=1)
    return datetime.combine(day, time(12), tz)


def nights(store: Store, sensor_id: int, tz, now: datetime, count: int) -> list[Night]:
    """Return the last ``count`` lighting days of a lux sensor, oldest first (the last one may be running)."""
    last = lighting_day_start(now, tz)
    # Local noons: a DST night is 23 or 25 hours from noon to noon, as the farm lives it.
    starts = [datetime.combine(last.date() - timedelta(days=i), time(12), tz) for i in range(count - 1, -1, -1)]
    until_ms = to_ms(now)
    width_ms = (5 if count <= FINE_NIGHTS else 15) * 60_000
    key = (store.path, sensor_id, width_ms)
    with _LOCK:
        known = {s: _CACHE.get(key + (to_ms(s),)) for s in starts}
    missing = [s for s in starts if known[s] is None]
    if missing:
        lo, hi = missing[0], min(_next_noon(missing[-1]), now)
        points = int((hi - lo).total_seconds() * 1000 // width_ms) + 1
        buckets = [(b.start, b.vmax) for b in downsample(store, sensor_id, lo, hi, points)]
        for s in missing:
            night = _night(s, buckets, width_ms, until_ms)
            known[s] = night
            if to_ms(_next_noon(s)) + SETTLE_MS <= until_ms:
                with _LOCK:
                    if len(_CACHE) >= _CACHE_MAX:
                        _CACHE.clear()
                    _CACHE[key + (to_ms(s),)] = night
    return [known[s] for s in starts]
