"""Where alerts come from: sensor readings as they arrive, the score, ingestion's events, logbooks, dues.

:class:`SensorWatch` is the fast path. Ingestion hands it every committed
batch; the live judgement (:mod:`rules.sensor.live`, pure) keeps the last
state per location in memory, and the database is touched only when a
condition starts or stops — the ventilation alarm goes from the MQTT message
to the outbox in one short transaction, without the minute job and without
the web process.

The other sources are polled (status changes, sensor-offline events) or
called (logbook flags, dues); they write alerts the same way.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, time, timedelta
from typing import Iterable

from agent.alerts.engine import AlertEngine
from agent.alerts.kinds import RULE_KINDS
from agent.alerts.messages import local_text
from agent.config import Settings
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
from rules.findings import DEVIATIONS, Due
from rules.logbooks import Flag, entry_flags
from rules.sensor import live

log = logging.getLogger(__name__)

class SensorWatch:
    """Carry out the live judgement (:class:`rules.sensor.live.Watch`) on the alert engine.

    The conditions — ventilation alarm, panel silence, power, the light schedule, condensation risk — are
    judged in ``rules/``; this class feeds it readings and the clock and writes what it answers.
    """

    def __init__(self, engine: AlertEngine, settings: Settings, store: Store, now_ms: int):
        self.engine = engine
        light = settings.alerts.light
        schedules = [live.Schedule(s.house, time.fromisoformat(s.dark_start), time.fromisoformat(s.dark_end))
                     for s in light.schedules]
        self.judge = live.Watch(settings.farm_view(), settings.sensor_rule_params(),
                           panels=[s.location for s in settings.sensors if s.kind == "ventilation_alarm"],
                           schedules=schedules, light_hold_ms=int(light.hold_minutes * 60_000),
                           light_grace_ms=int(light.grace_minutes * 60_000), started_ms=now_ms,
                           active=engine.open_keys(source="sensor"))
        # Start from the last stored state of each state sensor, so a restart mid-outage stays right.
        for kind in ("ventilation_alarm", "mains", "generator"):
            for sensor in sensors_of_kind(store, kind):
                last = last_reading(store, sensor.id)
                if last is not None:
                    self.judge.restore(kind, sensor.location, last[0], last[1])

    def _apply(self, actions: Iterable[live.Action], now_ms: int) -> bool:
        """Write the judged actions; return whether messages were written."""
        sent = False
        for a in actions:
            if a.op == "raise":
                _, new = self.engine.raise_alert(a.kind, a.location, now_ms, subject=a.subject, detail=a.detail)
                sent |= new
            elif a.op == "touch":
                self.engine.touch(a.kind, a.location, now_ms, a.subject)
            else:
                self.engine.clear(a.kind, a.location, now_ms, a.subject)
        return sent

    def on_batch(self, batch: Iterable[StoredReading], now_ms: int) -> bool:
        """Handle one committed batch of readings; return whether messages were written."""
        sent = False
        for r in batch:
            sent |= self._apply(self.judge.reading(r.kind, r.location, r.sensor_id, r.value, now_ms), now_ms)
        return sent

    def tick(self, now_ms: int) -> bool:
        """Let time pass: panel silence, power grace, the light schedule's clock."""
        return self._apply(self.judge.tick(now_ms), now_ms)


# ---------------------------------------------------------------------- the score: status changes


