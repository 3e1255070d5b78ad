"""Charts: light per house (dark periods, dusk, the 8-hour line) and the egg room (dew point vs egg).

Readings are reduced in SQL to about 300 buckets per series (``agent.store.downsample``),
so a year draws as fast as two days. What is shaded — dark periods, dusk and dawn,
daylight, condensation and its risk — is never estimated here: it is the sensor
rules' own days (``agent.evaluation``), the ones the score judges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, abort, render_template, request

from agent.evaluation import house_light_days, room_days
from agent.store import downsample, from_ms, sensors_at, to_ms
from rules.sensor import dew_point, merge_intervals
from rules.texts import N_
from webui.i18n import fmt_number, location_word
from webui.i18n import gettext as _
from webui.lightstrip import nights
from webui.state import get_config, get_store, now
from webui.svg import Limit, Line, Shade, legend_key, linear_scale, lux_scale, responsive

bp = Blueprint("charts", __name__, url_prefix="/charts")

RANGES = {"48h": timedelta(hours=48), "7d": timedelta(days=7), "30d": timedelta(days=30),
          "90d": timedelta(days=90), "365d": timedelta(days=365)}
RANGE_LABELS = {"48h": N_("48 uur"), "7d": N_("7 dagen"), "30d": N_("30 dagen"), "90d": N_("90 dagen"),
                "365d": N_("1 jaar")}
# Nights in the calendar strip above the light chart, per range.
STRIP_NIGHTS = {"48h": 14, "7d": 14, "30d": 30, "90d": 90, "365d": 365}
POINTS = 300
MARKS_UP_TO = timedelta(days=7)  # the "8 u" line from each dark period's start, up to a week


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
class Spell:
    """A stretch of time [start, end) in ms."""

    start: int
    end: int

    @property
    def hours(self) -> float:
        """Return the length in hours."""
        return (self.end - self.start) / 3_600_000


@dataclass
class DarkRow:
    """A dark period in the table under the light chart."""

    spell: Spell
    ok: bool


def _joined(intervals) -> list[Spell]:
    """Return touching or overlapping intervals as one spell each (a dark period over two lighting days)."""
    return [Spell(s, e) for s, e in merge_intervals(intervals)]


def _everywhere(per_sensor: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    """Return where every sensor's intervals overlap: a house is dark only where every place is dark."""
    if not per_sensor:
        return []
    out = merge_intervals(per_sensor[0])
    for other in per_sensor[1:]:
        other = merge_intervals(other)
        out = [(max(a, c), min(b, d)) for a, b in out for c, d in other if min(b, d) > max(a, c)]
    return out


# Okabe–Ito names (webui/svg.py): each sensor also gets its own marker shape and end label.
COLOURS = ("blue", "vermillion", "purple", "black")


@bp.get("/light/<house>")
def light(house: str):
    """Show a house's lux with the light rules' dark periods shaded, dusk and dawn marked, and the 8-hour line.

    The dark periods, ramps and daylight are the rules' own (``agent.evaluation.house_light_days``), for
    every lux sensor of the house, so the chart cannot contradict the finding.
    """
    config = get_config()
    if house not in {h.id for h in config.houses}:
        abort(404, _("Stal {id} bestaat niet.", id=house))
    key, since, until = _window()
    store, tz = get_store(), config.farm_view().tz
    p = config.params().sensor_rules.light_for(house)
    chart, rows = None, []
    strip = nights(store, config, house, until, STRIP_NIGHTS[key])
    found = house_light_days(store, config, house, since, until)
    sensors = [s for s in sensors_at(store, house, "lux")
               if any((c.topic, c.field or "") == (s.topic, s.field or "") for c in config.sensors)]
    if found is not None and sensors:
        lo, hi = to_ms(since), to_ms(until)
        lines, top = [], 50.0
        for k, sensor in enumerate(sensors):
            buckets = downsample(store, sensor.id, since, until, POINTS)
            top = max([top] + [b.vmax for b in buckets])
            label = _("lux {sensor} (gemiddelde, band: min–max)", sensor=sensor.topic) if len(sensors) > 1 \
                else _("lux (gemiddelde, band: min–max)")
            lines.append(Line(label, [(b.start, b.mean) for b in buckets], COLOURS[k % len(COLOURS)],
                              [(b.start, b.vmin, b.vmax) for b in buckets],
                              short="lux" if len(sensors) == 1 else sensor.topic.rsplit("/", 1)[-1][:10]))
        judged = found.days_for("G3.8.9")  # the lamps where daylight reaches the house, else lux
        darks = _joined(_everywhere([[iv for d in days for iv in d.darks] for _label, days in judged]))
        ramps = _joined([iv for _label, days in found.sensors for d in days for iv in d.ramps])
        sun = _joined([iv for _label, days in found.sensors for d in days for iv in d.sun])
        rows = [DarkRow(s, s.hours >= p.min_dark_hours) for s in darks if s.end > lo and s.start < hi]
        shades = [Shade(s.start, s.end, "daylight", _("daglicht")) for s in sun if s.end > lo]
        shades += [Shade(s.start, s.end, "dusk", _("schemer")) for s in ramps if s.end > lo]
        shades += [Shade(r.spell.start, r.spell.end, "dark" if r.ok else "short",
                         _("donker {h} uur", h=fmt_number(r.spell.hours, 1))) for r in rows]
        need = int(p.min_dark_hours * 3_600_000)
        marks = [(r.spell.start, r.spell.start + need, _("{h} u", h=fmt_number(p.min_dark_hours, 0)))
                 for r in rows] if RANGES[key] <= MARKS_UP_TO else []
        chart = responsive(
            lo=lo, hi=hi, tz=tz, scale=lux_scale(top, lambda v: fmt_number(v, 1 if v < 1 else 0)),
            lines=lines, shades=shades, marks=marks, chart_id=f"light-{house}",
            limits=[Limit(p.dark_max_lux, _("{v} lx: donker (G3.8.10)", v=fmt_number(p.dark_max_lux, 1))),
                    Limit(p.min_light_lux, _("{v} lx: licht (G3.8.8)", v=fmt_number(p.min_light_lux, 0)))],
            title=_("Lichtintensiteit {loc}", loc=location_word(house)), y_label="lux")
    return render_template("charts/light.html", house=house, chart=chart, rows=rows, strip=strip, key=key, ranges=RANGES,
                           range_labels=RANGE_LABELS, from_ms=from_ms, has_sensor=bool(sensors) and found is not None,
                           min_dark=p.min_dark_hours, lux_keys=[(legend_key(line, i), line.label)
                                                                for i, line in enumerate(lines)] if chart else [])


