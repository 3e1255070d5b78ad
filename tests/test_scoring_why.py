"""Issue 12, case by case: the score tells the truth. Each test is named after a case under 'Why' and runs
through the CLI (`score --format json`, `repair`, `logbook add`, `assess`, `document add`) on a real SQLite
store; the clock is fixed at the one place the agent reads it."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from agent.config import load_config
from agent.store.connection import open_store
from agent.store.readings import insert_readings, sync_sensors
from rules.catalogue import load_catalogue
from rules.kinds import VENTILATION_FAULT, VENTILATION_OK

from .conftest import FARM_TOML
from .synth import ms, state_samples

NOW = datetime(2026, 6, 1, 10, tzinfo=timezone.utc)  # noon in Amsterdam
TODAY = date(2026, 6, 1)
PANEL = '\n[[sensors]]\ntopic = "ikb/1/alarm"\nkind = "ventilation_alarm"\nlocation = "1"\n'


@pytest.fixture
def farm(tmp_path, monkeypatch, cli):
    """The two-house farm (1 free range, 2 barn without mechanical ventilation) with an alarm panel in house 1."""
    monkeypatch.setattr("agent.clock.utcnow", lambda: NOW)
    path = tmp_path / "farm.toml"
    path.write_text(FARM_TOML.format(db=tmp_path / "farm.db") + PANEL, encoding="utf-8")

    def run(*args):
        result = cli(*args, config=path)
        return result

    run.path = path
    return run


def score(run) -> dict:
    result = run("score", "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def finding(doc: dict, rule: str, location: str | None = None) -> dict:
    [found] = [f for f in doc["findings"] if f["rule"] == rule and f["location"] == location]
    return found


def logbook(run, kind: str, entry: dict):
    result = run("logbook", "add", kind, "--json", json.dumps(entry), "--by", "jan")
    assert result.code == 0, result.err
    return result


def panel(run, faults: list[tuple[datetime, int]]):
    """Store a panel that is heard every minute for ten days, with faults of the given (start, minutes)."""
    config = load_config(run.path)
    store = open_store(config.storage.path)
    start = NOW - timedelta(days=10)
    ids = {s.topic: s.id for s in sync_sensors(store, config.sensors, start).values()}
    changes = [(start, VENTILATION_OK)]
    for t, minutes in faults:
        changes += [(t, VENTILATION_FAULT), (t + timedelta(minutes=minutes), VENTILATION_OK)]
    with store.transaction() as db:
        insert_readings(db, [(ids["ikb/1/alarm"], t, v) for t, v in state_samples(changes, NOW)])
    store.close()


def replace_readings(run, t: datetime, samples: list[tuple[int, float]]):
    """Replace the panel's readings from ``t`` on by these (a state change that arrived later)."""
    config = load_config(run.path)
    store = open_store(config.storage.path)
    sid = store.query("SELECT id FROM sensors WHERE topic = 'ikb/1/alarm'")[0]["id"]
    with store.transaction() as db:
        db.execute("DELETE FROM readings WHERE sensor_id = ? AND ts >= ? AND ts <= ?",
                   [sid, ms(t), max(ts for ts, _v in samples)])
        insert_readings(db, [(sid, ts, v) for ts, v in samples])
    store.close()
    return config


# --------------------------------------------------------------------------- points are inverted


def test_points_are_inverted(farm):
    """'One light B costs 15, a heavier C costs 5; a B in one house and a C in another count 5.' No points now:
    the count per category with the seed's own header texts."""
    assert farm("assess", "A3.3", "--status", "B", "--note", "iets stoffig", "--location", "1", "--by", "jan").code == 0
    assert farm("assess", "A3.3", "--status", "C", "--note", "erg stoffig", "--location", "2", "--by", "jan").code == 0
    doc = score(farm)
    assert "points" not in doc
    assert doc["weights"] == {"B": "15 punt", "C": "5 punt", "D": "- 20 punt plus herstel voor afgifte certificaat",
                              "KO": "schorsing"}
    assert (doc["counts"]["B"], doc["counts"]["C"]) == (0, 1)  # one rule, at its heavier category
    assert doc["verdict"] == "remarks"
    text = farm("score").out
    assert "Strafpunten" not in text and "Wegingen (schema): B 15 punt · C 5 punt" in text


# --------------------------------------------------------------------------- repairs


