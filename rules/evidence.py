"""Plain data that evaluators read: the farm, the window, and the evidence.

The agent builds an :class:`Evidence` from its store and configuration; the
evaluators in ``rules/`` only read it. Nothing here does I/O or reads the clock:
``at`` is the moment of evaluation, passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class House:
    """A house (stal) and the facts about it that decide which rules apply."""

    id: str
    housing: str  # barn | free_range | organic | colony
    mechanical_ventilation: bool = True
    name: str | None = None
    max_hens: int | None = None  # G1.2: the stalmeetrapport's maximum
    free_range_ha: float | None = None  # H3.12.1: the house's free-range area
    daylight: bool = False  # light openings: daylight reaches the hens (G3.8.7/G3.8.9 concern artificial light)
    alarm_dialer: bool = False  # the alarm panel calls off the farm itself (A3.4's off-farm route)
    flaps: bool = False  # ventilation flaps open by themselves on power failure (A3.5's alternative)


@dataclass(frozen=True, slots=True)
class EggRoom:
    """An egg room (eierbewaarplaats)."""

    id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Farm:
    """The farm as the rules see it."""

    name: str
    kip_number: str
    latitude: float
    longitude: float
    timezone: str
    houses: tuple[House, ...]
    egg_rooms: tuple[EggRoom, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        """Return the farm's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def housings(self) -> set[str]:
        """Return the set of housing systems on the farm."""
        return {h.housing for h in self.houses}

    def local_date(self, moment: datetime) -> date:
        """Return the farm-local calendar date of an aware moment."""
        return moment.astimezone(self.tz).date()


@dataclass(frozen=True, slots=True)
class Answer:
    """A self-assessment answer: the farmer's own judgement of one rule."""

    rule: str
    location: str | None
    status: str  # ok | B | C | D | KO | nvt
    note: str
    answered_by: str
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class Document:
    """A certificate or report with an issue date and, where it has one, an end date."""

    id: int
    rule: str
    kind: str
    title: str
    issued_on: date
    valid_until: date | None
    location: str | None
    recorded_at: datetime
    note: str = ""


@dataclass(frozen=True)
class Evidence:
    """Everything an evaluation over ``[since, at]`` may look at.

    ``answers`` and ``documents`` hold every record known, including ones made
    after ``at``; evaluators ignore those so that a past window scores the same
    way it did at the time. ``inputs`` carries the evaluator-specific data the
    agent prepared (time series, logbooks, derived intervals), keyed by name.
    """

    farm: Farm
    at: datetime
    since: datetime
    answers: tuple[Answer, ...] = ()
    documents: tuple[Document, ...] = ()
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def today(self) -> date:
        """Return the farm-local date of ``at``."""
        return self.farm.local_date(self.at)
