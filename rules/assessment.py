"""Self-assessment: the farmer's own answer for rules no sensor or logbook covers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from rules.catalogue import Rule
from rules.errors import IkbError
from rules.evidence import Answer, Evidence
from rules.findings import DEVIATIONS, Due, Finding, Occurrence
from rules.params import Params
from rules.texts import N_, dutch_ngettext, lazy_gettext

ANSWER_STATUSES: tuple[str, ...] = ("ok", "B", "C", "D", "KO", "nvt")


class AnswerError(IkbError):
    """The answer does not fit the rule; the message says what would."""

    messages = {
        "weight": N_("{rule} kent geen weging {status} (mogelijk: {options})"),
        "describe": N_("beschrijf de afwijking"),
        "reason": N_("{rule} heeft geen NVT-tekst in het schema; geef de reden"),
    }


def check_answer(rule: Rule, status: str, note: str) -> str:
    """Validate an answer against the rule and return the note to store.

    A deviation must be a weight the scheme defines for this rule; ``nvt`` takes
    the rule's own NVT text when the farmer gives no reason, and needs a reason
    when the scheme has none.
    """
    if status not in ANSWER_STATUSES:
        raise AnswerError("status", "choose", {"options": ANSWER_STATUSES})
    note = (note or "").strip()
    if status in ("B", "C", "D", "KO") and not rule.deviation_text(status):
        options = list(rule.deviations.weights()) or [lazy_gettext("geen")]
        raise AnswerError("status", "weight", {"rule": rule.id, "status": status, "options": options})
    if status in ("B", "C", "D", "KO") and not note:
        raise AnswerError("note", "describe")
    if status == "nvt" and not note:
        if not rule.nvt:
            raise AnswerError("note", "reason", {"rule": rule.id})
        note = rule.nvt
    return note


def current_answer(answers, rule_id: str, location: str | None, at: datetime) -> Answer | None:
    """Return the latest answer for (rule, location) given at or before ``at``."""
    best = None
    for a in answers:
        if a.rule == rule_id and a.location == location and a.answered_at <= at:
            if best is None or a.answered_at >= best.answered_at:
                best = a
    return best


def answer_is_fresh(answer: Answer, at: datetime, params: Params) -> bool:
    """Return whether an answer still counts at ``at`` (not older than the re-assessment period)."""
    return answer.answered_at <= at and at - answer.answered_at <= timedelta(days=params.assessment_max_age_days)


def answer_finding(rule: Rule, answer: Answer | None, location: str | None,
                   evidence: Evidence, params: Params, reason_if_none: str) -> Finding:
    """Return the finding a self-assessment answer gives, or `unknown` when absent or stale."""
    if answer is None:
        return Finding(rule.id, location, "unknown", "self_assessment", reason_if_none)
    when = evidence.farm.local_date(answer.answered_at).isoformat()
    if not answer_is_fresh(answer, evidence.at, params):
        return Finding(
            rule.id, location, "unknown", "self_assessment",
            dutch_ngettext("Herbeoordeling nodig: zelfbeoordeling van {when} is ouder dan {n} dag.",
                           "Herbeoordeling nodig: zelfbeoordeling van {when} is ouder dan {n} dagen.",
                           params.assessment_max_age_days, when=when),
        )
    basis = f"Zelfbeoordeling {when} door {answer.answered_by}"
    if answer.status == "ok":
        summary = "Voldoet volgens zelfbeoordeling."
    elif answer.status == "nvt":
        summary = answer.note
    else:
        summary = rule.deviation_text(answer.status) or answer.note
    evidence_line = f"{basis}: {answer.note}" if answer.note and answer.note != summary else basis
    # A deviation the farmer reports is one occurrence from his answer on, so its repair can be recorded.
    occurrences = (Occurrence(answer.answered_at, None, f"zelfbeoordeling {when}: {answer.note}"),) \
        if answer.status in DEVIATIONS else ()
    return Finding(rule.id, location, answer.status, "self_assessment", summary, occurrences, evidence_line)


def answer_due(rule: Rule, answer: Answer, params: Params, farm_today: date, tz) -> Due:
    """Return when a self-assessment answer must be renewed."""
    expires = (answer.answered_at + timedelta(days=params.assessment_max_age_days)).astimezone(tz).date()
    return Due(rule.id, answer.location, expires, "Zelfbeoordeling herhalen",
               overdue=expires < farm_today)
