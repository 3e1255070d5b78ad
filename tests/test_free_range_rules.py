"""H3.12.8 (access 10:00 to sunset), the pop-hole journal (H3.12.10) and H3.12.11 (housing order)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rules.catalogue import load_catalogue
from rules.evidence import Evidence, Farm, House
from rules.kinds import POPHOLE_CLOSED, POPHOLE_OPEN
from rules.params import Params
from rules.sensor.freerange import HousingOrder, housing_order_dues, journal, sunset_at
from rules.sensor.registry import EVALUATORS
from tests.synth import AMS, local, ms, state_samples, state_sensor

CATALOGUE = load_catalogue()
FARM = Farm("De Hoeve", "123456", 52.1, 5.6, "Europe/Amsterdam",
            (House("1", "free_range"), House("2", "barn"), House("3", "organic")))
FIRST = date(2026, 5, 4)
DAYS = 5
SINCE, AT = local(FIRST, "00:00"), local(FIRST + timedelta(days=DAYS), "00:00")


def daily(open_at="09:00", late: dict | None = None):
    """Return pop-hole changes: open at ``open_at`` (or a later time on some days), closed after sunset."""
    changes = [(SINCE - timedelta(days=1), POPHOLE_CLOSED)]
    for i in range(DAYS):
        day = FIRST + timedelta(days=i)
        changes.append((local(day, (late or {}).get(i, open_at)), POPHOLE_OPEN))
        changes.append((sunset_at(FARM, day) + timedelta(minutes=20), POPHOLE_CLOSED))
    return changes


def evaluate(rule_id, changes=None, orders=(), farm=FARM, at=AT):
    popholes = {}
    if changes is not None:
        popholes["1"] = (state_sensor("luik-1", state_samples(changes, at), SINCE, at, hold_s=3600),)
    evidence = Evidence(farm=farm, at=at, since=SINCE, inputs={"pophole": popholes, "housing_orders": tuple(orders)})
    return {f.location: f for f in EVALUATORS[rule_id](CATALOGUE.get(rule_id), evidence, Params())}


@pytest.mark.parametrize("name, changes, orders, expected", [
    ("open every day from 09:00 until after sunset", daily(), (), "ok"),
    ("opened at 10:20: within the tolerance", daily(late={2: "10:20"}), (), "ok"),
    ("opened at 11:00 on one day", daily(late={2: "11:00"}), (), "C"),
    ("inside on two days", daily(late={1: "13:00", 3: "12:00"}), (), "D"),
    ("inside every day under a housing order", daily(open_at="23:00"),
     (HousingOrder(1, FIRST - timedelta(days=3), None),), "nvt"),
    ("a housing order on the late days only", daily(late={1: "13:00", 3: "12:00"}),
     (HousingOrder(1, FIRST + timedelta(days=1), FIRST + timedelta(days=3)),), "ok"),
    ("no pop-hole sensor", None, (), "unknown"),
])
def test_access(name, changes, orders, expected):
    found = evaluate("H3.12.8", changes, orders)
    assert found["1"].status == expected, name
    assert "2" not in found  # a barn house has no free range


def test_access_deviation_says_when_the_run_was_closed():
    f = evaluate("H3.12.8", daily(late={1: "13:00", 3: "12:00"}))["1"]
    assert f.summary == CATALOGUE.get("H3.12.8").deviation_text("D")
    assert [o.start for o in f.occurrences] == [local(FIRST + timedelta(days=1), "10:00"),
                                                local(FIRST + timedelta(days=3), "10:00")]
    assert f.occurrences[0].detail.startswith("uitloop dicht gedurende 3 u 00 min (vereist 10:00–")


def test_silent_pop_holes_make_days_unknown():
    changes = daily()
    samples = [s for s in state_samples(changes, AT) if not (ms(local(FIRST + timedelta(days=2), "08:00"))
                                                            <= s[0] < ms(local(FIRST + timedelta(days=2), "18:00")))]
    popholes = {"1": (state_sensor("luik-1", samples, SINCE, AT, hold_s=600),)}
    evidence = Evidence(farm=FARM, at=AT, since=SINCE, inputs={"pophole": popholes, "housing_orders": ()})
    f = {f.location: f for f in EVALUATORS["H3.12.8"](CATALOGUE.get("H3.12.8"), evidence, Params())}["1"]
    assert f.status == "unknown" and "4 van 5 dagen" in f.summary


def test_journal_hours_per_day():
    sensors = (state_sensor("luik-1", state_samples(daily(), AT), SINCE, AT, hold_s=3600),)
    hours = journal(sensors, FARM, ms(AT), 0.9)
    assert sorted(hours) == [FIRST + timedelta(days=i) for i in range(DAYS)]
    expected = (sunset_at(FARM, FIRST) + timedelta(minutes=20) - local(FIRST, "09:00")).total_seconds() / 3600
    assert hours[FIRST] == pytest.approx(expected, abs=0.02)


@pytest.mark.parametrize("weeks, expected", [(10, "ok"), (16, "ok"), (17, "D")])
def test_housing_order_limit(weeks, expected):
    start = AT.astimezone(AMS).date() - timedelta(weeks=weeks) + timedelta(days=1)
    found = evaluate("H3.12.11", orders=(HousingOrder(1, start, None),))
    assert found["1"].status == expected
    assert found["3"].status == "nvt" and found["3"].summary == "Nvt.: biologische eieren"
    if expected == "D":
        assert found["1"].summary.startswith("Overschrijden van de 16- weken-termijn")
        assert found["1"].occurrences[0].start.date() == start + timedelta(weeks=16)


def test_no_housing_order_is_nvt():
    assert evaluate("H3.12.11")["1"].status == "nvt"


def test_adjoining_orders_count_as_one():
    today = AT.astimezone(AMS).date()
    orders = (HousingOrder(1, today - timedelta(weeks=18), today - timedelta(weeks=9)),
              HousingOrder(2, today - timedelta(weeks=9) + timedelta(days=1), None))
    assert evaluate("H3.12.11", orders=orders)["1"].status == "D"


def test_housing_order_warning_from_week_12():
    today = AT.astimezone(AMS).date()
    for weeks, warned in ((11, False), (12, True)):
        orders = (HousingOrder(1, today - timedelta(weeks=weeks), None),)
        evidence = Evidence(farm=FARM, at=AT, since=SINCE, inputs={"housing_orders": orders})
        dues = housing_order_dues(evidence, Params())
        assert bool(dues) == warned
        if warned:
            assert dues[0].due == today - timedelta(weeks=12) + timedelta(weeks=16)
