"""An egg room's condensation days, as the score judges them, for the dashboard tile, the chart and the pack.

The same cached days (``agent.evaluation.derived``) and the same rules (``rules.sensor.eggroom``)
as E3.3 in the score: the tile's "condens"/"condensrisico" and the chart's shaded spells are the
rule's own, with the room's own margin.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from agent.config import Settings
from agent.evaluation.derived import pending_stale, subject_days
from agent.evaluation.sensor_inputs import build_subjects
from agent.store import Store
from rules.sensor import combine_sensors, eggroom, merge_intervals, to_ms


@dataclass(frozen=True)
class RoomDays:
    """An egg room's air sensors (paired) and their condensation days over a window."""

    params: object  # rules.sensor_params.CondensationParams of this room
    coverage: object  # rules.sensor_params.CoverageParams
    sensors: list[tuple[str, tuple]]  # (label, its CondensationDays)

    def verdicts(self) -> dict:
        """Return the room's E3.3 verdict per day: the worst of its sensor pairs."""
        return {v.day: v for v in combine_sensors([[eggroom.verdict(d, self.params, self.coverage) for d in days]
                                                   for _label, days in self.sensors])}

    def latest(self) -> tuple[int, float, float, str] | None:
        """Return the latest judged moment of any pair: ms, dew point, egg surface and its condition."""
        found = [d.last for _label, days in self.sensors for d in days if d.last]
        if not found:
            return None
        ms, dew, egg = max(found)
        return ms, dew, egg, eggroom.condition(dew, egg, self.params)

    def wet(self) -> list[tuple[int, int]]:
        """Return the sustained condensation spells (E3.3 deviations), merged over pairs and days."""
        return merge_intervals((s, e) for _label, days in self.sensors for d in days for s, e, *_ in d.spells)

    def risky(self) -> list[tuple[int, int]]:
        """Return the stretches within the margin of the dew point (or wet), merged over pairs and days."""
        return merge_intervals((s, e) for _label, days in self.sensors for d in days for s, e, *_ in d.risks)


def room_days(store: Store, config: Settings, room: str, since: datetime, until: datetime) -> RoomDays | None:
    """Return an egg room's condensation days in [since, until]; None without a temperature/humidity pair."""
    rules = config.params().sensor_rules
    tz = config.farm_view().tz
    subjects = [s for s in build_subjects(store, config, rules) if s.family == "condensation" and s.location == room]
    if not subjects:
        return None
    stale = pending_stale(store, subjects, tz)  # readers never write the cache: stale days derived again
    return RoomDays(rules.condensation_for(room), rules.coverage,
                    [(s.label, subject_days(store, s, to_ms(since), to_ms(until), tz, stale)) for s in subjects])


# Dutch words for an auditor, as the light table (issue 14); the rule id last.
TABLE_COLUMNS = ["Dag", "Sensoren", "Eioppervlak", "Binnen de marge van het dauwpunt (min)", "Condens (min)",
                 "Diepst onder het dauwpunt (°C)", "Zonder meting (min)", "E3.3"]


def room_table_csv(store: Store, config: Settings, room: str, start: date, end: date) -> bytes | None:
    """Return the egg room's condensation day table for the local days in [start, end] (CSV, `;`, BOM)."""
    tz = config.farm_view().tz
    found = room_days(store, config, room, datetime.combine(start, time(0), tz),
                      datetime.combine(end + timedelta(days=1), time(0), tz))
    if found is None:
        return None
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(TABLE_COLUMNS)
    for label, days in found.sensors:
        for d in days:
            if not start <= d.day <= end:
                continue
            status = eggroom.verdict(d, found.params, found.coverage).status or ("loopt nog" if not d.complete else "")
            deepest = max((depth for *_x, depth in d.spells), default=None)
            writer.writerow([d.day.isoformat(), label, "ei-sonde" if d.probe else "geschat",
                             round(d.risk_ms / 60000), round(d.wet_ms / 60000),
                             "" if deepest is None else f"{deepest:.1f}".replace(".", ","),
                             round(d.gap_ms / 60000), "onbekend" if status == "unknown" else status])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def pack_section(ctx) -> dict[str, bytes]:
    """Audit-pack section: the condensation day table of every egg room with a temperature/humidity pair (E3.3)."""
    files = {}
    for room in ctx.config.egg_rooms:
        data = room_table_csv(ctx.store, ctx.config, room.id, ctx.start, ctx.end)
        if data is not None:
            files[f"condensation/eierlokaal-{room.id}.csv"] = data
    return files
