"""A3.6 drafts: every finished generator test, and every short alarm of a ventilation alarm panel (its test
alarm), that the sensors saw becomes a `checks` draft for the farmer to confirm or withdraw."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Callable

from agent.config import Settings
from agent.logbooks.entries import Saved, _rows, add_entry, current
from agent.store import Store
from agent.store import to_ms as _ms

# --------------------------------------------------------------------------- A3.6 drafts from detected tests


def draft_detected_checks(store: Store, config: Settings, now: datetime) -> list[Saved]:
    """Draft a `checks` entry for every finished detected generator test that has none yet.

    The draft waits for the farmer's confirmation (`logbook confirm ID`); a
    detected test never confirmed scores A3.6 B. Idempotent: a test already
    referenced by any checks row (draft, confirmed or withdrawn) is skipped,
    as is one the farmer already registered by hand that day.
    """
    farm = config.farm_view()
    houses = {h.id for h in config.houses}
    rows = _rows(store, "checks")
    referenced = {r.entry.get("event_id") for r in rows}
    manual = {(r.entry.get("date"), r.entry.get("house")) for r in current(rows)
              if r.entry.get("item") == "generator" and r.state == "confirmed"}
    events = store.query("SELECT id, location, start, \"end\", detail FROM events WHERE kind = 'generator_test'"
                         " AND \"end\" IS NOT NULL AND \"end\" <= ? ORDER BY start", [_ms(now)])
    saved = []
    for ev in events:
        if ev["id"] in referenced:
            continue
        start = datetime.fromtimestamp(ev["start"] / 1000, timezone.utc).astimezone(farm.tz)
        end = datetime.fromtimestamp(ev["end"] / 1000, timezone.utc).astimezone(farm.tz)
        house = ev["location"] if ev["location"] in houses else None
        day = start.date().isoformat()
        if (day, house) in manual or (day, None) in manual:
            continue
        try:
            detail = json.loads(ev["detail"] or "{}")
        except ValueError:
            detail = {}
        result = detail.get("result") if detail.get("result") in ("ok", "fault") else "ok"
        minutes = round((end - start).total_seconds() / 60)
        entry = {"date": day, "item": "generator", "result": result, "checked_by": "automatisch gedetecteerd",
                 "notes": f"Testloop gedetecteerd {start:%H:%M}–{end:%H:%M} ({minutes} min); bevestig of corrigeer.",
                 "time": f"{start:%H:%M}", "house": house, "source": "detected", "event_id": ev["id"]}
        saved.append(add_entry(store, config, "checks", entry, by="ikb-agent", now=now, state="draft"))
    return saved


# --------------------------------------------------------------------------- A3.6 drafts from the panel's test alarm

ALARM_TEST_LOOKBACK = timedelta(days=7)  # test alarms of the last week are drafted (the job runs every 5 min)


def _alarm_test_event(store: Store, house: str, start: int, end: int) -> int:
    """Return the id of the `alarm_test` event for a spell, recording it once."""
    with store.transaction() as db:
        row = db.execute("SELECT id FROM events WHERE kind = 'alarm_test' AND location IS ? AND start = ?",
                         [house, start]).fetchone()
        if row is not None:
            return row[0]
        cur = db.execute('INSERT INTO events(kind, location, start, "end", detail) VALUES (?, ?, ?, ?, ?)',
                         ["alarm_test", house, start, end, json.dumps({"result": "ok"})])
        return cur.lastrowid


def draft_alarm_tests(store: Store, config: Settings, now: datetime) -> list[Saved]:
    """Draft an `alarm` check for every short alarm of a house's ventilation alarm panel (its test alarm).

    An alarm check means the installation itself was tested (A3.6): the panel's test alarm seen on its
    sensor is that evidence once the farmer confirms the draft; a real alarm he withdraws with the reason.
    Idempotent like the generator drafts; a day with a manual alarm check for the house needs no draft.
    """
    from agent.evaluation import load_sensor_inputs
    from rules.kinds import VENTILATION_ALARM
    from rules.logbooks import ALARM_ITEMS, test_alarm_spells
    from rules.sensor import states

    farm = config.farm_view()
    ventilated = {h.id for h in config.houses if h.mechanical_ventilation}
    inputs = load_sensor_inputs(store, config, now - ALARM_TEST_LOOKBACK, now, families=("ventilation_alarm",))
    rows = _rows(store, "checks")
    referenced = {r.entry.get("event_id") for r in rows}
    manual = {(r.entry.get("date"), r.entry.get("house")) for r in current(rows)
              if r.entry.get("item") in ALARM_ITEMS and r.state == "confirmed"}
    lo, hi = _ms(now - ALARM_TEST_LOOKBACK), _ms(now)
    saved = []
    for house, sensors in sorted(inputs.get("ventilation_alarm", {}).items()):
        if house not in ventilated:
            continue
        for sensor in sensors:
            for s, e in test_alarm_spells(states.timeline(sensor.days, lo, hi), VENTILATION_ALARM, hi):
                start = datetime.fromtimestamp(s / 1000, timezone.utc).astimezone(farm.tz)
                end = datetime.fromtimestamp(e / 1000, timezone.utc).astimezone(farm.tz)
                day = start.date().isoformat()
                if (day, house) in manual or (day, None) in manual:
                    continue
                event = _alarm_test_event(store, house, s, e)
                if event in referenced:
                    continue
                minutes = max(1, round((e - s) / 60_000))
                entry = {"date": day, "item": "alarm", "result": "ok", "checked_by": "automatisch gedetecteerd",
                         "notes": f"Alarm van het alarmpaneel ({sensor.label}) gezien {start:%H:%M}–{end:%H:%M} "
                                  f"({minutes} min): bevestig als testalarm, of trek in als het een echt alarm was.",
                         "time": f"{start:%H:%M}", "house": house, "source": "detected", "event_id": event}
                saved.append(add_entry(store, config, "checks", entry, by="ikb-agent", now=now, state="draft"))
                referenced.add(event)
    return saved


# --------------------------------------------------------------------------- scheduled jobs

DRAFT_EVERY_S = 300  # a finished test run is drafted within five minutes


def draft_checks(store: Store, config: Settings, now: datetime) -> list[Saved]:
    """Draft the generator test runs and the panels' test alarms the sensors saw (A3.6)."""
    return draft_detected_checks(store, config, now) + draft_alarm_tests(store, config, now)


def draft_job(store: Store, config: Settings) -> tuple[str, Callable[[datetime], object], float]:
    """Return (name, function(now), interval) of the job that drafts detected generator tests and test alarms."""
    return "logbook-drafts", lambda now: draft_checks(store, config, now), DRAFT_EVERY_S
