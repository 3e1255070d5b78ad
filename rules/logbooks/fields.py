"""Field types and the base record every logbook model is built from: strict dates and times, ja/nee,
Ctgb numbers, and ``field()`` that cites the rule demanding a field.

Pure: pydantic and the standard library only; no clock (``today`` comes in the validation context)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationInfo
from pydantic_core import PydanticCustomError

# --------------------------------------------------------------------------- field types

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _strict_date(value: Any) -> Any:
    """Accept a date or a ``YYYY-MM-DD`` string only (no timestamps, no 28-3-2026)."""
    if isinstance(value, datetime):
        raise PydanticCustomError("date_format", "verwacht een datum JJJJ-MM-DD (bijv. 2026-03-28)")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise PydanticCustomError("date_value", "deze datum bestaat niet") from None
    raise PydanticCustomError("date_format", "verwacht een datum JJJJ-MM-DD (bijv. 2026-03-28)")


def _strict_time(value: Any) -> Any:
    """Accept ``HH:MM`` (24-hour clock) only."""
    if isinstance(value, str) and _TIME.match(value.strip()):
        return value.strip()
    raise PydanticCustomError("time_format", "verwacht een tijd UU:MM (24-uurs, bijv. 07:45)")


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
    raise PydanticCustomError("bool_format", "verwacht ja of nee (true/false)")


def _as_text(value: Any) -> Any:
    """Accept a number where free text is asked (a volume typed as 50 means "50")."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _admission(value: Any) -> Any:
    """Accept a Ctgb admission number (it has digits: 12345 N, NL-0012345-0000) or n.v.t."""
    value = _as_text(value)
    if not isinstance(value, str):
        raise PydanticCustomError("admission", "verwacht een Ctgb-toelatingsnummer")
    text = value.strip()
    if text.lower().replace(".", "") == "nvt":
        return "n.v.t."
    if len(re.findall(r"\d", text)) < 3 or len(text) > 40:
        raise PydanticCustomError(
            "admission", "verwacht een Ctgb-toelatingsnummer zoals 12345 N of NL-0012345-0000 "
                         "(n.v.t. alleen voor een middel zonder toelating, zoals een val)")
    return text


Day = Annotated[date, BeforeValidator(_strict_date), PlainSerializer(lambda d: d.isoformat(), return_type=str)]


Clock = Annotated[str, BeforeValidator(_strict_time)]


YesNo = Annotated[bool, BeforeValidator(_yes_no)]


Text = Annotated[str, BeforeValidator(_as_text), Field(min_length=1, max_length=500)]


ShortText = Annotated[str, BeforeValidator(_as_text), Field(min_length=1, max_length=64)]


Admission = Annotated[str, BeforeValidator(_admission)]


def field(rule: str, nl: str, en: str, *, widget: str = "text", demand: str | None = None,
          options: dict[str, tuple[str, str]] | None = None, message: tuple[str, str] | None = None,
          **kwargs) -> Any:
    """Return a pydantic Field that cites its rule and carries the form metadata.

    ``demand`` quotes what the rule asks for (Dutch, from the seed); ``options``
    maps each allowed value to its (Dutch, English) label; ``message`` is the
    (Dutch, English) error a farmer sees when the value is wrong.
    """
    description = f"{rule}: {demand or nl} ({en})"
    extra: dict[str, Any] = {"rule": rule, "label": {"nl": nl, "en": en}, "widget": widget}
    if options:
        extra["options"] = {k: {"nl": v[0], "en": v[1]} for k, v in options.items()}
    if message:
        extra["message"] = {"nl": message[0], "en": message[1]}
    return Field(description=description, json_schema_extra=extra, **kwargs)


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
        raise PydanticCustomError("house", "onbekende stal {value}; kies uit {options}",
                                  {"value": value, "options": ", ".join(sorted(houses))})
    if housings and houses[value] not in housings:
        raise PydanticCustomError("house_housing", "stal {value} heeft geen vrije uitloop", {"value": value})
    return value


def _not_future(value: date | None, info: ValidationInfo) -> date | None:
    """Raise when a date lies after the farm's today (logbooks record what happened)."""
    today = _context(info).get("today")
    if value is not None and today is not None and value > today:
        raise PydanticCustomError("future", "ligt in de toekomst; een logboek legt vast wat gebeurd is")
    return value
