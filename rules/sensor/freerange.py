"""Free range: pop-hole access (H3.12.8), the daily journal's hours (H3.12.10) and the housing order (H3.12.11).

- **Access (H3.12.8)**: "dagelijks vanaf 10 uur tot zonsondergang". Per local
  day the required interval runs from ``access_from`` (10:00) to sunset at the
  farm's coordinates (astral). The run is available while any pop-hole of the
  house is open. A day with more than ``closed_max_minutes`` known closed in the
  interval is a day "binnen": one → C, ``d_days`` or more → D. Unknown state
  for longer than that tolerance makes the day unknown. Days under a recorded
  housing order (ophokplicht) are not judged; a window fully under one is nvt.
- **Journal (H3.12.10)**: hours open per day, from the same pop-hole runs, for
  the free-range journal (the logbook feature drafts and judges it).
- **Housing order (H3.12.11)**: eggs may keep the free-range name for at most
  ``housing_order_max_weeks`` (16) of a housing order; beyond → D. Due from week
  ``housing_order_warn_weeks`` (12). Organic houses: nvt (the seed's text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Sequence

from astral import Observer
from astral.sun import sunset

from rules.catalogue import Rule
from rules.evidence import Evidence, Farm
from rules.findings import Due, Finding, Occurrence
from rules.kinds import POPHOLE_OPEN
from rules.params import Params
from rules.sensor.states import StateDay, timeline
from rules.sensor.timeseries import (
    DayVerdict,
    SensorDays,
    align,
    days_judged,
    days_measured,
    hm,
    to_dt,
    to_ms,
    window_verdict,
)
from rules.texts import dutch_ngettext


@dataclass(frozen=True, slots=True)
class HousingOrder:
    """A recorded housing order (ophokplicht): first and last day (None: still in force)."""

    id: int
    start: date
    end: date | None
    note: str = ""

    def covers(self, day: date) -> bool:
        """Return whether the order is in force on ``day``."""
        return self.start <= day and (self.end is None or day <= self.end)


def sunset_at(farm: Farm, day: date) -> datetime | None:
    """Return the local sunset on ``day`` at the farm (None where the sun does not set)."""
    try:
        return sunset(Observer(farm.latitude, farm.longitude), date=day, tzinfo=farm.tz)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class AccessDay:
    """One day of pop-hole access: what was required, and how long it was open, closed or unknown."""

    day: date
    required: tuple[int, int] | None
    open_ms: int
    closed_ms: int
    unknown_ms: int
    closed_spells: tuple[tuple[int, int], ...]
    hours_open: float  # over the whole day
    day_unknown_ms: int  # unknown over the whole day
    complete: bool


def _days_by_date(sensors: Sequence[SensorDays]) -> dict[date, list[StateDay]]:
    """Return each date's state days over all sensors."""
    out: dict[date, list[StateDay]] = {}
    for s in sensors:
        for d in s.days:
            out.setdefault(d.day, []).append(d)
    return out


def access_days(sensors: Sequence[SensorDays], farm: Farm, access_from: time, until: int) -> list[AccessDay]:
    """Return per local day how long the pop-holes were open within 10:00–sunset and overall."""
    out = []
    for day, state_days in sorted(_days_by_date(sensors).items()):
        start = to_ms(datetime.combine(day, time(0), farm.tz))
        end = to_ms(datetime.combine(day + timedelta(days=1), time(0), farm.tz))
        hi = min(end, until)
        series = [[(s, e, c) for s, e, c, _l in timeline([d], start, hi)] for d in state_days]
        dusk = sunset_at(farm, day)
        required = None
        if dusk is not None and to_ms(dusk) > to_ms(datetime.combine(day, access_from, farm.tz)):
            required = (to_ms(datetime.combine(day, access_from, farm.tz)), to_ms(dusk))
        open_ms = closed_ms = unknown_ms = all_open = all_unknown = 0
        spells: list[list[int]] = []
        for a, b, values in align(series, start, hi):
            is_open = any(v == POPHOLE_OPEN for v in values)
            unknown = not is_open and any(v is None for v in values)
            all_open += (b - a) if is_open else 0
            all_unknown += (b - a) if unknown else 0
            if required is None:
                continue
            part_a, part_b = max(a, required[0]), min(b, required[1])
            if part_b <= part_a:
                continue
            if is_open:
                open_ms += part_b - part_a
            elif unknown:
                unknown_ms += part_b - part_a
            else:
                closed_ms += part_b - part_a
                if spells and spells[-1][1] == part_a:
                    spells[-1][1] = part_b
                else:
                    spells.append([part_a, part_b])
        if required and hi < required[1]:
            unknown_ms += required[1] - max(hi, required[0])  # the rest of a day still running
        out.append(AccessDay(day, required, open_ms, closed_ms, unknown_ms, tuple(tuple(s) for s in spells),
                             all_open / 3_600_000, all_unknown + max(0, end - hi), hi >= end))
    return out


