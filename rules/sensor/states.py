"""State sensors (alarm panel, generator, mains, pop-holes) as runs of one state per local day.

State readings are stored on change plus at most one heartbeat a minute, so a
day compresses to a handful of runs ``(start, end, code, last_heard)``: ``code``
is the state (``rules.kinds``) or None where the sensor was not heard, and
``last_heard`` is the moment of the last reading before such a silence.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Sequence

from rules.sensor.timeseries import DayRecord, LocalDay, Sample, segments

Run = tuple[int, int, int | None, int | None]


@dataclass(frozen=True)
class StateDay(DayRecord):
    """One state sensor on one local day (cached per day by the agent)."""

    day: date
    start: int  # from here the sensor was expected (day start, or its registration)
    end: int
    until: int  # data up to here
    runs: tuple[Run, ...]


def state_day(samples: Sequence[Sample], day: LocalDay, hold_ms: int, until: int | None = None,
              known_from: int | None = None) -> StateDay:
    """Return the runs of a state sensor on one day.

    Before ``known_from`` (the sensor's registration) a silence is not held against the
    sensor — nothing was expected yet — but readings it sent (with their own time) count.
    """
    until = day.end if until is None else until
    hi = min(day.end, until)
    runs: list[list] = []
    for s, e, v in segments(samples, day.start, hi, hold_ms) if hi > day.start else ():
        code = None if v is None else int(v)
        if code is None and known_from is not None:
            if e <= known_from:
                continue
            s = max(s, known_from)
        if runs and runs[-1][2] == code and runs[-1][1] == s:
            runs[-1][1] = e
            continue
        last = None
        if code is None:
            i = bisect_left(samples, (s, float("-inf")))
            last = samples[i - 1][0] if i > 0 else None
        runs.append([s, e, code, last])
    start = runs[0][0] if runs else min(max(day.start, known_from or day.start), hi)
    return StateDay(day.day, start, day.end, until, tuple(tuple(r) for r in runs))


def timeline(days: Iterable[StateDay], lo: int, hi: int) -> list[Run]:
    """Return the runs of consecutive days inside ``[lo, hi)``, joined across midnight."""
    out: list[list] = []
    for d in days:
        for s, e, code, last in d.runs:
            s, e = max(s, lo), min(e, hi)
            if e <= s:
                continue
            if out and out[-1][2] == code and out[-1][1] == s:
                out[-1][1] = e
            else:
                out.append([s, e, code, last])
    return [tuple(r) for r in out]


def intervals(runs: Iterable[Run], code: int) -> list[tuple[int, int]]:
    """Return the (start, end) of the runs in one state."""
    return [(s, e) for s, e, c, _l in runs if c == code]


def state_at(runs: Sequence[Run], moment: int) -> int | None:
    """Return the state at a moment (None: unknown)."""
    for s, e, code, _l in runs:
        if s <= moment < e:
            return code
    return None


def overlap(a: Sequence[tuple[int, int]], lo: int, hi: int) -> int:
    """Return how much of ``[lo, hi)`` the intervals cover."""
    return sum(max(0, min(e, hi) - max(s, lo)) for s, e in a)
