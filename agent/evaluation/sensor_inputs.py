"""Turn stored readings, records and logbooks into the sensor rules' ``Evidence.inputs``.

One loader, :func:`load_sensor_inputs`, registered in ``agent/evaluation/score.py``
``INPUT_LOADERS``; it serves ``score``, the minute job and the web page alike,
and writes nothing. What it detects about the generator is recorded as events
(``generator_test``, ``mains_outage``) by ``run``'s own step,
:func:`record_episodes`, for the checks logbook to draft; the loader itself
finds the generator tests again in the readings (``generator_tests``), so a
score never depends on whether that step ran.

Inputs it provides (all keyed by house or egg-room id):
``light``, ``climate`` ({quantity: sensors}), ``condensation``,
``ventilation_alarm``, ``generator``, ``mains``, ``pophole``, ``lamps``,
``climate_excess`` (tuples of :class:`rules.sensor.timeseries.SensorDays`),
``agent_down`` (intervals nobody was heard), ``alert_channels``, ``checks``,
``housing_orders``, ``generator_tests`` (A3.6) and ``free_range_journal``
({house: {date: hours open}}, for H3.12.10).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from agent.clock import parse_moment
from agent.config import OUTSIDE, Settings
from agent.evaluation.derived import Subject, apply_marks, cache_days, pending_stale, subject_days
from agent.logbooks import load_housing_orders, logbook_event_ids
from agent.store import (
    Store,
    channel_tests,
    finished_episodes,
    first_reading_ms,
    heard_between,
    reading_interval,
    sensor_registry,
)
from agent.store import record_episodes as store_episodes
from rules.evidence import Evidence
from rules.logbooks import DetectedTest
from rules.params import Params
from rules.sensor import (
    AlertChannels,
    ChannelTest,
    Check,
    SensorDays,
    climate,
    eggroom,
    episodes,
    groups,
    history_start,
    journal,
    light,
    states,
    to_dt,
    to_ms,
    ventilation,
)
from rules.sensor_params import SensorRules

log = logging.getLogger(__name__)

# Bump when a derivation changes, so cached days are derived again.
CODE_VERSION = {"light": 2, "state": 1, "climate": 1, "condensation": 2, "excess": 1}
CLIMATE_KINDS = ("temperature", "humidity", "nh3", "co2")
STATE_KINDS = ("ventilation_alarm", "generator", "mains", "pophole")
LEARNED_STEPS = (60, 300, 900, 3600, 21600, 86400)  # learned intervals are rounded up, so the cache stays valid
# Devices report at round intervals and their stamps jitter by milliseconds (seconds over Wi-Fi): a learned
# interval up to a tenth over a step takes that step. Without it a sensor every 60 s whose 90th-percentile gap
# was 60.001 s one minute and 60.000 the next flipped between the 60 and 300 s steps: its hold between 5 and
# 15 minutes (whether a gap counts as heard) and its cached days' version, so all of them were derived and
# written again at each flip (issue 15: a 30-day rewrite every few minutes on the simulated farm).
LEARNED_SLACK = 1.1
EPISODE_KINDS = ("generator_test", "mains_outage")


@dataclass(frozen=True)
class SensorInfo:
    """A configured sensor with what the store knows about it."""

    id: int | None  # None: configured but not yet registered by the agent
    topic: str
    kind: str
    location: str
    label: str
    interval_s: float
    created_at: int | None


def configured_sensors(store: Store, config: Settings) -> list[SensorInfo]:
    """Return the configured sensors, with their stored id, interval and registration time.

    The interval is the configured one, else the one the stored readings show (not the one ingestion
    learned from the order readings happened to arrive in), rounded up to a step
    (:data:`LEARNED_SLACK` over a step still takes it).
    """
    rows = {(r["topic"], r["field"]): r for r in sensor_registry(store)}
    out = []
    for s in config.sensors:
        row = rows.get((s.topic, s.field or ""))
        learned = reading_interval(store, row["id"]) if row and not s.interval else None
        interval = s.interval or next((x for x in LEARNED_STEPS if learned and learned <= x * LEARNED_SLACK), 60)
        label = s.name or (f"{s.topic} {s.field}" if s.field else s.topic)
        out.append(SensorInfo(row["id"] if row else None, s.topic, s.kind, s.location, label, float(interval),
                              row["created_at"] if row else None))
    return out


def _hold_ms(info: SensorInfo, rules: SensorRules) -> int:
    """Return how long one reading of the sensor counts as valid."""
    cov = rules.coverage
    if info.kind == "ventilation_alarm":
        # A3.4: the panel is "heard" within the heartbeat timeout, whatever its interval.
        return rules.ventilation_for(info.location).heartbeat_timeout_minutes * 60_000
    return int(max(cov.min_hold_seconds, cov.hold_factor * info.interval_s) * 1000)


def _version(family: str, *parts) -> str:
    """Return the cache version of a derivation: code version, thresholds and hold."""
    return ":".join([str(CODE_VERSION[family]), *map(str, parts)])


def build_subjects(store: Store, config: Settings, rules: SensorRules) -> list[Subject]:
    """Return every subject whose days the sensor rules need."""
    tz = config.farm.timezone
    sensors = configured_sensors(store, config)
    houses = {h.id for h in config.houses}
    out: list[Subject] = []
    for info in sensors:
        hold = _hold_ms(info, rules)
        key = str(info.id)
        if info.kind in ("lux", "lamp") and info.location in houses:
            out.append(_light_subject(info, hold, rules, config, tz))
        elif info.kind in STATE_KINDS:
            # A3.4: expected from its first reading or its registration, whichever is earlier, so a
            # replayed history is judged like a live one, whatever day it is replayed on.
            first = first_reading_ms(store, info.id) if info.id is not None else None
            known = min((t for t in (info.created_at, first) if t is not None), default=None)
            out.append(Subject("state", key, info.label, info.location, info.kind, (info.id,), time(0), hold, 0,
                               _version("state", hold, tz, known),
                               lambda data, day, until, hold=hold, known=known: states.state_day(
                                   data[0], day, hold, until, known), states.StateDay, known))
        elif info.kind in CLIMATE_KINDS and info.location in houses:
            band = getattr(rules.climate_for(info.location), info.kind)
            out.append(Subject("climate", key, info.label, info.location, info.kind, (info.id,), time(0), hold, 0,
                               _version("climate", band.fingerprint(), hold, tz),
                               lambda data, day, until, band=band, hold=hold: climate.measure_day(
                                   data[0], day, hold, band, until), climate.MeasureDay))
    for room in config.egg_rooms:
        out.extend(_egg_room_subjects(room.id, [s for s in sensors if s.location == room.id], rules, tz))
    outside = next((s for s in sensors if s.location == OUTSIDE and s.kind == "temperature"), None)
    if outside is not None:
        out.extend(_excess_subject(info, outside, rules, tz) for info in sensors
                   if info.kind == "temperature" and info.location in houses)
    return out


def _light_subject(info: SensorInfo, hold: int, rules: SensorRules, config: Settings, tz: str) -> Subject:
    """Return the lighting-day subject of a lux or lamp sensor.

    A lux sensor in a house with light openings sees daylight too: the hours with the sun up are
    unknown for the light rules (never a deviation from daylight); a lamp sensor sees only the lamps.
    """
    p = rules.light_for(info.location)
    ctx = light.context_ms(p)
    house = next(h for h in config.houses if h.id == info.location)
    scale = light.LAMP_SCALE if info.kind == "lamp" else light.lux_scale(p)
    daylight = info.kind == "lux" and house.daylight
    lat, lon = config.farm.latitude, config.farm.longitude

    def compute(data, day, until):
        sun = light.sun_intervals(lat, lon, day.start - ctx, day.end + ctx, p.daylight_elevation) if daylight else ()
        return light.light_day(data[0], day, hold, p, until, scale=scale, sun=sun)

    family = "light" if info.kind == "lux" else "lamp"
    return Subject(family, str(info.id), info.label, info.location, info.kind, (info.id,), p.day_start, ctx, ctx,
                   _version("light", p.fingerprint(), hold, tz, info.kind, daylight and (lat, lon)), compute,
                   light.LightDay)


def _egg_room_subjects(room: str, sensors: list[SensorInfo], rules: SensorRules, tz: str) -> list[Subject]:
    """Return one subject per air-temperature/humidity pair in an egg room (paired by topic where possible)."""
    temps = [s for s in sensors if s.kind == "temperature"]
    hums = [s for s in sensors if s.kind == "humidity"]
    probe = next((s for s in sensors if s.kind == "egg_temperature"), None)
    p = rules.condensation_for(room)
    out = []
    for k, hum in enumerate(hums):
        if not temps:
            continue
        # One Tasmota message carries both: pair by topic, else by order.
        temp = next((t for t in temps if t.topic == hum.topic), temps[min(k, len(temps) - 1)])
        inputs = (temp.id, hum.id) + ((probe.id,) if probe else ())
        hold = max(_hold_ms(temp, rules), _hold_ms(hum, rules), _hold_ms(probe, rules) if probe else 0)
        before = eggroom.PROBE_CONTEXT_MS if probe else eggroom.context_ms(p)
        label = f"{temp.label} / {hum.label}" + (f" / {probe.label}" if probe else "")
        out.append(Subject("condensation", f"{room}:" + "+".join(map(str, inputs)), label, room, "condensation",
                           inputs, time(0), before + hold, 0, _version("condensation", p.fingerprint(), hold, tz),
                           lambda data, day, until, p=p, hold=hold, probe=probe: eggroom.condensation_day(
                               data[0], data[1], data[2] if probe else None, day, hold, p, until),
                           eggroom.CondensationDay))
    return out


def _excess_subject(inside: SensorInfo, outside: SensorInfo, rules: SensorRules, tz: str) -> Subject:
    """Return the subject comparing a house's temperature with outside (A3.3: is the ventilation failing?)."""
    cp = rules.climate_for(inside.location)
    hold = max(_hold_ms(inside, rules), _hold_ms(outside, rules))
    return Subject("excess", f"{inside.id}>{outside.id}", f"{inside.label} / {outside.label}", inside.location,
                   "temperature_excess", (inside.id, outside.id), time(0), hold, 0,
                   _version("excess", cp.temperature.fingerprint(), cp.outside_excess_c, hold, tz),
                   lambda data, day, until, band=cp.temperature, excess=cp.outside_excess_c, hold=hold:
                   climate.excess_day(data[0], data[1], day, hold, band, excess, until), climate.ExcessDay)


