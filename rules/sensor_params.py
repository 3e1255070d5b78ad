"""Thresholds of the sensor rules, with their defaults and where the defaults come from.

Embedded in the agent's configuration (``[sensor_rules.*]``, per house in
``[houses.light]``, ``[houses.climate]``, ``[houses.ventilation]`` and per egg
room in ``[egg_rooms.condensation]``); ``docs/SENSOR_RULES.md`` explains every
definition. Each default names its source: the scheme text, EU law, or our own
choice where neither gives a number.
"""

from __future__ import annotations

import hashlib
import json
from datetime import time

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    """Base: unknown keys are errors, so a typo in the configuration is caught."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def fingerprint(self) -> str:
        """Return a short hash of the values, so cached results know what they were computed with."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _parse_hhmm(cls, value: object) -> object:
    """Accept ``"HH:MM"`` text (TOML) as a time of day."""
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("expected a time of day as HH:MM, e.g. 12:00") from None
    return value


class CoverageParams(_Strict):
    """When there is enough data to call a day or a window ``ok`` (never ok without evidence)."""

    # A sample holds until the next one, but never longer than this (or hold_factor × the
    # sensor's interval when that is longer); beyond that the stretch is a gap.
    min_hold_seconds: int = Field(300, ge=10, le=86400)
    hold_factor: float = Field(3.0, ge=1.0, le=100.0)
    # A day is judged `ok` only when at least this share of it is covered by data.
    min_day_coverage: float = Field(0.9, gt=0.0, le=1.0)
    # A window is `ok` only when at least this share of its judged days is ok.
    min_window_coverage: float = Field(0.9, gt=0.0, le=1.0)


class LightParams(_Strict):
    """G3.8.7–G3.8.11: the light schedule."""

    # Lighting days run from this local time to the same time the next day; choose a
    # moment in the light period so that the night's dark period is never split.
    day_start: time = time(12, 0)
    # The night (the dark period as the program gives it) with hysteresis: entered at or below
    # dark_enter_lux, left at or above dark_exit_lux. Above 0.5 lx on purpose: a night at 2 lx must
    # still be a night, or G3.8.10 could never see its light. Dark itself is dark_max_lux or less.
    # Our choice.
    dark_enter_lux: float = Field(5.0, gt=0)
    dark_exit_lux: float = Field(10.0, gt=0)
    # Lit spells shorter than this inside a dark run do not split it (a reading glitch,
    # a torch); their light still counts for G3.8.10.
    interrupt_max_seconds: int = Field(60, ge=0, le=3600)
    # A dark run of at least this length is a dark period (duisterperiode).
    dark_period_min_minutes: int = Field(60, ge=1, le=600)
    # G3.8.7 "ten hoogste 16 uur per dag".
    max_light_hours: float = Field(16.0, gt=0, le=24)
    # G3.8.8 "20 lux"; tolerated minutes below it per day outside dusk and dawn ramps.
    min_light_lux: float = Field(20.0, ge=0)
    low_light_max_minutes: int = Field(15, ge=0, le=1440)
    # G3.8.9 "minimaal 8 aaneengesloten uren".
    min_dark_hours: float = Field(8.0, gt=0, le=24)
    # G3.8.10 "maximaal 0,5 lux"; dark is this or less (G3.8.9 too: dimmed light is not dark).
    # Tolerated minutes above it in the night per day: a dusk of up to an hour from 30 lx and a dawn
    # cross 5 → 0,5 lx in about that time; slower ramps count. Our choice.
    dark_max_lux: float = Field(0.5, ge=0)
    dark_excess_max_minutes: int = Field(15, ge=0, le=1440)
    # G3.8.11 dusk: before a dark period the level stays below dusk_fraction × the level of
    # the hour before the ramp for at least dusk_min_minutes (searched up to dusk_max_minutes).
    dusk_min_minutes: int = Field(10, ge=1, le=240)
    dusk_max_minutes: int = Field(60, ge=1, le=240)
    dusk_fraction: float = Field(0.9, gt=0, lt=1)
    reference_minutes: int = Field(60, ge=5, le=240)
    # Warn before the spring-forward night when the last nights' shortest dark period
    # leaves less than this margin over min_dark_hours.
    spring_margin_hours: float = Field(1.0, ge=0, le=4)
    spring_lookback_nights: int = Field(7, ge=1, le=60)
    # Houses with light openings: daylight may reach the hens while the sun stands above this
    # elevation (degrees; -6 = civil twilight, when outside light is still ~3 lx and a lux sensor
    # behind an opening may read above 0,5 lx). Those hours are not attributed to lamps. Our choice.
    daylight_elevation: float = Field(-6.0, ge=-18, le=10)

    _day_start = field_validator("day_start", mode="before")(_parse_hhmm)

    @model_validator(mode="after")
    def _ordered(self) -> "LightParams":
        if self.dark_exit_lux <= self.dark_enter_lux:
            raise ValueError("dark_exit_lux must be above dark_enter_lux (hysteresis)")
        if self.dusk_max_minutes < self.dusk_min_minutes:
            raise ValueError("dusk_max_minutes must be at least dusk_min_minutes")
        return self


