"""Exports an auditor can trust: CSV, XLSX and PDF read back; the audit pack verifies and catches tampering."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import date, datetime, time, timezone
from pathlib import Path

import openpyxl
import pypdf
import pytest

from agent.exports import PACK_SECTIONS, ExportError, build_pack, verify_pack
from agent.exports import pack as export_mod
from agent.exports import pdf as pdf_mod
from agent.exports.pdf import font_paths
from agent.logbooks.entries import add_entry, correct_entry
from rules.logbooks import LOGBOOKS

from .test_logbook import GOOD

NOW = datetime(2026, 3, 20, 11, tzinfo=timezone.utc)
QUESTION_48H = ("Bent u in de afgelopen 48 uur op een ander pluimveebedrijf geweest waar een besmettelijke ziekte "
                "heerst?")
START, END = date(2026, 1, 1), date(2026, 3, 31)


def fill(store, config):
    """Write entries in several logbooks, one corrected, one outside the period."""
    add = lambda kind, data: add_entry(store, config, kind, data, by="jan", now=NOW)  # noqa: E731
    add("visitors", {**GOOD["visitors"], "name": "Zoë Ødegård", "organisation": "Voer; Noord"})
    add("visitors", {**GOOD["visitors"], "date": "2025-12-20", "name": "Oud Bezoek"})  # before the period
    add("pest_control", GOOD["pest_control"])
    add("bait_boxes", GOOD["bait_boxes"])
    add("cleaning", GOOD["cleaning"])
    add("flocks", GOOD["flocks"])
    day = add("flock_day", GOOD["flock_day"])
    correct_entry(store, config, day.entry.id, {"mortality": 3}, by="marie", now=NOW, reason="telfout")
    add("checks", GOOD["checks"])
    return store


@pytest.fixture
def farm(store, config):
    """A store filled by :func:`fill`."""
    return fill(store, config)


def new_farm(tmp: Path):
    """Return (config, store) of the test farm in a folder of its own (for module-scoped packs)."""
    from agent.config import load_config
    from agent.store.connection import open_store

    from .conftest import FARM_TOML

    (tmp / "ikb-agent.toml").write_text(FARM_TOML.format(db=tmp / "farm.db"), encoding="utf-8")
    config = load_config(tmp / "ikb-agent.toml")
    return config, open_store(config.storage.path)


def forge(pack: Path, out: Path, change, key=None) -> Path:
    """Copy a pack with ``change(files, manifest)`` applied, every listed file's SHA-256 recomputed and the
    manifest resealed — signed with ``key`` (whoever holds the Pi holds the farm's), or unsigned without one."""
    with zipfile.ZipFile(pack) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(files["manifest.json"])
    change(files, manifest)
    manifest["files"] = {n: hashlib.sha256(files[n]).hexdigest() for n in manifest["files"] if n in files}
    files.pop("manifest.sig", None)
    if key is not None:
        old = manifest["signing"]["fingerprint"].encode()
        files["README.txt"] = files["README.txt"].replace(old, key.fingerprint.encode())  # README names the key
        manifest["signing"] = key.public_info()
        manifest["files"]["README.txt"] = hashlib.sha256(files["README.txt"]).hexdigest()
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
    if key is not None:
        files["manifest.sig"] = (key.sign(files["manifest.json"]) + "\n").encode()
    seal = f"{hashlib.sha256(files['manifest.json']).hexdigest()}  manifest.json\n"
    files["manifest.sha256"] = (seal + f"{hashlib.sha256(seal.encode()).hexdigest()}  -\n").encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> bytes:
    """One audit pack of the filled farm, built once for the tamper tests."""
    from rules.logbooks import LOGBOOKS

    config, store = new_farm(tmp_path_factory.mktemp("pack"))
    fill(store, config)
    data = build_pack(store, config, list(LOGBOOKS), START, END, NOW)
    store.close()
    return data


def run_export(cli, tmp_path, *args):
    return cli("export", "--from", START.isoformat(), "--to", END.isoformat(), *args)


def test_csv_has_bom_semicolons_and_the_logbook_columns(cli, farm, tmp_path):
    out = tmp_path / "visitors.csv"
    assert run_export(cli, tmp_path, "--kind", "visitors", "--format", "csv", "--out", str(out)).code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert [r["Naam"] for r in rows] == ["Zoë Ødegård"]  # the December visit lies outside the period
    row = rows[0]
    assert (row["Datum bezoek"], row["Tijdstip van aankomst"], row["Organisatie"]) == ("2026-03-18", "09:15",
                                                                                      "Voer; Noord")
    assert (row[QUESTION_48H], row["Bezochte stallen"], row["Status"], row["Geregistreerd door"]) == (
        "nee", "1, 2", "bevestigd", "jan")
    assert list(rows[0])[:9] == ["Nr.", "Datum bezoek", "Tijdstip van aankomst", "Naam", "Organisatie", QUESTION_48H,
                                 "Bezochte stallen", "Kenteken", "Paraaf / handtekening"]


def test_csv_of_all_logbooks_is_a_directory_of_files(cli, farm, tmp_path):
    out = tmp_path / "csv"
    assert run_export(cli, tmp_path, "--kind", "all", "--format", "csv", "--out", str(out)).code == 0
    assert {p.name for p in out.iterdir()} == {f"{k}.csv" for k in GOOD}
    rows = list(csv.DictReader(io.StringIO((out / "flock_day.csv").read_text("utf-8-sig")), delimiter=";"))
    assert [(r["Uitval (dood)"], r["Corrigeert registratie-id"], r["Reden correctie"]) for r in rows] == [
        ("3", "7", "telfout")]


def test_xlsx_has_one_typed_sheet_per_logbook_with_a_frozen_header(cli, farm, tmp_path):
    out = tmp_path / "logboeken.xlsx"
    assert run_export(cli, tmp_path, "--kind", "all", "--format", "xlsx", "--out", str(out)).code == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Info"] + list(GOOD)
    ws = wb["flock_day"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    row = dict(zip(header, [c.value for c in ws[2]]))
    assert row["Datum"] == datetime(2026, 3, 18)
    assert ws.cell(2, header.index("Datum") + 1).number_format == "yyyy-mm-dd"
    assert row["Uitval (dood)"] == 3 and row["Wateropname (liter)"] == 4100.5 and row["Koppel gecontroleerd"] == "ja"
    assert ws.cell(1, header.index("Uitval (dood)") + 1).comment.text.startswith("veld mortality")
    visit = dict(zip([c.value for c in wb["visitors"][1]], [c.value for c in wb["visitors"][2]]))
    assert visit["Tijdstip van aankomst"] == time(9, 15)
    info = {r[0].value: r[1].value for r in wb["Info"].iter_rows()}
    assert info["KIP-nummer"] == "123456" and info["Periode"] == "2026-01-01 t/m 2026-03-31"


def test_pdf_shows_farm_period_rules_entries_corrections_and_page_numbers(cli, farm, tmp_path):
    out = tmp_path / "logboeken.pdf"
    assert run_export(cli, tmp_path, "--kind", "all", "--format", "pdf", "--out", str(out)).code == 0
    reader = pypdf.PdfReader(out)
    assert reader.pages[0].mediabox.width == pytest.approx(842, abs=1)  # A4 landscape, in points
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Pluimveebedrijf De Hoeve · KIP 123456" in text
    assert "periode 2026-01-01 t/m 2026-03-31" in text
    assert f"Pagina 1/{len(reader.pages)}" in text
    assert re.search(r"gegenereerd \d{4}-\d\d-\d\d \d\d:\d\d CES?T", text)
    assert "A4.2.2: De pluimveehouder houdt een bezoekersregister bij." in text
    assert "Zoë Ødegård" in text and "Oud Bezoek" not in text
    assert "Brodifacoum blok" in text and "13288 N" in text
    assert "Nr. 1 (id 8) corrigeert id 7 — marie" in text and "telfout (Uitval (dood): 4 → 3)" in text


def test_pdf_without_the_font_fails_with_a_clear_message(cli, farm, tmp_path, monkeypatch):
    with pytest.raises(ExportError, match="apt-get install fonts-dejavu-core"):
        font_paths(dirs=(str(tmp_path),))
    monkeypatch.setattr(pdf_mod, "FONT_DIRS", (str(tmp_path / "nowhere"),))
    result = run_export(cli, tmp_path, "--kind", "visitors", "--format", "pdf", "--out", str(tmp_path / "x.pdf"))
    assert result.code == 1 and "DejaVu Sans" in result.err and not (tmp_path / "x.pdf").exists()


# --------------------------------------------------------------------------- the audit pack


@pytest.fixture
def pack(built, tmp_path) -> Path:
    out = tmp_path / "audit.zip"
    out.write_bytes(built)
    return out


def test_export_zip_from_the_cli_writes_a_pack_that_verifies(cli, farm, tmp_path):
    out = tmp_path / "audit.zip"
    result = run_export(cli, tmp_path, "--kind", "all", "--format", "zip", "--out", str(out))
    assert result.code == 0 and result.out.strip() == f"geschreven: {out}", result.err
    result = cli("verify", str(out), config=None)
    assert result.code == 0 and len(result.out.strip().splitlines()) == 1
    assert "intact" in result.out and f"{len(LOGBOOKS)} logboeken (9 ketenregels)" in result.out


def test_the_audit_pack_holds_every_logbook_score_and_manifest_and_verifies(cli, pack):
    names = set(zipfile.ZipFile(pack).namelist())
    for kind in GOOD:
        assert {f"logbooks/{kind}.csv", f"logbooks/{kind}.pdf", f"chains/{kind}.jsonl"} <= names
    assert {"score/score.json", "score/score.txt", "manifest.json", "manifest.sha256", "manifest.sig", "README.txt",
            "logbooks/logbooks.xlsx"} <= names
    manifest = json.loads(zipfile.ZipFile(pack).read("manifest.json"))
    assert set(manifest["files"]) == names - {"manifest.json", "manifest.sha256", "manifest.sig"}
    assert manifest["chains"]["visitors"]["entries"] == 2
    score = json.loads(zipfile.ZipFile(pack).read("score/score.json"))
    assert score["scheme"] == "IKB Ei" and any(f["rule"] == "A4.4.5" for f in score["findings"])
    assert verify_pack(pack)[0]


def test_every_chain_line_carries_its_record_so_the_pack_can_prove_it_is_complete(pack):
    """Issue 13: a digest-only line does not say its entry's date, so it could hide an entry of the period."""
    lines = [json.loads(x) for x in zipfile.ZipFile(pack).read("chains/visitors.jsonl").splitlines()]
    assert ["record" in x for x in lines] == [True, True]
    assert "Oud Bezoek" in zipfile.ZipFile(pack).read("chains/visitors.jsonl").decode()  # outside the period
    assert "Oud Bezoek" not in zipfile.ZipFile(pack).read("logbooks/visitors.csv").decode("utf-8-sig")


def rewrite(pack: Path, out: Path, name: str, change) -> Path:
    """Copy a pack with one member's bytes changed."""
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info.filename, change(data) if info.filename == name else data)
    return out


def flip(data: bytes) -> bytes:
    """Change one byte in the middle."""
    i = len(data) // 2
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]


