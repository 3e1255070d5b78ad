"""Gather evidence from the store, run the rules, and keep the score's history.

The same :func:`score_window` serves ``ikb-agent score``, the scheduler's
minute job and the web page, so they can never disagree.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Callable

from agent.clock import parse_moment
from agent.config import Settings
from agent.evaluation.logbook_inputs import load_logbook_inputs
from agent.evaluation.sensor_inputs import load_sensor_inputs
from agent.logbooks import load_answers, load_documents
from agent.store import Store
from rules.catalogue import load_catalogue
from rules.engine import evaluate
from rules.evidence import Evidence
from rules.findings import Finding, Occurrence
from rules.scoring import Score, score

# Feature modules add loaders that put their inputs (series, logbooks, intervals)
# into Evidence.inputs: loader(store, config, since, at) -> {name: value}.
InputLoader = Callable[[Store, Settings, datetime, datetime], dict]
INPUT_LOADERS: list[InputLoader] = [load_logbook_inputs, load_sensor_inputs]


def build_evidence(store: Store, config: Settings, *, at: datetime, since: datetime) -> Evidence:
    """Return everything the rules may look at for the window [since, at]."""
    inputs: dict = {}
    for loader in INPUT_LOADERS:
        inputs.update(loader(store, config, since, at))
    return Evidence(
        farm=config.farm_view(),
        at=at,
        since=since,
        answers=tuple(load_answers(store)),
        documents=tuple(load_documents(store)),
        inputs=inputs,
    )


def score_window(store: Store, config: Settings, *, at: datetime, since: datetime) -> Score:
    """Evaluate every applicable rule over [since, at] from the stored data."""
    evidence = build_evidence(store, config, at=at, since=since)
    return evaluate(load_catalogue(), evidence, config.params())


def record_score(store: Store, result: Score, now: datetime, *, partial: bool = False) -> list[dict]:
    """Store the current findings and every status change; return the changes.

    ``partial``: the result holds only some rules (an on-arrival evaluation); others stay as they are.
    """
    previous = {(r["rule"], r["location"]): r["status"]
                for r in store.query("SELECT rule, location, status FROM findings")}
    changes = []
    with store.transaction() as db:
        for f in result.findings:
            key = (f.rule, f.location or "")
            if previous.get(key) != f.status:
                changes.append({"rule": f.rule, "location": f.location, "from": previous.get(key),
                                "to": f.status, "at": now.isoformat()})
                db.execute("INSERT INTO status_changes(rule, location, from_status, to_status, at)"
                           " VALUES (?, ?, ?, ?, ?)", [f.rule, key[1], previous.get(key), f.status, now.isoformat()])
            db.execute(
                "INSERT INTO findings(rule, location, status, source, summary, occurrences, evaluated_at, evidence)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(rule, location) DO UPDATE SET"
                " status = excluded.status, source = excluded.source, summary = excluded.summary,"
                " occurrences = excluded.occurrences, evaluated_at = excluded.evaluated_at,"
                " evidence = excluded.evidence",
                [f.rule, key[1], f.status, f.source, f.summary,
                 json.dumps([o.to_json() for o in f.occurrences], ensure_ascii=False), now.isoformat(),
                 f.evidence],
            )
        # A rule that no longer applies (the farm's housing changed) leaves the current view.
        current = {(f.rule, f.location or "") for f in result.findings}
        for key in set() if partial else set(previous) - current:
            db.execute("DELETE FROM findings WHERE rule = ? AND location = ?", list(key))
    return changes


def finding_of_row(row: dict) -> Finding:
    """Turn a ``findings`` row (what the run loop recorded) into a Finding."""
    occurrences = tuple(
        Occurrence(parse_moment(o["start"]), parse_moment(o["end"]) if o.get("end") else None, o.get("detail", ""))
        for o in json.loads(row["occurrences"] or "[]"))
    return Finding(row["rule"], row["location"] or None, row["status"], row["source"], row["summary"],
                   occurrences, row.get("evidence"))


def recorded_score(store: Store, config: Settings) -> Score | None:
    """Return the score the run loop recorded last (its findings combined by the scoring rules), or None."""
    rows = store.query("SELECT * FROM findings")
    if not rows:
        return None
    at = max(parse_moment(r["evaluated_at"]) for r in rows)
    return score([finding_of_row(r) for r in rows], at=at, since=at - timedelta(days=config.evaluation.window_days),
                 weights=config.params().weights)
