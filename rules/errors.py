"""The one error model: every refusal names a field, a code and parameters; the message is rendered late.

An error travels as data — :class:`Problem` (``loc``, ``code``, a :class:`~rules.texts.Text`) — never as a
sentence to be parsed back. The CLI, the forms and the API render it in their user's language at the
boundary (``exc.line(translations)``, ``exc.by_field(translations)``); ``str(exc)`` is the Dutch source.

Hierarchy::

    IkbError (ValueError)          field, code, params; one or more problems
    ├── rules.logbooks.EntryError  a logbook entry (each pydantic error becomes a problem)
    ├── rules.assessment.AnswerError (agent.logbooks.AssessmentError), rules.documents.DocumentError
    ├── agent: StoreError, LogbookError, HousingOrderError, SignatureError, UserError, FileError, ExportError
    └── webui.api.openapi.ApiError  a request the API refuses beyond its models

A subclass names its codes and their Dutch msgids in ``messages`` (looked up along the class hierarchy, so
the codes here are everyone's). Pure: no catalogue is read here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from rules.texts import N_, SOURCE, Text


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular/plural pair for the catalogues (the count is a parameter of the message)."""
    return singular, plural


# A message is a msgid, or a (singular, plural) pair chosen by the parameter named in PLURAL_BY.
Message = str | tuple[str, str]

MESSAGES: dict[str, Message] = {
    "invalid": N_("ongeldige invoer"),
    "missing": N_("verplicht veld ontbreekt"),
    "unknown_field": N_("onbekend veld (controleer de spelling)"),
    "empty": N_("mag niet leeg zijn"),
    "too_short": N_("vul minstens {min_length} in"),
    "too_long": Nn_("is te lang (hoogstens {max_length} teken)", "is te lang (hoogstens {max_length} tekens)"),
    "too_many": N_("te veel (hoogstens {max_length})"),
    "text": N_("verwacht tekst"),
    "integer": N_("verwacht een heel getal"),
    "number": N_("verwacht een getal"),
    "decimal": N_("verwacht een getal (gebruik een punt: 1.5)"),
    "greater_than": N_("moet groter zijn dan {gt}"),
    "at_least": N_("mag niet kleiner zijn dan {ge}"),
    "less_than": N_("moet kleiner zijn dan {lt}"),
    "at_most": N_("mag niet groter zijn dan {le}"),
    "list": N_("verwacht een lijst"),
    "object": N_("verwacht een object met velden"),
    "json": N_("ongeldige JSON"),
    "choose": N_("kies uit {options}"),
    "date": N_("verwacht een datum JJJJ-MM-DD (bijv. 2026-03-28)"),
    "date_got": N_("verwacht een datum JJJJ-MM-DD (bijv. 2026-03-28), niet '{value}'"),
    "date_missing": N_("verplicht (JJJJ-MM-DD)"),
    "date_value": N_("deze datum bestaat niet"),
    "moment": N_("verwacht een tijdstip ISO 8601 met tijdzone (bijv. 2026-03-28T07:45:00+01:00)"),
    "time": N_("verwacht een tijd UU:MM (24-uurs, bijv. 07:45)"),
    "yes_no": N_("verwacht ja of nee (true/false)"),
    "future": N_("ligt in de toekomst"),
}
PLURAL_BY = {"too_long": "max_length", "password": "min"}

