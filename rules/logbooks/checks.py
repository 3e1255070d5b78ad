"""A3.6: checks of the emergency generator and the alarm installation — the log and its rule, per item.

A3.6 asks that "De uitgevoerde controles van de noodstroomaggregaat en alarminstallatie worden geregistreerd"
and its interpretation "Controles worden 1 keer per 2 maanden uitgevoerd": each of the two installations needs
its own checks. :data:`CHECK_MONTHS` is that one definition; every view (the rule, the due list, the dashboard
tile, A3.5's freshness of evidence) uses it.

An alarm check means the alarm installation itself was tested: a person tried it and wrote it down, or the
panel's test alarm was seen on its sensor and the farmer confirmed the draft the agent made of it. A test
message through an alert channel is a channel test (A3.4's channel log), not an alarm check.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable, Literal

from pydantic import ValidationInfo, field_validator

from rules.catalogue import Rule
from rules.documents import add_months
from rules.evidence import Evidence
from rules.findings import Due, Finding, worst
from rules.logbooks.common import NO_LOGBOOKS, _deviation, _gaps, _lp, _nvt, _occ, _unknown, _view
from rules.logbooks.fields import Clock, Day, Record, Text, _check_house, _not_future, field
from rules.logbooks.view import DetectedTest
from rules.params import Params
from rules.texts import N_

# A3.6 interpretation: "Controles worden 1 keer per 2 maanden uitgevoerd".
CHECK_MONTHS = 2

# DESIGN §3.3 v2: the yearly test under load and a panel's own dialer are checks of their installation too.
ITEMS = {"generator": N_("noodstroomaggregaat"),
         "alarm": N_("alarminstallatie"),
         "generator_load": N_("noodstroomaggregaat, jaarlijkse test onder belasting"),
         "alarm_dialer": N_("kiezer van de alarminstallatie, doormelding getest")}

# Which entries count for each installation A3.6 names.
GENERATOR_ITEMS = ("generator", "generator_load")
ALARM_ITEMS = ("alarm", "alarm_dialer")
INSTALLATIONS = (("generator", "noodstroomaggregaat", GENERATOR_ITEMS), ("alarm", "alarminstallatie", ALARM_ITEMS))

RESULTS = {"ok": N_("in orde"), "fault": N_("storing")}

SOURCES = {"manual": N_("handmatig"), "detected": N_("gedetecteerd door sensor")}


class Check(Record):
    """Controle noodstroomaggregaat / alarminstallatie (A3.6)."""

    date: Day = field("A3.6", N_("Datum controle"), widget="date",
                      demand="De uitgevoerde controles ... worden geregistreerd")
    item: Literal["generator", "alarm", "generator_load", "alarm_dialer"] = field(
        "A3.6", N_("Onderdeel"), widget="select", options=ITEMS)
    result: Literal["ok", "fault"] = field("A3.6", N_("Resultaat"), widget="select", options=RESULTS)
    checked_by: Text = field("A3.6", N_("Gecontroleerd door"))
    notes: str = field("A3.6", N_("Opmerkingen"), widget="textarea", default="", max_length=2000)
    time: Clock | None = field("A3.6", N_("Tijdstip"), widget="time", default=None)
    house: str | None = field("A3.6", N_("Stal (leeg: alle stallen)"), widget="house",
                              default=None)
    source: Literal["manual", "detected"] = field("A3.6", N_("Bron"), widget="hidden", default="manual",
                                                  options=SOURCES)
    event_id: int | None = field("A3.6", N_("Sensorgebeurtenis"), widget="hidden", default=None)

    _date = field_validator("date")(_not_future)

    @field_validator("house")
    @classmethod
    def _known_house(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value in (None, "") else _check_house(value, info)


# --------------------------------------------------------------------------- the panel's test alarm on its sensor

# A test alarm of the panel is short: an alarm state that ended within this many minutes is drafted as a
# possible test for the farmer to confirm or withdraw (our choice; a real ventilation failure lasts longer).
TEST_ALARM_MAX_MINUTES = 15


def test_alarm_spells(runs: Iterable[tuple[int, int, int | None, int | None]], alarm_code: int,
                      hi: int) -> list[tuple[int, int]]:
    """Return the (start, end) ms of alarm states that ended before ``hi`` within the test-alarm length."""
    limit = TEST_ALARM_MAX_MINUTES * 60_000
    return [(s, e) for s, e, code, _last in runs if code == alarm_code and e < hi and e - s <= limit]


# --------------------------------------------------------------------------- A3.6 generator and alarm checks


def _registered(test: DetectedTest, checks, tz) -> bool:
    """Return whether a detected generator test has a confirmed checks entry."""
    day = test.start.astimezone(tz).date()
    return any(c.event_id == test.id or (c.item in GENERATOR_ITEMS and c.date == day
                                         and c.house in (None, test.location)) for c in checks)


def _installation(evidence: Evidence, params: Params, label: str, dates: list[date],
                  begun: date) -> tuple[list, str | None]:
    """Judge one installation's checks: (weighted occurrences, or the reason it is not yet known)."""
    since, today = evidence.farm.local_date(evidence.since), evidence.today
    lookback = today - timedelta(days=_lp(params).audit_lookback_days)
    if not dates:
        if add_months(begun, CHECK_MONTHS) >= today:
            return [], f"nog geen controle van het {label} geregistreerd (logboek bijgehouden sinds {begun})"
        # The checks logbook is kept, but this installation has none: "Geen controles uitgevoerd".
        return [("D", _occ(max(begun, lookback, since), evidence,
                           f"{label}: geen controle geregistreerd sinds {begun.isoformat()}", today))], None
    if not [d for d in dates if d >= lookback]:
        return [("D", _occ(max(lookback, since), evidence, f"{label}: geen controle in het afgelopen jaar", today))], None
    return [("C", _occ(a, evidence, f"{label}: {(b - a).days} dagen zonder controle ({a.isoformat()} – "
                                    f"{b.isoformat()})", b))
            for a, b in _gaps(dates, begun, since, today, CHECK_MONTHS)], None


