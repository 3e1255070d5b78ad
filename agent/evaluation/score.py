"""Gather evidence from the store and run the rules: the score, computed without writing anything.

The same :func:`score_window` serves ``ikb-agent score``, the scheduler's
minute job and the web page, so they can never disagree; ``run`` keeps what it
computes as the score snapshot (``agent.store.record_score``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from agent.config import Settings
from agent.evaluation.logbook_inputs import load_logbook_inputs
from agent.evaluation.sensor_inputs import load_sensor_inputs
from agent.logbooks import load_answers, load_documents
from agent.store import Store
from rules.catalogue import load_catalogue
from rules.engine import evaluate
from rules.evidence import Evidence
from rules.scoring import Score

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
