"""Logbook rules: what the visitor, pest-control, R&O, checks and flock logbooks prove.

Each evaluator reads ``evidence.inputs["logbooks"]`` (a :class:`LogbookView`
as of ``evidence.at``) and returns findings per location. The judgements where
the scheme leaves room are written down in docs/LOGBOOKS.md; the short form is
in each docstring. A logbook that has never been used here gives ``unknown``
(the farmer may keep it on paper), never ``ok``; once in use, what is missing
in it is a deviation as the seed describes.

Pure: no clock, no I/O.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from rules.catalogue import Rule
from rules.documents import add_months
from rules.evidence import Evidence
from rules.findings import SEVERITY, Due, Finding, Occurrence, worst
from rules.logbooks.flocks import (NVWA_PHONE, FlockView, drop_triggers, empty_since, episodes, flock_on, flocks_by_house,
                          mortality_triggers, response_day, sheet)
from rules.logbooks.records import DetectedTest, Flag, LogbookParams, LogbookView
from rules.params import Params

CHECK_MONTHS = 2  # A3.6 and A4.5.1: "1 keer per 2 maanden" / "minimaal één keer per twee maanden"
LEGAL_TEST_MONTHS = 1  # Dutch law: monthly alarm test and unloaded generator test
SALMONELLA_FIRST = (22, 26)  # E2.1.1: "vanaf 22-26 weken leeftijd"
SALMONELLA_EVERY = 105  # E2.1.1: "elke 15 weken (of 105 dagen)"
SALMONELLA_BEFORE_SLAUGHTER = 21  # E2.1.1: "maximaal 3 weken voor slacht"
DIOXIN_AGE = (30, 45)  # H2.4: "leeftijd tussen 30-45 weken"
RECLEAN, RETEST = 1.5, 2.5  # E4.4.2

NO_LOGBOOKS = "Logboeken niet geladen."


# --------------------------------------------------------------------------- helpers


def _lp(params: Params) -> LogbookParams:
    """Return the logbook thresholds (defaults when the params carry none)."""
    return getattr(params, "logbooks", None) or LogbookParams()


def _view(evidence: Evidence) -> LogbookView | None:
    """Return the logbook view the agent loaded, if any."""
    return evidence.inputs.get("logbooks")


def _start(day: date, evidence: Evidence) -> datetime:
    """Return farm-local midnight at the start of a day."""
    return datetime.combine(day, time(0), evidence.farm.tz)


def _occ(day: date, evidence: Evidence, detail: str, end: date | None = None) -> Occurrence:
    """Return an occurrence spanning whole local days."""
    return Occurrence(_start(day, evidence), _start((end or day) + timedelta(days=1), evidence), detail)


def _unknown(rule: Rule, location: str | None, reason: str) -> Finding:
    """Return an `unknown` logbook finding with its reason."""
    return Finding(rule.id, location, "unknown", "logbook", reason)


def _deviation(rule: Rule, location: str | None, weight: str, occurrences: list[Occurrence],
               evidence_line: str | None = None, fallback: str = "") -> Finding:
    """Return a deviation finding carrying the seed's text for its weight."""
    return Finding(rule.id, location, weight, "logbook", rule.deviation_text(weight) or fallback,
                   tuple(occurrences), evidence_line)


def _nvt(rule: Rule, location: str | None, reason: str | None = None) -> Finding:
    """Return an `nvt` finding with the seed's NVT text (or the given reason)."""
    return Finding(rule.id, location, "nvt", "logbook", reason or rule.nvt or "NVT")


def _judge(rule: Rule, location: str | None, weighted: list[tuple[str, Occurrence]],
           ok_line: str) -> Finding:
    """Return the worst weighted deviation (all occurrences listed), or ok with what was seen."""
    if not weighted:
        return Finding(rule.id, location, "ok", "logbook", ok_line, evidence=ok_line)
    status = worst(w for w, _ in weighted)
    return _deviation(rule, location, status, [o for _, o in weighted], ok_line)


def _days(start: date, end: date):
    """Yield every day from start to end inclusive."""
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _flocks(view: LogbookView) -> dict[str, list[FlockView]]:
    """Return the recorded flocks per house."""
    return flocks_by_house((e.id, e.record) for e in view.of("flocks"))


def _gaps(dates: list[date], anchor: date | None, window_start: date, end: date,
          months: int) -> list[tuple[date, date]]:
    """Return the intervals longer than ``months`` that reach into [window_start, end].

    Intervals run from ``anchor`` (when the thing started, if known) to the first
    date, between dates, and from the last date to ``end`` (still open).
    """
    points = sorted(set(dates))
    if anchor is not None and (not points or anchor < points[0]):
        points = [anchor] + points
    out = []
    for a, b in zip(points, points[1:] + [end]):
        if b > add_months(a, months) and b >= window_start:
            out.append((a, b))
    return out


def _invalid(view: LogbookView, kind: str, since: date, evidence: Evidence) -> list[Occurrence]:
    """Return one occurrence per stored entry of a logbook that lacks required fields."""
    return [_occ(day or since, evidence, f"registratie #{i} onvolledig: {problem}")
            for i, k, problem, day in view.invalid if k == kind and (day is None or day >= since)]


# --------------------------------------------------------------------------- A4.2.2 visitors


