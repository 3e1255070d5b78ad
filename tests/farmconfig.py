"""A small farm configuration for the ingest tests, as a mapping, validated settings or TOML."""

from __future__ import annotations

import json

from agent.config import config_from_dict

SENSORS = [
    {"topic": "ikb/1/lux", "kind": "lux", "location": "1"},
    {"topic": "stal1/alarm", "kind": "ventilation_alarm", "location": "1"},
    {"topic": "stal1/mains", "kind": "mains", "location": "1"},
    {"topic": "tele/eierlokaal/SENSOR", "kind": "temperature", "location": "E", "field": "AM2301.Temperature"},
    {"topic": "tele/eierlokaal/SENSOR", "kind": "humidity", "location": "E", "field": "AM2301.Humidity"},
]


def farm_dict(tmp_path, sensors=SENSORS, mqtt: dict | None = None, **ingest):
    """Return the configuration mapping of a small farm with the given sensors."""
    return {
        "farm": {"name": "De Hoeve", "kip_number": "123456", "latitude": 52.1, "longitude": 5.6},
        "houses": [{"id": "1", "housing": "free_range"}],
        "egg_rooms": [{"id": "E"}],
        "mqtt": mqtt or {},
        "storage": {"path": str(tmp_path / "farm.db")},
        # Committed within a quarter second, as before the minute's batches (docs/INGEST.md): the tests
        # look at what was stored; the farm's own default is tested in test_sd_writes.
        "ingest": {"flush_interval_ms": 250, **ingest},
        "sensors": sensors,
    }


def settings_for(tmp_path, sensors=SENSORS, mqtt: dict | None = None, **ingest):
    """Return validated settings of a small farm with the given sensors."""
    return config_from_dict(farm_dict(tmp_path, sensors, mqtt, **ingest))


def to_toml(data: dict) -> str:
    """Return simple TOML for a mapping of tables and arrays of tables (enough for a config)."""
    def value(v):
        return json.dumps(v) if not isinstance(v, bool) else str(v).lower()

    out = []
    for name, table in data.items():
        for row in table if isinstance(table, list) else [table]:
            out.append(f"[[{name}]]" if isinstance(table, list) else f"[{name}]")
            out += [f"{k} = {value(v)}" for k, v in row.items()]
    return "\n".join(out) + "\n"
