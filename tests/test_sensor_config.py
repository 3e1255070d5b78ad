"""Sensor-rule thresholds in the configuration: farm-wide, per house, per egg room, with clear errors."""

from __future__ import annotations

import pytest

from agent.config import ConfigError, config_from_dict, load_config
from tests.conftest import REPO

BASE = {
    "farm": {"name": "x", "kip_number": "1234", "latitude": 52.1, "longitude": 5.6},
    "houses": [{"id": "1", "housing": "barn"}, {"id": "2", "housing": "barn"}],
    "egg_rooms": [{"id": "E"}],
}


def test_defaults_reach_the_rules():
    rules = config_from_dict(BASE).params().sensor_rules
    assert rules.light_for("1").min_dark_hours == 8.0
    assert rules.ventilation_for("2").heartbeat_timeout_minutes == 10
    assert rules.climate_for("1").nh3.ok == (0.0, 20.0)


def test_house_overrides_lie_over_the_farm_values_key_by_key():
    data = {**BASE, "sensor_rules": {"light": {"day_start": "13:00", "min_dark_hours": 8.5},
                                     "climate": {"temperature": {"ok": [16, 26]}}},
            "houses": [{"id": "1", "housing": "barn", "light": {"min_dark_hours": 9},
                        "climate": {"temperature": {"heavy": [0, 38]}}},
                       {"id": "2", "housing": "barn"}],
            "egg_rooms": [{"id": "E", "condensation": {"margin_c": 2}}]}
    rules = config_from_dict(data).params().sensor_rules
    one, two = rules.light_for("1"), rules.light_for("2")
    assert (one.min_dark_hours, one.day_start.hour) == (9.0, 13)  # house value, farm value kept
    assert (two.min_dark_hours, two.day_start.hour) == (8.5, 13)
    assert rules.climate_for("1").temperature.ok == (16.0, 26.0)
    assert rules.climate_for("1").temperature.heavy == (0.0, 38.0)
    assert rules.climate_for("2").temperature.heavy == (5.0, 35.0)
    assert rules.condensation_for("E").margin_c == 2.0
    assert rules.condensation_for("E").d_minutes == 60


@pytest.mark.parametrize("data, message", [
    ({"sensor_rules": {"light": {"min_dark_hour": 8}}}, "sensor_rules.light.min_dark_hour: unknown key"),
    ({"sensor_rules": {"light": {"day_start": "noon"}}}, "sensor_rules.light.day_start: expected a time of day"),
    ({"houses": [{"id": "1", "housing": "barn", "light": {"dark_enter_lux": 20}}]},
     "houses[0].light: dark_exit_lux must be above dark_enter_lux"),
    ({"sensor_rules": {"climate": {"nh3": {"ok": [0, 30]}}}}, "sensor_rules.climate.nh3: bands must nest"),
    ({"evaluation": {"window_days": 0}}, "evaluation.window_days"),
])
def test_bad_thresholds_name_the_key(data, message):
    with pytest.raises(ConfigError) as err:
        config_from_dict({**BASE, **data})
    assert str(err.value).startswith(message), str(err.value)


def test_the_example_file_documents_every_sensor_rule_key():
    """Every threshold appears in deploy/ikb-agent.example.toml with its default."""
    from rules.sensor_params import FarmSensorRules

    example = (REPO / "deploy" / "ikb-agent.example.toml").read_text(encoding="utf-8")
    config = load_config(REPO / "deploy" / "ikb-agent.example.toml")
    assert config.sensor_rules == FarmSensorRules()  # the example shows the defaults
    for section, model in FarmSensorRules().model_dump().items():
        assert f"[sensor_rules.{section}]" in example, section
        for key, value in model.items():
            if isinstance(value, dict):  # a climate band: its own table
                assert f"[sensor_rules.{section}.{key}]" in example, f"{section}.{key}"
                continue
            assert f"\n{key} = " in example or f"\n# {key} = " in example, f"{section}.{key}"
    assert "[evaluation]" in example and "window_days = 30" in example
