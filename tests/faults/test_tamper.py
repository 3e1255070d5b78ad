"""The audit pack cannot be falsified and still verify with the same fingerprint (issue 13, Why 4).

Each case is a forger on the farm — who has the farm key, so recomputes manifest.json, its seal *and its
signature* — keeping the chain and therefore the fingerprint on the printed PDF unchanged: ja→nee in the XLSX, a replaced visitors PDF, an
entry taken out of CSV, PDF and XLSX, an entry's chain record turned into a bare digest and taken out, a
forged row, a replaced signature image. And an export from a database whose rows were edited is refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from agent.exports import ExportError, build_pack, export_bytes, verify_pack
from agent.exports.csvfile import to_csv
from agent.exports.pdf import Heading, to_pdf
from agent.exports.xlsx import to_xlsx
from agent.logbooks import add_entry, list_entries, store_signature
from rules.logbooks import LOGBOOKS
from tests.test_logbook import GOOD
from tests.test_web_kiosk import png_data_url

NOW = datetime(2026, 3, 20, 11, tzinfo=timezone.utc)
START, END = date(2026, 3, 1), date(2026, 3, 31)


@pytest.fixture
def farm(store, config):
    """Three visitors in March (one with a drawn signature), a flock day; the pack of them."""
    import base64

    png = base64.b64decode(png_data_url().split(",", 1)[1])
    ref = store_signature(store, png, by="kiosk", now=NOW)
    for name, contact in (("Piet Jansen", False), ("Vreemde Bezoeker", True), ("Kees Kiosk", False)):
        entry = {**GOOD["visitors"], "name": name, "poultry_contact_48h": contact}
        if name == "Kees Kiosk":
            entry["signature"] = ref
        add_entry(store, config, "visitors", entry, by="jan", now=NOW)
    return store


def files_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def reseal(files: dict[str, bytes], tmp_path: Path) -> Path:
    """Write a pack with manifest.json's hashes, seal and signature recomputed: what the farm's key holder can do."""
    from agent.exports.proof import SIGNATURE_MEMBER

    manifest = json.loads(files["manifest.json"])
    members = {n: d for n, d in files.items() if n not in ("manifest.json", "manifest.sha256", "manifest.sig")}
    manifest["files"] = {n: hashlib.sha256(d).hexdigest() for n, d in sorted(members.items())}
    body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
    seal = f"{hashlib.sha256(body).hexdigest()}  manifest.json\n"
    seal += f"{hashlib.sha256(seal.encode()).hexdigest()}  -\n"
    out = tmp_path / f"forged-{len(list(tmp_path.iterdir()))}.zip"
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in sorted(members.items()):
            zf.writestr(name, data)
        zf.writestr("manifest.json", body)
        zf.writestr("manifest.sha256", seal)
        zf.writestr(SIGNATURE_MEMBER, KEY[0].sign(body) + "\n")
    return out


KEY: list = []  # the farm key the pack was signed with (the forger on the farm has it too)


@pytest.fixture
def pack(farm, config):
    from agent.signing import farm_key

    KEY[:] = [farm_key(config.key_path())]
    return build_pack(farm, config, ["visitors", "flock_day"], START, END, NOW, key=KEY[0])


def _heading(files) -> Heading:
    m = json.loads(files["manifest.json"])
    return Heading(m["farm"]["name"], m["farm"]["kip_number"], START, END, m["generated"], m["fingerprint"],
                   m["timezone"])


def test_the_untouched_pack_verifies_and_a_mere_reseal_changes_nothing(pack, tmp_path):
    ok, summary = verify_pack(reseal(files_of(pack), tmp_path))
    assert ok, summary


def test_ja_to_nee_in_the_xlsx_fails(pack, tmp_path):
    files = files_of(pack)
    wb = load_workbook(io.BytesIO(files["logbooks/logbooks.xlsx"]))
    ws = wb["visitors"]
    column = [c.value for c in ws[1]].index(LOGBOOKS["visitors"].label("poultry_contact_48h")) + 1
    flipped = [r for r in range(2, ws.max_row + 1) if ws.cell(r, column).value == "ja"]
    assert flipped
    ws.cell(flipped[0], column).value = "nee"  # ja → nee: the visitor "had no contact"
    out = io.BytesIO()
    wb.save(out)
    files["logbooks/logbooks.xlsx"] = out.getvalue()
    ok, message = verify_pack(reseal(files, tmp_path))
    assert not ok and message.startswith("logbooks/logbooks.xlsx: blad visitors cel"), message


def _rezipped(data: bytes, change) -> bytes:
    """Return a workbook written again member by member, each member's bytes passed through change(name, bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for name in src.namelist():
            dst.writestr(name, change(name, src.read(name)))
    return out.getvalue()


def test_a_workbook_with_the_same_cells_in_other_bytes_verifies(pack, tmp_path):
    """Verify compares a workbook part by part first, then (another writer, other properties) cell by cell."""
    files = files_of(pack)
    original = files["logbooks/logbooks.xlsx"]
    for change in (lambda name, data: data,  # the same parts, zipped otherwise
                   lambda name, data: data.replace(b"</Properties>", b"<Company>X</Company></Properties>")
                   if name == "docProps/app.xml" else data):  # another part: cell by cell
        files["logbooks/logbooks.xlsx"] = _rezipped(original, change)
        assert files["logbooks/logbooks.xlsx"] != original
        ok, summary = verify_pack(reseal(files, tmp_path))
        assert ok, summary


