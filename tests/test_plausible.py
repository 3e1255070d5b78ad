"""Plausibility questions of a day-sheet line (rules.logbooks.jumps) and every field's message in one round."""

from __future__ import annotations

from datetime import date

import pytest

from rules.logbooks import EntryError, jumps, validate_entry


@pytest.mark.parametrize("today,yesterday,asked", [
    ({"mortality": 130}, {"mortality": 4}, ["mortality"]),  # the case: 4 yesterday, 130 today
    ({"mortality": 20}, {"mortality": 4}, ["mortality"]),  # five times
    ({"mortality": 19}, {"mortality": 4}, []),
    ({"mortality": 3}, {"mortality": 0}, []),  # a few dead after none: no question
    ({"mortality": 10}, {"mortality": 0}, ["mortality"]),
    ({"eggs": 12600}, {"eggs": 18000}, ["eggs"]),  # -30 %
    ({"eggs": 12700}, {"eggs": 18000}, []),
    ({"eggs": 184000}, {"eggs": 18400}, ["eggs"]),  # a digit too many
    ({"water_l": 2000.0, "feed_kg": 2300}, {"water_l": 4000.0, "feed_kg": 2310}, ["water_l"]),
    ({"eggs": None, "mortality": 2}, {"eggs": 18000, "mortality": 2}, []),  # not filled in: nothing to compare
    ({"mortality": 130}, None, []),  # no line yesterday
])
def test_jumps_from_yesterday(today, yesterday, asked):
    assert [j.field for j in jumps(today, yesterday)] == asked


def test_a_jump_knows_its_change_in_per_cent():
    [jump] = jumps({"eggs": 600}, {"eggs": 900})
    assert jump.change == -33


@pytest.mark.parametrize("kind,entry,fields", [
    # The order checks used to wait until every other field was valid: now they come in the same round.
    ("cleaning", {"house": "1", "cleaned_on": "2026-10-20", "disinfected_on": "2026-10-18", "products": []},
     {"disinfected_on", "products", "performed_by"}),
    ("flocks", {"house": "1", "placed_on": "2026-09-01", "hatched_on": "2026-09-05", "origin": "Opfok"},
     {"hatched_on", "number_placed"}),
    ("flock_day", {"date": "2026-10-31", "house": "1", "inspected": True, "mortality": -1},
     {"inspected_by", "mortality"}),
    ("bait_boxes", {"number": "1", "location": "", "target_pest": "mice", "product": "x", "fixed": True,
                    "placed_on": "2026-09-01", "removed_on": "2026-08-01"}, {"location", "removed_on"}),
])
def test_every_message_of_an_entry_comes_in_one_round(kind, entry, fields):
    with pytest.raises(EntryError) as caught:
        validate_entry(kind, entry, houses={"1": "free_range"}, today=date(2026, 11, 1))
    assert set(caught.value.fields) == fields