# --------------------------------------------------------------------------- records and logbooks


def load_checks(store: Store, at: datetime) -> tuple[Check, ...]:
    """Return the confirmed, current entries of the checks logbook (A3.6) as they stood at ``at``."""
    from agent.logbooks import logbook_view

    # The checks logbook alone: a correction or withdrawal is of the same logbook as what it changes.
    return tuple(Check(e.record.date, e.record.item, e.record.result, e.record.house)
                 for e in logbook_view(store, at, "checks").entries.get("checks", ()))


def load_channels(store: Store, config: Settings) -> AlertChannels:
    """Return the configured off-farm channels and their recorded tests (table of the alerts feature)."""
    names = tuple(c.name or c.url or c.topic or ",".join(c.to) or c.type for c in config.alerts.channels)
    tests = []
    for r in channel_tests(store):
        try:
            tests.append(ChannelTest(str(r["channel"]), parse_moment(r["sent_at"]), bool(r["delivered"])))
        except (ValueError, TypeError, AttributeError):
            log.warning("channel test with an unreadable time: %r", r["sent_at"])
    return AlertChannels(names, tuple(tests))


def agent_down(store: Store, panels: dict, sensors: list[SensorInfo], lo: int, hi: int,
               first: int | None) -> tuple[tuple[int, int], ...]:
    """Return the panel silences in which the agent was not receiving: before ``first`` (the first
    reading it ever stored: a fresh install, a new database), and silences in which no other sensor
    was heard either. ``sensors`` are the configured sensors already registered."""
    out = [] if first is not None and first <= lo else [(lo, min(hi, first) if first is not None else hi)]
    for house, sensor_days in panels.items():
        panel_ids = {s.id for s in sensors if s.kind == "ventilation_alarm" and s.location == house}
        others = [s.id for s in sensors if s.id not in panel_ids]
        if not others:
            continue  # nothing to compare with: the silence counts as the panel's
        for sd in sensor_days:
            for b, e, code, _last in states.timeline(sd.days, lo, hi):
                if code is None and not any(_heard(store, sid, b, e) for sid in others):
                    out.append((b, e))
    return tuple(out)


