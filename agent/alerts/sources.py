"""Where alerts come from: sensor readings as they arrive, the score, ingestion's events, logbooks, dues.

:class:`SensorWatch` is the fast path. Ingestion hands it every committed
batch; it keeps the last state per location in memory and touches the
database only when a condition starts or stops — the ventilation alarm goes
from the MQTT message to the outbox in one short transaction, without the
minute job and without the web process.

The other sources are polled (status changes, sensor-offline events) or
called (logbook flags, dues); they write alerts the same way.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterable

from agent.alerts.engine import AlertEngine
from agent.alerts.kinds import RULE_KINDS
from agent.alerts.messages import local_text
from agent.config import LightSchedule, Settings
from agent.ingest import StoredReading
from agent.store import (
    Store,
    event_ended,
    finding_occurrences,
    from_ms,
    last_reading,
    offline_events_after,
    rows_after,
    sensors_of_kind,
    status_changes_after,
)
from rules.catalogue import load_catalogue
from rules.findings import DEVIATIONS
from rules.kinds import (
    GENERATOR_FAULT,
    GENERATOR_RUNNING,
    MAINS_OFF,
    VENTILATION_ALARM,
    VENTILATION_FAULT,
    VENTILATION_OK,
)

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (kind, location, subject)


@dataclass(frozen=True)
class _Phase:
    """Where a moment lies in a house's planned light day."""

    name: str  # dark | ramp | light
    dark_start: datetime | None = None  # start of the dark period we are in


def light_phase(schedule: LightSchedule, moment: datetime, ramp: timedelta) -> _Phase:
    """Return whether a local moment is in the planned dark period, a dusk/dawn ramp, or the light period."""
    tz = moment.tzinfo
    start_t, end_t = time.fromisoformat(schedule.dark_start), time.fromisoformat(schedule.dark_end)
    crosses_midnight = end_t <= start_t
    for day in (moment.date() - timedelta(days=1), moment.date(), moment.date() + timedelta(days=1)):
        start = datetime.combine(day, start_t, tz)
        end = datetime.combine(day + timedelta(days=1) if crosses_midnight else day, end_t, tz)
        if start <= moment < end:
            return _Phase("dark", start)
        # Dusk before the dark period and dawn after it are dimming ramps, not judged against 20 lux.
        if start - ramp <= moment < start or end <= moment < end + ramp:
            return _Phase("ramp")
    return _Phase("light")


