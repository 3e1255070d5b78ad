"""Logbooks in the running agent: real SQLite, drafts from detected tests, scoring, retention."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta, timezone

import pytest

from agent.evaluation.score import score_window
from agent.logbooks.drafts import draft_detected_checks
from agent.logbooks.entries import add_entry, confirm_draft, correct_entry, list_entries
from agent.store.usage import format_storage_report, storage_report

from .test_logbook import GOOD

AT = datetime(2026, 6, 1, 10, tzinfo=timezone.utc)


def add(store, config, kind, data, day_offset=0, **kw):
    """Record an entry as if on the entry's own day (logbooks refuse future dates)."""
    return add_entry(store, config, kind, data, by="jan", now=AT - timedelta(days=day_offset), **kw)


def findings(store, config, at=AT, days=30):
    result = score_window(store, config, at=at, since=at - timedelta(days=days))
    return {(f.rule, f.location): f for f in result.findings}, result


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def insert_event(store, start: datetime, minutes: int | None = 20, location="1", detail="{}"):
    end = ms(start + timedelta(minutes=minutes)) if minutes is not None else None
    with store.transaction() as db:
        cur = db.execute("INSERT INTO events(kind, location, start, \"end\", detail)"
                         " VALUES ('generator_test', ?, ?, ?, ?)", [location, ms(start), end, detail])
    return cur.lastrowid


def monthly_checks(store, config):
    for month in range(1, 6):
        for item in ("generator", "alarm"):
            add(store, config, "checks", {**GOOD["checks"], "date": f"2026-0{month}-05", "item": item})


# --------------------------------------------------------------------------- the score over a real store


def test_score_shows_a_bait_box_unchecked_for_70_days_as_a4_5_1_c(store, config):
    for n in ("1", "2"):
        add(store, config, "bait_boxes", {**GOOD["bait_boxes"], "number": n, "placed_on": "2026-03-20"})
    add(store, config, "pest_control", {**GOOD["pest_control"], "bait_box": "1", "date": "2026-03-23"})
    add(store, config, "pest_control", {**GOOD["pest_control"], "bait_box": "1", "date": "2026-05-20"})
    add(store, config, "pest_control", {**GOOD["pest_control"], "bait_box": "2", "date": "2026-03-23"})
    by, result = findings(store, config)
    f = by[("A4.5.1", None)]
    assert (f.status, f.source) == ("C", "logbook")
    assert [o.detail for o in f.occurrences] == [
        "lokdoos 2: 70 dagen tussen 2026-03-23 en 2026-06-01 (nog steeds niet gecontroleerd)"]
    assert any(d.rule == "A4.5.1" and d.what == "Lokdoos 2 controleren" and d.overdue for d in result.due)


def test_score_shows_registered_boxes_never_checked_as_d(store, config):
    add(store, config, "bait_boxes", GOOD["bait_boxes"])
    assert findings(store, config)[0][("A4.5.1", None)].status == "D"


def test_score_shows_a_flock_placed_without_r_and_o_as_an_a4_4_5_deviation(store, config):
    add(store, config, "flocks", GOOD["flocks"])
    by, result = findings(store, config)
    assert by[("A4.4.5", "1")].status == "C"
    assert result.verdict == "remarks" or result.verdict == "repair_required"
    add(store, config, "cleaning", GOOD["cleaning"])
    assert findings(store, config)[0][("A4.4.5", "1")].status == "ok"


def test_score_shows_two_days_at_0_6_percent_unreported_as_a6_2_2_d(store, config):
    add(store, config, "flocks", {**GOOD["flocks"], "number_placed": 1000})
    for i, dead in enumerate([1, 6, 6, 1, 1]):
        day = date(2026, 5, 25) + timedelta(days=i)
        add(store, config, "flock_day", {**GOOD["flock_day"], "date": day.isoformat(), "mortality": dead,
                                         "culls": 0})
    f = findings(store, config)[0][("A6.2.2", "1")]
    assert (f.status, f.summary) == ("D", "Pluimveehouder heeft geen melding gedaan bij NVWA.")


def test_a_past_score_ignores_entries_and_corrections_recorded_later(store, config):
    add(store, config, "flocks", GOOD["flocks"], day_offset=60)
    early = add(store, config, "cleaning", {**GOOD["cleaning"], "disinfected_on": "2026-03-01"}, day_offset=60)
    at_then = AT - timedelta(days=30)
    assert findings(store, config, at=at_then)[0][("A4.4.5", "1")].status == "C"  # disinfected after placement
    correct_entry(store, config, early.entry.id, {"disinfected_on": "2026-01-04"}, by="jan", now=AT,
                  reason="verkeerde datum")
    assert findings(store, config, at=at_then)[0][("A4.4.5", "1")].status == "C"
    assert findings(store, config)[0][("A4.4.5", "1")].status == "ok"


def test_pop_hole_sensor_days_fill_the_free_range_journal(store, config):
    with store.transaction() as db:
        sid = db.execute("INSERT INTO sensors(topic, field, kind, location, created_at) VALUES ('ikb/1/luik', '',"
                         " 'pophole', '1', 0)").lastrowid
        for i in range(1, 32):
            moment = datetime(2026, 6, 1, 8, tzinfo=timezone.utc) - timedelta(days=i)
            db.execute("INSERT INTO readings(sensor_id, ts, value) VALUES (?, ?, 1)", [sid, ms(moment)])
    by, _ = findings(store, config)
    assert by[("H3.12.10", "1")].status == "ok"
    assert ("H3.12.10", "2") not in by  # a barn has no free range