def test_a_deviation_can_never_be_closed(farm):
    """'A 10-minute panel fault: once fixed, it keeps the farm at repair_required for the whole window, with
    nothing saying it was repaired.' The repair is recorded against the occurrence; a recurrence is new."""
    fault = NOW - timedelta(days=3)
    panel(farm, [(fault, 10)])
    doc = score(farm)
    a34 = finding(doc, "A3.4", "1")
    assert a34["status"] == "D" and doc["verdict"] == "repair_required"
    [occ] = a34["occurrences"]
    listed = json.loads(farm("repair", "list", "--format", "json").out)
    assert [(r["rule"], r["location"], r["start"]) for r in listed] == [("A3.4", "1", occ["start"])]
    added = farm("repair", "add", "A3.4", "--location", "1", "--start", occ["start"], "--action",
                 "voeding alarmpaneel vervangen", "--by", "Jan", "--date", (fault + timedelta(hours=2)).date().isoformat())
    assert added.code == 0, added.err
    doc = score(farm)
    a34 = finding(doc, "A3.4", "1")
    assert a34["status"] == "D" and a34["repaired"] is True  # the auditor still sees the D in the window
    assert a34["occurrences"][0]["repair"]["action"] == "voeding alarmpaneel vervangen"
    assert a34["occurrences"][0]["repair"]["performed_by"] == "Jan"
    assert doc["verdict"] == "remarks"
    # The same repair twice is refused; so is a start that names no occurrence.
    again = farm("repair", "add", "A3.4", "--location", "1", "--start", occ["start"], "--action", "x", "--by", "Jan")
    assert again.code == 2 and "al hersteld" in again.err
    entry = added.out.split("#")[1].split()[0]
    english = farm("--lang", "en", "repair", "add", "A3.4", "--location", "1", "--start", occ["start"], "--action",
                   "x", "--by", "Jan")
    assert english.code == 2 and f"deviation_start: already repaired (corrective action #{entry})" in english.err
    wrong = farm("repair", "add", "A3.4", "--location", "1", "--start", "2026-05-01T03:00:00+02:00", "--action", "x")
    assert wrong.code == 2 and "deviation_start" in wrong.err
    # The fault comes back after the repair: a new occurrence, not repaired.
    again_at = NOW - timedelta(days=1)
    replace_readings(farm, again_at, state_samples([(again_at, VENTILATION_FAULT),
                                                    (again_at + timedelta(minutes=10), VENTILATION_OK)],
                                                   again_at + timedelta(minutes=20)))
    doc = score(farm)
    a34 = finding(doc, "A3.4", "1")
    assert [bool(o.get("repair")) for o in a34["occurrences"]] == [True, False]
    assert "repaired" not in a34 and doc["verdict"] == "repair_required"


def test_a_missed_bait_box_check_takes_its_repair(farm):
    """'A missed bait-box check: once fixed, nothing says it was repaired.' The gap (C) takes the repair."""
    logbook(farm, "bait_boxes", {"number": "7", "location": "silo", "target_pest": "mice", "product": "blok",
                                 "fixed": True, "placed_on": "2026-02-01"})
    for day in ("2026-02-10", "2026-05-20"):
        logbook(farm, "pest_control", {"date": day, "bait_box": "7", "measures": "lokaas vervangen",
                                       "product": "blok", "admission_number": "12345 N", "label_location": "kantoor",
                                       "sds_location": "kantoor", "volume": "20 g", "uptake": "none",
                                       "effect": "geen vraat", "checked_by": "self"})
    a451 = finding(score(farm), "A4.5.1")
    assert a451["status"] == "C"
    start = a451["occurrences"][0]["start"]
    assert farm("repair", "add", "A4.5.1", "--start", start, "--action", "controleschema in agenda gezet",
                "--by", "Jan", "--date", "2026-05-20").code == 0
    a451 = finding(score(farm), "A4.5.1")
    assert a451["status"] == "C" and a451["occurrences"][0]["repair"]["action"] == "controleschema in agenda gezet"


def test_an_expired_water_test_is_closed_by_the_new_test_not_by_words(farm):
    """'An expired water test': while the record shows it expired, a repair text does not close it; the new
    test does."""
    assert farm("document", "add", "water_test", "--issued", "2025-04-01", "--by", "jan").code == 0
    a631 = finding(score(farm), "A6.3.1")
    assert a631["status"] == "D"
    refused = farm("repair", "add", "A6.3.1", "--start", a631["occurrences"][0]["start"], "--action", "monster genomen")
    assert refused.code == 2 and "duurt volgens de gegevens van de agent nog voort" in refused.err
    assert farm("document", "add", "water_test", "--issued", "2026-05-30", "--by", "jan").code == 0
    assert finding(score(farm), "A6.3.1")["status"] == "ok"


# --------------------------------------------------------------------------- not checked


