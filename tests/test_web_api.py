"""The JSON API: authentication, validation with named fields, downsampled readings, and a fuzz run."""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from agent.config import SensorSection
from agent.store.connection import open_store
from agent.store.readings import insert_readings, sync_sensors, to_ms
from agent.store.rollups import roll_up_charts
from agent.store.users import create_token

from .web_fixtures import (  # noqa: F401
    NOW,
    accounts,
    app,
    auditor,
    client_for,
    clock,
    db_path,
    farm_config,
    farmer,
    token_of,
    web_store,
)


@pytest.fixture
def tokens(app):
    """Return an API token per account."""
    store = open_store(app.extensions["ikb"].store_path)
    out = {name: create_token(store, name, NOW, "test") for name in ("jan", "anna", "tablet")}
    store.close()
    return out


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_openapi_document_is_public_and_lists_the_operations(app):
    doc = app.test_client().get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/score", "/api/v1/findings", "/api/v1/rules", "/api/v1/rules/{rule_id}", "/api/v1/readings",
            "/api/v1/sensors", "/api/v1/documents", "/api/v1/assessments"} <= set(doc["paths"])
    assert set(doc["paths"]["/api/v1/assessments"]) == {"get", "post"}
    assert "AssessmentBody" in doc["components"]["schemas"]


def test_the_api_needs_a_session_or_a_valid_token(app, tokens):
    client = app.test_client()
    assert client.get("/api/v1/score").status_code == 401
    assert client.get("/api/v1/score", headers=bearer("ikb_not-a-token")).status_code == 401
    response = client.get("/api/v1/score", headers=bearer(tokens["jan"]))
    assert response.status_code == 200 and response.json["scheme"] == "IKB Ei"
    assert list(response.json)[:6] == ["at", "since", "scheme", "verdict", "weights", "counts"]
    assert "points" not in response.json
    assert client.get("/api/v1/score", headers=bearer(tokens["tablet"])).status_code == 403


def test_a_session_write_needs_the_csrf_header_and_a_token_write_does_not(farmer, tokens, web_store):
    body = {"rule": "A4.1.6", "status": "ok"}
    assert farmer.post("/api/v1/assessments", json=body).status_code == 400
    ok = farmer.post("/api/v1/assessments", json=body, headers={"X-CSRFToken": token_of(farmer)})
    assert ok.status_code == 201 and ok.json["answered_by"] == "jan"
    by_token = farmer.application.test_client().post("/api/v1/assessments", json=body, headers=bearer(tokens["jan"]))
    assert by_token.status_code == 201
    assert web_store.query("SELECT count(*) AS n FROM assessments")[0]["n"] == 2


def test_an_auditor_token_reads_but_cannot_write(app, tokens, web_store):
    client = app.test_client()
    assert client.get("/api/v1/assessments", headers=bearer(tokens["anna"])).status_code == 200
    refused = client.post("/api/v1/assessments", json={"rule": "A4.1.6", "status": "ok"}, headers=bearer(tokens["anna"]))
    assert refused.status_code == 403 and refused.json["error"] == "forbidden"
    assert web_store.query("SELECT count(*) AS n FROM assessments")[0]["n"] == 0


@pytest.mark.parametrize("body, status, field, message", [
    ("not json", 400, None, None),
    ([1, 2], 422, "body", "verwacht een JSON-object"),
    ({"rule": "A4.1.10"}, 422, "status", "verplicht veld ontbreekt"),
    ({"rule": "A4.1.10", "status": "X"}, 422, "status", "kies uit ok, B, C, D, KO, nvt"),
    ({"rule": "A4.1.10", "status": "C"}, 422, "note", "beschrijf de afwijking"),
    ({"rule": "Q1", "status": "ok"}, 422, "rule", "Q1 is geen IKB Ei-regel"),
    ({"rule": "A4.1.6", "status": "ok", "extra": 1}, 422, "extra", "onbekend veld (controleer de spelling)"),
    ({"rule": "A4.1.6", "status": "ok", "location": "9"}, 422, "location", "kies uit 1, 2, E"),
])
def test_bad_answer_bodies_name_the_field_and_store_nothing(app, tokens, web_store, body, status, field, message):
    client = app.test_client()
    headers = bearer(tokens["jan"])
    if isinstance(body, str):
        response = client.post("/api/v1/assessments", data=body, headers=headers, content_type="application/json")
    else:
        response = client.post("/api/v1/assessments", json=body, headers=headers)
    assert response.status_code == status
    if field:
        assert response.json["fields"][field] == message
    assert web_store.query("SELECT count(*) AS n FROM assessments")[0]["n"] == 0


