"""Issue 11, "where a real barn differs from the textbook": one test per case, named after it.

Each case is built by hand from the seed and the law, run through the evaluators, and checked on
the status and on the occurrence text the farmer and the auditor read.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone

import pytest

from rules.catalogue import load_catalogue
from rules.evidence import Evidence, Farm, House
from rules.params import Params
from rules.sensor.light import LAMP_SCALE, light_days, sun_intervals
from rules.sensor.registry import EVALUATORS
from rules.sensor.timeseries import SensorDays
from tests.synth import AMS, light_samples, local, ms, series

CATALOGUE = load_catalogue()
HOLD = 5 * 60_000
LIGHT = ("G3.8.7", "G3.8.8", "G3.8.9", "G3.8.10", "G3.8.11")


def lighting(lux=None, lamps=None, *, first: date, days: int, daylight: bool = False, params: Params | None = None):
    """Return {rule: finding} for house 1 over whole lighting days from noon on ``first``."""
    params = params or Params()
    p = params.sensor_rules.light_for("1")
    farm = Farm("De Hoeve", "123456", 52.1, 5.6, "Europe/Amsterdam", (House("1", "barn", daylight=daylight),))
    since, at = local(first, "12:00"), local(first + timedelta(days=days), "12:00")
    lo, hi = ms(since) - 86_400_000, ms(at)
    sun = sun_intervals(farm.latitude, farm.longitude, lo - 86_400_000, hi + 86_400_000,
                        p.daylight_elevation) if daylight else ()
    inputs = {"light": {"1": (SensorDays("lux", tuple(light_days(lux or [], lo, hi, HOLD, p, AMS, sun=sun))),)},
              "lamps": {"1": ()}}
    if lamps is not None:
        inputs["lamps"]["1"] = (SensorDays("lamp", tuple(light_days(lamps, lo, hi, HOLD, p, AMS,
                                                                    scale=LAMP_SCALE))),)
    evidence = Evidence(farm=farm, at=at, since=since, inputs=inputs)
    return {r: EVALUATORS[r](CATALOGUE.get(r), evidence, params)[0] for r in LIGHT}


def details(finding) -> list[str]:
    return [o.detail for o in finding.occurrences]


# --------------------------------------------------------------------------- false ok on the dark period

FEB = date(2026, 2, 9)


def slow_ramps(t: datetime) -> float:
    """30 lx by day; 19:00–20:00 falling slowly 5 → 0,6 lx; 6 h at 0,3 lx; 02:00–03:00 rising 0,6 → 5; then light."""
    lt = t.astimezone(AMS)
    m = lt.hour * 60 + lt.minute
    if 19 * 60 <= m < 20 * 60:
        return 5.0 - (5.0 - 0.6) * (m - 19 * 60) / 60
    if m >= 20 * 60 or m < 2 * 60:
        return 0.3
    if 2 * 60 <= m < 3 * 60:
        return 0.6 + (5.0 - 0.6) * (m - 2 * 60) / 60
    if 18 * 60 + 40 <= m < 19 * 60:  # a dusk down to the ramp
        return 30.0 - 25.0 * (m - 18 * 60 - 40) / 20
    if 3 * 60 <= m < 3 * 60 + 15:  # a dawn up from it
        return 5.0 + 25.0 * (m - 3 * 60) / 15
    return 30.0


def test_false_ok_on_the_dark_period_slow_ramp_tails_count():
    """6 h at 0,3 lx between two hours of slowly changing 0,6–5 lx: an auditor's lux meter reads them."""
    found = lighting(series(local(FEB, "00:00") - timedelta(days=2), local(FEB, "00:00") + timedelta(days=4),
                            slow_ramps), first=FEB, days=2)
    assert found["G3.8.9"].status == "D"
    assert details(found["G3.8.9"])[0] == "langste ononderbroken donkerperiode 6 u 00 min (min. 8 u 00 min)"
    assert found["G3.8.10"].status == "D"
    falling, rising = details(found["G3.8.10"])[:2]
    assert falling == "gemiddeld 2,8 lux, hoogste 5,0 lux (max. 0,5 lux) gedurende 1 u 00 min"
    assert rising == "gemiddeld 2,8 lux, hoogste 5,0 lux (max. 0,5 lux) gedurende 1 u 01 min"


