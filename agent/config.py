"""Configuration: one TOML file, validated by pydantic, overridable from the environment.

Loaded once, at the entry point (the CLI), and passed down. Environment
variables with the prefix ``IKB_`` override file values; nested keys use a
double underscore: ``IKB_MQTT__HOST=10.0.0.5``, ``IKB_STORAGE__PATH=/var/lib/ikb.db``.

An invalid file fails fast with one line naming the key path and what was
expected, e.g. ``houses[1].housing: expected one of barn, free_range, organic, colony``
(indexes count from 0: ``houses[1]`` is the second ``[[houses]]`` table).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from rules.evidence import EggRoom, Farm, House
from rules.params import LogbookParams, Params
from rules.sensor_params import (
    EGG_ROOM_OVERRIDES,
    HOUSE_OVERRIDES,
    ClimateParams,
    CondensationParams,
    FarmSensorRules,
    HouseRules,
    LightParams,
    SensorRules,
    VentilationParams,
    merged,
)

SENSOR_KINDS: tuple[str, ...] = (
    "lux", "temperature", "humidity", "nh3", "co2", "egg_temperature",
    "ventilation_alarm", "generator", "mains", "pophole", "lamp",
)


# The location of sensors outside the houses (an outside temperature for A3.3).
OUTSIDE = "outside"


class ConfigError(Exception):
    """The configuration is missing or invalid; the message names the key and the fix."""


class _KeyError(ValueError):
    """A cross-field check failed at a known key path."""

    def __init__(self, path: str, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


class _Strict(BaseModel):
    """Base for config sections: unknown keys are errors, so typos are caught."""

    model_config = ConfigDict(extra="forbid")


class FarmSection(_Strict):
    """[farm]: who and where the farm is."""

    name: str = Field(min_length=1)
    kip_number: str = Field(pattern=r"^\d{4,10}$")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    timezone: str = "Europe/Amsterdam"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as Europe/Amsterdam") from None
        return value


class HouseSection(_Strict):
    """[[houses]]: one house (stal)."""

    id: str = Field(min_length=1, max_length=32)
    housing: Literal["barn", "free_range", "organic", "colony"]
    mechanical_ventilation: bool = True
    name: str | None = None
    # G1.2: the maximum number of hens the house's stalmeetrapport allows.
    max_hens: int | None = Field(None, gt=0, le=1_000_000)
    # H3.12.1: the free-range area of the house in hectares (at most 2500 hens per hectare).
    free_range_ha: float | None = Field(None, gt=0, le=1000)
    # Light openings: daylight reaches the hens. G3.8.7/G3.8.9/G3.8.11 are then judged on a `lamp`
    # sensor; with lux only, the hours with the sun up are unknown (never a deviation from daylight).
    daylight: bool = False
    # The alarm panel has its own dialer (GSM, telephone) that calls off the farm; tested monthly
    # and logged (checks, item alarm_dialer), it is A3.4's off-farm route.
    alarm_dialer: bool = False
    # Ventilation flaps open by themselves on power failure: A3.5's alternative to a generator.
    flaps_open_on_power_failure: bool = False
    # Per-house thresholds, laid over [sensor_rules.*] key by key ([houses.light] etc.).
    light: LightParams | None = None
    climate: ClimateParams | None = None
    ventilation: VentilationParams | None = None


class EggRoomSection(_Strict):
    """[[egg_rooms]]: one egg room (eierbewaarplaats)."""

    id: str = Field(min_length=1, max_length=32)
    name: str | None = None
    # Per-room condensation thresholds, laid over [sensor_rules.condensation] ([egg_rooms.condensation]).
    condensation: CondensationParams | None = None


class MqttSection(_Strict):
    """[mqtt]: the broker the sensors publish to."""

    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    client_id: str = "ikb-agent"
    keepalive: int = Field(30, ge=5, le=3600)
    # Retained online/offline status of the agent itself (last will).
    status_topic: str = "ikb-agent/status"
    # How long the broker keeps our session (and queued QoS 1 messages) while we are away.
    session_expiry: int = Field(7 * 24 * 3600, ge=86400)
    # At most this many unacknowledged messages in flight to us (MQTT v5 Receive Maximum).
    receive_maximum: int = Field(1000, ge=10, le=65535)


class StorageSection(_Strict):
    """[storage]: the SQLite database."""

    path: str = "ikb-agent.db"
    # Raw readings at full resolution for this many days, then per-minute aggregates.
    raw_retention_days: int = Field(35, ge=1)
    # Aggregates and derived intervals: at least two years (A9.1).
    aggregate_retention_days: int = Field(800, ge=731)


class IngestSection(_Strict):
    """[ingest]: batching and validation of sensor messages (docs/INGEST.md)."""

    # A batch is committed when it holds this many messages, or its oldest is this old (a minute: every
    # commit rewrites pages of the SD card, docs/PERFORMANCE.md); alarm-class readings (ventilation alarm,
    # mains off, generator fault) and every change of an alarm input are committed at once.
    batch_size: int = Field(500, ge=1, le=10_000)
    flush_interval_ms: int = Field(60_000, ge=1, le=600_000)
    max_payload_bytes: int = Field(4096, ge=64, le=1_048_576)
    # A timestamp inside a payload may lie this far after / before the moment of receipt.
    max_future_s: int = Field(300, ge=0)
    max_age_days: float = Field(10, gt=0)
    # Rejected messages kept in the dead-letter table (the oldest are dropped; counts stay).
    dead_letter_max: int = Field(1000, ge=10, le=1_000_000)
    # A sensor silent for this many times its interval (at least offline_min_s) is offline.
    offline_after: float = Field(3.0, ge=1.5)
    offline_min_s: int = Field(120, ge=10)


class SensorSection(_Strict):
    """[[sensors]]: one value read from one MQTT topic."""

    topic: str = Field(min_length=1)
    kind: Literal[
        "lux", "temperature", "humidity", "nh3", "co2", "egg_temperature",
        "ventilation_alarm", "generator", "mains", "pophole", "lamp",
    ]
    location: str = Field(min_length=1)
    field: str | None = None
    # Expected seconds between messages; learned from the data when absent.
    interval: float | None = Field(None, gt=0)
    name: str | None = None
    # Dotted path of the device's own timestamp (Shelly "params.ts", Tasmota "Time").
    ts_field: str = Field("ts", min_length=1)
    # Boolean inputs mean the opposite (a Zigbee door contact reports true when closed).
    invert: bool = False

    @model_validator(mode="after")
    def _invert_states_only(self) -> "SensorSection":
        if self.invert and self.kind not in ("ventilation_alarm", "generator", "mains", "pophole"):
            raise _KeyError("invert", "only state sensors (ventilation_alarm, generator, mains, pophole) "
                                      "can be inverted")
        return self

    @field_validator("topic")
    @classmethod
    def _plain_topic(cls, value: str) -> str:
        if "+" in value or "#" in value:
            raise ValueError("expected a topic without wildcards (+ or #)")
        return value


class AlertChannel(_Strict):
    """[[alerts.channels]]: one way to reach the farmer off the farm."""

    type: Literal["webhook", "email", "mqtt"]
    name: str | None = None
    url: str | None = None
    secret: str | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    password: str | None = None
    sender: str | None = None
    to: list[str] = Field(default_factory=list)
    topic: str | None = None
    severities: list[Literal["critical", "warning", "info"]] = Field(
        default_factory=lambda: ["critical", "warning", "info"])
    houses: list[str] | None = None
    # Who this channel reaches, a name from [[alerts.people]]; absent = everyone, from the first moment.
    person: str | None = None
    # webhook: "json" (generic, Home Assistant) or "ntfy" (text body, Title/Priority/Tags/Actions headers).
    format: Literal["json", "ntfy"] = "json"
    # email: implicit TLS (port 465) instead of STARTTLS.
    smtp_ssl: bool = False
    # CA bundle to trust for https webhooks and SMTP TLS (a farm's own CA); default: the system's.
    ca_file: str | None = None
    # Seconds one delivery attempt may take before it counts as failed.
    timeout: float = Field(10.0, gt=0, le=120)

    @property
    def key(self) -> str:
        """Return the stable name the outbox uses for this channel."""
        return self.name or self.url or self.topic or ",".join(self.to) or self.type

    @model_validator(mode="after")
    def _complete(self) -> "AlertChannel":
        if self.type == "webhook" and not self.url:
            raise _KeyError("url", "required for a webhook channel")
        if self.type == "webhook" and not re.match(r"^https?://", self.url or ""):
            raise _KeyError("url", "expected an http:// or https:// address")
        if self.type == "email" and not self.smtp_host:
            raise _KeyError("smtp_host", "required for an email channel")
        if self.type == "email" and not self.to:
            raise _KeyError("to", "required for an email channel: a list of addresses")
        if self.type == "mqtt" and not self.topic:
            raise _KeyError("topic", "required for an mqtt channel")
        if self.type == "mqtt" and self.topic and ("+" in self.topic or "#" in self.topic):
            raise _KeyError("topic", "expected a topic without wildcards (+ or #)")
        if self.type == "mqtt" and self.url and not re.match(r"^mqtts?://[^/:]+(:\d+)?/?$", self.url):
            raise _KeyError("url", "expected mqtt://host:port or mqtts://host:port (absent: the [mqtt] broker)")
        return self


class AlertPerson(_Strict):
    """[[alerts.people]]: one person in the escalation chain, in order (farmer → partner → employee)."""

    name: str = Field(min_length=1)
    # Minutes after the alert was raised, unacknowledged, before this person is called too.
    after_minutes: float = Field(0, ge=0, le=24 * 60)


class LightSchedule(_Strict):
    """[[alerts.light.schedules]]: the planned dark period of one house, for alerts as they happen."""

    house: str
    dark_start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    dark_end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class LightAlerts(_Strict):
    """[alerts.light]: when light-schedule alerts speak; the lux limits are the light rules' own
    ([sensor_rules.light] dark_max_lux, min_light_lux, dusk_max_minutes, per house in [houses.light])."""

    # A condition must last this long before it alerts (a torch, an inspection round).
    hold_minutes: float = Field(5, ge=0, le=240)
    # Lights may still be on this long after the planned dark start.
    grace_minutes: float = Field(15, ge=0, le=240)
    schedules: list[LightSchedule] = Field(default_factory=list)


def _known_kinds(value: dict[str, str]) -> dict[str, str]:
    """Check that every key of [alerts.severity] is an alert kind."""
    from agent.alerts import KINDS

    for kind in value:
        if kind not in KINDS:
            raise ValueError(f"unknown alert kind {kind!r}; expected one of {', '.join(KINDS)}")
    return value


class AlertsSection(_Strict):
    """[alerts]: off-farm alerting (A3.4)."""

    channels: list[AlertChannel] = Field(default_factory=list)
    people: list[AlertPerson] = Field(default_factory=list)
    # Severity per alert kind, overriding the defaults listed in docs/ALERTS.md.
    severity: dict[str, Literal["critical", "warning", "info"]] = Field(default_factory=dict)
    # Base of the one-time acknowledgement links in each message: the web page as the phone reaches it.
    ack_base_url: str | None = None
    # MQTT topic on the [mqtt] broker where an alarm dialer or Home Assistant can acknowledge.
    ack_topic: str = "ikb-agent/alerts/ack"
    # Unacknowledged alerts of these severities repeat and escalate along [[alerts.people]].
    escalate: list[Literal["critical", "warning", "info"]] = Field(default_factory=lambda: ["critical"])
    repeat_minutes: float = Field(15, ge=0, le=24 * 60)
    # Flapping: an alert closes only after its condition stayed clear this long.
    clear_seconds: float = Field(300, ge=0, le=24 * 3600)
    # A warning/info alert that comes back within this time is reopened without a new message.
    quiet_minutes: float = Field(60, ge=0, le=7 * 24 * 60)
    # Info alerts are collected into one digest per channel this often (0: send each at once).
    digest_minutes: float = Field(60, ge=0, le=7 * 24 * 60)
    # Delivery retries: first retry after retry_base_seconds, doubling up to retry_max_seconds, forever.
    retry_base_seconds: float = Field(5, gt=0, le=3600)
    retry_max_seconds: float = Field(300, gt=0, le=24 * 3600)
    # The panel's silence and the generator's start-up grace are the sensor rules' own settings:
    # [sensor_rules.ventilation] heartbeat_timeout_minutes, [sensor_rules.generator] start_grace_seconds.
    # Local hour after which the day's "morgen te doen" reminders (info) are raised.
    due_reminder_hour: int = Field(17, ge=0, le=23)
    light: LightAlerts = Field(default_factory=LightAlerts)

    _kinds = field_validator("severity")(_known_kinds)

    @field_validator("ack_base_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://", value):
            raise ValueError("expected an http:// or https:// address")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _chain(self) -> "AlertsSection":
        names = [p.name for p in self.people]
        for i, person in enumerate(self.people):
            if person.name in names[:i]:
                raise _KeyError(f"people[{i}].name", f"duplicate person {person.name!r}")
            if i and person.after_minutes < self.people[i - 1].after_minutes:
                raise _KeyError(f"people[{i}].after_minutes",
                                "expected the chain in order: no earlier than the person before")
        keys: set[str] = set()
        for i, channel in enumerate(self.channels):
            if channel.person is not None and channel.person not in names:
                raise _KeyError(f"channels[{i}].person", "expected a name from [[alerts.people]]")
            if channel.key in keys:
                raise _KeyError(f"channels[{i}].name", f"two channels share the name {channel.key!r}")
            keys.add(channel.key)
        return self


class ScoringSection(_Strict):
    """[scoring]: ages used in the score."""

    assessment_max_age_days: int = Field(90, ge=1, le=3650)
    due_horizon_days: int = Field(60, ge=1, le=730)

    @model_validator(mode="before")
    @classmethod
    def _no_points(cls, data: Any) -> Any:
        # DESIGN §3.5 v2: no points are summed any more, so their weights have nothing to configure.
        if isinstance(data, dict) and "weights" in data:
            raise _KeyError("weights", "no longer used: the score shows the counts per category with the "
                                       "scheme's own texts instead of a sum of points; remove [scoring.weights]")
        return data


class EvaluationSection(_Strict):
    """[evaluation]: the continuous evaluation in `ikb-agent run`."""

    # Window the minute job scores (the same default as `score`).
    window_days: int = Field(30, ge=1, le=800)
    interval_seconds: int = Field(60, ge=10, le=3600)


class WebSection(_Strict):
    """[web]: the local web page."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    # Signing key for session cookies; generated into the database when absent.
    secret_key: str | None = None
    language: Literal["nl", "en"] = "nl"
    # How long a login lasts at most (the kiosk tablet and the farmer's phone stay logged in).
    session_days: int = Field(30, ge=1, le=365)
    # A login not used for this long ends (a copied cookie dies with it); kiosk accounts excepted.
    session_idle_days: float = Field(7, gt=0, le=365)
    # Largest photo or document upload.
    max_upload_mb: int = Field(10, ge=1, le=100)
    # Worker threads of the web server.
    threads: int = Field(4, ge=1, le=32)
    # Address of a reverse proxy that terminates https and may set X-Forwarded-Proto.
    trusted_proxy: str | None = None
    # The visitor kiosk returns to an empty Dutch form after this many seconds without a touch.
    kiosk_idle_seconds: int = Field(90, ge=10, le=3600)


