"""Ingestion: MQTT messages decoded, validated, stored in batches, acknowledged after the commit, and the
listeners told; sensor health (silent sensors).
"""

from agent.ingest.health import SensorStatus, check_health, rejection_totals, sensor_status
from agent.ingest.ingestor import Ingestor, Listener, StoredReading, ingest_all

__all__ = ["Ingestor", "Listener", "SensorStatus", "StoredReading", "check_health", "ingest_all", "rejection_totals",
           "sensor_status"]