def _buckets_of(store, location: str, kind: str, since, until):
    """Return the buckets of the first sensor of a kind at a location (empty when none)."""
    sensors = sensors_at(store, location, kind)
    return downsample(store, sensors[0].id, since, until, POINTS) if sensors else []


@bp.get("/egg-room/<room>")
def egg_room(room: str):
    """Show an egg room's temperature, dew point and egg temperature, condensation and its risk shaded.

    The shaded spells are the condensation rule's own (``agent.evaluation.room_days``), with the room's
    margin: condensation (egg surface at or below the dew point, sustained: E3.3) and risk (within the margin).
    """
    config = get_config()
    if room not in {r.id for r in config.egg_rooms}:
        abort(404, _("Eierlokaal {id} bestaat niet.", id=room))
    key, since, until = _window()
    store, tz = get_store(), config.farm_view().tz
    p = config.params().sensor_rules.condensation_for(room)
    temp = _buckets_of(store, room, "temperature", since, until)
    hum = {b.start: b.mean for b in _buckets_of(store, room, "humidity", since, until)}
    egg = _buckets_of(store, room, "egg_temperature", since, until)
    found = room_days(store, config, room, since, until)
    chart, risks, wet = None, [], []
    if temp:
        lo, hi = to_ms(since), to_ms(until)
        dew = [(b.start, dew_point(b.mean, hum[b.start])) for b in temp if b.start in hum]
        if found is not None:
            risks = [s for s in _joined(found.risky()) if s.end > lo and s.start < hi]
            wet = [s for s in _joined(found.wet()) if s.end > lo and s.start < hi]
        values = [b.vmin for b in temp] + [b.vmax for b in temp] + [d for _t, d in dew] + [b.mean for b in egg]
        # Air and egg were red and green: now vermillion, solid, circles; purple, dotted, triangles.
        lines = [Line(_("luchttemperatuur"), [(b.start, b.mean) for b in temp], "vermillion",
                      [(b.start, b.vmin, b.vmax) for b in temp], shape="circle", short=_("lucht")),
                 Line(_("dauwpunt"), dew, "blue", dash="dashed", shape="square", short=_("dauwpunt"))]
        if egg:
            lines.append(Line(_("eitemperatuur"), [(b.start, b.mean) for b in egg], "purple", dash="dotted",
                              shape="triangle", short=_("ei")))
        keys = {k: legend_key(line, i) for i, (k, line) in enumerate(zip(("air", "dew", "egg"), lines))}
        shades = [Shade(s.start, s.end, "risk", _("condensrisico")) for s in risks]
        shades += [Shade(s.start, s.end, "wet", _("condens")) for s in wet]
        chart = responsive(chart_id=f"room-{room}", lo=lo, hi=hi, tz=tz,
                       scale=linear_scale(min(values), max(values), lambda v: fmt_number(v, 0) + " °C"),
                       lines=lines, shades=shades,
                       title=_("Eierlokaal {loc}: temperatuur en dauwpunt", loc=location_word(room)), y_label="°C")
    return render_template("charts/egg_room.html", room=room, chart=chart, risks=risks, wet=wet, key=key,
                           ranges=RANGES, range_labels=RANGE_LABELS, from_ms=from_ms, has_egg=bool(egg),
                           has_data=bool(temp), margin=p.margin_c, keys=keys if temp else {})
