"""Self-assessment answers: recorded append-only, read back for the evaluation."""

from __future__ import annotations

from dataclasses import replace
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
    answer = checked_answer(catalogue, rule_id=rule_id, status=status, note=note, answered_by=answered_by, now=now,
                            location=location, locations=locations)
    _insert(store, [answer], file_id)
    return answer


def record_answers(store: Store, catalogue: Catalogue, answers: dict[str, tuple[str, str]], *, answered_by: str,
                   now: datetime) -> list[Answer]:
    """Validate farm-wide answers to several rules ({rule: (status, note)}) and store all of them, or none.

    Raises AssessmentError whose problems name each refused rule (``loc`` = (rule, field)), so a page
    can show every message at once (the audit exercise, one chapter per page).
    """
    checked, problems = [], []
    for rule_id, (status, note) in answers.items():
        try:
            checked.append(checked_answer(catalogue, rule_id=rule_id, status=status, note=note,
                                          answered_by=answered_by, now=now))
        except AssessmentError as exc:
            problems += [replace(p, loc=(rule_id, *p.loc)) for p in exc.problems]
    if problems:
        raise AssessmentError(problems=problems)
    _insert(store, checked, None)
    return checked


def _insert(store: Store, answers: list[Answer], file_id: int | None) -> None:
    """Store checked answers in one transaction (committed before the caller says "saved")."""
    with store.transaction() as db:
        for a in answers:
            insert_answer(db, rule=a.rule, location=a.location, status=a.status, note=a.note,
                          answered_by=a.answered_by, answered_at=a.answered_at.isoformat(), file_id=file_id,
                          keep_until=keep_until(a.answered_at))


def checked_answer(catalogue: Catalogue, *, rule_id: str, status: str, note: str, answered_by: str, now: datetime,
                   location: str | None = None, locations: set[str] | None = None) -> Answer:
    """Return an answer as it would be stored, or raise AssessmentError naming the field."""
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
