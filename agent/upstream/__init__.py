"""Beyond one farm: the documents the agent publishes for the bridge to an integrator's broker (status, score,
open alerts, signed chain heads), the job that publishes them on change, the ``fleet`` listing, and Home
Assistant discovery. The bridge itself is mosquitto configuration (``deploy/mosquitto-bridge.conf.example``).
"""

from agent.upstream.documents import KINDS, VERSION, ack_topic, chain_doc, check_chain_doc, connected_topic, topic

__all__ = ["KINDS", "VERSION", "ack_topic", "chain_doc", "check_chain_doc", "connected_topic", "topic"]
