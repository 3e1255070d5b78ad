"""Time-series building blocks shared by the sensor rules: holding samples, days, verdicts.

A sample ``(ts_ms, value)`` holds its value until the next sample, but never
longer than the series' *hold* time: beyond that nobody knows what happened,
and the stretch is a gap (value ``None``). Days are farm-local and may be 23,
24 or 25 hours long; every duration is measured in absolute milliseconds.

Pure: no clock, no I/O. Times are integer milliseconds since the epoch (UTC).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from rules.catalogue import Rule
from rules.findings import Finding, Occurrence
from rules.texts import dutch_ngettext

MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000

Sample = tuple[int, float]
Segment = tuple[int, int, float | None]  # start, end, value (None: no data)


def to_dt(ms: int) -> datetime:
    """Return the aware UTC moment of epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, timezone.utc)


def to_ms(moment: datetime) -> int:
    """Return epoch milliseconds of an aware moment."""
    return int(moment.timestamp() * 1000)


def hm(ms: float) -> str:
    """Return a duration as Dutch hours and minutes: ``7 u 30 min``."""
    minutes = int(round(ms / MINUTE))
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} u {minutes % 60:02d} min"


def segments(samples: Sequence[Sample], lo: int, hi: int, hold_ms: int) -> list[Segment]:
    """Return ``[lo, hi)`` cut into stretches where one sample's value holds, or none does.

    ``samples`` are sorted by time; samples before ``lo`` give the value at
    ``lo`` when they still hold. Consecutive gaps are merged.
    """
    out: list[Segment] = []
    if hi <= lo:
        return out
    first = max(bisect_right(samples, (lo, float("inf"))) - 1, 0)
    window = samples[first:bisect_left(samples, (hi, float("-inf")))]
    nexts = [ts for ts, _v in window[1:]]
    nexts.append(hi)
    cursor = lo
    append = out.append
    # Hot loop (every reading of every day passes here): plain comparisons, no helpers.
    for (ts, value), nxt in zip(window, nexts):
        end = ts + hold_ms
        if nxt < end:
            end = nxt
        if hi < end:
            end = hi
        if end <= cursor:
            continue
        if ts > cursor:
            _append_gap(out, cursor, ts)
            cursor = ts
        append((cursor, end, value))
        cursor = end
    if cursor < hi:
        _append_gap(out, cursor, hi)
    return out


def _append_gap(out: list[Segment], start: int, end: int) -> None:
    """Append a gap, merging it with a gap just before."""
    if out and out[-1][2] is None and out[-1][1] == start:
        out[-1] = (out[-1][0], end, None)
    else:
        out.append((start, end, None))


def align(series: Sequence[Sequence[Segment]], lo: int, hi: int):
    """Yield ``(start, end, [value of each series])`` over ``[lo, hi)``; None where a series has no value."""
    bounds = sorted({b for segs in series for s, e, _v in segs for b in (s, e) if lo <= b <= hi} | {lo, hi})
    idx = [0] * len(series)
    for a, b in zip(bounds, bounds[1:]):
        values = []
        for k, segs in enumerate(series):
            while idx[k] < len(segs) and segs[idx[k]][1] <= a:
                idx[k] += 1
            values.append(segs[idx[k]][2] if idx[k] < len(segs) and segs[idx[k]][0] <= a else None)
        yield a, b, values


@dataclass(frozen=True, slots=True)
class LocalDay:
    """One farm-local day that starts at a configured wall-clock time."""

    day: date
    start: int  # ms
    end: int  # ms

    @property
    def hours(self) -> float:
        """Return the day's length in hours (23, 24 or 25 around DST)."""
        return (self.end - self.start) / HOUR


@lru_cache(maxsize=16384)
def local_day(day: date, start_at: time, tz: ZoneInfo) -> LocalDay:
    """Return the local day named ``day``: from ``start_at`` on that date to the next.

    A start time that does not exist on a spring-forward date (02:30 in
    Europe/Amsterdam) resolves as zoneinfo does (fold=0), one hour later.
    """
    begin = datetime.combine(day, start_at, tz)
    end = datetime.combine(day + timedelta(days=1), start_at, tz)
    return LocalDay(day, to_ms(begin), to_ms(end))


