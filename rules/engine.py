"""Evaluate every applicable rule: automated evaluators, documents, self-assessment.

One entry point, :func:`evaluate`, serves the scheduler, the CLI and the web
page. For each rule that applies to the farm's housing:

1. an automated evaluator (sensor or logbook) gives findings per location;
2. otherwise a document rule is judged from the recorded documents;
3. where the seed's "niet gecontroleerd" condition is proven (a valid
   stalmeetrapport for the house), the rule is ``nvt`` with ``not_checked``;
4. the farmer's fresh self-assessment answers where the evidence leaves the
   rule ``unknown`` — and may add a deviation the records do not show — but
   never turn a deviation the evidence proves into anything milder;
5. anything still unanswered is ``unknown`` with the reason (and, where the
   agent itself is not set up yet, the step to take). Never ``ok``.

Last, each occurrence takes the repair the farmer recorded for it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Callable

import rules.farm_rules as farm_rules
import rules.logbooks as logbook_rules
from rules.assessment import answer_due, answer_finding, current_answer
from rules.catalogue import Catalogue, Rule
from rules.documents import evaluate_document, valid_document
from rules.evidence import Answer, Evidence
from rules.findings import DEVIATIONS, SEVERITY, Due, Finding
from rules.params import Params
from rules.scoring import Score, score
from rules.sensor import registry as sensor_rules
from rules.setup import with_setup

Evaluator = Callable[[Rule, Evidence, Params], list[Finding]]
DueProvider = Callable[[Evidence, Params], list[Due]]

# Automated evaluators by rule id. Feature modules contribute their own tables
# here, so this module stays the one place that says what is automated.
EVALUATORS: dict[str, Evaluator] = {**logbook_rules.EVALUATORS, **sensor_rules.EVALUATORS, **farm_rules.EVALUATORS}
DUE_PROVIDERS: list[DueProvider] = [*logbook_rules.DUE_PROVIDERS, *sensor_rules.DUE_PROVIDERS]

# The seed's "niet gecontroleerd" conditions and the document rule that proves each (DESIGN §3.5 v2).
NOT_CHECKED_BY: dict[str, str] = {"NG: indien geldig stalmeetrapport": "G1.1"}

NOT_ANSWERED = "Nog niet beoordeeld: beantwoord de zelfbeoordeling."
NOT_AUTOMATED = ("Nog geen automatische beoordeling van deze {kind}; "
                 "beantwoord de zelfbeoordeling of registreer het bewijs.")


def _unanswered_reason(rule: Rule) -> str:
    """Return why a rule without evidence is unknown."""
    if rule.evaluation == "self_assessment":
        return NOT_ANSWERED
    kind = {"sensor": "sensorregel", "logbook": "logboekregel", "document": "documentregel"}[rule.evaluation]
    return NOT_AUTOMATED.format(kind=kind)


def _fresh(evidence: Evidence, rule: Rule, location: str | None, params: Params) -> Answer | None:
    """Return the answer for the location (else the farm-wide one) when it is fresh, else None."""
    answer = (current_answer(evidence.answers, rule.id, location, evidence.at)
              or current_answer(evidence.answers, rule.id, None, evidence.at))
    if answer is None or evidence.at - answer.answered_at > timedelta(days=params.assessment_max_age_days):
        return None
    return answer


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


def _not_checked(rule: Rule, evidence: Evidence) -> dict[str, Finding]:
    """Return, per house, the `nvt` not-checked finding where the seed's NG condition is proven."""
    proof = NOT_CHECKED_BY.get((rule.not_checked or "").rstrip("."))
    if proof is None:
        return {}
    out = {}
    for house in evidence.farm.houses:
        if not rule.applies(house.housing):
            continue
        found = valid_document(evidence, proof, house.id)
        if found is not None:
            doc, end = found
            basis = f"{doc.title or 'document'} ({proof}) van {doc.issued_on.isoformat()}" + (
                f", geldig t/m {end.isoformat()}" if end else "") + " geldig"
            out[house.id] = Finding(rule.id, house.id, "nvt", "document", rule.not_checked, evidence=basis,
                                    not_checked=True)
    return out


def _per_house(rule: Rule, skipped: dict[str, Finding], evidence: Evidence, params: Params) -> list[Finding]:
    """Return one finding per house the rule applies to: not checked where proven, else the answer."""
    out = []
    for house in evidence.farm.houses:
        if not rule.applies(house.housing):
            continue
        if house.id in skipped:
            out.append(skipped[house.id])
            continue
        answer = (current_answer(evidence.answers, rule.id, house.id, evidence.at)
                  or current_answer(evidence.answers, rule.id, None, evidence.at))
        out.append(answer_finding(rule, answer, house.id, evidence, params, NOT_ANSWERED))
    return out


def _with_answers(rule: Rule, findings: list[Finding], evidence: Evidence, params: Params) -> list[Finding]:
    """Combine the evidence's findings with fresh answers: the evidence's deviations always stand.

    An `unknown` takes the answer; an `ok` (or an `nvt` the evidence decided) takes an answer only when
    the farmer reports a deviation the records do not show. A deviation the evidence proves is never
    lowered by an answer, and a proven "niet gecontroleerd" is not checked whatever the answer.
    """
    out = []
    for f in findings:
        answer = None if f.not_checked else _fresh(evidence, rule, f.location, params)
        if answer is not None:
            assessed = answer_finding(rule, answer, f.location, evidence, params, NOT_ANSWERED)
            worse = assessed.status in DEVIATIONS and SEVERITY[assessed.status] > SEVERITY[f.status]
            if f.status == "unknown" or worse:
                f = replace(assessed, evidence=f"{assessed.evidence} (automatisch: {f.summary})")
        out.append(f)
    return out


def _repairs(evidence: Evidence) -> tuple:
    """Return the corrective-action entries the agent loaded (DESIGN §3.3 v2)."""
    repairs = evidence.inputs.get("repairs")
    if repairs is None and evidence.inputs.get("logbooks") is not None:
        repairs = evidence.inputs["logbooks"].of("corrective_actions")
    return tuple(repairs or ())


def evaluate_rule(rule: Rule, evidence: Evidence, params: Params) -> tuple[list[Finding], list[Due]]:
    """Return the findings and dues of one rule."""
    dues: list[Due] = []
    if rule.id in EVALUATORS:
        findings = EVALUATORS[rule.id](rule, evidence, params)
    elif rule.evaluation == "document":
        findings, dues = evaluate_document(rule, evidence, params)
    else:
        findings = []
    skipped = _not_checked(rule, evidence)
    if findings:
        findings = [skipped.get(f.location, f) for f in findings]
        findings = _with_answers(rule, findings, evidence, params)
    elif skipped:
        findings = _per_house(rule, skipped, evidence, params)
    else:
        findings = _self_assessed(rule, evidence, params)
    findings = with_setup(findings, evidence)
    return logbook_rules.attach_repairs(findings, _repairs(evidence), evidence), dues


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
    return score(findings, at=evidence.at, since=evidence.since, due=dues)
