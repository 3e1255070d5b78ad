"""Charts: lux with dark periods, dusk and the 8-hour line; the egg room with condensation risk."""

from __future__ import annotations

import re
from datetime import timedelta

from agent.config import SensorSection
from agent.store.readings import insert_readings, sync_sensors, to_ms

import pytest

from .web_fixtures import NOW, accounts, app, client_for, clock, db_path, farmer, web_store  # noqa: F401
from .web_fixtures import with_egg_room_sensors

LUX = SensorSection(topic="zigbee2mqtt/stal1_lux", kind="lux", location="1", field="illuminance_lux")


@pytest.fixture
def farm_config(config_file):
    """The test farm with an egg room's air and egg sensors configured too (the charts draw configured sensors)."""
    return with_egg_room_sensors(config_file)


def _lux(local_hour: float, short_night: bool) -> float:
    """A light programme: light 06–22 local (dark 8 h), or 04–22 (dark 6 h); 30 minutes of dusk before dark."""
    start = 4 if short_night else 6
    if 21.5 <= local_hour < 22:
        return 12.0  # dimmed, still above the night's 5 lux: the dusk
    return 40.0 if start <= local_hour < 21.5 else 0.1


def _light_data(store, days: int = 3):
    sid = next(iter(sync_sensors(store, [LUX], NOW).values())).id
    rows, moment = [], NOW - timedelta(days=days)
    while moment <= NOW:
        local = moment + timedelta(hours=1)  # Amsterdam in November is UTC+1
        # The night ending on the morning of 1 November is short.
        short = local.day == 1 or (local.day == 31 and local.hour >= 12)
        rows.append((sid, to_ms(moment), _lux(local.hour + local.minute / 60, short and local.day == 1)))
        moment += timedelta(minutes=2)
    with store.transaction() as db:
        insert_readings(db, rows)
    return sid


def test_light_chart_shades_dark_periods_and_lists_them_with_a_verdict(farmer, web_store):
    _light_data(web_store)
    html = farmer.get("/charts/light/1").get_data(as_text=True)
    assert html.count('<svg class="chart chart-narrow"') == 1  # drawn for a phone too (the stylesheet picks)
    svg = re.search(r'<svg class="chart chart-wide".*?</svg>', html, re.S).group(0)
    assert svg.count('class="dark"') >= 1 and svg.count('class="short"') == 1
    assert 'class="dusk"' in svg and ">8 u<" in svg and "0,5 lx: donker (G3.8.10)" in svg
    table = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[html.index("Donkerperioden"):]))
    assert "31 okt 2026 22:00 1 nov 2026 04:00 6 u 0 min korter dan 8 uur" in table
    assert "30 okt 2026 22:00 31 okt 2026 06:00 8 u 0 min in orde" in table


def test_a_year_of_light_is_drawn_from_a_few_hundred_points(farmer, web_store):
    sid = _light_data(web_store, days=2)
    first = to_ms(NOW - timedelta(days=2)) // 60000
    with web_store.transaction() as db:
        db.conn.executemany("INSERT INTO aggregates(sensor_id, minute, n, vmin, vmax, mean) VALUES (?, ?, 1, ?, ?, ?)",
                            [(sid, first - k, v, v, v) for k in range(1, 300 * 1440, 5)
                             for v in [0.1 if (k // 60) % 24 < 8 else 30.0]])
    html = farmer.get("/charts/light/1?range=365d").get_data(as_text=True)
    line = re.search(r'<polyline class="line"[^>]*points="([^"]+)"', html).group(1)
    assert 150 <= len(line.split()) <= 300
    assert 'aria-current=page>1 jaar<' in html.replace('"', "")


def test_egg_room_chart_shades_condensation_risk(farmer, web_store):
    sensors = sync_sensors(web_store, [SensorSection(topic="ei/t", kind="temperature", location="E"),
                                       SensorSection(topic="ei/rh", kind="humidity", location="E"),
                                       SensorSection(topic="ei/egg", kind="egg_temperature", location="E")], NOW)
    ids = {k[0]: v.id for k, v in sensors.items()}
    rows = []
    for m in range(0, 48 * 60, 5):
        moment = NOW - timedelta(minutes=m)
        humid = 6 * 60 < m <= 9 * 60  # three hours of damp air, 6 to 9 hours ago
        rows += [(ids["ei/t"], to_ms(moment), 12.0), (ids["ei/rh"], to_ms(moment), 92.0 if humid else 60.0),
                 (ids["ei/egg"], to_ms(moment), 10.0)]
    with web_store.transaction() as db:
        insert_readings(db, rows)
    html = farmer.get("/charts/egg-room/E").get_data(as_text=True)
    # 12 °C at 92 % has its dew point at 10,7 °C: above the 10 °C eggs, so wet (E3.3), and within the margin.
    wide = re.search(r'<svg class="chart chart-wide".*?</svg>', html, re.S).group(0)
    assert wide.count('class="risk"') == 1 and wide.count('class="wet"') == 1 and "dauwpunt" in wide
    wet = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[html.index("<h2>Condens<"):html.index("<h2>Condensrisico")]))
    assert "1 nov 2026 04:00 1 nov 2026 07:00 3 u 0 min" in wet
    table = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[html.index("<h2>Condensrisico"):]))
    assert "1 nov 2026 04:00 1 nov 2026 07:00 3 u 0 min" in table


def test_charts_without_sensors_say_so_and_unknown_places_are_404(farmer):
    assert "geen gegevens" in farmer.get("/charts/light/2").get_data(as_text=True)
    assert "geen gegevens" in farmer.get("/charts/egg-room/E?range=bogus").get_data(as_text=True)
    assert farmer.get("/charts/light/9").status_code == 404
    assert farmer.get("/charts/egg-room/1").status_code == 404
