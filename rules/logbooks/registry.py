"""The logbooks IKB Ei demands: one record model per logbook, validated the same way on every path.

The CLI (`logbook add`), the web form and the JSON API validate with :func:`validate_entry`; the store keeps
what it returns, the exports take their columns from it and forms are drawn from :func:`form_fields`. Field
names and formats of DESIGN §3.3 are a contract: dates ``YYYY-MM-DD``, times ``HH:MM``, both farm-local."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from rules.errors import MESSAGES, PYDANTIC_CODES, IkbError, Problem, problem_of
from rules.logbooks.checks import Check
from rules.logbooks.cleaning import Cleaning, Hygienogram
from rules.logbooks.daysheet import Flock, FlockDay
from rules.logbooks.fields import FieldMeta, Record, describe
from rules.logbooks.freerange import FreeRangeDay
from rules.logbooks.pest import BaitBox, PestControl
from rules.logbooks.repairs import CorrectiveAction
from rules.logbooks.samples import NO_SALMONELLA_RULES, Sample
from rules.logbooks.visitors import Visitor
from rules.texts import N_, lazy_gettext

# --------------------------------------------------------------------------- the logbooks


@dataclass(frozen=True)
class LogbookSpec:
    """One logbook: its record model, its title (a Dutch msgid), the rules it answers and how it is kept."""

    kind: str
    model: type[Record]
    title: str
    _: KW_ONLY
    rules: tuple[str, ...]
    date_field: str  # the entry's own date: periods, exports and sorting use it
    keep_years: int = 2  # A9.1: two years; E9.4: flock records three
    unique: tuple[str, ...] = ()  # at most one current entry per value of these fields

    def columns(self) -> list[str]:
        """Return the record's field names in form order."""
        return list(self.model.model_fields)

    def label(self, name: str) -> str:
        """Return a field's label (a Dutch msgid)."""
        extra = self.model.model_fields[name].json_schema_extra or {}
        return extra.get("label", name)


LOGBOOKS: dict[str, LogbookSpec] = {
    s.kind: s
    for s in (
        LogbookSpec("visitors", Visitor, N_("Bezoekersregister"), rules=("A4.2.2",), date_field="date"),
        LogbookSpec("pest_control", PestControl, N_("Logboek plaagdierbeheersing"), rules=("A4.5.1",),
                    date_field="date", unique=("bait_box", "date")),
        LogbookSpec("bait_boxes", BaitBox, N_("Lokdozenregister"), rules=("A4.5.2", "A4.5.3"),
                    date_field="placed_on", unique=("number",)),
        LogbookSpec("cleaning", Cleaning, N_("Logboek reiniging en ontsmetting"), rules=("A4.4.5",),
                    date_field="cleaned_on"),
        LogbookSpec("hygienogram", Hygienogram, N_("Hygiënogrammen"), rules=("E4.4.1", "E4.4.2"),
                    date_field="sampled_on"),
        LogbookSpec("checks", Check, N_("Controles noodstroom en alarm"), rules=("A3.6",), date_field="date"),
        LogbookSpec("flocks", Flock, N_("Koppels (opzet)"),
                    rules=("E9.4", "A4.4.5", "E2.1.1", "G3.1.2", "I1.3", "G1.2", "H3.12.1"),
                    date_field="placed_on", keep_years=3, unique=("house", "placed_on")),
        LogbookSpec("flock_day", FlockDay, N_("Koppelkaart"),
                    rules=("E5.3", "E4.4.4", "E9.4", "A6.2.1", "A6.2.2", "A6.2.3"),
                    date_field="date", keep_years=3, unique=("house", "date")),
        LogbookSpec("free_range", FreeRangeDay, N_("Uitloopjournaal"), rules=("H3.12.10",), date_field="date",
                    unique=("house", "date")),
        LogbookSpec("samples", Sample, N_("Laboratoriumonderzoek per koppel"),
                    rules=("E2.1.1", "H2.4", "E2.1.3", "E2.1.4", "E2.3.2", *NO_SALMONELLA_RULES),
                    date_field="sampled_on", keep_years=3),
        # DESIGN §3.3 v2: the repair of an occurrence of any rule's deviation ("herstel voor afgifte certificaat").
        LogbookSpec("corrective_actions", CorrectiveAction, N_("Herstelmaatregelen"), rules=(), date_field="date"),
    )
}


class EntryError(IkbError):
    """The entry was not stored; each problem names its field (``products[0].name``) and says why."""

    messages = {
        "kind": N_("onbekend logboek {kind}; kies uit {options}"),
        "not_an_object": N_("verwacht een JSON-object met de velden van het logboek"),
        "who": N_("vul in wie dit registreert"),
        "duplicate": N_("er is al een registratie met {values} (#{id}); corrigeer die in plaats van een tweede "
                        "toe te voegen"),
        "reason": N_("geef de reden van de correctie"),
        "changes": N_("geef de velden die veranderen als JSON-object"),
        "unchanged": N_("er is niets veranderd"),
    }


def spec_for(kind: str) -> LogbookSpec:
    """Return the logbook of a kind, or raise EntryError listing the kinds."""
    try:
        return LOGBOOKS[kind]
    except KeyError:
        raise EntryError("kind", "kind", {"kind": kind, "options": list(LOGBOOKS)}) from None


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


def _problem(err: dict, model: type[BaseModel]) -> Problem:
    """Return the problem of one pydantic error: the field's own message and option labels where it has them."""
    problem = problem_of(err, model)
    meta = _field_meta(model, problem.loc)
    options, custom = meta.get("options") or {}, meta.get("message")
    if problem.code == "choose":
        choices = [lazy_gettext("{value} ({label})", value=o, label=lazy_gettext(options[o])) if o in options
                   else o for o in problem.params["options"]]
        return Problem(problem.loc, "choose", lazy_gettext(MESSAGES["choose"], options=choices))
    if custom and err["type"] == "missing":
        return Problem(problem.loc, "missing", lazy_gettext("verplicht veld ontbreekt: {hint}",
                                                            hint=lazy_gettext(custom)))
    if custom and err["type"] in PYDANTIC_CODES:  # pydantic's own checks; our validators say it better
        return Problem(problem.loc, problem.code, lazy_gettext(custom))
    return problem


def validate_entry(kind: str, data: Any, *, houses: dict[str, str] | None = None,
                   today: date | None = None) -> Record:
    """Validate one entry for a logbook and return the record, or raise EntryError.

    ``houses`` maps each configured house id to its housing (checks house
    fields); ``today`` is the farm-local date (refuses future dates). Without
    them only the record's own shape is checked, as when reading stored entries.
    """
    spec = spec_for(kind)
    if not isinstance(data, dict):
        raise EntryError("", "not_an_object")
    try:
        return spec.model.model_validate(data, context={"houses": houses, "today": today})
    except ValidationError as exc:
        problems = [_problem(e, spec.model) for e in exc.errors(include_url=False)]
        raise EntryError(problems=list(dict.fromkeys(problems))) from None


def to_json(record: Record) -> dict:
    """Return a record as the JSON object that is stored and exported (dates as strings)."""
    return record.model_dump(mode="json")


def form_fields(kind: str) -> tuple[FieldMeta, ...]:
    """Return the fields of a logbook's record in order (labels, options and messages as msgids)."""
    return describe(spec_for(kind).model)
