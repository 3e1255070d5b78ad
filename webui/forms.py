"""Forms generated from pydantic models: the fields to draw, and the submitted values checked.

One definition of each record (its pydantic model) gives the form, the API body
and the validation; this module turns a model into :class:`FieldSpec` rows that
``templates/_form.html`` draws, and a submitted form back into the model or into
Dutch messages per field. A field's label is its ``title``, its help text its
``description``; ``json_schema_extra={"widget": "textarea"}`` picks a widget.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from webui.i18n import gettext as _


@dataclass
class FieldSpec:
    """One form field as the template draws it."""

    name: str
    label: str
    widget: str  # text | textarea | select | date | time | number | checkbox | list | file | yesno | houses | products
    required: bool
    choices: list[tuple[str, str]] = field(default_factory=list)
    help: str = ""
    value: Any = None
    error: str | None = None
    max_length: int | None = None
    step: str | None = None
    rule: str | None = None  # the IKB Ei rule that demands the field (logbook forms)


def _unwrap_optional(annotation) -> tuple[Any, bool]:
    """Return (inner type, whether None is allowed)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _widget(annotation, extra: dict) -> tuple[str, list[tuple[str, str]]]:
    """Choose the widget (and choices) for a field's type."""
    if extra.get("widget"):
        return extra["widget"], []
    if typing.get_origin(annotation) is Literal:
        return "select", [(str(v), str(v)) for v in typing.get_args(annotation)]
    if annotation is bool:
        return "checkbox", []
    if annotation is date:
        return "date", []
    if annotation is time:
        return "time", []
    if annotation in (int, float):
        return "number", []
    if typing.get_origin(annotation) is list:
        return "list", []
    return "text", []


def fields_for(model: type[BaseModel], *, values: dict | None = None, errors: dict | None = None,
               choices: dict[str, list[tuple[str, str]]] | None = None, exclude: tuple[str, ...] = ()) -> list[FieldSpec]:
    """Return the form fields of a model, with current values, errors and per-form choices."""
    values, errors, choices = values or {}, errors or {}, choices or {}
    out = []
    for name, info in model.model_fields.items():
        if name in exclude:
            continue
        annotation, optional = _unwrap_optional(info.annotation)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        widget, options = _widget(annotation, extra)
        if name in choices:
            widget, options = ("select" if widget != "list" else "multiselect"), choices[name]
        max_length = next((m.max_length for m in info.metadata if getattr(m, "max_length", None)), None)
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        out.append(FieldSpec(
            name=name, label=_(info.title or name), widget=widget,
            required=info.is_required() and not optional and widget != "checkbox",
            choices=options, help=_(info.description) if info.description else "",
            value=values.get(name, default), error=errors.get(name), max_length=max_length,
            step="any" if annotation is float else None,
        ))
    return out


def form_values(model: type[BaseModel], form: MultiDict) -> dict:
    """Return the submitted values as the model expects them (empty fields left out)."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation, _optional = _unwrap_optional(info.annotation)
        if annotation is bool:
            data[name] = form.get(name) in ("on", "true", "1", "ja")
        elif typing.get_origin(annotation) is list:
            items = form.getlist(name)
            if len(items) == 1:
                items = [p.strip() for p in items[0].split(",")]
            data[name] = [i for i in (s.strip() for s in items) if i]
        else:
            value = form.get(name, "")
            if value.strip() != "":
                data[name] = value.strip() if annotation is not str else value
    return data


def parse_form(model: type[BaseModel], form: MultiDict, extra: dict | None = None):
    """Validate a submitted form; return (instance, {}) or (None, {field: Dutch message})."""
    data = form_values(model, form)
    data.update(extra or {})
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        return None, validation_messages(exc)


# pydantic error type → Dutch message (with ctx values filled in).
_PYDANTIC_NL = {
    "missing": "verplicht",
    "literal_error": "kies een van: {expected}",
    "date_parsing": "verwacht een datum (JJJJ-MM-DD)",
    "date_from_datetime_parsing": "verwacht een datum (JJJJ-MM-DD)",
    "date_type": "verwacht een datum (JJJJ-MM-DD)",
    "time_parsing": "verwacht een tijd (UU:MM)",
    "time_type": "verwacht een tijd (UU:MM)",
    "int_parsing": "verwacht een geheel getal",
    "int_type": "verwacht een geheel getal",
    "int_from_float": "verwacht een geheel getal",
    "float_parsing": "verwacht een getal",
    "float_type": "verwacht een getal",
    "finite_number": "verwacht een getal",
    "bool_parsing": "verwacht ja of nee",
    "bool_type": "verwacht ja of nee",
    "string_type": "verwacht tekst",
    "string_too_short": "te kort (minstens {min_length} tekens)",
    "string_too_long": "te lang (hoogstens {max_length} tekens)",
    "string_pattern_mismatch": "ongeldige invoer",
    "greater_than_equal": "minstens {ge}",
    "greater_than": "groter dan {gt}",
    "less_than_equal": "hoogstens {le}",
    "less_than": "kleiner dan {lt}",
    "too_short": "minstens {min_length} nodig",
    "too_long": "hoogstens {max_length}",
    "list_type": "verwacht een lijst",
    "extra_forbidden": "onbekend veld",
    "dict_type": "verwacht een object",
    "model_type": "verwacht een object",
    "json_invalid": "ongeldige JSON",
}


def validation_messages(exc: ValidationError) -> dict[str, str]:
    """Return one Dutch message per field (the first error of each)."""
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        if loc in out:
            continue
        ctx = dict(err.get("ctx") or {})
        if err["type"] == "literal_error":
            ctx["expected"] = ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        if err["type"] in ("value_error", "assertion_error"):
            message = str(ctx.get("error") or err["msg"]).removeprefix("Value error, ")
        else:
            template = _PYDANTIC_NL.get(err["type"])
            try:
                message = _(template, **ctx) if template else err["msg"]
            except (KeyError, IndexError):
                message = _(template) if template else err["msg"]
        out[loc] = message
    return out


# Messages of agent/ validation ("field: message", partly English for the CLI's
# technical users) → Dutch for the page. Unknown messages pass through unchanged.
_AGENT_NL = (
    (re.compile(r"^expected one of (.+)$"), "kies een van: {0}"),
    (re.compile(r"^required \(YYYY-MM-DD\)$"), "verplicht (JJJJ-MM-DD)"),
    (re.compile(r"^required$"), "verplicht"),
    (re.compile(r"^expected a date YYYY-MM-DD, got (.+)$"), "verwacht een datum (JJJJ-MM-DD), niet {0}"),
    (re.compile(r"^lies in the future$"), "ligt in de toekomst"),
    (re.compile(r"^(.+) is per house; give the house id$"), "{0} is per stal: kies de stal"),
    (re.compile(r"^'(.+)' is not an IKB Ei rule.*$"), "{0} is geen IKB Ei-regel"),
)


def split_agent_error(message: str) -> tuple[str, str]:
    """Split an agent validation message into (field, Dutch message)."""
    name, sep, text = message.partition(": ")
    if not sep:
        return "", message
    for pattern, dutch in _AGENT_NL:
        match = pattern.match(text)
        if match:
            return name, _(dutch).format(*match.groups())
    return name, text
