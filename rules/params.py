"""Evaluation parameters: every threshold the evaluators use, with documented defaults.

The agent's configuration embeds these models, so a value set in
``ikb-agent.toml`` reaches the evaluators unchanged and the defaults are
written down once, here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from rules.sensor_params import SensorRules


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


class Params(BaseModel):
    """Parameters of one evaluation."""

    model_config = ConfigDict(extra="forbid")
    # Self-assessment answers older than this turn `unknown` ("re-check").
    assessment_max_age_days: int = Field(90, ge=1, le=3650)
    # How far ahead the "falls due" list looks.
    due_horizon_days: int = Field(60, ge=1, le=730)
    # Logbook rules (A3.6, A4.x, A6.2.x, E2.1.1, E4.4.x, E5.3, E9.4, H2.4, H3.12.10).
    logbooks: LogbookParams = Field(default_factory=LogbookParams)
    # Thresholds of the sensor rules (light, ventilation, generator, climate, egg room, free range).
    sensor_rules: SensorRules = Field(default_factory=SensorRules)
