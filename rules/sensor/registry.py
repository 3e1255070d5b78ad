"""The sensor rules' evaluators and due providers, as the engine registers them.

Definitions: DESIGN §4 and ``docs/SENSOR_RULES.md``; thresholds:
:mod:`rules.sensor_params`.
"""

from __future__ import annotations

from rules.sensor.climate import evaluate_a3_3
from rules.sensor.eggroom import evaluate_e3_3
from rules.sensor.freerange import evaluate_h3_12_8, evaluate_h3_12_11, housing_order_dues
from rules.sensor.generator import evaluate_a3_5, generator_dues
from rules.sensor.light import LIGHT_RULES, evaluate_light, spring_forward_dues
from rules.sensor.ventilation import alarm_dues, evaluate_a3_4

EVALUATORS = {
    **{rule_id: evaluate_light for rule_id in LIGHT_RULES},  # G3.8.7–G3.8.11
    "A3.3": evaluate_a3_3,
    "A3.4": evaluate_a3_4,
    "A3.5": evaluate_a3_5,
    "E3.3": evaluate_e3_3,
    "H3.12.8": evaluate_h3_12_8,
    "H3.12.11": evaluate_h3_12_11,
}

DUE_PROVIDERS = [spring_forward_dues, alarm_dues, generator_dues, housing_order_dues]
