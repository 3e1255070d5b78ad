"""Repairs on the web: the form from the record model, refusals at their field, the API, who may record."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote

from PIL import Image

from agent.evaluation import score_window
from agent.logbooks.assessments import record_answer
from agent.logbooks.documents import record_document
from agent.store import record_score
from rules.catalogue import load_catalogue

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


def _declared_d(store):
    """The farmer declared a D two days ago: carcasses stored in the house (A4.1.6)."""
    record_answer(store, load_catalogue(), rule_id="A4.1.6", status="D", note="kadavers in de stal",
                  answered_by="jan", now=NOW - timedelta(days=2))


def _repair_link(html: str) -> str:
    match = re.search(r'class="repair-link" href="([^"]+)"', html)
    assert match, "no repair link on the page"
    return match.group(1).replace("&amp;", "&")


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), (10, 90, 30)).save(buf, "JPEG")
    return buf.getvalue()


def test_the_repair_form_is_drawn_from_the_record_model_and_refuses_at_the_field(farmer, web_store, app):
    _declared_d(web_store)
    app.extensions["ikb"].scores.invalidate()
    link = _repair_link(farmer.get("/rules/A4.1.6").get_data(as_text=True))
    form = farmer.get(link).get_data(as_text=True)
    for label in ("Datum herstel", "Wat is er hersteld", "Hersteld door", "Tijdstip", "Foto of document"):
        assert label in form
    start = re.search(r'name="start" value="([^"]+)"', form).group(1)
    token = token_of(farmer, link)
    refused = farmer.post("/rules/A4.1.6/repair", data={"csrf_token": token, "location": "", "start": start,
                                                        "date": "2026-10-01", "action": "", "performed_by": "jan"})
    assert refused.status_code == 422 and "beschrijf wat u hebt gedaan" in refused.get_data(as_text=True)
    early = farmer.post("/rules/A4.1.6/repair", data={"csrf_token": token, "location": "", "start": start,
                                                      "date": "2026-10-01", "action": "opgeruimd",
                                                      "performed_by": "jan"})
    assert early.status_code == 422 and "vóór het begin van de afwijking" in early.get_data(as_text=True)
    not_a_photo = farmer.post("/rules/A4.1.6/repair", data={
        "csrf_token": token, "location": "", "start": start, "date": "2026-11-01", "action": "opgeruimd",
        "performed_by": "jan", "attachment": (io.BytesIO(b"<svg/>"), "x.svg")}, content_type="multipart/form-data")
    assert not_a_photo.status_code == 422 and "bestandstype" in not_a_photo.get_data(as_text=True)
    assert web_store.query("SELECT count(*) AS n FROM logbook WHERE kind = 'corrective_actions'")[0]["n"] == 0
    saved = farmer.post("/rules/A4.1.6/repair", data={
        "csrf_token": token, "location": "", "start": start, "date": "2026-11-01", "action": "opgeruimd",
        "performed_by": "jan", "attachment": (io.BytesIO(_jpeg()), "foto.jpg")}, content_type="multipart/form-data")
    assert saved.status_code == 302
    [row] = web_store.query("SELECT entry FROM logbook WHERE kind = 'corrective_actions'")
    entry = json.loads(row["entry"])
    assert entry["rule"] == "A4.1.6" and entry["location"] is None and entry["deviation_start"] == start
    assert re.fullmatch(r"file:\d+;sha256:[0-9a-f]{64}", entry["attachments"][0])
    page = farmer.get("/rules/A4.1.6").get_data(as_text=True)
    assert "Hersteld" in page and "opgeruimd" in page and 'class="repair-link"' not in page


def test_an_unknown_occurrence_is_404_and_an_ongoing_one_has_no_repair_link(farmer, web_store, app):
    record_document(web_store, kind="water_test", issued_on=(NOW - timedelta(days=400)).date(), recorded_by="jan",
                    now=NOW - timedelta(days=400))
    app.extensions["ikb"].scores.invalidate()
    assert 'class="repair-link"' not in farmer.get("/rules/A6.3.1").get_data(as_text=True)
    missing = farmer.get("/rules/A6.3.1/repair?start=" + quote("2026-01-01T00:00:00+01:00"))
    assert missing.status_code == 404 and "Geen afwijking van A6.3.1" in missing.get_data(as_text=True)
    assert farmer.get("/rules/A6.3.1/repair?start=gisteren").status_code == 404


def test_an_auditor_sees_the_repair_but_cannot_record_one(auditor, farmer, web_store, app):
    _declared_d(web_store)
    app.extensions["ikb"].scores.invalidate()
    link = _repair_link(farmer.get("/rules/A4.1.6").get_data(as_text=True))
    assert 'class="repair-link"' not in auditor.get("/rules/A4.1.6").get_data(as_text=True)
    assert auditor.get(link).status_code == 403


def test_the_api_records_a_repair_with_the_same_check(farmer, web_store, app):
    _declared_d(web_store)
    app.extensions["ikb"].scores.invalidate()
    doc = farmer.get("/api/v1/score").json
    [f] = [x for x in doc["findings"] if x["rule"] == "A4.1.6"]
    start = f["occurrences"][0]["start"]
    headers = {"X-CSRFToken": token_of(farmer)}
    body = {"date": "2026-11-01", "rule": "A4.1.6", "deviation_start": start, "action": "koelcel gebruikt",
            "performed_by": "jan"}
    wrong = farmer.post("/api/v1/logbooks/corrective_actions", json={**body, "rule": "A4.1.7"}, headers=headers)
    assert wrong.status_code == 422 and wrong.json["fields"]["rule"] == "A4.1.7 (bedrijf) is nu geen afwijking"
    farmer.post("/language", data={"lang": "en", "csrf_token": token_of(farmer), "next": "/"})
    english = farmer.post("/api/v1/logbooks/corrective_actions", json={**body, "rule": "A4.1.7"}, headers=headers)
    assert english.status_code == 422 and english.json["fields"]["rule"] == "A4.1.7 (farm) is not a deviation now"
    farmer.post("/language", data={"lang": "nl", "csrf_token": token_of(farmer), "next": "/"})
    ok = farmer.post("/api/v1/logbooks/corrective_actions", json=body, headers=headers)
    assert ok.status_code == 201, ok.json
    after = farmer.get("/api/v1/score").json
    [f] = [x for x in after["findings"] if x["rule"] == "A4.1.6"]
    assert f["repaired"] is True and f["occurrences"][0]["repair"]["action"] == "koelcel gebruikt"
    assert after["verdict"] == "remarks" and "points" not in after


def _page_text(client, path: str = "/") -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(path).get_data(as_text=True)))


def _agent_evaluates(store, config, at):
    """Store, as `run`'s minute job does, the score of the window ending at ``at``."""
    record_score(store, score_window(store, config, at=at, since=at - timedelta(days=30)), at)


