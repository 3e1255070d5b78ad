"""The logbooks IKB Ei demands: one record model per logbook, each field citing its rule.

One definition serves every path: the CLI (`logbook add`), the web form and the
JSON API validate with :func:`validate_entry`, the store keeps what it returns,
the exports take their columns from it and the web engineer builds forms from
:func:`form_fields`. Field names and formats of DESIGN §3.3 are a contract:
dates ``YYYY-MM-DD``, times ``HH:MM``, both farm-local.

Each field carries, in ``json_schema_extra``: the rule that demands it, a Dutch
and an English label, a widget hint for forms, option labels for choices and,
where the generic wording would not help a farmer, its own error message.

Pure: pydantic and the standard library only; no clock (``today`` is passed in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError,
                      ValidationInfo, field_validator, model_validator)
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

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_default=True)


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


# --------------------------------------------------------------------------- the records

UPTAKE = {"none": ("geen", "none"), "little": ("weinig", "little"),
          "unreachable": ("onbereikbaar", "unreachable"), "missing": ("vermissing", "missing")}
CHECKED_BY = {"self": ("pluimveehouder zelf", "the farmer"),
              "company": ("plaagdierbeheersbedrijf", "pest control company")}


class Visitor(Record):
    """Bezoekersregister: one visitor to the clean part of the farm (A4.2.2)."""

    date: Day = field("A4.2.2", "Datum bezoek", "Date of visit", widget="date", demand="datum bezoek")
    arrival: Clock = field("A4.2.2", "Tijdstip van aankomst", "Arrival time", widget="time",
                           demand="tijdstip van aankomst")
    name: Text = field("A4.2.2", "Naam", "Name", demand="naam")
    organisation: Text = field("A4.2.2", "Organisatie", "Organisation", demand="organisatie",
                               message=("vul de organisatie in (of 'particulier')",
                                        "fill in the organisation (or 'private')"))
    poultry_contact_48h: YesNo = field(
        "A4.2.2", "Bent u in de afgelopen 48 uur op een ander pluimveebedrijf geweest waar een besmettelijke "
                  "ziekte heerst?", "In the last 48 hours, were you on another poultry farm with a contagious "
                                    "disease?", widget="yesno",
        demand="de vraag 'Bent u in de afgelopen 48 uur op een ander pluimveebedrijf geweest waar een "
               "besmettelijke ziekte heerst ?'",
        message=("beantwoord de 48-uursvraag met ja of nee", "answer the 48-hour question with yes or no"))
    houses: list[ShortText] = field("A4.2.2", "Bezochte stallen", "Houses visited", widget="houses",
                                    demand="bezochte stallen", min_length=1,
                                    message=("kies minstens één bezochte stal", "choose at least one house"))
    license_plate: ShortText = field("A4.2.2", "Kenteken", "Licence plate", demand="kenteken",
                                     message=("vul het kenteken in (of 'geen' als de bezoeker zonder auto kwam)",
                                              "fill in the licence plate (or 'none')"))
    signature: str = field("A4.2.2", "Paraaf / handtekening", "Initials / signature", widget="signature",
                           demand="paraaf / handtekening", min_length=1, max_length=200_000)
    departure: Clock | None = field("A4.2.2", "Tijdstip van vertrek", "Departure time", widget="time",
                                    default=None)
    purpose: str | None = field("A4.2.2", "Doel van het bezoek", "Purpose of the visit", default=None,
                                max_length=500)

    _date = field_validator("date")(_not_future)

    @field_validator("houses")
    @classmethod
    def _known_houses(cls, value: list[str], info: ValidationInfo) -> list[str]:
        for house in value:
            _check_house(house, info)
        return list(dict.fromkeys(value))


class PestControl(Record):
    """Logboek plaagdierbeheersing: one check of one bait box, trap or box (A4.5.1)."""

    date: Day = field("A4.5.1", "Datum controle", "Date of check", widget="date", demand="datum controle")
    bait_box: ShortText = field("A4.5.1", "Nummer lokdoos / val / kist", "Bait box / trap number",
                                demand="per lokdoosje/val/kist")
    measures: Text = field("A4.5.1", "Genomen maatregelen en motivering", "Measures taken and why",
                           widget="textarea", demand="genomen maatregelen en motivering hiervan")
    product: Text = field("A4.5.1", "Naam beheersingsmiddel", "Product name",
                          demand="naam en toelatingsnummer beheersingsmiddel")
    admission_number: Admission = field("A4.5.1", "Toelatingsnummer (Ctgb)", "Admission number (Ctgb)",
                                        demand="naam en toelatingsnummer beheersingsmiddel")
    label_location: Text = field("A4.5.1", "Locatie productetiket", "Where the product label is kept",
                                 demand="locatie van product etiket")
    sds_location: Text = field("A4.5.1", "Locatie veiligheidsinformatieblad", "Where the safety data sheet is kept",
                               demand="locatie veiligheidsinformatieblad van beheersmiddel")
    volume: Text = field("A4.5.1", "Volume ingezet middel", "Amount of product used",
                         demand="volume ingezet beheersmiddel",
                         message=("vul de hoeveelheid in, bijv. '50 g' of '2 blokjes'",
                                  "fill in the amount, e.g. '50 g'"))
    uptake: Literal["none", "little", "unreachable", "missing"] = field(
        "A4.5.1", "Opname middel", "Bait uptake", widget="select", options=UPTAKE,
        demand="opname middel (geen, weinig, onbereikbaar, vermissing)")
    effect: Text = field("A4.5.1", "Effect van genomen maatregelen", "Effect of the measures",
                         widget="textarea", demand="effect van genomen maatregelen")
    checked_by: Literal["self", "company"] = field(
        "A4.5.1", "Controle door", "Checked by", widget="select", options=CHECKED_BY,
        demand="controle door pluimveehouder zelf of door plaagdierenbeheersbedrijf")
    inspector: str | None = field("A4.5.1", "Naam controleur", "Inspector's name", default=None, max_length=200)

    _date = field_validator("date")(_not_future)


PESTS = {"rats": ("ratten", "rats"), "mice": ("muizen", "mice"), "rodents": ("ratten en muizen", "rodents"),
         "beetles": ("piepschuimkevers", "darkling beetles"), "flies": ("vliegen", "flies"),
         "red_mites": ("rode vogelmijt", "red mites"), "other": ("overig", "other")}
DEVICES = {"bait_box": ("lokdoos", "bait box"), "trap": ("val", "trap"), "box": ("kist", "box")}


class BaitBox(Record):
    """Lokdozenregister: one numbered, fixed bait box, trap or box of the plan (A4.5.2, A4.5.3)."""

    number: ShortText = field("A4.5.3", "Nummer", "Number", demand="lokdozen die zijn genummerd")
    location: Text = field("A4.5.2", "Locatie (volgens plattegrond)", "Location (as on the map)",
                           demand="plattegrond met locatie vastgezette, genummerde lokdozen")
    target_pest: Literal["rats", "mice", "rodents", "beetles", "flies", "red_mites", "other"] = field(
        "A4.5.2", "Te bestrijden plaagdier", "Target pest", widget="select", options=PESTS,
        demand="vermeld bij de plaats ook het middel en het te bestrijden plaagdier")
    product: Text = field("A4.5.2", "Middel", "Product", demand="vermeld bij de plaats ook het middel")
    admission_number: Admission | None = field("A4.5.2", "Toelatingsnummer (Ctgb)", "Admission number (Ctgb)",
                                               default=None)
    device: Literal["bait_box", "trap", "box"] = field("A4.5.2", "Soort", "Kind", widget="select",
                                                       options=DEVICES, default="bait_box")
    fixed: YesNo = field("A4.5.3", "Vastgezet, pluimvee kan niet bij het middel",
                         "Fixed, poultry cannot reach the product", widget="yesno",
                         demand="vastgezet op zo'n manier dat het pluimvee niet bij het beheersingsmiddel kan")
    placed_on: Day = field("A4.5.2", "Geplaatst op", "Placed on", widget="date")
    removed_on: Day | None = field("A4.5.2", "Verwijderd op", "Removed on", widget="date", default=None)

    _dates = field_validator("placed_on", "removed_on")(_not_future)

    @model_validator(mode="after")
    def _order(self) -> "BaitBox":
        if self.removed_on is not None and self.removed_on < self.placed_on:
            raise PydanticCustomError("order", "removed_on: ligt vóór de plaatsingsdatum")
        return self


class Product(Record):
    """A cleaning or disinfecting product and its Ctgb admission number (A4.4.5)."""

    name: Text = field("A4.4.5", "Middel", "Product", demand="wettelijk toegestane gebruikte middelen")
    admission_number: Admission = field("A4.4.5", "Toelatingsnummer (Ctgb)", "Admission number (Ctgb)",
                                        demand="toegestane ontsmettingsmiddelen (databank van het CTGB)")


class Cleaning(Record):
    """R&O-logboek: cleaning and disinfection of one house before a new flock (A4.4.5)."""

    house: ShortText = field("A4.4.5", "Stal", "House", widget="house")
    cleaned_on: Day = field("A4.4.5", "Gereinigd op", "Cleaned on", widget="date", demand="datums van reiniging")
    disinfected_on: Day = field("A4.4.5", "Ontsmet op", "Disinfected on", widget="date",
                                demand="datums van ... ontsmetting")
    products: list[Product] = field("A4.4.5", "Gebruikte middelen", "Products used", widget="products",
                                    demand="incl. wettelijk toegestane gebruikte middelen", min_length=1,
                                    message=("vul minstens één middel met toelatingsnummer in",
                                             "list at least one product with its admission number"))
    performed_by: Text = field("A4.4.5", "Uitgevoerd door", "Performed by",
                               demand="indien gebruik gemaakt wordt van IKB PSB bedrijf dan dit bedrijf het "
                                      "logboek in laten vullen")
    notes: str | None = field("A4.4.5", "Opmerkingen", "Notes", widget="textarea", default=None, max_length=2000)

    _dates = field_validator("cleaned_on", "disinfected_on")(_not_future)
    _house = field_validator("house")(lambda v, info: _check_house(v, info))

    @model_validator(mode="after")
    def _order(self) -> "Cleaning":
        if self.disinfected_on < self.cleaned_on:
            raise PydanticCustomError("order", "disinfected_on: ontsmetten komt na reinigen; ligt vóór de "
                                               "reinigingsdatum")
        return self


class Hygienogram(Record):
    """Hygiënogram after cleaning and disinfection, before a new flock (E4.4.1, E4.4.2)."""

    house: ShortText = field("E4.4.1", "Stal", "House", widget="house")
    sampled_on: Day = field("E4.4.1", "Bemonsterd op", "Sampled on", widget="date")
    score: float = field("E4.4.2", "Uitslag (score)", "Result (score)", widget="number", ge=0, le=5,
                         demand="uitslag van het hygiënogram (> 1,5 opnieuw R&O; ≥ 2,5 ook nieuw hygiënogram)",
                         message=("vul de uitslag in als getal tussen 0 en 5, bijv. 1.2",
                                  "fill in the score as a number from 0 to 5"))
    sampled_by: Text = field("E4.4.1", "Uitgevoerd door", "Performed by",
                             demand="erkende HOSOWO instantie of GPD dierenarts")
    accredited: YesNo = field("E4.4.1", "Erkende HOSOWO-instantie of GPD-dierenarts",
                              "Accredited HOSOWO body or GPD vet", widget="yesno")
    report: str | None = field("E4.4.1", "Rapportnummer", "Report number", default=None, max_length=200)

    _date = field_validator("sampled_on")(_not_future)
    _house = field_validator("house")(lambda v, info: _check_house(v, info))


ITEMS = {"generator": ("noodstroomaggregaat", "emergency generator"), "alarm": ("alarminstallatie", "alarm system")}
RESULTS = {"ok": ("in orde", "ok"), "fault": ("storing", "fault")}


class Check(Record):
    """Controle noodstroomaggregaat / alarminstallatie (A3.6)."""

    date: Day = field("A3.6", "Datum controle", "Date of check", widget="date",
                      demand="De uitgevoerde controles ... worden geregistreerd")
    item: Literal["generator", "alarm"] = field("A3.6", "Onderdeel", "Item", widget="select", options=ITEMS)
    result: Literal["ok", "fault"] = field("A3.6", "Resultaat", "Result", widget="select", options=RESULTS)
    checked_by: Text = field("A3.6", "Gecontroleerd door", "Checked by")
    notes: str = field("A3.6", "Opmerkingen", "Notes", widget="textarea", default="", max_length=2000)
    time: Clock | None = field("A3.6", "Tijdstip", "Time", widget="time", default=None)
    house: str | None = field("A3.6", "Stal (leeg: alle stallen)", "House (empty: all houses)", widget="house",
                              default=None)
    source: Literal["manual", "detected"] = field(
        "A3.6", "Bron", "Source", widget="hidden", default="manual",
        options={"manual": ("handmatig", "manual"), "detected": ("gedetecteerd door sensor", "sensor-detected")})
    event_id: int | None = field("A3.6", "Sensorgebeurtenis", "Sensor event", widget="hidden", default=None)

    _date = field_validator("date")(_not_future)

    @field_validator("house")
    @classmethod
    def _known_house(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value in (None, "") else _check_house(value, info)


class Flock(Record):
    """Koppel: a flock placed in a house (E9.4; its age drives E2.1.1 and H2.4)."""

    house: ShortText = field("E9.4", "Stal", "House", widget="house", demand="per koppel")
    placed_on: Day = field("E9.4", "Opzetdatum", "Placement date", widget="date")
    hatched_on: Day = field("E2.1.1", "Uitkomstdatum", "Hatch date", widget="date",
                            demand="leeftijd van het koppel")
    number_placed: int = field("A6.2.2", "Aantal opgezette hennen", "Number of hens placed", widget="number",
                               gt=0, le=1_000_000, demand="sterfte op koppelniveau",
                               message=("vul het aantal opgezette hennen in (een heel getal groter dan 0)",
                                        "fill in the number of hens placed (a whole number above 0)"))
    origin: Text = field("E9.4", "Herkomst (opfokbedrijf)", "Origin (rearing farm)")
    breed: str | None = field("E9.4", "Ras", "Breed", default=None, max_length=200)
    depopulated_on: Day | None = field("A4.4.5", "Afgevoerd op (laatste dag in de stal)",
                                       "Depopulated on (last day in the house)", widget="date", default=None)

    _dates = field_validator("placed_on", "hatched_on", "depopulated_on")(_not_future)
    _house = field_validator("house")(lambda v, info: _check_house(v, info))

    @model_validator(mode="after")
    def _order(self) -> "Flock":
        if self.hatched_on >= self.placed_on:
            raise PydanticCustomError("order", "hatched_on: de uitkomstdatum ligt vóór de opzetdatum")
        if self.depopulated_on is not None and self.depopulated_on < self.placed_on:
            raise PydanticCustomError("order", "depopulated_on: ligt vóór de opzetdatum")
        return self


class FlockDay(Record):
    """Koppelkaart: one house on one day (E5.3, E4.4.4, E9.4; feeds A6.2.1 and A6.2.2)."""

    date: Day = field("E5.3", "Datum", "Date", widget="date", demand="notities die dagelijks op de koppelkaart")
    house: ShortText = field("E5.3", "Stal", "House", widget="house")
    inspected: YesNo = field("E5.3", "Koppel gecontroleerd", "Flock inspected", widget="yesno",
                             demand="Het bedrijf inspecteert het pluimvee ten minste eenmaal per dag")
    inspected_by: str | None = field("E5.3", "Gecontroleerd door", "Inspected by", default=None, max_length=200)
    mortality: int = field("E9.4", "Uitval (dood)", "Deaths", widget="number", ge=0, le=1_000_000,
                           demand="uitval per dag",
                           message=("vul het aantal dode hennen in (0 of meer)", "fill in the number of dead hens"))
    culls: int = field("A6.2.2", "Uitgeselecteerd", "Culled", widget="number", ge=0, le=1_000_000, default=0,
                       demand="Sterfte is inclusief uitgeselecteerde dieren")
    eggs: int | None = field("E9.4", "Geproduceerde eieren", "Eggs produced", widget="number", ge=0,
                             le=10_000_000, default=None, demand="dagelijks aantal geproduceerde eieren")
    water_l: float | None = field("A6.2.1", "Wateropname (liter)", "Water intake (litres)", widget="number",
                                  ge=0, default=None, demand="reductie van ... drinkwateropname")
    feed_kg: float | None = field("A6.2.1", "Voeropname (kg)", "Feed intake (kg)", widget="number", ge=0,
                                  default=None, demand="reductie van voer... opname")
    dead_removed: YesNo = field("E4.4.4", "Dode hennen verwijderd", "Dead hens removed", widget="yesno",
                                default=True, demand="Dode leghennen worden dagelijks verwijderd")
    vet_consulted: YesNo = field("A6.2.1", "Dierenarts geraadpleegd", "Vet consulted", widget="yesno",
                                 default=False)
    nvwa_reported: YesNo = field("A6.2.2", "Gemeld bij NVWA (045-5463188)", "Reported to NVWA", widget="yesno",
                                 default=False)
    notes: str | None = field("E5.3", "Notities", "Notes", widget="textarea", default=None, max_length=2000)

    _date = field_validator("date")(_not_future)
    _house = field_validator("house")(lambda v, info: _check_house(v, info))

    @model_validator(mode="after")
    def _who(self) -> "FlockDay":
        if self.inspected and not (self.inspected_by or "").strip():
            raise PydanticCustomError("who", "inspected_by: vul in wie het koppel heeft gecontroleerd")
        return self


class FreeRangeDay(Record):
    """Uitloopjournaal: hours the range was available to one house on one day (H3.12.10)."""

    date: Day = field("H3.12.10", "Datum", "Date", widget="date")
    house: ShortText = field("H3.12.10", "Stal", "House", widget="house")
    hours: float = field("H3.12.10", "Uren uitloop beschikbaar", "Hours the range was open", widget="number",
                         ge=0, le=24, demand="het aantal uren dat de uitloop beschikbaar was",
                         message=("vul het aantal uren in (0 tot 24)", "fill in the hours (0 to 24)"))
    opened: Clock | None = field("H3.12.8", "Luiken open om", "Pop-holes opened at", widget="time", default=None)
    closed: Clock | None = field("H3.12.8", "Luiken dicht om", "Pop-holes closed at", widget="time", default=None)
    reason: str | None = field("H3.12.11", "Reden beperking (bijv. ophokplicht)", "Reason for restriction",
                               default=None, max_length=500)

    _date = field_validator("date")(_not_future)
    _house = field_validator("house")(lambda v, info: _check_house(v, info, ("free_range", "organic")))


SAMPLE_KINDS = {"salmonella": ("Salmonella (S.E./S.T.)", "Salmonella"),
                "dioxin": ("dioxine en PCB's in eieren", "dioxins and PCBs in eggs")}
METHODS = {"manure": ("mestonderzoek", "manure"), "boot_swabs": ("overschoentjes", "boot swabs"),
           "eggs": ("eieren", "eggs"), "other": ("anders", "other")}
SAMPLE_RESULTS = {"pending": ("uitslag volgt", "pending"), "negative": ("negatief", "negative"),
                  "positive": ("positief", "positive"), "compliant": ("voldoet", "compliant"),
                  "non_compliant": ("voldoet niet", "non-compliant")}


class Sample(Record):
    """Laboratoriumonderzoek per koppel: Salmonella (E2.1.1) or dioxin (H2.4)."""

    house: ShortText = field("E2.1.1", "Stal", "House", widget="house", demand="per koppel en in elke stal")
    sampled_on: Day = field("E2.1.1", "Monster genomen op", "Sampled on", widget="date",
                            demand="elke 15 weken (of 105 dagen) vanaf 22-26 weken leeftijd")
    kind: Literal["salmonella", "dioxin"] = field("E2.1.1", "Onderzoek", "Test", widget="select",
                                                  options=SAMPLE_KINDS)
    method: Literal["manure", "boot_swabs", "eggs", "other"] = field(
        "E2.1.1", "Methode", "Method", widget="select", options=METHODS,
        demand="mestonderzoek of overschoentjes")
    lab: Text = field("H2.4", "Laboratorium", "Laboratory", demand="erkend lab")
    accredited: YesNo = field("H2.4", "Erkend laboratorium / volgens protocol", "Accredited lab / per protocol",
                              widget="yesno", default=True)
    result: Literal["pending", "negative", "positive", "compliant", "non_compliant"] = field(
        "E2.1.1", "Uitslag", "Result", widget="select", options=SAMPLE_RESULTS, default="pending")
    taken_by: str | None = field("E2.1.1", "Genomen door", "Taken by", default=None, max_length=200)

    _date = field_validator("sampled_on")(_not_future)
    _house = field_validator("house")(lambda v, info: _check_house(v, info))


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
        LogbookSpec("flocks", Flock, "Koppels (opzet)", "Flocks (placements)", ("E9.4", "A4.4.5", "E2.1.1"),
                    "placed_on", keep_years=3, unique=("house", "placed_on")),
        LogbookSpec("flock_day", FlockDay, "Koppelkaart", "Flock day sheet",
                    ("E5.3", "E4.4.4", "E9.4", "A6.2.1", "A6.2.2"), "date", keep_years=3, unique=("house", "date")),
        LogbookSpec("free_range", FreeRangeDay, "Uitloopjournaal", "Free-range journal", ("H3.12.10",), "date",
                    unique=("house", "date")),
        LogbookSpec("samples", Sample, "Laboratoriumonderzoek per koppel", "Lab samples per flock",
                    ("E2.1.1", "H2.4"), "sampled_on", keep_years=3),
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


# --------------------------------------------------------------------------- what evaluators read


class LogbookParams(BaseModel):
    """Judgement thresholds of the logbook rules (the scheme's own numbers are constants).

    Embedded in :class:`rules.params.Params` and in the ``[logbooks]`` section of
    the configuration; docs/LOGBOOKS.md explains each.
    """

    model_config = ConfigDict(extra="forbid")
    # A6.2.1 / A6.2.2: the vet is consulted / NVWA is told on the day the trigger is
    # known or within this many days after it ("tijdig").
    report_grace_days: int = Field(1, ge=0, le=7)
    # H3.12.10: up to this many days without a journal in the window are "a few
    # omissions" (C); more are "larger omissions" (D).
    free_range_minor_gap_days: int = Field(3, ge=0, le=31)
    # A4.4.5 / E4.4.1: when no earlier flock is recorded for the house, an R&O or
    # hygienogram this many days before the placement still counts for it.
    cleaning_lookback_days: int = Field(90, ge=7, le=365)
    # E2.1.1, E4.4.1/2, H2.4, A3.6: how far back an audit looks (one audit year).
    audit_lookback_days: int = Field(365, ge=30, le=1100)
    # E2.1.1 interpretation: "Tolerantie van maximaal 1 week ... (dan sanctie B)".
    salmonella_tolerance_days: int = Field(7, ge=0, le=14)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One stored logbook entry as the rules see it: the validated record and who made it when."""

    id: int
    kind: str
    record: Any  # the logbook's Record model instance
    recorded_at: datetime
    recorded_by: str
    state: str = "confirmed"  # confirmed | draft


@dataclass(frozen=True, slots=True)
class DetectedTest:
    """A generator test run the sensors detected (mains present, generator running)."""

    id: int
    location: str | None
    start: datetime
    end: datetime | None


@dataclass(frozen=True)
class LogbookView:
    """The current view of every logbook at the evaluation moment.

    ``entries`` holds the confirmed entries nobody superseded, per kind;
    ``drafts`` the entries waiting for the farmer's confirmation; ``invalid``
    the (entry id, kind, problem, date) of stored entries that no longer pass
    their model (incomplete records are a deviation of their own).
    """

    entries: dict[str, tuple[LogEntry, ...]]
    drafts: tuple[LogEntry, ...] = ()
    invalid: tuple[tuple[int, str, str, date | None], ...] = ()
    dismissed_events: frozenset[int] = frozenset()  # detected tests whose draft was withdrawn with a reason

    def of(self, kind: str) -> tuple[LogEntry, ...]:
        """Return the confirmed current entries of one logbook."""
        return self.entries.get(kind, ())

    def records(self, kind: str) -> list[Any]:
        """Return the records of one logbook."""
        return [e.record for e in self.of(kind)]


@dataclass(frozen=True, slots=True)
class Flag:
    """Something the farmer must see at once after a write (A6.2.2 "meld bij NVWA", a 48-hour visitor…).

    ``level`` is ``alert`` (act now) or ``warning``. Listeners (alerts) get
    these too, so an alert can leave the farm.
    """

    code: str
    rule: str
    level: str
    message: str
    location: str | None = None

    def to_json(self) -> dict:
        """Return the flag as a JSON object."""
        return {"code": self.code, "rule": self.rule, "level": self.level, "message": self.message,
                "location": self.location}