class SensorWatch:
    """Turn readings into alert conditions: ventilation alarm, panel silence, power, light schedule."""

    def __init__(self, engine: AlertEngine, settings: Settings, store: Store, now_ms: int):
        self.engine = engine
        self.settings = settings
        self.cfg = settings.alerts
        self.tz = settings.farm_view().tz
        # Conditions whose alert is open; loaded so a restart can clear what was open before.
        self.active: dict[Key, bool] = {k: True for k in engine.open_keys(source="sensor")}
        self.pending: dict[Key, int] = {}  # condition present since (ms), waiting for its hold time
        self.touched: dict[Key, int] = {}
        self.heard: dict[str, int] = {}  # ventilation panel: when we last heard from it (receipt, ms)
        self.mains: dict[str, tuple[float, int]] = {}  # location → (value, since ms)
        self.generator: dict[str, float] = {}
        self.lux: dict[str, dict[int, float]] = {}
        self.dark_seen: dict[str, datetime] = {}  # the dark period in which the house was dark
        self.schedules = {s.house: s for s in self.cfg.light.schedules}
        self.panels = sorted({s.location for s in settings.sensors if s.kind == "ventilation_alarm"})
        self.started = now_ms
        self._load_last_states(store)

    def _load_last_states(self, store: Store) -> None:
        """Start from the last stored state of each state sensor, so a restart mid-outage stays right."""
        for kind in ("ventilation_alarm", "mains", "generator"):
            for sensor in sensors_of_kind(store, kind):
                last = last_reading(store, sensor.id)
                if last is None:
                    continue
                ts, value = last
                if kind == "ventilation_alarm":
                    self.heard[sensor.location] = max(self.heard.get(sensor.location, 0), ts)
                elif kind == "mains":
                    self.mains[sensor.location] = (value, ts)
                else:
                    self.generator[sensor.location] = value

    # ------------------------------------------------------------------ the condition state machine

    def _set(self, key: Key, present: bool, now_ms: int, *, hold_ms: int = 0, title: str | None = None,
             detail: str = "") -> bool:
        """Move one condition on; return whether messages were written."""
        kind, location, subject = key
        if not present:
            self.pending.pop(key, None)
            if self.active.get(key):
                self.active[key] = False
                self.engine.clear(kind, location, now_ms, subject)
            return False
        since = self.pending.setdefault(key, now_ms)
        if self.active.get(key):
            if now_ms - self.touched.get(key, 0) >= 60_000:  # at most one write a minute while it lasts
                self.touched[key] = now_ms
                self.engine.touch(kind, location, now_ms, subject)
            return False
        if now_ms - since < hold_ms:
            return False
        self.active[key] = True
        self.touched[key] = now_ms
        _, sent = self.engine.raise_alert(kind, location, now_ms, subject=subject, title=title, detail=detail)
        return sent

    # ------------------------------------------------------------------ readings in

    def on_batch(self, batch: Iterable[StoredReading], now_ms: int) -> bool:
        """Handle one committed batch of readings; return whether messages were written."""
        sent = False
        for r in batch:
            if r.kind == "ventilation_alarm":
                sent |= self._ventilation(r, now_ms)
            elif r.kind == "mains":
                previous = self.mains.get(r.location)
                if previous is None or previous[0] != r.value:
                    self.mains[r.location] = (r.value, now_ms)
                sent |= self._power(r.location, now_ms)
            elif r.kind == "generator":
                self.generator[r.location] = r.value
                sent |= self._set(("generator_fault", r.location, ""), int(r.value) == GENERATOR_FAULT, now_ms,
                                  detail=f"Melding ontvangen om {local_text(self.settings, now_ms)}.")
                for location in list(self.mains):
                    sent |= self._power(location, now_ms)
            elif r.kind == "lux" and r.location in self.schedules:
                self.lux.setdefault(r.location, {})[r.sensor_id] = r.value
                sent |= self._light(r.location, now_ms)
        return sent

    def _ventilation(self, r: StoredReading, now_ms: int) -> bool:
        """A3.4: an alarm is an immediate critical alert; every message is also a heartbeat."""
        loc, state = r.location, int(r.value)
        self.heard[loc] = now_ms
        sent = self._set(("alarm_panel_silent", loc, ""), False, now_ms)
        when = f"Melding ontvangen om {local_text(self.settings, now_ms)}."
        if state == VENTILATION_ALARM:
            sent |= self._set(("ventilation_alarm", loc, ""), True, now_ms, detail=when)
            sent |= self._set(("alarm_panel_fault", loc, ""), False, now_ms)
        elif state == VENTILATION_OK:
            sent |= self._set(("ventilation_alarm", loc, ""), False, now_ms)
            sent |= self._set(("alarm_panel_fault", loc, ""), False, now_ms)
        elif state == VENTILATION_FAULT:
            # A panel in fault may not see the ventilation: the alarm state stays as it was.
            sent |= self._set(("alarm_panel_fault", loc, ""), True, now_ms, detail=when)
        return sent

    def _generator_running(self, location: str) -> bool:
        """Return whether a generator serving this location runs (its own, else any on the farm)."""
        own = self.generator.get(location)
        if own is not None:
            return int(own) == GENERATOR_RUNNING
        return any(int(v) == GENERATOR_RUNNING for v in self.generator.values())

    def _power(self, location: str, now_ms: int) -> bool:
        """A3.5: mains off longer than the grace time with no generator running is critical."""
        value, since = self.mains.get(location, (1, now_ms))
        off = int(value) == MAINS_OFF
        grace_ms = int(self.cfg.power_grace_seconds * 1000)
        failing = off and now_ms - since >= grace_ms and not self._generator_running(location)
        return self._set(("power_failure", location, ""), failing, now_ms,
                         detail=f"Netstroom weg sinds {local_text(self.settings, since)}; het aggregaat draait niet.")

    def _light(self, location: str, now_ms: int) -> bool:
        """G3.8.8/G3.8.9/G3.8.10 as they happen, against the house's planned dark period."""
        cfg = self.cfg.light
        values = self.lux.get(location)
        if not values:
            return False
        moment = from_ms(now_ms).astimezone(self.tz)
        phase = light_phase(self.schedules[location], moment, timedelta(minutes=cfg.ramp_minutes))
        brightest, dimmest = max(values.values()), min(values.values())
        hold_ms = int(cfg.hold_minutes * 60000)
        at = moment.strftime("%H:%M")
        sent = False
        if phase.name == "dark":
            lit = brightest > cfg.dark_max_lux
            if not lit:
                self.dark_seen[location] = phase.dark_start
            was_dark = self.dark_seen.get(location) == phase.dark_start
            late = (moment - phase.dark_start) >= timedelta(minutes=cfg.grace_minutes)
            planned = self.schedules[location].dark_start
            sent |= self._set(("lights_on_after_dark_start", location, ""), lit and not was_dark and late, now_ms,
                              detail=f"{brightest:g} lux om {at}; de donkerperiode begon om {planned}.")
            sent |= self._set(("lights_on_in_dark", location, ""), lit and was_dark, now_ms, hold_ms=hold_ms,
                              detail=f"{brightest:g} lux om {at} (maximaal {cfg.dark_max_lux:g} lux, G3.8.10).")
            sent |= self._set(("light_too_low", location, ""), False, now_ms)
        else:
            sent |= self._set(("lights_on_after_dark_start", location, ""), False, now_ms)
            sent |= self._set(("lights_on_in_dark", location, ""), False, now_ms)
            sent |= self._set(("light_too_low", location, ""), phase.name == "light" and dimmest < cfg.light_min_lux,
                              now_ms, hold_ms=hold_ms,
                              detail=f"{dimmest:g} lux om {at} (minimaal {cfg.light_min_lux:g} lux, G3.8.8).")
        return sent

    # ------------------------------------------------------------------ time passes

    def tick(self, now_ms: int) -> bool:
        """Check what needs no reading to change: panel silence, power grace, the light schedule's clock."""
        sent = False
        timeout_ms = int(self.cfg.panel_timeout_minutes * 60000)
        for location in self.panels:
            last = self.heard.get(location, self.started)
            sent |= self._set(("alarm_panel_silent", location, ""), now_ms - last > timeout_ms, now_ms,
                              detail=f"Laatste bericht: {local_text(self.settings, last)}." if last != self.started
                              else "Nog geen bericht ontvangen sinds de start van de agent.")
        for location in list(self.mains):
            sent |= self._power(location, now_ms)
        for location in list(self.lux):
            sent |= self._light(location, now_ms)
        return sent


