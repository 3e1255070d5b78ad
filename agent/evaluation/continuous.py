"""Continuous evaluation for `ikb-agent run`: the minute job and the on-arrival check of alarm inputs.

Both are plain functions of (store, config, now) so the scheduler, the ingest
listener and the tests call them alike. The minute job scores the recent
window through the same :func:`agent.evaluation.score.score_window` as ``score``;
it is incremental because every sensor's completed days come from the per-day
cache (``agent/derived.py``): a tick derives only the day still running and
the days new readings touched. Alarm-class readings (the ventilation alarm
panel, mains, generator) are judged the moment their batch is committed, not
at the next tick.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta
from typing import Callable, Iterable

from agent import clock
from agent.config import Settings
from agent.evaluation.score import build_evidence, record_score
from agent.evaluation.sensor_inputs import load_sensor_inputs, record_episodes
from agent.logbooks import load_answers, load_documents
from agent.store import Store
from rules.catalogue import load_catalogue
from rules.engine import evaluate, evaluate_rule
from rules.evidence import Evidence
from rules.scoring import score

log = logging.getLogger(__name__)

ALARM_KINDS = ("ventilation_alarm", "mains", "generator")
ALARM_RULES = ("A3.4", "A3.5")
FRESH_MS = 10 * 60_000  # readings older than this are history, not an alarm


def evaluate_tick(store: Store, config: Settings, now: datetime) -> list[dict]:
    """Score the recent window, store the findings and the detected generator episodes; return the changes.

    This is ``run``'s job: it writes what the score found (findings, status changes, the events the
    checks logbook drafts from); the score itself writes nothing a later score reads.
    """
    since = now - timedelta(days=config.evaluation.window_days)
    evidence = build_evidence(store, config, at=now, since=since)
    changes = record_score(store, evaluate(load_catalogue(), evidence, config.params()), now)
    _record_episodes(store, evidence, config)
    return changes


def _record_episodes(store: Store, evidence: Evidence, config: Settings) -> None:
    """Record the generator tests and mains outages as events; a busy database waits for the next minute."""
    try:
        record_episodes(store, evidence, config.params())
    except sqlite3.OperationalError as exc:
        log.info("generator events not written: %s", exc)


def tick_job(store: Store, config: Settings) -> tuple[str, Callable[[datetime], list[dict]], float]:
    """Return (name, function(now), interval) of the minute job that re-evaluates every rule."""
    return ("evaluate", lambda now: evaluate_tick(store, config, now), float(config.evaluation.interval_seconds))


def evaluate_alarm_rules(store: Store, config: Settings, now: datetime) -> list[dict]:
    """Judge A3.4 and A3.5 only (the alarm panel, mains and generator) and record their changes."""
    since = now - timedelta(days=config.evaluation.window_days)
    catalogue = load_catalogue()
    evidence = Evidence(farm=config.farm_view(), at=now, since=since, answers=tuple(load_answers(store)),
                        documents=tuple(load_documents(store)),
                        inputs=load_sensor_inputs(store, config, since, now, families=ALARM_KINDS))
    params = config.params()
    findings = []
    for rule in catalogue.applicable(evidence.farm.housings):
        if rule.id in ALARM_RULES:
            findings.extend(evaluate_rule(rule, evidence, params)[0])
    changes = record_score(store, score(findings, at=now, since=since, weights=params.weights), now, partial=True)
    _record_episodes(store, evidence, config)
    return changes


def on_readings(store: Store, config: Settings, batch: Iterable, now: datetime) -> list[dict]:
    """Evaluate the alarm rules when a committed batch holds an alarm-class reading; return the changes."""
    if not any(getattr(r, "kind", None) in ALARM_KINDS for r in batch):
        return []
    return evaluate_alarm_rules(store, config, now)


def alarm_listener(store: Store, config: Settings) -> Callable[[list], list[dict]]:
    """Return the ingest listener (called after each committed batch) that judges alarm inputs at once.

    Only fresh readings count: a replayed or back-filled batch is not an alarm happening now, and the
    minute job evaluates it anyway.
    """
    def listener(batch: list) -> list[dict]:
        now = clock.utcnow()
        fresh = [r for r in batch if now.timestamp() * 1000 - getattr(r, "ts_ms", 0) <= FRESH_MS]
        return on_readings(store, config, fresh, now)

    return listener
