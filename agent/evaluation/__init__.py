"""Evaluation: evidence gathered from the store, the rules run, the score kept; the per-day cache of the
sensor rules and the continuous evaluation of `ikb-agent run`.
"""

from agent.evaluation import lightdays, roomdays
from agent.evaluation.continuous import alarm_listener, backfill_job, episodes_job, record_generator_episodes, tick_job
from agent.evaluation.lightdays import house_light_days
from agent.evaluation.roomdays import room_days
from agent.evaluation.score import score_window
from agent.evaluation.sensor_inputs import backfill_day_cache, load_sensor_inputs, refresh_day_cache

__all__ = [
    "alarm_listener",
    "backfill_day_cache",
    "backfill_job",
    "episodes_job",
    "house_light_days",
    "lightdays",
    "load_sensor_inputs",
    "record_generator_episodes",
    "refresh_day_cache",
    "room_days",
    "roomdays",
    "score_window",
    "tick_job",
]
