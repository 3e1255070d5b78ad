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

Each moment is one of three (:func:`condition`): *condensation* when the egg
surface is at or below the dew point, *risk* when it is within ``margin_c``
above it, else *dry*. Only condensation is a deviation, and only sustained:
a spell of at least ``c_minutes`` → C "Beperkte condensvorming"; spells adding
up to ``d_minutes`` in a day, or one with the dew point ``d_depth_c`` or more
above the egg surface → D "Duidelijke condensvorming". Risk is a warning
(alerts, the dashboard), never a deviation.
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


def condition(dew: float, egg: float, p: CondensationParams) -> str:
    """Return ``condensation`` (egg surface at or below the dew point), ``risk`` (within the margin) or ``dry``."""
    if dew >= egg:
        return "condensation"
    if dew >= egg - p.margin_c:
        return "risk"
    return "dry"


def lag_step(estimate: float, air: float, dt_ms: int, p: CondensationParams) -> float:
    """Return the estimated egg surface after ``dt_ms`` in air at ``air`` °C (first-order lag)."""
    return air + (estimate - air) * math.exp(-dt_ms / (p.egg_lag_minutes * MINUTE))


def context_ms(p: CondensationParams) -> int:
    """Return how much history a day needs: four time constants for the estimate, and a spell's start."""
    return 4 * p.egg_lag_minutes * MINUTE


PROBE_CONTEXT_MS = 2 * 3_600_000  # with a probe: enough to see a condensation spell that began before the day


@dataclass(frozen=True)
class CondensationDay(DayRecord):
    """Condensation and its risk in one egg room on one local day (cached per day by the agent)."""

    day: date
    start: int
    end: int
    until: int
    probe: bool  # egg surface from a probe (True) or estimated (False)
    gap_ms: int
    risk_ms: int  # within the margin or wet, inside the day
    wet_ms: int  # in sustained condensation spells, inside the day
    # Sustained condensation spells touching the day (whole, also beyond it): start, end, highest dew
    # point, lowest egg surface, deepest (dew point − egg surface).
    spells: tuple[tuple[int, int, float, float, float], ...]
    risks: tuple[tuple[int, int, float, float], ...]  # within the margin: start, end, highest dew, lowest egg
    gaps: tuple[tuple[int, int], ...]
    last: tuple[int, float, float] | None = None  # the latest moment judged: ms, dew point, egg surface


def _grow(spells: list[list], a: int, b: int, dew: float, egg: float) -> None:
    """Extend the last spell when it ends at ``a``, else start a new one."""
    if spells and spells[-1][1] == a:
        last = spells[-1]
        last[1], last[2], last[3] = b, max(last[2], dew), min(last[3], egg)
        if len(last) > 4:
            last[4] = max(last[4], dew - egg)
    else:
        spells.append([a, b, dew, egg, dew - egg])


def condensation_day(air: Sequence[Sample], humidity: Sequence[Sample], probe: Sequence[Sample] | None,
                     day: LocalDay, hold_ms: int, p: CondensationParams, until: int | None = None) -> CondensationDay:
    """Return the condensation spells and the risk on one day."""
    until = day.end if until is None else until
    hi = min(day.end, until)
    lo = day.start - (PROBE_CONTEXT_MS if probe is not None else context_ms(p))
    series = [segments(air, lo, hi, hold_ms), segments(humidity, lo, hi, hold_ms)]
    if probe is not None:
        series.append(segments(probe, lo, hi, hold_ms))
    tau = p.egg_lag_minutes * MINUTE
    estimate = trusted_from = None
    gap_ms = 0
    wet: list[list] = []
    risky: list[list] = []
    gaps: list[tuple[int, int]] = []
    last = None
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
                estimate = lag_step(estimate, t, y - x, p)
            settled = probe is not None or x >= trusted_from
            part = max(0, y - max(x, day.start))
            if part and not settled:
                gap_ms += part  # the estimate has not settled yet: no figure to trust
            if settled:
                state = condition(td, egg, p)
                if state == "condensation":
                    _grow(wet, x, y, td, egg)
                if state != "dry" and part:
                    _grow(risky, max(x, day.start), y, td, egg)
                if y > day.start:
                    last = (y, round(td, 2), round(egg, 2))
            x = y
    # E3.3: a spell counts when sustained, judged on the whole spell (also its part before the day).
    sustained = [s for s in wet if s[1] - s[0] >= p.c_minutes * MINUTE and s[1] > day.start]
    wet_ms = sum(s[1] - max(s[0], day.start) for s in sustained)
    risk_ms = sum(s[1] - s[0] for s in risky)
    longest = sorted(risky, key=lambda s: s[1] - s[0], reverse=True)[:10]
    return CondensationDay(day.day, day.start, day.end, until, probe is not None, gap_ms, risk_ms, wet_ms,
                           tuple((s[0], s[1], round(s[2], 2), round(s[3], 2), round(s[4], 2))
                                 for s in sorted(sustained, key=lambda s: s[1] - s[0], reverse=True)[:10]),
                           tuple((s[0], s[1], round(s[2], 2), round(s[3], 2)) for s in sorted(longest)),
                           tuple(sorted(sorted(gaps, key=lambda g: g[0] - g[1])[:5])), last)


def celsius(value: float) -> str:
    """Return a temperature the Dutch way: ``17,4 °C``."""
    return f"{value:.1f}".replace(".", ",") + " °C"


def verdict(d: CondensationDay, p: CondensationParams, cov: CoverageParams) -> DayVerdict:
    """Return the day's status from its sustained condensation spells."""
    deep = any(depth >= p.d_depth_c for _s, _e, _td, _egg, depth in d.spells)
    status = "D" if d.wet_ms >= p.d_minutes * MINUTE or deep else "C" if d.spells else None
    if status:
        source = "ei-sonde" if d.probe else "geschat"
        occ = tuple(Occurrence(to_dt(s), to_dt(e), f"eioppervlak {celsius(egg)} ({source}) onder het dauwpunt "
                                                   f"{celsius(td)} gedurende {hm(e - s)}, tot {celsius(depth)} "
                                                   f"eronder; {hm(d.wet_ms)} condens die dag")
                    for s, e, td, egg, depth in sorted(d.spells))
        return DayVerdict(d.day, status, occ, d.complete)
    return settle(d, cov, d.risk_ms / MINUTE)


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
        risk = max((v.measure or 0 for vs in per_sensor for v in vs if v.status == "ok"), default=0)
        # Risk within the margin is a warning, not a deviation: the ok text still says how close it came.
        ok_text = "geen condens op de eieren" + (
            f"; hoogstens {hm(risk * MINUTE)} per dag binnen {celsius(p.margin_c)} van het dauwpunt" if risk else "")
        findings.append(day_finding(rule, room.id, per_sensor, cov, what="temperatuur- en vochtmetingen",
                                    ok_text=ok_text,
                                    basis=f"Eierlokaal {room.id}: {', '.join(s.label for s in sensors)}"))
    return findings