class BackupSection(_Strict):
    """[backup]: the nightly online copy of the database (docs/INSTALL.md)."""

    enabled: bool = True
    # Where the copies go: best a USB stick (the SD card wears out). Absent: "backups" beside the database.
    directory: str | None = None
    # Copies kept; older ones are deleted after a new copy passed its check.
    keep: int = Field(7, ge=1, le=366)
    # Farm-local time after which the night's copy is taken (checked every half hour).
    at: str = Field("03:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    # Refuse to copy unless the directory is on another device than the database: a USB stick that is
    # not plugged in leaves its empty mount point on the SD card, and a copy there is no backup.
    require_other_device: bool = False

    def directory_for(self, db_path: str) -> Path:
        """Return the backup directory, resolving the default beside the database."""
        if self.directory:
            return Path(self.directory)
        return Path(db_path).resolve().parent / "backups"


class HealthSection(_Strict):
    """[health]: when the agent counts as making progress (systemd watchdog) and where it says so."""

    # The ingest loop must have turned, and no received message waited uncommitted, within this time.
    ingest_stall_seconds: float = Field(120, ge=1, le=3600)
    # An evaluation must have finished (with or without error) within this time; at least two intervals.
    evaluation_stall_seconds: float = Field(600, ge=20, le=24 * 3600)
    # Directory of the running agent's status file (tmpfs). Absent: /run/ikb-agent when it exists
    # (systemd's RuntimeDirectory), else ikb-agent in the temporary directory.
    runtime_dir: str | None = None


class SigningSection(_Strict):
    """[signing]: the farm key that signs audit packs and chain heads (docs/UPSTREAM.md)."""

    # PEM file of the Ed25519 key; absent: farm.key beside the database. Never inside the database.
    key_path: str | None = None


class UpstreamSection(_Strict):
    """[upstream]: what the agent publishes for the bridge to an integrator's broker (docs/UPSTREAM.md)."""

    enabled: bool = False
    # Topics are <topic_root>/<kip_number>/{status,score,alerts,chain}, on the [mqtt] broker.
    topic_root: str = Field("ikb", pattern=r"^[A-Za-z0-9_-]+$")
    # How often the agent looks for a changed status, score or set of open alerts (published only on change).
    interval_seconds: int = Field(60, ge=5, le=3600)
    # Unchanged status and score are published again this often, so upstream can tell silence from calm.
    heartbeat_hours: float = Field(24, ge=1, le=24 * 7)
    # Each logbook's chain head (count, last hash, time), signed, is published this often.
    chain_hours: float = Field(24, ge=1, le=24 * 7)


class HomeAssistantSection(_Strict):
    """[homeassistant]: MQTT discovery, so Home Assistant shows the verdict, dark periods and alerts."""

    enabled: bool = False
    discovery_prefix: str = Field("homeassistant", pattern=r"^[A-Za-z0-9_/-]+$")
    # Where the agent publishes the values Home Assistant reads (retained, on the [mqtt] broker; not bridged).
    state_topic: str = Field("ikb-agent/homeassistant", pattern=r"^[^+#]+$")


# Keys that moved to the one place their setting lives (old path, new path). Each judgement's setting
# exists once; an old key keeps working for existing files, with a warning. Both set to different values:
# the file is refused, since one of them would be silently ignored.
DEPRECATED_KEYS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("alerts", "panel_timeout_minutes"), ("sensor_rules", "ventilation", "heartbeat_timeout_minutes")),
    (("alerts", "power_grace_seconds"), ("sensor_rules", "generator", "start_grace_seconds")),
    (("alerts", "light", "dark_max_lux"), ("sensor_rules", "light", "dark_max_lux")),
    (("alerts", "light", "light_min_lux"), ("sensor_rules", "light", "min_light_lux")),
    (("alerts", "light", "ramp_minutes"), ("sensor_rules", "light", "dusk_max_minutes")),
)


