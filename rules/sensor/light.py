"""G3.8.7–G3.8.11: the light schedule, judged per lighting day from each house's lux (and lamp) sensors.

Definitions (``docs/SENSOR_RULES.md`` explains them with examples):

- A **lighting day** runs from ``day_start`` local time (default 12:00) to the
  same wall-clock time the next day: 24 h, or 23/25 h over a DST change.
  Every duration is absolute time.
- **Dark** is ``dark_max_lux`` (G3.8.10's 0,5 lux) or less, nothing else:
  dimmed light (dusk, dawn, a night light, slow tails) is not dark. G3.8.9's
  dark period is the longest uninterrupted dark run (spells above 0,5 lx
  shorter than ``interrupt_max_seconds`` do not split it).
- The **night** is the dark period as the program gives it: the lamps off or
  at their night level, found with hysteresis (entered at ``dark_enter_lux``
  or less, left at ``dark_exit_lux`` or more). G3.8.10 counts every moment of
  the night above 0,5 lx, however slowly the light rises or falls.
- **Dusk** before a night: the lit stretch ending at the night in which the
  level stays below ``dusk_fraction`` × the reference level (the
  time-weighted median of the hour before the longest allowed ramp). **Dawn**
  is the same after a night. Both are *ramps*, excluded from G3.8.8.
- **Per 24 h**: a lit stretch between two dark periods (dark runs of at least
  ``dark_period_min_minutes``) longer than ``max_light_hours`` is a G3.8.7
  deviation, and longer than 24 h − ``min_dark_hours`` a G3.8.9 one, wherever
  the lighting-day boundary falls (:func:`lit_stretches`).
- **Daylight**: in a house with light openings the hours with the sun up
  (:func:`sun_intervals`) cannot be told apart from lamps on a lux sensor;
  they are unknown for G3.8.7, G3.8.9, G3.8.10 and G3.8.11 (never a deviation
  from daylight). A ``lamp`` sensor (:data:`LAMP_SCALE`) is judged instead for
  G3.8.7, G3.8.9 and G3.8.11.
- **Bounds**: gaps (and the rest of a day still running) may hide anything, so
  each figure has a known lower bound and an upper bound; a deviation is called
  only when even the most favourable reading of the gaps breaks the rule, ``ok``
  only when the least favourable one keeps it and the day is covered.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Sequence

from astral import Observer
from astral.sun import dawn, dusk
from astral.sun import elevation as sun_elevation

from rules.catalogue import ANNEX_HOUSING, Rule
from rules.evidence import Evidence
from rules.findings import Due, Finding, Occurrence
from rules.params import Params
from rules.sensor.timeseries import (
    HOUR,
    MINUTE,
    DayRecord,
    DayVerdict,
    LocalDay,
    Sample,
    combine_sensors,
    day_finding,
    days_between,
    gap_occurrences,
    hm,
    in_window,
    merge_intervals,
    segments,
    settle,
    to_dt,
)
from rules.sensor_params import CoverageParams, LightParams

NIGHT, DAYLIT = "N", "L"  # the night classification (hysteresis)
DARK, LIT = "D", "L"  # the dark classification (≤ dark_max)


@dataclass(frozen=True, slots=True)
class Scale:
    """Where a series is dark and where its night begins and ends, in the series' own unit."""

    dark_max: float  # at or below: dark
    night_enter: float  # at or below: the night begins (hysteresis) …
    night_exit: float  # … at or above: it ends


def lux_scale(p: LightParams) -> Scale:
    """Return the scale of a lux sensor: dark ≤ 0,5 lx, the night between 5 and 10 lx (hysteresis)."""
    return Scale(p.dark_max_lux, p.dark_enter_lux, p.dark_exit_lux)


# A lamp sensor (relay or dimmer output, 0–100 %): dark is every lamp off; any output is light.
LAMP_SCALE = Scale(0.0, 0.0, 1e-6)


def is_dark(value: float, p: LightParams) -> bool:
    """Return whether a lux reading is dark: ``dark_max_lux`` (G3.8.10's 0,5 lux) or less."""
    return value <= p.dark_max_lux


def lux(value: float) -> str:
    """Return a lux figure the Dutch way: ``0,5 lux``."""
    return f"{value:.1f}".replace(".", ",") + " lux"


def context_ms(p: LightParams) -> int:
    """Return how much data around a lighting day its classification looks at."""
    return (p.dusk_max_minutes + p.reference_minutes) * MINUTE + HOUR


