"""The one error model: a refusal carries field, code and parameters; its words are chosen where it is shown."""

from __future__ import annotations

from datetime import date

import pytest

from agent.i18n import translations
from agent.store import UserError
from rules.errors import IkbError
from rules.logbooks import EntryError, validate_entry

VISITOR = {"date": "2026-03-20", "arrival": "09:15", "name": "Piet", "organisation": "Voerbedrijf",
           "poultry_contact_48h": False, "houses": ["1"], "license_plate": "12-ABC-3", "signature": "PJ"}


def test_a_refusal_is_data_rendered_in_the_language_of_whoever_reads_it():
    with pytest.raises(EntryError) as err:
        validate_entry("visitors", {**VISITOR, "houses": ["9"], "date": "2026-04-01"},
                       houses={"1": "barn", "2": "barn"}, today=date(2026, 3, 20))
    exc = err.value
    assert [(p.field, p.code) for p in exc.problems] == [("date", "future"), ("houses", "house")]
    assert exc.problems[1].params == {"value": "9", "options": ["1", "2"]}
    assert str(exc) == exc.line() == ("date: ligt in de toekomst; een logboek legt vast wat gebeurd is; "
                                      "houses: onbekende stal 9; kies uit 1, 2")
    assert exc.by_field(translations("en")) == {
        "date": "lies in the future; a logbook records what happened",
        "houses": "unknown house 9; choose from 1, 2"}


def test_an_option_is_named_with_its_label_in_the_readers_language():
    with pytest.raises(EntryError) as err:
        validate_entry("checks", {"date": "2026-03-01", "item": "fan", "result": "ok", "checked_by": "Jan"})
    assert err.value.by_field()["item"] == (
        "kies uit generator (noodstroomaggregaat), alarm (alarminstallatie), generator_load (noodstroomaggregaat, "
        "jaarlijkse test onder belasting), alarm_dialer (kiezer van de alarminstallatie, doormelding getest)")
    assert err.value.by_field(translations("en"))["item"] == (
        "choose from generator (emergency generator), alarm (alarm system), generator_load (emergency generator, "
        "yearly test under load), alarm_dialer (alarm system's own dialer, alarm forwarding tested)")


@pytest.mark.parametrize("n, dutch, english", [(1, "minstens 1 teken", "at least 1 character"),
                                               (8, "minstens 8 tekens", "at least 8 characters")])
def test_a_counted_message_takes_its_plural_from_the_catalogue(n, dutch, english):
    exc = UserError("password", "password", {"min": n})
    assert exc.line() == f"password: {dutch}" and exc.line(translations("en")) == f"password: {english}"


def test_an_agent_error_passes_a_lower_layers_problems_on_unchanged():
    from agent.logbooks import AssessmentError
    from rules.assessment import AnswerError

    lower = AnswerError("note", "describe")
    passed = AssessmentError.of(lower)
    assert isinstance(passed, IkbError) and passed.problems == lower.problems
    assert passed.line(translations("en")) == "note: describe the deviation"


def test_an_unknown_code_is_a_programming_error_not_a_message():
    with pytest.raises(KeyError):
        UserError("name", "no_such_code")
