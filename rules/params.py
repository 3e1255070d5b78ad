"""Evaluation parameters: every threshold the evaluators use, with documented defaults.

The agent's configuration embeds these models, so a value set in
``ikb-agent.toml`` reaches the evaluators unchanged and the defaults are
written down once, here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from rules.logbooks.records import LogbookParams
from rules.scoring import Weights
from rules.sensor.params import SensorRules


class Params(BaseModel):
    """Parameters of one evaluation."""

    model_config = ConfigDict(extra="forbid")
    weights: Weights = Field(default_factory=Weights)
    # Self-assessment answers older than this turn `unknown` ("re-check").
    assessment_max_age_days: int = Field(90, ge=1, le=3650)
    # How far ahead the "falls due" list looks.
    due_horizon_days: int = Field(60, ge=1, le=730)
    # Logbook rules (A3.6, A4.x, A6.2.x, E2.1.1, E4.4.x, E5.3, E9.4, H2.4, H3.12.10).
    logbooks: LogbookParams = Field(default_factory=LogbookParams)
    # Thresholds of the sensor rules (light, ventilation, generator, climate, egg room, free range).
    sensor_rules: SensorRules = Field(default_factory=SensorRules)