def sun_intervals(latitude: float, longitude: float, lo: int, hi: int, elevation: float) -> list[tuple[int, int]]:
    """Return where the sun stands above ``elevation`` degrees in ``[lo, hi)`` at the farm (astral)."""
    observer = Observer(latitude, longitude)
    out: list[tuple[int, int]] = []
    first = datetime.fromtimestamp(lo / 1000, timezone.utc).date() - timedelta(days=1)
    last = datetime.fromtimestamp(hi / 1000, timezone.utc).date() + timedelta(days=1)
    day = first
    while day <= last:
        try:
            up = dawn(observer, day, depression=-elevation, tzinfo=timezone.utc)
            down = dusk(observer, day, depression=-elevation, tzinfo=timezone.utc)
            span = (int(up.timestamp() * 1000), int(down.timestamp() * 1000))
        except ValueError:
            # The sun never crosses that elevation this day (far north): up all day or not at all.
            noon = datetime.combine(day, time(12), timezone.utc)
            if sun_elevation(observer, noon) > elevation:
                span = (int(datetime.combine(day, time(0), timezone.utc).timestamp() * 1000),
                        int(datetime.combine(day + timedelta(days=1), time(0), timezone.utc).timestamp() * 1000))
            else:
                span = None
        if span and span[1] > lo and span[0] < hi:
            out.append((max(span[0], lo), min(span[1], hi)))
        day += timedelta(days=1)
    return merge_intervals(out)


@dataclass(frozen=True)
class LightDay(DayRecord):
    """What one lux (or lamp) sensor showed on one lighting day (cached per day by the agent)."""

    day: date
    start: int
    end: int
    until: int  # data up to here; < end while the day is still running
    light_ms: int  # known above dark_max (dimmed light included)
    dark_ms: int  # known at or below dark_max
    gap_ms: int  # without data within [start, min(end, until)) (daylight is data, only not attributable)
    dark_known: tuple[int, int] | None  # the longest known uninterrupted dark run, clipped to the day
    dark_upper_ms: int  # longest stretch that is dark or unknown (incl. the day's future)
    excess: tuple[tuple[int, int, float, float], ...]  # > dark_max_lux in the night: start, end, max, mean
    excess_ms: int
    low: tuple[tuple[int, int, float, float], ...]  # < min_light_lux in the light period: start, end, min, mean
    low_ms: int
    dusks: tuple[tuple[int, int | None, int], ...]  # night start, dusk length (None: unknown), ramp start
    gaps: tuple[tuple[int, int], ...]  # the longest gaps in the data, clipped to the day
    darks: tuple[tuple[int, int], ...] = ()  # dark periods (≥ dark_period_min_minutes), clipped to the day
    nights: tuple[tuple[int, int], ...] = ()  # the nights (hysteresis), clipped to the day
    ramps: tuple[tuple[int, int], ...] = ()  # dusk and dawn ramps, clipped to the day
    chains: tuple[tuple[int, int], ...] = ()  # where a dark period may be (dark or unknown), for the 24 h rules
    sun: tuple[tuple[int, int], ...] = ()  # daylight not attributable to lamps, clipped to the day


# --------------------------------------------------------------------------- classification


def _mask(segs, sun: Sequence[tuple[int, int]]) -> list:
    """Return the segments with the daylight intervals made unknown."""
    out: list = []
    k = 0
    for s, e, v in segs:
        cursor = s
        while k < len(sun) and sun[k][1] <= cursor:
            k += 1
        j = k
        while cursor < e:
            if j < len(sun) and sun[j][0] < e and sun[j][1] > cursor:
                a, b = max(sun[j][0], cursor), min(sun[j][1], e)
                if a > cursor:
                    out.append((cursor, a, v))
                out.append((a, b, None))
                cursor = b
                j += 1
            else:
                out.append((cursor, e, v))
                cursor = e
    merged: list = []
    for seg in out:
        if merged and merged[-1][2] is None and seg[2] is None and merged[-1][1] == seg[0]:
            merged[-1] = (merged[-1][0], seg[1], None)
        else:
            merged.append(seg)
    return merged


def _classify(segs, scale: Scale) -> list[str | None]:
    """Return night/lit per segment with hysteresis; None for gaps."""
    middle = (scale.night_enter + scale.night_exit) / 2
    out: list[str | None] = []
    state = None
    for _s, _e, v in segs:
        if v is None:
            state = None
        elif state is None:
            # After a gap there is no history: take the side of the hysteresis band's middle.
            state = NIGHT if v <= middle else DAYLIT
        elif state == NIGHT and v >= scale.night_exit:
            state = DAYLIT
        elif state == DAYLIT and v <= scale.night_enter:
            state = NIGHT
        out.append(state)
    return out


def _runs(segs, classes) -> list[list]:
    """Return runs ``[start, end, class, first_seg, last_seg]`` of equal class."""
    runs: list[list] = []
    for i, ((s, e, _v), c) in enumerate(zip(segs, classes)):
        if runs and runs[-1][2] == c and runs[-1][1] == s:
            runs[-1][1] = e
            runs[-1][4] = i
        else:
            runs.append([s, e, c, i, i])
    return runs


def _absorb_blips(runs: list[list], max_ms: int, keep: str, blip: str) -> list[list]:
    """Merge ``blip`` runs shorter than ``max_ms`` between two ``keep`` runs into one ``keep`` run."""
    if max_ms <= 0:
        return runs
    out: list[list] = []
    i = 0
    while i < len(runs):
        run = runs[i]
        if (run[2] == blip and out and out[-1][2] == keep and i + 1 < len(runs)
                and runs[i + 1][2] == keep and run[1] - run[0] < max_ms):
            nxt = runs[i + 1]
            out[-1] = [out[-1][0], nxt[1], keep, out[-1][3], nxt[4]]
            i += 2
            continue
        out.append(list(run))
        i += 1
    return out


