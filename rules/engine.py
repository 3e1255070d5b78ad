"""Evaluate every applicable rule: automated evaluators, documents, self-assessment.

One entry point, :func:`evaluate`, serves the scheduler, the CLI and the web
page. For each rule that applies to the farm's housing:

1. an automated evaluator (sensor or logbook) gives findings per location;
2. otherwise a document rule is judged from the recorded documents;
3. an ``unknown`` left by 1 or 2 — and every rule nothing automates — is
   answered by the farmer's self-assessment when a fresh answer exists;
4. anything still unanswered is ``unknown`` with the reason. Never ``ok``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Callable

import rules.logbooks as logbook_rules
from rules.assessment import answer_due, answer_finding, current_answer
from rules.catalogue import Catalogue, Rule
from rules.documents import evaluate_document
from rules.evidence import Evidence
from rules.findings import Due, Finding
from rules.params import Params
from rules.scoring import Score, score
from rules.sensor import registry as sensor_rules

Evaluator = Callable[[Rule, Evidence, Params], list[Finding]]
DueProvider = Callable[[Evidence, Params], list[Due]]

# Automated evaluators by rule id. Feature modules contribute their own tables
# here, so this module stays the one place that says what is automated.
EVALUATORS: dict[str, Evaluator] = {**logbook_rules.EVALUATORS, **sensor_rules.EVALUATORS}
DUE_PROVIDERS: list[DueProvider] = [*logbook_rules.DUE_PROVIDERS, *sensor_rules.DUE_PROVIDERS]

NOT_ANSWERED = "Nog niet beoordeeld: beantwoord de zelfbeoordeling."
NOT_AUTOMATED = ("Nog geen automatische beoordeling van deze {kind}; "
                 "beantwoord de zelfbeoordeling of registreer het bewijs.")


def _unanswered_reason(rule: Rule) -> str:
    """Return why a rule without evidence is unknown."""
    if rule.evaluation == "self_assessment":
        return NOT_ANSWERED
    kind = {"sensor": "sensorregel", "logbook": "logboekregel", "document": "documentregel"}[rule.evaluation]
    return NOT_AUTOMATED.format(kind=kind)


def _self_assessed(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """Return one finding per answered location, or one farm-wide `unknown`."""
    locations = sorted({a.location for a in evidence.answers
                        if a.rule == rule.id and a.answered_at <= evidence.at},
                       key=lambda loc: (loc is not None, loc or ""))
    if not locations:
        return [Finding(rule.id, None, "unknown", rule.evaluation, _unanswered_reason(rule))]
    return [
        answer_finding(rule, current_answer(evidence.answers, rule.id, loc, evidence.at), loc,
                       evidence, params, NOT_ANSWERED)
        for loc in locations
    ]


def _fill_unknowns(rule: Rule, findings: list[Finding], evidence: Evidence, params: Params) -> list[Finding]:
    """Replace automated `unknown`s by a fresh self-assessment answer where one exists."""
    out = []
    limit = timedelta(days=params.assessment_max_age_days)
    for f in findings:
        if f.status == "unknown":
            answer = (current_answer(evidence.answers, rule.id, f.location, evidence.at)
                      or current_answer(evidence.answers, rule.id, None, evidence.at))
            if answer is not None and evidence.at - answer.answered_at <= limit:
                assessed = answer_finding(rule, answer, f.location, evidence, params, NOT_ANSWERED)
                f = Finding(rule.id, f.location, assessed.status, "self_assessment", assessed.summary,
                            evidence=f"{assessed.evidence} (automatisch: {f.summary})")
        out.append(f)
    return out


def evaluate_rule(rule: Rule, evidence: Evidence, params: Params) -> tuple[list[Finding], list[Due]]:
    """Return the findings and dues of one rule."""
    dues: list[Due] = []
    if rule.id in EVALUATORS:
        findings = EVALUATORS[rule.id](rule, evidence, params)
    elif rule.evaluation == "document":
        findings, dues = evaluate_document(rule, evidence, params)
    else:
        return _self_assessed(rule, evidence, params), dues
    if not findings:
        return _self_assessed(rule, evidence, params), dues
    return _fill_unknowns(rule, findings, evidence, params), dues


def _answer_dues(rules: list[Rule], evidence: Evidence, params: Params) -> list[Due]:
    """Return the renewal dates of the current self-assessment answers."""
    ids = {r.id: r for r in rules}
    latest = {}
    for a in evidence.answers:
        key = (a.rule, a.location)
        if a.rule in ids and a.answered_at <= evidence.at and (
                key not in latest or a.answered_at >= latest[key].answered_at):
            latest[key] = a
    today = evidence.today
    horizon = today + timedelta(days=params.due_horizon_days)
    dues = [answer_due(ids[a.rule], a, params, today, evidence.farm.tz) for a in latest.values()]
    return [d for d in dues if d.due <= horizon]


def evaluate(catalogue: Catalogue, evidence: Evidence, params: Params | None = None) -> Score:
    """Evaluate every rule that applies to the farm and score the result."""
    params = params or Params()
    rules = catalogue.applicable(evidence.farm.housings)
    findings: list[Finding] = []
    dues: list[Due] = []
    for rule in rules:
        rule_findings, rule_dues = evaluate_rule(rule, evidence, params)
        findings.extend(rule_findings)
        dues.extend(rule_dues)
    dues.extend(_answer_dues(rules, evidence, params))
    for provider in DUE_PROVIDERS:
        dues.extend(provider(evidence, params))
    horizon = evidence.today + timedelta(days=params.due_horizon_days)
    dues = [d for d in dues if d.due <= horizon]
    return score(findings, at=evidence.at, since=evidence.since, weights=params.weights, due=dues)
