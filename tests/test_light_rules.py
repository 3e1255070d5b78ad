"""G3.8.7–G3.8.11 over synthetic lighting days: one table row per situation a farmer meets."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.catalogue import load_catalogue
from rules.engine import evaluate
from rules.evidence import Evidence, Farm, House
from rules.params import Params
from rules.sensor.light import LIGHT_RULES, light_days, next_spring_forward, spring_forward_dues
from rules.sensor_params import LightParams, SensorRules
from rules.sensor.registry import EVALUATORS
from rules.sensor.timeseries import SensorDays
from tests.synth import AMS, light_samples, local, ms

FARM = Farm("De Hoeve", "123456", 52.1, 5.6, "Europe/Amsterdam", (House("1", "barn"),))
HOLD = 5 * 60_000
RULES = tuple(LIGHT_RULES)
CATALOGUE = load_catalogue()


def window(first: date, days: int):
    """Return (since, at) spanning whole lighting days from noon on ``first``."""
    return local(first, "12:00"), local(first + timedelta(days=days), "12:00")


def judge(samples, first: date, days: int, params: Params | None = None, at: datetime | None = None,
          farm: Farm = FARM) -> dict:
    """Return {rule: finding} for house 1 over the given lighting days."""
    params = params or Params()
    since, end = window(first, days)
    at = at or end
    p = params.sensor_rules.light_for("1")
    lds = light_days(samples, ms(since), ms(at), HOLD, p, AMS)
    evidence = Evidence(farm=farm, at=at, since=since, inputs={"light": {"1": (SensorDays("lux-1", tuple(lds)),)}})
    out = {}
    for rule_id in RULES:
        [finding] = EVALUATORS[rule_id](CATALOGUE.get(rule_id), evidence, params)
        out[rule_id] = finding
    return out


def statuses(findings: dict) -> dict:
    return {rule: f.status for rule, f in findings.items()}


ALL_OK = {r: "ok" for r in RULES}
JAN = date(2026, 1, 12)


@pytest.mark.parametrize("name, program, expected", [
    ("clean program", {}, ALL_OK),
    ("7.5 h dark", {"off": "20:30", "on": "04:00"}, {**ALL_OK, "G3.8.9": "D", "G3.8.7": "D"}),
    # Dimmed light is not dark: a night at 2 lux has no dark period and 24 h of light.
    ("2 lux in the dark", {"lux_dark": 2.0}, {**ALL_OK, "G3.8.10": "D", "G3.8.9": "D", "G3.8.7": "D"}),
    ("lights cut at once", {"dusk": 0}, {**ALL_OK, "G3.8.11": "D"}),
    ("15 lux light period", {"lux_on": 15.0, "dusk": 25}, {**ALL_OK, "G3.8.8": "D"}),
    ("17 h light", {"on": "03:30", "off": "20:30"}, {**ALL_OK, "G3.8.7": "D", "G3.8.9": "D"}),
    ("a long slow dusk", {"dusk": 45}, ALL_OK),
    ("a night light of 0.4 lux", {"lux_dark": 0.4}, ALL_OK),
    ("a 3-minute light in the night", {"off": "19:45", "extra": ("23:00", "23:03", 40.0)},
     {**ALL_OK, "G3.8.9": "D"}),
    ("a 30-second glitch in the night", {"extra": ("23:00", "23:00:30", 40.0)}, ALL_OK),
])
def test_light_rules_over_three_days(name, program, expected):
    extra = program.pop("extra", None)
    samples = light_samples(JAN, 3, step_s=30 if extra else 60, **program)
    if extra:
        samples = _with_light(samples, extra)
    assert statuses(judge(samples, JAN, 3)) == expected, name


def _with_light(samples, extra):
    """Overlay a lit spell on each night of the samples."""
    start, end, value = extra
    out = []
    for t, v in samples:
        lt = datetime.fromtimestamp(t / 1000, AMS)
        hhmmss = lt.strftime("%H:%M:%S")
        out.append((t, value if start <= hhmmss < (end if len(end) > 5 else end + ":00") else v))
    return out


def test_deviations_carry_the_seed_text_and_what_was_measured():
    found = judge(light_samples(JAN, 3, off="20:30"), JAN, 3)
    g389 = found["G3.8.9"]
    assert g389.summary == CATALOGUE.get("G3.8.9").deviation_text("D")
    assert len(g389.occurrences) == 3
    occ = g389.occurrences[0]
    assert occ.start.astimezone(AMS).strftime("%H:%M") == "20:30"  # dark is 0,5 lux or less: no earlier
    assert "langste ononderbroken donkerperiode 7 u" in occ.detail and "(min. 8 u 00 min)" in occ.detail
    g3810 = judge(light_samples(JAN, 1, lux_dark=2.0), JAN, 1)["G3.8.10"]
    assert g3810.summary == "Lichtsterkte > 0,5 lux"
    # The whole night counts, the dusk's last minutes below 5 lux included.
    assert g3810.occurrences[0].detail == "gemiddeld 2,0 lux, hoogste 4,8 lux (max. 0,5 lux) gedurende 8 u 04 min"
    g388 = judge(light_samples(JAN, 1, lux_on=12.0, dusk=30), JAN, 1)["G3.8.8"]
    assert "gemiddeld 12,0 lux, laagste 10,8 lux (min. 20,0 lux)" in g388.occurrences[0].detail


def test_ok_summaries_say_what_was_measured():
    found = judge(light_samples(JAN, 3), JAN, 3)
    assert found["G3.8.9"].summary.startswith("Voldoet: kortste donkerperiode 8 u")
    assert "3 van 3 dagen" in found["G3.8.9"].summary
    assert found["G3.8.7"].evidence == "Luxsensor lux-1; 3 dagen beoordeeld"
    one = judge(light_samples(JAN, 1), JAN, 1)  # a fresh install: one day, in the singular
    assert "(1 van 1 dag gemeten)" in one["G3.8.9"].summary and one["G3.8.7"].evidence.endswith("; 1 dag beoordeeld")


def test_spring_forward_night_is_a_deviation_for_that_night_only():
    """A wall-clock program gives 8 h of dark, but 7 h on the night the clocks go forward."""
    first = date(2026, 3, 26)  # the clocks go forward in the night of 28 to 29 March 2026
    found = judge(light_samples(first, 5), first, 5)
    assert statuses(found) == {**ALL_OK, "G3.8.9": "D"}
    [occ] = found["G3.8.9"].occurrences
    assert occ.start.astimezone(AMS).date() == date(2026, 3, 28)
    assert "7 u 0" in occ.detail and "dag van 23 u 00 min" in occ.detail


def test_fall_back_night_is_fine():
    first = date(2026, 10, 23)  # back in the night of 24 to 25 October 2026
    assert statuses(judge(light_samples(first, 4), first, 4)) == ALL_OK


def test_warning_before_the_spring_forward_night():
    first = date(2026, 3, 10)
    since, at = window(first, 10)
    params = Params()
    lds = light_days(light_samples(first, 10), ms(since), ms(at), HOLD, params.sensor_rules.light, AMS)
    evidence = Evidence(farm=FARM, at=at, since=since, inputs={"light": {"1": (SensorDays("lux-1", tuple(lds)),)}})
    [due] = spring_forward_dues(evidence, params)
    assert (due.rule, due.location, due.due) == ("G3.8.9", "1", date(2026, 3, 28))
    assert "Zomertijd in de nacht van 2026-03-28 op 2026-03-29" in due.what and "kortste donkerperiode" in due.what
    # A program with 9.5 h of dark leaves enough margin: no warning.
    lds = light_days(light_samples(first, 10, off="19:00", on="04:30"), ms(since), ms(at), HOLD,
                     params.sensor_rules.light, AMS)
    evidence = Evidence(farm=FARM, at=at, since=since, inputs={"light": {"1": (SensorDays("lux-1", tuple(lds)),)}})
    assert spring_forward_dues(evidence, params) == []
    # The whole engine lists it among what falls due.
    result = evaluate(CATALOGUE, Evidence(farm=FARM, at=at, since=since, inputs={
        "light": {"1": (SensorDays("lux-1", tuple(light_days(light_samples(first, 10), ms(since), ms(at), HOLD,
                                                              params.sensor_rules.light, AMS))),)}}))
    assert any(d.rule == "G3.8.9" and d.due == date(2026, 3, 28) for d in result.due)


def test_next_spring_forward():
    assert next_spring_forward(AMS, date(2026, 3, 1), 60) == (date(2026, 3, 29), timedelta(hours=1))
    assert next_spring_forward(AMS, date(2026, 4, 1), 60) is None


def test_a_four_hour_gap_in_the_night_is_unknown():
    gap = ((local(JAN, "23:00"), local(JAN + timedelta(days=1), "03:00")),)
    found = judge(light_samples(JAN, 1, gaps=gap), JAN, 1)
    assert found["G3.8.9"].status == "unknown"
    assert found["G3.8.9"].summary.startswith("Onvoldoende gegevens")
    [occ] = found["G3.8.9"].occurrences
    assert occ.detail == "geen metingen gedurende 4 u 01 min"
    assert occ.start == gap[0][0] - timedelta(minutes=1)  # the last reading, 22:59
    # 4 h of light in the gap would give 19 h: the light total is unknown too.
    assert found["G3.8.7"].status == "unknown"


def test_a_gap_does_not_hide_a_proven_deviation():
    gap = ((local(JAN, "23:00"), local(JAN + timedelta(days=1), "01:00")),)
    found = judge(light_samples(JAN, 1, lux_dark=2.0, off="21:00", on="03:00", gaps=gap), JAN, 1)
    assert found["G3.8.10"].status == "D"
    # 6 h of dark plus a 2 h gap cannot reach 8 h either.
    assert found["G3.8.9"].status == "D"


def test_no_lux_sensor_is_unknown_and_no_light_input_defers_to_the_engine():
    evidence = Evidence(farm=FARM, at=window(JAN, 1)[1], since=window(JAN, 1)[0], inputs={"light": {}})
    [f] = EVALUATORS["G3.8.9"](CATALOGUE.get("G3.8.9"), evidence, Params())
    assert (f.status, f.summary) == ("unknown", "Geen luxsensor geconfigureerd in stal 1.")
    assert EVALUATORS["G3.8.9"](CATALOGUE.get("G3.8.9"), Evidence(farm=FARM, at=evidence.at, since=evidence.since),
                                Params()) == []


def test_the_running_day_counts_only_for_proven_deviations():
    first = JAN
    samples = light_samples(first, 3, lux_dark=2.0)
    # Evaluate at 23:30 on the third lighting day: 3.5 h into its night at 2 lux.
    at = local(first + timedelta(days=2), "23:30")
    found = judge(samples, first, 2, at=at)
    assert found["G3.8.10"].status == "D"
    days = {o.start.astimezone(AMS).date() for o in found["G3.8.10"].occurrences}
    assert date(2026, 1, 14) in days
    clean = judge(light_samples(first, 3), first, 2, at=at)
    assert statuses(clean) == ALL_OK


def test_two_sensors_the_worst_place_counts():
    since, at = window(JAN, 2)
    p = LightParams()
    good = light_days(light_samples(JAN, 2), ms(since), ms(at), HOLD, p, AMS)
    dim = light_days(light_samples(JAN, 2, lux_on=15.0, dusk=30), ms(since), ms(at), HOLD, p, AMS)
    silent = light_days([], ms(since), ms(at), HOLD, p, AMS)
    evidence = Evidence(farm=FARM, at=at, since=since, inputs={"light": {"1": (
        SensorDays("a", tuple(good)), SensorDays("b", tuple(dim)))}})
    [f] = EVALUATORS["G3.8.8"](CATALOGUE.get("G3.8.8"), evidence, Params())
    assert f.status == "D"
    evidence = Evidence(farm=FARM, at=at, since=since, inputs={"light": {"1": (
        SensorDays("a", tuple(good)), SensorDays("b", tuple(silent)))}})
    [f] = EVALUATORS["G3.8.8"](CATALOGUE.get("G3.8.8"), evidence, Params())
    assert f.status == "unknown"


def test_per_house_thresholds():
    strict = Params(sensor_rules=SensorRules(houses={"1": {"light": {"min_dark_hours": 9}}}))
    assert judge(light_samples(JAN, 2), JAN, 2, params=strict)["G3.8.9"].status == "D"
    assert judge(light_samples(JAN, 2), JAN, 2)["G3.8.9"].status == "ok"


def test_day_start_is_configurable():
    """A lighting day from 12:00 keeps the night whole; one from 00:00 would cut it in two."""
    midnight = Params(sensor_rules=SensorRules(light={"day_start": "00:00"}))
    since, at = local(JAN, "00:00"), local(JAN + timedelta(days=3), "00:00")
    lds = light_days(light_samples(JAN, 3), ms(since), ms(at), HOLD, midnight.sensor_rules.light, AMS)
    assert [d.day for d in lds] == [JAN, JAN + timedelta(days=1), JAN + timedelta(days=2)]
    assert all((d.end - d.start) == 86_400_000 for d in lds)
    evidence = Evidence(farm=FARM, at=at, since=since, inputs={"light": {"1": (SensorDays("x", tuple(lds)),)}})
    [f] = EVALUATORS["G3.8.9"](CATALOGUE.get("G3.8.9"), evidence, midnight)
    assert f.status == "D"


def test_light_day_round_trips_through_json():
    since, at = window(JAN, 1)
    [d] = light_days(light_samples(JAN, 1, lux_dark=2.0), ms(since), ms(at), HOLD, LightParams(), AMS)
    from rules.sensor.light import LightDay

    assert LightDay.from_json(d.to_json()) == d


# --------------------------------------------------------------------------- properties

programs = st.fixed_dictionaries({
    "on": st.sampled_from(["03:00", "04:00", "04:30", "05:00", "06:00"]),
    "off": st.sampled_from(["19:00", "20:00", "20:30", "21:00", "22:00"]),
    "lux_on": st.sampled_from([8.0, 15.0, 25.0, 40.0]),
    "lux_dark": st.sampled_from([0.0, 0.3, 1.0, 3.0]),
    "dusk": st.sampled_from([0, 5, 15, 30]),
    "dawn": st.sampled_from([0, 15]),
})
gap_list = st.lists(st.tuples(st.integers(0, 3 * 24 * 60), st.integers(5, 8 * 60)), max_size=4)


def _gaps(spec):
    base = local(JAN, "12:00")
    return tuple((base + timedelta(minutes=a), base + timedelta(minutes=a + n)) for a, n in spec)


def _coverage_by_day(samples, first, days):
    """Independently measure each lighting day's covered share (a sample covers ≤ HOLD)."""
    out = []
    for i in range(days):
        lo, hi = ms(local(first + timedelta(days=i), "12:00")), ms(local(first + timedelta(days=i + 1), "12:00"))
        covered = 0
        ts = [t for t, _v in samples]
        for k, t in enumerate(ts):
            nxt = ts[k + 1] if k + 1 < len(ts) else t + HOLD
            s, e = max(t, lo), min(nxt, t + HOLD, hi)
            covered += max(0, e - s)
        out.append(covered / (hi - lo))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, gap_list)
