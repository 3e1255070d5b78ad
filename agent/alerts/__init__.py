"""Alerts that reach the farmer off the farm: the engine (open, repeat, escalate, acknowledge), where alerts
come from, the persistent outbox, the channels (webhook, e-mail, MQTT) and channel tests.
"""

from agent.alerts.channel_test import ChannelState, channel_states, run_channel_tests
from agent.alerts.engine import acknowledge, acknowledge_by_token, list_alerts, peek_token
from agent.alerts.kinds import KINDS, SEVERITY_WORDS
from agent.alerts.messages import iso, local_text, location_name
from agent.alerts.outbox import outbox_depth, outbox_rows
from agent.alerts.service import alert_listener, due_job

__all__ = [
    "KINDS",
    "ChannelState",
    "SEVERITY_WORDS",
    "acknowledge",
    "acknowledge_by_token",
    "alert_listener",
    "channel_states",
    "due_job",
    "iso",
    "list_alerts",
    "local_text",
    "location_name",
    "outbox_depth",
    "outbox_rows",
    "peek_token",
    "run_channel_tests",
]
