"""G3.8.7–G3.8.11: the light schedule, judged per lighting day from each house's lux sensors.

Definitions (``docs/SENSOR_RULES.md`` explains them with examples):

- A **lighting day** runs from ``day_start`` local time (default 12:00) to the
  same wall-clock time the next day: 24 h, or 23/25 h over a DST change.
  Every duration is absolute time.
- **Classification with hysteresis**: a reading at or below ``dark_enter_lux``
  enters *dark*, one at or above ``dark_exit_lux`` leaves it; in between the
  previous class holds. After a gap the class starts fresh from the reading.
  Lit spells shorter than ``interrupt_max_seconds`` inside dark are absorbed.
  A dark run of at least ``dark_period_min_minutes`` is a *dark period*.
- **Dusk** before a dark period: the lit stretch ending at the dark period in
  which the level stays below ``dusk_fraction`` × the reference level (the
  time-weighted median of the hour before the longest allowed ramp). **Dawn**
  is the same after a dark period. Both are *ramps*, excluded from G3.8.8.
- **Bounds**: gaps (and the rest of a day still running) may hide anything, so
  each figure has a known lower bound and an upper bound; a deviation is called
  only when even the most favourable reading of the gaps breaks the rule, ``ok``
  only when the least favourable one keeps it and the day is covered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable, Sequence

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
    SensorDays,
    day_finding,
    days_between,
    gap_occurrences,
    hm,
    in_window,
    segments,
    settle,
    to_dt,
)
from rules.sensor_params import CoverageParams, LightParams

DARK, LIT = "D", "L"


def is_dark(value: float, p: LightParams) -> bool:
    """Return whether a lux reading is dark: ``dark_max_lux`` (G3.8.10's 0,5 lux) or less."""
    return value <= p.dark_max_lux


def lux(value: float) -> str:
    """Return a lux figure the Dutch way: ``0,5 lux``."""
    return f"{value:.1f}".replace(".", ",") + " lux"


def context_ms(p: LightParams) -> int:
    """Return how much data around a lighting day its classification looks at."""
    return (p.dusk_max_minutes + p.reference_minutes) * MINUTE + HOUR


@dataclass(frozen=True)
class LightDay(DayRecord):
    """What one lux sensor showed on one lighting day (cached per day by the agent)."""

    day: date
    start: int
    end: int
    until: int  # data up to here; < end while the day is still running
    light_ms: int
    dark_ms: int
    gap_ms: int  # gaps within [start, min(end, until))
    dark_known: tuple[int, int] | None  # the longest known dark run, clipped to the day
    dark_upper_ms: int  # longest stretch that is dark or unknown (incl. the day's future)
    excess: tuple[tuple[int, int, float, float], ...]  # > dark_max_lux in dark periods: start, end, max, mean
    excess_ms: int
    low: tuple[tuple[int, int, float, float], ...]  # < min_light_lux in the light period: start, end, min, mean
    low_ms: int
    dusks: tuple[tuple[int, int | None, int], ...]  # dark period start, dusk length (None: unknown), ramp start
    gaps: tuple[tuple[int, int], ...]  # the longest gaps, clipped to the day


# --------------------------------------------------------------------------- classification


def _classify(segs, p: LightParams) -> list[str | None]:
    """Return dark/lit per segment with hysteresis; None for gaps."""
    middle = (p.dark_enter_lux + p.dark_exit_lux) / 2
    out: list[str | None] = []
    state = None
    for _s, _e, v in segs:
        if v is None:
            state = None
        elif state is None:
            # After a gap there is no history: take the side of the hysteresis band's middle.
            state = DARK if v <= middle else LIT
        elif state == DARK and v >= p.dark_exit_lux:
            state = LIT
        elif state == LIT and v <= p.dark_enter_lux:
            state = DARK
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


def _absorb_blips(runs: list[list], max_ms: int) -> list[list]:
    """Merge lit spells shorter than ``max_ms`` between two dark runs into one dark run."""
    if max_ms <= 0:
        return runs
    out: list[list] = []
    i = 0
    while i < len(runs):
        run = runs[i]
        if (run[2] == LIT and out and out[-1][2] == DARK and i + 1 < len(runs)
                and runs[i + 1][2] == DARK and run[1] - run[0] < max_ms):
            nxt = runs[i + 1]
            out[-1] = [out[-1][0], nxt[1], DARK, out[-1][3], nxt[4]]
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
        if c == LIT and e > lo and s < hi:
            pairs.append((v, min(e, hi) - max(s, lo)))
    if sum(w for _v, w in pairs) * 2 < hi - lo:
        return None
    return _weighted_median(pairs)


def _ramp_before(segs, classes, run: list, t0: int, p: LightParams) -> tuple[set[int], int | None, int]:
    """Return the dusk before a dark period starting at ``t0``: its segments, length (None: unknown), start."""
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
    """Return the dawn segments after a dark period ending at ``t1``."""
    span = p.dusk_max_minutes * MINUTE
    level = _reference(segs, classes, t1 + span, t1 + span + p.reference_minutes * MINUTE)
    ramp: set[int] = set()
    for i in range(run[3], run[4] + 1):
        s, e, v = segs[i]
        if s >= t1 + span or (level is not None and v >= p.dusk_fraction * level):
            break
        ramp.add(i)
    return ramp


def _ramp_tails(segs, run: list, p: LightParams) -> set[int]:
    """Return the dark period's segments that still belong to the dusk or dawn ramp.

    After the dark threshold is crossed a ramp keeps falling for a while (and
    before dawn crosses it, it is already rising): those readings are the ramp,
    not light in the dark. A tail ends where the level stops falling toward dark
    or reaches ``dark_max_lux``, and never lasts longer than ``dusk_max_minutes``.
    """
    span = p.dusk_max_minutes * MINUTE
    tails: set[int] = set()
    prev = None
    for i in range(run[3], run[4] + 1):
        s, _e, v = segs[i]
        if v is None or v <= p.dark_max_lux or (prev is not None and v >= prev) or s >= run[0] + span:
            break
        tails.add(i)
        prev = v
    prev = None
    for i in range(run[4], run[3] - 1, -1):
        _s, e, v = segs[i]
        if v is None or v <= p.dark_max_lux or (prev is not None and v >= prev) or e <= run[1] - span:
            break
        tails.add(i)
        prev = v
    return tails


def _clip(s: int, e: int, lo: int, hi: int) -> int:
    """Return the length of ``[s, e)`` inside ``[lo, hi)``."""
    return max(0, min(e, hi) - max(s, lo))


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


def light_day(samples: Sequence[Sample], day: LocalDay, hold_ms: int, p: LightParams,
              until: int | None = None) -> LightDay:
    """Return what a lux series shows on one lighting day (data after ``until`` ignored)."""
    ctx = context_ms(p)
    horizon = day.end + ctx
    until = day.end + ctx if until is None else until
    hi = min(horizon, until)
    segs = segments(samples, day.start - ctx, hi, hold_ms)
    if hi < horizon:
        segs.append((hi, horizon, None))  # the future: unknown
    classes = _classify(segs, p)
    runs = _absorb_blips(_runs(segs, classes), p.interrupt_max_seconds * 1000)
    ds, de, du = day.start, day.end, min(day.end, until)

    ramps: set[int] = set()
    dusks = []
    excess_items: list[tuple[int, int, float]] = []
    period_min = p.dark_period_min_minutes * MINUTE
    for k, run in enumerate(runs):
        if run[2] != DARK or run[1] - run[0] < period_min:
            continue
        before = runs[k - 1] if k > 0 else None
        after = runs[k + 1] if k + 1 < len(runs) else None
        lit_before = before is not None and before[2] == LIT
        if lit_before:
            ramp, dusk_ms, ramp_start = _ramp_before(segs, classes, before, run[0], p)
            ramps |= ramp
        if ds <= run[0] < de and run[0] < du:
            if before is None or before[2] is None:
                dusks.append((run[0], None, run[0]))  # a gap before: the dusk cannot be seen
            elif before[1] - before[0] >= period_min:
                # G3.8.11 asks a dusk after a light period; a short light in the night is G3.8.9's.
                dusks.append((run[0], dusk_ms, ramp_start))
        if after is not None and after[2] == LIT:
            ramps |= _ramp_after(segs, classes, after, run[1], p)
        tails = _ramp_tails(segs, run, p)
        for i in range(run[3], run[4] + 1):
            s, e, v = segs[i]
            # G3.8.10: at most dark_max_lux during the dark period (ramp tails excluded), inside the day.
            if i not in tails and v is not None and v > p.dark_max_lux and _clip(s, e, ds, du):
                excess_items.append((max(s, ds), min(e, du), v))

    light_ms = dark_ms = gap_ms = 0
    low_items: list[tuple[int, int, float]] = []
    gaps = []
    for run in runs:
        length = _clip(run[0], run[1], ds, du)
        if not length:
            continue
        if run[2] is None:
            gap_ms += length
            # Shown from the last reading before the gap, as the farmer would count it.
            last = segs[run[3] - 1][0] if run[3] > 0 else run[0]
            gaps.append((max(last, ds), min(run[1], du)))
        elif run[2] == DARK:
            dark_ms += length
        else:
            light_ms += length
            for i in range(run[3], run[4] + 1):
                s, e, v = segs[i]
                # G3.8.8: 20 lux during the light period, dusk and dawn ramps excluded.
                if i not in ramps and v < p.min_light_lux and _clip(s, e, ds, du):
                    low_items.append((max(s, ds), min(e, du), v))

    # G3.8.9: one uninterrupted dark period. Lower bound: the longest known dark run;
    # upper bound: the longest chain of dark and unknown (gaps, the future).
    dark_known = None
    upper = chain = 0
    for run in runs:
        length = _clip(run[0], run[1], ds, de)
        if run[2] == DARK and length:
            s, e = max(run[0], ds), min(run[1], de)
            if dark_known is None or e - s > dark_known[1] - dark_known[0]:
                dark_known = (s, e)
        if run[2] in (DARK, None):
            chain += length
            upper = max(upper, chain)
        else:
            chain = 0

    excess = _stretches(excess_items, max)
    low = _stretches(low_items, min)
    return LightDay(
        day=day.day, start=ds, end=de, until=until, light_ms=light_ms, dark_ms=dark_ms, gap_ms=gap_ms,
        dark_known=dark_known, dark_upper_ms=upper,
        excess=excess[:20], excess_ms=sum(x[1] - x[0] for x in excess),
        low=low[:20], low_ms=sum(x[1] - x[0] for x in low),
        dusks=tuple(dusks), gaps=tuple(sorted(sorted(gaps, key=lambda g: g[0] - g[1])[:5])),
    )


def light_days(samples: Sequence[Sample], lo: int, hi: int, hold_ms: int, p: LightParams, tz) -> list[LightDay]:
    """Return the lighting days overlapping ``[lo, hi)``; the last one sees data up to ``hi`` only."""
    return [light_day(samples, d, hold_ms, p, until=hi if d.end + context_ms(p) > hi else None)
            for d in days_between(lo, hi, p.day_start, tz)]


# --------------------------------------------------------------------------- verdicts per day


def _unknown(d: LightDay) -> DayVerdict:
    """Return an unknown day with its gaps as occurrences."""
    return DayVerdict(d.day, "unknown", gap_occurrences(d.gaps), d.complete)


def _open(d: LightDay) -> DayVerdict:
    """Return unknown for a complete day the data cannot decide; nothing yet for a running one."""
    return _unknown(d) if d.complete else DayVerdict(d.day, None, (), False)


def _nothing(d: LightDay, cov: CoverageParams) -> DayVerdict:
    """Return "nothing to judge" for a covered day, unknown for one without enough data."""
    if d.complete and d.coverage < cov.min_day_coverage:
        return _unknown(d)
    return DayVerdict(d.day, None, (), d.complete)


def verdict_g3_8_7(d: LightDay, p: LightParams, cov: CoverageParams) -> DayVerdict:
    """G3.8.7: total light at most ``max_light_hours`` per lighting day.

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
    return settle(d, cov, d.light_ms / HOUR)


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
    return settle(d, cov, total_ms / MINUTE)


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
    return settle(d, cov, known / HOUR)


def verdict_g3_8_10(d: LightDay, p: LightParams, cov: CoverageParams) -> DayVerdict:
    """G3.8.10: at most ``dark_max_lux`` during the dark period (ramp tails excluded)."""
    return _stretch_verdict(d, cov, d.excess, d.excess_ms, p.dark_excess_max_minutes, "hoogste",
                            f"max. {lux(p.dark_max_lux)}", d.dark_ms > 0)


def verdict_g3_8_11(d: LightDay, p: LightParams, cov: CoverageParams) -> DayVerdict:
    """G3.8.11: a dusk of at least ``dusk_min_minutes`` before each dark period."""
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
    return settle(d, cov, min(ms for _t0, ms, _s in d.dusks) / MINUTE)


@dataclass(frozen=True)
class LightRule:
    """How one light rule judges a day and says what was fine."""

    verdict: Callable[[LightDay, LightParams, CoverageParams], DayVerdict]
    ok_text: Callable[[list[float]], str]


def _range(values: list[float], unit: Callable[[float], str], worst) -> str:
    """Return the worst of the day figures, formatted."""
    return unit(worst(values)) if values else "—"


LIGHT_RULES: dict[str, LightRule] = {
    "G3.8.7": LightRule(verdict_g3_8_7, lambda v: f"langste lichtperiode {_range(v, lambda x: hm(x * HOUR), max)}"),
    "G3.8.8": LightRule(verdict_g3_8_8, lambda v: f"hoogstens {_range(v, lambda x: hm(x * MINUTE), max)} "
                                                  "per dag onder de grens (buiten schemer)"),
    "G3.8.9": LightRule(verdict_g3_8_9, lambda v: f"kortste donkerperiode {_range(v, lambda x: hm(x * HOUR), min)}"),
    "G3.8.10": LightRule(verdict_g3_8_10, lambda v: f"hoogstens {_range(v, lambda x: hm(x * MINUTE), max)} "
                                                    "per dag boven de grens in het donker"),
    "G3.8.11": LightRule(verdict_g3_8_11, lambda v: f"kortste schemerperiode {_range(v, lambda x: hm(x * MINUTE), min)}"),
}


def evaluate_light(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """Return one finding per house the rule applies to, from its lux sensors' lighting days."""
    light = evidence.inputs.get("light")
    if light is None:
        return []
    spec = LIGHT_RULES[rule.id]
    cov = params.sensor_rules.coverage
    findings = []
    for house in evidence.farm.houses:
        if not rule.applies(house.housing):
            continue
        p = params.sensor_rules.light_for(house.id)
        sensors: Sequence[SensorDays] = light.get(house.id) or ()
        if not sensors:
            findings.append(Finding(rule.id, house.id, "unknown", "sensor",
                                    f"Geen luxsensor geconfigureerd in stal {house.id}."))
            continue
        per_sensor = [[spec.verdict(d, p, cov) for d in s.days if in_window(d, evidence.since, evidence.at)]
                      for s in sensors]
        measures = [v.measure for vs in per_sensor for v in vs if v.status == "ok" and v.measure is not None]
        findings.append(day_finding(rule, house.id, per_sensor, cov, what="luxmetingen", ok_text=spec.ok_text(measures),
                                    basis=f"Luxsensor {', '.join(s.label for s in sensors)}"))
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
        for s in light.get(house.id) or ():
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

