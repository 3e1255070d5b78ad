"""A3.3: the climate in the house — temperature, humidity, NH3 and CO2 against bands.

Each quantity has nested bands (``ok`` inside ``light`` inside ``heavy``). Per
local day and sensor the minutes outside each band are summed; a day reaches a
level when at least ``min_minutes`` were spent beyond it:

- beyond ``ok`` → B "Lichte afwijkingen in klimaat."
- beyond ``light`` → C "Zware afwijkingen/erg stoffig."
- beyond ``heavy`` → D "Ammoniak geur; klimaatregeling werkt niet."

The seed weighs B at 15 points and C at 5, yet describes C as the heavier
climate deviation; we follow the texts (DESIGN §4), so a house with a heavy
deviation is reported C even though a light one would cost more points.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Sequence

from rules.catalogue import Rule
from rules.evidence import Evidence
from rules.findings import Finding, Occurrence
from rules.params import Params
from rules.sensor.timeseries import (
    MINUTE,
    DayRecord,
    DayVerdict,
    LocalDay,
    Sample,
    SensorDays,
    day_finding,
    hm,
    in_window,
    segments,
    settle,
    to_dt,
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


def verdict(d: MeasureDay, quantity: str, band: Band, minutes: int, cov: CoverageParams) -> DayVerdict:
    """Return the day's status: the highest level reached for at least ``minutes``."""
    level = max((k + 1 for k in range(3) if d.beyond_ms[k] >= minutes * MINUTE), default=0)
    name, unit = QUANTITY_NL[quantity]
    if level:
        limits = (band.ok, band.light, band.heavy)[level - 1]
        occ = tuple(Occurrence(to_dt(s), to_dt(e), f"{name} {fmt(v, unit)} (grens {fmt(limits[0], unit)}–"
                                                f"{fmt(limits[1], unit)}) gedurende {hm(e - s)}")
                    for s, e, lvl, v in d.spells if lvl >= level and e - s >= MINUTE)
        return DayVerdict(d.day, LEVEL_STATUS[level], occ, d.complete)
    return settle(d, cov)


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
        findings.append(day_finding(rule, house.id, per_sensor, cov, what="klimaatmetingen",
                                    ok_text="klimaat binnen de grenzen",
                                    basis=f"Klimaatsensoren: {', '.join(labels)}"))
    return findings
