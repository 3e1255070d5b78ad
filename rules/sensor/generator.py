"""A3.5: a working emergency generator — outages, test runs, and the legal monthly test.

From the mains and generator state sensors:

- a **mains outage** is a stretch with the mains ``off``. Longer than
  ``start_grace_seconds``, the generator must be ``running`` by then and keep
  running until the mains return; if it is known not to be → D "Geen werkende
  noodstroomaggregaat aanwezig". Unknown generator state → unknown.
- a **test run** is the generator running while the mains are present, at least
  ``min_test_minutes``. It fails when the generator reports ``fault`` during it or
  within 5 minutes after; a fault while the mains are present without a run is a
  failed start. A failed test is D until a later successful run or check shows
  the generator repaired; a failed check in the checks logbook counts the same.
- ``ok`` needs a successful run (test, outage bridged, or a logbook check) within
  A3.6's two months (``rules.logbooks.CHECK_MONTHS``); houses without mechanical ventilation are ``nvt``.
- The seed's alternative: a house whose ventilation flaps open by themselves on
  power failure (``flaps_open_on_power_failure``) needs no generator: ``ok``
  on that configuration, left out of the generator groups and their dues.

The agent stores the detected outages and tests as events (``mains_outage``,
``generator_test``) so the checks logbook can draft them for the farmer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Sequence

from rules.catalogue import Rule
from rules.documents import add_months
from rules.evidence import Evidence
from rules.findings import Due, Finding, Occurrence
from rules.kinds import GENERATOR_FAULT, GENERATOR_OFF, GENERATOR_RUNNING, MAINS_OFF, MAINS_ON
from rules.logbooks import CHECK_MONTHS, GENERATOR_ITEMS
from rules.params import Params
from rules.sensor.law import LEGAL_TEST_MONTHS, LOAD_TEST_MONTHS, RECORDS_MONTHS, check_dates
from rules.sensor.states import intervals, overlap, state_at, timeline
from rules.sensor.timeseries import MINUTE, SensorDays, hm, merge_intervals, to_dt, to_ms
from rules.sensor.ventilation import Part, combine, nvt
from rules.sensor_params import GeneratorParams

FAULT_AFTER_MS = 5 * MINUTE


@dataclass(frozen=True, slots=True)
class Episode:
    """A detected mains outage or generator test run."""

    kind: str  # mains_outage | generator_test
    start: int
    end: int | None  # None: still going on
    result: str  # outage: ok | failed | unknown | short; test: ok | fault
    detail: str
    started_after_ms: int | None = None

    @property
    def success(self) -> bool:
        """Return whether the generator was seen running as it should."""
        return self.result == "ok"


def _states(sensors: Sequence[SensorDays], lo: int, hi: int) -> list[list]:
    """Return each sensor's timeline over ``[lo, hi)``."""
    return [timeline(s.days, lo, hi) for s in sensors]


def _union(runs_list: Sequence[list], code: int) -> list[tuple[int, int]]:
    """Return where any sensor reported ``code``."""
    return merge_intervals(iv for runs in runs_list for iv in intervals(runs, code))


def _known(runs_list: Sequence[list]) -> list[tuple[int, int]]:
    """Return where any sensor was heard."""
    return merge_intervals((s, e) for runs in runs_list for s, e, c, _l in runs if c is not None)


