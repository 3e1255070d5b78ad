"""A3.3: the climate in the house — temperature, humidity, NH3 and CO2 against bands.

Each quantity has nested bands (``ok`` inside ``light`` inside ``heavy``). Per
local day and sensor the minutes outside each band are summed; a day reaches a
level when at least ``min_minutes`` were spent beyond it:

- beyond ``ok`` → B "Lichte afwijkingen in klimaat."
- beyond ``light`` → C "Zware afwijkingen/erg stoffig."
- D "Ammoniak geur; klimaatregeling werkt niet." needs evidence that the climate
  control fails, not heat alone (a heatwave afternoon is hot in every house):
  NH3 or CO2 beyond its ``heavy`` band; or a temperature or humidity deviation
  while the house's ventilation alarm is raised; or, where an outside
  temperature sensor exists, the house above its ``ok`` band and at least
  ``outside_excess_c`` warmer than outside (the ventilation is not carrying
  the heat away). Temperature and humidity alone go no further than C.

The seed's headers read "Weging B (15 punt)" and "Weging C (5 punt)", yet its texts
describe C as the heavier climate deviation; the numbers are no penalties that grow
with severity (DESIGN §3.5 v2: no points), so we follow the texts (DESIGN §4): a
heavy deviation is C, a light one B.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Sequence

from rules.catalogue import Rule
from rules.evidence import Evidence
from rules.findings import Finding, Occurrence
from rules.kinds import VENTILATION_ALARM
from rules.params import Params
from rules.sensor.states import timeline
from rules.sensor.timeseries import (
    MINUTE,
    DayRecord,
    DayVerdict,
    LocalDay,
    Sample,
    SensorDays,
    align,
    day_finding,
    hm,
    in_window,
    segments,
    settle,
    to_dt,
    to_ms,
)
from rules.sensor_params import Band, ClimateParams, CoverageParams

LEVEL_STATUS = {1: "B", 2: "C", 3: "D"}
QUANTITY_NL = {"temperature": ("temperatuur", "°C"), "humidity": ("luchtvochtigheid", "%"),
               "nh3": ("ammoniak (NH3)", "ppm"), "co2": ("CO2", "ppm")}


def fmt(value: float, unit: str) -> str:
    """Return a measured value the Dutch way."""
    text = f"{value:.1f}".replace(".", ",") if abs(value) < 100 else f"{value:.0f}"
    return f"{text} {unit}"


@dataclass(frozen=True)
class MeasureDay(DayRecord):
    """What one climate sensor showed on one local day against its bands."""

    day: date
    start: int
    end: int
    until: int
    gap_ms: int
    beyond_ms: tuple[int, int, int]  # time beyond ok, beyond light, beyond heavy
    spells: tuple[tuple[int, int, int, float], ...]  # start, end, highest level, most extreme value
    gaps: tuple[tuple[int, int], ...]


def _extreme(band: Band, a: float, b: float) -> float:
    """Return whichever value lies further outside the ok band."""
    def distance(v: float) -> float:
        return max(band.ok[0] - v, v - band.ok[1], 0.0)
    return a if distance(a) >= distance(b) else b


def measure_day(samples: Sequence[Sample], day: LocalDay, hold_ms: int, band: Band,
                until: int | None = None) -> MeasureDay:
    """Return the time a series spent beyond each band on one day."""
    until = day.end if until is None else until
    hi = min(day.end, until)
    beyond = [0, 0, 0]
    spells: list[list] = []
    gaps = []
    gap_ms = 0
    last_seen = None
    for s, e, v in segments(samples, day.start, hi, hold_ms):
        if v is None:
            gap_ms += e - s
            gaps.append((last_seen if last_seen is not None else s, e))
            continue
        last_seen = s
        level = band.level(v)
        for k in range(level):
            beyond[k] += e - s
        if level:
            if spells and spells[-1][1] == s:
                spells[-1][1] = e
                spells[-1][2] = max(spells[-1][2], level)
                spells[-1][3] = _extreme(band, spells[-1][3], v)
            else:
                spells.append([s, e, level, v])
    longest = sorted(spells, key=lambda x: (x[2], x[1] - x[0]), reverse=True)[:10]
    return MeasureDay(day.day, day.start, day.end, until, gap_ms, tuple(beyond),
                      tuple(tuple(x) for x in sorted(longest)),
                      tuple(sorted(sorted(gaps, key=lambda g: g[0] - g[1])[:5])))


# A3.3: heat and damp alone are at most heavy deviations (C); D needs the control to fail.
LEVEL_CAP = {"temperature": 2, "humidity": 2, "nh3": 3, "co2": 3}


def verdict(d: MeasureDay, quantity: str, band: Band, minutes: int, cov: CoverageParams) -> DayVerdict:
    """Return the day's status: the highest level reached for at least ``minutes`` (heat alone at most C)."""
    level = max((k + 1 for k in range(3) if d.beyond_ms[k] >= minutes * MINUTE), default=0)
    level = min(level, LEVEL_CAP[quantity])
    name, unit = QUANTITY_NL[quantity]
    if level:
        limits = (band.ok, band.light, band.heavy)[level - 1]
        occ = tuple(Occurrence(to_dt(s), to_dt(e), f"{name} {fmt(v, unit)} (grens {fmt(limits[0], unit)}–"
                                                f"{fmt(limits[1], unit)}) gedurende {hm(e - s)}")
                    for s, e, lvl, v in d.spells if lvl >= level and e - s >= MINUTE)
        return DayVerdict(d.day, LEVEL_STATUS[level], occ, d.complete)
    return settle(d, cov)


