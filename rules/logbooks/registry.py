"""The logbooks IKB Ei demands: one record model per logbook, validated the same way on every path.

The CLI (`logbook add`), the web form and the JSON API validate with :func:`validate_entry`; the store keeps
what it returns, the exports take their columns from it and forms are drawn from :func:`form_fields`. Field
names and formats of DESIGN §3.3 are a contract: dates ``YYYY-MM-DD``, times ``HH:MM``, both farm-local."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from rules.logbooks.checks import Check
from rules.logbooks.cleaning import Cleaning, Hygienogram
from rules.logbooks.daysheet import Flock, FlockDay
from rules.logbooks.fields import Record
from rules.logbooks.freerange import FreeRangeDay
from rules.logbooks.pest import BaitBox, PestControl
from rules.logbooks.repairs import CorrectiveAction
from rules.logbooks.samples import NO_SALMONELLA_RULES, Sample
from rules.logbooks.visitors import Visitor

# --------------------------------------------------------------------------- the logbooks


@dataclass(frozen=True)
class LogbookSpec:
    """One logbook: its record model, the rules it answers and how it is kept."""

    kind: str
    model: type[Record]
    title_nl: str
    title_en: str
    rules: tuple[str, ...]
    date_field: str  # the entry's own date: periods, exports and sorting use it
    keep_years: int = 2  # A9.1: two years; E9.4: flock records three
    unique: tuple[str, ...] = ()  # at most one current entry per value of these fields

    @property
    def house_field(self) -> str | None:
        """Return the field holding the house id, if the record has one."""
        return "house" if "house" in self.model.model_fields else None

    def columns(self) -> list[str]:
        """Return the record's field names in form order."""
        return list(self.model.model_fields)

    def label(self, name: str, lang: str = "nl") -> str:
        """Return a field's label in Dutch (or English)."""
        extra = self.model.model_fields[name].json_schema_extra or {}
        return extra.get("label", {}).get(lang, name)


LOGBOOKS: dict[str, LogbookSpec] = {
    s.kind: s
    for s in (
        LogbookSpec("visitors", Visitor, "Bezoekersregister", "Visitor register", ("A4.2.2",), "date"),
        LogbookSpec("pest_control", PestControl, "Logboek plaagdierbeheersing", "Pest control log",
                    ("A4.5.1",), "date", unique=("bait_box", "date")),
        LogbookSpec("bait_boxes", BaitBox, "Lokdozenregister", "Bait-box register", ("A4.5.2", "A4.5.3"),
                    "placed_on", unique=("number",)),
        LogbookSpec("cleaning", Cleaning, "Logboek reiniging en ontsmetting", "Cleaning and disinfection log",
                    ("A4.4.5",), "cleaned_on"),
        LogbookSpec("hygienogram", Hygienogram, "Hygiënogrammen", "Hygienograms", ("E4.4.1", "E4.4.2"),
                    "sampled_on"),
        LogbookSpec("checks", Check, "Controles noodstroom en alarm", "Generator and alarm checks", ("A3.6",),
                    "date"),
        LogbookSpec("flocks", Flock, "Koppels (opzet)", "Flocks (placements)",
                    ("E9.4", "A4.4.5", "E2.1.1", "G3.1.2", "I1.3", "G1.2", "H3.12.1"),
                    "placed_on", keep_years=3, unique=("house", "placed_on")),
        LogbookSpec("flock_day", FlockDay, "Koppelkaart", "Flock day sheet",
                    ("E5.3", "E4.4.4", "E9.4", "A6.2.1", "A6.2.2", "A6.2.3"), "date", keep_years=3,
                    unique=("house", "date")),
        LogbookSpec("free_range", FreeRangeDay, "Uitloopjournaal", "Free-range journal", ("H3.12.10",), "date",
                    unique=("house", "date")),
        LogbookSpec("samples", Sample, "Laboratoriumonderzoek per koppel", "Lab samples per flock",
                    ("E2.1.1", "H2.4", "E2.1.3", "E2.1.4", "E2.3.2", *NO_SALMONELLA_RULES), "sampled_on", keep_years=3),
        # DESIGN §3.3 v2: the repair of an occurrence of any rule's deviation ("herstel voor afgifte certificaat").
        LogbookSpec("corrective_actions", CorrectiveAction, "Herstelmaatregelen", "Corrective actions", (),
                    "date"),
    )
}