# --------------------------------------------------------------------------- A3.6 drafts from detected tests


def test_a_detected_test_becomes_a_draft_that_waits_for_confirmation(store, config):
    monthly_checks(store, config)
    event = insert_event(store, datetime(2026, 5, 20, 8, 0, tzinfo=timezone.utc), detail='{"result": "ok"}')
    insert_event(store, datetime(2026, 5, 21, 8, 0, tzinfo=timezone.utc), minutes=None)  # still running
    [saved] = draft_detected_checks(store, config, AT)
    assert draft_detected_checks(store, config, AT) == []  # idempotent
    draft = saved.entry
    assert draft.state == "draft" and draft.recorded_by == "ikb-agent"
    assert {k: draft.entry[k] for k in ("date", "time", "item", "result", "source", "event_id", "house")} == {
        "date": "2026-05-20", "time": "10:00", "item": "generator", "result": "ok", "source": "detected",
        "event_id": event, "house": "1"}
    assert "10:00–10:20 (20 min)" in draft.entry["notes"]
    f = findings(store, config)[0][("A3.6", "1")]
    assert (f.status, f.summary) == ("B", "Controles deels niet geregistreerd.")
    confirm_draft(store, config, draft.id, by="jan", now=AT, changes={"checked_by": "Jan"})
    assert findings(store, config)[0][("A3.6", "1")].status == "ok"
    assert [r.entry["checked_by"] for r in list_entries(store, "checks") if r.entry["date"] == "2026-05-20"] == ["Jan"]


def test_a_test_already_registered_by_hand_is_not_drafted_and_a_dismissed_one_is_not_b(store, config):
    monthly_checks(store, config)
    add(store, config, "checks", {**GOOD["checks"], "date": "2026-05-20"})
    insert_event(store, datetime(2026, 5, 20, 8, 0, tzinfo=timezone.utc))
    assert draft_detected_checks(store, config, AT) == []
    insert_event(store, datetime(2026, 5, 27, 8, 0, tzinfo=timezone.utc))
    [saved] = draft_detected_checks(store, config, AT)
    assert findings(store, config)[0][("A3.6", "1")].status == "B"
    correct_entry(store, config, saved.entry.id, None, by="jan", now=AT, reason="onderhoud monteur, geen test",
                  withdraw=True)
    assert findings(store, config)[0][("A3.6", "1")].status == "ok"
    assert draft_detected_checks(store, config, AT) == []


def test_cli_confirm_completes_a_draft(cli, config, store):
    insert_event(store, datetime(2026, 5, 20, 8, 0, tzinfo=timezone.utc))
    [saved] = draft_detected_checks(store, config, AT)
    listed = cli("logbook", "list", "checks").out
    assert f"#{saved.entry.id}" in listed and "[concept]" in listed
    result = cli("logbook", "confirm", str(saved.entry.id), "--json", '{"checked_by": "Jan"}', "--by", "jan")
    assert result.code == 0 and "bevestigd: checks" in result.out
    again = cli("logbook", "confirm", str(saved.entry.id))
    assert again.code == 2 and "al gecorrigeerd" in again.err


# --------------------------------------------------------------------------- retention and storage


def test_nothing_within_retention_can_be_deleted_but_rows_past_it_can(store, config):
    add(store, config, "flock_day", GOOD["flock_day"])
    with pytest.raises(sqlite3.IntegrityError, match="within retention"):
        with store.transaction() as db:
            db.execute("DELETE FROM logbook")
    with store.transaction() as db:
        db.execute("INSERT INTO logbook(kind, entry, recorded_at, recorded_by, prev_hash, hash, keep_until)"
                   " VALUES ('visitors', '{}', '2020-01-01T00:00:00+00:00', 'jan', ?, 'old', '2022-01-01')", ["0" * 64])
        db.execute("DELETE FROM logbook WHERE keep_until < date('now')")
    assert store.query("SELECT kind FROM logbook") == [{"kind": "flock_day"}]
    import agent.logbooks.entries as api

    assert not [name for name in dir(api) if "delete" in name.lower() or "purge" in name.lower()]


def test_storage_report_counts_rows_and_bytes(store, config):
    add(store, config, "visitors", GOOD["visitors"])
    add(store, config, "flock_day", GOOD["flock_day"])
    report = storage_report(store, AT)
    assert report["logbooks"]["visitors"]["rows"] == 1
    assert report["logbooks"]["flock_day"]["keep_until_max"] == "2029-06-01"  # E9.4: three years
    assert report["database_bytes"] > 0 and report["disk_free_bytes"] > 0 and report["rows"]["logbook"] == 2
    line = format_storage_report(report)
    assert "logboekregistraties: flock_day 1, visitors 1" in line
    json.dumps(report)  # serialisable for the status page


def test_scheduled_jobs_draft_tests_and_report_storage_when_called_with_a_clock(store, config, caplog):
    from agent.logbooks.drafts import draft_job
    from agent.store.usage import storage_job

    insert_event(store, datetime(2026, 5, 20, 8, 0, tzinfo=timezone.utc))
    name, run, every = draft_job(store, config)
    assert (name, every) == ("logbook-drafts", 300)
    assert len(run(AT)) == 1 and run(AT) == []
    name, run, every = storage_job(store, config)
    with caplog.at_level("INFO", logger="agent.store.usage"):
        report = run(AT)
    assert report["logbooks"]["checks"]["rows"] == 1 and "logboekregistraties: checks 1" in caplog.text
