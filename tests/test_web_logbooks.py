"""Logbook pages: forms from the record models with the CLI's messages, lists, corrections, drafts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from markupsafe import escape

from agent.logbooks.entries import add_entry, list_entries
from rules.logbooks import LOGBOOKS, EntryError, form_fields, validate_entry

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

TODAY = "2026-11-01"  # NOW is 13:00 in Amsterdam


def visitor_form(token: str, **changes) -> dict:
    """Return a complete visitors form as the browser posts it."""
    form = {"csrf_token": token, "date": "2026-10-30", "arrival": "09:15", "name": "Piet Jansen",
            "organisation": "Voerbedrijf", "poultry_contact_48h": "nee", "houses": ["1", "2"],
            "license_plate": "12-ABC-3", "signature": "PJ"}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def page(response) -> str:
    return response.get_data(as_text=True)


def field_error(html: str, name: str) -> str:
    """Return the message shown at a field of a form."""
    match = re.search(rf'data-field="{name}".*?<p class="field-error"[^>]*>(.*?)</p>', html, re.S)
    assert match, f"no message at {name}"
    return match.group(1).strip()


def test_a_repair_is_recorded_at_its_deviation_not_on_a_blank_form(farmer):
    response = farmer.get("/logbooks/corrective_actions/new")
    assert response.status_code == 302 and response.headers["Location"].endswith("/rules/?status=D")


@pytest.mark.parametrize("kind", [k for k in LOGBOOKS if k != "corrective_actions"])
def test_every_logbook_has_a_form_with_the_record_models_dutch_labels(farmer, kind):
    html = page(farmer.get(f"/logbooks/{kind}/new"))
    for f in form_fields(kind):
        if f.widget != "hidden":
            assert str(escape(f.label)) in html, f.name
    assert 'class="logbook" novalidate' in html  # the server's (the CLI's) messages, not the browser's


def test_a_valid_form_is_stored_with_who_and_shown_in_the_list(farmer, web_store):
    response = farmer.post("/logbooks/visitors/new", data=visitor_form(token_of(farmer)))
    assert response.status_code == 302
    [row] = list_entries(web_store, "visitors")
    assert row.recorded_by == "jan" and row.entry["houses"] == ["1", "2"]
    assert row.entry["poultry_contact_48h"] is False
    listing = page(farmer.get(response.headers["Location"]))
    assert f"Opgeslagen: Bezoekersregister #{row.id}." in listing and "Piet Jansen" in listing


@pytest.mark.parametrize("field,value", [("date", "2026-11-02"), ("arrival", "25:00"), ("houses", []),
                                         ("license_plate", ""), ("poultry_contact_48h", None)])
def test_an_invalid_form_shows_the_clis_message_at_the_field_and_stores_nothing(farmer, web_store, field, value):
    form = visitor_form(token_of(farmer), **{field: value})
    response = farmer.post("/logbooks/visitors/new", data=form)
    assert response.status_code == 422
    # The same entry as JSON on the command line (an empty form field is a missing field).
    cli_data = {k: v for k, v in form.items() if k != "csrf_token" and v != ""}
    with pytest.raises(EntryError) as exc:
        validate_entry("visitors", cli_data, houses={"1": "free_range", "2": "barn"},
                       today=NOW.date())
    expected = exc.value.by_field()[field]
    assert field_error(page(response), field) == str(escape(expected))
    assert list_entries(web_store, "visitors") == []


def test_messages_follow_the_chosen_language(farmer):
    farmer.post("/language", data={"lang": "en", "csrf_token": token_of(farmer), "next": "/"})
    html = page(farmer.post("/logbooks/visitors/new", data=visitor_form(token_of(farmer), arrival="9.15")))
    assert field_error(html, "arrival") == "expected a time HH:MM (24-hour, e.g. 07:45)"
    assert "Arrival time" in html


def test_numbers_typed_with_a_decimal_comma_are_read(farmer, web_store):
    form = {"csrf_token": token_of(farmer), "house": "1", "sampled_on": "2026-10-01", "score": "1,2",
            "sampled_by": "GD", "accredited": "ja"}
    assert farmer.post("/logbooks/hygienogram/new", data=form).status_code == 302
    assert list_entries(web_store, "hygienogram")[0].entry["score"] == 1.2


def test_products_rows_make_the_cleaning_record(farmer, web_store):
    form = {"csrf_token": token_of(farmer), "house": "2", "cleaned_on": "2026-10-01", "disinfected_on": "2026-10-03",
            "products-0-name": "Virocid", "products-0-admission_number": "13288 N", "performed_by": "Schoon BV"}
    assert farmer.post("/logbooks/cleaning/new", data=form).status_code == 302
    assert list_entries(web_store, "cleaning")[0].entry["products"] == [
        {"name": "Virocid", "admission_number": "13288 N"}]
    form["products-0-admission_number"] = "geen"
    html = page(farmer.post("/logbooks/cleaning/new", data=form))
    assert field_error(html, "products").startswith("rij 1: verwacht een Ctgb-toelatingsnummer")


def test_a_second_day_sheet_for_the_same_day_is_refused_with_a_link_to_correct_it(farmer, web_store, farm_config):
    first = add_entry(web_store, farm_config, "flock_day", {"date": "2026-10-31", "house": "1", "inspected": True,
                                                            "inspected_by": "Jan", "mortality": 2},
                      by="jan", now=NOW).entry
    form = {"csrf_token": token_of(farmer), "date": "2026-10-31", "house": "1", "inspected": "ja",
            "inspected_by": "Jan", "mortality": "3"}
    html = page(farmer.post("/logbooks/flock_day/new", data=form))
    assert f"/logbooks/flock_day/{first.id}/correct" in html
    assert len(list_entries(web_store, "flock_day")) == 1


def test_a_correction_is_a_new_entry_with_who_when_why_and_the_old_one_stays(farmer, web_store, farm_config, clock):
    old = add_entry(web_store, farm_config, "flock_day", {"date": "2026-10-31", "house": "1", "inspected": True,
                                                          "inspected_by": "Jan", "mortality": 2},
                    by="jan", now=NOW - timedelta(hours=20)).entry
    form_page = page(farmer.get(f"/logbooks/flock_day/{old.id}/correct"))
    assert 'name="mortality"' in form_page and 'value="2"' in form_page
    form = {"csrf_token": token_of(farmer), "date": "2026-10-31", "house": "1", "inspected": "ja",
            "inspected_by": "Jan", "mortality": "3", "reason": ""}
    no_reason = farmer.post(f"/logbooks/flock_day/{old.id}/correct", data=form)
    assert no_reason.status_code == 422 and "geef de reden van de correctie" in page(no_reason)
    form["reason"] = "telfout"
    response = farmer.post(f"/logbooks/flock_day/{old.id}/correct", data=form)
    assert response.status_code == 302
    rows = list_entries(web_store, "flock_day", history=True)
    assert [r.entry["mortality"] for r in rows] == [2, 3]
    assert rows[1].supersedes == old.id and rows[1].reason == "telfout" and rows[0].superseded_by == rows[1].id
    detail = page(farmer.get(response.headers["Location"]))
    assert "correctie: telfout" in detail and "<del>2</del> → <ins>3</ins>" in detail
    current = page(farmer.get("/logbooks/flock_day/?from=2026-10-01"))
    assert f"#{rows[1].id}" in current and f">#{old.id}<" not in current
    history = page(farmer.get("/logbooks/flock_day/?from=2026-10-01&history=1"))
    assert f">#{old.id}<" in history and f"vervangen door #{rows[1].id}" in history
    # The old version can no longer be corrected; its page points to the current one.
    assert farmer.get(f"/logbooks/flock_day/{old.id}/correct").status_code == 302


def test_an_unchanged_correction_is_refused(farmer, web_store, farm_config):
    old = add_entry(web_store, farm_config, "checks", {"date": "2026-10-31", "item": "alarm", "result": "ok",
                                                       "checked_by": "Jan"}, by="jan", now=NOW).entry
    form = {"csrf_token": token_of(farmer), "date": "2026-10-31", "item": "alarm", "result": "ok",
            "checked_by": "Jan", "reason": "niets"}
    html = page(farmer.post(f"/logbooks/checks/{old.id}/correct", data=form))
    assert "er is niets veranderd" in html and len(list_entries(web_store, "checks", history=True)) == 1


def test_withdrawing_needs_a_reason_and_keeps_the_entry_in_the_history(farmer, web_store, farm_config):
    old = add_entry(web_store, farm_config, "checks", {"date": "2026-10-31", "item": "alarm", "result": "ok",
                                                       "checked_by": "Jan"}, by="jan", now=NOW).entry
    refused = farmer.post(f"/logbooks/checks/{old.id}/withdraw", data={"csrf_token": token_of(farmer), "reason": ""})
    assert "geef de reden van de correctie" in page(farmer.get(refused.headers["Location"]))
    farmer.post(f"/logbooks/checks/{old.id}/withdraw", data={"csrf_token": token_of(farmer), "reason": "dubbel"})
    assert list_entries(web_store, "checks") == []
    assert [r.state for r in list_entries(web_store, "checks", history=True)] == ["confirmed", "withdrawn"]


def test_a_sensor_drafted_check_waits_on_the_page_and_is_confirmed_by_the_farmer(farmer, web_store, farm_config):
    draft = add_entry(web_store, farm_config, "checks", {
        "date": "2026-10-30", "item": "generator", "result": "ok", "checked_by": "automatisch gedetecteerd",
        "notes": "Testloop gedetecteerd 10:00–10:20 (20 min); bevestig of corrigeer.", "source": "detected",
        "event_id": 7}, by="ikb-agent", now=NOW, state="draft").entry
    index = page(farmer.get("/logbooks/"))
    assert "Wacht op bevestiging (1)" in index and f"/logbooks/checks/{draft.id}/confirm" in index
    assert "1 door de sensoren gedetecteerde controle wacht op uw bevestiging" in page(farmer.get("/live"))
    form_page = page(farmer.get(f"/logbooks/checks/{draft.id}/confirm"))
    assert 'value="jan"' in form_page  # who confirms vouches for the check
    form = {"csrf_token": token_of(farmer), "date": "2026-10-30", "item": "generator", "result": "ok",
            "checked_by": "Jan de Boer", "notes": "maandelijkse test"}
    assert farmer.post(f"/logbooks/checks/{draft.id}/confirm", data=form).status_code == 302
    [row] = list_entries(web_store, "checks")
    assert row.state == "confirmed" and row.supersedes == draft.id and row.reason == "bevestigd"
    assert row.entry["event_id"] == 7 and row.entry["source"] == "detected"  # the hidden fields are kept
    assert row.entry["checked_by"] == "Jan de Boer"
    assert "Wacht op bevestiging" not in page(farmer.get("/logbooks/"))
    assert "wachten op uw bevestiging" not in page(farmer.get("/live"))


def test_lists_filter_by_period_house_and_kind_specific_fields(farmer, web_store, farm_config):
    for day, item, house in (("2026-10-01", "alarm", "1"), ("2026-10-20", "generator", "1"),
                             ("2026-10-25", "generator", "2")):
        add_entry(web_store, farm_config, "checks", {"date": day, "item": item, "result": "ok", "checked_by": "Jan",
                                                     "house": house}, by="jan", now=NOW)
    add_entry(web_store, farm_config, "checks", {"date": "2026-01-05", "item": "alarm", "result": "fault",
                                                 "checked_by": "Jan"}, by="jan", now=NOW)

    def dates(query: str) -> list[str]:
        return re.findall(r"<td[^>]*>(\d+ \w+ 2026)</td>", page(farmer.get("/logbooks/checks/" + query)))

    assert dates("") == ["25 oktober 2026", "20 oktober 2026", "1 oktober 2026"]  # the last 90 days
    assert dates("?from=2026-01-01") == ["25 oktober 2026", "20 oktober 2026", "1 oktober 2026", "5 januari 2026"]
    assert dates("?item=generator") == ["25 oktober 2026", "20 oktober 2026"]
    assert dates("?house=1&item=generator") == ["20 oktober 2026"]
    assert dates("?from=2026-01-01&to=2026-10-10&result=fault") == ["5 januari 2026"]
    assert farmer.get("/logbooks/checks/?from=1-1-2026").status_code == 400


def test_the_visitor_list_filters_on_the_48_hour_question(farmer, web_store, farm_config):
    for name, contact in (("Piet", False), ("Klaas", True)):
        add_entry(web_store, farm_config, "visitors", {"date": "2026-10-30", "arrival": "09:00", "name": name,
                                                       "organisation": "X", "poultry_contact_48h": contact,
                                                       "houses": ["1"], "license_plate": "AB", "signature": "x"},
                  by="jan", now=NOW)
    html = page(farmer.get("/logbooks/visitors/?poultry_contact_48h=ja"))
    assert "Klaas" in html and "Piet" not in html


def test_the_bait_box_register_lists_every_box_regardless_of_age(farmer, web_store, farm_config):
    add_entry(web_store, farm_config, "bait_boxes", {"number": "7", "location": "silo", "target_pest": "mice",
                                                     "product": "Blok", "fixed": True, "placed_on": "2024-03-01"},
              by="jan", now=NOW)
    add_entry(web_store, farm_config, "bait_boxes", {"number": "8", "location": "kantine", "target_pest": "rats",
                                                     "product": "Blok", "fixed": True, "placed_on": "2024-03-01",
                                                     "removed_on": "2025-06-30"}, by="jan", now=NOW)
    html = page(farmer.get("/logbooks/bait_boxes/"))
    assert "1 maart 2024" in html and "muizen" in html and "Lokdozenregister" in html
    assert "Verwijderd op" in html and "30 juni 2025" in html  # the register shows which boxes are gone


def test_the_auditor_reads_logbooks_but_reaches_no_form(auditor, web_store, farm_config):
    row = add_entry(web_store, farm_config, "checks", {"date": "2026-10-31", "item": "alarm", "result": "ok",
                                                       "checked_by": "Jan"}, by="jan", now=NOW).entry
    assert auditor.get("/logbooks/checks/").status_code == 200
    detail = page(auditor.get(f"/logbooks/checks/{row.id}"))
    assert "Geschiedenis" in detail and "/correct" not in detail and "<form method=\"post\" action=\"/logbooks" \
        not in detail
    for path in ("/logbooks/checks/new", f"/logbooks/checks/{row.id}/correct", f"/logbooks/checks/{row.id}/confirm",
                 "/daysheet/1"):
        assert auditor.get(path).status_code == 403, path


def test_unknown_logbooks_and_entries_answer_404(farmer, web_store, farm_config):
    row = add_entry(web_store, farm_config, "checks", {"date": "2026-10-31", "item": "alarm", "result": "ok",
                                                       "checked_by": "Jan"}, by="jan", now=NOW).entry
    assert farmer.get("/logbooks/nonsense/").status_code == 404
    assert farmer.get("/logbooks/visitors/999").status_code == 404
    assert farmer.get(f"/logbooks/visitors/{row.id}").status_code == 404  # an id of another logbook


PEST_CHECK = {"date": "2026-10-01", "bait_box": "1", "measures": "lokaas gecontroleerd", "product": "Brodifacoum blok",
              "admission_number": "12345 N", "label_location": "kantoor, map plaagdieren", "sds_location": "kantoor",
              "volume": "20 g", "uptake": "little", "effect": "weinig vraat", "checked_by": "company",
              "inspector": "R. de Vries"}


def _register(web_store, farm_config, *numbers):
    for number in numbers:
        add_entry(web_store, farm_config, "bait_boxes", {
            "number": number, "location": f"buitengevel stal {number}", "target_pest": "mice",
            "product": "Brodifacoum blok", "fixed": True, "placed_on": "2026-06-01"}, by="jan", now=NOW)


def test_a_new_pest_control_check_carries_over_the_last_product_and_offers_the_register(farmer, web_store,
                                                                                         farm_config):
    _register(web_store, farm_config, "1", "2", "3")
    add_entry(web_store, farm_config, "pest_control", PEST_CHECK, by="jan", now=NOW)
    html = page(farmer.get("/logbooks/pest_control/new"))
    for name in ("product", "admission_number", "label_location", "sds_location", "volume", "inspector"):
        assert re.search(rf'name="{name}"[^>]*\n?\s*value="{re.escape(str(escape(PEST_CHECK[name])))}"', html), name
    assert 'value="weinig vraat"' not in html  # what was seen is never carried over
    assert 'name="date" type="date"' in html and f'value="{TODAY}"' in html
    # The bait box is chosen from the register (several at once), not typed.
    boxes = re.findall(r'<input type="checkbox" name="bait_box" value="(\d)"', html)
    assert boxes == ["1", "2", "3"] and "1 — buitengevel stal 1 (muizen)" in html


def test_one_check_of_several_bait_boxes_is_one_entry_per_box(farmer, web_store, farm_config):
    _register(web_store, farm_config, "1", "2", "3")
    form = {**PEST_CHECK, "date": TODAY, "bait_box": ["1", "3"], "csrf_token": token_of(farmer)}
    html = page(farmer.post("/logbooks/pest_control/new", data=form, follow_redirects=True))
    rows = list_entries(web_store, "pest_control")
    assert [r.entry["bait_box"] for r in rows] == ["1", "3"]
    assert {r.entry["uptake"] for r in rows} == {"little"}
    assert f"Opgeslagen: 2 registraties in Logboek plaagdierbeheersing: #{rows[0].id}, #{rows[1].id}." in html


def test_several_boxes_with_a_bad_field_store_none(farmer, web_store, farm_config):
    _register(web_store, farm_config, "1", "2")
    form = {**PEST_CHECK, "date": TODAY, "bait_box": ["1", "2"], "admission_number": "", "csrf_token": token_of(farmer)}
    response = farmer.post("/logbooks/pest_control/new", data=form)
    assert response.status_code == 422 and list_entries(web_store, "pest_control") == []
    assert re.search(r'<input type="checkbox" name="bait_box" value="2" checked', page(response))