def test_one_byte_changed_in_any_member_fails_verification_naming_that_member(pack, tmp_path):
    for name in zipfile.ZipFile(pack).namelist():
        if not zipfile.ZipFile(pack).read(name):
            continue  # an empty chain file has no byte to change
        bad = rewrite(pack, tmp_path / "bad.zip", name, flip)
        ok, message = verify_pack(bad)
        assert not ok and message.startswith(name + ":"), (name, message)


def damage(pack: Path, out: Path, member: str, mask: int = 0xFF) -> Path:
    """Copy a pack with one byte flipped inside a member's compressed data (the zip file itself damaged)."""
    raw = bytearray(pack.read_bytes())
    info = zipfile.ZipFile(pack).getinfo(member)
    # Local header: 30 bytes + name + extra, then the compressed data.
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + info.compress_size // 2] ^= mask
    out.write_bytes(bytes(raw))
    return out


def test_a_byte_flipped_in_the_zip_file_itself_names_the_damaged_member(pack, tmp_path):
    bad = damage(pack, tmp_path / "bad.zip", "logbooks/visitors.pdf")
    ok, message = verify_pack(bad)
    assert not ok and message.startswith("logbooks/visitors.pdf:")


def test_a_csv_edited_resealed_and_signed_again_still_fails_against_the_chain(pack, tmp_path):
    """Recomputing the manifest's hashes and signing it again (any key: whoever holds the Pi has the farm's)
    does not help a forger: the CSV must be its chain's records, rendered as the export renders them."""
    from agent.signing import create_key

    def edit(files, manifest):
        files["logbooks/visitors.csv"] = files["logbooks/visitors.csv"].replace(b"09:15", b"07:15")

    bad = forge(pack, tmp_path / "resealed.zip", edit, key=create_key(tmp_path / "other.key"))
    ok, message = verify_pack(bad)
    assert not ok and message.startswith("logbooks/visitors.csv: klopt niet met de registraties in de keten "
                                         "(regel 2: "), message