def test_missing_data_never_yields_ok(program, gaps):
    """An ok finding always rests on enough days that were covered enough."""
    samples = light_samples(JAN, 3, gaps=_gaps(gaps), **program)
    found = judge(samples, JAN, 3)
    cov = Params().sensor_rules.coverage
    covered = [c >= cov.min_day_coverage for c in _coverage_by_day(samples, JAN, 3)]
    for f in found.values():
        if f.status == "ok":
            assert sum(covered) >= cov.min_window_coverage * 3 - 1e-9, (f.rule, covered)
    if gaps == [] or sum(covered) == 3:
        return
    empty = judge([], JAN, 3)
    assert all(f.status == "unknown" for f in empty.values())


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, gap_list, st.integers(1, 30))
def test_shifting_by_whole_days_changes_nothing(program, gaps, shift):
    """Moving every reading by whole days (no DST change in between) gives the same statuses."""
    samples = light_samples(JAN, 3, gaps=_gaps(gaps), **program)
    moved = [(t + shift * 86_400_000, v) for t, v in samples]
    assert statuses(judge(samples, JAN, 3)) == statuses(judge(moved, JAN + timedelta(days=shift), 3))


LOOSER = {
    "max_light_hours": 1.0, "low_light_max_minutes": 60, "dark_max_lux": 1.0, "dark_excess_max_minutes": 30,
    "min_light_lux": -8.0, "min_dark_hours": -1.0, "dusk_min_minutes": -5,
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, gap_list, st.sampled_from(sorted(LOOSER)))
def test_loosening_a_threshold_never_adds_a_deviation(program, gaps, key):
    """Raising a maximum (or lowering a minimum) can only remove deviations."""
    samples = light_samples(JAN, 2, gaps=_gaps(gaps), **program)
    base = LightParams()
    looser = base.model_copy(update={key: max(getattr(base, key) + LOOSER[key], 1 if "minutes" in key else 0.1)})
    before = statuses(judge(samples, JAN, 2))
    after = statuses(judge(samples, JAN, 2, params=Params(sensor_rules=SensorRules(light=looser))))
    for rule, status in after.items():
        if status == "D":
            assert before[rule] == "D", (rule, key)


def test_a_utc_fixed_program_over_the_fall_back_day_is_fine():
    """A controller on UTC (or the sun) shows 16 h 40 of light in the 25-hour local day, never > 16 h per 24 h."""
    first = date(2026, 10, 23)
    samples = light_samples(first, 4, tz=ZoneInfo("UTC"), on="03:00", off="19:00")
    found = judge(samples, first, 4)
    assert found["G3.8.7"].status == "ok", found["G3.8.7"].occurrences
    assert statuses(found) == ALL_OK