def _weighted_median(pairs: list[tuple[float, int]]) -> float:
    """Return the duration-weighted median of (value, weight) pairs."""
    pairs.sort()
    half = sum(w for _v, w in pairs) / 2
    acc = 0
    for v, w in pairs:
        acc += w
        if acc >= half:
            return v
    return pairs[-1][0]


def _reference(segs, classes, lo: int, hi: int) -> float | None:
    """Return the lit level in ``[lo, hi)``, or None when less than half of it is lit data."""
    pairs = []
    for (s, e, v), c in zip(segs, classes):
        if c == DAYLIT and e > lo and s < hi:
            pairs.append((v, min(e, hi) - max(s, lo)))
    if sum(w for _v, w in pairs) * 2 < hi - lo:
        return None
    return _weighted_median(pairs)


def _ramp_before(segs, classes, run: list, t0: int, p: LightParams) -> tuple[set[int], int | None, int]:
    """Return the dusk before a night starting at ``t0``: its segments, length (None: unknown), start."""
    span = p.dusk_max_minutes * MINUTE
    level = _reference(segs, classes, t0 - span - p.reference_minutes * MINUTE, t0 - span)
    ramp: set[int] = set()
    if level is None:
        # No reference: the ramp cannot be measured; spare the whole span from G3.8.8.
        ramp = {i for i in range(run[3], run[4] + 1) if segs[i][1] > t0 - span}
        return ramp, None, t0
    start = t0
    for i in range(run[4], run[3] - 1, -1):
        s, e, v = segs[i]
        if v >= p.dusk_fraction * level:
            break
        ramp.add(i)
        start = max(s, t0 - span)
        if s <= t0 - span:
            break
    return ramp, t0 - start, start


def _ramp_after(segs, classes, run: list, t1: int, p: LightParams) -> set[int]:
    """Return the dawn segments after a night ending at ``t1``."""
    span = p.dusk_max_minutes * MINUTE
    level = _reference(segs, classes, t1 + span, t1 + span + p.reference_minutes * MINUTE)
    ramp: set[int] = set()
    for i in range(run[3], run[4] + 1):
        s, e, v = segs[i]
        if s >= t1 + span or (level is not None and v >= p.dusk_fraction * level):
            break
        ramp.add(i)
    return ramp


def _clip(s: int, e: int, lo: int, hi: int) -> int:
    """Return the length of ``[s, e)`` inside ``[lo, hi)``."""
    return max(0, min(e, hi) - max(s, lo))


def _clipped(intervals, lo: int, hi: int) -> tuple[tuple[int, int], ...]:
    """Return the intervals cut to ``[lo, hi)``, empty ones left out."""
    return tuple((max(s, lo), min(e, hi)) for s, e in intervals if min(e, hi) > max(s, lo))


def _stretches(items: list[tuple[int, int, float]], pick) -> tuple[tuple[int, int, float, float], ...]:
    """Merge touching (start, end, value) pieces into (start, end, extreme by ``pick``, mean)."""
    out: list[list] = []
    for s, e, v in items:
        if out and out[-1][1] == s:
            last = out[-1]
            last[1], last[2], last[3] = e, pick(last[2], v), last[3] + v * (e - s)
        else:
            out.append([s, e, v, v * (e - s)])
    return tuple((s, e, x, total / (e - s)) for s, e, x, total in out)


@dataclass
class _Nights:
    """The night structure of a series: classes, runs, ramp segments, dusks and the nights themselves."""

    classes: list
    runs: list
    ramps: set
    dusks: list
    nights: list


def _nights(segs, p: LightParams, scale: Scale, ds: int, de: int, du: int) -> _Nights:
    """Find the nights (hysteresis), the dusk before each and the dawn after it."""
    classes = _classify(segs, scale)
    runs = _absorb_blips(_runs(segs, classes), p.interrupt_max_seconds * 1000, NIGHT, DAYLIT)
    ramps: set[int] = set()
    dusks = []
    nights = []
    period_min = p.dark_period_min_minutes * MINUTE
    for k, run in enumerate(runs):
        if run[2] != NIGHT or run[1] - run[0] < period_min:
            continue
        nights.append(run)
        before = runs[k - 1] if k > 0 else None
        after = runs[k + 1] if k + 1 < len(runs) else None
        if before is not None and before[2] == DAYLIT:
            ramp, dusk_ms, ramp_start = _ramp_before(segs, classes, before, run[0], p)
            ramps |= ramp
        if ds <= run[0] < de and run[0] < du:
            if before is None or before[2] is None:
                dusks.append((run[0], None, run[0]))  # a gap before: the dusk cannot be seen
            elif before[1] - before[0] >= period_min:
                # G3.8.11 asks a dusk after a light period; a short light in the night is G3.8.9's.
                dusks.append((run[0], dusk_ms, ramp_start))
        if after is not None and after[2] == DAYLIT:
            ramps |= _ramp_after(segs, classes, after, run[1], p)
    return _Nights(classes, runs, ramps, dusks, nights)


