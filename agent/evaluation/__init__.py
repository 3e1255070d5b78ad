"""Evaluation: evidence gathered from the store, the rules run, the score kept; the per-day cache of the
sensor rules and the continuous evaluation of `ikb-agent run`.
"""

from agent.evaluation import lightdays, roomdays
from agent.evaluation.continuous import alarm_listener, tick_job
from agent.evaluation.lightdays import house_light_days
from agent.evaluation.roomdays import room_days
from agent.evaluation.score import finding_of_row, recorded_score, score_window

__all__ = ["alarm_listener", "finding_of_row", "house_light_days", "lightdays", "recorded_score", "room_days",
           "roomdays", "score_window", "tick_job"]