def alerts_from_changes(engine: AlertEngine, changes: Iterable[dict], now_ms: int, store: Store | None = None) -> bool:
    """Raise an alert for each deviation newly appearing in the score; clear those that went away.

    ``changes`` as :func:`agent.store.record_score` returns them:
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


# ---------------------------------------------------------------------- logbooks: day sheets and the kiosk

# The logbook flags that must reach the farmer off the farm, by the flag's code (rules.logbooks.entry_flags),
# and the logbooks whose new rows are judged for them.
FLAG_KINDS = {"report_nvwa": "mortality", "consult_vet": "production_drop", "poultry_contact_48h": "visitor_contact"}
FLAGGED_LOGBOOKS = ("flock_day", "visitors")
FLAG_LIFETIME_MS = 48 * 3600 * 1000
# A visitor with poultry contact is about today's visit: the alert ends after 12 hours.
LIFETIME_MS = {"visitor_contact": 12 * 3600 * 1000}


def alerts_from_flags(engine: AlertEngine, kind: str, entry: dict, flags: Iterable[Flag], now_ms: int, *,
                      entry_id: int | None = None) -> bool:
    """Raise alerts for the flags of a logbook entry that promise the farmer a message.

    A6.2.2 (mortality) and A6.2.1 (feed/water/production drop) of a day sheet, and a visitor's
    "ja" to the 48-hour question (A4.2.2, one alert per visitor: ``entry_id``). A day-sheet alert
    stays open 48 h; a later day sheet flagging it again keeps it open (it cannot be "cleared" by a
    sensor, only by the numbers improving). Other flags (a hygienogram, a missing flock) are shown
    where the entry is written and raise no alert.
    """
    sent = False
    for flag in flags:
        alert_kind = FLAG_KINDS.get(flag.code)
        if alert_kind is None:
            continue
        location = flag.location or str(entry.get("house") or "")
        day = entry.get("date")
        when = f"Dagstaat {day}." if kind == "flock_day" and day else \
            f"Aangemeld {day} om {entry.get('arrival')}." if kind == "visitors" and day else ""
        detail = " ".join(p for p in (when, flag.message) if p)
        subject = str(entry_id) if alert_kind == "visitor_contact" and entry_id is not None else ""
        _, new = engine.raise_alert(alert_kind, location, now_ms, subject=subject, detail=detail,
                                    expires_at=now_ms + LIFETIME_MS.get(alert_kind, FLAG_LIFETIME_MS))
        sent |= new
    return sent


def poll_logbook_flags(engine: AlertEngine, store: Store, now_ms: int) -> bool:
    """Raise alerts for the flags of day sheets and visitor registrations written since the last poll.

    The web page, the kiosk and the CLI only write the entry; the running agent, which owns the
    channels, reads the new rows here (every tick, 5 s) and judges them with the same rules
    (``entry_flags`` over the logbooks), so an alert goes through the one engine and outbox.
    """
    since = _watermark(store, "alerts.logbook.last_id", "logbook")
    rows = rows_after(store, since)
    if not rows:
        return False
    sent = False
    flagged = [(r["id"], r["kind"]) for r in rows if r["kind"] in FLAGGED_LOGBOOKS]
    if flagged:
        from agent.logbooks import get_entry, logbook_view, record_of

        view = logbook_view(store, from_ms(now_ms))
        for entry_id, kind in flagged:
            entry = get_entry(store, entry_id)
            if entry.state != "confirmed" or _flag_already_told(store, kind, entry):
                continue
            try:
                flags = entry_flags(kind, record_of(entry), view)
            except ValueError as exc:  # an entry that no longer passes its model: nothing to judge
                log.warning("%s #%s not judged for alerts: %s", kind, entry_id, exc)
                continue
            sent |= alerts_from_flags(engine, kind, entry.entry, flags, now_ms, entry_id=entry_id)
    store.set_kv("alerts.logbook.last_id", str(rows[-1]["id"]))
    return sent


def _flag_already_told(store: Store, kind: str, entry) -> bool:
    """Return whether a correction of a visitor keeps a "ja" its earlier version already reported.

    Reporting the departure corrects the visit; the farmer was told of the "ja" at the arrival.
    """
    if kind != "visitors" or entry.supersedes is None:
        return False
    from agent.logbooks import get_entry

    earlier = get_entry(store, entry.supersedes)
    return bool(earlier.entry.get("poultry_contact_48h")) and bool(entry.entry.get("poultry_contact_48h"))


# ---------------------------------------------------------------------- what falls due tomorrow


def alerts_for_dues(engine: AlertEngine, settings: Settings, dues: Iterable[Due], now_ms: int) -> bool:
    """Raise an info alert for each due item that falls due tomorrow (farm-local); it ends with that day."""
    tz = settings.farm_view().tz
    today = from_ms(now_ms).astimezone(tz).date()
    tomorrow = today + timedelta(days=1)
    end = int(datetime.combine(tomorrow + timedelta(days=1), time(0), tz).timestamp() * 1000)
    sent = False
    for due in dues:
        if due.due != tomorrow:
            continue
        _, new = engine.raise_alert("due_tomorrow", due.location, now_ms, subject=due.rule,
                                    title=f"{due.rule}: {due.what}", detail=f"Uiterlijk {tomorrow:%d-%m-%Y}.",
                                    expires_at=end)
        sent |= new
    return sent