def _low_light(segs, nights: _Nights, p: LightParams, ds: int, du: int) -> list[tuple[int, int, float]]:
    """Return G3.8.8's pieces: below ``min_light_lux`` in the light period, dusk and dawn ramps excluded."""
    out = []
    for run in nights.runs:
        if run[2] != DAYLIT or not _clip(run[0], run[1], ds, du):
            continue
        for i in range(run[3], run[4] + 1):
            s, e, v = segs[i]
            if i not in nights.ramps and v < p.min_light_lux and _clip(s, e, ds, du):
                out.append((max(s, ds), min(e, du), v))
    return out


def _chains(druns: list[list], max_blip_ms: int) -> list[tuple[int, int]]:
    """Return the stretches that are dark or unknown, short lit blips between them absorbed."""
    out: list[list[int]] = []
    pending_blip = None
    for s, e, c, _a, _b in druns:
        if c in (DARK, None):
            if out and (out[-1][1] == s or (pending_blip is not None and out[-1][1] == pending_blip[0]
                                            and pending_blip[1] == s)):
                out[-1][1] = e
            else:
                out.append([s, e])
            pending_blip = None
        else:
            pending_blip = (s, e) if e - s < max_blip_ms else None
    return [(s, e) for s, e in out]


def light_day(samples: Sequence[Sample], day: LocalDay, hold_ms: int, p: LightParams,
              until: int | None = None, *, scale: Scale | None = None,
              sun: Sequence[tuple[int, int]] = ()) -> LightDay:
    """Return what a lux (or lamp) series shows on one lighting day (data after ``until`` ignored).

    ``sun``: where daylight may reach a house with light openings; unknown there, except for
    G3.8.8 (20 lux at least: daylight can only help).
    """
    scale = scale or lux_scale(p)
    ctx = context_ms(p)
    horizon = day.end + ctx
    until = day.end + ctx if until is None else until
    hi = min(horizon, until)
    raw = segments(samples, day.start - ctx, hi, hold_ms)
    if hi < horizon:
        raw.append((hi, horizon, None))  # the future: unknown
    segs = _mask(raw, sun) if sun else raw
    ds, de, du = day.start, day.end, min(day.end, until)
    interrupt_ms = p.interrupt_max_seconds * 1000
    period_min = p.dark_period_min_minutes * MINUTE

    nights = _nights(segs, p, scale, ds, de, du)
    excess_items: list[tuple[int, int, float]] = []
    for run in nights.nights:
        # The dawn has begun once the light rises past the night threshold for good (the hysteresis
        # only leaves the night higher up, so that flicker does not split it).
        last = run[4]
        while last >= run[3] and segs[last][2] is not None and segs[last][2] > scale.night_enter:
            last -= 1
        for i in range(run[3], last + 1):
            s, e, v = segs[i]
            # G3.8.10: at most dark_max_lux during the dark period, however slowly the light changes.
            if v is not None and v > scale.dark_max and _clip(s, e, ds, du):
                excess_items.append((max(s, ds), min(e, du), v))
    # G3.8.8 sees the light as the hens do: daylight counts toward the 20 lux.
    low_items = _low_light(raw, _nights(raw, p, scale, ds, de, du) if sun else nights, p, ds, du)

    flags = [None if v is None else (DARK if v <= scale.dark_max else LIT) for _s, _e, v in segs]
    light_ms = dark_ms = 0
    for (s, e, _v), f in zip(segs, flags):
        length = _clip(s, e, ds, du)
        if f == DARK:
            dark_ms += length
        elif f == LIT:
            light_ms += length
    # Coverage is the data's: daylight is not missing data, it is data that cannot be attributed
    # (unknown in the bounds of G3.8.7, G3.8.9 and G3.8.11 instead).
    gaps, gap_ms = [], 0
    for k, (s, e, v) in enumerate(raw):
        if v is None and _clip(s, e, ds, du):
            gap_ms += _clip(s, e, ds, du)
            # Shown from the last reading before the gap, as the farmer would count it.
            last = raw[k - 1][0] if k > 0 else s
            gaps.append((max(last, ds), min(e, du)))

    # G3.8.9: one uninterrupted dark period. Lower bound: the longest known dark run;
    # upper bound: the longest chain of dark and unknown (gaps, daylight, the future).
    druns = _absorb_blips(_runs(segs, flags), interrupt_ms, DARK, LIT)
    dark_known = None
    darks = []
    upper = chain = 0
    for run in druns:
        length = _clip(run[0], run[1], ds, de)
        if run[2] == DARK and length:
            s, e = max(run[0], ds), min(run[1], de)
            if dark_known is None or e - s > dark_known[1] - dark_known[0]:
                dark_known = (s, e)
            if run[1] - run[0] >= period_min:
                darks.append((s, e))
        if run[2] in (DARK, None):
            chain += length
            upper = max(upper, chain)
        else:
            chain = 0
    # Where a dark period may lie, kept when long enough or touching the day's edges (to join the
    # neighbouring days' for the 24 h rules).
    chains = [(max(s, ds), min(e, de)) for s, e in _chains(druns, interrupt_ms) if min(e, de) > max(s, ds)
              and (e - s >= period_min or s <= ds or e >= de)]

    excess = _stretches(excess_items, max)
    low = _stretches(low_items, min)
    ramp_spans = merge_intervals((segs[i][0], segs[i][1]) for i in nights.ramps)
    return LightDay(
        day=day.day, start=ds, end=de, until=until, light_ms=light_ms, dark_ms=dark_ms, gap_ms=gap_ms,
        dark_known=dark_known, dark_upper_ms=upper,
        excess=excess[:20], excess_ms=sum(x[1] - x[0] for x in excess),
        low=low[:20], low_ms=sum(x[1] - x[0] for x in low),
        dusks=tuple(nights.dusks), gaps=tuple(sorted(sorted(gaps, key=lambda g: g[0] - g[1])[:5])),
        darks=tuple(darks), nights=_clipped(((r[0], r[1]) for r in nights.nights), ds, de),
        ramps=_clipped(ramp_spans, ds, de), chains=tuple(chains), sun=_clipped(sun, ds, du),
    )