@dataclass(frozen=True)
class ExcessDay(DayRecord):
    """How long the house was hot and much warmer than outside on one local day (A3.3's D evidence)."""

    day: date
    start: int
    end: int
    until: int
    gap_ms: int
    excess_ms: int
    spells: tuple[tuple[int, int, float, float], ...]  # start, end, hottest inside, outside then


def excess_day(inside: Sequence[Sample], outside: Sequence[Sample], day: LocalDay, hold_ms: int, band: Band,
               excess_c: float, until: int | None = None) -> ExcessDay:
    """Return when the inside was above its ``ok`` band and ``excess_c`` or more warmer than outside."""
    until = day.end if until is None else until
    hi = min(day.end, until)
    gap_ms = 0
    spells: list[list] = []
    for a, b, (t_in, t_out) in align([segments(inside, day.start, hi, hold_ms),
                                      segments(outside, day.start, hi, hold_ms)], day.start, hi):
        if t_in is None or t_out is None:
            gap_ms += b - a
            continue
        if t_in > band.ok[1] and t_in - t_out >= excess_c:
            if spells and spells[-1][1] == a:
                spells[-1][1] = b
                if t_in > spells[-1][2]:
                    spells[-1][2], spells[-1][3] = t_in, t_out
            else:
                spells.append([a, b, t_in, t_out])
    longest = sorted(spells, key=lambda x: x[1] - x[0], reverse=True)[:10]
    return ExcessDay(day.day, day.start, day.end, until, gap_ms, sum(x[1] - x[0] for x in spells),
                     tuple(tuple(x) for x in sorted(longest)))


def _failures(house: str, evidence: Evidence, temps: Sequence[SensorDays], cp: ClimateParams,
              lo: int, hi: int) -> list[DayVerdict]:
    """Return the days with evidence that the climate control failed: a D for A3.3 on those days only.

    A temperature deviation (beyond ``ok``) while the ventilation alarm was raised, or the house hot and
    ``outside_excess_c`` warmer than outside, for at least ``min_minutes``.
    """
    need = cp.min_minutes * MINUTE
    tz = evidence.farm.tz
    alarms = [(s, e) for sensor in (evidence.inputs.get("ventilation_alarm") or {}).get(house, ())
              for s, e, code, _l in timeline(sensor.days, lo, hi) if code == VENTILATION_ALARM]
    out = []
    for sensor in temps:
        for d in sensor.days:
            hot = [(s, e, v) for s, e, level, v in d.spells if level >= 1]
            both = [(max(s, a), min(e, b), v) for s, e, v in hot for a, b in alarms if min(e, b) > max(s, a)]
            if sum(e - s for s, e, _v in both) >= need:
                occ = tuple(Occurrence(to_dt(s), to_dt(e), f"temperatuur {fmt(v, '°C')} terwijl het ventilatie-alarm "
                                                           f"afging ({to_dt(s).astimezone(tz):%H:%M}), gedurende "
                                                           f"{hm(e - s)}: klimaatregeling werkt niet")
                            for s, e, v in both)
                out.append(DayVerdict(d.day, "D", occ, d.complete))
    for sensor in (evidence.inputs.get("climate_excess") or {}).get(house, ()):
        for d in sensor.days:
            if d.excess_ms >= need:
                occ = tuple(Occurrence(to_dt(s), to_dt(e), f"binnen {fmt(t_in, '°C')}, {fmt(t_in - t_out, '°C')} "
                                                           f"warmer dan buiten ({fmt(t_out, '°C')}) gedurende "
                                                           f"{hm(e - s)} (max. {fmt(cp.outside_excess_c, '°C')}): "
                                                           "de ventilatie voert de warmte niet af")
                            for s, e, t_in, t_out in d.spells if e - s >= MINUTE)
                out.append(DayVerdict(d.day, "D", occ, d.complete))
    return out


def evaluate_a3_3(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """Return A3.3 per house from its temperature, humidity, NH3 and CO2 sensors."""
    climate = evidence.inputs.get("climate")
    if climate is None:
        return []
    cov = params.sensor_rules.coverage
    findings = []
    for house in evidence.farm.houses:
        cp: ClimateParams = params.sensor_rules.climate_for(house.id)
        sensors: dict[str, Sequence[SensorDays]] = climate.get(house.id) or {}
        per_sensor, labels = [], []
        for quantity, sensor_days in sorted(sensors.items()):
            band = getattr(cp, quantity)
            for s in sensor_days:
                labels.append(f"{QUANTITY_NL[quantity][0]} ({s.label})")
                per_sensor.append([verdict(d, quantity, band, cp.min_minutes, cov) for d in s.days
                                   if in_window(d, evidence.since, evidence.at)])
        if not per_sensor:
            findings.append(Finding(rule.id, house.id, "unknown", "sensor",
                                    f"Geen klimaatsensoren (temperatuur, vocht, NH3, CO2) in stal {house.id}."))
            continue
        inside = {d.day for s in sensors.get("temperature", ()) for d in s.days
                  if in_window(d, evidence.since, evidence.at)}
        failures = [v for v in _failures(house.id, evidence, sensors.get("temperature", ()), cp,
                                         to_ms(evidence.since), to_ms(evidence.at)) if v.day in inside]
        if failures:
            per_sensor.append(failures)
        findings.append(day_finding(rule, house.id, per_sensor, cov, what="klimaatmetingen",
                                    ok_text="klimaat binnen de grenzen",
                                    basis=f"Klimaatsensoren: {', '.join(labels)}"))
    return findings
