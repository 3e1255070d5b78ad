"""A3.6 drafts: every finished generator test, and every short alarm of a ventilation alarm panel (its test
alarm), that the sensors saw becomes a `checks` draft for the farmer to confirm or withdraw."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Callable

from agent.config import Settings
from agent.logbooks.entries import Saved, _rows, add_entry, current_entries
from agent.store import Store, finished_episodes, record_episode
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
    referenced = {r.entry.get("event_id") for r in _rows(store, "checks")}
    manual = {(r.entry.get("date"), r.entry.get("house"))
              for r in current_entries(store, "checks", state="confirmed", fields={"item": "generator"})}
    events = finished_episodes(store, "generator_test", _ms(now))
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
        detail = ev["detail"]
        result = detail.get("result") if detail.get("result") in ("ok", "fault") else "ok"
        minutes = round((end - start).total_seconds() / 60)
        entry = {"date": day, "item": "generator", "result": result, "checked_by": "automatisch gedetecteerd",
                 "notes": f"Testloop gedetecteerd {start:%H:%M}–{end:%H:%M} ({minutes} min); bevestig of corrigeer.",
                 "time": f"{start:%H:%M}", "house": house, "source": "detected", "event_id": ev["id"]}
        saved.append(add_entry(store, config, "checks", entry, by="ikb-agent", now=now, state="draft"))
    return saved


# --------------------------------------------------------------------------- A3.6 drafts from the panel's test alarm

ALARM_TEST_LOOKBACK = timedelta(days=7)  # test alarms of the last week are drafted (the job runs every 5 min)


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
    referenced = {r.entry.get("event_id") for r in _rows(store, "checks")}
    manual = {(r.entry.get("date"), r.entry.get("house"))
              for r in current_entries(store, "checks", state="confirmed") if r.entry.get("item") in ALARM_ITEMS}
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
                event = record_episode(store, "alarm_test", house, s, e, json.dumps({"result": "ok"}))
                if event in referenced:
                    continue
                minutes = max(1, round((e - s) / 60_000))
                entry = {"date": day, "item": "alarm", "result": "ok", "checked_by": "automatisch gedetecteerd",
                         "notes": f"Alarm van de alarminstallatie ({sensor.label}) gezien {start:%H:%M}–{end:%H:%M} "
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
