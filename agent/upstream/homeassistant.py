"""Home Assistant MQTT discovery: the verdict, each house's last dark period and the open alerts appear in
Home Assistant without configuration ([homeassistant] enabled = true).

Discovery messages are retained ``<prefix>/sensor/ikb_agent_<kip>/<object>/config`` documents (Home
Assistant's MQTT discovery schema) that point at one retained state document on the farm broker
(``[homeassistant] state_topic``, never bridged upstream). Availability is the agent's own retained
online/offline topic (``[mqtt] status_topic``). Values are drawn from the run loop's findings, the alerts
table and the sensor rules' own light days; nothing is judged here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.config import Settings
from agent.evaluation import house_light_days
from agent.store import Store
from agent.upstream.documents import agent_version
from rules.scoring import VERDICTS

HOUR_MS = 3_600_000


def node_id(settings: Settings) -> str:
    """Return the discovery node id of this farm's agent."""
    return f"ikb_agent_{settings.farm.kip_number}"


def _house_name(settings: Settings, house_id: str) -> str:
    """Return a house's display name (its name, else "Stal <id>")."""
    house = next(h for h in settings.houses if h.id == house_id)
    return house.name or f"Stal {house.id}"


def _lux_houses(settings: Settings) -> list[str]:
    """Return the houses with a lux sensor, in configuration order."""
    with_lux = {s.location for s in settings.sensors if s.kind == "lux"}
    return [h.id for h in settings.houses if h.id in with_lux]


def discovery(settings: Settings, fingerprint: str | None = None) -> list[tuple[str, dict]]:
    """Return (topic, config) of every discovery message: verdict, open alerts, one sensor per lux house."""
    ha = settings.homeassistant
    node = node_id(settings)
    device = {"identifiers": [f"ikb-agent-{settings.farm.kip_number}"], "name": settings.farm.name,
              "manufacturer": "ikb-agent", "model": "IKB Ei zelfbeoordeling", "sw_version": agent_version(),
              **({"serial_number": fingerprint} if fingerprint else {})}
    common = {"state_topic": ha.state_topic, "device": device, "origin": {"name": "ikb-agent"}}
    if settings.mqtt.status_topic:
        common["availability_topic"] = settings.mqtt.status_topic  # "online"/"offline": Home Assistant's defaults
    entities = [
        ("verdict", {"name": "Oordeel IKB Ei", "device_class": "enum", "options": list(VERDICTS),
                     "value_template": "{{ value_json.verdict }}", "icon": "mdi:clipboard-check",
                     "json_attributes_topic": ha.state_topic,
                     "json_attributes_template": "{{ value_json.counts | tojson }}"}),
        ("open_alerts", {"name": "Open alarmen", "state_class": "measurement", "icon": "mdi:alarm-light",
                         "value_template": "{{ value_json.open_alerts }}",
                         "json_attributes_topic": ha.state_topic,
                         "json_attributes_template": "{{ {'alarmen': value_json.alerts} | tojson }}"}),
    ]
    for house in _lux_houses(settings):
        entities.append((f"dark_{house}", {
            "name": f"{_house_name(settings, house)} laatste donkerperiode", "device_class": "duration",
            "unit_of_measurement": "h", "state_class": "measurement", "icon": "mdi:weather-night",
            "value_template": f"{{{{ value_json.houses['{house}'].dark_hours }}}}",
            "json_attributes_topic": ha.state_topic,
            "json_attributes_template": f"{{{{ value_json.houses['{house}'] | tojson }}}}"}))
    return [(f"{ha.discovery_prefix}/sensor/{node}/{obj}/config",
             {**common, **config, "unique_id": f"{node}_{obj}"}) for obj, config in entities]


def last_dark_period(store: Store, settings: Settings, house: str, now: datetime) -> dict:
    """Return the house's last complete dark period (start, end, hours) from the sensor rules' light days.

    With several lux sensors in the house the shortest counts: the scheme asks for the dark period at
    every place in the house. In a house with daylight and a lamp sensor, the lamps' (as G3.8.9 judges).
    """
    tz = settings.farm_view().tz
    days = house_light_days(store, settings, house, now - timedelta(days=2), now)
    best = None
    for _label, sensor_days in (days.days_for("G3.8.9") if days else []):
        known = [d for d in sensor_days if d.dark_known and d.dark_known[1] < d.until]
        if not known:
            continue
        start, end = known[-1].dark_known
        if best is None or end - start < best[1] - best[0]:
            best = (start, end)
    if best is None:
        return {"dark_hours": None, "start": None, "end": None}
    return {"dark_hours": round((best[1] - best[0]) / HOUR_MS, 2),
            "start": datetime.fromtimestamp(best[0] / 1000, tz).isoformat(),
            "end": datetime.fromtimestamp(best[1] / 1000, tz).isoformat()}


def state(store: Store, settings: Settings, now: datetime, score: dict, alerts: list[dict]) -> dict:
    """Return the state document the discovered sensors read, from the upstream score and alert documents."""
    return {"verdict": score["verdict"], "counts": score["counts"], "open_alerts": len(alerts),
            "alerts": [f"{a['severity']}: {a['title']}" for a in alerts],
            "houses": {h: last_dark_period(store, settings, h, now) for h in _lux_houses(settings)}}
