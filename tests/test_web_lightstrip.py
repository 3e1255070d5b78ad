"""The light schedule's calendar strip: one cell per night with a word for G3.8.9 and G3.8.10."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from agent.config import SensorSection
from agent.readings import insert_readings, sync_sensors, to_ms
from webui.lightstrip import nights

from .web_fixtures import (accounts, app, client_for, clock, db_path, farm_config, farmer,  # noqa: F401
                           web_store)

TZ = ZoneInfo("Europe/Amsterdam")


def lux_sensor(store, since: datetime) -> int:
    """Register house 1's lux sensor and return its id."""
    sensors = sync_sensors(store, [SensorSection(topic="stal1/lux", kind="lux", location="1")], since)
    return next(iter(sensors.values())).id


def write_nights(store, sid: int, programme: dict, start: datetime, end: datetime) -> None:
    """Write a reading every 5 minutes: dark (0.1 lx) when programme(local date of the night, local time) says so."""
    rows, moment = [], start
    while moment < end:
        local = moment.astimezone(TZ)
        night_of = (local - timedelta(hours=12)).date()  # the lighting day began at noon on this date
        dark = programme.get(night_of, lambda h: h >= 22 or h < 6)(local.hour + local.minute / 60)
        if dark is not None:
            rows.append((sid, to_ms(moment), 0.1 if dark else 35.0))
        moment += timedelta(minutes=5)
    with store.transaction() as db:
        insert_readings(db, rows)


def test_each_night_gets_its_longest_darkness_and_a_word(web_store):
    now = datetime(2026, 10, 20, 11, 0, tzinfo=timezone.utc)  # 13:00 in Amsterdam
    start = datetime(2026, 10, 14, 10, 0, tzinfo=timezone.utc)  # noon
    sid = lux_sensor(web_store, start)
    d = datetime(2026, 10, 14).date()
    write_nights(web_store, sid, {
        d + timedelta(days=1): lambda h: h >= 22 or h < 4,  # 6 hours: G3.8.9
        d + timedelta(days=2): lambda h: (h >= 21 or h < 6) and not 1 <= h < 1.5,  # light at 01:00: G3.8.10
        d + timedelta(days=3): lambda h: None,  # the sensor was silent
    }, start, now)
    strip = nights(web_store, sid, TZ, now, 7)
    assert [n.start.date().isoformat() for n in strip] == [f"2026-10-{day}" for day in range(14, 21)]
    assert [n.status for n in strip] == ["ok", "bad", "bad", "none", "ok", "ok", "running"]
    assert [round(n.dark_h, 2) if n.dark_h is not None else None for n in strip] == \
        [8.0, 6.0, 4.5, None, 8.0, 8.0, 0.0]
    assert strip[2].interrupted and not strip[1].interrupted and strip[1].short
    assert strip[-1].running  # tonight's lighting day began an hour ago


def test_the_spring_forward_night_is_an_hour_short_by_the_wall_clock(web_store):
    # 29 March 2026: clocks go 02:00 → 03:00; a 22:00–06:00 programme gives 7 hours of dark (G3.8.9).
    start = datetime(2026, 3, 27, 11, 0, tzinfo=timezone.utc)
    now = datetime(2026, 3, 30, 10, 30, tzinfo=timezone.utc)  # 12:30 CEST: a new lighting day began
    sid = lux_sensor(web_store, start)
    write_nights(web_store, sid, {}, start, now)
    strip = nights(web_store, sid, TZ, now, 4)
    assert [(n.start.date().isoformat(), round(n.dark_h, 2), n.status) for n in strip] == [
        ("2026-03-27", 8.0, "ok"), ("2026-03-28", 7.0, "bad"), ("2026-03-29", 8.0, "ok"),
        ("2026-03-30", 0.0, "running")]
    assert strip[1].coverage == 1.0  # the lighting day itself is 23 hours long


def test_a_night_with_too_few_readings_is_incomplete_unless_they_show_a_deviation(web_store):
    start = datetime(2026, 10, 14, 10, 0, tzinfo=timezone.utc)
    now = datetime(2026, 10, 17, 9, 0, tzinfo=timezone.utc)  # 11:00: the night of the 16th is still running
    sid = lux_sensor(web_store, start)
    d = datetime(2026, 10, 14).date()
    write_nights(web_store, sid, {
        d: lambda h: (h >= 22 or h < 6) if 18 <= h or h < 8 else None,  # only the night itself: 14 of 24 hours
        d + timedelta(days=1): lambda h: (h >= 22 or h < 2) if 18 <= h or h < 8 else None,  # 4 hours, few readings
    }, start, now)
    first, second, third = nights(web_store, sid, TZ, now, 3)
    assert first.status == "ok"  # 8 hours of dark are 8 hours, however few the readings around them
    assert second.status == "none" and second.coverage < 0.8  # unknown is never ok — nor a deviation
    assert third.status == "ok" and third.running  # 8 hours of dark already: ok before the day ends


def test_the_light_chart_shows_the_strip_with_words_not_colour_alone(farmer, web_store, clock):
    now = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
    start = now - timedelta(days=15)
    sid = lux_sensor(web_store, start)
    write_nights(web_store, sid, {datetime(2026, 10, 30).date(): lambda h: h >= 22 or h < 5}, start, now)
    html = farmer.get("/charts/light/1").get_data(as_text=True)
    cells = re.findall(r'<li class="night n-(\w+)" title="([^"]*)">\s*<span class="date">([^<]+)</span>\s*'
                       r'<span class="hours">([^<]+)</span>\s*<span class="word">([^<]+)</span>', html)
    assert len(cells) == 14
    assert cells[-3] == ("bad", "nacht van 30 oktober 2026: korter dan 8 uur, langste donker 7,0 uur",
                         "vr 30 okt", "7,0 u", "korter dan 8 uur")
    assert cells[-2][0] == "ok" and cells[-2][4] == "in orde" and cells[-2][3] == "8,0 u"
    assert cells[-1][0] == "running" and cells[-1][4] == "loopt nog"
    year = farmer.get("/charts/light/1?range=365d").get_data(as_text=True)
    assert year.count('class="night n-') == 365
    assert year.count('<span class="word">geen gegevens</span>') == 365 - 16
