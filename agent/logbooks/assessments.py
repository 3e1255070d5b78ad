"""Self-assessment answers: recorded append-only, read back for the evaluation."""

from __future__ import annotations

from datetime import datetime

from agent.clock import keep_until, parse_moment
from agent.store import Store, answer_rows, insert_answer
from rules.assessment import AnswerError, check_answer
from rules.catalogue import Catalogue
from rules.evidence import Answer
from rules.texts import N_


class AssessmentError(AnswerError):
    """The answer was not stored; the message names the field."""

    messages = {"rule": N_("{rule} is geen IKB Ei-regel")}


def record_answer(store: Store, catalogue: Catalogue, *, rule_id: str, status: str, note: str,
                  answered_by: str, now: datetime, location: str | None = None,
                  locations: set[str] | None = None, file_id: int | None = None) -> Answer:
    """Validate and durably store one answer; return it as the rules see it."""
    rule = catalogue.get(rule_id)
    if rule is None:
        raise AssessmentError("rule", "rule", {"rule": rule_id})
    if location is not None and locations is not None and location not in locations:
        raise AssessmentError("location", "choose", {"options": sorted(locations)})
    if not answered_by.strip():
        raise AssessmentError("answered_by", "missing")
    try:
        note = check_answer(rule, status, note)
    except AnswerError as exc:
        raise AssessmentError.of(exc) from None
    with store.transaction() as db:
        insert_answer(db, rule=rule.id, location=location, status=status, note=note, answered_by=answered_by.strip(),
                      answered_at=now.isoformat(), file_id=file_id, keep_until=keep_until(now))
    return Answer(rule.id, location, status, note, answered_by.strip(), now)


def load_answers(store: Store, until: datetime | None = None) -> list[Answer]:
    """Return every stored answer (given at or before ``until`` when set), oldest first."""
    rows = answer_rows(store)
    answers = [
        Answer(r["rule"], r["location"], r["status"], r["note"], r["answered_by"], parse_moment(r["answered_at"]))
        for r in rows
    ]
    return [a for a in answers if until is None or a.answered_at <= until]


def answer_history(store: Store, rule_id: str) -> list[dict]:
    """Return every answer to one rule, newest first, for display."""
    return answer_rows(store, rule_id, newest_first=True)