def test_plain_cases_stay_right_0_4_vs_0_6_lux():
    """0,4 lx in the night is dark; 0,6 lx is not (and is light in the dark period)."""
    assert {r: f.status for r, f in lighting(light_samples(FEB, 2, lux_dark=0.4), first=FEB, days=2).items()} == \
        {r: "ok" for r in LIGHT}
    found = lighting(light_samples(FEB, 2, lux_dark=0.6), first=FEB, days=2)
    assert (found["G3.8.10"].status, found["G3.8.9"].status) == ("D", "D")
    assert details(found["G3.8.9"])[0] == "geen donkerperiode (min. 8 u 00 min)"


# --------------------------------------------------------------------------- false ok after a program change


def moved_program(t: datetime) -> float | None:
    """Dark 20:00–04:00 until noon on 10 February, then 00:00–08:00: the lamps burn 04:00–00:00 once."""
    change = local(FEB + timedelta(days=1), "12:00")
    lt = t.astimezone(AMS)
    m = lt.hour * 60 + lt.minute
    if t < change:
        return 0.0 if (m >= 20 * 60 or m < 4 * 60) else 30.0
    return 0.0 if m < 8 * 60 else 30.0


def test_false_ok_after_a_program_change_burns_20_hours():
    """Moving the night from 20–04 to 00–08: each lighting day shows 16 h, the hens get 20 h in one stretch."""
    found = lighting(series(local(FEB, "00:00") - timedelta(days=2), local(FEB, "00:00") + timedelta(days=5),
                            moved_program), first=FEB, days=3)
    g387, g389 = found["G3.8.7"], found["G3.8.9"]
    assert (g387.status, g389.status) == ("D", "D")
    [occ] = g389.occurrences
    assert occ.detail == ("20 u 00 min licht tussen twee donkerperiodes: binnen 24 u geen 8 u 00 min "
                          "aaneengesloten donker")
    assert (occ.start, occ.end) == (local(FEB + timedelta(days=1), "04:00"), local(FEB + timedelta(days=2), "00:00"))
    assert details(g387) == ["aaneengesloten licht 20 u 00 min (max. 16 u 00 min), over de grens van de lichtdag"]


def test_a_short_night_is_reported_once_not_again_by_the_24_hour_rule():
    found = lighting(light_samples(FEB, 3, off="20:30"), first=FEB, days=3)
    assert all(d.startswith("langste ononderbroken donkerperiode 7 u") for d in details(found["G3.8.9"]))


# --------------------------------------------------------------------------- daylight read as lamps

JUNE = date(2026, 6, 15)


def june_barn(t: datetime) -> float:
    """A barn with light openings: the lamps 04:00–20:00 (30 lx), and daylight from civil dawn to civil dusk."""
    lt = t.astimezone(AMS)
    m = lt.hour * 60 + lt.minute
    lamps = 30.0 if 4 * 60 <= m < 20 * 60 else 0.0
    # Daylight through the openings: 40 lx by day, fading over the hour around sunrise (05:20) and sunset (22:00).
    if 5 * 60 + 20 <= m < 22 * 60:
        day = 40.0
    elif 22 * 60 <= m < 22 * 60 + 50:
        day = 40.0 * (1 - (m - 22 * 60) / 50)
    elif 4 * 60 + 30 <= m < 5 * 60 + 20:
        day = 40.0 * (m - 4 * 60 - 30) / 50
    else:
        day = 0.0
    return max(lamps, day)


def june_lamps(t: datetime) -> float:
    """The lamp controller: on 04:00–20:00, dimming from 100 % to 0 over the last 20 minutes."""
    lt = t.astimezone(AMS)
    m = lt.hour * 60 + lt.minute
    if 4 * 60 <= m < 19 * 60 + 40:
        return 100.0
    if 19 * 60 + 40 <= m < 20 * 60:
        return 100.0 * (20 * 60 - m) / 20
    return 0.0


def june(fn):
    return series(local(JUNE, "00:00") - timedelta(days=2), local(JUNE, "00:00") + timedelta(days=4), fn)