def light_days(samples: Sequence[Sample], lo: int, hi: int, hold_ms: int, p: LightParams, tz, *,
               scale: Scale | None = None, sun: Sequence[tuple[int, int]] = ()) -> list[LightDay]:
    """Return the lighting days overlapping ``[lo, hi)``; the last one sees data up to ``hi`` only."""
    return [light_day(samples, d, hold_ms, p, until=hi if d.end + context_ms(p) > hi else None, scale=scale,
                      sun=sun)
            for d in days_between(lo, hi, p.day_start, tz)]


# --------------------------------------------------------------------------- the 24 h rules


def lit_stretches(days: Sequence[LightDay], p: LightParams) -> list[tuple[int, int]]:
    """Return the proven lit stretches: between two places where a dark period may lie, oldest first.

    Gaps and daylight count as possibly dark, so a stretch is at least as long as shown; at the
    ends of the days given, the stretch may be longer still (a lower bound).
    """
    if not days:
        return []
    ordered = sorted(days, key=lambda x: x.start)
    period_min = p.dark_period_min_minutes * MINUTE
    joined: list[list[int]] = []
    for d in ordered:
        for s, e in d.chains:
            if joined and joined[-1][1] == s:
                joined[-1][1] = e  # a chain crossing the boundary between two lighting days
            else:
                joined.append([s, e])
    # A day missing from the sequence is unknown: it separates too.
    holes = [[a.end, b.start] for a, b in zip(ordered, ordered[1:]) if b.start > a.end]
    seps = sorted([iv for iv in joined if iv[1] - iv[0] >= period_min] + holes)
    out = []
    cursor = ordered[0].start
    for s, e in seps:
        if s > cursor:
            out.append((cursor, s))
        cursor = max(cursor, e)
    end = min(ordered[-1].end, ordered[-1].until)
    if end > cursor:
        out.append((cursor, end))
    return out


def _long_stretches(days: Sequence[LightDay], p: LightParams, limit_ms: float) -> list[tuple[int, int]]:
    """Return the lit stretches over the limit that cross a lighting-day boundary.

    A stretch inside one lighting day is already in that day's own figures; one that crosses the
    boundary can escape them (a program moved by hours: 20 h of light, 16 h in each lighting day).
    """
    ordered = sorted(days, key=lambda x: x.start)
    starts = [d.start for d in ordered]
    # Crossing: a lighting day begins inside the stretch.
    return [(s, e) for s, e in lit_stretches(ordered, p)
            if e - s > limit_ms and bisect_right(starts, s) < len(starts) and starts[bisect_right(starts, s)] < e]


# --------------------------------------------------------------------------- verdicts per day


def _sun_occurrences(d: LightDay) -> tuple[Occurrence, ...]:
    """Return the daylight of a day as occurrences: hours a lux sensor cannot attribute to lamps."""
    return tuple(Occurrence(to_dt(s), to_dt(e), f"daglicht (zon op) gedurende {hm(e - s)}: licht niet aan de "
                                                "lampen toe te schrijven")
                 for s, e in d.sun if e - s >= MINUTE)


def _unknown(d: LightDay) -> DayVerdict:
    """Return an unknown day with its gaps (and its daylight) as occurrences."""
    return DayVerdict(d.day, "unknown", gap_occurrences(d.gaps) + _sun_occurrences(d), d.complete)


def _open(d: LightDay) -> DayVerdict:
    """Return unknown for a complete day the data cannot decide; nothing yet for a running one."""
    return _unknown(d) if d.complete else DayVerdict(d.day, None, (), False)


