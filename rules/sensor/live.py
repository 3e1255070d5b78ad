"""The live judgement behind alerts: which alarm, power and light conditions hold *now*.

Readings arrive one by one (ingestion hands over every committed batch) and
time passes (a tick every few seconds); :class:`Watch` keeps the last state
per location in memory and answers with :class:`Action` s — raise, touch or
clear an alert — which the agent carries out (``agent/alerts/sources.py``
holds only that I/O). Pure: no clock, no database; moments are passed in.

The thresholds are the sensor rules' own (:mod:`rules.sensor_params`), so an
alert and the score never use two numbers for one judgement:

- A3.4: every panel message is a heartbeat; silent longer than the house's
  ``heartbeat_timeout_minutes`` → ``alarm_panel_silent``; ``alarm`` →
  ``ventilation_alarm``; ``fault`` → ``alarm_panel_fault``.
- A3.5: mains off longer than ``start_grace_seconds`` with no generator
  running → ``power_failure``; the generator reporting ``fault`` →
  ``generator_fault``.
- G3.8.8–G3.8.10 against the house's planned dark period: dark is
  ``dark_max_lux`` or less (the light rules' own classification,
  :func:`rules.sensor.light.is_dark`), the ramps around the dark period are
  ``dusk_max_minutes`` long, too little light is below ``min_light_lux``.
- E3.3: the egg surface within ``margin_c`` of the dew point is a risk
  (``condensation_risk``), the condensation rule's own test
  (:func:`rules.sensor.eggroom.condition`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Iterable, Sequence

from rules.evidence import Farm
from rules.kinds import (
    GENERATOR_FAULT,
    GENERATOR_RUNNING,
    MAINS_OFF,
    VENTILATION_ALARM,
    VENTILATION_FAULT,
    VENTILATION_OK,
)
from rules.sensor.eggroom import celsius, condition, dew_point, lag_step
from rules.sensor.light import is_dark
from rules.sensor_params import SensorRules

Key = tuple[str, str, str]  # (alert kind, location, subject)
TOUCH_EVERY_MS = 60_000  # an open condition is touched at most once a minute while it lasts


@dataclass(frozen=True, slots=True)
class Action:
    """What the agent must do with one alert: ``raise`` (with detail), ``touch`` or ``clear``."""

    op: str
    kind: str
    location: str
    subject: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Schedule:
    """The planned dark period of one house (``[[alerts.light.schedules]]``), farm-local wall-clock times."""

    house: str
    dark_start: time
    dark_end: time


@dataclass(frozen=True, slots=True)
class Phase:
    """Where a moment lies in a house's planned light day: ``dark``, ``ramp`` or ``light``."""

    name: str
    dark_start: datetime | None = None  # start of the dark period the moment lies in


def light_phase(schedule: Schedule, moment: datetime, ramp: timedelta) -> Phase:
    """Return whether a local moment is in the planned dark period, a dusk/dawn ramp, or the light period."""
    tz = moment.tzinfo
    crosses_midnight = schedule.dark_end <= schedule.dark_start
    for day in (moment.date() - timedelta(days=1), moment.date(), moment.date() + timedelta(days=1)):
        start = datetime.combine(day, schedule.dark_start, tz)
        end = datetime.combine(day + timedelta(days=1) if crosses_midnight else day, schedule.dark_end, tz)
        if start <= moment < end:
            return Phase("dark", start)
        # G3.8.8: dusk before the dark period and dawn after it are dimming ramps, not held to 20 lux.
        if start - ramp <= moment < start or end <= moment < end + ramp:
            return Phase("ramp")
    return Phase("light")


