"""The agent's own health: systemd notifications and the watchdog of `ikb-agent run`, the runtime status
file it keeps on tmpfs, and the status that `ikb-agent status` and the web's status page show.
"""

from agent.health.notify import Notifier
from agent.health.runtime import read_runtime, runtime_dir, runtime_file
from agent.health.status import REASONS, TEXTS, agent_status, collect_status, problem_text, running_agent
from agent.health.watchdog import Progress, Watchdog, stall

__all__ = [
    "Notifier",
    "Progress",
    "REASONS",
    "TEXTS",
    "Watchdog",
    "agent_status",
    "collect_status",
    "problem_text",
    "read_runtime",
    "runtime_dir",
    "runtime_file",
    "running_agent",
    "stall",
]