def _settle(d: LightDay, cov: CoverageParams, measure: float | None = None) -> DayVerdict:
    """Return ok for a complete, covered day; unknown with its gaps and daylight when not covered."""
    v = settle(d, cov, measure)
    return _unknown(d) if v.status == "unknown" else v


def _nothing(d: LightDay, cov: CoverageParams) -> DayVerdict:
    """Return "nothing to judge" for a covered day, unknown for one without enough data."""
    if d.complete and d.coverage < cov.min_day_coverage:
        return _unknown(d)
    return DayVerdict(d.day, None, (), d.complete)


def verdict_g3_8_7(d: LightDay, p: LightParams, cov: CoverageParams) -> DayVerdict:
    """G3.8.7: total light (everything above dark, dimmed light included) at most ``max_light_hours`` a day.

    On the 25-hour fall-back day the repeated hour belongs to no program: a light
    program fixed to the sun or to UTC shows one extra hour of light in that local
    day without giving the hens more than 16 h in any 24. The limit grows by that hour.
    """
    limit = p.max_light_hours * HOUR + max(0, (d.end - d.start) - 24 * HOUR)
    unknown_ms = (d.end - d.start) - d.light_ms - d.dark_ms
    if d.light_ms > limit:
        return DayVerdict(d.day, "D", (Occurrence(to_dt(d.start), to_dt(d.end),
                          f"lichtperiode {hm(d.light_ms)} (max. {hm(limit)})"),), d.complete)
    if d.light_ms + unknown_ms > limit:
        return _open(d)
    return _settle(d, cov, d.light_ms / HOUR)


def _stretch_verdict(d: LightDay, cov: CoverageParams, stretches, total_ms: int, max_minutes: int,
                     extreme: str, limit: str, present: bool) -> DayVerdict:
    """Return D when the stretches beyond a lux limit last longer than tolerated that day."""
    if total_ms > max_minutes * MINUTE:
        occ = tuple(Occurrence(to_dt(s), to_dt(e), f"gemiddeld {lux(mean)}, {extreme} {lux(x)} "
                                                   f"({limit}) gedurende {hm(e - s)}")
                    for s, e, x, mean in stretches if e - s >= MINUTE)
        return DayVerdict(d.day, "D", occ[:10], d.complete)
    if not present:
        return _nothing(d, cov)
    return _settle(d, cov, total_ms / MINUTE)


def verdict_g3_8_8(d: LightDay, p: LightParams, cov: CoverageParams) -> DayVerdict:
    """G3.8.8: at least ``min_light_lux`` in the light period, dusk and dawn excluded."""
    return _stretch_verdict(d, cov, d.low, d.low_ms, p.low_light_max_minutes, "laagste",
                            f"min. {lux(p.min_light_lux)}", d.light_ms > 0)


def verdict_g3_8_9(d: LightDay, p: LightParams, cov: CoverageParams) -> DayVerdict:
    """G3.8.9: one uninterrupted dark period of at least ``min_dark_hours`` per lighting day."""
    need = p.min_dark_hours * HOUR
    if d.dark_upper_ms < need:
        if d.dark_known:
            s, e = d.dark_known
            detail = f"langste ononderbroken donkerperiode {hm(e - s)} (min. {hm(need)})"
        else:
            s, e = d.start, d.end
            detail = f"geen donkerperiode (min. {hm(need)})"
        if d.end - d.start != 24 * HOUR:
            detail += f"; dag van {hm(d.end - d.start)} (zomer-/wintertijd)"
        return DayVerdict(d.day, "D", (Occurrence(to_dt(s), to_dt(e), detail),), d.complete)
    known = d.dark_known[1] - d.dark_known[0] if d.dark_known else 0
    if known < need:
        return _open(d)
    return _settle(d, cov, known / HOUR)


def verdict_g3_8_10(d: LightDay, p: LightParams, cov: CoverageParams) -> DayVerdict:
    """G3.8.10: at most ``dark_max_lux`` during the night, however slowly the light rises or falls."""
    return _stretch_verdict(d, cov, d.excess, d.excess_ms, p.dark_excess_max_minutes, "hoogste",
                            f"max. {lux(p.dark_max_lux)}", bool(d.nights) or d.dark_ms > 0)


def verdict_g3_8_11(d: LightDay, p: LightParams, cov: CoverageParams) -> DayVerdict:
    """G3.8.11: a dusk of at least ``dusk_min_minutes`` before each night."""
    need = p.dusk_min_minutes * MINUTE
    short = [(t0, ms, start) for t0, ms, start in d.dusks if ms is not None and ms < need]
    if short:
        occ = tuple(Occurrence(to_dt(start if ms else t0 - MINUTE), to_dt(t0),
                               f"schemerperiode {hm(ms)} vóór de donkerperiode (min. {hm(need)})")
                    for t0, ms, start in short)
        return DayVerdict(d.day, "D", occ, d.complete)
    if not d.dusks:
        return _nothing(d, cov)
    if any(ms is None for _t0, ms, _s in d.dusks):
        return _open(d)
    return _settle(d, cov, min(ms for _t0, ms, _s in d.dusks) / MINUTE)


