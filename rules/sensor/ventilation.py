"""A3.4: the ventilation alarm panel must work and reach the farmer off the farm.

- The panel is *heard* when a message (any state: every message is a
  heartbeat) arrived within ``heartbeat_timeout_minutes`` before. A longer
  silence, or a ``fault`` state, is "functioneert niet" → D. A silence during
  which no sensor of the farm was heard either is the agent (or the network)
  being down, not the panel: it counts as missing data, not as a deviation.
- No off-farm alert channel configured yet → ``unknown`` with a set-up step
  (rules/setup.py): a step in setting up this program, not a farm deviation.
  A channel that delivered no test within ``channel_test_months`` → C
  "Alarmvoorziening onvoldoende". An installation
  younger than that with no test recorded yet is ``unknown`` (``agent_since``:
  it cannot know about tests before it started listening).
- Houses without mechanical ventilation → ``nvt`` (the seed's NVT text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Sequence

from rules.catalogue import Rule
from rules.documents import add_months
from rules.evidence import Evidence
from rules.findings import SEVERITY, Due, Finding, Occurrence
from rules.kinds import VENTILATION_ALARM, VENTILATION_FAULT
from rules.logbooks import ALARM_ITEMS
from rules.params import Params
from rules.sensor.law import LEGAL_TEST_MONTHS, check_dates
from rules.sensor.states import intervals, overlap, timeline
from rules.sensor.timeseries import SensorDays, hm, merge_intervals, to_dt, to_ms
from rules.texts import dutch_ngettext


@dataclass(frozen=True, slots=True)
class ChannelTest:
    """One test message sent over an alert channel."""

    channel: str
    sent_at: datetime
    delivered: bool


@dataclass(frozen=True, slots=True)
class AlertChannels:
    """The off-farm alert channels configured, and their tests."""

    configured: tuple[str, ...]
    tests: tuple[ChannelTest, ...] = ()


@dataclass(frozen=True, slots=True)
class Check:
    """One confirmed entry of the checks logbook (A3.6): generator or alarm."""

    day: date
    item: str  # generator | alarm
    result: str  # ok | fault
    house: str | None = None  # None: every house


@dataclass(frozen=True)
class Part:
    """One strand of a finding: its status, occurrences and a sentence for the evidence line."""

    status: str
    occurrences: tuple[Occurrence, ...]
    text: str


def combine(rule: Rule, location: str | None, parts: Sequence[Part], ok_summary: str) -> Finding:
    """Return the finding of the worst part, with every part's evidence."""
    status = max((p.status for p in parts), key=SEVERITY.__getitem__)
    if status in ("B", "C", "D", "KO"):
        summary = rule.deviation_text(status) or status
    elif status == "unknown":
        summary = next(p.text for p in parts if p.status == "unknown")
    else:
        summary = ok_summary
    occurrences = tuple(o for p in parts if p.status == status or p.status in ("B", "C", "D") for o in p.occurrences)
    return Finding(rule.id, location, status, "sensor", summary, occurrences=occurrences,
                   evidence="; ".join(p.text.rstrip(".") for p in parts))


def nvt(rule: Rule, location: str | None) -> Finding:
    """Return the not-applicable finding for a house without mechanical ventilation."""
    return Finding(rule.id, location, "nvt", "sensor", rule.nvt or "NVT: geen mechanische ventilatie.")


def _panel(sensors: Sequence[SensorDays], evidence: Evidence, params: Params, house: str) -> Part:
    """Judge the panel's heartbeat and fault states over the window."""
    vp = params.sensor_rules.ventilation_for(house)
    if not sensors:
        return Part("unknown", (), f"Geen alarmpaneel-sensor (ventilation_alarm) ingesteld voor stal {house}.")
    lo, hi = to_ms(evidence.since), to_ms(evidence.at)
    down = merge_intervals(evidence.inputs.get("agent_down", ()))
    deviations, heard, expected, alarms = [], 0, 0, 0
    for s in sensors:
        runs = timeline(s.days, lo, hi)
        expected += sum(e - b for b, e, _c, _l in runs)
        heard += sum(e - b for b, e, c, _l in runs if c is not None)
        alarms += len(intervals(runs, VENTILATION_ALARM))
        for b, e, code, last in runs:
            if code is None and overlap(down, b, e) < (e - b):
                heard_at = last if last is not None else b
                if e >= hi:
                    detail = (f"alarmpaneel {s.label} niet gehoord sinds "
                              f"{to_dt(heard_at).astimezone(evidence.farm.tz):%Y-%m-%d %H:%M}")
                else:
                    detail = (f"alarmpaneel {s.label} niet gehoord gedurende {hm(e - heard_at)} "
                              f"(time-out {vp.heartbeat_timeout_minutes} min)")
                deviations.append(Occurrence(to_dt(heard_at), None if e >= hi else to_dt(e), detail))
            elif code == VENTILATION_FAULT:
                deviations.append(Occurrence(to_dt(b), None if e >= hi else to_dt(e),
                                             f"alarmpaneel {s.label} meldt storing ({hm(e - b)})"))
    if deviations:
        return Part("D", tuple(deviations), f"Alarmpaneel: {len(deviations)} keer niet werkend")
    if expected == 0:
        return Part("unknown", (), "Onvoldoende gegevens: het alarmpaneel is in deze periode nog niet gehoord.")
    share = heard / expected
    alarm_text = ", " + dutch_ngettext("{n} alarmmelding", "{n} alarmmeldingen", alarms) if alarms else ""
    if share < params.sensor_rules.coverage.min_window_coverage:
        return Part("unknown", (), f"Onvoldoende gegevens: alarmpaneel {share:.0%} van de tijd gehoord "
                                   f"(agent of netwerk niet actief){alarm_text}.")
    return Part("ok", (), f"Alarmpaneel steeds gehoord (time-out {vp.heartbeat_timeout_minutes} min){alarm_text}")


