"""An egg room's condensation days, as the score judges them, for the dashboard tile and the chart.

The same cached days (``agent.evaluation.derived``) and the same rules (``rules.sensor.eggroom``)
as E3.3 in the score: the tile's "condens"/"condensrisico" and the chart's shaded spells are the
rule's own, with the room's own margin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agent.config import Settings
from agent.evaluation.derived import apply_marks, subject_days
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
    every = build_subjects(store, config, rules)
    subjects = [s for s in every if s.family == "condensation" and s.location == room]
    if not subjects:
        return None
    apply_marks(store, every, tz)
    return RoomDays(rules.condensation_for(room), rules.coverage,
                    [(s.label, subject_days(store, s, to_ms(since), to_ms(until), tz)) for s in subjects])