def days_between(lo: int, hi: int, start_at: time, tz: ZoneInfo) -> list[LocalDay]:
    """Return the local days that overlap ``[lo, hi)``, oldest first."""
    first = to_dt(lo).astimezone(tz)
    day = first.date() - timedelta(days=1)
    out = []
    while True:
        d = local_day(day, start_at, tz)
        if d.start >= hi:
            break
        if d.end > lo:
            out.append(d)
        day += timedelta(days=1)
    return out


def _tuples(value):
    """Return JSON lists turned back into (nested) tuples."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


class DayRecord:
    """What one sensor showed on one day; subclasses are frozen dataclasses with these fields:

    ``day``, ``start``, ``end`` (ms), ``until`` (data up to here) and ``gap_ms``.
    The agent caches them per day as JSON.
    """

    @property
    def complete(self) -> bool:
        """Return whether the whole day lies before the moment of evaluation."""
        return self.until >= self.end

    @property
    def elapsed_ms(self) -> int:
        """Return how much of the day has passed."""
        return min(self.end, self.until) - self.start

    @property
    def coverage(self) -> float:
        """Return the share of the elapsed day covered by readings."""
        return 1.0 - self.gap_ms / self.elapsed_ms if self.elapsed_ms > 0 else 0.0

    def to_json(self) -> dict:
        """Return a JSON-ready dict."""
        out = asdict(self)
        out["day"] = self.day.isoformat()
        return out

    @classmethod
    def from_json(cls, data: dict):
        """Rebuild a record from :meth:`to_json` output."""
        values = {f.name: _tuples(data[f.name]) for f in fields(cls)}
        values["day"] = date.fromisoformat(values["day"])
        return cls(**values)


def merge_intervals(intervals: Iterable[tuple[int, int]], join_ms: int = 0) -> list[tuple[int, int]]:
    """Return sorted intervals with overlapping (or ``join_ms``-near) ones merged."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1] + join_ms:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


# --------------------------------------------------------------------------- verdicts over days

# Statuses a day can get from a sensor rule. `None` means "nothing to judge that day".
DAY_ORDER = {"ok": 0, "unknown": 1, "B": 2, "C": 3, "D": 4, "KO": 5}


@dataclass(frozen=True, slots=True)
class DayVerdict:
    """The status of one rule on one day for one sensor, with what was measured."""

    day: date
    status: str | None  # ok | unknown | B | C | D | None
    occurrences: tuple[Occurrence, ...] = ()
    complete: bool = True  # False: the day is still running at the moment of evaluation
    measure: float | None = None  # the day's figure behind an ok (hours of light, minutes of dusk, …)


def combine_sensors(per_sensor: Sequence[Sequence[DayVerdict]]) -> list[DayVerdict]:
    """Return one verdict per day: the worst over the sensors of one location.

    A proven deviation outranks a sensor that saw nothing; a sensor without data
    (unknown) outranks one that saw nothing wrong, because the rule holds for
    every place in the house.
    """
    by_day: dict[date, list[DayVerdict]] = {}
    for verdicts in per_sensor:
        for v in verdicts:
            by_day.setdefault(v.day, []).append(v)
    out = []
    for day in sorted(by_day):
        vs = by_day[day]
        judged = [v for v in vs if v.status is not None]
        complete = all(v.complete for v in vs)
        if not judged:
            out.append(DayVerdict(day, None, (), complete))
            continue
        status = max((v.status for v in judged), key=DAY_ORDER.__getitem__)
        occ = tuple(o for v in judged if v.status == status for o in v.occurrences)
        out.append(DayVerdict(day, status, occ, complete))
    return out


@dataclass(frozen=True, slots=True)
class WindowVerdict:
    """The status of one rule at one location over a window of days."""

    status: str
    occurrences: tuple[Occurrence, ...]
    days_ok: int
    days_judged: int
    days_deviating: int