def test_39_rules_carry_ng_if_valid_stalmeetrapport(farm):
    """'With a valid G1.1 report on record, 31 of them that apply to a barn farm still stay unknown.'"""
    catalogue = load_catalogue()
    ng = [r for r in catalogue if r.not_checked and r.not_checked.rstrip(".") == "NG: indien geldig stalmeetrapport"]
    assert len(ng) == 39
    barn = [r.id for r in ng if r.applies("barn")]
    assert len(barn) == 31
    assert farm("document", "add", "G1.1", "--issued", "2024-05-01", "--location", "2", "--by", "jan").code == 0
    doc = score(farm)
    for rule in barn:
        f = finding(doc, rule, "2")
        assert (f["status"], f.get("not_checked")) == ("nvt", True), rule
        assert f["summary"].startswith("NG: indien geldig stalmeetrapport")
        assert finding(doc, rule, "1")["status"] == "unknown"  # house 1 has no report on record
    # A report that is no longer valid proves nothing.
    assert finding(doc, "G1.1", "2")["status"] == "ok"


# --------------------------------------------------------------------------- evidence beats answers


def test_answers_override_evidence(farm):
    """'The bait-box register holds box 7 as not fixed; a self-assessment ok on A4.5.3 still scores ok.'"""
    logbook(farm, "bait_boxes", {"number": "7", "location": "voerstraat", "target_pest": "rats", "product": "blok",
                                 "fixed": False, "placed_on": "2026-05-01"})
    assert farm("assess", "A4.5.3", "--status", "ok", "--by", "jan").code == 0
    f = finding(score(farm), "A4.5.3")
    assert (f["status"], f["source"]) == ("D", "logbook")
    assert "lokdoos 7" in f["occurrences"][0]["detail"]


# --------------------------------------------------------------------------- A3.6 per item


def test_a3_6_treats_the_alarm_and_the_generator_as_one(farm):
    """'With monthly alarm checks and the generator never checked, the first score can be ok.'"""
    logbook(farm, "checks", {"date": "2026-05-20", "item": "alarm", "result": "ok", "checked_by": "Jan"})
    first = finding(score(farm), "A3.6", "1")
    assert first["status"] == "unknown" and "noodstroomaggregaat" in first["summary"]
    for month in (1, 2, 3, 4):
        logbook(farm, "checks", {"date": f"2026-0{month}-20", "item": "alarm", "result": "ok", "checked_by": "Jan"})
    later = finding(score(farm), "A3.6", "1")
    assert (later["status"], later["summary"]) == ("D", "Geen controles uitgevoerd.")


def test_alert_test_monthly_is_a_channel_test_not_an_alarm_check(farm):
    """An alarm check means the installation was tested: the panel's test alarm seen on its sensor, confirmed."""
    from agent.logbooks.drafts import draft_alarm_tests
    from agent.logbooks.entries import confirm_draft

    panel(farm, [])
    start = NOW - timedelta(days=2)
    config = replace_readings(farm, start, state_samples([(start, 1), (start + timedelta(minutes=3), VENTILATION_OK)],
                                                         start + timedelta(minutes=10)))
    store = open_store(config.storage.path)
    [saved] = draft_alarm_tests(store, config, NOW)
    assert draft_alarm_tests(store, config, NOW) == []  # once
    assert (saved.entry.state, saved.entry.entry["item"], saved.entry.entry["source"]) == ("draft", "alarm", "detected")
    confirm_draft(store, config, saved.entry.id, by="jan", now=NOW, changes={"checked_by": "Jan"})
    store.close()
    a36 = finding(score(farm), "A3.6", "1")
    assert a36["status"] == "unknown" and "alarminstallatie" not in a36["summary"]


# --------------------------------------------------------------------------- E2.1.1


def old_flock(run):
    """A flock hatched 2025-02-01 in house 1: its first Salmonella round fell due on 2025-08-02 (26 weeks)."""
    logbook(run, "flocks", {"house": "1", "placed_on": "2025-06-01", "hatched_on": "2025-02-01",
                            "number_placed": 5000, "origin": "Opfok"})


def test_e2_1_1_s_tolerance_applied_every_time(farm):
    """'Four Salmonella rounds in a year, each 4–5 days late, give B': once a year; later late rounds are D."""
    old_flock(farm)
    due = date(2025, 8, 2)  # 26 weeks
    for late in (4, 5, 4):
        got = due + timedelta(days=late)
        logbook(farm, "samples", {"house": "1", "sampled_on": got.isoformat(), "kind": "salmonella",
                                  "method": "boot_swabs", "lab": "GD", "result": "negative"})
        due = got + timedelta(days=105)
    f = finding(score(farm), "E2.1.1", "1")
    assert f["status"] == "D" and f["summary"] == "Onderzoek te laat uitgevoerd."
    assert ["tolerantie" in o["detail"] for o in f["occurrences"]] == [False, True, True]