def test_documents_are_added_and_listed(app, tokens):
    client = app.test_client()
    headers = bearer(tokens["jan"])
    bad = client.post("/api/v1/documents", json={"kind": "water_test", "issued_on": "2026-13-01"}, headers=headers)
    assert bad.status_code == 422 and bad.json["fields"]["issued_on"] == "verwacht een datum JJJJ-MM-DD (bijv. 2026-03-28)"
    added = client.post("/api/v1/documents", json={"kind": "A6.3.1", "issued_on": "2026-10-01"}, headers=headers)
    assert added.status_code == 201 and added.json["kind"] == "water_test"
    assert [d["id"] for d in client.get("/api/v1/documents", headers=headers).json] == [added.json["id"]]
    score = client.get("/api/v1/findings?rule=A6.3.1", headers=headers).json
    assert score[0]["status"] == "ok"


def test_readings_are_reduced_to_buckets_across_raw_and_aggregated_data(app, tokens, web_store):
    sensor = sync_sensors(web_store, [SensorSection(topic="stal1/lux", kind="lux", location="1")], NOW)
    sid = next(iter(sensor.values())).id
    # Two days of raw readings every minute, and before that 60 days of per-minute aggregates.
    raw = [(sid, to_ms(NOW - timedelta(minutes=m)), float(m % 100)) for m in range(0, 2 * 1440)]
    first_raw_min = to_ms(NOW - timedelta(minutes=2 * 1440 - 1)) // 60000
    with web_store.transaction() as db:
        insert_readings(db, raw)
        db.conn.executemany("INSERT INTO aggregates(sensor_id, minute, n, vmin, vmax, mean) VALUES (?, ?, 6, ?, ?, ?)",
                            [(sid, first_raw_min - k, 1.0, 9.0, 5.0) for k in range(1, 60 * 1440)])
    client = app.test_client()
    headers = bearer(tokens["jan"])
    recent = client.get(f"/api/v1/readings?sensor={sid}", headers=headers).json
    assert recent["bucket_s"] == 600 and 280 <= len(recent["buckets"]) <= 300
    # The window starts exactly at the newest aggregated minute: that minute's 6 readings count too.
    assert sum(b["n"] for b in recent["buckets"]) == 2 * 1440 + 6
    since = (NOW - timedelta(days=62)).isoformat()
    asked = {"sensor": sid, "since": since, "points": 300}
    longer = client.get("/api/v1/readings", query_string=asked, headers=headers).json
    assert longer["bucket_s"] == 21600 and len(longer["buckets"]) <= 300
    # Every stored reading is counted once: raw ones singly, aggregated minutes with their n.
    assert sum(b["n"] for b in longer["buckets"]) == 2 * 1440 + 6 * (60 * 1440 - 1)
    assert min(b["min"] for b in longer["buckets"]) == 0.0 and max(b["max"] for b in longer["buckets"]) == 99.0
    # The page built no roll-ups (it only reads: the buckets above came from the aggregates); once `run` has
    # rolled the hours up, the roll-ups answer and give the same buckets.
    assert web_store.query("SELECT count(*) AS n FROM rollups")[0]["n"] == 0
    assert roll_up_charts(web_store) >= 60 * 24 - 1
    assert client.get("/api/v1/readings", query_string=asked, headers=headers).json == longer
    bad = client.get(f"/api/v1/readings?sensor={sid}&since=2026-01-01", headers=headers)
    assert bad.status_code == 422 and "since" in bad.json["fields"]


# --------------------------------------------------------------------------- fuzzing from the OpenAPI document


# schemathesis.pytest.from_fixture does not run under pytest 9, so the operations are
# walked here with each one's Hypothesis strategy, positive and negative data alike.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_fuzzed_from_its_openapi_document_never_fails_with_5xx(app, tokens, mode):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    from webui.api.core import api

    assert len(operations) == len(api.operations) >= 30  # phase 1's ten, the logbooks' read/add/correct/confirm

    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def run(case):
            case.call_and_validate(headers=bearer(tokens["jan"]), checks=checks)

        run()


def test_a_score_window_longer_than_800_days_is_refused_even_with_since_alone(app, tokens):
    client = app.test_client()
    response = client.get("/api/v1/score?since=1990-01-01T00:00:00Z", headers=bearer(tokens["jan"]))
    assert response.status_code == 422
    assert response.get_json()["message"] == "since: het venster is hoogstens 800 dagen"
