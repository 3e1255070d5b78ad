"""Configuration: a broken file fails fast with one line naming the key path."""

from __future__ import annotations

import pytest

from agent.config import ConfigError, load_config

from .conftest import FARM_TOML

VALID = FARM_TOML.format(db="farm.db")


def broken(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


BROKEN = [
    (broken('housing = "barn"', 'housing = "castle"'),
     "houses[1].housing: expected one of barn, free_range, organic, colony"),
    (broken('kip_number = "123456"', 'kip_number = "12-34"'),
     "farm.kip_number: expected the KIP number: 4 to 10 digits"),
    (broken('latitude = 52.10', 'latitude = 152.10'), "farm.latitude: input should be less than or equal to 90"),
    (broken('timezone = "Europe/Amsterdam"', 'timezone = "Europe/Atlantis"'),
     "farm.timezone: expected an IANA time zone such as Europe/Amsterdam"),
    (broken('port = 1883', 'port = "many"'), "mqtt.port: input should be a valid integer, unable to parse string as an integer"),
    (broken('port = 1883', 'prot = 1883'), "mqtt.prot: unknown key (check the spelling; see deploy/ikb-agent.example.toml)"),
    (broken('kind = "lux"', 'kind = "brightness"'),
     "sensors[0].kind: expected one of lux, temperature, humidity, nh3, co2, egg_temperature, "
     "ventilation_alarm, generator, mains, pophole, lamp"),
    (broken('location = "1"', 'location = "9"'), "sensors[0].location: expected a house or egg-room id (1, 2, E), or \"outside\""),
    (broken('id = "2"', 'id = "1"'), "houses[1].id: duplicate house id '1'"),
    (broken('url = "http://127.0.0.1:9000/hook"', 'url = "ftp://x"'),
     "alerts.channels[0].url: expected an http:// or https:// address"),
    (broken('type = "webhook"\nurl = "http://127.0.0.1:9000/hook"', 'type = "email"'),
     "alerts.channels[0].smtp_host: required for an email channel"),
    (broken('name = "Pluimveebedrijf De Hoeve"\n', ''), "farm.name: required key is missing"),
    (broken('topic = "zigbee2mqtt/stal1_lux"', 'topic = "zigbee2mqtt/+"'),
     "sensors[0].topic: expected a topic without wildcards (+ or #)"),
]


@pytest.mark.parametrize("text, message", BROKEN, ids=[m.split(":")[0] for _, m in BROKEN])
def test_broken_file_gives_one_exact_line(tmp_path, text, message):
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == message


def test_syntax_error_names_the_file_and_line(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[farm\nname = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.toml: TOML syntax error: .*line 1"):
        load_config(path)


def test_missing_file_says_how_to_point_at_one(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found .*--config PATH or set IKB_CONFIG"):
        load_config(tmp_path / "absent.toml")


@pytest.fixture
def valid_file(tmp_path):
    """Return a valid configuration file (the environment tests lay their variables over it)."""
    path = tmp_path / "c.toml"
    path.write_text(VALID, encoding="utf-8")
    return path


def test_environment_overrides_the_file(valid_file, monkeypatch):
    path = valid_file
    monkeypatch.setenv("IKB_MQTT__HOST", "10.1.2.3")
    monkeypatch.setenv("IKB_STORAGE__PATH", "/var/lib/ikb/other.db")
    config = load_config(path)
    assert config.mqtt.host == "10.1.2.3" and config.mqtt.port == 1883
    assert config.storage.path == "/var/lib/ikb/other.db"
    assert config.farm.name == "Pluimveebedrijf De Hoeve"


def test_environment_overrides_nested_tables_and_lists_and_leaves_the_clis_own_names_alone(valid_file, monkeypatch):
    path = valid_file
    before = load_config(path)
    assert before.sensor_rules.light.max_light_hours != 15
    monkeypatch.setenv("ikb_sensor_rules__light__max_light_hours", "15")  # any case, one level per __
    monkeypatch.setenv("IKB_EGG_ROOMS", '[{"id": "E9", "name": "Eierlokaal achter"}]')  # a list: JSON
    monkeypatch.setenv("IKB_CONFIG", str(path))  # the CLI's, not a section of the file
    monkeypatch.setenv("IKB_LANG", "en")
    config = load_config(path)
    assert config.sensor_rules.light.max_light_hours == 15
    assert config.sensor_rules.light == before.sensor_rules.light.model_copy(update={"max_light_hours": 15})
    assert [(r.id, r.name) for r in config.egg_rooms] == [("E9", "Eierlokaal achter")]
    assert config.farm.name == "Pluimveebedrijf De Hoeve"


def test_an_unknown_key_or_bad_json_in_the_environment_is_named_like_the_files(valid_file, monkeypatch):
    path = valid_file
    monkeypatch.setenv("IKB_MQTT__HOTS", "10.1.2.3")
    with pytest.raises(ConfigError, match=r"^mqtt\.hots: "):
        load_config(path)
    monkeypatch.delenv("IKB_MQTT__HOTS")
    monkeypatch.setenv("IKB_EGG_ROOMS", "[{kapot")
    with pytest.raises(ConfigError, match=r"^egg_rooms: "):
        load_config(path)
    monkeypatch.delenv("IKB_EGG_ROOMS")
    monkeypatch.setenv("IKB_HOUSES__0__NAME", "Stal A")  # a list has no keys: the whole list is JSON or nothing
    with pytest.raises(ConfigError, match=r"^houses: input should be a valid list"):
        load_config(path)


def test_bad_environment_value_names_the_key(valid_file, monkeypatch):
    path = valid_file
    monkeypatch.setenv("IKB_MQTT__PORT", "99999")
    with pytest.raises(ConfigError, match=r"^mqtt\.port: input should be less than or equal to 65535$"):
        load_config(path)


def test_example_config_in_deploy_is_valid():
    from .conftest import REPO

    config = load_config(REPO / "deploy" / "ikb-agent.example.toml")
    assert config.farm.kip_number and config.houses and config.sensors


def test_cli_exits_2_with_one_line_for_a_broken_config(cli, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(broken('housing = "barn"', 'housing = "castle"'), encoding="utf-8")
    result = cli("score", config=path)
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "ikb-agent: configuration error: houses[1].housing: expected one of barn, free_range, organic, colony"]