def test_e2_1_1_a_round_not_done_is_ko(farm):
    """'niet uitgevoerd' is KO, as the seed says."""
    old_flock(farm)
    logbook(farm, "samples", {"house": "1", "sampled_on": "2025-08-01", "kind": "salmonella", "method": "boot_swabs",
                              "lab": "GD", "result": "negative"})
    doc = score(farm)
    assert (finding(doc, "E2.1.1", "1")["status"], doc["verdict"]) == ("KO", "suspension")


# --------------------------------------------------------------------------- rules the records answer


def test_rules_left_to_the_farmer_although_the_records_answer_them(farm):
    """'G3.1.2 and I1.3 (hens per compartment) from the flock records, E2.1.4 (recognised laboratory) from the
    samples.'"""
    logbook(farm, "flocks", {"house": "1", "placed_on": "2026-01-10", "hatched_on": "2025-09-13",
                             "number_placed": 20000, "origin": "Opfok", "largest_compartment": 7000})
    logbook(farm, "flocks", {"house": "2", "placed_on": "2026-01-10", "hatched_on": "2025-09-13",
                             "number_placed": 5800, "origin": "Opfok"})
    logbook(farm, "samples", {"house": "1", "sampled_on": "2026-03-20", "kind": "salmonella", "method": "boot_swabs",
                              "lab": "Eigen lab", "accredited": False, "result": "negative"})
    assert farm("assess", "G3.1.2", "--status", "ok", "--by", "jan").code == 0
    doc = score(farm)
    assert (finding(doc, "G3.1.2", "1")["status"], finding(doc, "G3.1.2", "1")["source"]) == ("KO", "logbook")
    assert finding(doc, "G3.1.2", "2")["status"] == "ok"  # 5800 hens: within 6000 whatever the compartments
    e214 = finding(doc, "E2.1.4")
    assert (e214["status"], e214["summary"]) == ("D", "Niet door erkend lab.")
    assert load_catalogue().get("E2.1.4").evaluation == "logbook"


def test_negative_salmonella_results_prove_the_se_st_rules_not_applicable(farm):
    """NVT 'geen S.E. en/of S.T. aangetoond' from the samples: every round sampled, every result negative."""
    logbook(farm, "flocks", {"house": "1", "placed_on": "2026-03-01", "hatched_on": "2025-11-01",
                             "number_placed": 5000, "origin": "Opfok"})
    logbook(farm, "samples", {"house": "1", "sampled_on": "2026-04-20", "kind": "salmonella", "method": "boot_swabs",
                              "lab": "GD", "result": "negative"})
    doc = score(farm)
    for rule in ("A2.1.1", "E2.1.8", "E2.1.13", "H2.1"):
        f = finding(doc, rule)
        assert (f["status"], f["source"]) == ("nvt", "logbook"), rule
    logbook(farm, "samples", {"house": "1", "sampled_on": "2026-05-20", "kind": "salmonella", "method": "boot_swabs",
                              "lab": "GD", "result": "positive"})
    assert finding(score(farm), "A2.1.1")["status"] == "unknown"  # now the farmer must answer it


# --------------------------------------------------------------------------- set-up is not a finding


def test_a_fresh_install_with_the_simulators_configuration_shows_remarks(tmp_path, cli, monkeypatch):
    """'A fresh install with the simulator's configuration shows remarks because no alert channel is configured
    yet: a set-up step of this program presented as a farm deviation, with the configuration key as its advice.'"""
    from sensors.simulator import farm_toml

    monkeypatch.setattr("agent.clock.utcnow", lambda: NOW)
    path = tmp_path / "sim.toml"
    path.write_text(farm_toml(db_path=str(tmp_path / "sim.db")), encoding="utf-8")
    result = cli("score", "--format", "json", config=path)
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["verdict"] == "incomplete"
    assert not [f for f in doc["findings"] if f["status"] in ("B", "C", "D", "KO")]
    a34 = [f for f in doc["findings"] if f["rule"] == "A3.4"]
    assert a34 and all(f["status"] == "unknown" and "alerts.channels" not in f["summary"] for f in a34)
    steps = [t["step"] for t in doc["setup"] if "A3.4" in t["rules"]]
    assert any("buiten het bedrijf waarschuwt" in s for s in steps)
    assert all("[[" not in t["step"] for t in doc["setup"])
    text = cli("score", config=path).out
    assert "Instellen van ikb-agent" in text and "geen afwijking van het bedrijf" in text
