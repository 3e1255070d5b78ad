"""Charts: light per house (dark periods, dusk, the 8-hour line) and the egg room (dew point vs egg).

Readings are reduced in SQL to about 300 buckets per series (agent/downsample.py),
so a year draws as fast as two days. Dark periods and dusk are display
estimates from the lux series (webui/lightview.py); for windows up to a week they
come from the readings themselves, beyond that from the buckets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, abort, render_template, request

from agent.store import downsample, from_ms, sensors_at, series, to_ms
from rules.sensor import dew_point
from rules.texts import N_
from webui.i18n import fmt_number, location_word
from webui.i18n import gettext as _
from webui.lightstrip import nights
from webui.lightview import DARK_LUX, LIGHT_LUX, MIN_DARK_H, Spell, dark_spells, dusk_spells
from webui.state import get_config, get_store, now
from webui.svg import Limit, Line, Shade, linear_scale, lux_scale, render

bp = Blueprint("charts", __name__, url_prefix="/charts")

RANGES = {"48h": timedelta(hours=48), "7d": timedelta(days=7), "30d": timedelta(days=30),
          "90d": timedelta(days=90), "365d": timedelta(days=365)}
RANGE_LABELS = {"48h": N_("48 uur"), "7d": N_("7 dagen"), "30d": N_("30 dagen"), "90d": N_("90 dagen"),
                "365d": N_("1 jaar")}
# Nights in the calendar strip above the light chart, per range.
STRIP_NIGHTS = {"48h": 14, "7d": 14, "30d": 30, "90d": 90, "365d": 365}
POINTS = 300
RAW_SPELLS_UP_TO = timedelta(days=7)
# E3.3: condensation risk when the dew point comes within this margin of the egg surface (display only).
RISK_MARGIN = 1.0


def _window():
    """Return (range key, since, until) from the query string."""
    key = request.args.get("range", "48h")
    if key not in RANGES:
        key = "48h"
    until = now()
    return key, until - RANGES[key], until


@bp.get("/")
def index():
    """List the charts: one per house, one per egg room."""
    config = get_config()
    return render_template("charts/index.html", houses=config.houses, rooms=config.egg_rooms)


@dataclass
class DarkRow:
    """A dark period in the table under the light chart."""

    spell: Spell
    ok: bool


def _runs(starts: list[int], width_ms: int) -> list[Spell]:
    """Return the stretches covered by buckets starting at ``starts`` (adjacent ones joined)."""
    out: list[Spell] = []
    for start in sorted(starts):
        if out and out[-1].end >= start:
            out[-1] = Spell(out[-1].start, start + width_ms)
        else:
            out.append(Spell(start, start + width_ms))
    return out


@bp.get("/light/<house>")
def light(house: str):
    """Show a house's lux with dark periods shaded, dusk marked and the 8-hour line."""
    config = get_config()
    if house not in {h.id for h in config.houses}:
        abort(404, _("Stal {id} bestaat niet.", id=house))
    key, since, until = _window()
    store, tz = get_store(), config.farm_view().tz
    sensors = sensors_at(store, house, "lux")
    chart, rows = None, []
    strip = nights(store, config, house, until, STRIP_NIGHTS[key])
    if sensors:
        sid = sensors[0].id
        buckets = downsample(store, sid, since, until, POINTS)
        lo, hi = to_ms(since), to_ms(until)
        if RANGES[key] <= RAW_SPELLS_UP_TO:
            points = series(store, sid, since - timedelta(minutes=15), until)
            darks, dusks = dark_spells(points, hi), dusk_spells(points, hi)
        else:
            width = (buckets[1].start - buckets[0].start) if len(buckets) > 1 else 60_000
            darks = _runs([b.start for b in buckets if b.vmax <= DARK_LUX], width)
            dusks = _runs([b.start for b in buckets if DARK_LUX < b.mean < LIGHT_LUX], width)
        darks = [s for s in darks if s.end > lo]
        rows = [DarkRow(s, s.hours >= MIN_DARK_H) for s in darks if s.hours >= 1]
        shades = [Shade(s.start, s.end, "dusk", _("schemer")) for s in dusks if s.end > lo]
        shades += [Shade(r.spell.start, r.spell.end, "dark" if r.ok else "short",
                         _("donker {h} uur", h=fmt_number(r.spell.hours, 1))) for r in rows]
        marks = [(r.spell.start, r.spell.start + int(MIN_DARK_H * 3_600_000), _("8 u")) for r in rows] \
            if RANGES[key] <= RAW_SPELLS_UP_TO else []
        top = max((b.vmax for b in buckets), default=50.0)
        chart = render(
            lo=lo, hi=hi, tz=tz, scale=lux_scale(top, lambda v: fmt_number(v, 1 if v < 1 else 0)),
            lines=[Line(_("lux (gemiddelde, band: min–max)"), [(b.start, b.mean) for b in buckets], "#0b57a4",
                        [(b.start, b.vmin, b.vmax) for b in buckets])],
            shades=shades, marks=marks,
            limits=[Limit(DARK_LUX, _("0,5 lx: donker (G3.8.10)")), Limit(LIGHT_LUX, _("20 lx: licht (G3.8.8)"))],
            title=_("Lichtintensiteit {loc}", loc=location_word(house)), y_label="lux")
    return render_template("charts/light.html", house=house, chart=chart, rows=rows, strip=strip, key=key, ranges=RANGES,
                           range_labels=RANGE_LABELS, from_ms=from_ms, has_sensor=bool(sensors))