def _first_heard(store: Store, sensor_ids: list[int]) -> int | None:
    """Return the moment (ms) the agent first stored a reading of any of these sensors, or None."""
    firsts = [t for t in (first_reading_ms(store, sid) for sid in sensor_ids) if t is not None]
    return min(firsts) if firsts else None


def _heard(store: Store, sensor_id: int, lo: int, hi: int) -> bool:
    """Return whether a sensor has any reading (raw or aggregated) in ``[lo, hi)``."""
    return heard_between(store, sensor_id, lo, hi)


def _episodes(evidence: Evidence, params: Params):
    """Yield (group location, episode) for every generator test and mains outage in the generator history."""
    hi = to_ms(evidence.at)
    lo = to_ms(history_start(evidence, params))
    for group in groups(evidence, params):
        for e in episodes(group.mains, group.generator, params.sensor_rules.generator, lo, hi):
            yield group.location, e


def detected_tests(store: Store, evidence: Evidence, params: Params) -> tuple[DetectedTest, ...]:
    """Return the finished generator test runs (A3.6): those the readings show, found each time.

    So the score is the same whether or not ``run`` recorded them yet, and whatever order the readings
    arrived in. A recorded test carries its event id (drafts and dismissals refer to it); one not
    recorded yet gets minus its start as id (no entry can refer to it, no event id is negative). A
    recorded test the readings no longer show counts only while a checks entry refers to it (a draft, a
    confirmation): the events written from half a backlog are not evidence.
    """
    hi = to_ms(evidence.at)
    recorded = {(r["location"], r["start"]): r for r in finished_episodes(store, "generator_test", hi)}
    out = {}
    for location, e in _episodes(evidence, params):
        if e.kind == "generator_test" and e.end is not None and e.end <= hi:
            row = recorded.get((location, e.start))
            out[(location, e.start)] = DetectedTest(row["id"] if row else -e.start, location, to_dt(e.start),
                                                    to_dt(e.end))
    referenced = logbook_event_ids(store, "checks")
    for key, r in recorded.items():
        if key not in out and r["id"] in referenced:
            out[key] = DetectedTest(r["id"], r["location"], to_dt(r["start"]), to_dt(r["end"]))
    return tuple(sorted(out.values(), key=lambda t: (t.start, t.id)))


