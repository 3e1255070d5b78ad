"""The light-schedule day table per house: one row per lighting day and lux sensor.

Built from the sensor rules' own cached light days (``agent.evaluation.derived``) and the
day verdicts of ``rules.sensor.light``, so the table in the audit pack, the calendar
strip on the web page and the score always agree. Used by the audit pack
(``light/stal-<id>.csv``) and by ``webui.lightstrip``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from agent.config import Settings
from agent.evaluation.derived import pending_stale, subject_days
from agent.evaluation.sensor_inputs import build_subjects
from agent.store import Store
from rules.sensor import LightDay, light, to_ms

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class HouseLightDays:
    """A house's lux (and lamp) sensors and their lighting days over a window, judged as the score judges them."""

    house: object  # rules.evidence.House
    params: object  # rules.sensor_params.LightParams for this house
    coverage: object  # rules.sensor_params.CoverageParams
    sensors: list[tuple[str, tuple[LightDay, ...]]]  # (lux sensor label, its days)
    lamps: list[tuple[str, tuple[LightDay, ...]]]  # (lamp sensor label, its days)

    def days_for(self, rule_id: str) -> list[tuple[str, tuple[LightDay, ...]]]:
        """Return the sensors (label, days) a light rule is judged on here: lux, or the lamps in daylight."""
        return list(light.judged_on(rule_id, self.house, self.sensors, self.lamps)[0])

    def verdicts(self, rule_id: str) -> dict:
        """Return the house's verdict per lighting day on one light rule (the 24 h limits included)."""
        return light.house_verdicts(rule_id, [days for _label, days in self.days_for(rule_id)], self.params,
                                    self.coverage)


def house_light_days(store: Store, config: Settings, house: str, since: datetime, until: datetime) -> HouseLightDays | None:
    """Return the lighting days of every lux and lamp sensor of a house in [since, until]; None without a lux sensor."""
    rules = config.params().sensor_rules
    tz = config.farm_view().tz
    # The house's subjects, exactly as the sensor rules' loader builds them; cached days that newer
    # readings touched are derived again (in memory: readers never write the cache).
    subjects = [s for s in build_subjects(store, config, rules) if s.family in ("light", "lamp") and s.location == house]
    if not any(s.family == "light" for s in subjects):
        return None
    stale = pending_stale(store, subjects, tz)
    # One lighting day more than asked: a lit stretch crossing into the first day is then seen whole
    # enough for the 24 h rules (> 24 h), as the score's loader sees it.
    lo = to_ms(since) - 24 * HOUR_MS
    found = {s.key: (s.label, subject_days(store, s, lo, to_ms(until), tz, stale)) for s in subjects}
    view = next(h for h in config.farm_view().houses if h.id == house)
    return HouseLightDays(view, rules.light_for(house), rules.coverage,
                          [found[s.key] for s in subjects if s.family == "light"],
                          [found[s.key] for s in subjects if s.family == "lamp"])


def _hours(ms: int | None) -> str:
    """Return hours with one decimal, Dutch style; empty for unknown."""
    return "" if ms is None else f"{ms / HOUR_MS:.1f}".replace(".", ",")


def _local(ms: int | None, tz) -> str:
    """Return a farm-local time stamp; empty for unknown."""
    return "" if ms is None else datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m-%d %H:%M")


def table_columns(zone: str) -> list[str]:
    """Return the day table's header: Dutch words for an auditor, the time zone named once, the rule ids."""
    return ["Lichtdag", "Sensor", "Lengte lichtdag (uur)", "Licht (uur)", "Donker in totaal (uur)",
            f"Langste donkerperiode begin ({zone})", "Langste donkerperiode eind", "Langste donkerperiode (uur)",
            "Schemer vóór het donker (min)", "Hoogste lux in het donker", "Zonder meting (min)",
            "G3.8.7", "G3.8.8", "G3.8.9", "G3.8.10", "G3.8.11"]


RULES = ("G3.8.7", "G3.8.8", "G3.8.9", "G3.8.10", "G3.8.11")


def day_row(d: LightDay, sensor: str, p, by_rule: dict, tz) -> list[str]:
    """Return one row of the day table: what was measured and each light rule's verdict that day.

    ``by_rule``: {rule: {day: DayVerdict}} of this sensor, from ``rules.sensor.light.day_verdicts``.
    """
    dark_start, dark_end = d.dark_known if d.dark_known else (None, None)
    dusk = next((ms for t0, ms, _s in d.dusks if t0 == dark_start), None) if d.dusks else None
    if dusk is None and d.dusks:
        dusk = d.dusks[0][1]
    max_dark = max((x[2] for x in d.excess), default=None)
    max_dark_text = (f"{max_dark:.1f}".replace(".", ",") if max_dark is not None
                     else (f"≤ {p.dark_max_lux}".replace(".", ",") if d.dark_ms else ""))
    verdicts = [("—" if rule not in by_rule else
                 (by_rule[rule][d.day].status if d.day in by_rule[rule] else None)
                 or ("loopt nog" if not d.complete else "")) for rule in RULES]
    return [d.day.isoformat(), sensor, _hours(d.end - d.start), _hours(d.light_ms), _hours(d.dark_ms),
            _local(dark_start, tz), _local(dark_end, tz),
            _hours(dark_end - dark_start) if dark_start is not None else "",
            "" if dusk is None else str(round(dusk / 60000)), max_dark_text,
            str(round(d.gap_ms / 60000)), *[v if v != "unknown" else "onbekend" for v in verdicts]]


def light_table_csv(store: Store, config: Settings, house: str, start: date, end: date) -> bytes | None:
    """Return the day table of one house for the lighting days starting in [start, end] (CSV, `;`, BOM)."""
    tz = config.farm_view().tz
    p = config.params().sensor_rules.light_for(house)
    since = datetime.combine(start, p.day_start, tz)
    until = datetime.combine(end + timedelta(days=1), p.day_start, tz)
    days = house_light_days(store, config, house, since, until)
    if days is None:
        return None
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(table_columns(config.farm.timezone))
    # Each rule's verdicts on the sensors it is judged on (lux; the lamps for G3.8.7/9/11 in daylight).
    verdicts: dict[str, dict] = {}
    everyone: dict[str, tuple] = {}
    for rule in RULES:
        for sensor, ds in days.days_for(rule):
            everyone[sensor] = ds
            verdicts.setdefault(sensor, {})[rule] = {v.day: v for v in light.day_verdicts(rule, ds, days.params,
                                                                                           days.coverage)}
    rows = sorted(((d.day, sensor, d) for sensor, ds in everyone.items() for d in ds if start <= d.day <= end),
                  key=lambda r: (r[0], r[1]))
    for _day, sensor, d in rows:
        writer.writerow(day_row(d, sensor, days.params, verdicts[sensor], tz))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def pack_section(ctx) -> dict[str, bytes]:
    """Audit-pack section: the light-schedule day table of every house with a lux sensor."""
    files = {}
    for house in ctx.config.houses:
        data = light_table_csv(ctx.store, ctx.config, house.id, ctx.start, ctx.end)
        if data is not None:
            files[f"light/stal-{house.id}.csv"] = data
    return files
