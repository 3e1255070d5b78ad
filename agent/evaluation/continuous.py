"""Continuous evaluation for `ikb-agent run`: the minute job, the episode job and the on-arrival check.

All are plain functions of (store, config, now) so the scheduler, the ingest
listener and the tests call them alike. ``run`` is the only process that
writes what evaluation produces:

- the minute job (:func:`evaluate_tick`) brings the per-day cache up to date
  (``agent.evaluation.derived``: a tick derives only the day still running and
  the days new readings touched), scores the recent window through the same
  :func:`agent.evaluation.score.score_window` as ``score`` (which writes
  nothing), and keeps the result as the score snapshot (``agent.store.scores``);
- the backfill job (:func:`backfill_job`) caches the days of the kept history
  before the window, a slice at a time, so a ``score`` over two years is fast;
- the episode job (:func:`record_generator_episodes`) records the generator
  tests and mains outages the readings show as ``events``, idempotently, for
  the checks logbook to draft (``agent.logbooks.draft_job``);
- alarm-class readings (the ventilation alarm panel, mains, generator) are
  judged the moment their batch is committed, not at the next tick, and merged
  into the snapshot.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Iterable

from agent import clock
from agent.config import Settings
from agent.evaluation.score import score_window
from agent.evaluation.sensor_inputs import backfill_day_cache, load_sensor_inputs, record_episodes, refresh_day_cache
from agent.logbooks import load_answers, load_documents, logbook_view
from agent.store import Store, latest_score, record_score, stored_findings
from rules.catalogue import load_catalogue
from rules.engine import evaluate_rule
from rules.evidence import Evidence
from rules.scoring import score

ALARM_KINDS = ("ventilation_alarm", "mains", "generator")
ALARM_RULES = ("A3.4", "A3.5")
FRESH_MS = 10 * 60_000  # readings older than this are history, not an alarm


def evaluate_tick(store: Store, config: Settings, now: datetime,
                  later: Callable[[Callable], None] | None = None) -> list[dict]:
    """Bring the per-day cache up to date, score the recent window, keep it as the snapshot; return the changes.

    ``later`` (`run`: the ingest thread's next commit of readings) takes what changed when no status
    did (a finding's text running on, the window) while the stored window is younger than two and a half
    intervals; a status change, and anything once the window is older, is written at once. When nothing but
    the window changed, a window younger than one and a half intervals is kept as it is: the window is
    written every other minute, at most three intervals old when read (readers call a snapshot stale after
    three intervals and a minute).
    """
    since = now - timedelta(days=config.evaluation.window_days)
    refresh_day_cache(store, config, since, now)
    interval = timedelta(seconds=config.evaluation.interval_seconds)
    return record_score(store, score_window(store, config, at=now, since=since), now, later=later,
                        later_within=interval * 5 / 2, kept_within=interval * 3 / 2)


def tick_job(store: Store, config: Settings, later: Callable[[Callable], None] | None = None
             ) -> tuple[str, Callable[[datetime], list[dict]], float]:
    """Return (name, function(now), interval) of the minute job that re-evaluates every rule."""
    return ("evaluate", lambda now: evaluate_tick(store, config, now, later),
            float(config.evaluation.interval_seconds))


def record_generator_episodes(store: Store, config: Settings, now: datetime) -> int:
    """Record the generator tests and mains outages the readings show as events; return how many changed.

    Idempotent: an episode is stored once, and completed when it ends.
    """
    since = now - timedelta(days=config.evaluation.window_days)
    inputs = load_sensor_inputs(store, config, since, now, families=("generator", "mains"))
    return record_episodes(store, Evidence(config.farm_view(), now, since, inputs=inputs), config.params())


def episodes_job(store: Store, config: Settings) -> tuple[str, Callable[[datetime], int], float]:
    """Return (name, function(now), interval) of the job that records generator tests and mains outages."""
    return ("episodes", lambda now: record_generator_episodes(store, config, now),
            float(config.evaluation.interval_seconds))


BACKFILL_EVERY_S = 300


def backfill_job(store: Store, config: Settings) -> tuple[str, Callable[[datetime], int], float]:
    """Return (name, function(now), interval) of the job that caches the history's days a slice at a time."""
    return "day-cache-backfill", lambda now: backfill_day_cache(store, config, now), BACKFILL_EVERY_S


def evaluate_alarm_rules(store: Store, config: Settings, now: datetime) -> list[dict]:
    """Judge A3.4 and A3.5 only (the alarm panel, mains and generator), merge them into the snapshot."""
    since = now - timedelta(days=config.evaluation.window_days)
    catalogue = load_catalogue()
    inputs = load_sensor_inputs(store, config, since, now, families=ALARM_KINDS)
    # The repairs recorded for A3.4/A3.5 occurrences: the same findings as the minute job's (DESIGN §3.5 v2).
    inputs["repairs"] = logbook_view(store, now, "corrective_actions").of("corrective_actions")
    evidence = Evidence(farm=config.farm_view(), at=now, since=since, answers=tuple(load_answers(store)),
                        documents=tuple(load_documents(store)), inputs=inputs)
    params = config.params()
    findings = []
    for rule in catalogue.applicable(evidence.farm.housings):
        if rule.id in ALARM_RULES:
            findings.extend(evaluate_rule(rule, evidence, params)[0])
    # Merged into the last whole score, whose window and due list stay: the page shows the alarm at once.
    last = latest_score(store)
    merged = _replace_rules(last.score.findings if last else stored_findings(store), findings)
    at, since = (last.score.at, last.score.since) if last else (now, since)
    result = score(merged, at=at, since=since, due=last.score.due if last else [])
    return record_score(store, result, now, whole=False)


def _replace_rules(findings: list, new: list) -> list:
    """Return ``findings`` with every finding of the rules in ``new`` replaced by those, in the same place."""
    by_rule: dict[str, list] = {}
    for f in new:
        by_rule.setdefault(f.rule, []).append(f)
    out, placed = [], set()
    for f in findings:
        if f.rule not in by_rule:
            out.append(f)
        elif f.rule not in placed:
            out.extend(by_rule[f.rule])
            placed.add(f.rule)
    return out + [f for rule, fs in by_rule.items() if rule not in placed for f in fs]


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
