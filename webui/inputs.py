"""The inputs the page and the API accept, as pydantic models (one definition for form, API and OpenAPI)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rules.assessment import ANSWER_STATUSES

AnswerStatus = Literal[ANSWER_STATUSES]  # type: ignore[valid-type]


class AssessmentInput(BaseModel):
    """A self-assessment answer as the rule page's form sends it."""

    model_config = ConfigDict(extra="forbid")
    status: AnswerStatus = Field(title="Oordeel",
                                 description="ok, nvt (niet van toepassing) of de weging van de afwijking")
    note: str = Field("", max_length=2000, title="Toelichting",
                      description="Wat u zag; verplicht bij een afwijking, bij nvt de reden.",
                      json_schema_extra={"widget": "textarea"})
    location: str | None = Field(None, max_length=32, title="Plaats",
                                 description="Stal of eierlokaal; leeg is het hele bedrijf.")


class AssessmentBody(AssessmentInput):
    """A self-assessment answer sent to the API."""

    rule: str = Field(min_length=1, max_length=16, title="Regel", description="Regel-id, bijvoorbeeld A4.1.6")


class DocumentInput(BaseModel):
    """A document record as the rule page's form sends it."""

    model_config = ConfigDict(extra="forbid")
    issued_on: date = Field(title="Datum van uitgifte of keuring")
    valid_until: date | None = Field(None, title="Geldig tot",
                                     description="De einddatum op het document, als die erop staat.")
    location: str | None = Field(None, max_length=32, title="Stal", description="Alleen voor documenten per stal.")
    title: str | None = Field(None, max_length=200, title="Titel", description="Leeg: de naam van het document.")
    note: str = Field("", max_length=2000, title="Opmerking", json_schema_extra={"widget": "textarea"})


class DocumentBody(DocumentInput):
    """A document record sent to the API."""

    kind: str = Field(min_length=1, max_length=40, title="Soort",
                      description="Documentsoort (zie `ikb-agent document kinds`) of de regel, bv. A6.3.1")
