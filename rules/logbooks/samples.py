"""E2.1.1 and H2.4: laboratory samples per flock (Salmonella, dioxin) — the record and the schedules."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import field_validator

from rules.catalogue import Rule
from rules.evidence import Evidence
from rules.findings import Due, Finding, worst
from rules.logbooks.common import NO_LOGBOOKS, _deviation, _flocks, _judge, _lp, _nvt, _occ, _unknown, _view
from rules.logbooks.fields import Day, Record, ShortText, Text, YesNo, _check_house, _not_future, field
from rules.logbooks.flocks import FlockView, flock_on
from rules.logbooks.view import LogbookView
from rules.params import Params
from rules.texts import N_, dutch_ngettext

SAMPLE_KINDS = {"salmonella": N_("Salmonella (S.E./S.T.)"),
                "dioxin": N_("dioxine en PCB's in eieren")}


METHODS = {"manure": N_("mestonderzoek"), "boot_swabs": N_("overschoentjes"),
           "eggs": N_("eieren"), "other": N_("anders")}


SAMPLE_RESULTS = {"pending": N_("uitslag volgt"), "negative": N_("negatief"),
                  "positive": N_("positief"), "compliant": N_("voldoet"),
                  "non_compliant": N_("voldoet niet")}


class Sample(Record):
    """Laboratoriumonderzoek per koppel: Salmonella (E2.1.1) or dioxin (H2.4)."""

    house: ShortText = field("E2.1.1", N_("Stal"), widget="house", demand="per koppel en in elke stal")
    sampled_on: Day = field("E2.1.1", N_("Monster genomen op"), widget="date",
                            demand="elke 15 weken (of 105 dagen) vanaf 22-26 weken leeftijd")
    kind: Literal["salmonella", "dioxin"] = field("E2.1.1", N_("Onderzoek"), widget="select",
                                                  options=SAMPLE_KINDS)
    method: Literal["manure", "boot_swabs", "eggs", "other"] = field(
        "E2.1.1", N_("Methode"), widget="select", options=METHODS,
        demand="mestonderzoek of overschoentjes")
    lab: Text = field("H2.4", N_("Laboratorium"), demand="erkend lab")
    accredited: YesNo = field("H2.4", N_("Erkend laboratorium / volgens protocol"),
                              widget="yesno", default=True)
    result: Literal["pending", "negative", "positive", "compliant", "non_compliant"] = field(
        "E2.1.1", N_("Uitslag"), widget="select", options=SAMPLE_RESULTS, default="pending")
    taken_by: str | None = field("E2.1.1", N_("Genomen door"), default=None, max_length=200)
    by_vet: YesNo | None = field("E2.1.3", N_("Genomen door dierenarts of paraveterinair"), widget="yesno",
                                 default=None,
                                 demand="elke monsterneming voor aflevering van een koppel leghennen aan de "
                                        "slachterij ... door een dierenarts of paraveterinair")

    _date = field_validator("sampled_on")(_not_future)
    _house = field_validator("house")(lambda v, info: _check_house(v, info))


SALMONELLA_FIRST = (22, 26)  # E2.1.1: "vanaf 22-26 weken leeftijd"


SALMONELLA_EVERY = 105  # E2.1.1: "elke 15 weken (of 105 dagen)"


SALMONELLA_BEFORE_SLAUGHTER = 21  # E2.1.1: "maximaal 3 weken voor slacht"


DIOXIN_AGE = (30, 45)  # H2.4: "leeftijd tussen 30-45 weken"


# --------------------------------------------------------------------------- E2.1.1 Salmonella, H2.4 dioxin


def _samples(view: LogbookView, flock: FlockView, kind: str, until: date) -> list:
    """Return the samples of one kind taken from a flock while it was in its house, oldest first."""
    return sorted((s for s in view.records("samples") if s.kind == kind and s.house == flock.house
                   and flock.present(s.sampled_on) and s.sampled_on <= until), key=lambda s: s.sampled_on)


def salmonella_schedule(flock: FlockView, samples: list, today: date) -> list[tuple[date, date | None]]:
    """Return (due date, date taken or None) for each E2.1.1 round up to today.

    Round one falls due at 26 weeks (samples before 22 weeks do not count);
    each next round 105 days after the previous sample (or its due date when
    missed); before slaughter a sample within 3 weeks of the last day. A sample
    counts for a round only when taken before the following round fell due: a
    round with no sample by then was not carried out at all.
    """
    taken = [s.sampled_on for s in samples if s.sampled_on >= flock.at_age(SALMONELLA_FIRST[0])]
    end = flock.depopulated_on or today
    rounds: list[tuple[date, date | None]] = []
    floor, due = flock.at_age(SALMONELLA_FIRST[0]), flock.at_age(SALMONELLA_FIRST[1])
    while True:
        got = next((d for d in taken if floor <= d < due + timedelta(days=SALMONELLA_EVERY)), None)
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


def tolerated(late_rounds: list[date], window_days: int = 365) -> set[date]:
    """Return the due dates of the late rounds the interpretation's tolerance covers: one per rolling year.

    E2.1.1: "Tolerantie van maximaal 1 week in afgelopen jaar toegestaan (dan sanctie B)". The first round
    up to a week late is B; another within a year after a tolerated one is D (te laat uitgevoerd).
    """
    used: list[date] = []
    for due in sorted(late_rounds):
        if not used or (due - used[-1]).days >= window_days:
            used.append(due)
    return set(used)


def eval_salmonella(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E2.1.1: Salmonella sampling per flock and house from 22–26 weeks, every 105 days, and before slaughter.

    Up to a week late → B, once per rolling year per house (the interpretation's tolerance); a later
    round, or one late again within that year → D "te laat uitgevoerd"; a round with no sample before
    the next one fell due, or still none a week after its date → KO "niet uitgevoerd", once the samples
    logbook is in use (else unknown). Rounds that fell due in the last audit year are judged.
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
        # Every round of the house's flocks, also before the audit year: the tolerance is per rolling year.
        schedule = [(flock, due, got) for flock in flocks.get(house.id, [])
                    for due, got in salmonella_schedule(flock, _samples(view, flock, "salmonella", today), today)]
        within = tolerated([due for _f, due, got in schedule
                            if got is not None and 0 < (got - due).days <= lp.salmonella_tolerance_days])
        for flock, due, got in schedule:
            if flock not in present or due < horizon:
                continue
            late = (got - due).days if got else (today - due).days
            what = f"{flock.label()}: onderzoek uiterlijk {due.isoformat()}"
            if got is not None and late <= 0:
                lines.append(f"onderzoek {got.isoformat()}")
            elif got is not None:
                weight = "B" if due in within else "D"
                again = "; tolerantie van een week al gebruikt in het afgelopen jaar" \
                    if weight == "D" and late <= lp.salmonella_tolerance_days else ""
                weighted.append((weight, _occ(due, evidence, f"{what}, uitgevoerd {got.isoformat()} "
                                                             f"({late} dagen te laat{again})", got)))
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


# --------------------------------------------------------------------------- E2.1.4 recognised laboratory


def _year_of_samples(view: LogbookView, kind: str, evidence: Evidence, params: Params) -> list:
    """Return the samples of one kind taken in the last audit year, up to today."""
    today = evidence.today
    horizon = today - timedelta(days=_lp(params).audit_lookback_days)
    return sorted((s for s in view.records("samples") if s.kind == kind and horizon <= s.sampled_on <= today),
                  key=lambda s: s.sampled_on)


def eval_salmonella_lab(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E2.1.4: every Salmonella sample of the audit year analysed by a recognised laboratory (D: not).

    Unknown when no Salmonella sample is recorded (the farmer's answer then counts).
    """
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    samples = _year_of_samples(view, "salmonella", evidence, params)
    if not samples:
        return [_unknown(rule, None, "Geen Salmonella-onderzoek geregistreerd in het afgelopen jaar.")]
    labs = sorted({s.lab for s in samples})
    line = dutch_ngettext("{n} Salmonella-onderzoek, laboratorium: {labs}", "{n} Salmonella-onderzoeken, "
                          "laboratorium: {labs}", len(samples), labs=", ".join(labs))
    wrong = [("D", _occ(s.sampled_on, evidence, f"onderzoek stal {s.house} van {s.sampled_on.isoformat()} door "
                                                f"{s.lab}: geen erkend laboratorium"))
             for s in samples if not s.accredited]
    return [_judge(rule, None, wrong, line)]


