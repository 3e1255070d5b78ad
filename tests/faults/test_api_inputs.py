"""Every API input error is a 4xx with a JSON message, never a 500 (issue 13, Why 9).

NaN, ±Infinity, 1e309, giant integers and 5,000-deep JSON gave an HTML 500; `water_l = 1e308` was accepted.
This walks every operation of the OpenAPI document with hostile bodies and query values, as the farmer's
token. (The schemathesis run over the same document, positive and negative, is tests/test_web_api.py.)
"""

from __future__ import annotations

import json
import re

import pytest

from agent.store.connection import open_store
from agent.store.users import create_token
from tests.web_fixtures import NOW, accounts, app, clock, db_path, farm_config  # noqa: F401

HOSTILE_BODIES = {
    "NaN": '{"value": NaN}',
    "Infinity": '{"value": Infinity}',
    "-Infinity": '{"value": -Infinity}',
    "1e309": '{"value": 1e309}',
    "giant integer": '{"value": ' + "9" * 401 + "}",
    "5,000-deep array": "[" * 5000 + "]" * 5000,
    "5,000-deep object": '{"a":' * 5000 + "1" + "}" * 5000,
    "40-deep object": '{"a":' * 40 + "1" + "}" * 40,
    "not JSON": "{'single': quotes}",
    "empty": "",
    "array": "[1, 2]",
    "lone surrogate": '{"name": "\\ud800"}',
    "NUL": '{"name": "a\\u0000b"}',
}
HOSTILE_QUERY = ["nan", "inf", "-inf", "1e309", "9" * 401, "٢١", "２０２６-01-01", "99999-01-01T00:00:00Z",
                 "0001-01-01T00:00:00+14:00", "\x00", "%", "' OR 1=1 --"]


@pytest.fixture
def farmer_token(app):
    store = open_store(app.extensions["ikb"].store_path)
    token = create_token(store, "jan", NOW, "faults")
    store.close()
    return {"Authorization": f"Bearer {token}"}


def _operations(app):
    doc = app.test_client().get("/api/openapi.json").json
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            concrete = re.sub(r"\{[a-z_]+\}", lambda m: {"{kind}": "visitors", "{entry_id}": "1",
                                                          "{rule_id}": "A4.1.10"}.get(m.group(0), "1"), path)
            yield method.upper(), concrete, op


def _check(response, what):
    assert response.status_code < 500, (what, response.status_code, response.get_data(as_text=True)[:300])
    assert response.is_json, (what, response.status_code)
    assert {"error", "message"} <= set(response.json), what


def test_hostile_bodies_are_4xx_on_every_write(app, farmer_token):
    client = app.test_client()
    checked = 0
    for method, path, op in _operations(app):
        if method == "GET":
            continue
        for name, body in HOSTILE_BODIES.items():
            response = client.open(path, method=method, data=body, headers={**farmer_token,
                                   "Content-Type": "application/json"})
            _check(response, (method, path, name))
            assert 400 <= response.status_code < 500, (method, path, name)
            checked += 1
        # A body that is not labelled JSON at all.
        _check(client.open(path, method=method, data="x=1", headers=farmer_token), (method, path, "form"))
    assert checked >= 100


def test_hostile_query_values_are_4xx_or_ignored_on_every_read(app, farmer_token):
    client = app.test_client()
    checked = 0
    for method, path, op in _operations(app):
        if method != "GET":
            continue
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        for name in names:
            for value in HOSTILE_QUERY:
                response = client.get(path, query_string={name: value}, headers=farmer_token)
                assert response.status_code < 500, (path, name, value, response.get_data(as_text=True)[:300])
                checked += 1
    assert checked >= 50


def test_water_1e308_and_nan_words_are_refused_naming_the_field(app, farmer_token):
    client = app.test_client()
    day = {"date": "2026-10-31", "house": "1", "inspected": True, "inspected_by": "Jan", "mortality": 0}
    for water in (1e308, "NaN", "inf", 1e7):
        response = client.post("/api/v1/logbooks/flock_day", json={**day, "water_l": water}, headers=farmer_token)
        assert response.status_code == 422 and "water_l" in json.dumps(response.json), (water, response.json)
    ok = client.post("/api/v1/logbooks/flock_day", json={**day, "water_l": 950.5}, headers=farmer_token)
    assert ok.status_code in (200, 201), ok.json
