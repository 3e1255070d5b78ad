"""Exports an auditor can read (issue 14): the CSV, XLSX and PDF read back — Dutch words instead of codes, one
yes/no wording, local times with the zone named once, drawn signatures as images, numbers without gaps, events
as sentences and the deviations with their repairs in the pack."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime, timedelta, timezone

import openpyxl
import pypdf
import pytest

from agent.exports import build_pack, export_bytes, verify_pack
from agent.exports.deviations import deviations, deviations_csv
from agent.logbooks.entries import add_entry, correct_entry
from rules.catalogue import load_catalogue
from rules.logbooks import LOGBOOKS, describe

from .test_logbook import GOOD

START, END = date(2026, 1, 1), date(2026, 7, 31)
NOW = datetime(2026, 7, 20, 11, tzinfo=timezone.utc)
ZONE = "Europe/Amsterdam"
# Codes a database holds that an auditor should never have to decode.
CODES = {"little", "company", "self", "confirmed", "draft", "withdrawn", "TRUE", "FALSE", "True", "False", "none",
         "rats", "generator", "salmonella", "boot_swabs", "negative"}


def read_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_0-9]+", text))


@pytest.fixture
def farm(store, config):
    """Every logbook kept, the visit arriving 05:23 local and registered at 04:23 UTC (the issue's example)."""
    for kind, entry in GOOD.items():
        add_entry(store, config, kind, entry, by="jan", now=datetime(2026, 3, 20, 11, tzinfo=timezone.utc))
    add_entry(store, config, "visitors", {**GOOD["visitors"], "date": "2026-03-19", "arrival": "05:23",
                                          "name": "Vroege Bezoeker"},
              by="jan", now=datetime(2026, 3, 19, 4, 23, tzinfo=timezone.utc))
    return store


def test_exports_read_like_a_logbook_not_like_a_database_dump(store, config, farm):
    for kind, spec in LOGBOOKS.items():
        fields = {f.name for f in describe(spec.model)}
        _, data = export_bytes(store, config, kind, "csv", START, END, NOW)
        rows = read_csv(data)
        header = list(rows[0])
        assert not fields & set(header), (kind, fields & set(header))  # labels, not field names
        assert header[0] == "Nr." and len(set(header)) == len(header)
        cells = " ".join(" ".join(r.values()) for r in rows)
        assert not CODES & words(cells), (kind, CODES & words(cells))
        pdf = pdf_text(export_bytes(store, config, kind, "pdf", START, END, NOW)[1])
        assert not CODES & words(pdf), (kind, CODES & words(pdf))
    pest = read_csv(export_bytes(store, config, "pest_control", "csv", START, END, NOW)[1])[0]
    assert (pest["Opname middel"], pest["Controle door"], pest["Status"]) == ("weinig", "plaagdierbeheersbedrijf",
                                                                             "bevestigd")
    book = openpyxl.load_workbook(io.BytesIO(export_bytes(store, config, "all", "xlsx", START, END, NOW)[1]))
    for sheet in book.worksheets[1:]:
        spec = LOGBOOKS[sheet.title]
        fields = {f.name for f in describe(spec.model)}
        header = [c.value for c in sheet[1]]
        assert not fields & set(header), sheet.title
        for row in sheet.iter_rows(min_row=2):
            for c in row:
                assert not isinstance(c.value, bool), (sheet.title, c.coordinate)  # ja/nee, never TRUE/FALSE
                assert not (isinstance(c.value, str) and c.value in CODES), (sheet.title, c.coordinate, c.value)


def test_the_48_hour_answer_is_ja_or_nee_in_every_format(store, config, farm):
    add_entry(store, config, "visitors", {**GOOD["visitors"], "name": "Met Contact", "poultry_contact_48h": True},
              by="jan", now=NOW)
    label = LOGBOOKS["visitors"].label("poultry_contact_48h")
    rows = read_csv(export_bytes(store, config, "visitors", "csv", START, END, NOW)[1])
    assert {r["Naam"]: r[label] for r in rows} == {"Vroege Bezoeker": "nee", "Piet Jansen": "nee",
                                                   "Met Contact": "ja"}
    sheet = openpyxl.load_workbook(io.BytesIO(export_bytes(store, config, "visitors", "xlsx", START, END,
                                                           NOW)[1]))["visitors"]
    col = [c.value for c in sheet[1]].index(label)
    assert sorted(r[col].value for r in sheet.iter_rows(min_row=2)) == ["ja", "nee", "nee"]


def test_times_are_local_with_the_zone_stated_once(store, config, farm):
    # Summer time as well: registered 04:23 UTC on a July morning is 06:23 in the Netherlands.
    add_entry(store, config, "visitors", {**GOOD["visitors"], "date": "2026-07-01", "arrival": "06:20",
                                          "name": "Zomerbezoek"},
              by="jan", now=datetime(2026, 7, 1, 4, 23, tzinfo=timezone.utc))
    data = export_bytes(store, config, "visitors", "csv", START, END, NOW)[1]
    rows = {r["Naam"]: r for r in read_csv(data)}
    when = f"Geregistreerd op ({ZONE})"
    assert (rows["Vroege Bezoeker"]["Tijdstip van aankomst"], rows["Vroege Bezoeker"][when]) == (
        "05:23", "2026-03-19 05:23")
    assert rows["Zomerbezoek"][when] == "2026-07-01 06:23"
    text = data.decode("utf-8-sig")
    assert text.count(ZONE) == 1 and "+00:00" not in text and "04:23" not in text

    pdf = pdf_text(export_bytes(store, config, "visitors", "pdf", START, END, NOW)[1])
    assert f"alle tijden in lokale tijd ({ZONE})" in pdf
    assert "2026-03-19 05:23" in pdf and "06:23" in pdf and "04:23" not in pdf

    sheet = openpyxl.load_workbook(io.BytesIO(export_bytes(store, config, "visitors", "xlsx", START, END,
                                                           NOW)[1]))["visitors"]
    header = [c.value for c in sheet[1]]
    by_name = {r[header.index("Naam")].value: r for r in sheet.iter_rows(min_row=2)}
    moment = by_name["Vroege Bezoeker"][header.index(when)]
    assert moment.value == datetime(2026, 3, 19, 5, 23) and moment.number_format == "yyyy-mm-dd hh:mm"


def test_the_visitor_pdf_draws_the_signature_instead_of_its_file_reference(store, config, farm):
    import base64

    from agent.logbooks.signatures import store_signature

    from .test_web_kiosk import png_data_url

    ref = store_signature(store, base64.b64decode(png_data_url().split(",", 1)[1]), by="tablet", now=NOW)
    add_entry(store, config, "visitors", {**GOOD["visitors"], "name": "Getekend", "signature": ref}, by="tablet",
              now=NOW)
    reader = pypdf.PdfReader(io.BytesIO(export_bytes(store, config, "visitors", "pdf", START, END, NOW)[1]))
    assert sum(len(p.images) for p in reader.pages) == 1
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "file:" not in text and "sha256" not in text and "Getekend" in text
    # CSV and XLSX name the image in the pack instead of a database reference.
    file_id = ref.split(";")[0].split(":")[1]
    rows = {r["Naam"]: r for r in read_csv(export_bytes(store, config, "visitors", "csv", START, END, NOW)[1])}
    assert rows["Getekend"]["Paraaf / handtekening"] == f"getekend (signatures/{file_id}.png)"
    assert rows["Piet Jansen"]["Paraaf / handtekening"] == "PJ"  # typed initials stay what was typed


def test_entry_numbers_run_without_gaps_in_every_logbook(store, config, farm):
    """Rows of all logbooks share one id sequence; a corrected entry leaves its old row behind. Nr. counts each
    logbook's entries in the document 1, 2, 3 …; the id stays as the reference into the chain."""
    for day in (3, 5, 9):
        add_entry(store, config, "checks", {**GOOD["checks"], "date": f"2026-04-0{day}"}, by="jan", now=NOW)
        add_entry(store, config, "pest_control", {**GOOD["pest_control"], "date": f"2026-04-0{day}"}, by="jan",
                  now=NOW)
        add_entry(store, config, "visitors", {**GOOD["visitors"], "date": f"2026-04-0{day}"}, by="jan", now=NOW)
    second = [r for r in read_csv(export_bytes(store, config, "checks", "csv", START, END, NOW)[1])][1]
    correct_entry(store, config, int(second["Registratie-id"]), {"result": "fault"}, by="jan", now=NOW,
                  reason="storing gemist")
    pack = zipfile.ZipFile(io.BytesIO(build_pack(store, config, list(LOGBOOKS), START, END, NOW)))
    for kind in ("checks", "pest_control", "visitors"):
        rows = read_csv(pack.read(f"logbooks/{kind}.csv"))
        assert [r["Nr."] for r in rows] == [str(n) for n in range(1, len(rows) + 1)]
        ids = [int(r["Registratie-id"]) for r in rows]
        assert len(rows) >= 3 and ids != list(range(ids[0], ids[0] + len(ids)))  # the ids do have gaps
        sheet = openpyxl.load_workbook(io.BytesIO(pack.read("logbooks/logbooks.xlsx")))[kind]
        assert [r[0].value for r in sheet.iter_rows(min_row=2)] == list(range(1, len(rows) + 1))
        pdf = pdf_text(pack.read(f"logbooks/{kind}.pdf"))
        numbered = [int(m) for m in re.findall(r"^(\d+) \d{4}-\d\d-\d\d", pdf, re.M)]
        assert numbered == list(range(1, len(rows) + 1)), (kind, numbered)
    checks = read_csv(pack.read("logbooks/checks.csv"))
    corrected = next(r for r in checks if r["Corrigeert registratie-id"])
    assert corrected["Resultaat"] == "storing" and corrected["Reden correctie"] == "storing gemist"
    assert f"Nr. {corrected['Nr.']} (id {corrected['Registratie-id']}) corrigeert id " \
           f"{corrected['Corrigeert registratie-id']}" in pdf_text(pack.read("logbooks/checks.pdf"))


def test_events_read_as_sentences_not_json(store, config, farm):
    start = int(datetime(2026, 3, 10, 2, tzinfo=timezone.utc).timestamp() * 1000)
    with store.transaction() as db:
        db.execute("INSERT INTO events(kind, location, start, \"end\", detail) VALUES ('mains_outage', '1', ?, ?, ?)",
                   [start, start + 95 * 60000, '{"result": "failed", "detail": "stroomuitval van 1:35: aggregaat '
                                               'niet gestart binnen 30 s", "started_after_s": null}'])
        db.execute("INSERT INTO events(kind, location, start, \"end\", detail) VALUES ('sensor_offline', '1', ?,"
                   " NULL, ?)", [start, '{"topic": "stal1/lux", "kind": "lux", "interval_s": 60}'])
    pack = zipfile.ZipFile(io.BytesIO(build_pack(store, config, ["visitors"], START, END, NOW)))
    rows = read_csv(pack.read("episodes/events.csv"))
    assert [r["Beschrijving"] for r in rows] == [
        "Stroomuitval, Stal 1, van 2026-03-10 03:00 tot 2026-03-10 04:35 (1 u 35 min): het aggregaat nam het "
        "niet over (stroomuitval van 1:35: aggregaat niet gestart binnen 30 s).",
        "Sensor stal1/lux (lichtsterkte), Stal 1, niet gehoord sinds 2026-03-10 03:00, nog niet afgelopen."]
    assert "{" not in pack.read("episodes/events.csv").decode("utf-8-sig")


def test_deviations_with_their_repairs_are_in_the_pack(store, config, farm, tmp_path):
    pack_bytes = build_pack(store, config, list(LOGBOOKS), START, END, NOW)
    pack = zipfile.ZipFile(io.BytesIO(pack_bytes))
    import json

    score = json.loads(pack.read("score/score.json"))
    found = {(f["rule"], f["status"]) for f in score["findings"] if f["status"] in ("B", "C", "D", "KO")}
    rows = read_csv(pack.read("score/deviations.csv"))
    assert found and {(r["Regel"], r["Categorie"].split()[0]) for r in rows} == found
    assert all(r["Afwijking"] for r in rows)
    page = pack.read("index.html").decode("utf-8")
    assert all(rule in page for rule, _status in found)
    path = tmp_path / "pack.zip"
    path.write_bytes(pack_bytes)
    assert verify_pack(path)[0]


def test_a_repair_recorded_for_an_occurrence_is_shown_beside_it(config):
    """The score's occurrences carry `repair` (DESIGN §3.5 v2) when a corrective action was recorded: the pack
    shows it, and says so where a D has none."""
    at = datetime(2026, 3, 20, 11, tzinfo=timezone.utc)
    occurrence = {"start": (at - timedelta(days=3)).isoformat(), "end": (at - timedelta(days=2)).isoformat(),
                  "detail": "donkerperiode 7,2 uur"}
    score = {"verdict": "remarks", "counts": {"D": 1}, "findings": [
        {"rule": "G3.8.9", "location": "1", "status": "D", "source": "sensor", "summary": "tekst",
         "occurrences": [{**occurrence, "repair": {"id": 41, "date": "2026-03-19", "action": "lichtklok bijgesteld",
                                                   "performed_by": "Jan"}}], "repaired": True},
        {"rule": "G3.8.10", "location": "1", "status": "D", "source": "sensor", "summary": "tekst",
         "occurrences": [occurrence]}]}
    items = deviations(score, load_catalogue(), config)
    rows = read_csv(deviations_csv(items, ZONE))
    by_rule = {r["Regel"]: r for r in rows}
    repaired = by_rule["G3.8.9"]
    assert (repaired["Hersteld op"], repaired["Hersteld door"], repaired["Herstelmaatregel"],
            repaired["Registratie-id herstel"], repaired["Regel geheel hersteld"]) == (
        "2026-03-19", "Jan", "lichtklok bijgesteld", "41", "ja")
    assert repaired[f"Begin ({ZONE})"] == "2026-03-17 12:00"
    assert (by_rule["G3.8.10"]["Herstelmaatregel"], by_rule["G3.8.10"]["Regel geheel hersteld"]) == ("", "nee")
    assert by_rule["G3.8.9"]["Locatie"] == "Stal 1"
