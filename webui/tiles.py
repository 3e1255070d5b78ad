"""The dashboard's per-house and per-egg-room tiles: a value, a colour and a word.

Each tile says plainly when there is nothing to show ("geen gegevens") rather
than guessing; the colour always comes with a word (never colour alone).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from agent.config import Settings
from agent.readings import from_ms, sensors_at, series, to_ms
from agent.store import Store
from rules.documents import add_months
from webui.i18n import fmt_date, fmt_duration, fmt_number, gettext as _
from webui.lightview import MAX_LIGHT_H, MIN_DARK_H, dark_spells, dew_point, light_spells, lighting_day

# A3.4: the alarm panel must be heard from; default heartbeat timeout 10 minutes (DESIGN §4).
HEARTBEAT_TIMEOUT_S = 10 * 60
# A3.6: generator checked at least every 2 months.
CHECK_MONTHS = 2
# E3.3: condensation when the dew point reaches the egg surface; below this margin (°C) it is close.
DEW_MARGIN_WARN = 2.0
# Readings older than this do not describe "now" any more.
FRESH_S = 30 * 60

LEVEL_WORDS = {"ok": "in orde", "warn": "let op", "bad": "afwijking", "none": "geen gegevens", "nvt": "nvt"}


@dataclass(frozen=True)
class Tile:
    """One line of a location's tile."""

    label: str
    value: str
    level: str  # ok | warn | bad | none | nvt
    word: str


def _none(label: str) -> Tile:
    """Return a tile line saying that there is no data."""
    return Tile(label, "—", "none", _("geen gegevens"))


def _last_reading(store: Store, sensor_ids: list[int]) -> tuple[int, float] | None:
    """Return the newest (ts_ms, value) of any of the sensors."""
    best = None
    for sid in sensor_ids:
        row = store.execute("SELECT ts, value FROM readings WHERE sensor_id = ? ORDER BY ts DESC LIMIT 1",
                            [sid]).fetchone()
        if row and (best is None or row[0] > best[0]):
            best = (row[0], row[1])
    return best


def light_tiles(store: Store, config: Settings, house: str, now: datetime) -> list[Tile]:
    """Return last night's dark period and the light hours of the current lighting day."""
    sensors = sensors_at(store, house, "lux")
    label_dark, label_light = _("Donkerperiode afgelopen nacht"), _("Lichturen")
    if not sensors:
        return [_none(label_dark), _none(label_light)]
    begin, end = lighting_day(now, config.farm_view().tz)
    points = series(store, sensors[0].id, begin - timedelta(minutes=15), end)
    if not points:
        return [_none(label_dark), _none(label_light)]
    until = to_ms(end)
    darks = [s for s in dark_spells(points, until) if s.end > to_ms(begin)]
    longest = max(darks, key=lambda s: s.hours, default=None)
    tiles = []
    if longest is None:
        tiles.append(Tile(label_dark, _("geen"), "bad", _("geen donker")))
    else:
        ok = longest.hours >= MIN_DARK_H
        when = f"{from_ms(longest.start).astimezone(config.farm_view().tz):%H:%M}–" \
               f"{from_ms(longest.end).astimezone(config.farm_view().tz):%H:%M}"
        tiles.append(Tile(label_dark, f"{fmt_duration(longest.hours * 3600)} ({when})",
                          "ok" if ok else "bad", _("in orde") if ok else _("korter dan 8 uur")))
    light_h = sum(s.hours for s in light_spells(points, until) if s.end > to_ms(begin))
    ok = light_h <= MAX_LIGHT_H
    tiles.append(Tile(label_light, _("{h} uur", h=fmt_number(light_h, 1)), "ok" if ok else "bad",
                      _("in orde") if ok else _("meer dan 16 uur")))
    return tiles