def last_delivered(channels: AlertChannels, at: datetime) -> datetime | None:
    """Return the latest delivered channel test at or before ``at``."""
    done = [t.sent_at for t in channels.tests if t.delivered and t.sent_at <= at]
    return max(done) if done else None


def _channels(channels: AlertChannels, evidence: Evidence, months: int) -> Part:
    """Judge the off-farm channel: configured, and a delivered test within ``months``."""
    at = evidence.at
    if not channels.configured:
        # A set-up step of this program, not a farm deviation: the farm may be warned by other means
        # (rules.setup names the step). Unknown until the evidence exists.
        return Part("unknown", (), "Nog geen alarmkanaal van ikb-agent ingesteld: niet aangetoond dat het alarm "
                                   "de pluimveehouder buiten het bedrijf bereikt.")
    last = last_delivered(channels, at)
    cutoff = datetime.combine(add_months(evidence.today, -months), time(0), evidence.farm.tz)
    listening_since = evidence.inputs.get("agent_since")  # ms of the first reading the agent stored
    if last is None and (listening_since is None or to_dt(listening_since) > cutoff):
        # A new installation cannot know about tests before it: missing evidence, not a deviation.
        return Part("unknown", (), "Nog geen test van het alarmkanaal geregistreerd; verstuur er een met "
                                   "`ikb-agent alert test`.")
    if last is None or last < cutoff:
        when = f"laatste geslaagde test {evidence.farm.local_date(last).isoformat()}" if last else "nog nooit getest"
        return Part("C", (Occurrence(last or at, None,
                                     f"geen geslaagde test van een alarmkanaal in de laatste {months} maanden "
                                     f"({when})"),),
                    f"Alarmkanaal: {when}")
    return Part("ok", (), f"Alarmkanaal getest op {evidence.farm.local_date(last).isoformat()}")


def evaluate_a3_4(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """Return A3.4 per house: panel heartbeat and faults, and the off-farm channel."""
    panels = evidence.inputs.get("ventilation_alarm")
    if panels is None:
        return []
    channels = evidence.inputs.get("alert_channels") or AlertChannels(())
    findings = []
    for house in evidence.farm.houses:
        if not house.mechanical_ventilation:
            findings.append(nvt(rule, house.id))
            continue
        months = params.sensor_rules.ventilation_for(house.id).channel_test_months
        parts = [_panel(panels.get(house.id) or (), evidence, params, house.id),
                 _channels(channels, evidence, months)]
        findings.append(combine(rule, house.id, parts, "Voldoet: alarmpaneel werkt en bereikt de boer buiten het bedrijf."))
    return findings


def alarm_dues(evidence: Evidence, params: Params) -> list[Due]:
    """Return the next channel test (A3.4) and Dutch law's monthly test of the alarm installation."""
    if not any(h.mechanical_ventilation for h in evidence.farm.houses):
        return []
    today = evidence.today
    dues = []
    channels = evidence.inputs.get("alert_channels") or AlertChannels(())
    if "ventilation_alarm" in evidence.inputs and channels.configured:
        last = last_delivered(channels, evidence.at)
        months = params.sensor_rules.ventilation.channel_test_months
        due = add_months(evidence.farm.local_date(last), months) if last else today
        dues.append(Due("A3.4", None, due, "Testbericht via het alarmkanaal buiten het bedrijf versturen",
                        overdue=due < today or last is None))
    # Dutch law's monthly test of the alarm installation itself (rules.sensor.law): a channel test is not one.
    tested = check_dates(evidence, ALARM_ITEMS)
    due = add_months(max(tested), LEGAL_TEST_MONTHS) if tested else today
    dues.append(Due("A3.4", None, due, "Wettelijk (Besluit houders van dieren): maandelijkse test van de "
                                       "alarminstallatie" + ("" if tested else " — nog niet vastgelegd in het "
                                                                               "controlelogboek"),
                    overdue=due < today or not tested))
    return dues