def eval_checks(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """A3.6: generator and alarm installation each checked at least every two months; detected tests registered.

    Per installation: C for a gap of more than two months (also from the last check until now); D when
    the checks logbook has been kept longer than two months without a check of it, or none in the audit
    year; while the logbook is younger than that, an installation without a check is unknown (never ok).
    B: a generator test the sensors detected that has no confirmed entry (a draft waiting for
    confirmation counts as not registered). NVT without mechanical ventilation.
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
        if house.flaps:  # the seed: "Niet nodig bij stroomloos te openen ventilatieopeningen."
            out.append(Finding(rule.id, house.id, "nvt", "logbook", "Niet nodig bij stroomloos te openen "
                                                                    "ventilatieopeningen."))
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
        starts = [c.date for c in checks] + [t.start.astimezone(tz).date() for t in tests]
        if not starts:
            out.append(_unknown(rule, house.id, "Nog geen controles van noodstroomaggregaat en alarminstallatie "
                                                "geregistreerd."))
            continue
        begun = min(starts)
        waiting, lines = [], []
        for _key, label, items in INSTALLATIONS:
            dates = [c.date for c in checks if c.item in items]
            found, reason = _installation(evidence, params, label, dates, begun)
            weighted += found
            if reason:
                waiting.append(reason)
            lines.append(f"laatste controle {label} {max(dates) if dates else '—'}")
        line = "; ".join(lines)
        if weighted:
            status = worst(w for w, _o in weighted)
            out.append(_deviation(rule, house.id, status, [o for _w, o in weighted], line))
        elif waiting:
            out.append(_unknown(rule, house.id, "Nog niet aangetoond: " + "; ".join(waiting) + "."))
        else:
            # A fault found by a check is the check working; the repair is A3.5's business.
            faults = tuple(_occ(c.date, evidence, f"storing {ITEMS[c.item]} bij controle: {c.notes}".rstrip(": "))
                           for c in checks if c.result == "fault" and c.date >= since)
            out.append(Finding(rule.id, house.id, "ok", "logbook", line, faults, line))
    return out


def due_checks(evidence: Evidence, params: Params) -> list[Due]:
    """Return the next A3.6 check of each installation and the drafts waiting for confirmation.

    Dutch law's monthly tests and the yearly load test are listed by the sensor rules that own them
    (rules/sensor/generator.py, rules/sensor/ventilation.py).
    """
    view = _view(evidence)
    if view is None or not any(h.mechanical_ventilation for h in evidence.farm.houses):
        return []
    today = evidence.today
    checks = [c for c in view.records("checks") if c.date <= today]
    out = []
    for _key, label, items in INSTALLATIONS:
        dates = [c.date for c in checks if c.item in items]
        if not dates:
            continue
        due = add_months(max(dates), CHECK_MONTHS)
        out.append(Due("A3.6", None, due, f"Controle {label} (IKB: elke {CHECK_MONTHS} maanden)",
                       overdue=due < today))
    for d in view.drafts:
        if d.kind == "checks":
            what = "testalarm" if d.record.item in ALARM_ITEMS else "test"
            out.append(Due("A3.6", d.record.house, d.record.date,
                           f"Gedetecteerde {what} van {d.record.date.isoformat()} bevestigen (concept #{d.id})",
                           overdue=True))
    return out
