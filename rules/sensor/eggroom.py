"""E3.3: no condensation on the eggs in the egg room.

Condensation forms when the air's dew point reaches the temperature of the egg
surface. The dew point comes from the air temperature and relative humidity by
the Magnus formula (Sonntag 1990 constants over water: a = 17.62,
b = 243.12 °C). The egg surface temperature is the ``egg_temperature`` probe
when the room has one; otherwise an estimate: eggs follow the air temperature
as a first-order lag with time constant ``egg_lag_minutes`` (eggs in trays and
cartons warm up over hours, which is exactly why a warm humid spell over cold
eggs is the classic condensation case). After a gap the estimate restarts at
the air temperature and is not trusted for one time constant.

A minute is at risk when dew point ≥ egg surface − ``margin_c``. Per local day:
at least ``c_minutes`` at risk → C "Beperkte condensvorming", at least
``d_minutes`` → D "Duidelijke condensvorming".
"""

from __future__ import annotations

import math
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
    align,
    day_finding,
    hm,
    in_window,
    segments,
    settle,
    to_dt,
)
from rules.sensor_params import CondensationParams, CoverageParams

MAGNUS_A, MAGNUS_B = 17.62, 243.12
STEP_MS = 5 * MINUTE


def dew_point(temperature: float, humidity: float) -> float:
    """Return the dew point (°C) of air at ``temperature`` °C and ``humidity`` %RH (Magnus)."""
    rh = min(max(humidity, 1.0), 100.0)
    gamma = math.log(rh / 100.0) + MAGNUS_A * temperature / (MAGNUS_B + temperature)
    return MAGNUS_B * gamma / (MAGNUS_A - gamma)


def context_ms(p: CondensationParams) -> int:
    """Return how much history the egg estimate needs before a day (four time constants)."""
    return 4 * p.egg_lag_minutes * MINUTE


@dataclass(frozen=True)
class CondensationDay(DayRecord):
    """The condensation risk in one egg room on one local day."""

    day: date
    start: int
    end: int
    until: int
    probe: bool  # egg surface from a probe (True) or estimated (False)
    gap_ms: int
    risk_ms: int
    spells: tuple[tuple[int, int, float, float], ...]  # start, end, highest dew point, lowest egg surface
    gaps: tuple[tuple[int, int], ...]


def condensation_day(air: Sequence[Sample], humidity: Sequence[Sample], probe: Sequence[Sample] | None,
                     day: LocalDay, hold_ms: int, p: CondensationParams, until: int | None = None) -> CondensationDay:
    """Return the minutes of condensation risk on one day."""
    until = day.end if until is None else until
    hi = min(day.end, until)
    lo = day.start - (0 if probe is not None else context_ms(p))
    series = [segments(air, lo, hi, hold_ms), segments(humidity, lo, hi, hold_ms)]
    if probe is not None:
        series.append(segments(probe, lo, hi, hold_ms))
    tau = p.egg_lag_minutes * MINUTE
    estimate = trusted_from = None
    gap_ms = risk_ms = 0
    spells: list[list] = []
    gaps: list[tuple[int, int]] = []
    for a, b, values in align(series, lo, hi):
        t, rh = values[0], values[1]
        egg_probe = values[2] if probe is not None else 0.0
        inside = max(0, b - max(a, day.start))
        if t is None or rh is None or egg_probe is None:
            estimate = None
            if inside:
                gap_ms += inside
                if gaps and gaps[-1][1] == max(a, day.start):
                    gaps[-1] = (gaps[-1][0], b)
                else:
                    gaps.append((max(a, day.start), b))
            continue
        td = dew_point(t, rh)
        x = a
        while x < b:
            y = min(b, x + STEP_MS)
            if probe is not None:
                egg = egg_probe
            else:
                if estimate is None:
                    estimate, trusted_from = t, x + tau
                egg = estimate
                estimate = t + (estimate - t) * math.exp(-(y - x) / tau)
            part = max(0, y - max(x, day.start))
            if part:
                if probe is None and x < trusted_from:
                    gap_ms += part  # the estimate has not settled yet: no figure to trust
                if td >= egg - p.margin_c:
                    risk_ms += part
                    start = max(x, day.start)
                    if spells and spells[-1][1] == start:
                        spells[-1][1], spells[-1][2], spells[-1][3] = y, max(spells[-1][2], td), min(spells[-1][3], egg)
                    else:
                        spells.append([start, y, td, egg])
            x = y
    longest = sorted(spells, key=lambda s: s[1] - s[0], reverse=True)[:10]
    return CondensationDay(day.day, day.start, day.end, until, probe is not None, gap_ms, risk_ms,
                           tuple(tuple(s) for s in sorted(longest)),
                           tuple(sorted(sorted(gaps, key=lambda g: g[0] - g[1])[:5])))


def _c(value: float) -> str:
    """Return a temperature the Dutch way."""
    return f"{value:.1f}".replace(".", ",") + " °C"


def verdict(d: CondensationDay, p: CondensationParams, cov: CoverageParams) -> DayVerdict:
    """Return the day's status from its minutes at risk."""
    status = "D" if d.risk_ms >= p.d_minutes * MINUTE else "C" if d.risk_ms >= p.c_minutes * MINUTE else None
    if status:
        source = "ei-sonde" if d.probe else "geschat"
        occ = tuple(Occurrence(to_dt(s), to_dt(e), f"dauwpunt {_c(td)} bij eioppervlak {_c(egg)} ({source}) "
                                                   f"gedurende {hm(e - s)}; {hm(d.risk_ms)} risico die dag")
                    for s, e, td, egg in d.spells if e - s >= MINUTE)
        return DayVerdict(d.day, status, occ, d.complete)
    return settle(d, cov)


def evaluate_e3_3(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """Return E3.3 per egg room from its temperature and humidity (and egg probe)."""
    rooms = evidence.inputs.get("condensation")
    if rooms is None or not evidence.farm.egg_rooms:
        return []
    cov = params.sensor_rules.coverage
    findings = []
    for room in evidence.farm.egg_rooms:
        p = params.sensor_rules.condensation_for(room.id)
        sensors: Sequence[SensorDays] = rooms.get(room.id) or ()
        if not sensors:
            findings.append(Finding(rule.id, room.id, "unknown", "sensor",
                                    f"Geen temperatuur- en vochtsensor in eierlokaal {room.id}."))
            continue
        per_sensor = [[verdict(d, p, cov) for d in s.days if in_window(d, evidence.since, evidence.at)]
                      for s in sensors]
        findings.append(day_finding(rule, room.id, per_sensor, cov, what="temperatuur- en vochtmetingen",
                                    ok_text="geen condensrisico",
                                    basis=f"Eierlokaal {room.id}: {', '.join(s.label for s in sensors)}"))
    return findings
