"""The sensor rules: light (G3.8.7–G3.8.11), the ventilation alarm (A3.4), the generator (A3.5), climate
(A3.3), the egg room (E3.3) and free range (H3.12.x), judged per day from time series. Pure.
"""

from rules.sensor import climate, eggroom, light, live, registry, states, ventilation
from rules.sensor.eggroom import dew_point
from rules.sensor.freerange import HousingOrder, journal
from rules.sensor.generator import episodes, groups, history_start
from rules.sensor.light import LightDay
from rules.sensor.timeseries import (
    HOUR,
    DayRecord,
    LocalDay,
    SensorDays,
    combine_sensors,
    days_between,
    merge_intervals,
    to_dt,
    to_ms,
)
from rules.sensor.ventilation import AlertChannels, ChannelTest, Check

__all__ = [
    "AlertChannels",
    "ChannelTest",
    "Check",
    "DayRecord",
    "HOUR",
    "HousingOrder",
    "LightDay",
    "LocalDay",
    "SensorDays",
    "climate",
    "combine_sensors",
    "days_between",
    "dew_point",
    "eggroom",
    "episodes",
    "groups",
    "history_start",
    "journal",
    "light",
    "live",
    "merge_intervals",
    "registry",
    "states",
    "to_dt",
    "to_ms",
    "ventilation",
]