class EntryError(ValueError):
    """The entry was not stored; each problem names its field (``products[0].name: …``).

    ``problems`` holds (field, Dutch message, English message) triples; the
    exception's text is the Dutch one, ``english()`` gives the other.
    """

    def __init__(self, problems: list[tuple[str, str, str]]):
        self.problems = [p if len(p) == 3 else (p[0], p[1], p[1]) for p in problems]
        super().__init__(self.text("nl"))

    def text(self, lang: str = "nl") -> str:
        """Return every problem on one line, in Dutch or English."""
        i = 1 if lang == "nl" else 2
        return "; ".join(f"{p[0]}: {p[i]}" if p[0] else p[i] for p in self.problems)

    @property
    def fields(self) -> list[str]:
        """Return the names of the fields with a problem."""
        return [p[0] for p in self.problems]


def spec_for(kind: str) -> LogbookSpec:
    """Return the logbook of a kind, or raise EntryError listing the kinds."""
    try:
        return LOGBOOKS[kind]
    except KeyError:
        raise EntryError([("kind", f"onbekend logboek {kind!r}; kies uit {', '.join(LOGBOOKS)}",
                           f"unknown logbook {kind!r}; choose from {', '.join(LOGBOOKS)}")]) from None


def _path(loc: tuple) -> str:
    """Render a pydantic location as ``products[0].name``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _field_meta(model: type[BaseModel], loc: tuple) -> dict:
    """Return the json_schema_extra of the field at a location (nested models followed)."""
    current: Any = model
    extra: dict = {}
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        info = current.model_fields.get(part)
        if info is None:
            return {}
        extra = info.json_schema_extra or {}
        annotation = info.annotation
        args = getattr(annotation, "__args__", ())
        current = next((a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return extra if isinstance(extra, dict) else {}


_GENERIC: dict[str, tuple[str, str]] = {
    "missing": ("verplicht veld ontbreekt", "required field is missing"),
    "extra_forbidden": ("onbekend veld (controleer de spelling)", "unknown field (check the spelling)"),
    "int_type": ("verwacht een heel getal", "expected a whole number"),
    "int_parsing": ("verwacht een heel getal", "expected a whole number"),
    "int_from_float": ("verwacht een heel getal", "expected a whole number"),
    "float_type": ("verwacht een getal", "expected a number"),
    "float_parsing": ("verwacht een getal (gebruik een punt: 1.5)", "expected a number (use a point: 1.5)"),
    "greater_than": ("moet groter zijn dan {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("mag niet kleiner zijn dan {ge}", "must not be less than {ge}"),
    "less_than_equal": ("mag niet groter zijn dan {le}", "must not be greater than {le}"),
    "string_too_short": ("mag niet leeg zijn", "must not be empty"),
    "string_too_long": ("is te lang (maximaal {max_length} tekens)", "is too long (at most {max_length} characters)"),
    "string_type": ("verwacht tekst", "expected text"),
    "too_short": ("vul minstens {min_length} in", "give at least {min_length}"),
    "list_type": ("verwacht een lijst", "expected a list"),
    "model_type": ("verwacht een object met velden", "expected an object with fields"),
    "model_attributes_type": ("verwacht een object met velden", "expected an object with fields"),
}


# English for the messages our own validators raise in Dutch.
_CUSTOM_EN: dict[str, str] = {
    "date_format": "expected a date YYYY-MM-DD (e.g. 2026-03-28)",
    "date_value": "this date does not exist",
    "time_format": "expected a time HH:MM (24-hour, e.g. 07:45)",
    "bool_format": "expected yes or no (true/false)",
    "admission": "expected a Ctgb admission number such as 12345 N or NL-0012345-0000 (n.v.t. only without one)",
    "house": "unknown house {value}; choose from {options}",
    "house_housing": "house {value} has no free range",
    "future": "lies in the future; a logbook records what happened",
    "order": "dates are in the wrong order",
    "who": "fill in who inspected the flock",
    "rule": "{value} is not an IKB Ei rule",
    "moment_format": "expected the start of the deviation as a date and time with its offset, "
                     "e.g. 2026-03-28T03:10:00+01:00",
    "attachment": "expected a stored file (file:<id>;sha256:<hex>)",
}


def _message(err: dict, model: type[BaseModel]) -> tuple[str, str, str]:
    """Return (field path, Dutch message, English message) for one pydantic error."""
    loc = tuple(err["loc"])
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in ("order", "who"):  # cross-field checks name their own field
        path, _, text = err["msg"].partition(": ")
        return path, text, _CUSTOM_EN[kind]
    meta = _field_meta(model, loc)
    custom = meta.get("message") or {}
    if kind == "literal_error":
        options = meta.get("options") or {}
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        nl = "kies uit " + ", ".join(f"{o} ({options[o]['nl']})" if o in options else o for o in allowed)
        en = "choose from " + ", ".join(allowed)
    elif kind in _GENERIC:
        if kind == "too_short" and ctx.get("min_length") == 1 and "options" not in meta:
            kind = "string_too_short"
        nl, en = (t.format(**ctx) for t in _GENERIC[kind])
        if custom and kind == "missing":
            nl, en = f"{nl}: {custom['nl']}", f"{en}: {custom['en']}"
        elif custom:
            nl, en = custom["nl"], custom["en"]
    else:
        nl = err["msg"]
        en = _CUSTOM_EN.get(kind, nl).format(**ctx)
    return _path(loc), nl, en


def validate_entry(kind: str, data: Any, *, houses: dict[str, str] | None = None,
                   today: date | None = None) -> Record:
    """Validate one entry for a logbook and return the record, or raise EntryError.

    ``houses`` maps each configured house id to its housing (checks house
    fields); ``today`` is the farm-local date (refuses future dates). Without
    them only the record's own shape is checked, as when reading stored entries.
    """
    spec = spec_for(kind)
    if not isinstance(data, dict):
        raise EntryError([("", "verwacht een JSON-object met de velden van het logboek",
                           "expected a JSON object with the logbook's fields")])
    try:
        return spec.model.model_validate(data, context={"houses": houses, "today": today})
    except ValidationError as exc:
        problems = [_message(e, spec.model) for e in exc.errors(include_url=False)]
        raise EntryError(list(dict.fromkeys(problems))) from None


def to_json(record: Record) -> dict:
    """Return a record as the JSON object that is stored and exported (dates as strings)."""
    return record.model_dump(mode="json")


def form_fields(kind: str, lang: str = "nl") -> list[dict]:
    """Return the form description of a logbook: one dict per field, in order.

    Each has ``name``, ``label``, ``widget``, ``required``, ``rule``,
    ``description``, ``options`` ({value: label}), ``default`` and ``message``.
    """
    spec = spec_for(kind)
    out = []
    for name, info in spec.model.model_fields.items():
        extra = info.json_schema_extra or {}
        options = {k: v[lang] for k, v in (extra.get("options") or {}).items()}
        out.append({
            "name": name,
            "label": extra.get("label", {}).get(lang, name),
            "widget": extra.get("widget", "text"),
            "required": info.is_required(),
            "rule": extra.get("rule"),
            "description": info.description,
            "options": options or None,
            "default": None if info.is_required() else info.default,
            "message": (extra.get("message") or {}).get(lang),
        })
    return out