def _buckets_of(store, location: str, kind: str, since, until):
    """Return the buckets of the first sensor of a kind at a location (empty when none)."""
    sensors = sensors_at(store, location, kind)
    return downsample(store, sensors[0].id, since, until, POINTS) if sensors else []


@bp.get("/egg-room/<room>")
def egg_room(room: str):
    """Show an egg room's temperature, dew point and egg temperature, condensation risk shaded."""
    config = get_config()
    if room not in {r.id for r in config.egg_rooms}:
        abort(404, _("Eierlokaal {id} bestaat niet.", id=room))
    key, since, until = _window()
    store, tz = get_store(), config.farm_view().tz
    temp = _buckets_of(store, room, "temperature", since, until)
    hum = {b.start: b.mean for b in _buckets_of(store, room, "humidity", since, until)}
    egg = _buckets_of(store, room, "egg_temperature", since, until)
    chart, risks = None, []
    if temp:
        dew = [(b.start, d) for b in temp if b.start in hum and (d := dew_point(b.mean, hum[b.start])) is not None]
        # The egg surface: the probe where there is one, else the air temperature (a documented estimate).
        surface = {b.start: b.mean for b in egg} or {b.start: b.mean for b in temp}
        width = (temp[1].start - temp[0].start) if len(temp) > 1 else 60_000
        risks = _runs([t for t, d in dew if t in surface and d >= surface[t] - RISK_MARGIN], width)
        values = [b.vmin for b in temp] + [b.vmax for b in temp] + [d for _t, d in dew] + [b.mean for b in egg]
        lines = [Line(_("luchttemperatuur"), [(b.start, b.mean) for b in temp], "#b3261e",
                      [(b.start, b.vmin, b.vmax) for b in temp]),
                 Line(_("dauwpunt"), dew, "#0b57a4", dashed=True)]
        if egg:
            lines.append(Line(_("eitemperatuur"), [(b.start, b.mean) for b in egg], "#1b7a36"))
        chart = render(lo=to_ms(since), hi=to_ms(until), tz=tz,
                       scale=linear_scale(min(values), max(values), lambda v: fmt_number(v, 0) + " °C"),
                       lines=lines, shades=[Shade(s.start, s.end, "risk", _("condensrisico")) for s in risks],
                       title=_("Eierlokaal {loc}: temperatuur en dauwpunt", loc=location_word(room)), y_label="°C")
    return render_template("charts/egg_room.html", room=room, chart=chart, risks=risks, key=key, ranges=RANGES,
                           range_labels=RANGE_LABELS, from_ms=from_ms, has_egg=bool(egg), has_data=bool(temp))
