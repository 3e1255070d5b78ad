"""The inputs the page and the API accept, as pydantic models (one definition for form, API and OpenAPI)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rules.assessment import ANSWER_STATUSES
from rules.texts import N_

AnswerStatus = Literal[ANSWER_STATUSES]  # type: ignore[valid-type]


class AssessmentInput(BaseModel):
    """A self-assessment answer as the rule page's form sends it."""

    model_config = ConfigDict(extra="forbid")
    status: AnswerStatus = Field(title=N_("Oordeel"),
                                 description=N_("ok, nvt (niet van toepassing) of de weging van de afwijking"))
    note: str = Field("", max_length=2000, title=N_("Toelichting"),
                      description=N_("Wat u zag; verplicht bij een afwijking, bij nvt de reden."),
                      json_schema_extra={"widget": "textarea"})
    location: str | None = Field(None, max_length=32, title=N_("Plaats"),
                                 description=N_("Stal of eierlokaal; leeg is het hele bedrijf."))


class AssessmentBody(AssessmentInput):
    """A self-assessment answer sent to the API."""

    rule: str = Field(min_length=1, max_length=16, title=N_("Regel"), description=N_("Regel-id, bijvoorbeeld A4.1.6"))


class DocumentInput(BaseModel):
    """A document record as the rule page's form sends it."""

    model_config = ConfigDict(extra="forbid")
    issued_on: date = Field(title=N_("Datum van uitgifte of keuring"))
    valid_until: date | None = Field(None, title=N_("Geldig tot"),
                                     description=N_("De einddatum op het document, als die erop staat."))
    location: str | None = Field(None, max_length=32, title=N_("Stal"), description=N_("Alleen voor documenten per stal."))
    title: str | None = Field(None, max_length=200, title=N_("Titel"), description=N_("Leeg: de naam van het document."))
    note: str = Field("", max_length=2000, title=N_("Opmerking"), json_schema_extra={"widget": "textarea"})


class DocumentBody(DocumentInput):
    """A document record sent to the API."""

    kind: str = Field(min_length=1, max_length=40, title=N_("Soort"),
                      description=N_("Documentsoort (zie `ikb-agent document kinds`) of de regel, bv. A6.3.1"))
