"""A3.3 (climate bands) and E3.3 (egg-room condensation) over synthetic days."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.catalogue import load_catalogue
from rules.evidence import EggRoom, Evidence, Farm, House
from rules.params import Params
from rules.sensor.eggroom import condensation_day, dew_point
from rules.sensor_params import ClimateParams, CondensationParams, SensorRules
from rules.sensor.registry import EVALUATORS
from rules.sensor.timeseries import SensorDays, days_between
from tests.synth import AMS, local, measure_sensor, ms, series

CATALOGUE = load_catalogue()
FARM = Farm("De Hoeve", "123456", 52.1, 5.6, "Europe/Amsterdam", (House("1", "barn"),), (EggRoom("E"),))
DAY = date(2026, 7, 6)
SINCE, AT = local(DAY, "00:00"), local(DAY + timedelta(days=2), "00:00")


def spell(base: float, value: float, start: str, minutes: int, day: date = DAY):
    """Return a value function: ``base``, but ``value`` for ``minutes`` from ``start`` on ``day``."""
    a = local(day, start)
    b = a + timedelta(minutes=minutes)
    return lambda t: value if a <= t < b else base


def climate(quantities: dict, params: Params | None = None):
    params = params or Params()
    cp = params.sensor_rules.climate_for("1")
    sensors = {q: (measure_sensor(q, series(SINCE - timedelta(hours=1), AT, fn), SINCE, AT, getattr(cp, q)),)
               for q, fn in quantities.items()}
    evidence = Evidence(farm=FARM, at=AT, since=SINCE, inputs={"climate": {"1": sensors}})
    [f] = EVALUATORS["A3.3"](CATALOGUE.get("A3.3"), evidence, params)
    return f


NORMAL = {"temperature": lambda t: 20.0, "humidity": lambda t: 60.0, "nh3": lambda t: 8.0, "co2": lambda t: 1500.0}


@pytest.mark.parametrize("name, change, expected", [
    ("everything within the bands", {}, "ok"),
    ("2 h at 30 °C", {"temperature": spell(20, 30, "14:00", 120)}, "B"),
    ("2 h at 33 °C", {"temperature": spell(20, 33, "14:00", 120)}, "C"),
    # Heat alone is a heavy deviation; "klimaatregeling werkt niet" needs evidence the control failed.
    ("1 h at 37 °C, no evidence the control failed", {"temperature": spell(20, 37, "14:00", 60)}, "C"),
    ("1 h of 30 ppm ammonia", {"nh3": spell(8, 30, "06:00", 60)}, "D"),
    ("20 min of 22 ppm ammonia is a spike", {"nh3": spell(8, 22, "06:00", 20)}, "ok"),
    ("40 min of 22 ppm ammonia", {"nh3": spell(8, 22, "06:00", 40)}, "B"),
    ("CO2 at 3200 ppm for an hour", {"co2": spell(1500, 3200, "06:00", 60)}, "B"),
    ("CO2 at 6000 ppm", {"co2": spell(1500, 6000, "06:00", 60)}, "D"),
    ("humidity sensor silent for 6 h", {"humidity": lambda t: None if local(DAY, "06:00") <= t < local(DAY, "12:00")
                                        else 60.0}, "unknown"),
])
def test_climate_bands(name, change, expected):
    assert climate({**NORMAL, **change}).status == expected, name


def test_climate_deviation_text_and_occurrence():
    f = climate({**NORMAL, "temperature": spell(20, 33, "14:00", 120)})
    assert f.summary == "Zware afwijkingen/erg stoffig."
    [occ] = f.occurrences
    assert occ.start == local(DAY, "14:00") and occ.end == local(DAY, "16:00")
    assert occ.detail == "temperatuur 33,0 °C (grens 10,0 °C–32,0 °C) gedurende 2 u 00 min"
    f = climate({**NORMAL, "nh3": spell(8, 30, "06:00", 60)})
    assert f.summary == "Ammoniak geur; klimaatregeling werkt niet."


def test_climate_bands_per_house():
    strict = Params(sensor_rules=SensorRules(houses={"1": {"climate": {
        "temperature": {"ok": [18, 24], "light": [10, 32], "heavy": [5, 35]}}}}))
    assert climate({**NORMAL, "temperature": spell(20, 26, "14:00", 120)}, strict).status == "B"
    assert climate({**NORMAL, "temperature": spell(20, 26, "14:00", 120)}).status == "ok"


def test_no_climate_sensors_is_unknown():
    evidence = Evidence(farm=FARM, at=AT, since=SINCE, inputs={"climate": {}})
    [f] = EVALUATORS["A3.3"](CATALOGUE.get("A3.3"), evidence, Params())
    assert f.status == "unknown" and "Geen klimaatsensoren" in f.summary


@settings(max_examples=30, deadline=None)
@given(st.floats(15, 40), st.integers(0, 300), st.sampled_from(["temperature", "nh3", "co2"]),
       st.floats(0.5, 10))
def test_widening_a_band_never_adds_a_deviation(value, minutes, quantity, widen):
    base = {"temperature": 20.0, "nh3": 8.0, "co2": 1500.0}[quantity]
    scale = {"temperature": 1.0, "nh3": 1.0, "co2": 200.0}[quantity]
    quantities = {**NORMAL, quantity: spell(base, value * scale if quantity == "co2" else value, "10:00", minutes)}
    band = getattr(ClimateParams(), quantity)
    wider = band.model_copy(update={"ok": (band.ok[0] - widen, band.ok[1] + widen * scale),
                                    "light": (band.light[0] - widen, band.light[1] + widen * scale),
                                    "heavy": (band.heavy[0] - widen, band.heavy[1] + widen * scale)})
    order = ["ok", "unknown", "B", "C", "D"]
    before = climate(quantities).status
    after = climate(quantities, Params(sensor_rules=SensorRules(climate={quantity: wider.model_dump()}))).status
    assert order.index(after) <= order.index(before) or after == "unknown"


# --------------------------------------------------------------------------- egg room


def test_dew_point_magnus():
    assert dew_point(20.0, 50.0) == pytest.approx(9.26, abs=0.05)
    assert dew_point(20.0, 85.0) == pytest.approx(17.4, abs=0.1)
    assert dew_point(10.0, 100.0) == pytest.approx(10.0, abs=0.01)


def room(air, humidity, probe=None, params: Params | None = None, since=SINCE, at=AT):
    params = params or Params()
    p = params.sensor_rules.condensation_for("E")
    start = since - timedelta(days=1)
    a, h = series(start, at, air), series(start, at, humidity)
    e = series(start, at, probe) if probe else None
    days = [condensation_day(a, h, e, d, 300_000, p) for d in days_between(ms(since), ms(at), time(0), AMS)]
    evidence = Evidence(farm=FARM, at=at, since=since, inputs={"condensation": {"E": (SensorDays("E-air", tuple(days)),)}})
    [f] = EVALUATORS["E3.3"](CATALOGUE.get("E3.3"), evidence, params)
    return f


COLD = lambda t: 8.0  # noqa: E731 - a cold egg store
DRY = lambda t: 70.0  # noqa: E731


@pytest.mark.parametrize("name, air, humidity, probe, expected", [
    ("a cold, steady egg room", COLD, DRY, None, "ok"),
    ("a warm humid spell over cold eggs (probe)", spell(8, 20, "10:00", 180), spell(70, 85, "10:00", 180), COLD, "D"),
    ("a warm humid spell over cold eggs (estimate)", spell(8, 20, "10:00", 180), spell(70, 85, "10:00", 180), None, "D"),
    ("a short warm humid spell (estimate): 20 min, the eggs far below the dew point", spell(8, 20, "10:00", 20),
     spell(70, 85, "10:00", 20), None, "D"),
    ("humid air 0.5 °C above the eggs for 14 min (probe)", COLD, spell(70, 100, "10:00", 14), lambda t: 7.5, "C"),
    ("humid air within the margin, never above the eggs (probe)", COLD, spell(70, 100, "10:00", 120),
     lambda t: 8.5, "ok"),
    ("slow warming keeps the eggs above the dew point", lambda t: 8 + 6 * min(1, max(0, (t - SINCE).total_seconds()
                                                                                   / 86400)), DRY, None, "ok"),
])
def test_egg_room(name, air, humidity, probe, expected):
    assert room(air, humidity, probe).status == expected, name


def test_egg_room_occurrence_says_what_was_measured():
    f = room(spell(8, 20, "10:00", 180), spell(70, 85, "10:00", 180), COLD)
    assert f.summary == "Duidelijke condensvorming."
    [occ] = f.occurrences
    assert occ.start == local(DAY, "10:00") and occ.end == local(DAY, "13:00")
    assert occ.detail == ("eioppervlak 8,0 °C (ei-sonde) onder het dauwpunt 17,4 °C gedurende 3 u 00 min, "
                          "tot 9,4 °C eronder; 3 u 00 min condens die dag")
    f = room(spell(8, 20, "10:00", 20), spell(70, 85, "10:00", 20), None)
    assert f.summary == "Duidelijke condensvorming." and "(geschat)" in f.occurrences[0].detail


def test_egg_estimate_needs_history():
    """Right after a gap the estimated egg temperature is not trusted: the day is unknown."""
    air = lambda t: None if local(DAY, "05:00") <= t < local(DAY, "07:00") else 8.0  # noqa: E731
    f = room(air, DRY, since=SINCE, at=SINCE + timedelta(days=1))
    assert f.status == "unknown"
    params = Params(sensor_rules=SensorRules(condensation=CondensationParams(egg_lag_minutes=20)))
    assert room(air, DRY, params=params, since=SINCE, at=SINCE + timedelta(days=1)).status == "ok"


def test_egg_room_without_sensors():
    evidence = Evidence(farm=FARM, at=AT, since=SINCE, inputs={"condensation": {}})
    [f] = EVALUATORS["E3.3"](CATALOGUE.get("E3.3"), evidence, Params())
    assert (f.location, f.status) == ("E", "unknown")
    farm = Farm("x", "1234", 52.1, 5.6, "Europe/Amsterdam", (House("1", "barn"),))
    assert EVALUATORS["E3.3"](CATALOGUE.get("E3.3"), Evidence(farm=farm, at=AT, since=SINCE,
                                                              inputs={"condensation": {}}), Params()) == []