def _long_light(p: LightParams) -> float:
    """G3.8.7 per 24 h: a lit stretch may last at most ``max_light_hours``."""
    return p.max_light_hours * HOUR


def _long_without_dark(p: LightParams) -> float:
    """G3.8.9 per 24 h: between two dark periods at most 24 h − ``min_dark_hours``."""
    return 24 * HOUR - p.min_dark_hours * HOUR


def _text_g3_8_7(s: int, e: int, p: LightParams) -> str:
    return f"aaneengesloten licht {hm(e - s)} (max. {hm(_long_light(p))}), over de grens van de lichtdag"


def _text_g3_8_9(s: int, e: int, p: LightParams) -> str:
    return (f"{hm(e - s)} licht tussen twee donkerperiodes: binnen 24 u geen {hm(p.min_dark_hours * HOUR)} "
            "aaneengesloten donker")


@dataclass(frozen=True)
class LightRule:
    """How one light rule judges a day, what it says was fine, and its 24 h limit (if any)."""

    verdict: Callable[[LightDay, LightParams, CoverageParams], DayVerdict]
    ok_text: Callable[[list[float]], str]
    rolling_limit: Callable[[LightParams], float] | None = None
    rolling_text: Callable[[int, int, LightParams], str] | None = None
    lamps: bool = False  # judged on a lamp sensor where daylight reaches the house


def _range(values: list[float], unit: Callable[[float], str], worst) -> str:
    """Return the worst of the day figures, formatted."""
    return unit(worst(values)) if values else "—"


LIGHT_RULES: dict[str, LightRule] = {
    "G3.8.7": LightRule(verdict_g3_8_7, lambda v: f"langste lichtperiode {_range(v, lambda x: hm(x * HOUR), max)}",
                        _long_light, _text_g3_8_7, lamps=True),
    "G3.8.8": LightRule(verdict_g3_8_8, lambda v: f"hoogstens {_range(v, lambda x: hm(x * MINUTE), max)} "
                                                  "per dag onder de grens (buiten schemer)"),
    "G3.8.9": LightRule(verdict_g3_8_9, lambda v: f"kortste donkerperiode {_range(v, lambda x: hm(x * HOUR), min)}",
                        _long_without_dark, _text_g3_8_9, lamps=True),
    "G3.8.10": LightRule(verdict_g3_8_10, lambda v: f"hoogstens {_range(v, lambda x: hm(x * MINUTE), max)} "
                                                    "per dag boven de grens in het donker"),
    "G3.8.11": LightRule(verdict_g3_8_11, lambda v: f"kortste schemerperiode {_range(v, lambda x: hm(x * MINUTE), min)}",
                         lamps=True),
}


def day_verdicts(rule_id: str, days: Sequence[LightDay], p: LightParams, cov: CoverageParams) -> list[DayVerdict]:
    """Return one sensor's verdict per lighting day on one light rule, the 24 h limits included.

    The one place a light day is judged: the score, the calendar strip, the dashboard tile and
    the audit pack's day table all call it.
    """
    spec = LIGHT_RULES[rule_id]
    out = [spec.verdict(d, p, cov) for d in days]
    if spec.rolling_limit is None or not days:
        return out
    index = {v.day: k for k, v in enumerate(out)}
    ordered = sorted(days, key=lambda x: x.start)
    starts = [d.start for d in ordered]
    for s, e in _long_stretches(ordered, p, spec.rolling_limit(p)):
        first = max(bisect_right(starts, s) - 1, 0)
        touched = [d for d in ordered[first:bisect_left(starts, e)] if d.start < e and d.end > s]
        # A day already short of dark (or long in light) reports that stretch itself: the 24 h limit
        # adds only what the lighting-day boundary hid.
        if any(out[index[d.day]].status == "D" for d in touched):
            continue
        owner = next((d for d in touched if d.start < e <= d.end), touched[-1])
        k = index[owner.day]
        occ = Occurrence(to_dt(s), to_dt(e), spec.rolling_text(s, e, p))
        out[k] = DayVerdict(owner.day, "D", out[k].occurrences + (occ,) if out[k].status == "D" else (occ,),
                            out[k].complete)
    return out


def judged_on(rule_id: str, house, lux_sensors: Sequence, lamp_sensors: Sequence) -> tuple[Sequence, bool]:
    """Return the sensors a light rule is judged on in a house, and whether those are its lamps.

    G3.8.7, G3.8.9 and G3.8.11 concern artificial light ("Gaat om kunstmatige verlichting"): where
    daylight reaches the house, its lamp sensors are the evidence. G3.8.8 and G3.8.10 are what the
    hens see: always lux.
    """
    on_lamps = LIGHT_RULES[rule_id].lamps and house.daylight and bool(lamp_sensors)
    return (lamp_sensors if on_lamps else lux_sensors), on_lamps