def test_a_changed_cell_fails_even_when_the_other_parts_are_the_same(pack, tmp_path):
    files = files_of(pack)
    name = "xl/sharedStrings.xml"
    with zipfile.ZipFile(io.BytesIO(files["logbooks/logbooks.xlsx"])) as zf:
        if name not in zf.namelist():
            name = next(n for n in zf.namelist() if n.startswith("xl/worksheets/") and "Vreemde" in zf.read(n).decode())
    files["logbooks/logbooks.xlsx"] = _rezipped(files["logbooks/logbooks.xlsx"],
                                                lambda n, data: data.replace(b"Vreemde", b"Vriende") if n == name else data)
    ok, message = verify_pack(reseal(files, tmp_path))
    assert not ok and message.startswith("logbooks/logbooks.xlsx: blad visitors cel"), message


def test_a_replaced_visitors_pdf_fails(pack, farm, tmp_path):
    files = files_of(pack)
    rows = [r for r in list_entries(farm, "visitors") if r.entry["name"] != "Vreemde Bezoeker"]
    files["logbooks/visitors.pdf"] = to_pdf([(LOGBOOKS["visitors"], rows, [])], _heading(files))
    ok, message = verify_pack(reseal(files, tmp_path))
    assert not ok and message.startswith("logbooks/visitors.pdf: klopt niet"), message


def test_an_entry_removed_from_csv_pdf_and_xlsx_fails_as_incomplete(pack, farm, tmp_path):
    files = files_of(pack)
    rows = [r for r in list_entries(farm, "visitors") if r.entry["name"] != "Vreemde Bezoeker"]
    days = list_entries(farm, "flock_day")
    zone = _heading(files).zone
    files["logbooks/visitors.csv"] = to_csv(LOGBOOKS["visitors"], rows, zone)
    files["logbooks/visitors.pdf"] = to_pdf([(LOGBOOKS["visitors"], rows, [])], _heading(files))
    files["logbooks/logbooks.xlsx"] = to_xlsx([(LOGBOOKS["visitors"], rows), (LOGBOOKS["flock_day"], days)], [],
                                              zone)
    ok, message = verify_pack(reseal(files, tmp_path))
    assert not ok and message.startswith("logbooks/visitors.csv: klopt niet"), message
    assert "Vreemde Bezoeker" in message


def test_a_chain_record_turned_into_a_digest_and_removed_everywhere_fails(pack, farm, tmp_path):
    """The forger keeps the fingerprint by leaving the hash and replacing the record with its digest."""
    from agent.logbooks import content_hash

    files = files_of(pack)
    lines = [json.loads(x) for x in files["chains/visitors.jsonl"].splitlines()]
    for item in lines:
        if item["record"]["entry"]["name"] == "Vreemde Bezoeker":
            item["content_hash"] = content_hash(item.pop("record"))
    files["chains/visitors.jsonl"] = "".join(json.dumps(x, sort_keys=True) + "\n" for x in lines).encode()
    rows = [r for r in list_entries(farm, "visitors") if r.entry["name"] != "Vreemde Bezoeker"]
    files["logbooks/visitors.csv"] = to_csv(LOGBOOKS["visitors"], rows, _heading(files).zone)
    ok, message = verify_pack(reseal(files, tmp_path))
    assert not ok and "alleen een digest" in message, message


def test_a_forged_row_added_to_the_csv_fails(pack, tmp_path):
    files = files_of(pack)
    text = files["logbooks/visitors.csv"].decode("utf-8-sig")
    last = text.rstrip("\r\n").splitlines()[-1]
    files["logbooks/visitors.csv"] = ("\ufeff" + text + last.replace("Piet Jansen", "Piet Jansen jr") + "\r\n").encode()
    ok, message = verify_pack(reseal(files, tmp_path))
    assert not ok and message.startswith("logbooks/visitors.csv: klopt niet"), message


def test_a_replaced_signature_image_fails(pack, tmp_path):
    import base64

    files = files_of(pack)
    [name] = [n for n in files if n.startswith("signatures/")]
    files[name] = base64.b64decode(png_data_url(size=(300, 100)).split(",", 1)[1])
    ok, message = verify_pack(reseal(files, tmp_path))
    assert not ok and message.startswith(f"{name}: de handtekening klopt niet"), message


def test_a_pack_of_an_older_format_cannot_pass_for_complete(pack, tmp_path):
    files = files_of(pack)
    manifest = json.loads(files["manifest.json"])
    manifest["version"] = 2  # signed, but from before every chain line carried its record
    files["manifest.json"] = json.dumps(manifest).encode()
    ok, message = verify_pack(reseal(files, tmp_path))
    assert not ok and "pakketformaat 2" in message


def test_an_export_from_a_database_with_edited_rows_is_refused(farm, config, cli, tmp_path):
    """Rows edited with SQL (triggers dropped) break the chain: no CSV, XLSX, PDF or pack is written."""
    with farm.transaction() as db:
        db.execute("DROP TRIGGER logbook_no_update")
        db.execute("UPDATE logbook SET entry = replace(entry, 'true', 'false') WHERE entry LIKE '%Vreemde%'")
    for fmt in ("csv", "xlsx", "pdf", "zip"):
        with pytest.raises(ExportError, match="visitors: de hashketen klopt niet"):
            export_bytes(farm, config, "visitors", fmt, START, END, NOW)
    result = cli("export", "--kind", "all", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "zip",
                 "--out", str(tmp_path / "p.zip"))
    assert result.code == 1 and "de hashketen klopt niet" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "p.zip").exists()