class VentilationParams(_Strict):
    """A3.4: the ventilation alarm panel and the off-farm channel."""

    # The panel must be heard from within this time (every message is a heartbeat).
    heartbeat_timeout_minutes: int = Field(10, ge=1, le=1440)
    # A3.4 interpretation: the alarm must reach the farmer off the farm; we require a
    # delivered channel test within this many calendar months (DESIGN §4: 2).
    channel_test_months: int = Field(2, ge=1, le=24)


class GeneratorParams(_Strict):
    """A3.5: mains outages, the emergency generator and its tests."""

    # The generator must run within this time after the mains fail.
    start_grace_seconds: int = Field(120, ge=5, le=3600)
    # A generator run while mains are present, at least this long, is a test.
    min_test_minutes: int = Field(1, ge=1, le=240)
    # `ok` needs a successful run within A3.6's two months (rules.logbooks.CHECK_MONTHS), and Dutch
    # law's monthly and yearly tests are reminders (rules.sensor.law): one definition each, not settings.
    # One generator for the whole farm (findings farm-wide) or one per house; None: one
    # farm-wide generator when exactly one generator sensor is configured.
    farm_wide: bool | None = None


class Band(_Strict):
    """Limits of one climate quantity: inside ``ok`` is fine, then B, C, and D beyond ``heavy``."""

    ok: tuple[float, float]
    light: tuple[float, float]
    heavy: tuple[float, float]

    @model_validator(mode="after")
    def _nested(self) -> "Band":
        for name in ("ok", "light", "heavy"):
            low, high = getattr(self, name)
            if low > high:
                raise ValueError(f"{name}: low must not exceed high")
        if not (self.heavy[0] <= self.light[0] <= self.ok[0] and self.ok[1] <= self.light[1] <= self.heavy[1]):
            raise ValueError("bands must nest: heavy contains light contains ok")
        return self

    def level(self, value: float) -> int:
        """Return 0 (ok), 1 (light: B), 2 (heavy: C) or 3 (beyond heavy: D) for a value."""
        if self.ok[0] <= value <= self.ok[1]:
            return 0
        if self.light[0] <= value <= self.light[1]:
            return 1
        if self.heavy[0] <= value <= self.heavy[1]:
            return 2
        return 3


class ClimateParams(_Strict):
    """A3.3: climate bands per quantity (B "Lichte afwijkingen", C "Zware afwijkingen",
    D "Ammoniak geur; klimaatregeling werkt niet")."""

    # Our choice (no legal band for adult laying hens): the usual range of layer management
    # guides; set your breed's figures.
    temperature: Band = Band(ok=(15.0, 28.0), light=(10.0, 32.0), heavy=(5.0, 35.0))
    # Directive 2007/43/EC Annex II 3(c) caps the 48 h mean at 70 % RH in cold weather
    # (for broilers); spells are judged here, so the ok band is wider.
    humidity: Band = Band(ok=(40.0, 80.0), light=(30.0, 90.0), heavy=(0.0, 100.0))
    # Directive 2007/43/EC Annex II 3(a): NH3 at most 20 ppm at the birds' heads (the only
    # EU figure for poultry); 25 ppm is the common welfare and occupational limit
    # (e.g. Swedish Board of Agriculture) — beyond it: "Ammoniak geur" (D).
    nh3: Band = Band(ok=(0.0, 20.0), light=(0.0, 25.0), heavy=(0.0, 25.0))
    # Directive 2007/43/EC Annex II 3(a): CO2 at most 3000 ppm; 5000 ppm is the 8-hour
    # occupational exposure limit — beyond it ventilation is failing (D).
    co2: Band = Band(ok=(0.0, 3000.0), light=(0.0, 3500.0), heavy=(0.0, 5000.0))
    # Minutes per day outside a band before the day counts as a deviation (spikes ignored). Our choice.
    min_minutes: int = Field(30, ge=1, le=1440)
    # D evidence where an outside temperature sensor exists (location "outside"): the house above its
    # ok band and at least this much warmer than outside. With the fans at full speed a layer house
    # runs 2–4 °C above outside; 6 °C more means the heat is not carried away. Our choice.
    outside_excess_c: float = Field(6.0, gt=0, le=30)


