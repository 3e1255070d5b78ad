"""Proof the owner cannot rewrite (issue 16, item 6): the farm key signs every pack's manifest, the agent
publishes signed chain heads, and `verify` finds a database edited after those heads left the farm."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import zipfile
from datetime import timedelta
from pathlib import Path

from agent.exports import read_heads, verify_pack
from agent.logbooks.chain import content_hash, envelope_of, link_hash
from agent.signing import farm_key, load_key
from agent.upstream import chain_doc

from .test_export import END, NOW, START, fill


def export_pack(cli, path: Path, *, kind: str = "visitors", start=START, end=END) -> Path:
    """Export the audit pack through the CLI, as the farmer does (one logbook unless told: PDFs take time)."""
    result = cli("export", "--kind", kind, "--from", start.isoformat(), "--to", end.isoformat(), "--format", "zip",
                 "--out", str(path))
    assert result.code == 0, result.err
    return path


def rewrite_history(db: Path, entry_id: int, change: dict) -> None:
    """Do what a farmer with root on the Pi can do: edit an old entry and recompute every later hash."""
    con = sqlite3.connect(db)
    con.execute("DROP TRIGGER logbook_no_update")
    kind = con.execute("SELECT kind FROM logbook WHERE id = ?", [entry_id]).fetchone()[0]
    rows = con.execute("SELECT id, entry, recorded_at, recorded_by, supersedes, reason, state, keep_until, prev_hash"
                       " FROM logbook WHERE kind = ? ORDER BY id", [kind]).fetchall()
    prev = None
    for rid, entry, recorded_at, by, supersedes, reason, state, keep_until, prev_hash in rows:
        entry = json.loads(entry)
        if rid == entry_id:
            entry.update(change)
        prev = prev_hash if prev is None else prev
        new = link_hash(prev, content_hash(envelope_of(rid, kind, entry, recorded_at, by, supersedes, reason, state,
                                                       keep_until)))
        con.execute("UPDATE logbook SET entry = ?, prev_hash = ?, hash = ? WHERE id = ?",
                    [json.dumps(entry, ensure_ascii=False), prev, new, rid])
        prev = new
    con.commit()
    con.close()


def published_heads(store, config, tmp_path: Path, when=NOW) -> Path:
    """Write the chain heads the agent would publish upstream now into a heads file (as `fleet --save-heads`)."""
    doc = chain_doc(store, config, when, farm_key(config.key_path()))
    path = tmp_path / "heads.jsonl"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(doc) + "\n")
    return path


def test_export_creates_the_farm_key_outside_the_database_readable_by_its_owner_only(cli, config, store):
    fill(store, config)
    pack = export_pack(cli, config.key_path().parent / "a.zip")
    key_file = config.key_path()
    assert key_file.name == "farm.key" and key_file.parent == Path(config.storage.path).parent
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    pem = key_file.read_bytes()
    assert pem not in Path(config.storage.path).read_bytes()
    manifest = json.loads(zipfile.ZipFile(pack).read("manifest.json"))
    assert manifest["signing"]["fingerprint"] == load_key(key_file).fingerprint
    # A second export signs with the same key.
    again = export_pack(cli, config.key_path().parent / "b.zip")
    assert json.loads(zipfile.ZipFile(again).read("manifest.json"))["signing"] == manifest["signing"]


def test_key_init_prints_the_fingerprint_and_keeps_an_existing_key(cli, config):
    first = cli("key", "init")
    assert first.code == 0 and "nieuwe bedrijfssleutel" in first.out
    fingerprint = load_key(config.key_path()).fingerprint
    assert fingerprint in first.out and len(fingerprint) == 19 and fingerprint.count("-") == 3
    second = cli("key", "init")
    assert second.code == 0 and "bestaande" in second.out and fingerprint in second.out
    english = cli("--lang", "en", "key", "show")
    assert f"fingerprint: {fingerprint}" in english.out and "vingerafdruk" not in english.out
    shown = cli("key", "show", "--format", "json")
    assert json.loads(shown.out)["fingerprint"] == fingerprint and "PRIVATE" not in shown.out


def test_key_show_without_a_key_says_how_to_make_one(cli):
    result = cli("key", "show")
    assert result.code == 1 and "ikb-agent key init" in result.err


def test_verify_names_the_farm_key_that_signed_the_pack(cli, config, store):
    fill(store, config)
    pack = export_pack(cli, config.key_path().parent / "a.zip")
    result = cli("verify", str(pack), config=None)
    assert result.code == 0
    assert f"ondertekend met bedrijfssleutel {load_key(config.key_path()).fingerprint}" in result.out


def _resealed(pack: Path, out: Path, change_manifest) -> Path:
    """Copy a pack with its manifest changed and the seal (manifest.sha256) recomputed, signature kept."""
    files = {n: zipfile.ZipFile(pack).read(n) for n in zipfile.ZipFile(pack).namelist()}
    manifest = json.loads(files["manifest.json"])
    change_manifest(manifest, files)
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
    seal = f"{hashlib.sha256(files['manifest.json']).hexdigest()}  manifest.json\n"
    files["manifest.sha256"] = (seal + f"{hashlib.sha256(seal.encode()).hexdigest()}  -\n").encode()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out


def test_a_pack_with_a_changed_manifest_fails_the_signature_check(cli, config, store, tmp_path):
    fill(store, config)
    pack = export_pack(cli, tmp_path / "a.zip")

    def new_period(manifest, files):
        manifest["period"]["from"] = "2025-06-01"

    bad = _resealed(pack, tmp_path / "bad.zip", new_period)
    ok, message = verify_pack(bad)
    assert not ok and message.startswith("manifest.sig: signature does not match"), message
    result = cli("verify", str(bad), config=None)
    assert result.code == 1 and "manifest.sig" in result.err


def test_a_file_swapped_with_its_hash_updated_in_the_manifest_fails_the_signature_check(cli, config, store, tmp_path):
    fill(store, config)
    pack = export_pack(cli, tmp_path / "a.zip")

    def swap_score(manifest, files):
        files["score/score.txt"] = b"Oordeel: auditklaar\n"
        manifest["files"]["score/score.txt"] = hashlib.sha256(files["score/score.txt"]).hexdigest()

    ok, message = verify_pack(_resealed(pack, tmp_path / "bad.zip", swap_score))
    assert not ok and message.startswith("manifest.sig:"), message


def test_a_signature_stripped_from_a_signed_pack_is_noticed(cli, config, store, tmp_path):
    fill(store, config)
    pack = export_pack(cli, tmp_path / "a.zip")
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            if info.filename != "manifest.sig":
                dst.writestr(info.filename, src.read(info.filename))
    ok, message = verify_pack(bad)
    assert not ok and message.startswith("manifest.sig: missing"), message


def test_a_pack_whose_database_was_edited_and_re_exported_fails_verify_against_earlier_chain_heads(
        cli, config, store, tmp_path):
    fill(store, config)
    heads = published_heads(store, config, tmp_path)  # the daily publication, before the edit
    honest = export_pack(cli, tmp_path / "honest.zip", kind="all")
    assert cli("verify", str(honest), "--heads", str(heads), config=None).code == 0

    visitor = store.query("SELECT id FROM logbook WHERE kind = 'visitors' ORDER BY id LIMIT 1")[0]["id"]
    store.close()
    rewrite_history(Path(config.storage.path), visitor, {"poultry_contact_48h": False, "arrival": "07:15"})
    forged = export_pack(cli, tmp_path / "forged.zip", kind="all")

    # The forged pack is consistent in itself and signed with the farm's own key ...
    alone = cli("verify", str(forged), config=None)
    assert alone.code == 0, alone.err
    # ... but its visitors chain no longer holds the head the farm published before the edit.
    result = cli("verify", str(forged), "--heads", str(heads), config=None)
    assert result.code == 1
    assert "chains/visitors.jsonl: row 2 differs from the chain head published upstream at" in result.err
    assert "rewritten after that moment" in result.err


def test_an_intact_pack_names_the_heads_it_contains(cli, config, store, tmp_path):
    fill(store, config)
    heads = published_heads(store, config, tmp_path)
    pack = export_pack(cli, tmp_path / "a.zip")
    result = cli("verify", str(pack), "--heads", str(heads), config=None)
    assert result.code == 0
    assert f"1 eerder gepubliceerde ketenhoofden ({NOW.isoformat()} t/m {NOW.isoformat()})" in result.out


def test_rows_removed_after_heads_were_published_fail(cli, config, store, tmp_path):
    fill(store, config)
    heads = published_heads(store, config, tmp_path)
    store.close()
    con = sqlite3.connect(config.storage.path)
    con.execute("DROP TRIGGER logbook_no_delete")
    con.execute("DELETE FROM logbook WHERE id = (SELECT max(id) FROM logbook WHERE kind = 'checks')")
    con.commit()
    con.close()
    result = cli("verify", str(export_pack(cli, tmp_path / "a.zip", kind="checks")), "--heads", str(heads),
                 config=None)
    assert result.code == 1 and "chains/checks.jsonl: 0 rows, but 1 were published upstream" in result.err


def test_heads_published_after_the_pack_was_made_are_skipped_not_failed(cli, config, store, tmp_path):
    from agent.logbooks.entries import add_entry

    from .test_logbook import GOOD

    fill(store, config)
    pack = export_pack(cli, tmp_path / "a.zip", kind="checks")
    add_entry(store, config, "checks", GOOD["checks"], by="jan", now=NOW)
    import agent.clock

    later = agent.clock.utcnow() + timedelta(hours=1)
    heads = published_heads(store, config, tmp_path, when=later)
    result = cli("verify", str(pack), "--heads", str(heads), config=None)
    assert result.code == 0, result.err
    assert "niet vergeleken: checks van" in result.out and "na het pakket gepubliceerd" in result.out


def test_a_heads_file_with_a_forged_head_is_refused_as_bad_input(cli, config, store, tmp_path):
    fill(store, config)
    heads = published_heads(store, config, tmp_path)
    doc = json.loads(heads.read_text())
    doc["heads"]["visitors"]["entries"] = 1  # edited after signing
    heads.write_text(json.dumps(doc) + "\n")
    pack = export_pack(cli, tmp_path / "a.zip")
    result = cli("verify", str(pack), "--heads", str(heads), config=None)
    assert result.code == 2 and "signature does not match" in result.err


def test_heads_of_another_farm_are_not_compared(cli, config, store, tmp_path):
    fill(store, config)
    other = config.model_copy(update={"farm": config.farm.model_copy(update={"kip_number": "999999"})})
    doc = chain_doc(store, other, NOW, farm_key(config.key_path()))
    heads = tmp_path / "heads.jsonl"
    heads.write_text(json.dumps(doc) + "\n")
    assert read_heads(heads.read_text(), "heads.jsonl")[0]["kip_number"] == "999999"
    result = cli("verify", str(export_pack(cli, tmp_path / "a.zip")), "--heads", str(heads), config=None)
    assert result.code == 0 and "geen eerder gepubliceerde ketenhoofden van dit bedrijf" in result.out