class Watch:
    """The live conditions of the farm, moved on by readings and by time."""

    def __init__(self, farm: Farm, rules: SensorRules, *, panels: Sequence[str] = (),
                 schedules: Sequence[Schedule] = (), light_hold_ms: int = 5 * 60_000,
                 light_grace_ms: int = 15 * 60_000, started_ms: int = 0, active: Iterable[Key] = ()):
        self.farm = farm
        self.tz = farm.tz
        self.rules = rules
        self.panels = sorted(set(panels))
        self.schedules = {s.house: s for s in schedules}
        self.light_hold_ms = light_hold_ms
        self.light_grace_ms = light_grace_ms
        self.started = started_ms
        self.active: dict[Key, bool] = {k: True for k in active}  # open alerts (a restart can clear them)
        self.pending: dict[Key, int] = {}  # condition present since (ms), waiting for its hold time
        self.touched: dict[Key, int] = {}
        self.heard: dict[str, int] = {}  # ventilation panel: last heard (ms)
        self.mains: dict[str, tuple[float, int]] = {}  # location → (value, since ms)
        self.generator: dict[str, float] = {}
        self.lux: dict[str, dict[int, float]] = {}  # house → {sensor id: last lux}
        self.dark_seen: dict[str, datetime] = {}  # the planned dark period in which the house was dark
        self.egg_rooms = {r.id for r in farm.egg_rooms}
        self.air: dict[str, dict[str, tuple[int, float]]] = {}  # egg room → {kind: (ms, value)}
        self.egg_estimate: dict[str, tuple[int, float, int]] = {}  # egg room → (ms, estimate, trusted from ms)

    # ------------------------------------------------------------------ restoring state

    def restore(self, kind: str, location: str, ts_ms: int, value: float) -> None:
        """Take a stored last reading as the starting state (a restart mid-outage stays right)."""
        if kind == "ventilation_alarm":
            self.heard[location] = max(self.heard.get(location, 0), ts_ms)
        elif kind == "mains":
            self.mains[location] = (value, ts_ms)
        elif kind == "generator":
            self.generator[location] = value

    # ------------------------------------------------------------------ the condition state machine

    def _set(self, key: Key, present: bool, now_ms: int, *, hold_ms: int = 0, detail: str = "") -> list[Action]:
        """Move one condition on; return what the alert engine must do."""
        kind, location, subject = key
        if not present:
            self.pending.pop(key, None)
            if self.active.get(key):
                self.active[key] = False
                return [Action("clear", kind, location, subject)]
            return []
        since = self.pending.setdefault(key, now_ms)
        if self.active.get(key):
            if now_ms - self.touched.get(key, 0) >= TOUCH_EVERY_MS:
                self.touched[key] = now_ms
                return [Action("touch", kind, location, subject)]
            return []
        if now_ms - since < hold_ms:
            return []
        self.active[key] = True
        self.touched[key] = now_ms
        return [Action("raise", kind, location, subject, detail)]

    def _local(self, ms: int) -> str:
        """Return a moment as the farmer reads it: ``28-03-2026 03:12``, farm-local."""
        return datetime.fromtimestamp(ms / 1000, timezone.utc).astimezone(self.tz).strftime("%d-%m-%Y %H:%M")

    # ------------------------------------------------------------------ readings in

    def reading(self, kind: str, location: str, sensor_id: int, value: float, now_ms: int) -> list[Action]:
        """Take one committed reading (judged at the moment it arrived); return the alert actions."""
        if kind == "ventilation_alarm":
            return self._ventilation(location, int(value), now_ms)
        if kind == "mains":
            previous = self.mains.get(location)
            if previous is None or previous[0] != value:
                self.mains[location] = (value, now_ms)
            return self._power(location, now_ms)
        if kind == "generator":
            self.generator[location] = value
            out = self._set(("generator_fault", location, ""), int(value) == GENERATOR_FAULT, now_ms,
                            detail=f"Melding ontvangen om {self._local(now_ms)}.")
            for where in list(self.mains):
                out += self._power(where, now_ms)
            return out
        if kind == "lux" and location in self.schedules:
            self.lux.setdefault(location, {})[sensor_id] = value
            return self._light(location, now_ms)
        if kind in ("temperature", "humidity", "egg_temperature") and location in self.egg_rooms:
            return self._egg_room(location, kind, value, now_ms)
        return []

    def _ventilation(self, loc: str, state: int, now_ms: int) -> list[Action]:
        """A3.4: an alarm is an immediate critical alert; every message is also a heartbeat."""
        self.heard[loc] = now_ms
        out = self._set(("alarm_panel_silent", loc, ""), False, now_ms)
        when = f"Melding ontvangen om {self._local(now_ms)}."
        if state == VENTILATION_ALARM:
            out += self._set(("ventilation_alarm", loc, ""), True, now_ms, detail=when)
            out += self._set(("alarm_panel_fault", loc, ""), False, now_ms)
        elif state == VENTILATION_OK:
            out += self._set(("ventilation_alarm", loc, ""), False, now_ms)
            out += self._set(("alarm_panel_fault", loc, ""), False, now_ms)
        elif state == VENTILATION_FAULT:
            # A panel in fault may not see the ventilation: the alarm state stays as it was.
            out += self._set(("alarm_panel_fault", loc, ""), True, now_ms, detail=when)
        return out

    def _generator_running(self, location: str) -> bool:
        """Return whether a generator serving this location runs (its own, else any on the farm)."""
        own = self.generator.get(location)
        if own is not None:
            return int(own) == GENERATOR_RUNNING
        return any(int(v) == GENERATOR_RUNNING for v in self.generator.values())

    def _power(self, location: str, now_ms: int) -> list[Action]:
        """A3.5: mains off longer than the generator's start-up grace with no generator running."""
        value, since = self.mains.get(location, (1, now_ms))
        off = int(value) == MAINS_OFF
        grace_ms = self.rules.generator.start_grace_seconds * 1000
        failing = off and now_ms - since >= grace_ms and not self._generator_running(location)
        return self._set(("power_failure", location, ""), failing, now_ms,
                         detail=f"Netstroom weg sinds {self._local(since)}; het aggregaat draait niet.")

    def _light(self, location: str, now_ms: int) -> list[Action]:
        """G3.8.8/G3.8.9/G3.8.10 as they happen, against the house's planned dark period."""
        values = self.lux.get(location)
        if not values:
            return []
        p = self.rules.light_for(location)
        moment = datetime.fromtimestamp(now_ms / 1000, timezone.utc).astimezone(self.tz)
        phase = light_phase(self.schedules[location], moment, timedelta(minutes=p.dusk_max_minutes))
        brightest, dimmest = max(values.values()), min(values.values())
        at = moment.strftime("%H:%M")
        out: list[Action] = []
        if phase.name == "dark":
            lit = not is_dark(brightest, p)
            if not lit:
                self.dark_seen[location] = phase.dark_start
            was_dark = self.dark_seen.get(location) == phase.dark_start
            late = (moment - phase.dark_start) >= timedelta(milliseconds=self.light_grace_ms)
            planned = self.schedules[location].dark_start.strftime("%H:%M")
            out += self._set(("lights_on_after_dark_start", location, ""), lit and not was_dark and late, now_ms,
                             detail=f"{brightest:g} lux om {at}; de donkerperiode begon om {planned}.")
            out += self._set(("lights_on_in_dark", location, ""), lit and was_dark, now_ms, hold_ms=self.light_hold_ms,
                             detail=f"{brightest:g} lux om {at} (maximaal {p.dark_max_lux:g} lux, G3.8.10).")
            out += self._set(("light_too_low", location, ""), False, now_ms)
        else:
            out += self._set(("lights_on_after_dark_start", location, ""), False, now_ms)
            out += self._set(("lights_on_in_dark", location, ""), False, now_ms)
            out += self._set(("light_too_low", location, ""), phase.name == "light" and dimmest < p.min_light_lux,
                             now_ms, hold_ms=self.light_hold_ms,
                             detail=f"{dimmest:g} lux om {at} (minimaal {p.min_light_lux:g} lux, G3.8.8).")
        return out

    def _egg_room(self, room: str, kind: str, value: float, now_ms: int) -> list[Action]:
        """E3.3: the egg surface within the margin of the dew point is a risk worth a warning."""
        seen = self.air.setdefault(room, {})
        p = self.rules.condensation_for(room)
        if kind == "temperature":
            last = self.egg_estimate.get(room)
            if last is None or now_ms - last[0] > 4 * p.egg_lag_minutes * 60_000:
                # No history (or a long gap): the estimate starts at the air and is not trusted for one τ.
                self.egg_estimate[room] = (now_ms, value, now_ms + p.egg_lag_minutes * 60_000)
            else:
                estimate = lag_step(last[1], seen["temperature"][1], now_ms - last[0], p)
                self.egg_estimate[room] = (now_ms, estimate, last[2])
        seen[kind] = (now_ms, value)
        if "temperature" not in seen or "humidity" not in seen:
            return []
        if "egg_temperature" in seen:
            egg, source = seen["egg_temperature"][1], "ei-sonde"
        else:
            ms, estimate, trusted = self.egg_estimate[room]
            if now_ms < trusted:
                return []
            egg, source = estimate, "geschat"
        dew = dew_point(seen["temperature"][1], seen["humidity"][1])
        state = condition(dew, egg, p)
        return self._set(("condensation_risk", room, ""), state != "dry", now_ms,
                         hold_ms=p.c_minutes * 60_000,
                         detail=f"dauwpunt {celsius(dew)} bij eioppervlak {celsius(egg)} ({source}) "
                                f"om {self._local(now_ms)[-5:]}"
                                + ("; condens op de eieren" if state == "condensation" else
                                   f"; binnen de marge van {celsius(p.margin_c)}"))

    # ------------------------------------------------------------------ time passes

    def tick(self, now_ms: int) -> list[Action]:
        """Check what needs no reading to change: panel silence, power grace, the light schedule's clock."""
        out: list[Action] = []
        for location in self.panels:
            timeout_ms = self.rules.ventilation_for(location).heartbeat_timeout_minutes * 60_000
            last = self.heard.get(location, self.started)
            out += self._set(("alarm_panel_silent", location, ""), now_ms - last > timeout_ms, now_ms,
                             detail=f"Laatste bericht: {self._local(last)}." if last != self.started
                             else "Nog geen bericht ontvangen sinds de start van de agent.")
        for location in list(self.mains):
            out += self._power(location, now_ms)
        for location in list(self.lux):
            out += self._light(location, now_ms)
        return out
