"""The time-series building blocks: holding samples, local days over DST, verdicts over a window."""

from __future__ import annotations

from datetime import date, time

from hypothesis import given
from hypothesis import strategies as st

from rules.sensor.timeseries import DayVerdict, days_between, local_day, segments, window_verdict
from tests.synth import AMS, local, ms


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 5)), max_size=30, unique_by=lambda x: x[0]),
       st.integers(0, 150), st.integers(1, 120), st.integers(1, 40))
def test_segments_hold_each_sample_until_the_next_or_the_hold(raw, lo, length, hold):
    samples = sorted((t, float(v)) for t, v in raw)
    hi = lo + length
    segs = segments(samples, lo, hi, hold)
    assert segs[0][0] == lo and segs[-1][1] == hi
    assert all(a[1] == b[0] for a, b in zip(segs, segs[1:]))  # contiguous, no overlap
    for t in range(lo, hi):
        before = [(ts, v) for ts, v in samples if ts <= t]
        expected = before[-1][1] if before and t - before[-1][0] < hold else None
        [value] = [v for s, e, v in segs if s <= t < e]
        assert value == expected, t


def test_local_days_are_23_24_and_25_hours_long():
    assert local_day(date(2026, 3, 28), time(12), AMS).hours == 23
    assert local_day(date(2026, 3, 29), time(12), AMS).hours == 24
    assert local_day(date(2026, 10, 24), time(12), AMS).hours == 25
    days = days_between(ms(local(date(2026, 3, 27), "12:00")), ms(local(date(2026, 3, 30), "12:00")), time(12), AMS)
    assert [d.day for d in days] == [date(2026, 3, 27), date(2026, 3, 28), date(2026, 3, 29)]


def test_window_needs_enough_ok_days_and_any_deviation_decides():
    ok, unknown = DayVerdict(date(2026, 1, 1), "ok"), DayVerdict(date(2026, 1, 2), "unknown")
    assert window_verdict([ok] * 9 + [unknown], 0.9).status == "ok"
    assert window_verdict([ok] * 8 + [unknown] * 2, 0.9).status == "unknown"
    assert window_verdict([], 0.9).status == "unknown"
    running_d = DayVerdict(date(2026, 1, 3), "D", (), complete=False)
    assert window_verdict([ok, running_d], 0.9).status == "D"
