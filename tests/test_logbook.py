"""Logbooks: validation of every field, append-only corrections, the hash chain, durability."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from agent.logbooks.chain import GENESIS
from agent.logbooks.entries import (
    ENTRY_LISTENERS,
    LogbookError,
    add_entry,
    chain_head,
    confirm_draft,
    correct_entry,
    list_entries,
    verify_chain,
)
from agent.i18n import translations
from rules.logbooks import LOGBOOKS, EntryError, form_fields

from .conftest import REPO

NOW = datetime(2026, 3, 20, 11, tzinfo=timezone.utc)

# One good entry per logbook: every field a farmer would fill in.
GOOD = {
    "visitors": {"date": "2026-03-18", "arrival": "09:15", "name": "Piet Jansen", "organisation": "Voerbedrijf",
                 "poultry_contact_48h": False, "houses": ["1", "2"], "license_plate": "12-ABC-3",
                 "signature": "PJ"},
    "pest_control": {"date": "2026-03-18", "bait_box": "3", "measures": "lokaas aangevuld; sporen bij voersilo",
                     "product": "Brodifacoum blok", "admission_number": "12345 N", "label_location": "kantoor map A",
                     "sds_location": "kantoor map A", "volume": "50 g", "uptake": "little",
                     "effect": "minder vraat", "checked_by": "company"},
    "bait_boxes": {"number": "3", "location": "noordgevel bij voerstraat", "target_pest": "rats",
                   "product": "Brodifacoum blok", "admission_number": "12345 N", "fixed": True,
                   "placed_on": "2026-01-05"},
    "cleaning": {"house": "1", "cleaned_on": "2026-01-02", "disinfected_on": "2026-01-04",
                 "products": [{"name": "Virocid", "admission_number": "13288 N"}], "performed_by": "IKB PSB Schoon BV"},
    "hygienogram": {"house": "1", "sampled_on": "2026-01-06", "score": 1.2, "sampled_by": "GD Deventer",
                    "accredited": True},
    "checks": {"date": "2026-03-18", "item": "generator", "result": "ok", "checked_by": "Jan", "notes": ""},
    "flocks": {"house": "1", "placed_on": "2026-01-10", "hatched_on": "2025-09-13", "number_placed": 20000,
               "origin": "Opfok De Jonge Hen"},
    "flock_day": {"date": "2026-03-18", "house": "1", "inspected": True, "inspected_by": "Jan", "mortality": 4,
                  "culls": 1, "eggs": 18200, "water_l": 4100.5, "feed_kg": 2300},
    "free_range": {"date": "2026-03-18", "house": "1", "hours": 7.5, "opened": "10:00", "closed": "17:30"},
    "samples": {"house": "1", "sampled_on": "2026-03-01", "kind": "salmonella", "method": "boot_swabs",
                "lab": "GD Deventer", "result": "negative"},
    "corrective_actions": {"date": "2026-03-18", "rule": "A3.4", "location": "1",
                           "deviation_start": "2026-03-17T03:10:00+01:00", "action": "voeding alarmpaneel vervangen",
                           "performed_by": "Jan"},
}

# (kind, field, bad value, words the message must contain)
MALFORMED = [
    ("corrective_actions", "rule", "Z9.9", "geen IKB Ei-regel"),
    ("corrective_actions", "deviation_start", "2026-03-17 03:10", "tijdzone"),
    ("corrective_actions", "deviation_start", "gisteren", "begin van de afwijking"),
    ("corrective_actions", "date", "2026-03-16", "vóór het begin van de afwijking"),
    ("corrective_actions", "action", "", "beschrijf wat u hebt gedaan"),
    ("visitors", "date", "18-3-2026", "JJJJ-MM-DD"),
    ("visitors", "date", "2026-02-30", "bestaat niet"),
    ("visitors", "date", "2026-03-21", "toekomst"),
    ("visitors", "arrival", "9:15", "UU:MM"),
    ("visitors", "arrival", "25:00", "UU:MM"),
    ("visitors", "name", "   ", "leeg"),
    ("visitors", "poultry_contact_48h", "misschien", "ja of nee"),
    ("visitors", "houses", [], "minstens één"),
    ("visitors", "houses", ["9"], "onbekende stal 9"),
    ("visitors", "license_plate", "", "vul het kenteken in"),
    ("pest_control", "uptake", "veel", "geen"),
    ("pest_control", "checked_by", "buurman", "plaagdierbeheersbedrijf"),
    ("pest_control", "admission_number", "onbekend", "Ctgb"),
    ("bait_boxes", "target_pest", "vossen", "ratten"),
    ("bait_boxes", "removed_on", "2026-01-01", "vóór de plaatsingsdatum"),
    ("cleaning", "house", "7", "onbekende stal"),
    ("cleaning", "disinfected_on", "2026-01-01", "vóór de reinigingsdatum"),
    ("cleaning", "products", [], "minstens één middel"),
    ("cleaning", "products", [{"name": "Virocid"}], "admission_number"),
    ("hygienogram", "score", 7, "tussen 0 en 5"),
    ("hygienogram", "score", "hoog", "tussen 0 en 5"),
    ("checks", "item", "ventilator", "noodstroomaggregaat"),
    ("checks", "result", "prima", "in orde"),
    ("flocks", "number_placed", 0, "groter dan 0"),
    ("flocks", "number_placed", 12.5, "heel getal"),
    ("flocks", "hatched_on", "2026-02-01", "vóór de opzetdatum"),
    ("flock_day", "mortality", -1, "0 of meer"),
    ("flock_day", "inspected_by", None, "wie het koppel"),
    ("flock_day", "eggs", "veel", "heel getal"),
    ("free_range", "house", "2", "geen vrije uitloop"),
    ("free_range", "hours", 25, "0 tot 24"),
    ("samples", "kind", "mycoplasma", "salmonella"),
]


def count(store) -> int:
    return store.query("SELECT count(*) AS n FROM logbook")[0]["n"]


def add(store, config, kind, data=None, **kw):
    return add_entry(store, config, kind, data or GOOD[kind], by=kw.pop("by", "jan"), now=kw.pop("now", NOW), **kw)


@pytest.mark.parametrize("kind", list(GOOD))
def test_a_good_entry_of_every_logbook_is_stored_as_given(store, config, kind):
    saved = add(store, config, kind)
    [row] = list_entries(store, kind)
    assert row.id == saved.entry.id and row.recorded_by == "jan" and row.state == "confirmed"
    for name, value in GOOD[kind].items():
        assert row.entry[name] == value, name
    assert row.keep_until == ("2029-03-20" if LOGBOOKS[kind].keep_years == 3 else "2028-03-20")


def _required(kind):
    return [f for f in form_fields(kind) if f.required]


@pytest.mark.parametrize("kind, field", [(k, f.name) for k in GOOD for f in _required(k)])
def test_each_missing_required_field_is_named_and_nothing_is_stored(store, config, kind, field):
    data = {k: v for k, v in GOOD[kind].items() if k != field}
    with pytest.raises(EntryError) as err:
        add(store, config, kind, data)
    assert field in err.value.fields
    assert f"{field}: verplicht veld ontbreekt" in str(err.value)
    assert count(store) == 0


@pytest.mark.parametrize("kind, field, value, words", MALFORMED)
def test_each_malformed_field_is_named_with_a_message_a_farmer_understands(store, config, kind, field, value,
                                                                          words):
    with pytest.raises(EntryError) as err:
        add(store, config, kind, {**GOOD[kind], field: value})
    assert err.value.fields[0].split("[")[0] == field, str(err.value)
    assert words in str(err.value)
    assert count(store) == 0


def test_unknown_fields_and_non_objects_are_refused(store, config):
    with pytest.raises(EntryError, match="kenteken_: onbekend veld"):
        add(store, config, "visitors", {**GOOD["visitors"], "kenteken_": "x"})
    with pytest.raises(EntryError, match="JSON-object"):
        add(store, config, "visitors", ["not", "an", "object"])
    assert count(store) == 0


def test_english_messages_exist_for_every_problem(store, config):
    with pytest.raises(EntryError) as err:
        add(store, config, "visitors", {**GOOD["visitors"], "arrival": "9u", "houses": ["9"]})
    assert err.value.line(translations("en")) == "arrival: expected a time HH:MM (24-hour, e.g. 07:45); " \
                                                 "houses: unknown house 9; choose from 1, 2"


def test_yes_no_and_numbers_typed_in_a_form_are_understood(store, config):
    saved = add(store, config, "visitors", {**GOOD["visitors"], "poultry_contact_48h": "nee"})
    assert saved.entry.entry["poultry_contact_48h"] is False
    saved = add(store, config, "pest_control", {**GOOD["pest_control"], "volume": 50, "date": "2026-03-19"})
    assert saved.entry.entry["volume"] == "50"


def test_a_second_day_sheet_line_for_the_same_house_and_day_is_refused(store, config):
    first = add(store, config, "flock_day")
    with pytest.raises(EntryError, match=rf"date: er is al een registratie .*#{first.entry.id}"):
        add(store, config, "flock_day", {**GOOD["flock_day"], "mortality": 9})
    add(store, config, "flock_day", {**GOOD["flock_day"], "house": "2"})
    assert count(store) == 2


def test_every_field_carries_its_rule_and_labels_for_forms():
    english = translations("en")
    for kind, spec in LOGBOOKS.items():
        for name, info in spec.model.model_fields.items():
            extra = info.json_schema_extra
            # A rule id, or for the corrective actions the seed's D weight ("herstel voor afgifte certificaat").
            assert extra["rule"] in info.description and (extra["rule"][0] in "AEGHI" or extra["rule"] == "Weging D"), \
                (kind, name)
            assert extra["label"] and extra["widget"], (kind, name)  # (their English: tests/test_translations.py)
    fields = {f.name: f for f in form_fields("pest_control")}
    assert {k: english.gettext(v) for k, v in fields["uptake"].options.items()} == {
        "none": "none", "little": "little", "unreachable": "unreachable", "missing": "missing"}
    assert fields["inspector"].required is False and fields["date"].widget == "date"


def test_design_contract_fields_are_present_with_their_names():
    contract = {
        "visitors": ["date", "arrival", "name", "organisation", "poultry_contact_48h", "houses", "license_plate",
                     "signature"],
        "pest_control": ["date", "bait_box", "measures", "product", "admission_number", "label_location",
                         "sds_location", "volume", "uptake", "effect", "checked_by"],
        "cleaning": ["house", "cleaned_on", "disinfected_on", "products", "performed_by"],
        "checks": ["date", "item", "result", "checked_by", "notes"],
    }
    for kind, names in contract.items():
        assert LOGBOOKS[kind].columns()[:len(names)] == names


# --------------------------------------------------------------------------- corrections and the chain


def test_a_correction_supersedes_with_who_when_why_and_keeps_the_old_entry(store, config):
    first = add(store, config, "flock_day")
    later = datetime(2026, 3, 20, 15, tzinfo=timezone.utc)
    fixed = correct_entry(store, config, first.entry.id, {"mortality": 2}, by="marie", now=later, reason="telfout")
    [current] = list_entries(store, "flock_day")
    assert (current.id, current.entry["mortality"], current.supersedes) == (fixed.entry.id, 2, first.entry.id)
    assert (current.recorded_by, current.reason, current.recorded_at) == ("marie", "telfout",
                                                                          "2026-03-20T15:00:00+00:00")
    history = list_entries(store, "flock_day", history=True)
    assert [(r.id, r.entry["mortality"], r.superseded_by) for r in history] == [
        (first.entry.id, 4, fixed.entry.id), (fixed.entry.id, 2, None)]
    assert verify_chain(store, "flock_day") is None


def test_a_corrected_entry_cannot_be_corrected_twice_and_reasons_are_required(store, config):
    first = add(store, config, "checks")
    correct_entry(store, config, first.entry.id, {"notes": "olie bijgevuld"}, by="jan", now=NOW, reason="aanvulling")
    with pytest.raises(LogbookError, match="al gecorrigeerd door"):
        correct_entry(store, config, first.entry.id, {"notes": "x"}, by="jan", now=NOW, reason="nog eens")
    with pytest.raises(EntryError, match="reason"):
        correct_entry(store, config, first.entry.id + 1, {"notes": "x"}, by="jan", now=NOW, reason=" ")
    with pytest.raises(EntryError, match="result: kies uit"):
        correct_entry(store, config, first.entry.id + 1, {"result": "half"}, by="jan", now=NOW, reason="x")
    assert count(store) == 2


def test_a_withdrawn_entry_leaves_the_current_view_but_not_the_history(store, config):
    first = add(store, config, "visitors")
    correct_entry(store, config, first.entry.id, None, by="jan", now=NOW, reason="dubbel ingevoerd", withdraw=True)
    assert list_entries(store, "visitors") == []
    assert [r.state for r in list_entries(store, "visitors", history=True)] == ["confirmed", "withdrawn"]


def test_each_logbook_has_its_own_chain_from_genesis(store, config):
    a = add(store, config, "visitors")
    b = add(store, config, "checks")
    c = add(store, config, "visitors", {**GOOD["visitors"], "name": "Kees"})
    assert a.entry.prev_hash == GENESIS and b.entry.prev_hash == GENESIS
    assert c.entry.prev_hash == a.entry.hash
    assert chain_head(store, "visitors") == (c.entry.hash, 2)
    assert chain_head(store, "samples") == (GENESIS, 0)


def test_a_row_edited_behind_the_agents_back_breaks_the_chain_at_that_entry(store, config):
    add(store, config, "visitors")
    second = add(store, config, "visitors", {**GOOD["visitors"], "name": "Kees"})
    add(store, config, "visitors", {**GOOD["visitors"], "name": "Klaas"})
    conn = sqlite3.connect(store.path)
    conn.execute("DROP TRIGGER logbook_no_update")
    conn.execute("UPDATE logbook SET entry = replace(entry, 'Kees', 'Karel') WHERE id = ?", [second.entry.id])
    conn.commit()
    conn.close()
    assert verify_chain(store, "visitors") == f"entry #{second.entry.id}: hash does not match its content"


def test_entries_cannot_be_updated_or_deleted_within_retention_by_sql(store, config):
    add(store, config, "flock_day")
    for sql in ("UPDATE logbook SET entry = '{}'", "DELETE FROM logbook"):
        with pytest.raises(sqlite3.IntegrityError):
            with store.transaction() as db:
                db.execute(sql)
    assert count(store) == 1


def test_a_draft_is_confirmed_by_a_new_entry_and_listeners_hear_every_write(store, config):
    heard = []
    ENTRY_LISTENERS.append(lambda kind, entry, flags: heard.append((kind, entry["date"], [f.code for f in flags])))
    try:
        draft = add(store, config, "checks", {**GOOD["checks"], "checked_by": "automatisch gedetecteerd",
                                             "source": "detected", "event_id": 7}, state="draft")
        with pytest.raises(LogbookError, match="geen concept"):
            confirm_draft(store, config, add(store, config, "visitors").entry.id, by="jan", now=NOW)
        done = confirm_draft(store, config, draft.entry.id, by="jan", now=NOW, changes={"checked_by": "Jan"})
    finally:
        ENTRY_LISTENERS.clear()
    assert (done.entry.state, done.entry.supersedes, done.entry.reason) == ("confirmed", draft.entry.id, "bevestigd")
    assert [r.entry["checked_by"] for r in list_entries(store, "checks")] == ["Jan"]
    assert heard == [("checks", "2026-03-18", []), ("visitors", "2026-03-18", []), ("checks", "2026-03-18", [])]


def test_a_failing_listener_does_not_undo_the_write(store, config):
    def broken(kind, entry, flags):
        raise RuntimeError("alerts down")

    ENTRY_LISTENERS.append(broken)
    try:
        add(store, config, "visitors")
    finally:
        ENTRY_LISTENERS.clear()
    assert count(store) == 1


def test_two_days_at_0_6_percent_mortality_raise_the_nvwa_alert_flag_at_once(store, config):
    add(store, config, "flocks", {**GOOD["flocks"], "number_placed": 1000})
    day = {**GOOD["flock_day"], "mortality": 6, "culls": 0}
    assert add(store, config, "flock_day", {**day, "date": "2026-03-17"}).flags == []
    heard = []
    ENTRY_LISTENERS.append(lambda kind, entry, flags: heard.extend(flags))
    try:
        saved = add(store, config, "flock_day", {**day, "date": "2026-03-18"})
    finally:
        ENTRY_LISTENERS.clear()
    [flag] = saved.flags
    assert (flag.code, flag.rule, flag.level, flag.location) == ("report_nvwa", "A6.2.2", "alert", "1")
    assert "045-5463188" in flag.message and "0,60 %" in flag.message
    assert heard == [flag]
    # Once the report is registered, the next day's entry no longer asks for it.
    saved = add(store, config, "flock_day", {**day, "date": "2026-03-19", "nvwa_reported": True})
    assert [f.code for f in saved.flags] == []


def test_a_visitor_from_an_infected_farm_is_flagged_at_once(store, config):
    saved = add(store, config, "visitors", {**GOOD["visitors"], "poultry_contact_48h": True})
    assert [(f.code, f.level) for f in saved.flags] == [("poultry_contact_48h", "alert")]
    assert count(store) == 1


# --------------------------------------------------------------------------- CLI


def test_cli_add_list_correct_and_history(cli):
    r = cli("logbook", "add", "visitors", "--json", json.dumps(GOOD["visitors"]), "--by", "jan")
    assert r.code == 0 and r.out.startswith("opgeslagen: visitors #1"), r.err
    r = cli("logbook", "correct", "1", "--json", '{"arrival": "09:30"}', "--reason", "tijd verkeerd", "--by", "jan")
    assert r.code == 0 and "gecorrigeerd: visitors #2" in r.out
    listed = json.loads(cli("logbook", "list", "visitors", "--format", "json").out)
    assert [(e["id"], e["entry"]["arrival"], e["supersedes"]) for e in listed] == [(2, "09:30", 1)]
    history = cli("logbook", "list", "visitors", "--history").out
    assert "vervangen door #2" in history and "corrigeert #1: tijd verkeerd (jan," in history


def test_cli_add_with_an_invalid_entry_exits_2_naming_the_field_and_stores_nothing(cli):
    bad = {**GOOD["visitors"], "arrival": "kwart over negen"}
    r = cli("logbook", "add", "visitors", "--json", json.dumps(bad))
    assert r.code == 2 and "arrival: verwacht een tijd UU:MM" in r.err
    assert len(r.err.strip().splitlines()) == 1
    r = cli("logbook", "add", "visitors", "--json", "{not json")
    assert r.code == 2 and "--json: geen geldige JSON" in r.err
    assert json.loads(cli("logbook", "list", "visitors", "--format", "json").out) == []


def test_cli_speaks_english_when_asked(cli):
    bad = {**GOOD["visitors"], "arrival": "kwart over negen", "houses": []}
    r = cli("--lang", "en", "logbook", "add", "visitors", "--json", json.dumps(bad))
    assert r.code == 2 and r.err.strip() == ("ikb-agent: arrival: expected a time HH:MM (24-hour, e.g. 07:45); "
                                             "houses: choose at least one house")
    r = cli("--lang", "en", "logbook", "add", "visitors", "--json", json.dumps(GOOD["visitors"]))
    assert r.code == 0 and r.out.startswith("saved: visitors #1 (confirmed; chain ")
    listing = cli("--lang", "en", "logbook", "list", "visitors").out
    assert listing.startswith("Visitor register (A4.2.2): 1 entry\n")


def test_cli_add_prints_the_alert_flags(cli):
    r = cli("logbook", "add", "visitors", "--json", json.dumps({**GOOD["visitors"], "poultry_contact_48h": True}))
    assert r.code == 0 and "LET OP [A4.2.2]" in r.out
    r = cli("logbook", "add", "checks", "--format", "json",
            "--json", json.dumps({**GOOD["checks"], "result": "fault", "notes": "start niet"}))
    assert [f["code"] for f in json.loads(r.out)["flags"]] == ["check_fault"]


def test_cli_kinds_lists_every_logbook_and_its_fields(cli):
    out = cli("logbook", "kinds", config=None).out
    assert all(kind in out for kind in LOGBOOKS)
    fields = cli("logbook", "kinds", "--fields", "pest_control", config=None).out
    assert "admission_number" in fields and "Toelatingsnummer (Ctgb)" in fields


def test_sigkill_right_after_add_reports_success_never_loses_the_entry(config_file, config, tmp_path):
    """The CLI prints `opgeslagen` only after the commit is on disk; a SIGKILL then loses nothing."""
    script = (
        "import sys, time\n"
        "from agent.cli.main import main\n"
        "code = main(sys.argv[1:])\n"
        "sys.stdout.flush()\n"
        "time.sleep(60)\n"  # stay alive: the parent kills us the moment it reads the success line
    )
    for n in range(3):
        entry = {**GOOD["visitors"], "name": f"Bezoeker {n}"}
        proc = subprocess.Popen([sys.executable, "-c", script, "--config", str(config_file), "logbook", "add",
                                 "visitors", "--json", json.dumps(entry)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=REPO)
        line = proc.stdout.readline()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert line.startswith("opgeslagen: visitors"), proc.stderr.read()
    conn = sqlite3.connect(config.storage.path)
    names = [json.loads(e)["name"] for (e,) in conn.execute("SELECT entry FROM logbook ORDER BY id")]
    conn.close()
    assert names == ["Bezoeker 0", "Bezoeker 1", "Bezoeker 2"]


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["add", "correct", "withdraw"]), st.integers(1, 40)), min_size=1,
                max_size=12))
def test_any_sequence_of_writes_keeps_every_chain_intact_and_every_row(config, tmp_path_factory, ops):
    from agent.store.connection import open_store

    store = open_store(tmp_path_factory.mktemp("prop") / "farm.db")
    written = 0
    for op, n in ops:
        rows = list_entries(store, "flock_day")
        if op == "add" or not rows:
            day = f"2026-03-{1 + n % 19:02d}"
            try:
                add(store, config, "flock_day", {**GOOD["flock_day"], "date": day, "mortality": n})
            except EntryError:
                continue  # that day already has a line
        elif op == "correct":
            correct_entry(store, config, rows[n % len(rows)].id, {"mortality": n}, by="jan", now=NOW, reason="x")
        else:
            correct_entry(store, config, rows[n % len(rows)].id, None, by="jan", now=NOW, reason="x",
                          withdraw=True)
        written += 1
    assert verify_chain(store, "flock_day") is None
    history = list_entries(store, "flock_day", history=True)
    assert len(history) == written == chain_head(store, "flock_day")[1]
    days = [r.entry["date"] for r in list_entries(store, "flock_day")]
    assert len(days) == len(set(days))  # one current line per house per day
    store.close()


def test_the_validated_record_cache_stays_bounded_and_records_past_it_are_still_read(store, config, monkeypatch):
    """Issue 15: years of entries do not grow `run`'s memory without end; the view still holds every entry."""
    from agent.logbooks import entries, logbook_view

    monkeypatch.setattr(entries, "_RECORDS", {})
    monkeypatch.setattr(entries, "_RECORDS_MAX", 5)
    for day in range(1, 13):
        add(store, config, "flock_day", {**GOOD["flock_day"], "date": f"2026-03-{day:02d}", "mortality": day})
    validated = []
    validate = entries.validate_entry
    monkeypatch.setattr(entries, "validate_entry", lambda kind, data: validated.append(kind) or validate(kind, data))
    for _ in range(3):  # the minute job reads every entry each time
        validated.clear()
        view = logbook_view(store, NOW, "flock_day")
        assert len(entries._RECORDS) == 5
        assert sorted(e.record.mortality for e in view.of("flock_day")) == list(range(1, 13))
    # What is cached stays cached: each later reading validates only the seven past the bound, not all twelve.
    assert len(validated) == 7