def test_a_csv_edited_and_passed_off_as_an_older_unsigned_format_is_refused(pack, tmp_path):
    """Passing the pack off as an unsigned one of format 1 does not help a forger either: such a pack cannot show
    it is complete (issue 13) and is refused."""
    def old(files, manifest):
        files["logbooks/visitors.csv"] = files["logbooks/visitors.csv"].replace(b"09:15", b"07:15")
        manifest["version"] = 1
        del manifest["signing"]

    bad = forge(pack, tmp_path / "old.zip", old)
    ok, message = verify_pack(bad)
    assert not ok and message.startswith("manifest.json: pakketformaat 1; dit kan niet aantonen dat het volledig is")


def test_verify_exits_1_naming_the_member_and_refuses_non_zips(cli, pack, tmp_path):
    bad = rewrite(pack, tmp_path / "bad.zip", "chains/visitors.jsonl", flip)
    result = cli("verify", str(bad), config=None)
    assert result.code == 1 and "chains/visitors.jsonl" in result.err
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    result = cli("verify", str(junk), config=None)
    assert result.code == 1 and "not a readable zip file" in result.err


def test_pack_includes_event_episodes_and_sections_added_by_other_features(store, config, farm, monkeypatch):
    start = int(datetime(2026, 3, 10, 9, tzinfo=timezone.utc).timestamp() * 1000)
    with store.transaction() as db:
        db.execute("INSERT INTO events(kind, location, start, \"end\", detail) VALUES ('generator_test', '1', ?, ?,"
                   " '{\"result\": \"ok\"}')", [start, start + 20 * 60000])
    monkeypatch.setattr(export_mod, "PACK_SECTIONS",
                        PACK_SECTIONS + [lambda ctx: {"light/1.csv": b"date;dark_start\r\n"}])
    data = build_pack(store, config, ["visitors"], START, END, NOW)
    zf = zipfile.ZipFile(io.BytesIO(data))
    events = list(csv.DictReader(io.StringIO(zf.read("episodes/events.csv").decode("utf-8-sig")), delimiter=";"))
    assert [(e["Soort"], e["Locatie"], e["Begin (Europe/Amsterdam)"], e["Duur"]) for e in events] == [
        ("Proefdraaien noodstroomaggregaat", "Stal 1", "2026-03-10 10:00", "20 min")]
    assert events[0]["Beschrijving"] == ("Proefdraaien noodstroomaggregaat, Stal 1, van 2026-03-10 10:00 tot "
                                         "2026-03-10 10:20 (20 min): in orde.")
    assert "light/1.csv" in json.loads(zf.read("manifest.json"))["files"]