# ---------------------------------------------------------------------- the score: status changes


def alerts_from_changes(engine: AlertEngine, changes: Iterable[dict], now_ms: int, store: Store | None = None) -> bool:
    """Raise an alert for each deviation newly appearing in the score; clear those that went away.

    ``changes`` as :func:`agent.evaluation.score.record_score` returns them:
    ``{"rule", "location", "from", "to", "at"}``.
    """
    catalogue = load_catalogue()
    sent = False
    for change in changes:
        rule_id, location, to = change["rule"], change.get("location") or "", change["to"]
        specific = RULE_KINDS.get(rule_id)
        kinds = [specific] if specific else ["deviation_major", "deviation_minor"]
        if to not in DEVIATIONS:
            for kind in kinds:
                engine.clear(kind, location, now_ms, rule_id)
            continue
        if change.get("from") is None:
            # The first evaluation of a rule at a location: its starting state, not a new deviation
            # (a fresh agent would otherwise send one message per deviation the web page already shows).
            continue
        kind = specific or ("deviation_major" if to in ("D", "KO") else "deviation_minor")
        for other in kinds:
            if other != kind:
                engine.clear(other, location, now_ms, rule_id)
        rule = catalogue.get(rule_id)
        text = rule.deviation_text(to) if rule else None
        title = f"{rule_id} ({to}): {text}" if text else f"{rule_id}: afwijking {to}"
        _, new = engine.raise_alert(kind, location, now_ms, subject=rule_id, title=title,
                                    detail=_finding_detail(store, rule_id, location) if store else "")
        sent |= new
    return sent