def move_deprecated(data: dict) -> tuple[dict, list[str]]:
    """Return the configuration with deprecated keys moved to their new place, and one warning per key moved."""
    notes: list[str] = []
    for old, new in DEPRECATED_KEYS:
        parent = data
        for part in old[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if not isinstance(parent, dict) or old[-1] not in parent:
            continue
        data = _copy_path(data, old[:-1])
        value = _get_path(data, old[:-1]).pop(old[-1])
        data = _copy_path(data, new[:-1])
        target = _get_path(data, new[:-1])
        old_name, new_name = ".".join(old), f"[{'.'.join(new[:-1])}] {new[-1]}"
        if new[-1] in target and target[new[-1]] != value:
            raise _KeyError(old_name, f"deprecated name of {new_name}, which is set to {target[new[-1]]!r}; "
                                      f"remove {old_name}")
        target[new[-1]] = value
        notes.append(f"{old_name} is deprecated: it is {new_name} now (same meaning, one setting for the "
                     f"score and the alerts); move it there")
    return data, notes


def _copy_path(data: dict, path: tuple[str, ...]) -> dict:
    """Return ``data`` with the tables along ``path`` copied (created where absent), so the caller's dict stays."""
    out = dict(data)
    node = out
    for part in path:
        child = node.get(part)
        node[part] = dict(child) if isinstance(child, dict) else {}
        node = node[part]
    return out


def _get_path(data: dict, path: tuple[str, ...]) -> dict:
    """Return the table at ``path``."""
    for part in path:
        data = data[part]
    return data


class Settings(BaseModel):
    """The whole configuration file (DESIGN §3.2); :func:`config_from_dict` lays the environment over it."""

    model_config = ConfigDict(extra="forbid")
    farm: FarmSection
    houses: list[HouseSection] = Field(min_length=1)
    egg_rooms: list[EggRoomSection] = Field(default_factory=list)
    mqtt: MqttSection = Field(default_factory=MqttSection)
    storage: StorageSection = Field(default_factory=StorageSection)
    ingest: IngestSection = Field(default_factory=IngestSection)
    sensors: list[SensorSection] = Field(default_factory=list)
    alerts: AlertsSection = Field(default_factory=AlertsSection)
    scoring: ScoringSection = Field(default_factory=ScoringSection)
    sensor_rules: FarmSensorRules = Field(default_factory=FarmSensorRules)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)
    web: WebSection = Field(default_factory=WebSection)
    logbooks: LogbookParams = Field(default_factory=LogbookParams)
    backup: BackupSection = Field(default_factory=BackupSection)
    health: HealthSection = Field(default_factory=HealthSection)
    signing: SigningSection = Field(default_factory=SigningSection)
    upstream: UpstreamSection = Field(default_factory=UpstreamSection)
    homeassistant: HomeAssistantSection = Field(default_factory=HomeAssistantSection)
    _deprecations: list[str] = PrivateAttr(default_factory=list)

    @property
    def deprecations(self) -> list[str]:
        """Return a warning per deprecated key the file used (it still works; the CLI shows these)."""
        return list(self._deprecations)

    @model_validator(mode="wrap")
    @classmethod
    def _moved_keys(cls, data: Any, handler) -> "Settings":
        """Move deprecated keys to their new place before anything else, and remember them."""
        notes: list[str] = []
        if isinstance(data, dict):
            data, notes = move_deprecated(data)
        settings = handler(data)
        settings._deprecations = notes
        return settings

    @model_validator(mode="before")
    @classmethod
    def _layer_sensor_rules(cls, data: Any) -> Any:
        """Lay [houses.light] etc. over [sensor_rules.*] over the defaults, so partial tables work."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        farm = data.get("sensor_rules") if isinstance(data.get("sensor_rules"), dict) else {}
        defaults = FarmSensorRules().model_dump(mode="json")
        for key, names in (("houses", HOUSE_OVERRIDES), ("egg_rooms", EGG_ROOM_OVERRIDES)):
            if not isinstance(data.get(key), list):
                continue
            layered = []
            for item in data[key]:
                if isinstance(item, dict):
                    item = dict(item)
                    for name in names:
                        if isinstance(item.get(name), dict):
                            base = farm.get(name) if isinstance(farm.get(name), dict) else None
                            item[name] = merged(defaults[name], base, item[name])
                layered.append(item)
            data[key] = layered
        if farm:
            data["sensor_rules"] = {name: merged(defaults[name], value)
                                    if isinstance(value, dict) and name in defaults else value
                                    for name, value in farm.items()}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> "Settings":
        seen: set[str] = set()
        for i, house in enumerate(self.houses):
            if house.id == OUTSIDE:
                raise _KeyError(f"houses[{i}].id", f"{OUTSIDE!r} is the location of outside sensors; choose another id")
            if house.id in seen:
                raise _KeyError(f"houses[{i}].id", f"duplicate house id {house.id!r}")
            seen.add(house.id)
        for i, room in enumerate(self.egg_rooms):
            if room.id in seen:
                raise _KeyError(f"egg_rooms[{i}].id", f"id {room.id!r} is already used by a house or egg room")
            seen.add(room.id)
        egg_ids = {r.id for r in self.egg_rooms}
        pairs: set[tuple[str, str | None]] = set()
        for i, sensor in enumerate(self.sensors):
            if sensor.location == OUTSIDE:
                # A3.3: an outside temperature shows whether a hot house is the weather or failing ventilation.
                if sensor.kind not in ("temperature", "humidity"):
                    raise _KeyError(f"sensors[{i}].location", "only temperature and humidity sensors can be outside")
            elif sensor.location not in seen:
                raise _KeyError(f"sensors[{i}].location",
                                f"expected a house or egg-room id ({', '.join(sorted(seen))}), or \"outside\"")
            if sensor.kind == "egg_temperature" and sensor.location not in egg_ids:
                raise _KeyError(f"sensors[{i}].location", "expected an egg-room id for an egg_temperature sensor")
            if sensor.kind == "lamp" and sensor.location in egg_ids:
                raise _KeyError(f"sensors[{i}].location", "expected a house id for a lamp sensor")
            if (sensor.topic, sensor.field) in pairs:
                raise _KeyError(f"sensors[{i}].field",
                                f"topic {sensor.topic!r} already has a sensor reading this field")
            pairs.add((sensor.topic, sensor.field))
        for i, channel in enumerate(self.alerts.channels):
            for house in channel.houses or []:
                if house not in seen:
                    raise _KeyError(f"alerts.channels[{i}].houses", f"unknown house id {house!r}")
        if self.health.evaluation_stall_seconds < 2 * self.evaluation.interval_seconds:
            raise _KeyError("health.evaluation_stall_seconds",
                            f"expected at least twice [evaluation] interval_seconds "
                            f"({2 * self.evaluation.interval_seconds})")
        house_ids = {h.id for h in self.houses}
        for i, schedule in enumerate(self.alerts.light.schedules):
            if schedule.house not in house_ids:
                raise _KeyError(f"alerts.light.schedules[{i}].house", f"unknown house id {schedule.house!r}")
        return self

    def key_path(self) -> Path:
        """Return the farm key's file: [signing] key_path, else farm.key beside the database."""
        if self.signing.key_path:
            return Path(self.signing.key_path)
        return Path(self.storage.path).parent / "farm.key"

    def farm_view(self) -> Farm:
        """Return the farm as the rules see it."""
        return Farm(
            name=self.farm.name,
            kip_number=self.farm.kip_number,
            latitude=self.farm.latitude,
            longitude=self.farm.longitude,
            timezone=self.farm.timezone,
            houses=tuple(House(h.id, h.housing, h.mechanical_ventilation, h.name, h.max_hens, h.free_range_ha,
                               daylight=h.daylight, alarm_dialer=h.alarm_dialer,
                               flaps=h.flaps_open_on_power_failure) for h in self.houses),
            egg_rooms=tuple(EggRoom(r.id, r.name) for r in self.egg_rooms),
        )

    def params(self) -> Params:
        """Return the evaluation parameters."""
        return Params(
            assessment_max_age_days=self.scoring.assessment_max_age_days,
            due_horizon_days=self.scoring.due_horizon_days,
            logbooks=self.logbooks,
            sensor_rules=self.sensor_rule_params(),
        )

    def sensor_rule_params(self) -> SensorRules:
        """Return the sensor-rule thresholds with every house's and egg room's overrides."""
        houses = {h.id: HouseRules(light=h.light, climate=h.climate, ventilation=h.ventilation)
                  for h in self.houses if h.light or h.climate or h.ventilation}
        rooms = {r.id: r.condensation for r in self.egg_rooms if r.condensation}
        return SensorRules(**dict(self.sensor_rules), houses=houses, egg_rooms=rooms)