def record_episodes(store: Store, evidence: Evidence, params: Params) -> int:
    """Store detected generator tests and mains outages as events, once each; return how many changed (``run``).

    Readings that arrive late can show an episode differently (three short runs that were one test with
    readings missing): within the history read, an event the readings no longer show, and that no
    logbook entry refers to, is removed; an ended one is never reopened.
    """
    rows = []
    for location, e in _episodes(evidence, params):
        detail = json.dumps({"result": e.result, "detail": e.detail,
                             "started_after_s": None if e.started_after_ms is None else e.started_after_ms / 1000},
                            ensure_ascii=False)
        rows.append((e.kind, location, e.start, e.end, detail))
    span = (to_ms(history_start(evidence, params)), to_ms(evidence.at))
    return store_episodes(store, rows, reconcile=(EPISODE_KINDS, *span), keep=logbook_event_ids(store, "checks"))


# --------------------------------------------------------------------------- the loader


def load_sensor_inputs(store: Store, config: Settings, since: datetime, at: datetime,
                       families: tuple[str, ...] | None = None) -> dict:
    """Return the sensor rules' inputs for ``[since, at]`` (only some families when asked)."""
    farm = config.farm_view()
    tz = farm.tz
    params = config.params()
    rules = params.sensor_rules
    subjects = [s for s in build_subjects(store, config, rules) if families is None or s.kind in families
                or s.family in families]
    stale = pending_stale(store, subjects, tz)
    hi = to_ms(at)
    inputs: dict = {"light": {h.id: () for h in config.houses}, "lamps": {h.id: () for h in config.houses},
                    "climate": {h.id: {} for h in config.houses}, "climate_excess": {h.id: () for h in config.houses},
                    "condensation": {r.id: () for r in config.egg_rooms},
                    **{kind: {} for kind in STATE_KINDS}}
    for subject, start in subject_windows(subjects, farm, params, since, at):
        found = SensorDays(subject.label, subject_days(store, subject, start, hi, tz, stale))
        if subject.family == "light":
            inputs["light"][subject.location] += (found,)
        elif subject.family == "lamp":
            inputs["lamps"][subject.location] += (found,)
        elif subject.family == "excess":
            inputs["climate_excess"][subject.location] += (found,)
        elif subject.family == "climate":
            per_house = inputs["climate"][subject.location]
            per_house[subject.kind] = per_house.get(subject.kind, ()) + (found,)
        elif subject.family == "condensation":
            inputs["condensation"][subject.location] += (found,)
        else:
            inputs[subject.kind][subject.location] = inputs[subject.kind].get(subject.location, ()) + (found,)
    registered = [s for s in configured_sensors(store, config) if s.id is not None]
    inputs["agent_since"] = _first_heard(store, [s.id for s in registered])
    panels_lo = to_ms(ventilation.history_start(Evidence(farm, at, since)))
    inputs["agent_down"] = agent_down(store, inputs["ventilation_alarm"], registered, panels_lo, hi,
                                      inputs["agent_since"])
    inputs["alert_channels"] = load_channels(store, config)
    inputs["checks"] = load_checks(store, at)
    inputs["housing_orders"] = tuple(load_housing_orders(store))
    inputs["free_range_journal"] = {
        house: journal(sensors, farm, hi, rules.coverage.min_day_coverage)
        for house, sensors in inputs["pophole"].items()}
    if families is None or "generator" in families or "mains" in families:
        inputs["generator_tests"] = detected_tests(store, Evidence(farm, at, since, inputs=inputs), params)
    return inputs