def _finding_detail(store: Store, rule: str, location: str) -> str:
    """Return what the current finding says it saw (its last occurrence), if stored."""
    occurrences = finding_occurrences(store, rule, location)
    last = occurrences[-1] if occurrences else None
    return last.get("detail", "") if isinstance(last, dict) else ""


def _watermark(store: Store, key: str, table: str) -> int:
    """Return the last processed row id; on first use, start after the rows already there."""
    value = store.get_kv(key)
    if value is not None:
        return int(value)
    last = store.max_id(table)
    store.set_kv(key, str(last))
    return last


def poll_status_changes(engine: AlertEngine, store: Store, now_ms: int) -> bool:
    """Raise alerts for status changes the evaluation recorded since the last poll."""
    since = _watermark(store, "alerts.status_changes.last_id", "status_changes")
    rows = status_changes_after(store, since)
    if not rows:
        return False
    changes = [{"rule": r["rule"], "location": r["location"], "from": r["from_status"], "to": r["to_status"],
                "at": r["at"]} for r in rows]
    sent = alerts_from_changes(engine, changes, now_ms, store)
    store.set_kv("alerts.status_changes.last_id", str(rows[-1]["id"]))
    return sent


# ---------------------------------------------------------------------- ingestion's sensor_offline events


def poll_sensor_events(engine: AlertEngine, store: Store, settings: Settings, now_ms: int) -> bool:
    """Raise ``sensor_offline`` for new offline events; clear those whose event has ended.

    Ventilation alarm panels are skipped: :class:`SensorWatch` watches their
    heartbeat itself (``alarm_panel_silent``), independent of ingestion's job.
    """
    since = _watermark(store, "alerts.events.last_id", "events")
    rows = offline_events_after(store, since)
    sent = False
    for row in rows:
        if row["kind"] == "ventilation_alarm":
            continue
        subject = str(row["sensor_id"] or "")
        detail = f"{row['kind'] or 'sensor'} op {row['topic'] or '?'}; laatste bericht {local_text(settings, row['start'])}."
        _, new = engine.raise_alert("sensor_offline", row["location"], now_ms, subject=subject, detail=detail,
                                    data={"event": row["id"]})
        sent |= new
        if row["end"] is not None:
            engine.clear("sensor_offline", row["location"], now_ms, subject)
    if rows:
        store.set_kv("alerts.events.last_id", str(max(r["id"] for r in rows)))
    # An event that has since been given an end means the sensor is back.
    for alert in store.query("SELECT location, subject, data FROM alerts WHERE kind = 'sensor_offline'"
                             " AND state = 'open' AND clear_since IS NULL"):
        event_id = json.loads(alert["data"]).get("event")
        if event_ended(store, event_id):
            engine.clear("sensor_offline", alert["location"], now_ms, alert["subject"])
    return sent


# ---------------------------------------------------------------------- logbooks: the flock day sheet

FLAG_KINDS = {"A6.2.2": "mortality", "A6.2.1": "production_drop"}
FLAG_LIFETIME_MS = 48 * 3600 * 1000