def test_daylight_read_as_lamps_is_no_deviation():
    """A June barn with light openings and a compliant 16/8 lamp program."""
    # Without the scheme's "kunstmatige verlichting" in mind: 17 h of light and a short night.
    naive = lighting(june(june_barn), first=JUNE, days=2, daylight=False)
    assert (naive["G3.8.7"].status, naive["G3.8.9"].status) == ("D", "D")
    # With light openings and only lux: the sun-up hours cannot be attributed: unknown, never D.
    lux_only = lighting(june(june_barn), first=JUNE, days=2, daylight=True)
    assert (lux_only["G3.8.7"].status, lux_only["G3.8.9"].status) == ("unknown", "unknown")
    assert "lampsensor (kind lamp)" in lux_only["G3.8.9"].summary
    assert "daglicht (zon op) gedurende 10 u 50 min: licht niet aan de lampen toe te schrijven" in details(
        lux_only["G3.8.9"])
    # With a lamp sensor the lamps are judged: 16 h on, 8 h off, a 20-minute dimming dusk.
    with_lamps = lighting(june(june_barn), june(june_lamps), first=JUNE, days=2, daylight=True)
    assert {r: f.status for r, f in with_lamps.items()} == {r: "ok" for r in LIGHT}
    assert with_lamps["G3.8.9"].evidence.startswith("Lampsensor lamp")
    assert with_lamps["G3.8.9"].summary.startswith("Voldoet: kortste donkerperiode 8 u")


def test_lamps_on_too_long_in_a_daylight_barn_are_a_deviation():
    lamps = june(lambda t: 100.0 if not (1 <= t.astimezone(AMS).hour < 8) else 0.0)
    found = lighting(june(june_barn), lamps, first=JUNE, days=2, daylight=True)
    assert found["G3.8.9"].status == "D" and found["G3.8.7"].status == "D"
    assert details(found["G3.8.9"])[0] == "langste ononderbroken donkerperiode 7 u 00 min (min. 8 u 00 min)"


def test_sun_intervals_follow_the_farm_coordinates():
    lo = ms(datetime(2026, 12, 21, tzinfo=timezone.utc))
    [(up, down)] = [iv for iv in sun_intervals(52.1, 5.6, lo, lo + 86_400_000, -6.0)]
    assert time(7, 30) < datetime.fromtimestamp(up / 1000, AMS).time() < time(8, 30)
    assert time(16, 30) < datetime.fromtimestamp(down / 1000, AMS).time() < time(17, 30)


# --------------------------------------------------------------------------- lamp payloads

LAMP_PAYLOADS = [
    ("Zigbee2MQTT state", "zigbee2mqtt/stal1_lampen", "state", {"state": "ON", "brightness": 254}, 100.0),
    ("Zigbee2MQTT off", "zigbee2mqtt/stal1_lampen", "state", {"state": "OFF", "brightness": 0}, 0.0),
    ("Tasmota POWER", "stat/stal1/RESULT", "POWER", {"POWER": "ON"}, 100.0),
    ("Tasmota dimmer", "stat/stal1/RESULT", "Dimmer", {"POWER": "ON", "Dimmer": 40}, 40.0),
    ("Shelly Gen2 output", "shelly1/events/rpc", "params.switch:0.output",
     {"params": {"ts": 1774731540, "switch:0": {"output": False}}}, 0.0),
    ("Shelly Gen1 relay", "shellies/stal1/relay/0", "", "on", 100.0),
]


@pytest.mark.parametrize("name, topic, field, payload, value", LAMP_PAYLOADS, ids=[p[0] for p in LAMP_PAYLOADS])
def test_lamp_relay_and_dimmer_payloads_decode(name, topic, field, payload, value):
    from sensors.decode import Decoder
    from sensors.model import RawMessage, SensorSpec

    data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
    result = Decoder([SensorSpec(1, topic, field, "lamp", "1", "params.ts" if "Shelly Gen2" in name else "ts")]).decode(
        RawMessage(topic, data, 1_774_731_600_000))
    assert result.rejections == ()
    assert [r.value for r in result.readings] == [value]


def test_a_lamp_level_out_of_range_is_a_counted_rejection():
    from sensors.decode import Decoder
    from sensors.model import RawMessage, SensorSpec

    result = Decoder([SensorSpec(1, "l", "", "lamp", "1")]).decode(RawMessage("l", b"254", 0))
    assert result.readings == () and [r.reason for r in result.rejections] == ["out_of_range"]


# --------------------------------------------------------------------------- A3.4: the alarm panel

PANEL_FARM = """
[[sensors]]
topic = "stal1/alarm"
kind = "ventilation_alarm"
location = "1"
"""