def episodes(mains: Sequence[SensorDays], generator: Sequence[SensorDays], p: GeneratorParams,
             lo: int, hi: int) -> list[Episode]:
    """Return the outages and test runs in ``[lo, hi)``, oldest first."""
    mains_runs, gen_runs = _states(mains, lo, hi), _states(generator, lo, hi)
    off, on = _union(mains_runs, MAINS_OFF), _union(mains_runs, MAINS_ON)
    running, fault = _union(gen_runs, GENERATOR_RUNNING), _union(gen_runs, GENERATOR_FAULT)
    stopped = merge_intervals(_union(gen_runs, GENERATOR_OFF) + fault)
    known = _known(gen_runs)
    grace = p.start_grace_seconds * 1000
    out: list[Episode] = []
    for s, e in off:
        end = None if e >= hi else e
        if end is None and e - s <= grace:
            continue  # just started: the generator still has time to start
        if e - s <= grace:
            out.append(Episode("mains_outage", s, end, "short", f"stroomuitval van {hm(e - s)}, korter dan de "
                                                                f"opstarttijd van {p.start_grace_seconds} s"))
            continue
        deadline = s + grace
        start = next((max(rs, s) for rs, re in running if re > s and rs <= deadline), None)
        if start is not None:
            after = start - s
            if overlap(stopped, start, e):
                out.append(Episode("mains_outage", s, end, "failed",
                                   f"stroomuitval van {hm(e - s)}: aggregaat startte na {after // 1000} s "
                                   f"maar viel uit tijdens de stroomuitval", after))
            elif overlap(running, start, e) >= (e - start) - MINUTE:
                out.append(Episode("mains_outage", s, end, "ok",
                                   f"stroomuitval van {hm(e - s)}: aggregaat draaide na {after // 1000} s", after))
            else:
                out.append(Episode("mains_outage", s, end, "unknown",
                                   f"stroomuitval van {hm(e - s)}: aggregaat gestart na {after // 1000} s, "
                                   f"daarna niet steeds gehoord", after))
            continue
        at_deadline = state_at([(a, b, 1, None) for a, b in stopped], min(deadline, e - 1))
        if at_deadline is not None:
            out.append(Episode("mains_outage", s, end, "failed",
                               f"stroomuitval van {hm(e - s)}: aggregaat niet gestart binnen "
                               f"{p.start_grace_seconds} s"))
        elif overlap(known, s, min(e, deadline + grace)) == 0:
            out.append(Episode("mains_outage", s, end, "unknown",
                               f"stroomuitval van {hm(e - s)}: aggregaat niet gehoord"))
        else:
            out.append(Episode("mains_outage", s, end, "unknown",
                               f"stroomuitval van {hm(e - s)}: start van het aggregaat niet vastgesteld"))
    for s, e in running:
        if not overlap(on, s, s + 1):
            continue  # running without mains: an outage, judged above
        end = None if e >= hi else e
        if e - s < p.min_test_minutes * MINUTE and end is not None:
            continue
        failed = overlap(fault, s, e + FAULT_AFTER_MS) > 0
        out.append(Episode("generator_test", s, end, "fault" if failed else "ok",
                           f"proefdraai van {hm(e - s)}" + (": aggregaat meldt storing" if failed else "")))
    for s, e in fault:
        touches = any(rs <= e + FAULT_AFTER_MS and re + FAULT_AFTER_MS >= s for rs, re in running)
        if not touches and overlap(on, s, s + 1):
            out.append(Episode("generator_test", s, None if e >= hi else e, "fault",
                               "aggregaat meldt storing (start mislukt)"))
    return sorted(out, key=lambda x: x.start)


@dataclass(frozen=True)
class Group:
    """The houses one generator serves, and its sensors."""

    location: str | None  # None: one generator for the whole farm
    generator: tuple[SensorDays, ...]
    mains: tuple[SensorDays, ...]


def groups(evidence: Evidence, params: Params) -> list[Group]:
    """Return the generator groups of the farm: one farm-wide or one per mechanically ventilated house."""
    gen = evidence.inputs.get("generator") or {}
    mains = evidence.inputs.get("mains") or {}
    farm_wide = params.sensor_rules.generator.farm_wide
    if farm_wide is None:
        farm_wide = sum(len(v) for v in gen.values()) <= 1
    if farm_wide:
        if not _needing(evidence):
            return []  # every ventilated house has flaps that open by themselves: no generator needed
        return [Group(None, tuple(s for v in gen.values() for s in v), tuple(s for v in mains.values() for s in v))]
    return [Group(h.id, tuple(gen.get(h.id, ())), tuple(mains.get(h.id, ()))) for h in _needing(evidence)]


def _needing(evidence: Evidence) -> list:
    """Return the houses that need a generator: mechanically ventilated, without flaps that open by themselves."""
    return [h for h in evidence.farm.houses if h.mechanical_ventilation and not h.flaps]


def history_start(evidence: Evidence, params: Params) -> datetime:
    """Return how far back the generator history must reach: the window, or the legal records' 13 months."""
    back = datetime.combine(add_months(evidence.today, -RECORDS_MONTHS), time(0), evidence.farm.tz)
    return min(evidence.since, back)


def _checks(evidence: Evidence, items: tuple[str, ...], location: str | None = None) -> list:
    """Return the checks-logbook entries of these items up to today for a group, oldest first.

    A check without a house counts for every group; a farm-wide group takes every check.
    """
    return sorted((c for c in evidence.inputs.get("checks", ()) if c.item in items and c.day <= evidence.today
                   and (location is None or c.house in (None, location))), key=lambda c: c.day)