def house_verdicts(rule_id: str, sensors: Sequence[Sequence[LightDay]], p: LightParams,
                   cov: CoverageParams) -> dict[date, DayVerdict]:
    """Return a house's verdict per lighting day on one light rule: the worst of its sensors."""
    return {v.day: v for v in combine_sensors([day_verdicts(rule_id, days, p, cov) for days in sensors])}


DAYLIGHT_NOTE = (" Stal met daglicht: met alleen een luxsensor is licht bij zon op niet aan de lampen toe te "
                 "schrijven; een lampsensor (kind lamp) lost dat op.")


def evaluate_light(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """Return one finding per house the rule applies to, from its lux (or lamp) sensors' lighting days."""
    light = evidence.inputs.get("light")
    if light is None:
        return []
    lamps = evidence.inputs.get("lamps") or {}
    spec = LIGHT_RULES[rule.id]
    cov = params.sensor_rules.coverage
    findings = []
    for house in evidence.farm.houses:
        if not rule.applies(house.housing):
            continue
        p = params.sensor_rules.light_for(house.id)
        sensors, on_lamps = judged_on(rule.id, house, light.get(house.id) or (), lamps.get(house.id) or ())
        if not sensors:
            findings.append(Finding(rule.id, house.id, "unknown", "sensor",
                                    f"Geen luxsensor geconfigureerd in stal {house.id}."))
            continue
        per_sensor = []
        for s in sensors:
            # Every loaded day takes part in the 24 h limits; the window's days are reported.
            inside = {d.day for d in s.days if in_window(d, evidence.since, evidence.at)}
            per_sensor.append([v for v in day_verdicts(rule.id, s.days, p, cov) if v.day in inside])
        measures = [v.measure for vs in per_sensor for v in vs if v.status == "ok" and v.measure is not None]
        what = "lampmetingen" if on_lamps else "luxmetingen"
        finding = day_finding(rule, house.id, per_sensor, cov, what=what, ok_text=spec.ok_text(measures),
                              basis=f"{'Lampsensor' if on_lamps else 'Luxsensor'} "
                                    f"{', '.join(s.label for s in sensors)}")
        if finding.status == "unknown" and house.daylight and not on_lamps and rule.id != "G3.8.8":
            finding = Finding(finding.rule, finding.location, finding.status, finding.source,
                              finding.summary + DAYLIGHT_NOTE, finding.occurrences, finding.evidence)
        findings.append(finding)
    return findings


# --------------------------------------------------------------------------- spring-forward warning


def next_spring_forward(tz, after: date, horizon_days: int) -> tuple[date, timedelta] | None:
    """Return the local date whose night loses time to DST, and how much, within the horizon."""
    offset = datetime.combine(after, time(12), tz).utcoffset()
    for i in range(1, horizon_days + 1):
        nxt = datetime.combine(after + timedelta(days=i), time(12), tz)
        if nxt.utcoffset() > offset:
            return after + timedelta(days=i), nxt.utcoffset() - offset
        offset = nxt.utcoffset()
    return None


def spring_forward_dues(evidence: Evidence, params: Params) -> list[Due]:
    """Warn before the spring-forward night when recent nights leave too little dark to spare.

    A program that runs by the wall clock loses the DST hour from its night
    (G3.8.9); warn when the shortest dark period of the last nights is less than
    ``min_dark_hours`` plus the margin (default 1 h).
    """
    light = evidence.inputs.get("light")
    if not light:
        return []
    tz = evidence.farm.tz
    found = next_spring_forward(tz, evidence.today, params.due_horizon_days)
    if found is None:
        return []
    night, shift = found
    dues = []
    for house in evidence.farm.houses:
        if house.housing not in ANNEX_HOUSING["1.2G"]:
            continue  # the light rules are annex G: not for colony housing
        p = params.sensor_rules.light_for(house.id)
        recent = []
        sensors, _on_lamps = judged_on("G3.8.9", house, light.get(house.id) or (),
                                       (evidence.inputs.get("lamps") or {}).get(house.id) or ())
        for s in sensors:
            done = [d for d in s.days if d.complete and d.end <= evidence.at.timestamp() * 1000 and d.dark_known]
            recent += [d.dark_known[1] - d.dark_known[0] for d in done[-p.spring_lookback_nights:]]
        if not recent:
            continue
        shortest = min(recent)
        if shortest < (p.min_dark_hours + p.spring_margin_hours) * HOUR:
            dues.append(Due("G3.8.9", house.id, night - timedelta(days=1),
                            f"Zomertijd in de nacht van {(night - timedelta(days=1)).isoformat()} op "
                            f"{night.isoformat()}: een lichtprogramma op de klok geeft {hm(shift.total_seconds() * 1000)}"
                            f" minder donker; de kortste donkerperiode van de laatste nachten was {hm(shortest)} "
                            f"(min. {hm(p.min_dark_hours * HOUR)}). Pas het lichtprogramma aan."))
    return dues

