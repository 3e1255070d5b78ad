"""A3.6: checks of the emergency generator and the alarm installation — the log and its rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import ValidationInfo, field_validator

from rules.catalogue import Rule
from rules.documents import add_months
from rules.evidence import Evidence
from rules.findings import Due, Finding
from rules.logbooks.common import CHECK_MONTHS, NO_LOGBOOKS, _gaps, _judge, _lp, _nvt, _occ, _unknown, _view
from rules.logbooks.fields import Clock, Day, Record, Text, _check_house, _not_future, field
from rules.logbooks.view import DetectedTest
from rules.params import Params
from rules.texts import N_

ITEMS = {"generator": N_("noodstroomaggregaat"), "alarm": N_("alarminstallatie"),
         # DESIGN §3.3 v2: the yearly test under load, and the alarm panel's own dialer.
         "generator_load": N_("noodstroomaggregaat onder belasting (jaarlijks)"),
         "alarm_dialer": N_("kiezer van de alarminstallatie")}


RESULTS = {"ok": N_("in orde"), "fault": N_("storing")}


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
    source: Literal["manual", "detected"] = field(
        "A3.6", N_("Bron"), widget="hidden", default="manual",
        options={"manual": N_("handmatig"), "detected": N_("gedetecteerd door sensor")})
    event_id: int | None = field("A3.6", N_("Sensorgebeurtenis"), widget="hidden", default=None)

    _date = field_validator("date")(_not_future)

    @field_validator("house")
    @classmethod
    def _known_house(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value in (None, "") else _check_house(value, info)


LEGAL_TEST_MONTHS = 1  # Dutch law: monthly alarm test and unloaded generator test


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

