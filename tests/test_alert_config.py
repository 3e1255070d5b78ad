"""The [alerts] configuration: a mistake names its key and says what was expected."""

from __future__ import annotations

import tomllib

import pytest

from agent.config import ConfigError, config_from_dict, load_config

from .alerting import farm_toml
from .conftest import REPO

HOOK = """
[[alerts.channels]]
type = "webhook"
url = "http://127.0.0.1:9000/hook"
"""

BROKEN = [
    ('[alerts.severity]\nventilatie = "critical"\n' + HOOK,
     "alerts.severity: unknown alert kind 'ventilatie'; expected one of ventilation_alarm, alarm_panel_fault, "),
    ('[alerts.severity]\nventilation_alarm = "urgent"\n' + HOOK,
     "alerts.severity.ventilation_alarm: expected one of critical, warning, info"),
    (HOOK + 'person = "Els"\n', "alerts.channels[0].person: expected a name from [[alerts.people]]"),
    ('[[alerts.people]]\nname = "Jan"\nafter_minutes = 10\n[[alerts.people]]\nname = "Els"\nafter_minutes = 5\n',
     "alerts.people[1].after_minutes: expected the chain in order: no earlier than the person before"),
    (HOOK + HOOK, "alerts.channels[1].name: two channels share the name 'http://127.0.0.1:9000/hook'"),
    ('[[alerts.light.schedules]]\nhouse = "7"\ndark_start = "22:00"\ndark_end = "06:00"\n',
     "alerts.light.schedules[0].house: unknown house id '7'"),
    ('[[alerts.light.schedules]]\nhouse = "1"\ndark_start = "25:00"\ndark_end = "06:00"\n',
     "alerts.light.schedules[0].dark_start: string should match pattern"),
    ('[[alerts.channels]]\ntype = "mqtt"\ntopic = "a/#"\n',
     "alerts.channels[0].topic: expected a topic without wildcards (+ or #)"),
    ('[alerts]\nack_base_url = "pi:8080"\n', "alerts.ack_base_url: expected an http:// or https:// address"),
]


@pytest.mark.parametrize("alerts, message", BROKEN, ids=[m.split(":")[0] for _, m in BROKEN])
def test_a_broken_alerts_section_names_the_key(tmp_path, alerts, message):
    with pytest.raises(ConfigError) as info:
        config_from_dict(tomllib.loads(farm_toml(tmp_path, alerts)))
    assert str(info.value).startswith(message)


def test_the_example_configuration_is_valid_and_documents_every_alerts_key(tmp_path):
    example = REPO / "deploy" / "ikb-agent.example.toml"
    settings = load_config(example)
    assert settings.alerts.channels
    text = example.read_text(encoding="utf-8")
    from agent.config import AlertChannel, AlertPerson, AlertsSection, LightAlerts, LightSchedule

    for model in (AlertsSection, AlertChannel, AlertPerson, LightAlerts, LightSchedule):
        for key in model.model_fields:
            assert f"{key} =" in text or f"[alerts.{key}]" in text or f"[[alerts.{key}]]" in text \
                or f"[alerts.light.{key}]" in text or f"[[alerts.light.{key}]]" in text, (model.__name__, key)


OLD_KEYS = """
[alerts]
panel_timeout_minutes = 7
power_grace_seconds = 90

[alerts.light]
dark_max_lux = 0.4
light_min_lux = 25
ramp_minutes = 45
"""


def test_old_alert_keys_still_work_as_deprecated_names_of_the_rules_settings(tmp_path):
    """One setting per judgement: the alert's panel timeout is the score's heartbeat timeout, and so on."""
    settings = config_from_dict(tomllib.loads(farm_toml(tmp_path, OLD_KEYS)))
    rules = settings.sensor_rule_params()
    assert rules.ventilation_for("1").heartbeat_timeout_minutes == 7
    assert rules.generator.start_grace_seconds == 90
    assert (rules.light.dark_max_lux, rules.light.min_light_lux, rules.light.dusk_max_minutes) == (0.4, 25, 45)
    assert len(settings.deprecations) == 5
    assert settings.deprecations[0] == (
        "alerts.panel_timeout_minutes is deprecated: it is [sensor_rules.ventilation] heartbeat_timeout_minutes "
        "now (same meaning, one setting for the score and the alerts); move it there")


def test_an_old_key_and_its_new_name_with_different_values_are_refused(tmp_path):
    text = farm_toml(tmp_path, OLD_KEYS) + "\n[sensor_rules.generator]\nstart_grace_seconds = 120\n"
    with pytest.raises(ConfigError) as info:
        config_from_dict(tomllib.loads(text))
    assert str(info.value) == ("alerts.power_grace_seconds: deprecated name of [sensor_rules.generator] "
                               "start_grace_seconds, which is set to 120; remove alerts.power_grace_seconds")


def test_the_cli_warns_about_a_deprecated_key(tmp_path, capsys):
    from agent.cli.main import main

    path = tmp_path / "farm.toml"
    path.write_text(farm_toml(tmp_path, OLD_KEYS), encoding="utf-8")
    assert main(["--config", str(path), "score", "--format", "json"]) == 0
    assert f"ikb-agent: warning: {path}: alerts.panel_timeout_minutes is deprecated" in capsys.readouterr().err
