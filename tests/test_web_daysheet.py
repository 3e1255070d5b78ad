"""The flock day sheet: one screen per house, today prefilled, yesterday beside it, flags at once after saving."""

from __future__ import annotations

import re

import pytest

from agent.logbooks.entries import add_entry, list_entries

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


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def flock(web_store, farm_config):
    """Place 1000 hens in house 1 in September."""
    add_entry(web_store, farm_config, "flocks", {"house": "1", "placed_on": "2026-09-01", "hatched_on": "2026-05-01",
                                                 "number_placed": 1000, "origin": "Opfok"}, by="jan", now=NOW)


def sheet_line(day: str, **values) -> dict:
    """Return a day-sheet entry for house 1."""
    return {"date": day, "house": "1", "inspected": True, "inspected_by": "Kees", "mortality": 1, **values}


def flags(html: str) -> list[str]:
    """Return the flags shown at the top of a page."""
    return [re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r'<p class="flag (?:[^"]+)" role="alert">(.*?)</p>',
                                                                  html, re.S)]


def save(client, house: str = "1", **fields):
    """Post the day sheet as the phone does (one tap) and follow the redirect."""
    form = {"csrf_token": token_of(client, f"/daysheet/{house}"), "mortality": "0", "inspected": "ja",
            "dead_removed": "ja", "inspected_by": "Kees", **fields}
    return client.post(f"/daysheet/{house}", data=form, follow_redirects=True)


def test_the_sheet_opens_on_today_with_yesterdays_figures_beside_the_inputs(farmer, web_store, farm_config, flock):
    add_entry(web_store, farm_config, "flock_day", sheet_line("2026-10-31", mortality=3, eggs=905, water_l=180.5,
                                                              inspected_by="Kees"), by="jan", now=NOW)
    html = page(farmer.get("/daysheet/1"))
    assert "Stal 1 · 1 november 2026" in html
    assert 'name="date" value="2026-11-01"' in html
    assert "gisteren: 3" in html and "gisteren: 905" in html and "gisteren: 180,5" in html
    assert re.search(r'name="inspected" value="ja"\s+checked', html)  # inspected: prefilled yes
    assert 'name="inspected_by" type="text"\n    \n    value="Kees"' in html  # who inspected yesterday
    assert "997 van 1.000 hennen aan het begin van de dag" in html  # A6.2.2: placed minus earlier losses


def test_saving_stores_the_line_and_the_page_then_shows_it_saved(farmer, web_store, flock):
    html = page(save(farmer, mortality="2", eggs="910", water_l="181,5"))
    [row] = list_entries(web_store, "flock_day")
    assert (row.entry["date"], row.entry["house"], row.entry["eggs"]) == ("2026-11-01", "1", 910)
    assert row.entry["mortality"] == 2 and row.entry["water_l"] == 181.5 and row.recorded_by == "jan"
    assert f"Opgeslagen: Stal 1, 1 november 2026 (#{row.id})." in html
    assert "Ingevuld om 13:00 door jan" in html
    assert flags(html) == []


def test_mortality_over_half_a_percent_on_two_days_shows_the_nvwa_flag_at_once(farmer, web_store, farm_config, flock):
    add_entry(web_store, farm_config, "flock_day", sheet_line("2026-10-31", mortality=6), by="jan", now=NOW)
    html = page(save(farmer, mortality="6"))
    [flag] = flags(html)
    assert flag.startswith("LET OP [A6.2.2] Stal 1:") and "NVWA" in flag and "045-5463188" in flag
    # The dashboard keeps showing it until the report is recorded.
    assert "[A6.2.2]</strong> Stal 1:" in page(farmer.get("/live"))
    html = page(save(farmer, mortality="6", nvwa_reported="ja", reason="gemeld bij NVWA"))
    assert flags(html) == [] and "Ingevuld om" in html
    assert "[A6.2.2]" not in page(farmer.get("/live"))


def test_eggs_down_five_percent_two_days_running_shows_the_vet_flag(farmer, web_store, farm_config, flock):
    add_entry(web_store, farm_config, "flock_day", sheet_line("2026-10-30", eggs=900), by="jan", now=NOW)
    add_entry(web_store, farm_config, "flock_day", sheet_line("2026-10-31", eggs=850), by="jan", now=NOW)
    [flag] = flags(page(save(farmer, eggs="800")))
    assert flag.startswith("LET OP [A6.2.1]") and "dierenarts" in flag


def test_a_sheet_without_a_flock_is_saved_and_warns(farmer, web_store):
    html = page(save(farmer, house="2"))
    assert len(list_entries(web_store, "flock_day")) == 1
    assert flags(html) == ["Waarschuwing [E9.4] Geen koppel geregistreerd in stal 2 op 2026-11-01: registreer het "
                           "koppel (opzet)."]


