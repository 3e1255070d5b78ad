"""The dashboard's per-house and per-egg-room tiles: a value, a colour and a word.

Each tile says plainly when there is nothing to show ("geen gegevens") rather
than guessing; the colour always comes with a word (never colour alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from agent.config import Settings
from agent.evaluation import house_light_days, room_days
from agent.logbooks import current_entries
from agent.store import Store, from_ms, last_reading, last_seen, sensors_at, to_ms
from rules.documents import add_months
from rules.logbooks import CHECK_MONTHS, GENERATOR_ITEMS
from webui.i18n import fmt_date, fmt_duration, fmt_number, ngettext
from webui.i18n import gettext as _

# Readings older than this do not describe "now" any more.
FRESH_S = 30 * 60


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
    found = [r for r in (last_reading(store, sid) for sid in sensor_ids) if r is not None]
    return max(found, default=None, key=lambda r: r[0])


def light_tiles(store: Store, config: Settings, house: str, now: datetime) -> list[Tile]:
    """Return last night's dark period (G3.8.9) and the light hours (G3.8.7) of the last complete lighting day.

    Read from the sensor rules' own light days and verdicts (``agent.evaluation.house_light_days``), so the
    tile says what the score says: the worst sensor counts, the 24 h limits included, and in a house with
    daylight the lamps are judged where the score judges them.
    """
    label_dark, label_light = _("Donkerperiode afgelopen nacht"), _("Lichturen")
    found = house_light_days(store, config, house, now - timedelta(hours=60), now)
    if found is None:
        return [_none(label_dark), _none(label_light)]
    tz = config.farm_view().tz
    tiles = []
    dark_days = [d for _label, ds in found.days_for("G3.8.9") for d in ds if d.complete and d.coverage > 0]
    if not dark_days:
        tiles.append(_none(label_dark))
    else:
        last = max(d.day for d in dark_days)
        days = [d for d in dark_days if d.day == last]
        g9 = found.verdicts("G3.8.9")[last].status or "unknown"
        darks = [d.dark_known for d in days if d.dark_known]
        if not darks:
            tiles.append(Tile(label_dark, _("geen"), "bad" if g9 == "D" else "none",
                              _("geen donker") if g9 == "D" else _("geen gegevens")))
        else:
            start, end = min(darks, key=lambda iv: iv[1] - iv[0])
            when = f"{from_ms(start).astimezone(tz):%H:%M}–{from_ms(end).astimezone(tz):%H:%M}"
            value = f"{fmt_duration((end - start) / 1000)} ({when})"
            tiles.append(Tile(label_dark, value, *_verdict_level(g9, _("korter dan 8 uur"))))
    light_days = [d for _label, ds in found.days_for("G3.8.7") for d in ds if d.complete and d.coverage > 0]
    if not light_days:
        tiles.append(_none(label_light))
    else:
        last = max(d.day for d in light_days)
        g7 = found.verdicts("G3.8.7")[last].status or "unknown"
        light_h = max(d.light_ms for d in light_days if d.day == last) / 3_600_000
        tiles.append(Tile(label_light, _("{h} uur", h=fmt_number(light_h, 1)),
                          *_verdict_level(g7, _("meer dan 16 uur"))))
    return tiles


def _verdict_level(status: str, deviation_word: str) -> tuple[str, str]:
    """Return a tile's level and word for a rule verdict."""
    if status in ("B", "C", "D", "KO"):
        return "bad", deviation_word
    if status == "ok":
        return "ok", _("in orde")
    return "none", _("onbekend")


def alarm_tile(store: Store, config: Settings, house, now: datetime) -> Tile:
    """Return when the ventilation alarm panel was last heard from (A3.4)."""
    label = _("Alarminstallatie gehoord")
    if not house.mechanical_ventilation:
        return Tile(label, "—", "nvt", _("geen mechanische ventilatie"))
    sensors = sensors_at(store, house.id, "ventilation_alarm")
    if not sensors:
        return _none(label)
    ids = [s.id for s in sensors]
    last = _last_reading(store, ids)
    seen_ms = last[0] if last else None
    for heard in last_seen(store, ids).values():
        if heard and (seen_ms is None or heard > seen_ms):
            seen_ms = heard
    if seen_ms is None:
        return _none(label)
    ago = max(0.0, (to_ms(now) - seen_ms) / 1000)
    value = _("{ago} geleden", ago=fmt_duration(ago))
    if last and last[1] >= 1:
        return Tile(label, value, "bad", _("ALARM") if last[1] == 1 else _("storing"))
    if ago > config.params().sensor_rules.ventilation_for(house.id).heartbeat_timeout_minutes * 60:
        return Tile(label, value, "bad", _("stil: functioneert niet"))
    return Tile(label, value, "ok", _("in orde"))


def _current_checks(store: Store, items: tuple[str, ...]) -> list[dict]:
    """Return confirmed, not superseded checks-logbook entries of these items (A3.6)."""
    return [r.entry for r in current_entries(store, "checks", state="confirmed") if r.entry.get("item") in items]


def generator_tile(store: Store, now: datetime, today: date) -> Tile:
    """Return when the emergency generator was last tested (A3.6: every CHECK_MONTHS months)."""
    label = _("Noodstroom laatst getest")
    dates = []
    for entry in _current_checks(store, GENERATOR_ITEMS):
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
        return Tile(label, fmt_date(last), "bad",
                    ngettext("langer dan {n} maand geleden", "langer dan {n} maanden geleden", CHECK_MONTHS))
    return Tile(label, fmt_date(last), "ok", _("in orde"))


def egg_room_tile(store: Store, config: Settings, room: str, now: datetime) -> Tile:
    """Return the egg room's dew-point margin now: egg surface minus dew point (E3.3).

    The egg surface (probe, or the rule's own estimate from the air's history), the dew point and the
    condition are those of the condensation rule, with the room's margin: condensation is at or below
    the dew point, "condensrisico" within the margin.
    """
    label = _("Marge tot dauwpunt")
    found = room_days(store, config, room, now - timedelta(hours=26), now)
    latest = found.latest() if found else None
    if latest is None or (to_ms(now) - latest[0]) / 1000 > FRESH_S:
        return _none(label)
    _ms, dew, egg, state = latest
    value = f"{fmt_number(egg - dew, 1)} °C"
    if not any(d.probe for _label, days in found.sensors for d in days):
        value += " " + _("(eioppervlak geschat)")
    if state == "condensation":
        return Tile(label, value, "bad", _("condens"))
    if state == "risk":
        return Tile(label, value, "warn", _("condensrisico"))
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
        if not house.mechanical_ventilation:
            lines.append(Tile(generator.label, "—", "nvt", _("geen mechanische ventilatie")))
        elif house.flaps_open_on_power_failure:
            # A3.5/A3.6 as the rules judge them: "Niet nodig bij stroomloos te openen ventilatieopeningen."
            lines.append(Tile(generator.label, "—", "nvt", _("niet nodig: ventilatieopeningen openen stroomloos")))
        else:
            lines.append(generator)
        out.append(LocationTiles(house.id, "house", lines))
    for room in config.egg_rooms:
        out.append(LocationTiles(room.id, "egg_room", [egg_room_tile(store, config, room.id, now)]))
    return out
