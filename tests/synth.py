"""Synthetic sensor days for the sensor-rule tests: light programs, climate spells, states."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

AMS = ZoneInfo("Europe/Amsterdam")
MIN = 60_000


def ms(moment: datetime) -> int:
    """Return epoch ms of an aware moment."""
    return int(moment.timestamp() * 1000)


def local(day: date, hhmm: str, tz=AMS) -> datetime:
    """Return the aware local moment ``hhmm`` on ``day``."""
    h, m = map(int, hhmm.split(":"))
    return datetime.combine(day, time(h, m), tz)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def program_lux(local_minute: float, *, on: str, off: str, lux_on: float, lux_dark: float,
                dusk: int, dawn: int) -> float:
    """Return the lux of a wall-clock light program at a local minute of the day.

    Lights are fully on from ``on`` + dawn until ``off`` − dusk; the dusk ramp ends
    at ``off`` (then dark), the dawn ramp starts at ``on``.
    """
    on_m = _minutes(time(*map(int, on.split(":"))))
    off_m = _minutes(time(*map(int, off.split(":"))))
    t = local_minute
    lit = (on_m <= t < off_m) if on_m < off_m else (t >= on_m or t < off_m)
    if not lit:
        return lux_dark
    since_on = (t - on_m) % 1440
    to_off = (off_m - t) % 1440
    if dawn and since_on < dawn:
        return lux_dark + (lux_on - lux_dark) * since_on / dawn
    if dusk and to_off <= dusk:
        return lux_dark + (lux_on - lux_dark) * to_off / dusk
    return lux_on


def light_samples(first: date, days: int, *, tz=AMS, step_s: int = 60, on: str = "04:00", off: str = "20:00",
                  lux_on: float = 30.0, lux_dark: float = 0.0, dusk: int = 20, dawn: int = 15,
                  gaps: tuple[tuple[datetime, datetime], ...] = ()) -> list[tuple[int, float]]:
    """Return samples of a wall-clock program from ``first`` − 1 day to ``first`` + ``days`` + 1."""
    start = ms(datetime.combine(first - timedelta(days=1), time(0), tz))
    end = ms(datetime.combine(first + timedelta(days=days + 1), time(0), tz))
    gap_ms = [(ms(a), ms(b)) for a, b in gaps]
    out = []
    for t in range(start, end, step_s * 1000):
        if any(a <= t < b for a, b in gap_ms):
            continue
        lt = datetime.fromtimestamp(t / 1000, timezone.utc).astimezone(tz)
        minute = lt.hour * 60 + lt.minute + lt.second / 60
        out.append((t, program_lux(minute, on=on, off=off, lux_on=lux_on, lux_dark=lux_dark, dusk=dusk, dawn=dawn)))
    return out


def state_samples(changes, until: datetime, *, heartbeat_s: int = 60,
                  silences: tuple[tuple[datetime, datetime], ...] = ()) -> list[tuple[int, float]]:
    """Return state readings: one at each (moment, code) change, then a heartbeat every ``heartbeat_s``."""
    out = []
    changes = sorted(changes)
    quiet = [(ms(a), ms(b)) for a, b in silences]
    for k, (moment, code) in enumerate(changes):
        end = ms(changes[k + 1][0]) if k + 1 < len(changes) else ms(until)
        t = ms(moment)
        while t < end:
            if not any(a <= t < b for a, b in quiet):
                out.append((t, float(code)))
            t += heartbeat_s * 1000
    return out


def state_sensor(label: str, samples, since: datetime, until: datetime, hold_s: int = 600, tz=AMS,
                 known_from: datetime | None = None):
    """Return SensorDays of a state sensor over local days covering [since, until)."""
    from rules.sensor.states import state_day
    from rules.sensor.timeseries import SensorDays, days_between

    lo, hi = ms(since), ms(until)
    days = [state_day(samples, d, hold_s * 1000, until=hi if d.end > hi else None,
                      known_from=ms(known_from) if known_from else None)
            for d in days_between(lo, hi, time(0), tz)]
    return SensorDays(label, tuple(days))


def measure_sensor(label: str, samples, since: datetime, until: datetime, band, hold_s: int = 300, tz=AMS):
    """Return SensorDays of a climate sensor over local days covering [since, until)."""
    from rules.sensor.climate import measure_day
    from rules.sensor.timeseries import SensorDays, days_between

    lo, hi = ms(since), ms(until)
    return SensorDays(label, tuple(measure_day(samples, d, hold_s * 1000, band, until=hi if d.end > hi else None)
                                   for d in days_between(lo, hi, time(0), tz)))


def series(since: datetime, until: datetime, value, step_s: int = 60) -> list[tuple[int, float]]:
    """Return readings every ``step_s`` with ``value(moment)`` (None: no reading)."""
    out = []
    t = ms(since)
    while t < ms(until):
        v = value(datetime.fromtimestamp(t / 1000, timezone.utc))
        if v is not None:
            out.append((t, float(v)))
        t += step_s * 1000
    return out