def external_visits(view: LogbookView, evidence: Evidence) -> dict[date, list[str]]:
    """Return the days on which other logbooks record someone from outside in the houses.

    A pest-control company's check, a hygienogram sample, a flock delivery
    (placement) and a vet's farm visit (A6.1.2 report) each bring a visitor
    to the clean part of the farm (A4.2.2: "iedere individuele bezoeker").
    """
    days: dict[date, list[str]] = {}
    for r in view.records("pest_control"):
        if r.checked_by == "company":
            days.setdefault(r.date, []).append(f"controle plaagdierbeheersbedrijf (lokdoos {r.bait_box})")
    for r in view.records("hygienogram"):
        days.setdefault(r.sampled_on, []).append(f"hygiënogram stal {r.house} door {r.sampled_by}")
    for r in view.records("flocks"):
        days.setdefault(r.placed_on, []).append(f"opzet koppel stal {r.house} (herkomst {r.origin})")
    for d in evidence.documents:
        if d.rule == "A6.1.2" and d.recorded_at <= evidence.at:
            days.setdefault(d.issued_on, []).append("bedrijfsbezoek dierenarts")
    return days


def eval_visitors(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """A4.2.2: register present (entries), complete (all fields) and current (no unregistered outside visits).

    "Niet actueel" (C): a day since the register came into use on which another
    logbook records an outside visitor (see :func:`external_visits`) but the
    register has no visit.
    """
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    visits = view.records("visitors")
    since, today = evidence.farm.local_date(evidence.since), evidence.today
    if not visits:
        return [_unknown(rule, None, "Nog geen bezoekers geregistreerd in het bezoekersregister van ikb-agent; "
                                     "registreer bezoeken of beantwoord de zelfbeoordeling.")]
    first = min(v.date for v in visits)
    visit_days = {v.date for v in visits}
    weighted = [("B", o) for o in _invalid(view, "visitors", since, evidence)]
    for day, what in sorted(external_visits(view, evidence).items()):
        if max(since, first) <= day <= today and day not in visit_days:
            weighted.append(("C", _occ(day, evidence, "geen bezoeker geregistreerd op een dag met " + "; ".join(what))))
    in_window = [v for v in visits if since <= v.date <= today]
    line = (f"{len(in_window)} bezoek(en) geregistreerd in de periode; register in gebruik sinds "
            f"{first.isoformat()}")
    return [_judge(rule, None, weighted, line)]


# --------------------------------------------------------------------------- A4.5.1 pest control


def _boxes(view: LogbookView, today: date) -> dict[str, tuple[date | None, date | None]]:
    """Return each bait box as (placed on, removed on): from the register, else from the checks."""
    register = {b.number: (b.placed_on, b.removed_on) for b in view.records("bait_boxes") if b.placed_on <= today}
    if register:
        return register
    return {c.bait_box: (None, None) for c in view.records("pest_control")}


def eval_pest_control(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """A4.5.1: every bait box checked at least once per two months, every field recorded.

    C when a box went longer than two calendar months between checks (or since
    it was placed, or since its last check until now), or an entry lacks
    fields; D when registered boxes have had no check at all.
    """
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    since, today = evidence.farm.local_date(evidence.since), evidence.today
    boxes = _boxes(view, today)
    checks = [c for c in view.records("pest_control") if c.date <= today]
    if not boxes:
        return [_unknown(rule, None, "Geen lokdozenregister en geen controles geregistreerd.")]
    lookback = today - timedelta(days=_lp(params).audit_lookback_days)
    recent = [c for c in checks if c.date >= lookback]
    overdue = [n for n, (placed, _) in boxes.items() if placed is None or add_months(placed, CHECK_MONTHS) < today]
    if not recent and overdue:
        occ = _occ(max(since, lookback), evidence, f"geen enkele controle geregistreerd voor lokdoos/lokdozen "
                                                   f"{', '.join(sorted(overdue))}", today)
        return [_deviation(rule, None, "D", [occ], "Geen controles in het logboek plaagdierbeheersing.")]
    weighted = [("C", o) for o in _invalid(view, "pest_control", since, evidence)]
    for number, (placed, removed) in sorted(boxes.items()):
        dates = [c.date for c in checks if c.bait_box == number]
        end = min(removed, today) if removed else today
        for a, b in _gaps(dates, placed, since, end, CHECK_MONTHS):
            still = " (nog steeds niet gecontroleerd)" if b == today and b not in dates else ""
            weighted.append(("C", _occ(a, evidence, f"lokdoos {number}: {(b - a).days} dagen tussen "
                                                    f"{a.isoformat()} en {b.isoformat()}{still}", b)))
    line = f"{len(boxes)} lokdoos/lokdozen; {len([c for c in checks if c.date >= since])} controle(s) in de periode"
    return [_judge(rule, None, weighted, line)]


def due_pest_control(evidence: Evidence, params: Params) -> list[Due]:
    """Return each bait box's next check (A4.5.1: at most two months after the last)."""
    view = _view(evidence)
    if view is None:
        return []
    today = evidence.today
    checks = view.records("pest_control")
    out = []
    for number, (placed, removed) in sorted(_boxes(view, today).items()):
        if removed is not None and removed <= today:
            continue
        dates = [c.date for c in checks if c.bait_box == number and c.date <= today]
        last = max(dates) if dates else placed
        if last is None:
            continue
        due = add_months(last, CHECK_MONTHS)
        out.append(Due("A4.5.1", None, due, f"Lokdoos {number} controleren", overdue=due < today))
    return out


# --------------------------------------------------------------------------- A4.4.5, E4.4.1, E4.4.2: flock change


def _judged_placements(flocks: list[FlockView], evidence: Evidence, params: Params) -> list[FlockView]:
    """Return the placements an audit would look at: those in the last audit year, else the latest."""
    today = evidence.today
    start = min(evidence.farm.local_date(evidence.since), today - timedelta(days=_lp(params).audit_lookback_days))
    placed = [f for f in flocks if f.placed_on <= today]
    recent = [f for f in placed if f.placed_on >= start]
    return recent or placed[-1:]


def eval_cleaning(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """A4.4.5: an R&O record for each house between the previous flock leaving and the next placement."""
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    flocks = _flocks(view)
    lookback = _lp(params).cleaning_lookback_days
    out = []
    for house in evidence.farm.houses:
        placements = _judged_placements(flocks.get(house.id, []), evidence, params)
        if not placements:
            out.append(_unknown(rule, house.id, f"Geen koppel (opzet) geregistreerd voor stal {house.id}; "
                                                "registreer het koppel in het logboek koppels."))
            continue
        weighted, seen = [], []
        for flock in placements:
            empty = empty_since(flocks[house.id], flock, lookback)
            done = [c for c in view.records("cleaning") if c.house == house.id
                    and empty <= c.cleaned_on and c.disinfected_on <= flock.placed_on]
            if done:
                last = max(done, key=lambda c: c.disinfected_on)
                seen.append(f"R&O {last.cleaned_on.isoformat()}/{last.disinfected_on.isoformat()} vóór opzet "
                            f"{flock.placed_on.isoformat()}")
            else:
                weighted.append(("C", _occ(flock.placed_on, evidence,
                                           f"opzet {flock.placed_on.isoformat()}: geen reiniging en ontsmetting "
                                           f"geregistreerd tussen {empty.isoformat()} en "
                                           f"{flock.placed_on.isoformat()}")))
        out.append(_judge(rule, house.id, weighted, "; ".join(seen) or "R&O geregistreerd"))
    return out


def _hygienograms(view: LogbookView, flocks: list[FlockView], flock: FlockView, lookback: int):
    """Return the hygienograms of the house between it emptying and the placement, oldest first."""
    empty = empty_since(flocks, flock, lookback)
    return sorted((h for h in view.records("hygienogram")
                   if h.house == flock.house and empty <= h.sampled_on <= flock.placed_on),
                  key=lambda h: h.sampled_on)


def _flock_change_findings(rule: Rule, evidence: Evidence, params: Params, judge) -> list[Finding]:
    """Run ``judge(house, flocks, flock)`` over each house's recent placements (E4.4.1, E4.4.2)."""
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    flocks = _flocks(view)
    today = evidence.today
    horizon = today - timedelta(days=_lp(params).audit_lookback_days)
    out = []
    for house in evidence.farm.houses:
        placements = [f for f in _judged_placements(flocks.get(house.id, []), evidence, params)
                      if f.placed_on >= horizon]
        if not flocks.get(house.id):
            out.append(_unknown(rule, house.id, f"Geen koppel (opzet) geregistreerd voor stal {house.id}."))
        elif not placements:
            out.append(_nvt(rule, house.id, rule.nvt if rule.id == "E4.4.1" else
                            "NVT: geen nieuw koppel opgezet in het afgelopen jaar (huidig koppel zit nog in de stal)."))
        else:
            findings = [judge(house.id, view, flocks[house.id], f) for f in placements]
            out.append(max(findings, key=lambda f: SEVERITY[f.status]))
    return out


def eval_hygienogram(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E4.4.1: a hygienogram by an accredited HOSOWO body or GPD vet after R&O, before each placement."""
    lookback = _lp(params).cleaning_lookback_days

    def judge(house, view, flocks, flock):
        samples = _hygienograms(view, flocks, flock, lookback)
        if not samples:
            return _unknown(rule, house, f"Geen hygiënogram geregistreerd vóór opzet {flock.placed_on.isoformat()} "
                                         f"in stal {house}; registreer de uitslag.")
        last = samples[-1]
        line = (f"hygiënogram {last.sampled_on.isoformat()} door {last.sampled_by}, uitslag "
                f"{last.score:.1f}".replace(".", ","))
        if not last.accredited:
            return _deviation(rule, house, "D", [_occ(last.sampled_on, evidence, line + " (niet erkend)")], line)
        return Finding(rule.id, house, "ok", "logbook", line, evidence=line)

    return _flock_change_findings(rule, evidence, params, judge)


def eval_hygienogram_score(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E4.4.2: > 1,5 → R&O again before placing (else B); ≥ 2,5 → also a new hygienogram ≤ 1,5 (else D)."""
    lookback = _lp(params).cleaning_lookback_days

    def judge(house, view, flocks, flock):
        samples = _hygienograms(view, flocks, flock, lookback)
        if not samples:
            return _unknown(rule, house, f"Geen hygiënogram geregistreerd vóór opzet {flock.placed_on.isoformat()}.")
        last = samples[-1]
        score = f"{last.score:.1f}".replace(".", ",")
        when = f"hygiënogram {last.sampled_on.isoformat()} uitslag {score}, opzet {flock.placed_on.isoformat()}"
        if last.score >= RETEST:
            return _deviation(rule, house, "D", [_occ(flock.placed_on, evidence, when)], when)
        if last.score > RECLEAN:
            again = [c for c in view.records("cleaning") if c.house == house
                     and c.cleaned_on >= last.sampled_on and c.disinfected_on <= flock.placed_on]
            if not again:
                return _deviation(rule, house, "B", [_occ(flock.placed_on, evidence, when + "; geen nieuwe R&O "
                                                                                       "geregistreerd")], when)
            return Finding(rule.id, house, "ok", "logbook", when + "; opnieuw gereinigd en ontsmet",
                           evidence=when)
        if any(s.score > RECLEAN for s in samples[:-1]):
            return Finding(rule.id, house, "ok", "logbook", when + " (na herhaling)", evidence=when)
        return _nvt(rule, house)

    return _flock_change_findings(rule, evidence, params, judge)


# --------------------------------------------------------------------------- A3.6 generator and alarm checks


def _registered(test: DetectedTest, checks, tz) -> bool:
    """Return whether a detected generator test has a confirmed checks entry."""
    day = test.start.astimezone(tz).date()
    return any(c.event_id == test.id or (c.item == "generator" and c.date == day
                                         and c.house in (None, test.location)) for c in checks)


def eval_checks(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """A3.6: generator and alarm checks recorded at least every two months; detected tests registered.

    C: a gap of more than two months (also from the last check until now);
    B: a test the sensors detected that has no confirmed entry (a draft waiting
    for confirmation counts as not registered); D: no check in the audit year
    although the logbook or the sensors show it is kept. NVT without
    mechanical ventilation.
    """
    view = _view(evidence)
    since, today = evidence.farm.local_date(evidence.since), evidence.today
    tests: tuple[DetectedTest, ...] = evidence.inputs.get("generator_tests", ())
    tz = evidence.farm.tz
    out = []
    for house in evidence.farm.houses:
        if not house.mechanical_ventilation:
            out.append(_nvt(rule, house.id))
            continue
        if view is None:
            out.append(_unknown(rule, house.id, NO_LOGBOOKS))
            continue
        checks = [c for c in view.records("checks") if c.house in (None, house.id) and c.date <= today]
        mine = [t for t in tests if t.location in (None, house.id) and evidence.since <= t.start <= evidence.at]
        weighted = [("B", _occ(t.start.astimezone(tz).date(), evidence,
                               f"aggregaattest gedetecteerd op {t.start.astimezone(tz):%Y-%m-%d %H:%M} niet "
                               f"geregistreerd" + (" (concept wacht op bevestiging)" if any(
                                   d.record.event_id == t.id for d in view.drafts) else "")))
                    for t in mine if not _registered(t, checks, tz) and t.id not in view.dismissed_events]
        if not checks and not weighted:
            out.append(_unknown(rule, house.id, "Nog geen controles van noodstroomaggregaat en alarminstallatie "
                                                "geregistreerd."))
            continue
        lookback = today - timedelta(days=_lp(params).audit_lookback_days)
        if checks and not [c for c in checks if c.date >= lookback]:
            weighted.append(("D", _occ(lookback, evidence, "geen controle in het afgelopen jaar", today)))
        elif checks:
            first = min(c.date for c in checks)
            for item, label in (("generator", "noodstroomaggregaat"), ("alarm", "alarminstallatie")):
                dates = [c.date for c in checks if c.item == item]
                for a, b in _gaps(dates, first, since, today, CHECK_MONTHS):
                    weighted.append(("C", _occ(a, evidence, f"{label}: {(b - a).days} dagen zonder controle "
                                                            f"({a.isoformat()} – {b.isoformat()})", b)))
        faults = tuple(_occ(c.date, evidence, f"storing {c.item} bij controle: {c.notes}".rstrip(": "))
                       for c in checks if c.result == "fault" and c.date >= since)
        last = {i: max((c.date for c in checks if c.item == i), default=None) for i in ("generator", "alarm")}
        line = "laatste controle aggregaat {g}, alarm {a}".format(
            g=last["generator"] or "—", a=last["alarm"] or "—")
        finding = _judge(rule, house.id, weighted, line)
        if faults and finding.status == "ok":
            # A fault found by a check is the check working; the repair is A3.5's business.
            finding = Finding(rule.id, house.id, "ok", "logbook", line, faults, line)
        out.append(finding)
    return out


def due_checks(evidence: Evidence, params: Params) -> list[Due]:
    """Return the next A3.6 check per item, the monthly legal tests and drafts waiting for confirmation."""
    view = _view(evidence)
    if view is None or not any(h.mechanical_ventilation for h in evidence.farm.houses):
        return []
    today = evidence.today
    checks = [c for c in view.records("checks") if c.date <= today]
    out = []
    for item, label, legal in (("generator", "noodstroomaggregaat", "Wettelijke maandelijkse onbelaste test "
                                                                   "noodstroomaggregaat"),
                               ("alarm", "alarminstallatie", "Wettelijke maandelijkse test alarminstallatie")):
        dates = [c.date for c in checks if c.item == item]
        if not dates:
            continue
        last = max(dates)
        due = add_months(last, CHECK_MONTHS)
        out.append(Due("A3.6", None, due, f"Controle {label} (IKB: elke 2 maanden)", overdue=due < today))
        monthly = add_months(last, LEGAL_TEST_MONTHS)
        out.append(Due("A3.6", None, monthly, legal, overdue=monthly < today))
    for d in view.drafts:
        if d.kind == "checks":
            out.append(Due("A3.6", d.record.house, d.record.date,
                           f"Gedetecteerde test van {d.record.date.isoformat()} bevestigen (concept #{d.id})",
                           overdue=True))
    return out


# --------------------------------------------------------------------------- flock day sheet


def _sheet_days(view: LogbookView, flocks: list[FlockView], house: str, evidence: Evidence):
    """Return (judged days with their flock, the house's sheet by date, first sheet day) for E5.3/E4.4.4/E9.4.

    Judged: each day in the window before today on which a flock was in the
    house, from the first day the sheet was kept here.
    """
    entries = {r.date: r for r in view.records("flock_day") if r.house == house}
    if not entries:
        return [], entries, None
    first = min(entries)
    since, today = evidence.farm.local_date(evidence.since), evidence.today
    judged = []
    for day in _days(max(since, first), today - timedelta(days=1)):
        flock = flock_on(flocks, day)
        if flock is not None:
            judged.append((day, flock))
    return judged, entries, first


def _sheet_rule(rule: Rule, evidence: Evidence, params: Params, check) -> list[Finding]:
    """Judge every house's flock day sheet with ``check(day, record) -> problem | None``.

    ``check`` is called with ``record=None`` for a day without an entry.
    Weights: all judged days failing → D; some → the rule's C (or D when it has none).
    """
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    flocks = _flocks(view)
    out = []
    for house in evidence.farm.houses:
        if not flocks.get(house.id):
            out.append(_unknown(rule, house.id, f"Geen koppel geregistreerd voor stal {house.id}."))
            continue
        judged, entries, first = _sheet_days(view, flocks[house.id], house.id, evidence)
        if first is None:
            out.append(_unknown(rule, house.id, f"De koppelkaart van stal {house.id} wordt nog niet in ikb-agent "
                                                "bijgehouden."))
            continue
        if not judged:
            if flock_on(flocks[house.id], evidence.today) is None:
                out.append(_nvt(rule, house.id, f"Geen koppel in stal {house.id} in deze periode."))
            else:
                out.append(Finding(rule.id, house.id, "ok", "logbook", "Koppelkaart bijgehouden.",
                                   evidence="koppelkaart sinds " + first.isoformat()))
            continue
        problems = [(day, check(day, entries.get(day))) for day, _ in judged]
        bad = [(d, p) for d, p in problems if p]
        line = f"koppelkaart {len(judged) - len(bad)} van {len(judged)} dagen in orde"
        if not bad:
            out.append(Finding(rule.id, house.id, "ok", "logbook", line, evidence=line))
            continue
        weight = "D" if len(bad) == len(judged) or not rule.deviation_text("C") else "C"
        out.append(_deviation(rule, house.id, weight, _runs(bad, evidence), line))
    return out


def _runs(bad: list[tuple[date, str]], evidence: Evidence) -> list[Occurrence]:
    """Merge consecutive days with the same problem into one occurrence each."""
    out: list[list] = []
    for day, problem in bad:
        if out and out[-1][2] == problem and (day - out[-1][1]).days == 1:
            out[-1][1] = day
        else:
            out.append([day, day, problem])
    return [_occ(a, evidence, p if a == b else f"{p} ({a.isoformat()} t/m {b.isoformat()})", b)
            for a, b, p in out]


def eval_daily_inspection(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E5.3: the flock inspected at least once a day, shown on the day sheet (C: not every day; D: none)."""
    def check(day, r):
        if r is None:
            return "geen koppelkaartregel"
        return None if r.inspected else "niet gecontroleerd"
    return _sheet_rule(rule, evidence, params, check)


def eval_dead_removed(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E4.4.4: dead hens removed daily, shown by a daily sheet entry (D when a day is not shown)."""
    def check(day, r):
        if r is None:
            return "geen koppelkaartregel (controle niet aantoonbaar)"
        if not r.inspected:
            return "geen controle uitgevoerd"
        return None if r.dead_removed else "dode hennen niet verwijderd"
    return _sheet_rule(rule, evidence, params, check)


def eval_flock_records(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E9.4: per flock the eggs produced and the mortality of every day (C: gaps; D: none in the period)."""
    def check(day, r):
        if r is None:
            return "geen eieren en uitval geregistreerd"
        return None if r.eggs is not None else "aantal eieren ontbreekt"
    return _sheet_rule(rule, evidence, params, check)


def _flock_sheets(view: LogbookView, house: str, flocks: list[FlockView]):
    """Yield (flock, its sheet by date) for each flock of a house."""
    days = [r for r in view.records("flock_day") if r.house == house]
    for flock in flocks:
        yield flock, sheet(days, flock)


def _response_rule(rule: Rule, evidence: Evidence, params: Params, triggers_of, field: str, late: str,
                   never: str, todo: str) -> list[Finding]:
    """Judge A6.2.1/A6.2.2: after each trigger episode, was the vet consulted / NVWA told in time?"""
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    flocks = _flocks(view)
    since, today = evidence.farm.local_date(evidence.since), evidence.today
    grace = _lp(params).report_grace_days
    out = []
    for house in evidence.farm.houses:
        weighted, pending, handled, seen_days = [], [], [], 0
        for flock, days in _flock_sheets(view, house.id, flocks.get(house.id, [])):
            days = {d: r for d, r in days.items() if d <= today}
            seen_days += len([d for d in days if d >= since])
            for run in episodes(triggers_of(flock, days)):
                start = run[0].day
                if run[-1].day < since:
                    continue
                answered = response_day(days, start - timedelta(days=1), field)
                deadline = start + timedelta(days=grace)
                detail = f"{flock.label()}: {run[0].detail}"
                if answered is not None and answered <= deadline:
                    handled.append(f"{detail}; {todo.split(' (')[0]} op {answered.isoformat()}")
                    continue
                if answered is not None:
                    weighted.append((late, _occ(start, evidence, f"{detail}; pas op {answered.isoformat()}", answered)))
                elif today > deadline:
                    weighted.append((never, _occ(start, evidence, f"{detail}; niet geregistreerd", today)))
                else:
                    pending.append(f"{detail}: {todo} uiterlijk {deadline.isoformat()}")
        if weighted:
            out.append(_judge(rule, house.id, weighted, ""))
        elif pending:
            out.append(_unknown(rule, house.id, "; ".join(pending)))
        elif handled:
            out.append(Finding(rule.id, house.id, "ok", "logbook", "; ".join(handled), evidence="; ".join(handled)))
        elif seen_days:
            out.append(_nvt(rule, house.id))
        else:
            out.append(_unknown(rule, house.id, f"Geen koppelkaart van stal {house.id} in deze periode."))
    return out


def eval_vet(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """A6.2.1: after two days of ≥ 5 % fewer eggs (or > 5 % less water or feed) the vet is consulted in time."""
    return _response_rule(rule, evidence, params, lambda flock, days: drop_triggers(days), "vet_consulted",
                          "D", "D", "dierenarts raadplegen")


def eval_nvwa(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """A6.2.2: after two days of ≥ 0,5 % or a week of > 3 % mortality NVWA is told in time (C late, D never)."""
    return _response_rule(rule, evidence, params, mortality_triggers, "nvwa_reported", "C", "D",
                          f"melden bij NVWA ({NVWA_PHONE})")


def due_reports(evidence: Evidence, params: Params) -> list[Due]:
    """Return open A6.2.1/A6.2.2 duties: a vet to consult or NVWA to tell."""
    view = _view(evidence)
    if view is None:
        return []
    flocks = _flocks(view)
    today, grace = evidence.today, _lp(params).report_grace_days
    out = []
    for house in evidence.farm.houses:
        for flock, days in _flock_sheets(view, house.id, flocks.get(house.id, [])):
            for rule, triggers, field, what in (
                    ("A6.2.2", mortality_triggers(flock, days), "nvwa_reported", f"Melden bij NVWA ({NVWA_PHONE})"),
                    ("A6.2.1", drop_triggers(days), "vet_consulted", "Dierenarts raadplegen")):
                for run in episodes(triggers):
                    deadline = run[0].day + timedelta(days=grace)
                    # Duties of the last week: older ones are findings, not to-dos.
                    if deadline >= today - timedelta(days=7) and response_day(
                            days, run[0].day - timedelta(days=1), field) is None:
                        out.append(Due(rule, house.id, deadline, f"{what}: {run[0].detail}",
                                       overdue=deadline < today))
    return out


# --------------------------------------------------------------------------- H3.12.10 free-range journal


def eval_free_range_journal(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """H3.12.10: every day the range's hours are recorded, by pop-hole sensor or by hand.

    A day counts when the journal has an entry for the house or its pop-hole
    sensor reported that day. Days judged: from the first recorded day, while a
    flock is in the house (every day when no flocks are recorded). Up to
    ``free_range_minor_gap_days`` missing → C, more → D.
    """
    view = _view(evidence)
    sensed: dict[str, frozenset] = evidence.inputs.get("pophole_days", {})
    since, today = evidence.farm.local_date(evidence.since), evidence.today
    minor = _lp(params).free_range_minor_gap_days
    out = []
    for house in evidence.farm.houses:
        if not rule.applies(house.housing):
            continue
        manual = {r.date for r in view.records("free_range") if r.house == house.id} if view else set()
        known = manual | set(sensed.get(house.id, ()))
        if not known:
            out.append(_unknown(rule, house.id, f"Geen uitloopjournaal voor stal {house.id}: geen luiksensor en geen "
                                                "handmatige registratie."))
            continue
        flocks = _flocks(view).get(house.id, []) if view else []
        days = [d for d in _days(max(since, min(known)), today - timedelta(days=1))
                if not flocks or flock_on(flocks, d) is not None]
        missing = [(d, "geen uren uitloop geregistreerd") for d in days if d not in known]
        line = f"uitloopjournaal {len(days) - len(missing)} van {len(days)} dagen geregistreerd"
        if not missing:
            out.append(Finding(rule.id, house.id, "ok", "logbook", line, evidence=line))
        else:
            weight = "C" if len(missing) <= minor else "D"
            out.append(_deviation(rule, house.id, weight, _runs(missing, evidence), line))
    return out


# --------------------------------------------------------------------------- E2.1.1 Salmonella, H2.4 dioxin


def _samples(view: LogbookView, flock: FlockView, kind: str, until: date) -> list:
    """Return the samples of one kind taken from a flock while it was in its house, oldest first."""
    return sorted((s for s in view.records("samples") if s.kind == kind and s.house == flock.house
                   and flock.present(s.sampled_on) and s.sampled_on <= until), key=lambda s: s.sampled_on)


def salmonella_schedule(flock: FlockView, samples: list, today: date) -> list[tuple[date, date | None]]:
    """Return (due date, date taken or None) for each E2.1.1 round up to today.

    Round one falls due at 26 weeks (samples before 22 weeks do not count);
    each next round 105 days after the previous sample (or its due date when
    missed); before slaughter a sample within 3 weeks of the last day.
    """
    taken = [s.sampled_on for s in samples if s.sampled_on >= flock.at_age(SALMONELLA_FIRST[0])]
    end = flock.depopulated_on or today
    rounds: list[tuple[date, date | None]] = []
    floor, due = flock.at_age(SALMONELLA_FIRST[0]), flock.at_age(SALMONELLA_FIRST[1])
    while True:
        got = next((d for d in taken if d >= floor), None)
        if got is None and due > end:
            if flock.depopulated_on is None:
                rounds.append((due, None))  # the next round, not yet due
            break
        rounds.append((due, got))
        base = got if got is not None else due
        floor, due = base + timedelta(days=1), base + timedelta(days=SALMONELLA_EVERY)
    if flock.depopulated_on is not None and flock.depopulated_on <= today:
        window = flock.depopulated_on - timedelta(days=SALMONELLA_BEFORE_SLAUGHTER)
        last = next((d for d in reversed(taken) if window <= d <= flock.depopulated_on), None)
        rounds.append((flock.depopulated_on, last))
    return rounds


def _flocks_in_window(flocks: list[FlockView], start: date, end: date) -> list[FlockView]:
    """Return the flocks that were in the house at some day of [start, end]."""
    return [f for f in flocks if f.placed_on <= end and (f.depopulated_on is None or f.depopulated_on >= start)]


def eval_salmonella(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E2.1.1: Salmonella sampling per flock and house from 22–26 weeks, every 105 days, and before slaughter.

    Up to a week late → B (the interpretation's tolerance); later → D; a round
    whose time has passed without a sample → KO, once the samples logbook is in
    use (else unknown). Rounds that fell due in the last audit year are judged.
    """
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    lp = _lp(params)
    flocks = _flocks(view)
    since, today = evidence.farm.local_date(evidence.since), evidence.today
    horizon = today - timedelta(days=lp.audit_lookback_days)
    in_use = any(s.kind == "salmonella" for s in view.records("samples"))
    out = []
    for house in evidence.farm.houses:
        present = _flocks_in_window(flocks.get(house.id, []), since, today)
        if not present:
            out.append(_unknown(rule, house.id, f"Geen koppel geregistreerd in stal {house.id}."))
            continue
        weighted, lines, missing = [], [], []
        for flock in present:
            for due, got in salmonella_schedule(flock, _samples(view, flock, "salmonella", today), today):
                if due < horizon:
                    continue
                late = (got - due).days if got else (today - due).days
                what = f"{flock.label()}: onderzoek uiterlijk {due.isoformat()}"
                if got is not None and late <= 0:
                    lines.append(f"onderzoek {got.isoformat()}")
                elif got is not None:
                    weight = "B" if late <= lp.salmonella_tolerance_days else "D"
                    weighted.append((weight, _occ(due, evidence, f"{what}, uitgevoerd {got.isoformat()} "
                                                                 f"({late} dagen te laat)", got)))
                elif late > lp.salmonella_tolerance_days:
                    if in_use:
                        weighted.append(("KO", _occ(due, evidence, f"{what}: niet uitgevoerd", today)))
                    else:
                        missing.append(what)
                else:
                    lines.append(f"volgende onderzoek uiterlijk {due.isoformat()}")
        if weighted:
            out.append(_deviation(rule, house.id, worst(w for w, _ in weighted), [o for _, o in weighted],
                                  "; ".join(lines) or None,
                                  fallback="Onderzoek maximaal 1 week te laat (tolerantie, sanctie B)."))
        elif missing:
            out.append(_unknown(rule, house.id, "Geen Salmonella-onderzoek geregistreerd: " + "; ".join(missing)))
        else:
            line = "; ".join(lines) or "eerste onderzoek tussen 22 en 26 weken leeftijd"
            out.append(Finding(rule.id, house.id, "ok", "logbook", line, evidence=line))
    return out


def eval_dioxin(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """H2.4: once per laying round, at 30–45 weeks, eggs tested for dioxins (C: wrong age/lab; D: none).

    NVT when no flock of the house was 30–45 weeks old in the past year. A
    missing test is D once the samples logbook is in use, else unknown.
    """
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    lp = _lp(params)
    flocks = _flocks(view)
    today = evidence.today
    horizon = today - timedelta(days=lp.audit_lookback_days)
    in_use = bool(view.records("samples"))
    out = []
    for house in evidence.farm.houses:
        if not rule.applies(house.housing):
            continue
        if not flocks.get(house.id):
            out.append(_unknown(rule, house.id, f"Geen koppel geregistreerd in stal {house.id}."))
            continue
        relevant = [f for f in flocks[house.id]
                    if f.at_age(DIOXIN_AGE[0]) <= today and f.at_age(DIOXIN_AGE[1]) >= horizon
                    and (f.depopulated_on is None or f.depopulated_on >= f.at_age(DIOXIN_AGE[0]))]
        if not relevant:
            out.append(_nvt(rule, house.id))
            continue
        weighted, lines, missing = [], [], []
        for flock in relevant:
            lo, hi = flock.at_age(DIOXIN_AGE[0]), flock.at_age(DIOXIN_AGE[1])
            tests = _samples(view, flock, "dioxin", today)
            good = [s for s in tests if lo <= s.sampled_on <= hi and s.accredited]
            if good:
                lines.append(f"{flock.label()}: dioxineonderzoek {good[0].sampled_on.isoformat()}")
            elif tests:
                s = tests[-1]
                weighted.append(("C", _occ(s.sampled_on, evidence, f"{flock.label()}: onderzoek "
                                                                    f"{s.sampled_on.isoformat()} buiten 30-45 weken "
                                                                    f"of niet volgens protocol")))
            elif today > hi and in_use:
                weighted.append(("D", _occ(hi, evidence, f"{flock.label()}: geen onderzoek tussen {lo.isoformat()} "
                                                         f"en {hi.isoformat()}")))
            elif today > hi:
                missing.append(f"{flock.label()}: onderzoek tussen {lo.isoformat()} en {hi.isoformat()}")
            else:
                lines.append(f"{flock.label()}: onderzoek tussen {lo.isoformat()} en {hi.isoformat()}")
        if weighted:
            out.append(_judge(rule, house.id, weighted, "; ".join(lines)))
        elif missing:
            out.append(_unknown(rule, house.id, "Geen dioxineonderzoek geregistreerd: " + "; ".join(missing)))
        else:
            out.append(Finding(rule.id, house.id, "ok", "logbook", "; ".join(lines), evidence="; ".join(lines)))
    return out


def due_samples(evidence: Evidence, params: Params) -> list[Due]:
    """Return the next Salmonella round (E2.1.1) and a pending dioxin test (H2.4) per house."""
    view = _view(evidence)
    if view is None:
        return []
    today = evidence.today
    out = []
    for house, flocks in _flocks(view).items():
        flock = flock_on(flocks, today)
        if flock is None:
            continue
        rounds = salmonella_schedule(flock, _samples(view, flock, "salmonella", today), today)
        open_rounds = [due for due, got in rounds if got is None]
        if open_rounds:
            due = open_rounds[0]
            out.append(Due("E2.1.1", house, due, f"Salmonella-onderzoek {flock.label()}", overdue=due < today))
        hi = flock.at_age(DIOXIN_AGE[1])
        housing = next((h.housing for h in evidence.farm.houses if h.id == house), None)
        if housing in ("free_range", "organic") and not any(
                flock.at_age(DIOXIN_AGE[0]) <= s.sampled_on <= hi for s in _samples(view, flock, "dioxin", today)):
            if today <= hi:
                out.append(Due("H2.4", house, hi, f"Dioxineonderzoek eieren (30-45 weken) {flock.label()}"))
    return out


# --------------------------------------------------------------------------- flags at the moment of writing


def _flock_day_flags(record, view: LogbookView) -> list[Flag]:
    """Return the A6.2.2 / A6.2.1 alerts a new day-sheet entry raises, and missing-flock warnings."""
    flocks = _flocks(view).get(record.house, [])
    flock = flock_on(flocks, record.date)
    if flock is None:
        return [Flag("no_flock", "E9.4", "warning", f"Geen koppel geregistreerd in stal {record.house} op "
                                                    f"{record.date.isoformat()}: registreer het koppel (opzet).",
                     record.house)]
    days = sheet(view.records("flock_day"), flock)
    out = []
    if not record.inspected:
        out.append(Flag("not_inspected", "E5.3", "warning", "Het koppel moet ten minste eenmaal per dag "
                                                             "gecontroleerd worden (E5.3).", record.house))
    for code, rule, triggers, field, todo in (
            ("report_nvwa", "A6.2.2", mortality_triggers(flock, days), "nvwa_reported",
             f"meld dit vandaag bij de NVWA ({NVWA_PHONE}) en registreer de melding"),
            ("consult_vet", "A6.2.1", drop_triggers(days), "vet_consulted",
             "raadpleeg vandaag de dierenarts en registreer dat")):
        for run in episodes(triggers):
            if record.date in {t.day for t in run} and response_day(
                    days, run[0].day - timedelta(days=1), field) is None:
                out.append(Flag(code, rule, "alert", f"Stal {record.house}: {run[-1].detail}: {todo} ({rule}).",
                                record.house))
    return out


def entry_flags(kind: str, record, view: LogbookView) -> list[Flag]:
    """Return what the farmer must see at once about an entry just written (view includes it)."""
    if kind == "visitors" and record.poultry_contact_48h:
        return [Flag("poultry_contact_48h", "A4.2.2", "alert",
                     f"{record.name} ({record.organisation}) was in de afgelopen 48 uur op een pluimveebedrijf waar "
                     "een besmettelijke ziekte heerst: geen toegang tot de stallen zonder overleg met de dierenarts.")]
    if kind == "flock_day":
        return _flock_day_flags(record, view)
    if kind == "hygienogram":
        out = []
        score = f"{record.score:.1f}".replace(".", ",")
        if record.score >= RETEST:
            out.append(Flag("hygienogram_retest", "E4.4.2", "alert",
                            f"Hygiënogram stal {record.house} uitslag {score} (≥ 2,5): opnieuw reinigen en ontsmetten "
                            "en een nieuw hygiënogram laten nemen; pas bij ≤ 1,5 mag het koppel erin.", record.house))
        elif record.score > RECLEAN:
            out.append(Flag("hygienogram_reclean", "E4.4.2", "warning",
                            f"Hygiënogram stal {record.house} uitslag {score} (> 1,5): opnieuw reinigen en ontsmetten "
                            "vóór het opzetten van het nieuwe koppel.", record.house))
        if not record.accredited:
            out.append(Flag("hygienogram_not_accredited", "E4.4.1", "warning",
                            "Een hygiënogram moet door een erkende HOSOWO-instantie of GPD-dierenarts worden "
                            "uitgevoerd.", record.house))
        return out
    if kind == "checks" and record.result == "fault":
        what = ITEM_LABELS[record.item]
        return [Flag("check_fault", "A3.6", "alert", f"Storing bij controle {what}: laat dit direct herstellen "
                                                     "(A3.4/A3.5).", record.house)]
    if kind == "bait_boxes" and not record.fixed:
        return [Flag("bait_box_not_fixed", "A4.5.3", "warning",
                     f"Lokdoos {record.number} is niet vastgezet: pluimvee mag niet bij het middel kunnen (A4.5.3).")]
    if kind == "pest_control":
        register = {b.number for b in view.records("bait_boxes")}
        if record.bait_box not in register:
            return [Flag("unregistered_bait_box", "A4.5.3", "warning",
                         f"Lokdoos {record.bait_box} staat niet in het lokdozenregister; voeg hem toe met nummer, "
                         "locatie, plaagdier en middel (A4.5.2/A4.5.3).")]
    if kind == "samples" and record.result in ("positive", "non_compliant"):
        return [Flag("sample_positive", record.kind == "salmonella" and "E2.1.1" or "H2.4", "alert",
                     f"Uitslag {record.kind} stal {record.house} van {record.sampled_on.isoformat()} is "
                     f"{'positief' if record.result == 'positive' else 'afwijkend'}: neem contact op met uw "
                     "dierenarts.", record.house)]
    return []


ITEM_LABELS = {"generator": "noodstroomaggregaat", "alarm": "alarminstallatie"}


# --------------------------------------------------------------------------- registration

EVALUATORS = {
    "A4.2.2": eval_visitors,
    "A4.5.1": eval_pest_control,
    "A4.4.5": eval_cleaning,
    "E4.4.1": eval_hygienogram,
    "E4.4.2": eval_hygienogram_score,
    "A3.6": eval_checks,
    "E5.3": eval_daily_inspection,
    "E4.4.4": eval_dead_removed,
    "E9.4": eval_flock_records,
    "A6.2.1": eval_vet,
    "A6.2.2": eval_nvwa,
    "H3.12.10": eval_free_range_journal,
    "E2.1.1": eval_salmonella,
    "H2.4": eval_dioxin,
}

DUE_PROVIDERS = [due_checks, due_pest_control, due_samples, due_reports]