def test_a_repair_recorded_on_the_page_shows_at_once_while_the_agent_runs(farmer, web_store, farm_config, clock, app):
    _declared_d(web_store)
    _agent_evaluates(web_store, farm_config, NOW - timedelta(minutes=1))  # `run` runs: a fresh snapshot
    text = _page_text(farmer)
    assert "Herstel vereist vóór afgifte certificaat" in text and "door de agent" in text
    link = _repair_link(farmer.get("/rules/A4.1.6").get_data(as_text=True))
    start = re.search(r'name="start" value="([^"]+)"', farmer.get(link).get_data(as_text=True)).group(1)
    saved = farmer.post("/rules/A4.1.6/repair", data={
        "csrf_token": token_of(farmer, link), "location": "", "start": start, "date": "2026-11-01",
        "action": "kadavers naar de koelcel", "performed_by": "jan"})
    assert saved.status_code == 302
    # At once, before `run` evaluates again: the page's own score holds the repair; the agent is not "down".
    text = _page_text(farmer)
    assert "Opmerkingen: B/C-afwijkingen of herstelde D-afwijkingen" in text
    assert "door deze pagina (na uw registratie)" in text and "De agent draait niet" not in text
    assert "kadavers naar de koelcel" in _page_text(farmer, "/rules/A4.1.6")
    api = farmer.get("/api/v1/score").json
    assert (api["evaluated_by"], api["verdict"]) == ("web", "remarks")
    # A snapshot `run` began at the moment of the write (without the repair) does not bring the D back.
    old = score_window(web_store, farm_config, at=NOW, since=NOW - timedelta(days=30))
    record_score(web_store, replace(old, findings=[
        replace(f, occurrences=tuple(replace(o, repair=None) for o in f.occurrences)) for f in old.findings],
        verdict="repair_required"), NOW)
    clock.now = NOW + timedelta(seconds=30)
    assert "Opmerkingen: B/C-afwijkingen" in _page_text(farmer)
    # `run`'s next evaluation, after the write, holds the repair: the page shows the agent's snapshot again.
    clock.now = NOW + timedelta(minutes=1)
    _agent_evaluates(web_store, farm_config, clock.now)
    text = _page_text(farmer)
    assert "Opmerkingen: B/C-afwijkingen of herstelde D-afwijkingen" in text and "door de agent" in text
    assert "na uw registratie" not in text and farmer.get("/api/v1/score").json["evaluated_by"] == "agent"