def journal(sensors: Sequence[SensorDays], farm: Farm, until: int, min_coverage: float) -> dict[date, float | None]:
    """Return the hours the free-range area was open per day (None where the pop-holes were not heard enough)."""
    out = {}
    for d in access_days(sensors, farm, time(10), until):
        if d.complete:
            out[d.day] = round(d.hours_open, 2) if d.day_unknown_ms <= (1 - min_coverage) * 86_400_000 else None
    return out


def _orders(evidence: Evidence) -> tuple[HousingOrder, ...]:
    """Return the recorded housing orders."""
    return tuple(evidence.inputs.get("housing_orders", ()))


def evaluate_h3_12_8(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """Return H3.12.8 per free-range or organic house from its pop-hole sensors."""
    popholes = evidence.inputs.get("pophole")
    if popholes is None:
        return []
    fp = params.sensor_rules.free_range
    cov = params.sensor_rules.coverage
    orders = _orders(evidence)
    lo, hi = to_ms(evidence.since), to_ms(evidence.at)
    findings = []
    for house in evidence.farm.houses:
        if not rule.applies(house.housing):
            continue
        sensors = popholes.get(house.id) or ()
        window_days = [evidence.farm.local_date(evidence.since) + timedelta(days=i)
                       for i in range((evidence.today - evidence.farm.local_date(evidence.since)).days + 1)]
        ordered = [d for d in window_days if any(o.covers(d) for o in orders)]
        if window_days and len(ordered) == len(window_days):
            o = next(o for o in orders if o.covers(window_days[-1]))
            findings.append(Finding(rule.id, house.id, "nvt", "sensor",
                                    f"Ophokplicht sinds {o.start.isoformat()}: toegang tot de uitloop niet vereist."))
            continue
        if not sensors:
            findings.append(Finding(rule.id, house.id, "unknown", "sensor",
                                    f"Geen uitloopluik-sensor (pophole) ingesteld voor stal {house.id}."))
            continue
        verdicts = []
        for d in access_days(sensors, evidence.farm, fp.access_from, hi):
            if d.required is None or d.required[1] <= lo or d.day > evidence.today or d.day in ordered:
                continue
            tolerance = fp.closed_max_minutes * 60_000
            if d.closed_ms > tolerance:
                sunset_text = f"{to_dt(d.required[1]).astimezone(evidence.farm.tz):%H:%M}"
                occ = tuple(Occurrence(to_dt(s), to_dt(e), f"uitloop dicht gedurende {hm(e - s)} "
                                                           f"(vereist {fp.access_from:%H:%M}–{sunset_text})")
                            for s, e in d.closed_spells if e - s >= 60_000)
                verdicts.append(DayVerdict(d.day, "C", occ, d.complete))
            elif not d.complete:
                verdicts.append(DayVerdict(d.day, None, (), False))
            elif d.unknown_ms > tolerance:
                verdicts.append(DayVerdict(d.day, "unknown", (Occurrence(
                    to_dt(d.required[0]), to_dt(d.required[1]),
                    f"stand van de uitloopluiken {hm(d.unknown_ms)} onbekend"),), True))
            else:
                verdicts.append(DayVerdict(d.day, "ok", (), True, d.open_ms / 3_600_000))
        result = window_verdict(verdicts, cov.min_window_coverage)
        status = result.status
        if status == "C" and result.days_deviating >= fp.d_days:
            status = "D"
        basis = f"Uitloopluiken {', '.join(s.label for s in sensors)}; {days_judged(result.days_judged)}"
        if ordered:
            basis += "; " + dutch_ngettext("{n} dag ophokplicht", "{n} dagen ophokplicht", len(ordered))
        if status == "ok":
            summary = f"Voldoet: uitloop dagelijks open van {fp.access_from:%H:%M} tot zonsondergang " \
                      f"({days_measured(result.days_ok, result.days_judged)})."
        elif status == "unknown":
            need = f"{cov.min_window_coverage:.0%}"
            summary = dutch_ngettext(
                "Onvoldoende gegevens: {ok} van {n} dag met bekende stand van de uitloopluiken (nodig: {need}).",
                "Onvoldoende gegevens: {ok} van {n} dagen met bekende stand van de uitloopluiken (nodig: {need}).",
                result.days_judged, ok=result.days_ok, need=need)
        else:
            summary = rule.deviation_text(status) or status
        findings.append(Finding(rule.id, house.id, status, "sensor", summary, occurrences=result.occurrences,
                                evidence=basis))
    return findings


def _merged_orders(orders: Sequence[HousingOrder]) -> list[tuple[date, date | None]]:
    """Return housing-order periods with adjoining or overlapping orders joined."""
    out: list[list] = []
    for o in sorted(orders, key=lambda o: o.start):
        if out and (out[-1][1] is None or o.start <= out[-1][1] + timedelta(days=1)):
            if out[-1][1] is not None and (o.end is None or o.end > out[-1][1]):
                out[-1][1] = o.end
        else:
            out.append([o.start, o.end])
    return [tuple(x) for x in out]


def evaluate_h3_12_11(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """Return H3.12.11 per free-range house: a housing order longer than 16 weeks is D."""
    if "housing_orders" not in evidence.inputs:
        return []
    fp = params.sensor_rules.free_range
    today, since = evidence.today, evidence.farm.local_date(evidence.since)
    limit = timedelta(weeks=fp.housing_order_max_weeks)
    periods = [(s, e) for s, e in _merged_orders(_orders(evidence)) if s <= today and (e is None or e >= since)]
    findings = []
    for house in evidence.farm.houses:
        if not rule.applies(house.housing):
            continue
        if house.housing == "organic":
            findings.append(Finding(rule.id, house.id, "nvt", "sensor", rule.nvt or "NVT: biologische eieren"))
            continue
        if not periods:
            findings.append(Finding(rule.id, house.id, "nvt", "sensor",
                                    "Geen ophokplicht geregistreerd in deze periode."))
            continue
        over, texts = [], []
        for s, e in periods:
            last = min(e or today, today)
            weeks = ((last - s).days + 1) / 7
            texts.append(f"ophokplicht {s.isoformat()} – {e.isoformat() if e else 'heden'}: {weeks:.1f} weken")
            if (last - s).days + 1 > limit.days:
                begin = datetime.combine(s + limit, time(0), evidence.farm.tz)
                end = datetime.combine(e + timedelta(days=1), time(0), evidence.farm.tz) if e and e < today else None
                over.append(Occurrence(begin, end, f"ophokplicht sinds {s.isoformat()}: {weeks:.1f} weken "
                                                   f"(max. {fp.housing_order_max_weeks} weken)"))
        basis = "; ".join(texts)
        if over:
            findings.append(Finding(rule.id, house.id, "D", "sensor", rule.deviation_text("D") or "D",
                                    occurrences=tuple(over), evidence=basis))
        else:
            findings.append(Finding(rule.id, house.id, "ok", "sensor",
                                    f"Voldoet: ophokplicht binnen {fp.housing_order_max_weeks} weken.", evidence=basis))
    return findings


def housing_order_dues(evidence: Evidence, params: Params) -> list[Due]:
    """Warn from week 12 of a housing order in force that the 16-week limit approaches."""
    if "housing_orders" not in evidence.inputs or "free_range" not in evidence.farm.housings:
        return []
    fp = params.sensor_rules.free_range
    today = evidence.today
    dues = []
    for s, e in _merged_orders(_orders(evidence)):
        if s <= today and (e is None or e >= today) and today - s >= timedelta(weeks=fp.housing_order_warn_weeks):
            limit = s + timedelta(weeks=fp.housing_order_max_weeks)
            dues.append(Due("H3.12.11", None, limit,
                            f"Ophokplicht sinds {s.isoformat()}: na {fp.housing_order_max_weeks} weken (vanaf "
                            f"{limit.isoformat()}) geen verkoop meer als 'eieren van hennen met vrije uitloop'",
                            overdue=today >= limit))
    return dues