def alerts_from_flags(engine: AlertEngine, kind: str, entry, flags, now_ms: int) -> bool:
    """Raise alerts for A6.2.2 (mortality) and A6.2.1 (feed/water/production drop) flags of a logbook entry.

    ``flags`` may hold agent.logbooks.entries Flag objects (``rule``, ``message``,
    ``location``), dicts with those keys, or bare rule ids. Such an alert stays open
    48 h; a later day sheet flagging it again keeps it open (it cannot be
    "cleared" by a sensor, only by the numbers improving).
    """
    entry_doc = entry if isinstance(entry, dict) else getattr(entry, "model_dump", lambda: {})()
    default_location = str(entry_doc.get("house") or entry_doc.get("location") or "")
    sent = False
    for flag in flags or ():
        item = _flag_dict(flag)
        rule = str(item.get("rule") or "").rstrip(".")
        alert_kind = FLAG_KINDS.get(rule)
        if alert_kind is None:
            log.info("logbook %s: flag %r raises no alert", kind, flag)
            continue
        location = str(item.get("location") or item.get("house") or default_location)
        text = item.get("text") or item.get("message") or item.get("detail") or ""
        day = entry_doc.get("date")
        detail = " ".join(p for p in (f"Dagstaat {day}." if day else "", str(text)) if p)
        _, new = engine.raise_alert(alert_kind, location, now_ms, detail=detail, expires_at=now_ms + FLAG_LIFETIME_MS)
        sent |= new
    return sent


def poll_logbook_flags(engine: AlertEngine, store: Store, now_ms: int) -> bool:
    """Raise alerts for the flags of flock day sheets written since the last poll (by any process).

    agent.logbooks.entries's ENTRY_LISTENERS run in the process that wrote the entry
    (the web page, the CLI) and are not told which database; the running
    agent, which owns the channels, therefore reads new day-sheet lines here
    and judges them with the same rules (``entry_flags`` over the logbooks).
    """
    since = _watermark(store, "alerts.logbook.last_id", "logbook")
    rows = rows_after(store, since)
    if not rows:
        return False
    sent = False
    day_sheets = [r["id"] for r in rows if r["kind"] == "flock_day"]
    if day_sheets:
        from agent.logbooks import get_entry, logbook_view, record_of
        from rules.logbooks import entry_flags

        view = logbook_view(store, from_ms(now_ms))
        for entry_id in day_sheets:
            entry = get_entry(store, entry_id)
            if entry.state != "confirmed":
                continue
            try:
                flags = entry_flags("flock_day", record_of(entry), view)
            except ValueError as exc:  # an entry that no longer passes its model: nothing to judge
                log.warning("day sheet #%s not judged for alerts: %s", entry_id, exc)
                continue
            sent |= alerts_from_flags(engine, "flock_day", entry.entry, flags, now_ms)
    store.set_kv("alerts.logbook.last_id", str(rows[-1]["id"]))
    return sent


def _flag_dict(flag) -> dict:
    """Return a flag (object, dict or rule id) as a dict."""
    if isinstance(flag, str):
        return {"rule": flag}
    if isinstance(flag, dict):
        return dict(flag)
    if hasattr(flag, "to_json"):
        return flag.to_json()
    return {k: getattr(flag, k, None) for k in ("rule", "location", "message")}


# ---------------------------------------------------------------------- what falls due tomorrow


def alerts_for_dues(engine: AlertEngine, settings: Settings, dues, now_ms: int) -> bool:
    """Raise an info alert for each due item that falls due tomorrow (farm-local); it ends with that day."""
    tz = settings.farm_view().tz
    today = from_ms(now_ms).astimezone(tz).date()
    tomorrow = today + timedelta(days=1)
    end = int(datetime.combine(tomorrow + timedelta(days=1), time(0), tz).timestamp() * 1000)
    sent = False
    for due in dues:
        due_day = due.due if isinstance(due.due, date) else date.fromisoformat(str(due.due))
        if due_day != tomorrow:
            continue
        _, new = engine.raise_alert("due_tomorrow", due.location, now_ms, subject=due.rule,
                                    title=f"{due.rule}: {due.what}", detail=f"Uiterlijk {tomorrow:%d-%m-%Y}.",
                                    expires_at=end)
        sent |= new
    return sent