# pydantic's error types → our codes.
PYDANTIC_CODES = {
    "missing": "missing", "extra_forbidden": "unknown_field",
    "string_type": "text", "string_too_short": "too_short", "string_too_long": "too_long", "too_long": "too_many",
    "too_short": "too_short", "string_pattern_mismatch": "invalid",
    "int_type": "integer", "int_parsing": "integer", "int_from_float": "integer",
    "float_type": "number", "float_parsing": "decimal", "finite_number": "number",
    "greater_than": "greater_than", "greater_than_equal": "at_least", "less_than": "less_than",
    "less_than_equal": "at_most",
    "list_type": "list", "dict_type": "object", "model_type": "object", "model_attributes_type": "object",
    "json_invalid": "json", "literal_error": "choose",
    "date_type": "date", "date_parsing": "date", "date_from_datetime_parsing": "date",
    "date_from_datetime_inexact": "date",
    "datetime_type": "moment", "datetime_parsing": "moment", "datetime_from_date_parsing": "moment",
    "timezone_aware": "moment",
    "time_type": "time", "time_parsing": "time",
    "bool_type": "yes_no", "bool_parsing": "yes_no",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (``loc``), what (``code``), and the text that says so."""

    loc: tuple[str | int, ...]  # ("products", 0, "name"); () = the input as a whole
    code: str
    text: Text

    @property
    def field(self) -> str:
        """Return the location as people write it: ``products[0].name`` ("" for the whole input)."""
        out = ""
        for part in self.loc:
            out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
        return out

    @property
    def params(self) -> dict[str, Any]:
        """Return the values of the message."""
        return self.text.params

    def render(self, translations=SOURCE) -> str:
        """Return the message in a language."""
        return self.text.render(translations)


class IkbError(ValueError):
    """Input or state that a user must change: a field, a code and its parameters (one or more problems)."""

    messages: ClassVar[Mapping[str, Message]] = MESSAGES

    def __init__(self, field: str | tuple = "", code: str = "invalid", params: Mapping[str, Any] | None = None, *,
                 problems: Iterable[Problem] | None = None):
        if problems is None:
            loc = field if isinstance(field, tuple) else ((field,) if field else ())
            problems = (Problem(loc, code, self.text(code, params)),)
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self.line())

    @classmethod
    def text(cls, code: str, params: Mapping[str, Any] | None = None) -> Text:
        """Return the text of a code (its msgid from the nearest ``messages``) with its values."""
        for klass in cls.__mro__:
            message = vars(klass).get("messages", {}).get(code)
            if message is not None:
                break
        else:
            raise KeyError(f"{cls.__name__} has no message for code {code!r}")
        params = dict(params or {})
        if isinstance(message, tuple):
            count = PLURAL_BY.get(code, "n")
            return Text(message[0], message[1], params.get(count), params)
        return Text(message, params=params)

    @classmethod
    def of(cls, other: IkbError) -> IkbError:
        """Return this kind of error with another error's problems (a lower layer's refusal, passed up)."""
        return cls(problems=other.problems)

    @property
    def field(self) -> str:
        """Return the field of the first problem."""
        return self.problems[0].field

    @property
    def code(self) -> str:
        """Return the code of the first problem."""
        return self.problems[0].code

    @property
    def params(self) -> dict[str, Any]:
        """Return the values of the first problem's message."""
        return self.problems[0].params

    @property
    def fields(self) -> list[str]:
        """Return the fields with a problem, in order."""
        return [p.field for p in self.problems]

    def line(self, translations=SOURCE) -> str:
        """Return every problem on one line, ``field: message; field: message``, in a language."""
        return "; ".join(f"{p.field}: {p.render(translations)}" if p.field else p.render(translations)
                         for p in self.problems)

    def by_field(self, translations=SOURCE, whole: str = "") -> dict[str, str]:
        """Return the first message of each field (``whole`` names the input as a whole), in a language."""
        out: dict[str, str] = {}
        for p in self.problems:
            out.setdefault(p.field or whole, p.render(translations))
        return out


def invalid(code: str, msgid: str, field: str | None = None, **params: Any) -> PydanticCustomError:
    """Return a pydantic error from a validator whose message is a msgid (``field``: a cross-field check's field)."""
    return PydanticCustomError(code, msgid, {"msgid": msgid, "field": field, **params})


def _literal_options(model, loc: Sequence) -> list[str] | None:
    """Return the allowed values of the Literal field at ``loc`` in a model, if it is one."""
    import typing

    current: Any = model
    annotation = None
    for part in loc:
        fields = getattr(current, "model_fields", None)
        if isinstance(part, int) or fields is None:
            continue
        info = fields.get(part)
        if info is None:
            return None
        annotation = info.annotation
        args = typing.get_args(annotation)
        current = next((a for a in (annotation, *args) if hasattr(a, "model_fields")), None)
    for candidate in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(candidate) is typing.Literal:
            return [str(v) for v in typing.get_args(candidate)]
    return None


def problem_of(err: Mapping[str, Any], model=None) -> Problem:
    """Return the problem of one pydantic error (``model``: the validated model, for a Literal's options)."""
    loc = tuple(err.get("loc") or ())
    ctx = dict(err.get("ctx") or {})
    if "msgid" in ctx:  # our own validators (see invalid())
        msgid, field = ctx.pop("msgid"), ctx.pop("field", None)
        return Problem((field,) if field else loc, err["type"], Text(msgid, params=ctx))
    code = PYDANTIC_CODES.get(err["type"], "invalid")
    if code in ("empty", "too_short") and ctx.get("min_length", 1) == 1:
        code = "empty"
    if code == "choose":
        ctx = {"options": _literal_options(model, loc) or [], **{k: v for k, v in ctx.items() if k != "expected"}}
    return Problem(loc, code, IkbError.text(code, ctx))


def problems_of(exc: ValidationError, model=None) -> list[Problem]:
    """Return one problem per pydantic error, duplicates dropped."""
    return list(dict.fromkeys(problem_of(e, model) for e in exc.errors(include_url=False)))