def test_export_bytes_serves_the_web_downloads(store, config, farm):
    from agent.exports import export_bytes

    name, data = export_bytes(store, config, "visitors", "csv", START, END, NOW)
    assert name == "ikb-123456-visitors-2026-01-01-2026-03-31.csv" and data.startswith(b"\xef\xbb\xbf")
    name, data = export_bytes(store, config, "all", "zip", START, END, NOW)
    assert name.endswith("-auditpakket.zip") and zipfile.ZipFile(io.BytesIO(data)).read("manifest.sha256")
    name, data = export_bytes(store, config, "all", "csv", START, END, NOW)
    assert set(zipfile.ZipFile(io.BytesIO(data)).namelist()) == {f"{k}.csv" for k in GOOD}
    with pytest.raises(ExportError, match="onbekend logboek"):
        export_bytes(store, config, "koeien", "csv", START, END, NOW)


def test_pack_holds_the_light_schedule_day_table_per_house(store, config, farm, tmp_path):
    """The audit pack's light/stal-<id>.csv: per lighting day the dark period and each light rule's verdict."""
    from agent.store.readings import insert_readings, sync_sensors

    from .synth import light_samples, local, ms

    switch = ms(local(date(2026, 3, 4), "12:00"))
    good = [s for s in light_samples(date(2026, 3, 1), 4, on="04:00", off="19:30") if s[0] < switch]
    short = [s for s in light_samples(date(2026, 3, 4), 2, on="04:30", off="21:00") if s[0] >= switch]
    sensor = sync_sensors(store, config.sensors, NOW)[("zigbee2mqtt/stal1_lux", "illuminance_lux")]
    with store.transaction() as db:
        insert_readings(db, [(sensor.id, t, v) for t, v in good + short])
    data = build_pack(store, config, ["visitors"], date(2026, 3, 2), date(2026, 3, 4), NOW)
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert "light/stal-2.csv" not in zf.namelist()  # house 2 has no lux sensor
    rows = list(csv.DictReader(io.StringIO(zf.read("light/stal-1.csv").decode("utf-8-sig")), delimiter=";"))
    by_day = {r["Lichtdag"]: r for r in rows}
    assert sorted(by_day) == ["2026-03-02", "2026-03-03", "2026-03-04"]
    def hours(day):
        return float(by_day[day]["Langste donkerperiode (uur)"].replace(",", "."))

    # Dark from the end of the dusk ramp (19:30) until the dawn ramp lifts it (just after 04:00).
    assert by_day["2026-03-02"]["G3.8.9"] == "ok" and 8.5 <= hours("2026-03-02") <= 8.7
    assert by_day["2026-03-02"]["Langste donkerperiode begin (Europe/Amsterdam)"].startswith("2026-03-02 19:")
    assert by_day["2026-03-04"]["G3.8.9"] == "D" and 7.5 <= hours("2026-03-04") <= 7.7
    assert by_day["2026-03-03"]["G3.8.10"] == "ok"
    assert 10 <= int(by_day["2026-03-03"]["Schemer vóór het donker (min)"]) <= 20
    path = tmp_path / "pack.zip"
    path.write_bytes(data)
    assert verify_pack(path)[0]
