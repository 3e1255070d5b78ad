"""H3.12.10: the free-range journal (uitloopjournaal) — its record and rule."""

from __future__ import annotations

from datetime import timedelta

from pydantic import field_validator

from rules.catalogue import Rule
from rules.evidence import Evidence
from rules.findings import Finding
from rules.logbooks.common import _days, _deviation, _flocks, _lp, _unknown, _view
from rules.logbooks.daysheet import _runs
from rules.logbooks.fields import Clock, Day, Record, ShortText, _check_house, _not_future, field
from rules.logbooks.flocks import flock_on
from rules.params import Params
from rules.texts import N_, dutch_ngettext


class FreeRangeDay(Record):
    """Uitloopjournaal: hours the range was available to one house on one day (H3.12.10)."""

    date: Day = field("H3.12.10", N_("Datum"), widget="date")
    house: ShortText = field("H3.12.10", N_("Stal"), widget="house")
    hours: float = field("H3.12.10", N_("Uren uitloop beschikbaar"), widget="number",
                         ge=0, le=24, demand="het aantal uren dat de uitloop beschikbaar was",
                         message=N_("vul het aantal uren in (0 tot 24)"))
    opened: Clock | None = field("H3.12.8", N_("Luiken open om"), widget="time", default=None)
    closed: Clock | None = field("H3.12.8", N_("Luiken dicht om"), widget="time", default=None)
    reason: str | None = field("H3.12.11", N_("Reden beperking (bijv. ophokplicht)"),
                               default=None, max_length=500)

    _date = field_validator("date")(_not_future)
    _house = field_validator("house")(lambda v, info: _check_house(v, info, ("free_range", "organic")))


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
        line = dutch_ngettext("uitloopjournaal {ok} van {n} dag geregistreerd", "uitloopjournaal {ok} van {n} dagen "
                              "geregistreerd", len(days), ok=len(days) - len(missing))
        if not missing:
            out.append(Finding(rule.id, house.id, "ok", "logbook", line, evidence=line))
        else:
            weight = "C" if len(missing) <= minor else "D"
            out.append(_deviation(rule, house.id, weight, _runs(missing, evidence), line))
    return out
