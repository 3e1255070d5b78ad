"""Field types and the base record every logbook model is built from: strict dates and times, ja/nee,
Ctgb numbers, ``field()`` that cites the rule demanding a field, and :func:`describe` that reads it back.

Pure: pydantic and the standard library only; no clock (``today`` comes in the validation context)."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationInfo

from rules.errors import MESSAGES, invalid
from rules.texts import N_

# --------------------------------------------------------------------------- field types

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _strict_date(value: Any) -> Any:
    """Accept a date or a ``YYYY-MM-DD`` string only (no timestamps, no 28-3-2026)."""
    if isinstance(value, datetime):
        raise invalid("date", MESSAGES["date"])
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise invalid("date_value", MESSAGES["date_value"]) from None
    raise invalid("date", MESSAGES["date"])


def _strict_time(value: Any) -> Any:
    """Accept ``HH:MM`` (24-hour clock) only."""
    if isinstance(value, str) and _TIME.match(value.strip()):
        return value.strip()
    raise invalid("time", MESSAGES["time"])


_YES = {"ja", "yes", "true", "1", "j", "y"}


_NO = {"nee", "no", "false", "0", "n"}


def _yes_no(value: Any) -> Any:
    """Accept a boolean, or ja/nee (yes/no) as typed into a form."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _YES | _NO:
        return value.strip().lower() in _YES
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise invalid("yes_no", MESSAGES["yes_no"])


def _as_text(value: Any) -> Any:
    """Accept a number where free text is asked (a volume typed as 50 means "50")."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _admission(value: Any) -> Any:
    """Accept a Ctgb admission number (it has digits: 12345 N, NL-0012345-0000) or n.v.t."""
    value = _as_text(value)
    if not isinstance(value, str):
        raise invalid("admission", N_("verwacht een Ctgb-toelatingsnummer"))
    text = value.strip()
    if text.lower().replace(".", "") == "nvt":
        return "n.v.t."
    if len(re.findall(r"\d", text)) < 3 or len(text) > 40:
        raise invalid("admission", N_("verwacht een Ctgb-toelatingsnummer zoals 12345 N of NL-0012345-0000 "
                                      "(n.v.t. alleen voor een middel zonder toelating, zoals een val)"))
    return text


Day = Annotated[date, BeforeValidator(_strict_date), PlainSerializer(lambda d: d.isoformat(), return_type=str)]


Clock = Annotated[str, BeforeValidator(_strict_time)]


YesNo = Annotated[bool, BeforeValidator(_yes_no)]


Text = Annotated[str, BeforeValidator(_as_text), Field(min_length=1, max_length=500)]


ShortText = Annotated[str, BeforeValidator(_as_text), Field(min_length=1, max_length=64)]


Admission = Annotated[str, BeforeValidator(_admission)]


def field(rule: str, label: str, *, widget: str = "text", demand: str | None = None,
          options: dict[str, str] | None = None, message: str | None = None, **kwargs) -> Any:
    """Return a pydantic Field that cites its rule and carries the form metadata.

    ``label`` is the Dutch msgid (mark it ``N_("…")``: the catalogues translate it where it is shown);
    ``demand`` quotes what the rule asks for (Dutch, from the seed; the field's description);
    ``options`` maps each allowed value to its label msgid; ``message`` is the msgid a farmer reads when
    the value is wrong (instead of the generic one).
    """
    extra: dict[str, Any] = {"rule": rule, "label": label, "widget": widget}
    if options:
        extra["options"] = dict(options)
    if message:
        extra["message"] = message
    return Field(description=f"{rule}: {demand or label}", json_schema_extra=extra, **kwargs)


@dataclass(frozen=True)
class FieldMeta:
    """What a form, the API and the CLI show of a model's field; texts are msgids, translated where shown."""

    name: str
    label: str
    widget: str  # text | textarea | select | date | time | number | checkbox | list | yesno | house | houses | …
    required: bool
    rule: str | None = None  # the IKB Ei rule that demands the field (logbook records)
    help: str = ""
    options: dict[str, str] | None = None  # value → label msgid, in order
    default: Any = None
    message: str | None = None  # the field's own message when its value is wrong
    max_length: int | None = None


def _unwrap_optional(annotation) -> Any:
    """Return the type inside ``X | None``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _widget(annotation) -> str:
    """Choose a widget from a field's type (models without widget hints)."""
    if typing.get_origin(annotation) is Literal:
        return "select"
    if typing.get_origin(annotation) is list:
        return "list"
    return {bool: "checkbox", date: "date", int: "number", float: "number"}.get(annotation, "text")


def describe(model: type[BaseModel]) -> tuple[FieldMeta, ...]:
    """Return the fields of a model in order: from ``field()``'s metadata, else from title, description and type."""
    out = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        annotation = _unwrap_optional(info.annotation)
        widget = extra.get("widget") or _widget(annotation)
        options = extra.get("options")
        if options is None and typing.get_origin(annotation) is Literal:
            options = {str(v): str(v) for v in typing.get_args(annotation)}
        out.append(FieldMeta(
            name=name, label=extra.get("label") or info.title or name, widget=widget,
            required=info.is_required() and widget != "checkbox", rule=extra.get("rule"),
            help=extra.get("rule") or info.description or "", options=options,
            default=None if info.is_required() else info.get_default(call_default_factory=True),
            message=extra.get("message"),
            max_length=next((m.max_length for m in info.metadata if getattr(m, "max_length", None)), None)))
    return tuple(out)


class Record(BaseModel):
    """Base of every logbook record: unknown fields are errors, text is trimmed."""

    # No NaN or infinity in a logbook: neither is a count or an amount, and the chain's JSON cannot hold them.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_default=True, allow_inf_nan=False)


def _context(info: ValidationInfo) -> dict:
    """Return the validation context (houses, today), empty when none was given."""
    return info.context or {}


def _check_house(value: str, info: ValidationInfo, housings: tuple[str, ...] | None = None) -> str:
    """Raise when a house id is not configured (or not of the right housing)."""
    houses = _context(info).get("houses")
    if houses is None:
        return value
    if value not in houses:
        raise invalid("house", N_("onbekende stal {value}; kies uit {options}"), value=value,
                      options=sorted(houses))
    if housings and houses[value] not in housings:
        raise invalid("house_housing", N_("stal {value} heeft geen vrije uitloop"), value=value)
    return value


def compared_to(other: str, refused: Callable[[Any, Any], bool], msgid: str):
    """Return a field check refusing a value that ``refused(value, other field's value)`` (dates in order…).

    A check of the later field, not a model validator: pydantic runs it with every other field's
    check, so its message comes in the same round (a model validator waits until all fields are valid).
    The other field must come earlier in the model; when it is missing or invalid, nothing is compared.
    """
    def check(cls, value, info: ValidationInfo):
        earlier = info.data.get(other)
        if value is not None and earlier is not None and refused(value, earlier):
            raise invalid("order", msgid)
        return value

    return classmethod(check)


def _not_future(value: date | None, info: ValidationInfo) -> date | None:
    """Raise when a date lies after the farm's today (logbooks record what happened)."""
    today = _context(info).get("today")
    if value is not None and today is not None and value > today:
        raise invalid("future", N_("ligt in de toekomst; een logboek legt vast wat gebeurd is"))
    return value