def alarm_tile(store: Store, config: Settings, house, now: datetime) -> Tile:
    """Return when the ventilation alarm panel was last heard from (A3.4)."""
    label = _("Alarmkast gehoord")
    if not house.mechanical_ventilation:
        return Tile(label, "—", "nvt", _("geen mechanische ventilatie"))
    sensors = sensors_at(store, house.id, "ventilation_alarm")
    if not sensors:
        return _none(label)
    ids = [s.id for s in sensors]
    last = _last_reading(store, ids)
    seen_ms = last[0] if last else None
    for row in store.query(f"SELECT last_seen FROM sensor_health WHERE sensor_id IN ({','.join('?' * len(ids))})",
                           ids):
        if row["last_seen"] and (seen_ms is None or row["last_seen"] > seen_ms):
            seen_ms = row["last_seen"]
    if seen_ms is None:
        return _none(label)
    ago = max(0.0, (to_ms(now) - seen_ms) / 1000)
    value = _("{ago} geleden", ago=fmt_duration(ago))
    if last and last[1] >= 1:
        return Tile(label, value, "bad", _("ALARM") if last[1] == 1 else _("storing"))
    if ago > HEARTBEAT_TIMEOUT_S:
        return Tile(label, value, "bad", _("stil: functioneert niet"))
    return Tile(label, value, "ok", _("in orde"))


def _current_checks(store: Store, item: str) -> list[dict]:
    """Return confirmed, not superseded checks-logbook entries for one item (A3.6)."""
    rows = store.query("SELECT id, entry, state FROM logbook WHERE kind = 'checks' AND id NOT IN"
                       " (SELECT supersedes FROM logbook WHERE supersedes IS NOT NULL) ORDER BY id")
    out = []
    for r in rows:
        try:
            entry = json.loads(r["entry"])
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("item") == item and r["state"] == "confirmed":
            out.append(entry)
    return out


def generator_tile(store: Store, now: datetime, today: date) -> Tile:
    """Return when the emergency generator was last tested (A3.6: every 2 months)."""
    label = _("Noodstroom laatst getest")
    dates = []
    for entry in _current_checks(store, "generator"):
        try:
            dates.append((date.fromisoformat(str(entry.get("date"))), entry.get("result")))
        except ValueError:
            continue
    if not dates:
        return _none(label)
    last, result = max(dates)
    if result == "fault":
        return Tile(label, fmt_date(last), "bad", _("storing bij test"))
    if add_months(last, CHECK_MONTHS) < today:
        return Tile(label, fmt_date(last), "bad", _("langer dan 2 maanden geleden"))
    return Tile(label, fmt_date(last), "ok", _("in orde"))


def egg_room_tile(store: Store, room: str, now: datetime) -> Tile:
    """Return the egg room's dew-point margin: egg temperature minus dew point (E3.3)."""
    label = _("Marge tot dauwpunt")
    readings = {}
    for kind in ("temperature", "humidity", "egg_temperature"):
        last = _last_reading(store, [s.id for s in sensors_at(store, room, kind)])
        if last and (to_ms(now) - last[0]) / 1000 <= FRESH_S:
            readings[kind] = last[1]
    if "temperature" not in readings or "humidity" not in readings:
        return _none(label)
    dew = dew_point(readings["temperature"], readings["humidity"])
    if dew is None:
        return _none(label)
    surface = readings.get("egg_temperature", readings["temperature"])
    margin = surface - dew
    value = f"{fmt_number(margin, 1)} °C"
    if "egg_temperature" not in readings:
        value += " " + _("(geschat uit luchttemperatuur)")
    if margin <= 0:
        return Tile(label, value, "bad", _("condens"))
    if margin < DEW_MARGIN_WARN:
        return Tile(label, value, "warn", _("krap"))
    return Tile(label, value, "ok", _("droog"))


@dataclass(frozen=True)
class LocationTiles:
    """The tile of one house or egg room."""

    id: str
    kind: str  # house | egg_room
    lines: list[Tile]


def all_tiles(store: Store, config: Settings, now: datetime) -> list[LocationTiles]:
    """Return a tile for every house and egg room."""
    today = config.farm_view().local_date(now)
    generator = generator_tile(store, now, today)
    out = []
    for house in config.houses:
        lines = light_tiles(store, config, house.id, now)
        lines.append(alarm_tile(store, config, house, now))
        lines.append(generator if house.mechanical_ventilation
                     else Tile(generator.label, "—", "nvt", _("geen mechanische ventilatie")))
        out.append(LocationTiles(house.id, "house", lines))
    for room in config.egg_rooms:
        out.append(LocationTiles(room.id, "egg_room", [egg_room_tile(store, room.id, now)]))
    return out
