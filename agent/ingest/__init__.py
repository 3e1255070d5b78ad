"""Ingestion: MQTT messages decoded, validated, stored in batches, acknowledged after the commit, and the
listeners told; sensor health (silent sensors).
"""

from agent.ingest.health import check_health, sensor_status
from agent.ingest.ingestor import Ingestor, Listener, StoredReading, ingest_all

__all__ = ["Ingestor", "Listener", "StoredReading", "check_health", "ingest_all", "sensor_status"]
