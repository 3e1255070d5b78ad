"""The audit exercise (audit-oefening): every self-assessed rule, one chapter of the scheme per page.

Answering the self-assessed rules one rule page at a time took some 200 round trips. Here a
chapter (A4 Hygiëne, G3 Inrichting/dierenwelzijn…) is one page: per rule the scheme's text and a
row of buttons — later, ok, NVT, or a deviation of a weight the rule knows — with a note (required
for a deviation). Saving stores every answer of the page at once, or none with every message at
its rule (``agent.logbooks.record_answers``), and goes on to the next chapter with open questions.
Progress counts the rules with a fresh answer ("142 van 204"); an answer older than the
re-assessment period (``rules.assessment.answer_is_fresh``) is open again. The print page lists
every answer for the farmer's file. Auditors read the pages without the form.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from agent.logbooks import AssessmentError, load_answers, record_answers
from rules.assessment import answer_is_fresh
from rules.catalogue import Rule, load_catalogue
from rules.evidence import Answer
from webui.access import can_write
from webui.forms import NON_FIELD
from webui.i18n import current_translations, ngettext
from webui.i18n import gettext as _
from webui.state import get_config, get_store, get_writer, now, scores

bp = Blueprint("exercise", __name__, url_prefix="/exercise")

LATER = ""  # the default button of every rule: not answered on this visit


@dataclass(frozen=True)
class Question:
    """A self-assessed rule with its latest answer (any location) and whether that answer still counts."""

    rule: Rule
    answer: Answer | None
    fresh: bool

    @property
    def open(self) -> bool:
        """Return whether the rule still needs an answer."""
        return not self.fresh


@dataclass(frozen=True)
class Chapter:
    """One chapter of the scheme (a section: A4, G3…) with its self-assessed rules that apply to the farm."""

    section: str
    title: str
    questions: tuple[Question, ...]

    @property
    def answered(self) -> int:
        """Return how many of its rules have a fresh answer."""
        return sum(1 for q in self.questions if q.fresh)

    @property
    def total(self) -> int:
        """Return how many self-assessed rules it holds."""
        return len(self.questions)

    @property
    def first_open(self) -> Question | None:
        """Return the first rule still to answer."""
        return next((q for q in self.questions if q.open), None)


def chapter_title(rule: Rule) -> str:
    """Return a chapter's name as a sentence word: 'HYGIËNE' → 'Hygiëne' (the seed writes capitals)."""
    text = rule.section_title or rule.section
    return text[:1] + text[1:].lower()


def chapters() -> list[Chapter]:
    """Return the chapters with self-assessed rules for this farm's housings, in the scheme's order."""
    config, at = get_config(), now()
    housings = {h.housing for h in config.houses}
    params = config.params()
    latest: dict[str, Answer] = {}
    for answer in load_answers(get_store(), until=at):  # oldest first: the last one wins
        latest[answer.rule] = answer
    grouped: dict[str, list[Question]] = {}
    titles: dict[str, str] = {}
    for rule in load_catalogue():
        if rule.evaluation != "self_assessment" or not housings.intersection(rule.applies_to):
            continue
        answer = latest.get(rule.id)
        grouped.setdefault(rule.section, []).append(
            Question(rule, answer, answer is not None and answer_is_fresh(answer, at, params)))
        titles.setdefault(rule.section, chapter_title(rule))
    return [Chapter(section, titles[section], tuple(qs)) for section, qs in grouped.items()]


def _progress(found: list[Chapter]) -> tuple[int, int]:
    """Return (answered, total) over every chapter."""
    return sum(c.answered for c in found), sum(c.total for c in found)


def next_open(found: list[Chapter], after: str | None = None) -> Chapter | None:
    """Return the next chapter after ``after`` (wrapping round) that still has open questions."""
    sections = [c.section for c in found]
    start = sections.index(after) + 1 if after in sections else 0
    for chapter in found[start:] + found[:start]:
        if chapter.first_open is not None and chapter.section != after:
            return chapter
    return None


def _chapter_or_404(found: list[Chapter], section: str) -> Chapter:
    """Return a chapter or answer 404 naming it."""
    chapter = next((c for c in found if c.section == section), None)
    if chapter is None:
        abort(404, _("Hoofdstuk {section} heeft geen zelfbeoordeling voor dit bedrijf.", section=section))
    return chapter


@bp.get("/")
def index():
    """Show the progress per chapter, the way to the next open question, and the print page."""
    found = chapters()
    answered, total = _progress(found)
    return render_template("exercise/index.html", chapters=found, answered=answered, total=total,
                           next_chapter=next_open(found))


def options(rule: Rule) -> list[tuple[str, str]]:
    """Return the buttons of a rule: later, ok, NVT, and each deviation weight the scheme gives it."""
    out = [(LATER, _("later")), ("ok", _("ok")), ("nvt", _("NVT"))]
    return out + [(w, _("afwijking {weight}", weight=w)) for w in rule.deviations.weights()]


def _render(chapter: Chapter, found: list[Chapter], *, values: dict | None = None, errors: dict | None = None,
            status: int = 200):
    """Render a chapter page (the form for farmers)."""
    answered, total = _progress(found)
    return render_template("exercise/chapter.html", chapter=chapter, answered=answered, total=total,
                           values=values or {}, errors=errors or {}, options=options, writer=can_write(),
                           next_chapter=next_open(found, chapter.section)), status


@bp.get("/<section>")
def chapter(section: str):
    """Show one chapter's self-assessed rules with their answers, and the form for farmers."""
    found = chapters()
    return _render(_chapter_or_404(found, section), found)


@bp.post("/<section>")
def save(section: str):
    """Store the chapter's chosen answers all at once, or none with every message at its rule."""
    found = chapters()
    current = _chapter_or_404(found, section)
    answers, values = {}, {}
    for q in current.questions:
        status = request.form.get(f"status-{q.rule.id}", LATER)
        note = request.form.get(f"note-{q.rule.id}", "").strip()
        values[q.rule.id] = (status, note)
        if status != LATER:
            answers[q.rule.id] = (status, note)
    if not answers:
        flash(_("Niets opgeslagen: kies bij een regel ok, NVT of een afwijking."), "error")
        return redirect(url_for("exercise.chapter", section=section))
    try:
        saved = record_answers(get_writer(), load_catalogue(), answers, answered_by=g.user["name"], now=now())
    except AssessmentError as exc:
        errors: dict[str, str] = {}
        translations = current_translations()
        for p in exc.problems:
            errors.setdefault(str(p.loc[0]) if p.loc else NON_FIELD, p.render(translations))
        return _render(current, found, values=values, errors=errors, status=422)
    scores().invalidate(now())
    name = current.section + " " + current.title
    flash(ngettext("Opgeslagen: {n} antwoord in {chapter}.", "Opgeslagen: {n} antwoorden in {chapter}.", len(saved),
                   chapter=name), "ok")
    following = next_open(chapters(), section)
    if following is None:
        return redirect(url_for("exercise.index"))
    return redirect(url_for("exercise.chapter", section=following.section) + f"#q-{following.first_open.rule.id}")


@bp.get("/print")
def printed():
    """Show every self-assessed rule with its answer, note, date and who, for print (the farmer's file)."""
    found = chapters()
    answered, total = _progress(found)
    return render_template("exercise/print.html", chapters=found, answered=answered, total=total,
                           farm=get_config().farm, at=now())
