"""Properties of the sensor rules beyond light (tests/test_light_rules.py has light's):
missing data never yields ok; whole-day shifts change nothing; loosening a threshold adds no deviation."""

from __future__ import annotations

from datetime import date, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.catalogue import load_catalogue
from rules.evidence import EggRoom, Evidence, Farm, House
from rules.kinds import VENTILATION_OK
from rules.params import Params
from rules.sensor.eggroom import condensation_day
from rules.sensor_params import SensorRules
from rules.sensor.registry import EVALUATORS
from rules.sensor.timeseries import SensorDays, days_between
from rules.sensor.ventilation import AlertChannels, ChannelTest
from tests.synth import AMS, local, measure_sensor, ms, series, state_samples, state_sensor

CATALOGUE = load_catalogue()
FARM = Farm("De Hoeve", "123456", 52.1, 5.6, "Europe/Amsterdam", (House("1", "barn"),), (EggRoom("E"),))
FIRST = date(2026, 1, 5)
DAYS = 3
DEVIATIONS = {"B", "C", "D", "KO"}
SLOW = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])

spells = st.lists(st.tuples(st.integers(0, DAYS * 1440 - 1), st.integers(1, 600), st.floats(-5, 45)), max_size=3)
holes = st.lists(st.tuples(st.integers(0, DAYS * 1440 - 1), st.integers(1, 900)), max_size=3)


def _fn(first, spell_list, hole_list, base):
    """Return a reading function: ``base``, the spells' values, and no reading in the holes."""
    origin = local(first, "00:00")

    def value(t):
        minute = (t - origin).total_seconds() / 60
        if any(a <= minute < a + n for a, n in hole_list):
            return None
        for a, n, v in spell_list:
            if a <= minute < a + n:
                return v
        return base
    return value


def climate_status(first, spell_list, hole_list, params=None):
    params = params or Params()
    since, at = local(first, "00:00"), local(first + timedelta(days=DAYS), "00:00")
    band = params.sensor_rules.climate_for("1").temperature
    samples = series(since - timedelta(hours=1), at, _fn(first, spell_list, hole_list, 20.0))
    days = measure_sensor("t", samples, since, at, band)
    evidence = Evidence(farm=FARM, at=at, since=since, inputs={"climate": {"1": {"temperature": (days,)}}})
    [f] = EVALUATORS["A3.3"](CATALOGUE.get("A3.3"), evidence, params)
    return f.status, days


@settings(max_examples=30, **SLOW)
@given(spells, holes)
def test_climate_ok_needs_covered_days(spell_list, hole_list):
    status, days = climate_status(FIRST, spell_list, hole_list)
    if status == "ok":
        covered = [d.coverage >= 0.9 for d in days.days]
        assert sum(covered) >= 0.9 * len(covered)


@settings(max_examples=20, **SLOW)
@given(spells, holes, st.integers(1, 40))
def test_climate_shift_by_whole_days(spell_list, hole_list, shift):
    assert climate_status(FIRST, spell_list, hole_list)[0] == \
        climate_status(FIRST + timedelta(days=shift), spell_list, hole_list)[0]


def room_status(first, spell_list, hole_list, params=None):
    params = params or Params()
    p = params.sensor_rules.condensation_for("E")
    since, at = local(first, "00:00"), local(first + timedelta(days=DAYS), "00:00")
    start = since - timedelta(days=1)
    air = series(start, at, _fn(first, spell_list, hole_list, 8.0))
    hum = series(start, at, _fn(first, [(a, n, 85.0) for a, n, _v in spell_list], hole_list, 70.0))
    days = [condensation_day(air, hum, None, d, 300_000, p) for d in days_between(ms(since), ms(at), time(0), AMS)]
    evidence = Evidence(farm=FARM, at=at, since=since,
                        inputs={"condensation": {"E": (SensorDays("E", tuple(days)),)}})
    [f] = EVALUATORS["E3.3"](CATALOGUE.get("E3.3"), evidence, params)
    return f.status, days


@settings(max_examples=25, **SLOW)
@given(spells, holes)
def test_egg_room_ok_needs_covered_days(spell_list, hole_list):
    status, days = room_status(FIRST, spell_list, hole_list)
    if status == "ok":
        assert sum(d.coverage >= 0.9 for d in days) >= 0.9 * len(days)


@settings(max_examples=15, **SLOW)
@given(spells, holes, st.integers(1, 40))
def test_egg_room_shift_by_whole_days(spell_list, hole_list, shift):
    assert room_status(FIRST, spell_list, hole_list)[0] == \
        room_status(FIRST + timedelta(days=shift), spell_list, hole_list)[0]


@settings(max_examples=20, **SLOW)
@given(spells, holes, st.integers(1, 120), st.floats(0, 3))
def test_egg_room_looser_thresholds_add_no_deviation(spell_list, hole_list, more_minutes, less_margin):
    before = room_status(FIRST, spell_list, hole_list)[0]
    base = SensorRules().condensation
    looser = base.model_copy(update={"c_minutes": base.c_minutes + more_minutes,
                                     "d_minutes": base.d_minutes + more_minutes,
                                     "margin_c": max(0.0, base.margin_c - less_margin)})
    after = room_status(FIRST, spell_list, hole_list, Params(sensor_rules=SensorRules(condensation=looser)))[0]
    assert after not in DEVIATIONS or before in DEVIATIONS


@settings(max_examples=30, **SLOW)
@given(holes, st.integers(1, 60))
def test_a_panel_not_heard_is_never_ok(hole_list, timeout):
    """A silence longer than the heartbeat timeout is never ok (D, or unknown when nobody was heard)."""
    since, at = local(FIRST, "00:00"), local(FIRST + timedelta(days=DAYS), "00:00")
    origin = since
    silences = tuple((origin + timedelta(minutes=a), origin + timedelta(minutes=a + n)) for a, n in hole_list)
    samples = state_samples([(since - timedelta(days=1), VENTILATION_OK)], at, silences=silences)
    params = Params(sensor_rules=SensorRules(ventilation={"heartbeat_timeout_minutes": timeout}))
    sensor = state_sensor("paneel", samples, since, at, hold_s=timeout * 60)
    channels = AlertChannels(("x",), (ChannelTest("x", at - timedelta(days=1), True),))
    evidence = Evidence(farm=FARM, at=at, since=since, inputs={"ventilation_alarm": {"1": (sensor,)},
                                                               "alert_channels": channels})
    [f] = EVALUATORS["A3.4"](CATALOGUE.get("A3.4"), evidence, params)
    ts = [t for t, _v in samples if ms(since) - timeout * 60_000 <= t < ms(at)]
    longest = max((b - a for a, b in zip(ts, ts[1:] + [ms(at)])), default=ms(at) - ms(since))
    if longest > timeout * 60_000:
        assert f.status == "D", (longest, timeout)
    else:
        assert f.status == "ok"