def window_verdict(days: Sequence[DayVerdict], min_coverage: float, *,
                   order: dict[str, int] = DAY_ORDER) -> WindowVerdict:
    """Return the window's status from its days.

    Any proven deviation (also on the day still running) decides: the worst one,
    with the occurrences of every deviating day. Otherwise the window is ``ok``
    only when at least ``min_coverage`` of its complete, judged days are ok;
    else ``unknown``, with the days that lacked data as occurrences.
    """
    deviating = [d for d in days if d.status in ("B", "C", "D", "KO")]
    complete = [d for d in days if d.complete and d.status in ("ok", "unknown")]
    ok = [d for d in complete if d.status == "ok"]
    if deviating:
        status = max((d.status for d in deviating), key=order.__getitem__)
        occ = tuple(o for d in deviating for o in d.occurrences)
        return WindowVerdict(status, occ, len(ok), len(complete), len(deviating))
    unknown_occ = tuple(o for d in complete if d.status == "unknown" for o in d.occurrences)
    if complete and len(ok) >= min_coverage * len(complete):
        # Days without data stay visible even when the window as a whole is ok.
        return WindowVerdict("ok", unknown_occ, len(ok), len(complete), 0)
    return WindowVerdict("unknown", unknown_occ, len(ok), len(complete), 0)


def days_measured(ok: int, judged: int) -> str:
    """Return '5 van 7 dagen gemeten' (one day: 'dag')."""
    return dutch_ngettext("{ok} van {n} dag gemeten", "{ok} van {n} dagen gemeten", judged, ok=ok)


def days_judged(judged: int) -> str:
    """Return '7 dagen beoordeeld' (one day: 'dag')."""
    return dutch_ngettext("{n} dag beoordeeld", "{n} dagen beoordeeld", judged)


def coverage_reason(what: str, verdict: WindowVerdict, min_coverage: float) -> str:
    """Return the Dutch reason for an ``unknown`` window verdict."""
    if verdict.days_judged == 0:
        return f"Onvoldoende gegevens: geen volledige dag met {what} in de periode."
    need = f"{min_coverage:.0%}"
    return dutch_ngettext("Onvoldoende gegevens: {ok} van {n} dag met volledige {what} (nodig: {need}).",
                          "Onvoldoende gegevens: {ok} van {n} dagen met volledige {what} (nodig: {need}).",
                          verdict.days_judged, ok=verdict.days_ok, what=what, need=need)


def settle(d, cov, measure: float | None = None) -> DayVerdict:
    """Return ok for a complete, covered day without deviation; unknown (with its gaps) when not covered.

    A day still running gives nothing yet: only a deviation it already shows counts.
    """
    if not d.complete:
        return DayVerdict(d.day, None, (), False)
    if d.coverage >= cov.min_day_coverage:
        return DayVerdict(d.day, "ok", (), True, measure)
    return DayVerdict(d.day, "unknown", gap_occurrences(d.gaps), True)


@dataclass(frozen=True, slots=True)
class SensorDays:
    """The per-day results of one sensor (or one egg room) over a window, oldest first."""

    label: str
    days: tuple


def gap_occurrences(gaps: Sequence[tuple[int, int]], limit: int = 3) -> tuple[Occurrence, ...]:
    """Return the longest gaps as occurrences ("geen metingen")."""
    longest = sorted(gaps, key=lambda g: g[0] - g[1])[:limit]
    return tuple(Occurrence(to_dt(s), to_dt(e), f"geen metingen gedurende {hm(e - s)}")
                 for s, e in sorted(longest))


def in_window(day, since: datetime, at: datetime) -> bool:
    """Return whether a day counts for the window: it ends after ``since`` and starts before ``at``."""
    return day.end > to_ms(since) and day.start < to_ms(at)


def day_finding(rule: Rule, location: str | None, per_sensor: Sequence[Sequence[DayVerdict]],
                cov, *, what: str, ok_text: str, basis: str) -> Finding:
    """Return a sensor finding from per-sensor day verdicts: the seed text, the reason, or what was fine."""
    result = window_verdict(combine_sensors(per_sensor), cov.min_window_coverage)
    if result.status == "ok":
        summary = f"Voldoet: {ok_text} ({days_measured(result.days_ok, result.days_judged)})."
    elif result.status == "unknown":
        summary = coverage_reason(what, result, cov.min_window_coverage)
    else:
        summary = rule.deviation_text(result.status) or result.status
    return Finding(rule.id, location, result.status, "sensor", summary, occurrences=result.occurrences,
                   evidence=f"{basis}; {days_judged(result.days_judged)}")
