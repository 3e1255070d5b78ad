"""Beyond one farm: the documents the agent publishes for the bridge to an integrator's broker (status, score,
open alerts, signed chain heads), the job that publishes them on change, the ``fleet`` listing, and Home
Assistant discovery. The bridge itself is mosquitto configuration (``deploy/mosquitto-bridge.conf.example``).
"""

from agent.upstream import homeassistant
from agent.upstream.documents import KINDS, VERSION, ack_topic, chain_doc, check_chain_doc, connected_topic, topic
from agent.upstream.fleet import FleetError, collect_fleet, fleet_rows, render_fleet, save_heads
from agent.upstream.publisher import UpstreamPublisher, upstream_job

__all__ = ["KINDS", "VERSION", "FleetError", "UpstreamPublisher", "ack_topic", "chain_doc", "check_chain_doc",
           "collect_fleet", "connected_topic", "fleet_rows", "homeassistant", "render_fleet", "save_heads", "topic",
           "upstream_job"]