def test_a_second_save_the_same_day_is_a_correction_with_its_reason(farmer, web_store, flock):
    save(farmer, mortality="2")
    refused = save(farmer, mortality="3")
    assert refused.status_code == 422 and "geef de reden van de correctie" in page(refused)
    save(farmer, mortality="3", reason="telfout")
    rows = list_entries(web_store, "flock_day", history=True)
    assert [(r.entry["mortality"], r.reason) for r in rows] == [(2, None), (3, "telfout")]


def test_a_wrong_figure_is_named_at_its_field_and_nothing_is_stored(farmer, web_store, flock):
    response = save(farmer, mortality="veel", eggs="-5")
    html = page(response)
    assert response.status_code == 422
    assert re.search(r'id="d-mortality-error" role="alert">vul het aantal dode hennen in \(0 of meer\)', html)
    assert re.search(r'id="d-eggs-error" role="alert">mag niet kleiner zijn dan 0', html)
    assert 'value="veel"' in html  # what was typed stays in the field
    assert list_entries(web_store, "flock_day") == []


def test_past_days_can_be_filled_in_future_days_cannot(farmer, web_store, flock):
    html = page(farmer.get("/daysheet/1?date=2026-10-30"))
    assert "30 oktober 2026" in html and "volgende dag" in html
    form = {"csrf_token": token_of(farmer), "date": "2026-10-30", "mortality": "1", "inspected": "ja",
            "inspected_by": "Kees"}
    farmer.post("/daysheet/1", data=form)
    assert list_entries(web_store, "flock_day")[0].entry["date"] == "2026-10-30"
    assert farmer.get("/daysheet/1?date=2026-11-02").status_code == 400
    assert farmer.get("/daysheet/9").status_code == 404


def test_the_house_chooser_says_which_houses_are_done_today(farmer, flock):
    save(farmer, mortality="1")
    html = page(farmer.get("/daysheet/"))
    assert re.search(r"Stal 1\s*<span class=\"state\">✓ ingevuld 13:00", html)
    assert re.search(r"Stal 2\s*<span class=\"state\">nog niet ingevuld", html)


def test_the_day_sheet_takes_dutch_numbers_as_the_farmer_writes_them(farmer, web_store, farm_config, flock):
    add_entry(web_store, farm_config, "flock_day", sheet_line("2026-10-31", mortality=4, eggs=18499, water_l=4000,
                                                              feed_kg=3.6), by="jan", now=NOW)
    html = page(farmer.get("/daysheet/1"))
    assert "gisteren: 18.499" in html  # how the page writes yesterday's eggs …
    save(farmer, mortality="4", eggs="18.400", water_l="4.050,5", feed_kg="3,5")  # … is how it reads today's
    [row] = [r for r in list_entries(web_store, "flock_day") if r.entry["date"] == "2026-11-01"]
    assert (row.entry["eggs"], row.entry["water_l"], row.entry["feed_kg"]) == (18400, 4050.5, 3.5)


def test_a_jump_from_yesterday_asks_klopt_dat_and_is_stored_once_confirmed(farmer, web_store, farm_config, flock):
    add_entry(web_store, farm_config, "flock_day", sheet_line("2026-10-31", mortality=4, eggs=900), by="jan", now=NOW)
    response = save(farmer, mortality="130", eggs="600")
    html = page(response)
    assert response.status_code == 422 and "Nog niet opgeslagen" in html
    assert "130 dood, gisteren 4: klopt dat?" in html
    assert "600, gisteren 900 (-33 %): klopt dat?" in html
    assert [r.entry["date"] for r in list_entries(web_store, "flock_day")] == ["2026-10-31"]
    html = page(save(farmer, mortality="130", eggs="600", **{"confirm-mortality": "ja", "confirm-eggs": "ja"}))
    assert "Opgeslagen: Stal 1" in html
    [row] = [r for r in list_entries(web_store, "flock_day") if r.entry["date"] == "2026-11-01"]
    assert row.entry["mortality"] == 130


def test_a_confirmed_jump_still_asks_about_the_other_one(farmer, web_store, farm_config, flock):
    add_entry(web_store, farm_config, "flock_day", sheet_line("2026-10-31", mortality=4, eggs=900), by="jan", now=NOW)
    html = page(save(farmer, mortality="130", eggs="600", **{"confirm-mortality": "ja"}))
    assert "130 dood" not in html and "600, gisteren 900" in html


def test_every_message_of_the_day_sheet_comes_in_one_round(farmer, web_store, farm_config, flock):
    add_entry(web_store, farm_config, "flock_day", sheet_line("2026-10-31", mortality=4, eggs=900), by="jan", now=NOW)
    response = save(farmer, mortality="-1", eggs="veel", inspected_by="", water_l="abc")
    html = page(response)
    assert response.status_code == 422
    for message in ("vul het aantal dode hennen in (0 of meer)", "verwacht een heel getal",
                    "vul in wie het koppel heeft gecontroleerd", "verwacht een getal"):
        assert message in html, message
    # A correction without a reason and with a bad figure: both messages at once.
    save(farmer, mortality="4", eggs="900")
    html = page(save(farmer, mortality="x", eggs="900"))
    assert "geef de reden van de correctie" in html and "vul het aantal dode hennen in" in html