def _judge(group: Group, evidence: Evidence, params: Params) -> Part:
    """Judge one generator group over the window."""
    p = params.sensor_rules.generator
    tz = evidence.farm.tz
    lo, hi = to_ms(evidence.since), to_ms(evidence.at)
    found = episodes(group.mains, group.generator, p, to_ms(history_start(evidence, params)), hi)
    checks = _checks(evidence, GENERATOR_ITEMS, group.location)
    if not group.generator and not group.mains and not checks:
        return Part("unknown", (), "Geen aggregaat- of netspanningssensor ingesteld en geen controle in het logboek.")
    successes = [e.start for e in found if e.success] + [
        to_ms(datetime.combine(c.day, time(23, 59), tz)) for c in checks if c.result == "ok"]
    deviations = []
    for e in found:
        if e.end is not None and e.end < lo or e.start >= hi:
            continue
        if e.kind == "mains_outage" and e.result == "failed":
            deviations.append(Occurrence(to_dt(e.start), to_dt(e.end) if e.end else None, e.detail))
        if e.kind == "generator_test" and e.result == "fault" and not any(t > e.start for t in successes):
            deviations.append(Occurrence(to_dt(e.start), to_dt(e.end) if e.end else None,
                                         e.detail + "; nog geen geslaagde proefdraai daarna"))
    for c in checks:
        moment = to_ms(datetime.combine(c.day, time(12), tz))
        if c.result == "fault" and lo <= moment < hi and not any(t > moment for t in successes):
            deviations.append(Occurrence(datetime.combine(c.day, time(0), tz), None,
                                         f"controle van {c.day.isoformat()} in het logboek: storing; "
                                         "nog geen geslaagde controle daarna"))
    if deviations:
        return Part("D", tuple(deviations), f"Aggregaat: {len(deviations)} keer niet werkend")
    unverified = [e for e in found if e.kind == "mains_outage" and e.result == "unknown"
                  and (e.end is None or e.end >= lo)]
    if unverified:
        return Part("unknown", tuple(Occurrence(to_dt(e.start), to_dt(e.end) if e.end else None, e.detail)
                                     for e in unverified),
                    "Onvoldoende gegevens: niet vastgesteld of het aggregaat draaide tijdens een stroomuitval.")
    # Evidence of a working generator is as fresh as A3.6 asks its checks to be.
    cutoff = to_ms(datetime.combine(add_months(evidence.today, -CHECK_MONTHS), time(0), tz))
    recent = [t for t in successes if cutoff <= t <= hi]
    if not recent:
        return Part("unknown", (), f"Geen geslaagde proefdraai, stroomuitval met draaiend aggregaat of controle "
                                   f"in de laatste {CHECK_MONTHS} maanden.")
    last = to_dt(max(recent)).astimezone(tz).date().isoformat()
    return Part("ok", (), f"Aggregaat laatst aantoonbaar gedraaid op {last}")


FLAPS = ("Voldoet: de ventilatiekleppen vallen bij stroomuitval vanzelf open (volgens de configuratie; het "
         "alternatief van A3.5 voor een noodstroomaggregaat).")


def evaluate_a3_5(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """Return A3.5 per generator group; nvt without mechanical ventilation; ok for flaps that open by themselves."""
    if "generator" not in evidence.inputs and "mains" not in evidence.inputs:
        return []
    findings = [nvt(rule, h.id) for h in evidence.farm.houses if not h.mechanical_ventilation]
    # A3.5: "... of de ventilatiekleppen vallen automatisch open bij het uitvallen van de stroom".
    findings += [Finding(rule.id, h.id, "ok", "sensor", FLAPS, evidence="Stal met kleppen die bij stroomuitval "
                                                                        "openvallen (flaps_open_on_power_failure)")
                 for h in evidence.farm.houses if h.mechanical_ventilation and h.flaps]
    for group in groups(evidence, params):
        findings.append(combine(rule, group.location, [_judge(group, evidence, params)],
                                "Voldoet: werkend noodstroomaggregaat aangetoond."))
    return findings


def generator_dues(evidence: Evidence, params: Params) -> list[Due]:
    """Return Dutch law's monthly unloaded test run and yearly load test of each generator (rules.sensor.law).

    The last test is the latest of the runs the sensors detected and the generator checks in the
    logbook; the load test only from ``generator_load`` checks.
    """
    if not any(h.mechanical_ventilation for h in evidence.farm.houses):
        return []
    p = params.sensor_rules.generator
    today = evidence.today
    hi = to_ms(evidence.at)
    dues = []
    for group in groups(evidence, params):
        found = episodes(group.mains, group.generator, p, to_ms(history_start(evidence, params)), hi)
        tests: list[date] = [to_dt(e.start).astimezone(evidence.farm.tz).date() for e in found
                             if e.kind == "generator_test"] + check_dates(evidence, GENERATOR_ITEMS, group.location)
        due = add_months(max(tests), LEGAL_TEST_MONTHS) if tests else today
        dues.append(Due("A3.5", group.location, due,
                        "Wettelijk (Besluit houders van dieren): maandelijkse proefdraai van het "
                        "noodstroomaggregaat zonder belasting, vastleggen in het controlelogboek",
                        overdue=due < today or not tests))
        loaded = check_dates(evidence, ("generator_load",), group.location)
        due = add_months(max(loaded), LOAD_TEST_MONTHS) if loaded else today
        dues.append(Due("A3.5", group.location, due,
                        "Wettelijk (Besluit houders van dieren): jaarlijkse test van het noodstroomaggregaat onder "
                        "belasting" + ("" if loaded else " — nog niet vastgelegd in het controlelogboek"),
                        overdue=due < today or not loaded))
    return dues