class CondensationParams(_Strict):
    """E3.3: condensation on the eggs (dew point against the egg surface temperature)."""

    # Risk (a warning for alerts and the dashboard, never a deviation) when the dew point comes within
    # this margin of the egg surface. 1 °C covers the usual sensor error (±0.5 °C, ±3 % RH gives about
    # ±1 °C on the dew point). Our choice.
    margin_c: float = Field(1.0, ge=0, le=10)
    # Without an egg probe the egg surface follows the air with this first-order time constant
    # (eggs in trays/cartons: hours).
    egg_lag_minutes: int = Field(180, ge=1, le=2880)
    # A deviation needs the egg surface at or below the dew point, sustained: a spell counts from this many
    # minutes (shorter ones are sensor noise) → C "Beperkte condensvorming". Our choice.
    c_minutes: int = Field(5, ge=1, le=1440)
    # D "Duidelijke condensvorming": sustained spells adding up to this many minutes in a day, or one
    # sustained spell with the dew point at least d_depth_c above the egg surface (beyond the sensor
    # error: clearly wet). Our choice.
    d_minutes: int = Field(60, ge=1, le=1440)
    d_depth_c: float = Field(1.0, gt=0, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> "CondensationParams":
        if self.d_minutes < self.c_minutes:
            raise ValueError("d_minutes must be at least c_minutes")
        return self


class FreeRangeParams(_Strict):
    """H3.12.8 and H3.12.11: access to the free-range area and the housing order."""

    # H3.12.8 "dagelijks vanaf 10 uur tot zonsondergang".
    access_from: time = time(10, 0)
    # Minutes per day the pop-holes may be closed inside that interval before the day
    # counts as "binnen" (opening a little late, closing just before sunset).
    closed_max_minutes: int = Field(30, ge=0, le=600)
    # One day inside → C ("op dag controle niet buiten"), this many → D ("meerdere dagen").
    d_days: int = Field(2, ge=1, le=60)
    # H3.12.11 "in geen geval gedurende meer dan zestien weken"; warn from week 12.
    housing_order_max_weeks: int = Field(16, ge=1, le=52)
    housing_order_warn_weeks: int = Field(12, ge=1, le=52)

    _access_from = field_validator("access_from", mode="before")(_parse_hhmm)


class HouseRules(_Strict):
    """Per-house overrides (already merged over the farm-wide values)."""

    light: LightParams | None = None
    climate: ClimateParams | None = None
    ventilation: VentilationParams | None = None


class FarmSensorRules(_Strict):
    """The farm-wide sensor-rule thresholds (``[sensor_rules.*]`` in the configuration)."""

    coverage: CoverageParams = CoverageParams()
    light: LightParams = LightParams()
    ventilation: VentilationParams = VentilationParams()
    generator: GeneratorParams = GeneratorParams()
    climate: ClimateParams = ClimateParams()
    condensation: CondensationParams = CondensationParams()
    free_range: FreeRangeParams = FreeRangeParams()


# Sections a house (or egg room) may override, and the model each one has.
HOUSE_OVERRIDES = {"light": LightParams, "climate": ClimateParams, "ventilation": VentilationParams}
EGG_ROOM_OVERRIDES = {"condensation": CondensationParams}


def merged(defaults: dict, *layers: dict | None) -> dict:
    """Return ``defaults`` with each layer laid over it, nested tables merged key by key."""
    out = dict(defaults)
    for layer in layers:
        for key, value in (layer or {}).items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = merged(out[key], value)
            else:
                out[key] = value
    return out


class SensorRules(FarmSensorRules):
    """Every sensor-rule threshold: farm-wide values plus per-house and per-egg-room overrides."""

    houses: dict[str, HouseRules] = Field(default_factory=dict)
    egg_rooms: dict[str, CondensationParams] = Field(default_factory=dict)

    def light_for(self, house: str) -> LightParams:
        """Return the light thresholds of one house."""
        override = self.houses.get(house)
        return override.light if override and override.light else self.light

    def climate_for(self, house: str) -> ClimateParams:
        """Return the climate bands of one house."""
        override = self.houses.get(house)
        return override.climate if override and override.climate else self.climate

    def ventilation_for(self, house: str) -> VentilationParams:
        """Return the ventilation-alarm thresholds of one house."""
        override = self.houses.get(house)
        return override.ventilation if override and override.ventilation else self.ventilation

    def condensation_for(self, room: str) -> CondensationParams:
        """Return the condensation thresholds of one egg room."""
        return self.egg_rooms.get(room) or self.condensation