# --------------------------------------------------------------------------- A2.1.x, E2.1.8–13, H2.1/2: S.E./S.T.


# Rules whose NVT reads "geen S.E. en/of S.T. aangetoond" (or the like): proven when every Salmonella round
# of the audit year was sampled and every result is negative.
NO_SALMONELLA_RULES = ("A2.1.1", "A2.1.2", "E2.1.8", "E2.1.9", "E2.1.10", "E2.1.11", "E2.1.12", "E2.1.13", "H2.1",
                       "H2.2")


def eval_no_salmonella(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """NVT when the samples logbook proves no S.E./S.T. in the audit year; otherwise no finding (answer it).

    Proven: every house with a flock in the audit year has its E2.1.1 rounds sampled (none missing), and
    every Salmonella result of the year is negative (none positive, none pending).
    """
    view = _view(evidence)
    if view is None:
        return []
    samples = _year_of_samples(view, "salmonella", evidence, params)
    if not samples or any(s.result != "negative" for s in samples):
        return []
    today = evidence.today
    horizon = today - timedelta(days=_lp(params).audit_lookback_days)
    flocks = _flocks(view)
    for house in evidence.farm.houses:
        for flock in _flocks_in_window(flocks.get(house.id, []), horizon, today):
            for due, got in salmonella_schedule(flock, _samples(view, flock, "salmonella", today), today):
                if got is None and due < today:
                    return []  # a round without a sample: the year is not proven free
    return [Finding(rule.id, None, "nvt", "logbook", rule.nvt or "NVT: geen S.E. en/of S.T. aangetoond.",
                    evidence=dutch_ngettext("{n} Salmonella-onderzoek in het afgelopen jaar, negatief",
                                            "{n} Salmonella-onderzoeken in het afgelopen jaar, alle negatief",
                                            len(samples)))]


# --------------------------------------------------------------------------- E2.3.2 dioxin per two laying rounds

DIOXIN_END_WEEKS = 8  # E2.3.2 "aan het eind van de legronde": our choice, within 8 weeks before depopulation


def eval_dioxin_barn(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E2.3.2: barn and colony houses: eggs tested for dioxins once per two laying rounds, at the round's end.

    NVT for free-range and organic houses (the seed's NVT, from the configuration). Per barn house, the last
    two completed rounds: a dioxin sample of an accredited lab in the last 8 weeks of one of them → ok;
    only samples earlier in the round or not accredited → C; none → D (once the samples logbook is in
    use; else unknown). Fewer than two completed rounds recorded without a sample → unknown.
    """
    view = _view(evidence)
    out = []
    flocks = _flocks(view) if view is not None else {}
    in_use = view is not None and bool(view.records("samples"))
    today = evidence.today
    for house in evidence.farm.houses:
        if house.housing in ("free_range", "organic"):
            out.append(_nvt(rule, house.id))
            continue
        if view is None:
            out.append(_unknown(rule, house.id, NO_LOGBOOKS))
            continue
        done = [f for f in flocks.get(house.id, []) if f.depopulated_on is not None and f.depopulated_on <= today][-2:]
        tests = [(f, _samples(view, f, "dioxin", today)) for f in done]
        good = [(f, s) for f, ss in tests for s in ss
                if s.accredited and s.sampled_on >= f.depopulated_on - timedelta(weeks=DIOXIN_END_WEEKS)]
        if good:
            f, s = good[-1]
            line = f"{f.label()}: dioxineonderzoek {s.sampled_on.isoformat()}"
            out.append(Finding(rule.id, house.id, "ok", "logbook", line, evidence=line))
        elif any(ss for _f, ss in tests):
            f, ss = next((f, ss) for f, ss in reversed(tests) if ss)
            out.append(_deviation(rule, house.id, "C", [_occ(ss[-1].sampled_on, evidence, f"{f.label()}: onderzoek "
                                                             f"{ss[-1].sampled_on.isoformat()} niet aan het eind "
                                                             "van de legronde of niet door erkend lab")]))
        elif len(done) == 2 and in_use:
            last = done[-1]
            out.append(_deviation(rule, house.id, "D", [_occ(last.depopulated_on, evidence,
                                                             f"geen dioxineonderzoek in de laatste twee legrondes "
                                                             f"(t/m {last.depopulated_on.isoformat()})")]))
        else:
            out.append(_unknown(rule, house.id, "Nog geen dioxineonderzoek aan het eind van een van de laatste "
                                                "twee legrondes geregistreerd."))
    return out


# --------------------------------------------------------------------------- E2.1.3 the sample before slaughter


def eval_slaughter_sample(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E2.1.3: the Salmonella sample within 3 weeks before a flock leaves for slaughter, taken by a vet or
    paraveterinarian (B: by someone else; D: none, once the samples logbook is in use).

    Judged for the flocks depopulated in the audit year; without one, no finding (the farmer answers).
    """
    view = _view(evidence)
    if view is None:
        return []
    today = evidence.today
    horizon = today - timedelta(days=_lp(params).audit_lookback_days)
    in_use = any(s.kind == "salmonella" for s in view.records("samples"))
    flocks = _flocks(view)
    out = []
    for house in evidence.farm.houses:
        gone = [f for f in flocks.get(house.id, []) if f.depopulated_on is not None
                and horizon <= f.depopulated_on <= today]
        if not gone:
            continue
        weighted, lines, open_ = [], [], []
        for flock in gone:
            window = flock.depopulated_on - timedelta(days=SALMONELLA_BEFORE_SLAUGHTER)
            taken = [s for s in _samples(view, flock, "salmonella", today) if window <= s.sampled_on]
            if not taken:
                if in_use:
                    weighted.append(("D", _occ(flock.depopulated_on, evidence, f"{flock.label()}: geen onderzoek "
                                                                               f"in de 3 weken voor afvoer")))
                else:
                    open_.append(f"{flock.label()}: geen onderzoek voor afvoer geregistreerd")
                continue
            s = taken[-1]
            if s.by_vet is None:
                open_.append(f"{flock.label()}: vul bij het onderzoek van {s.sampled_on.isoformat()} in of een "
                             f"dierenarts of paraveterinair het monster nam")
            elif not s.by_vet:
                weighted.append(("B", _occ(s.sampled_on, evidence, f"{flock.label()}: onderzoek "
                                                                   f"{s.sampled_on.isoformat()} niet door "
                                                                   f"dierenarts of paraveterinair")))
            else:
                lines.append(f"{flock.label()}: onderzoek voor afvoer {s.sampled_on.isoformat()} door dierenarts")
        if weighted:
            out.append(_judge(rule, house.id, weighted, "; ".join(lines)))
        elif open_:
            out.append(_unknown(rule, house.id, "; ".join(open_) + "."))
        else:
            out.append(Finding(rule.id, house.id, "ok", "logbook", "; ".join(lines), evidence="; ".join(lines)))
    return out
