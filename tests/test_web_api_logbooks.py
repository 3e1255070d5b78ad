"""The logbooks in the JSON API: read, add, correct, confirm — the CLI's validation, durable, append-only."""

from __future__ import annotations

import pytest

from agent.logbooks.entries import add_entry, list_entries
from agent.store.connection import open_store
from rules.logbooks import LOGBOOKS, EntryError, validate_entry

from .test_logbook import GOOD
from .test_web_api import tokens  # noqa: F401
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

HOUSES = {"1": "free_range", "2": "barn"}


@pytest.fixture
def api(app, tokens):
    """Return a function calling the API with the farmer's token."""
    client = app.test_client()

    def call(method: str, path: str, token: str = "jan", **kwargs):
        return client.open(path, method=method, headers={"Authorization": f"Bearer {tokens[token]}"}, **kwargs)

    return call


def test_every_logbook_is_in_the_openapi_document_with_its_record_as_the_body(app):
    doc = app.test_client().get("/api/openapi.json").json
    for kind, spec in LOGBOOKS.items():
        operations = doc["paths"][f"/api/v1/logbooks/{kind}"]
        assert set(operations) == {"get", "post"}
        ref = operations["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert set(schema["properties"]) == set(spec.columns())
        assert {"201", "400", "401", "403", "422"} <= set(operations["post"]["responses"])
    assert set(doc["paths"]["/api/v1/logbooks/{kind}/{entry_id}/corrections"]) == {"post"}
    assert set(doc["paths"]["/api/v1/logbooks/{kind}/{entry_id}/confirmation"]) == {"post"}
    assert "/api/v1/logbooks" in doc["paths"]


# A repair must name an occurrence of a current deviation: tests/test_web_repairs.py posts one.
@pytest.mark.parametrize("kind", [k for k in LOGBOOKS if k != "corrective_actions"])
def test_a_valid_entry_of_every_logbook_is_stored_durably_and_read_back(api, app, kind):
    response = api("POST", f"/api/v1/logbooks/{kind}", json=GOOD[kind])
    assert response.status_code == 201, response.json
    saved = response.json["entry"]
    assert saved["recorded_by"] == "jan" and saved["state"] == "confirmed" and len(saved["hash"]) == 64
    # Committed before 201: a fresh connection sees it.
    store = open_store(app.extensions["ikb"].store_path)
    assert [r.id for r in list_entries(store, kind)] == [saved["id"]]
    store.close()
    assert [r["id"] for r in api("GET", f"/api/v1/logbooks/{kind}").json] == [saved["id"]]


@pytest.mark.parametrize("field,value", [("date", "28-3-2026"), ("houses", ["9"]), ("arrival", "9:15"),
                                         ("poultry_contact_48h", "misschien"), ("extra", 1)])
def test_an_invalid_entry_names_the_field_as_the_cli_does_and_stores_nothing(api, web_store, field, value):
    body = {**GOOD["visitors"], field: value}
    response = api("POST", "/api/v1/logbooks/visitors", json=body)
    assert response.status_code == 422
    with pytest.raises(EntryError) as exc:
        validate_entry("visitors", body, houses=HOUSES, today=NOW.date())
    assert response.json["message"] == str(exc.value)
    assert set(response.json["fields"]) == set(exc.value.fields)
    assert list_entries(web_store, "visitors") == []


def test_bodies_that_are_not_objects_are_refused(api, web_store):
    assert api("POST", "/api/v1/logbooks/checks", data="nope", content_type="application/json").status_code == 400
    assert api("POST", "/api/v1/logbooks/checks", json=[1, 2]).status_code == 422
    assert list_entries(web_store, "checks") == []


def test_a_48_hour_yes_comes_back_as_a_flag(api):
    response = api("POST", "/api/v1/logbooks/visitors", json={**GOOD["visitors"], "poultry_contact_48h": True})
    assert response.status_code == 201
    [flag] = response.json["flags"]
    assert flag["code"] == "poultry_contact_48h" and flag["rule"] == "A4.2.2" and flag["level"] == "alert"


def test_roles_and_csrf_hold_for_the_logbook_api(api, farmer, auditor):
    assert api("POST", "/api/v1/logbooks/checks", token="anna", json=GOOD["checks"]).status_code == 403
    assert api("GET", "/api/v1/logbooks/checks", token="anna").status_code == 200
    assert api("GET", "/api/v1/logbooks/checks", token="tablet").status_code == 403
    assert api("POST", "/api/v1/logbooks/visitors", token="tablet", json=GOOD["visitors"]).status_code == 403
    assert farmer.post("/api/v1/logbooks/checks", json=GOOD["checks"]).status_code == 400  # session without CSRF
    ok = farmer.post("/api/v1/logbooks/checks", json=GOOD["checks"], headers={"X-CSRFToken": token_of(farmer)})
    assert ok.status_code == 201 and ok.json["entry"]["recorded_by"] == "jan"


def test_messages_are_english_for_an_english_session(farmer):
    farmer.post("/language", data={"lang": "en", "csrf_token": token_of(farmer), "next": "/"})
    response = farmer.post("/api/v1/logbooks/checks", json={**GOOD["checks"], "item": "fan"},
                           headers={"X-CSRFToken": token_of(farmer)})
    assert response.status_code == 422 and response.json["fields"]["item"] == \
        "choose from generator (emergency generator), alarm (alarm system), generator_load (emergency generator, " \
        "yearly test under load), alarm_dialer (alarm system's own dialer, alarm forwarding tested)"


def test_a_repair_that_names_no_current_deviation_is_refused(api, web_store):
    response = api("POST", "/api/v1/logbooks/corrective_actions", json=GOOD["corrective_actions"])
    assert response.status_code == 422 and "rule" in response.json["fields"]
    assert list_entries(web_store, "corrective_actions") == []


def test_a_correction_supersedes_with_who_when_why_and_only_the_newest_version_can_be_corrected(api):
    old = api("POST", "/api/v1/logbooks/flock_day", json=GOOD["flock_day"]).json["entry"]
    response = api("POST", f"/api/v1/logbooks/flock_day/{old['id']}/corrections",
                   json={"changes": {"mortality": 5}, "reason": "telfout"})
    assert response.status_code == 201
    new = response.json["entry"]
    assert new["supersedes"] == old["id"] and new["reason"] == "telfout" and new["entry"]["mortality"] == 5
    again = api("POST", f"/api/v1/logbooks/flock_day/{old['id']}/corrections",
                json={"changes": {"mortality": 6}, "reason": "nog eens"})
    assert again.status_code == 409 and f"#{new['id']}" in again.json["message"]
    history = api("GET", f"/api/v1/logbooks/flock_day/{old['id']}").json
    assert [v["id"] for v in history["versions"]] == [old["id"], new["id"]]
    assert history["entry"]["superseded_by"] == new["id"]
    rows = api("GET", "/api/v1/logbooks/flock_day?history=true").json
    assert [r["id"] for r in rows] == [old["id"], new["id"]]
    assert [r["id"] for r in api("GET", "/api/v1/logbooks/flock_day").json] == [new["id"]]


@pytest.mark.parametrize("body,field", [({"changes": {"mortality": -1}, "reason": "x"}, "mortality"),
                                        ({"changes": {"mortality": 1}}, "reason"),
                                        ({"changes": {"mortality": 1}, "reason": "x", "withdraw": True}, "changes"),
                                        ({"reason": "x"}, "changes")])
def test_bad_corrections_are_refused_naming_the_field(api, body, field):
    old = api("POST", "/api/v1/logbooks/flock_day", json=GOOD["flock_day"]).json["entry"]
    response = api("POST", f"/api/v1/logbooks/flock_day/{old['id']}/corrections", json=body)
    assert response.status_code == 422 and field in response.json["fields"]
    assert len(api("GET", "/api/v1/logbooks/flock_day?history=true").json) == 1


def test_a_withdrawal_keeps_the_row_in_the_history(api):
    old = api("POST", "/api/v1/logbooks/checks", json=GOOD["checks"]).json["entry"]
    response = api("POST", f"/api/v1/logbooks/checks/{old['id']}/corrections", json={"withdraw": True,
                                                                                     "reason": "dubbel"})
    assert response.status_code == 201 and response.json["entry"]["state"] == "withdrawn"
    assert api("GET", "/api/v1/logbooks/checks").json == []
    assert len(api("GET", "/api/v1/logbooks/checks?history=true").json) == 2


def test_a_draft_is_confirmed_and_a_confirmed_entry_cannot_be_confirmed_again(api, web_store, farm_config):
    draft = add_entry(web_store, farm_config, "checks", {**GOOD["checks"], "checked_by": "automatisch gedetecteerd",
                                                         "source": "detected", "event_id": 3},
                      by="ikb-agent", now=NOW, state="draft").entry
    response = api("POST", f"/api/v1/logbooks/checks/{draft.id}/confirmation", json={"changes": {"checked_by": "Jan"}})
    assert response.status_code == 201
    confirmed = response.json["entry"]
    assert confirmed["state"] == "confirmed" and confirmed["reason"] == "bevestigd"
    assert confirmed["entry"]["checked_by"] == "Jan" and confirmed["entry"]["event_id"] == 3
    assert api("POST", f"/api/v1/logbooks/checks/{confirmed['id']}/confirmation", json={}).status_code == 409


def test_unknown_logbooks_and_entries_answer_404(api):
    old = api("POST", "/api/v1/logbooks/checks", json=GOOD["checks"]).json["entry"]
    assert api("GET", "/api/v1/logbooks/secrets").status_code == 404
    assert api("GET", f"/api/v1/logbooks/visitors/{old['id']}").status_code == 404  # the id of another logbook
    assert api("GET", "/api/v1/logbooks/checks/999999999999999999999").status_code == 404
    assert api("POST", "/api/v1/logbooks/checks/4611686018427387905/corrections",
               json={"reason": "x", "withdraw": True}).status_code == 404


def test_lists_filter_by_period_and_house(api):
    for day, house in (("2026-01-10", "1"), ("2026-02-10", "2"), ("2026-03-10", "1")):
        api("POST", "/api/v1/logbooks/flock_day", json={**GOOD["flock_day"], "date": day, "house": house})
    dates = [r["entry"]["date"] for r in api("GET", "/api/v1/logbooks/flock_day?since=2026-02-01&house=1").json]
    assert dates == ["2026-03-10"]
    assert len(api("GET", "/api/v1/logbooks/flock_day?until=2026-02-10").json) == 2
    assert api("GET", "/api/v1/logbooks/flock_day?since=2026-03-01&until=2026-01-01").status_code == 422
    assert api("GET", "/api/v1/logbooks/flock_day?since=1-1-2026").status_code == 422