def _path(loc: tuple) -> str:
    """Render a pydantic error location as ``houses[1].housing``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _message(err: dict) -> str:
    """Render one pydantic error as 'expected ...' in plain words."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return "expected one of " + ", ".join(options)
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see deploy/ikb-agent.example.toml)"
    if kind == "string_pattern_mismatch" and err["loc"][-1] == "kip_number":
        return "expected the KIP number: 4 to 10 digits"
    if kind in ("value_error", "assertion_error"):
        exc = ctx.get("error")
        if isinstance(exc, _KeyError):
            return exc.message
        return str(exc) if exc else err["msg"]
    msg = err["msg"]
    return msg[0].lower() + msg[1:] if msg else kind


def format_validation_error(exc: ValidationError) -> str:
    """Return the first validation error as one line: ``key.path: what was expected``."""
    err = exc.errors()[0]
    loc = _path(tuple(err["loc"]))
    error = (err.get("ctx") or {}).get("error")
    if isinstance(error, _KeyError):
        # Cross-field checks name their key relative to the model that raised them.
        loc = f"{loc}.{error.path}" if loc and not error.path.startswith("[") else loc + error.path
        return f"{loc}: {error.message}"
    return f"{loc}: {_message(err)}" if loc else _message(err)


def load_config(path: str | Path) -> Settings:
    """Read, validate and return the configuration; raise ConfigError with one clear line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found (use --config PATH or set IKB_CONFIG)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from None
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: expected UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML syntax error: {exc}") from None
    return config_from_dict(data)


ENV_PREFIX = "IKB_"
ENV_NESTED = "__"


def _is_table(annotation: Any) -> bool:
    """Return whether a field holds a table or a list (its value in the environment is JSON)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return any(_is_table(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    if origin in (list, dict, tuple, set, frozenset):
        return True
    return isinstance(annotation, type) and issubclass(annotation, (BaseModel, list, dict, tuple))


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """Return the model class a field holds (also when optional), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = [m for arg in typing.get_args(annotation) if (m := _model_of(arg)) is not None]
        return found[0] if len(found) == 1 else None
    return None


def environment_overrides(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the configuration set in the environment, as a nested mapping.

    ``IKB_<SECTION>__<KEY>=value`` (the name in any case), one double underscore per level of tables:
    ``IKB_MQTT__HOST=10.0.0.5``, ``IKB_SENSOR_RULES__LIGHT__MAX_LIGHT_HOURS=16``. The value of a key
    that holds a table or a list is JSON (``IKB_EGG_ROOMS='[{"id": "E"}]'``); any other value is text,
    converted and checked as the file's would be. ``IKB_`` names that are no section of the file
    (``IKB_CONFIG``, ``IKB_LANG``) are left to the CLI; an unknown key inside a section fails validation
    with its path, as in the file. Made here rather than with pydantic-settings, which held the same
    contract: its import brought asyncio and its CLI machinery into both processes, about 3 MB each
    (docs/PERFORMANCE.md, issue 15).
    """
    environ = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.upper().startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX):].lower().split(ENV_NESTED)
        if path[0] not in Settings.model_fields or not all(path):
            continue
        model: type[BaseModel] | None = Settings
        annotation: Any = None
        for part in path:
            field = model.model_fields.get(part) if model is not None else None
            annotation = field.annotation if field is not None else None
            model = _model_of(annotation)
        value: Any = raw
        if annotation is not None and _is_table(annotation):
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw  # validation says what the key expected
        node = out
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[path[-1]] = value
    return out


def _laid_over(base: Any, top: Any) -> Any:
    """Return ``top`` laid over ``base``: tables merged key by key, anything else replaced."""
    if isinstance(base, dict) and isinstance(top, dict):
        return {**base, **{key: _laid_over(base.get(key), value) for key, value in top.items()}}
    return top


def config_from_dict(data: dict[str, Any]) -> Settings:
    """Validate a configuration mapping; ``IKB_`` environment variables override it."""
    try:
        return Settings(**_laid_over(data, environment_overrides()))
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc)) from None