def _replay(tmp_path, name: str, replayed_on: datetime, messages):
    """Replay messages into a fresh database on a given day (the sensors are registered that day)."""
    import tomllib

    from agent.config import config_from_dict
    from agent.ingest import Ingestor, ingest_all
    from agent.store import open_store
    from tests.conftest import FARM_TOML

    config = config_from_dict(tomllib.loads(FARM_TOML.format(db=tmp_path / f"{name}.db") + PANEL_FARM))
    store = open_store(tmp_path / f"{name}.db")
    ingest_all(Ingestor(store, config, replayed_on, live=False), messages)
    return store, config


def _panel_trace(start: datetime, hours: int, silent: tuple[datetime, datetime]):
    """A panel saying ok every minute (silent in ``silent``) and a lux sensor heard all along."""
    from sensors.model import RawMessage

    out = []
    for minute in range(hours * 60):
        t = start + timedelta(minutes=minute)
        if not silent[0] <= t < silent[1]:
            out.append(RawMessage("stal1/alarm", b"ok", ms(t)))
        out.append(RawMessage("zigbee2mqtt/stal1_lux", b'{"illuminance_lux": 30}', ms(t)))
    return out


def test_imported_history_forgives_no_silence_whatever_day_it_is_replayed(tmp_path):
    """A replayed panel silent for 3 h: D, judged from its first reading, not from the day of the replay."""
    from agent.evaluation import score_window

    start = local(date(2026, 3, 2), "00:00")
    silent = (start + timedelta(hours=20), start + timedelta(hours=23))
    trace = _panel_trace(start, 48, silent)
    found = []
    for name, replayed_on in (("soon", start + timedelta(days=3)), ("later", start + timedelta(days=40))):
        store, config = _replay(tmp_path, name, replayed_on, trace)
        result = score_window(store, config, at=start + timedelta(hours=48), since=start)
        [a34] = [f for f in result.findings if f.rule == "A3.4" and f.location == "1"]
        found.append(a34)
        store.close()
    assert found[0] == found[1]
    assert found[0].status == "D" and found[0].summary == "Geen alarmvoorziening aanwezig of functioneert niet."
    [silence] = [o for o in found[0].occurrences if "niet gehoord" in o.detail]
    assert silence.detail == "alarminstallatie stal1/alarm niet gehoord gedurende 3 u 01 min (na 10 min zonder bericht)"
    assert (silence.start, silence.end) == (silent[0] - timedelta(minutes=1), silent[1])


def test_a_ten_minute_panel_fault_is_one_episode_with_start_and_end():
    """A fault is an occurrence with its own start and end, also when it began before the window."""
    from rules.kinds import VENTILATION_FAULT, VENTILATION_OK
    from rules.sensor.ventilation import AlertChannels, ChannelTest
    from tests.synth import state_samples, state_sensor

    fault = (local(date(2026, 3, 1), "23:55"), local(date(2026, 3, 2), "00:05"))
    history, at = local(date(2026, 2, 20), "00:00"), local(date(2026, 3, 20), "00:00")
    samples = state_samples([(history, VENTILATION_OK), (fault[0], VENTILATION_FAULT), (fault[1], VENTILATION_OK)], at)
    farm = Farm("De Hoeve", "123456", 52.1, 5.6, "Europe/Amsterdam", (House("1", "barn"),))
    channels = AlertChannels(("webhook",), (ChannelTest("webhook", at - timedelta(days=3), True),))
    for since in (local(date(2026, 2, 25), "00:00"), local(date(2026, 3, 2), "00:00")):  # the second starts mid-fault
        inputs = {"ventilation_alarm": {"1": (state_sensor("paneel-1", samples, history, at),)},
                  "alert_channels": channels, "agent_down": (), "agent_since": ms(history)}
        [f] = EVALUATORS["A3.4"](CATALOGUE.get("A3.4"), Evidence(farm=farm, at=at, since=since, inputs=inputs),
                                 Params())
        assert f.status == "D"
        [occ] = f.occurrences
        assert (occ.start, occ.end, occ.detail) == (fault[0], fault[1], "alarminstallatie paneel-1 meldt storing (10 min)")


