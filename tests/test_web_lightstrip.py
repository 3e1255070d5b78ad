"""The light schedule's calendar strip: one cell per lighting day with the sensor rules' G3.8.9/G3.8.10 verdicts."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from agent.store.readings import insert_readings, sync_sensors, to_ms
from webui.lightstrip import nights

from .web_fixtures import accounts, app, client_for, clock, db_path, farm_config, farmer, web_store  # noqa: F401

TZ = ZoneInfo("Europe/Amsterdam")


def normal(hour: float) -> float | None:
    """Return the lux of a 16/8 programme: dark from 22:00 to 06:00."""
    return 0.1 if hour >= 22 or hour < 6 else 35.0


def write_nights(store, config, programme: dict, start: datetime, end: datetime) -> None:
    """Write a reading a minute from house 1's configured lux sensor; ``programme[night] (hour)`` gives the lux."""
    sensors = sync_sensors(store, config.sensors, start)
    sid = next(s.id for s in sensors.values())
    rows, moment = [], start
    while moment < end:
        local = moment.astimezone(TZ)
        night_of = (local - timedelta(hours=12)).date()  # the lighting day began at noon on this date
        value = programme.get(night_of, normal)(local.hour + local.minute / 60)
        if value is not None:
            rows.append((sid, to_ms(moment), value))
        moment += timedelta(minutes=1)
    with store.transaction() as db:
        insert_readings(db, rows)


def summary(strip) -> list[tuple]:
    """Return (date, longest dark in hours, G3.8.9, G3.8.10, cell status) per night."""
    return [(n.day.isoformat(), None if n.dark_h is None else round(n.dark_h, 2), n.g3_8_9, n.g3_8_10, n.status)
            for n in strip]


def test_each_night_shows_the_sensor_rules_verdicts(web_store, farm_config):
    now = datetime(2026, 10, 20, 11, 0, tzinfo=timezone.utc)  # 13:00 in Amsterdam
    d = date(2026, 10, 14)
    write_nights(web_store, farm_config, {
        d + timedelta(days=1): lambda h: 0.1 if h >= 22 or h < 4 else 35.0,  # 6 hours: G3.8.9
        d + timedelta(days=2): lambda h: 2.0 if h >= 22 or h < 6 else 35.0,  # 2 lx all night: G3.8.10
        d + timedelta(days=3): lambda h: None,  # the sensor was silent
    }, datetime(2026, 10, 14, 9, 0, tzinfo=timezone.utc), now)
    strip = nights(web_store, farm_config, "1", now, 7)
    assert summary(strip) == [
        ("2026-10-14", 8.0, "ok", "ok", "ok"),
        ("2026-10-15", 6.0, "D", "ok", "bad"),
        ("2026-10-16", None, "D", "D", "bad"),  # dimmed light is not dark: no dark period at all
        ("2026-10-17", None, "unknown", "unknown", "unknown"),
        ("2026-10-18", 8.0, "ok", "ok", "ok"),
        ("2026-10-19", 8.0, "ok", "ok", "ok"),
        ("2026-10-20", None, None, None, "running")]  # tonight's lighting day began an hour ago
    assert "langste ononderbroken donkerperiode 6 u 00 min (min. 8 u 00 min)" in strip[1].detail
    assert strip[3].no_data and not strip[4].no_data


def test_the_spring_forward_night_is_an_hour_short_by_the_wall_clock(web_store, farm_config):
    # 29 March 2026: clocks go 02:00 → 03:00; a 22:00–06:00 programme gives 7 hours of dark (G3.8.9).
    now = datetime(2026, 3, 30, 10, 30, tzinfo=timezone.utc)  # 12:30 CEST: a new lighting day began
    write_nights(web_store, farm_config, {}, datetime(2026, 3, 27, 9, 0, tzinfo=timezone.utc), now)
    strip = nights(web_store, farm_config, "1", now, 4)
    assert summary(strip)[:3] == [("2026-03-27", 8.0, "ok", "ok", "ok"), ("2026-03-28", 7.0, "D", "ok", "bad"),
                                  ("2026-03-29", 8.0, "ok", "ok", "ok")]
    assert strip[1].hours == 23 and "zomer-/wintertijd" in strip[1].detail


def test_a_gap_in_the_night_is_unknown_not_ok(web_store, farm_config):
    now = datetime(2026, 10, 17, 11, 0, tzinfo=timezone.utc)
    write_nights(web_store, farm_config, {
        date(2026, 10, 15): lambda h: None if 0 <= h < 4 else normal(h),  # four hours without readings
    }, datetime(2026, 10, 14, 9, 0, tzinfo=timezone.utc), now)
    first, second, _third, _running = nights(web_store, farm_config, "1", now, 4)
    assert first.status == "ok"
    assert second.status == "unknown" and second.g3_8_9 == "unknown" and not second.no_data


def test_a_house_without_a_lux_sensor_says_so(farmer):
    html = farmer.get("/charts/light/2").get_data(as_text=True)
    assert "Er is geen luxsensor voor deze stal ingesteld" in html and 'class="night' not in html


def test_the_light_chart_shows_the_strip_with_words_not_colour_alone(farmer, web_store, farm_config):
    now = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
    write_nights(web_store, farm_config, {date(2026, 10, 30): lambda h: 0.1 if h >= 22 or h < 5 else 35.0},
                 now - timedelta(days=15), now)
    html = farmer.get("/charts/light/1").get_data(as_text=True)
    cells = re.findall(r'<li class="night n-(\w+)" title="([^"]*)">\s*<span class="date">([^<]+)</span>\s*'
                       r'<span class="hours">([^<]+)</span>\s*<span class="word">([^<]+)</span>', html)
    assert len(cells) == 14
    status, title, day, hours, word = cells[-3]
    assert (status, day, hours, word) == ("bad", "vr 30 okt", "7,0 u", "korter dan 8 uur")
    assert title.startswith("nacht van 30 oktober 2026: korter dan 8 uur — langste ononderbroken donkerperiode 7 u")
    assert cells[-2][0] == "ok" and cells[-2][4] == "in orde" and cells[-2][3] == "8,0 u"
    assert cells[-1][0] == "running" and cells[-1][4] == "loopt nog"
    year = farmer.get("/charts/light/1?range=365d").get_data(as_text=True)
    assert year.count('class="night n-') == 365
    assert year.count('<span class="word">geen gegevens</span>') == 365 - 16
