"""`ikb-agent demo`: everything on one machine, no set-up.

Creates a demo farm (configuration and database) in a working directory and
starts what this version has. Later stages add the private broker, the
simulator, the agent and the web page here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

DEMO_TOML = """\
# Demo farm written by `ikb-agent demo`.
[farm]
name = "Demobedrijf De Hoeve"
kip_number = "123456"
latitude = 52.10
longitude = 5.60
timezone = "Europe/Amsterdam"

[[houses]]
id = "1"
housing = "free_range"
mechanical_ventilation = true
name = "Stal 1 (vrije uitloop)"

[[houses]]
id = "2"
housing = "barn"
mechanical_ventilation = true
name = "Stal 2 (scharrel)"

[[egg_rooms]]
id = "E"
name = "Eierlokaal"

[mqtt]
host = "127.0.0.1"
port = {mqtt_port}
client_id = "ikb-agent-demo"

[storage]
path = "{db}"

[web]
host = "127.0.0.1"
port = {web_port}
"""


def write_demo_config(workdir: Path, *, mqtt_port: int = 18830, web_port: int = 8080) -> Path:
    """Write the demo configuration into ``workdir`` and return its path."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "ikb-agent.toml"
    path.write_text(DEMO_TOML.format(db=workdir / "demo.db", mqtt_port=mqtt_port, web_port=web_port),
                    encoding="utf-8")
    return path


def seed_demo_records(store, now: datetime) -> None:
    """Record a few documents and answers so the demo shows every kind of status."""
    from agent.assessments import record_answer
    from agent.documents import record_document
    from rules.catalogue import load_catalogue

    if store.query("SELECT 1 FROM documents LIMIT 1"):
        return
    today = now.date()
    record_document(store, kind="water_test", issued_on=today - timedelta(days=200), recorded_by="demo", now=now)
    record_document(store, kind="health_plan", issued_on=today - timedelta(days=340), recorded_by="demo", now=now)
    record_document(store, kind="hygiene_scan", issued_on=today - timedelta(days=400), recorded_by="demo", now=now)
    record_document(store, kind="stall_measurement_report", issued_on=today - timedelta(days=900),
                    location="1", recorded_by="demo", now=now)
    catalogue = load_catalogue()
    for rule in ("A1.1", "A4.1.1", "A4.1.6", "A4.2.1"):
        record_answer(store, catalogue, rule_id=rule, status="ok", note="", answered_by="demo", now=now)
    record_answer(store, catalogue, rule_id="A4.1.10", status="C", note="Rommel achter stal 2",
                  answered_by="demo", now=now)
