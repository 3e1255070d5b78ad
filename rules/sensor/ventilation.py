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
  it cannot know about tests before it started listening). A panel with its
  own dialer (``alarm_dialer`` on the house) whose test is logged within the
  law's month (checks, item ``alarm_dialer``) reaches the farmer
  off the farm as well: either route is enough.
- The panel is expected from its first reading or its registration, whichever
  is earlier (a replayed history is judged like a live one). Silences and
  faults are episodes with their own start and end (:func:`panel_episodes`),
  found over ``EPISODE_LOOKBACK_DAYS`` before the window.
- Houses without mechanical ventilation → ``nvt`` (the seed's NVT text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Sequence

from rules.catalogue import Rule
from rules.documents import add_months
from rules.evidence import Evidence
from rules.findings import SEVERITY, Due, Finding, Occurrence
from rules.kinds import VENTILATION_ALARM, VENTILATION_FAULT
from rules.logbooks import ALARM_ITEMS, ITEMS
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
    item: str  # generator | alarm | generator_load | alarm_dialer
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


# Episodes are found over this much history before the window, so one that began earlier keeps its
# own start (a repair refers to it by that start) instead of the window's.
EPISODE_LOOKBACK_DAYS = 31


def history_start(evidence: Evidence) -> datetime:
    """Return how far back the panel's history is read: the window and its episodes' starts."""
    return evidence.since - timedelta(days=EPISODE_LOOKBACK_DAYS)


@dataclass(frozen=True, slots=True)
class PanelEpisode:
    """A stretch in which a panel did not work: a ``silence`` or a ``fault``, with its start and end."""

    kind: str  # silence | fault
    sensor: str
    start: int  # silence: the last message before it; fault: the first fault message
    end: int | None  # None: still going on at the moment of evaluation


def panel_episodes(sensor: SensorDays, lo: int, hi: int, down: Sequence[tuple[int, int]]) -> list[PanelEpisode]:
    """Return the panel's silences and faults in ``[lo, hi)``, each whole (joined across days), oldest first.

    A silence during which the agent itself heard nothing (``down``) is missing data, not an episode.
    """
    out = []
    for b, e, code, last in timeline(sensor.days, lo, hi):
        end = None if e >= hi else e
        if code is None and overlap(down, b, e) < (e - b):
            out.append(PanelEpisode("silence", sensor.label, last if last is not None else b, end))
        elif code == VENTILATION_FAULT:
            out.append(PanelEpisode("fault", sensor.label, b, end))
    return out


def _panel(sensors: Sequence[SensorDays], evidence: Evidence, params: Params, house: str) -> Part:
    """Judge the panel's heartbeat and fault states over the window."""
    vp = params.sensor_rules.ventilation_for(house)
    if not sensors:
        return Part("unknown", (), f"De alarminstallatie van stal {house} is niet aangesloten op ikb-agent.")
    lo, hi = to_ms(evidence.since), to_ms(evidence.at)
    down = merge_intervals(evidence.inputs.get("agent_down", ()))
    deviations, heard, expected, alarms = [], 0, 0, 0
    for s in sensors:
        runs = timeline(s.days, lo, hi)
        expected += sum(e - b for b, e, _c, _l in runs)
        heard += sum(e - b for b, e, c, _l in runs if c is not None)
        alarms += len(intervals(runs, VENTILATION_ALARM))
        for ep in panel_episodes(s, to_ms(history_start(evidence)), hi, down):
            if ep.end is not None and ep.end <= lo:
                continue
            if ep.kind == "silence" and ep.end is None:
                detail = (f"alarminstallatie {s.label} niet gehoord sinds "
                          f"{to_dt(ep.start).astimezone(evidence.farm.tz):%Y-%m-%d %H:%M}")
            elif ep.kind == "silence":
                detail = (f"alarminstallatie {s.label} niet gehoord gedurende {hm(ep.end - ep.start)} "
                          f"(na {vp.heartbeat_timeout_minutes} min zonder bericht)")
            else:
                detail = f"alarminstallatie {s.label} meldt storing ({hm((ep.end or hi) - ep.start)})"
            deviations.append(Occurrence(to_dt(ep.start), to_dt(ep.end) if ep.end else None, detail))
    if deviations:
        return Part("D", tuple(deviations), f"Alarminstallatie: {len(deviations)} keer niet werkend")
    if expected == 0:
        return Part("unknown", (), "Onvoldoende gegevens: de alarminstallatie is in deze periode nog niet gehoord.")
    share = heard / expected
    alarm_text = ", " + dutch_ngettext("{n} alarmmelding", "{n} alarmmeldingen", alarms) if alarms else ""
    if share < params.sensor_rules.coverage.min_window_coverage:
        return Part("unknown", (), f"Onvoldoende gegevens: alarminstallatie {share:.0%} van de tijd gehoord "
                                   f"(agent of netwerk niet actief){alarm_text}.")
    return Part("ok", (), f"Alarminstallatie steeds gehoord (na {vp.heartbeat_timeout_minutes} min zonder bericht)"
                          f"{alarm_text}")


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
        return Part("unknown", (), "Nog geen test van het alarmkanaal geregistreerd; laat een testmelding "
                                   "naar uw telefoon of e-mail sturen en kijk of hij aankomt.")
    if last is None or last < cutoff:
        when = f"laatste geslaagde test {evidence.farm.local_date(last).isoformat()}" if last else "nog nooit getest"
        return Part("C", (Occurrence(last or at, None,
                                     f"geen geslaagde test van een alarmkanaal in {_last_months(months)} "
                                     f"({when})"),),
                    f"Alarmkanaal: {when}")
    return Part("ok", (), f"Alarmkanaal getest op {evidence.farm.local_date(last).isoformat()}")


def _last_months(months: int) -> str:
    """Return 'de laatste maand' or 'de laatste 2 maanden'."""
    return dutch_ngettext("de laatste maand", "de laatste {n} maanden", months)


def _dialer(evidence: Evidence, house: str, months: int) -> Part:
    """Judge a panel's own dialer: configured, and a successful test logged (checks, ``alarm_dialer``)."""
    today = evidence.today
    tests = sorted((c for c in evidence.inputs.get("checks", ()) if c.item == "alarm_dialer" and c.day <= today
                    and c.house in (None, house)), key=lambda c: c.day)
    cutoff = add_months(today, -months)
    ok = [c for c in tests if c.result == "ok"]
    if tests and tests[-1].result == "fault":
        return Part("C", (Occurrence(datetime.combine(tests[-1].day, time(0), evidence.farm.tz), None,
                                     f"test van de kiezer van de alarminstallatie op {tests[-1].day.isoformat()}: storing"),),
                    f"Kiezer alarminstallatie: storing bij de test van {tests[-1].day.isoformat()}")
    if ok and ok[-1].day >= cutoff:
        return Part("ok", (), f"Kiezer alarminstallatie getest op {ok[-1].day.isoformat()}")
    when = f"laatste geslaagde test {ok[-1].day.isoformat()}" if ok else "nog geen test vastgelegd"
    return Part("C", (Occurrence(evidence.at, None, f"kiezer van de alarminstallatie niet getest in "
                                                    f"{_last_months(months)} ({when}; vast te leggen in het controlelogboek als "
                                                    f"'{ITEMS['alarm_dialer']}')"),),
                f"Kiezer alarminstallatie: {when}")


# The route that works wins: an off-farm channel or the panel's own dialer is enough.
_ROUTE_ORDER = {"ok": 0, "unknown": 1, "B": 2, "C": 3, "D": 4, "KO": 5}


def _off_farm(channels: AlertChannels, evidence: Evidence, house, params: Params) -> Part:
    """Judge how the alarm reaches the farmer off the farm: an agent channel, or the panel's own dialer."""
    vp = params.sensor_rules.ventilation_for(house.id)
    routes = [_channels(channels, evidence, vp.channel_test_months)]
    if house.alarm_dialer:
        # Dutch law's monthly alarm test (rules.sensor.law) is the dialer's too. With no agent channel set
        # up, the dialer is the only route: its own verdict, not hidden behind a set-up step.
        dialer = _dialer(evidence, house.id, LEGAL_TEST_MONTHS)
        routes = [dialer] if not channels.configured else routes + [dialer]
    best = min(routes, key=lambda p: _ROUTE_ORDER[p.status])
    if best.status == "ok" or len(routes) == 1:
        return best
    return Part(best.status, tuple(o for p in routes for o in p.occurrences), "; ".join(p.text for p in routes))


def evaluate_a3_4(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """Return A3.4 per house: panel heartbeat and faults, and the route off the farm (channel or dialer)."""
    panels = evidence.inputs.get("ventilation_alarm")
    if panels is None:
        return []
    channels = evidence.inputs.get("alert_channels") or AlertChannels(())
    findings = []
    for house in evidence.farm.houses:
        if not house.mechanical_ventilation:
            findings.append(nvt(rule, house.id))
            continue
        parts = [_panel(panels.get(house.id) or (), evidence, params, house.id),
                 _off_farm(channels, evidence, house, params)]
        findings.append(combine(rule, house.id, parts, "Voldoet: alarminstallatie werkt en bereikt de boer buiten het bedrijf."))
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
