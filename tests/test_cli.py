"""The ikb-agent command line (DESIGN §3.1) for the foundation commands."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import click
import pytest

from agent.cli.main import cli as cli_group
from rules.catalogue import load_catalogue

from .conftest import REPO


def test_rules_json_lists_249_rules_with_contract_keys(cli):
    result = cli("rules", "--format", "json", config=None)
    assert result.code == 0
    rules = json.loads(result.out)
    assert len(rules) == 249
    keys = {"id", "annex", "section", "title", "interpretation", "nvt", "not_checked", "deviations",
            "applies_to", "source"}
    assert all(keys <= set(r) for r in rules)
    assert all(set(r["deviations"]) == {"B", "C", "D", "KO"} for r in rules)
    by_id = {r["id"]: r for r in rules}
    assert by_id["G3.8.9"]["deviations"] == {"B": None, "C": None, "KO": None,
                                             "D": "Duisterperiode niet ononderbroken of < 8 uur."}
    assert by_id["H3.12.8"]["applies_to"] == ["free_range", "organic"]
    assert "A4.5.4." not in by_id and "A4.5.4" in by_id


def test_score_on_a_fresh_database_lists_every_applicable_rule_as_unknown(cli):
    result = cli("score", "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["scheme"] == "IKB Ei"
    applicable = {r.id for r in load_catalogue().applicable({"free_range", "barn"})}
    assert {f["rule"] for f in doc["findings"]} == applicable
    assert "ok" not in {f["status"] for f in doc["findings"]}
    # Only what the configuration itself decides is known: house 2 has no mechanical ventilation (nvt)
    # and no housing order is recorded (H3.12.11 nvt). A fresh install has heard no alarm panel and sent
    # no channel test yet: A3.4 is unknown, not a deviation.
    decided = {(f["rule"], f["location"], f["status"]) for f in doc["findings"] if f["status"] != "unknown"}
    assert decided == {("A3.4", "2", "nvt"), ("A3.5", "2", "nvt"), ("A3.6", "2", "nvt"), ("H3.12.11", "1", "nvt"),
                       ("E2.3.2", "1", "nvt")}
    a34 = next(f for f in doc["findings"] if f["rule"] == "A3.4" and f["location"] == "1")
    assert a34["status"] == "unknown"
    assert doc["verdict"] == "incomplete" and "points" not in doc
    assert doc["weights"] == {"B": "15 punt", "C": "5 punt", "D": "- 20 punt plus herstel voor afgifte certificaat",
                              "KO": "schorsing"}
    assert doc["counts"]["unknown"] == len(applicable) - 1 == 241


def test_score_text_report_has_verdict_and_every_rule(cli):
    result = cli("score")
    assert result.code == 0
    assert "Oordeel: onvolledig: niet alles is aangetoond" in result.out and "incomplete" not in result.out
    assert re.search(r"Onbekend: \d+ van \d+ regels \(\d+ %\)", result.out)
    for rule in ("A1.1", "G3.8.9", "H3.12.10"):
        assert f" {rule} " in result.out


def test_assess_then_score_shows_the_answer_and_the_deviation_first(cli):
    assert cli("assess", "A4.1.6", "--status", "ok", "--by", "jan").code == 0
    assert cli("assess", "a4.2.1", "--status", "C", "--note", "protocol hangt niet zichtbaar", "--by", "jan").code == 0
    doc = json.loads(cli("score", "--format", "json").out)
    status = {f["rule"]: f["status"] for f in doc["findings"]}
    assert status["A4.1.6"] == "ok" and status["A4.2.1"] == "C"
    assert doc["verdict"] == "remarks" and doc["counts"]["C"] == 1 and doc["counts"]["ok"] == 1
    text = cli("score").out
    deviations = text.index("Afwijkingen (1)")
    assert text.index("A4.2.1", deviations) < text.index("Alle regels")


@pytest.mark.parametrize("args, message", [
    (["A9.9.9", "--status", "ok"], "rule: A9.9.9 is geen IKB Ei-regel"),
    (["A1.2", "--status", "D", "--note", "x"], "status: A1.2 kent geen weging D (mogelijk: B)"),
    (["A1.2", "--status", "B"], "note: beschrijf de afwijking"),
    (["A4.1.6", "--status", "ok", "--location", "9"], "location: kies uit 1, 2, E"),
    (["A4.1.6", "--status", "maybe"], "Invalid value for '--status'"),
])
def test_assess_refuses_bad_answers_and_stores_nothing(cli, args, message):
    result = cli("assess", *args, "--by", "jan")
    assert result.code == 2
    assert message in result.err
    if not message.startswith("Invalid value"):
        assert len(result.err.strip().splitlines()) == 1
    doc = json.loads(cli("score", "--format", "json").out)
    assert doc["counts"]["unknown"] == 241 and "A4.1.6" not in {f["rule"] for f in doc["findings"]
                                                                if f["status"] != "unknown"}


def test_document_add_makes_a_document_rule_ok_and_lists_it(cli):
    assert cli("document", "add", "water_test", "--issued", "2026-10-01", "--by", "jan").code == 0
    assert cli("document", "add", "G1.1", "--issued", "2024-05-01", "--location", "1", "--by", "jan").code == 0
    listed = json.loads(cli("document", "list", "--format", "json").out)
    assert [(d["rule"], d["location"]) for d in listed] == [("G1.1", "1"), ("A6.3.1", None)]
    doc = json.loads(cli("score", "--at", "2026-11-01", "--format", "json").out)
    status = {(f["rule"], f["location"]): f["status"] for f in doc["findings"]}
    assert status[("A6.3.1", None)] == "ok" and status[("G1.1", "1")] == "ok" and status[("G1.1", "2")] == "unknown"
    assert any(d["rule"] == "A6.3.1" for d in json.loads(cli("score", "--at", "2027-08-15", "--format", "json").out)["due"])


def test_document_add_needs_the_house_for_per_house_documents(cli):
    result = cli("document", "add", "stall_measurement_report", "--issued", "2024-05-01", "--by", "jan")
    assert result.code == 2 and "location: Stalmeetrapport is per stal: kies de stal" in result.err


def test_score_at_a_past_moment_ignores_later_records(cli):
    cli("document", "add", "water_test", "--issued", "2026-10-01", "--by", "jan")
    doc = json.loads(cli("score", "--at", "2026-09-01", "--format", "json").out)
    assert {f["status"] for f in doc["findings"] if f["rule"] == "A6.3.1"} == {"unknown"}


def test_user_add_reads_the_password_from_stdin(cli, config):
    from agent.store.connection import open_store
    from agent.store.users import authenticate

    assert cli("user", "add", "jan", "--role", "farmer", stdin="correct horse battery\n").code == 0
    short = cli("user", "add", "piet", "--role", "auditor", stdin="short\n")
    assert short.code == 2 and "password: minstens 8 tekens" in short.err
    store = open_store(config.storage.path)
    assert authenticate(store, "jan", "correct horse battery")["role"] == "farmer"
    assert authenticate(store, "jan", "wrong password") is None
    row = store.query("SELECT password_hash FROM users WHERE name = 'jan'")[0]
    assert "correct horse" not in row["password_hash"]


def test_missing_config_exits_2_naming_the_file(cli, tmp_path):
    result = cli("score", config=tmp_path / "nope.toml")
    assert result.code == 2 and "nope.toml: configuration file not found" in result.err


def test_bad_option_is_a_usage_error(cli):
    assert cli("score", "--at", "yesterday-ish").code == 2


def _commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))


@pytest.mark.parametrize("path, command", list(_commands(cli_group)), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_command_is_documented_with_an_example(path, command):
    assert command.help and "Example:" in command.help, path


def test_console_script_is_installed_and_exits_with_contract_codes(tmp_path):
    exe = REPO / ".venv" / "bin" / "ikb-agent"
    runner = [str(exe)] if exe.exists() else [sys.executable, "-c", "from agent.cli.main import entry_point; entry_point()"]
    ok = subprocess.run(runner + ["rules", "--format", "json"], capture_output=True, text=True)
    assert ok.returncode == 0 and len(json.loads(ok.stdout)) == 249
    bad = subprocess.run(runner + ["--config", str(tmp_path / "x.toml"), "score"], capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