def subject_windows(subjects: list[Subject], farm, params: Params, since: datetime,
                    at: datetime) -> list[tuple[Subject, int]]:
    """Return each subject with the start (ms) of the days it needs.

    The window; the generator history (13 months: the legal tests); the panel's episodes (a silence or
    fault that began before the window keeps its own start); and one lighting day before the window
    for light and lamps (the 24 h rules see a lit stretch crossing into it).
    """
    lo = to_ms(since)
    history_lo = to_ms(history_start(Evidence(farm, at, since), params))
    panels_lo = to_ms(ventilation.history_start(Evidence(farm, at, since)))

    def start(s: Subject) -> int:
        if s.kind in ("generator", "mains"):
            return history_lo
        if s.kind == "ventilation_alarm":
            return panels_lo
        if s.family in ("light", "lamp"):
            return lo - 24 * 3_600_000
        return lo
    return [(s, start(s)) for s in subjects]


BACKFILL_SENSOR_DAYS = 1000  # sensor-days the backfill job derives per run (about 1.5 s on the dev machine)


def backfill_day_cache(store: Store, config: Settings, now: datetime, budget: int = BACKFILL_SENSOR_DAYS) -> int:
    """Cache the settled days of the kept history, the newest first, at most ``budget``; return how many (``run``).

    The minute job caches the evaluation window; this job fills in the history before it (a replayed
    trace, an imported database, an agent started late), so a ``score`` over two years reads cached days.
    """
    tz = config.farm_view().tz
    horizon = to_ms(now - timedelta(days=config.storage.aggregate_retention_days))
    subjects = build_subjects(store, config, config.params().sensor_rules)
    apply_marks(store, subjects, tz)  # days new readings touched first, so none is cached from old data
    done = 0
    for subject in subjects:
        if done >= budget:
            break
        # From the subject's first reading on: days before it hold nothing worth a row.
        firsts = [t for t in (first_reading_ms(store, sid) for sid in subject.sensor_ids if sid is not None)
                  if t is not None]
        if firsts:
            done += cache_days(store, subject, max(horizon, min(firsts)), to_ms(now), tz, limit=budget - done)
    return done


def refresh_day_cache(store: Store, config: Settings, since: datetime, at: datetime) -> int:
    """Bring the per-day cache up to date for the window ``[since, at]``; return the days derived (``run``).

    Drops the days new readings touched, then derives and stores every settled day the loader will
    read, so the score that follows reads them instead of deriving them.
    """
    tz = config.farm_view().tz
    params = config.params()
    subjects = build_subjects(store, config, params.sensor_rules)
    apply_marks(store, subjects, tz)
    return sum(cache_days(store, subject, start, to_ms(at), tz)
               for subject, start in subject_windows(subjects, config.farm_view(), params, since, at))


def journal_for(store: Store, config: Settings, house: str, first: date, last: date) -> dict[date, float | None]:
    """Return the hours the pop-holes of one house were open per day (H3.12.10's free-range journal)."""
    tz = config.farm_view().tz
    since = datetime.combine(first, time(0), tz)
    at = datetime.combine(last, time(23, 59, 59), tz)
    inputs = load_sensor_inputs(store, config, since, at, families=("pophole",))
    return inputs.get("free_range_journal", {}).get(house, {})