def _a34_with_dialer(checks, channels=None):
    from rules.kinds import VENTILATION_OK
    from rules.sensor.ventilation import AlertChannels, Check
    from tests.synth import state_samples, state_sensor

    since, at = local(date(2026, 3, 1), "00:00"), local(date(2026, 3, 20), "00:00")
    farm = Farm("De Hoeve", "123456", 52.1, 5.6, "Europe/Amsterdam", (House("1", "barn", alarm_dialer=True),))
    inputs = {"ventilation_alarm": {"1": (state_sensor("paneel-1", state_samples([(since, VENTILATION_OK)], at),
                                                       since, at),)},
              "alert_channels": channels or AlertChannels(()), "agent_down": (), "agent_since": ms(since),
              "checks": tuple(Check(d, "alarm_dialer", r) for d, r in checks)}
    [f] = EVALUATORS["A3.4"](CATALOGUE.get("A3.4"), Evidence(farm=farm, at=at, since=since, inputs=inputs), Params())
    return f


def test_a_panel_with_its_own_gsm_dialer_tested_monthly_is_the_off_farm_route():
    """No agent channel, but the panel dials out itself and its monthly test is logged: not C any more."""
    f = _a34_with_dialer([(date(2026, 3, 5), "ok")])
    assert f.status == "ok" and "Kiezer alarminstallatie getest op 2026-03-05" in f.evidence
    untested = _a34_with_dialer([(date(2026, 1, 10), "ok")])
    assert untested.status == "C"
    assert untested.summary == "Alarmvoorziening onvoldoende (bv niet toereikend als plvh niet op bedrijf is)."
    assert any(o.detail == "kiezer van de alarminstallatie niet getest in de laatste maand (laatste geslaagde test "
                           "2026-01-10; vast te leggen in het controlelogboek als 'kiezer van de alarminstallatie, "
                           "doormelding getest')" for o in untested.occurrences)
    failed = _a34_with_dialer([(date(2026, 3, 5), "ok"), (date(2026, 3, 12), "fault")])
    assert failed.status == "C"


# --------------------------------------------------------------------------- A3.5: the seed's alternative, the law's tests


def test_flaps_that_open_on_power_failure_can_be_configured_instead_of_a_generator(tmp_path):
    """A3.5's alternative: flaps that fall open without power; the generator rules are satisfied, A3.6 is not needed."""
    import tomllib

    from agent.config import config_from_dict
    from agent.evaluation import score_window
    from agent.store import open_store
    from tests.conftest import FARM_TOML

    text = FARM_TOML.format(db=tmp_path / "farm.db").replace(
        'mechanical_ventilation = true\n', 'mechanical_ventilation = true\nflaps_open_on_power_failure = true\n', 1)
    text += '\n[[sensors]]\ntopic = "stroom"\nkind = "mains"\nlocation = "1"\n'
    config = config_from_dict(tomllib.loads(text))
    store = open_store(tmp_path / "farm.db")
    at = datetime(2026, 3, 20, tzinfo=timezone.utc)
    result = score_window(store, config, at=at, since=at - timedelta(days=30))
    found = {(f.rule, f.location): f for f in result.findings}
    assert found[("A3.5", "1")].status == "ok"
    assert found[("A3.5", "1")].summary.startswith("Voldoet: de ventilatiekleppen vallen bij stroomuitval vanzelf open")
    assert (found[("A3.6", "1")].status, found[("A3.6", "1")].summary) == (
        "nvt", "Niet nodig bij stroomloos te openen ventilatieopeningen.")
    assert not [d for d in result.due if d.rule == "A3.5"]  # no generator, no generator tests due
    store.close()


def test_the_yearly_generator_test_under_load_falls_due():
    """Dutch law: a yearly test under load (checks item generator_load) beside the monthly one without load."""
    from rules.sensor.generator import generator_dues
    from rules.sensor.ventilation import Check

    farm = Farm("De Hoeve", "123456", 52.1, 5.6, "Europe/Amsterdam", (House("1", "barn"),))
    at = local(date(2026, 3, 20), "12:00")
    evidence = Evidence(farm=farm, at=at, since=at - timedelta(days=30), inputs={
        "generator": {}, "mains": {}, "checks": (Check(date(2025, 3, 1), "generator_load", "ok"),
                                                  Check(date(2026, 3, 1), "generator", "ok"))})
    monthly, load = generator_dues(evidence, Params())
    assert (monthly.due, monthly.overdue) == (date(2026, 4, 1), False)
    assert (load.rule, load.due, load.overdue) == ("A3.5", date(2026, 3, 1), True)
    assert load.what == "Wettelijk (Besluit houders van dieren): jaarlijkse test van het noodstroomaggregaat onder belasting"
