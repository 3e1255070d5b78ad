"""What the farmer must see at once after a write: A6.2.2 "meld bij NVWA", a 48-hour visitor, a failed check."""

from __future__ import annotations

from datetime import timedelta

from rules.logbooks.checks import ITEMS
from rules.logbooks.cleaning import RECLEAN, RETEST
from rules.logbooks.common import _flocks
from rules.logbooks.flocks import NVWA_PHONE, drop_triggers, episodes, flock_on, mortality_triggers, response_day, sheet
from rules.logbooks.view import Flag, LogbookView

# --------------------------------------------------------------------------- flags at the moment of writing


def _flock_day_flags(record, view: LogbookView) -> list[Flag]:
    """Return the A6.2.2 / A6.2.1 alerts a new day-sheet entry raises, and missing-flock warnings."""
    flocks = _flocks(view).get(record.house, [])
    flock = flock_on(flocks, record.date)
    if flock is None:
        return [Flag("no_flock", "E9.4", "warning", f"Geen koppel geregistreerd in stal {record.house} op "
                                                    f"{record.date.isoformat()}: registreer het koppel (opzet).",
                     record.house)]
    days = sheet(view.records("flock_day"), flock)
    out = []
    if not record.inspected:
        out.append(Flag("not_inspected", "E5.3", "warning", "Het koppel moet ten minste eenmaal per dag "
                                                             "gecontroleerd worden (E5.3).", record.house))
    for code, rule, triggers, field, todo in (
            ("report_nvwa", "A6.2.2", mortality_triggers(flock, days), "nvwa_reported",
             f"meld dit vandaag bij de NVWA ({NVWA_PHONE}) en registreer de melding"),
            ("consult_vet", "A6.2.1", drop_triggers(days), "vet_consulted",
             "raadpleeg vandaag de dierenarts en registreer dat")):
        for run in episodes(triggers):
            if record.date in {t.day for t in run} and response_day(
                    days, run[0].day - timedelta(days=1), field) is None:
                out.append(Flag(code, rule, "alert", f"Stal {record.house}: {run[-1].detail}: {todo} ({rule}).",
                                record.house))
    return out


def entry_flags(kind: str, record, view: LogbookView) -> list[Flag]:
    """Return what the farmer must see at once about an entry just written (view includes it)."""
    if kind == "visitors" and record.poultry_contact_48h:
        return [Flag("poultry_contact_48h", "A4.2.2", "alert",
                     f"{record.name} ({record.organisation}) was in de afgelopen 48 uur op een pluimveebedrijf waar "
                     "een besmettelijke ziekte heerst: geen toegang tot de stallen zonder overleg met de dierenarts.")]
    if kind == "flock_day":
        return _flock_day_flags(record, view)
    if kind == "hygienogram":
        out = []
        score = f"{record.score:.1f}".replace(".", ",")
        if record.score >= RETEST:
            out.append(Flag("hygienogram_retest", "E4.4.2", "alert",
                            f"Hygiënogram stal {record.house} uitslag {score} (≥ 2,5): opnieuw reinigen en ontsmetten "
                            "en een nieuw hygiënogram laten nemen; pas bij ≤ 1,5 mag het koppel erin.", record.house))
        elif record.score > RECLEAN:
            out.append(Flag("hygienogram_reclean", "E4.4.2", "warning",
                            f"Hygiënogram stal {record.house} uitslag {score} (> 1,5): opnieuw reinigen en ontsmetten "
                            "vóór het opzetten van het nieuwe koppel.", record.house))
        if not record.accredited:
            out.append(Flag("hygienogram_not_accredited", "E4.4.1", "warning",
                            "Een hygiënogram moet door een erkende HOSOWO-instantie of GPD-dierenarts worden "
                            "uitgevoerd.", record.house))
        return out
    if kind == "checks" and record.result == "fault":
        what = ITEMS[record.item]
        return [Flag("check_fault", "A3.6", "alert", f"Storing bij controle {what}: laat dit direct herstellen "
                                                     "(A3.4/A3.5).", record.house)]
    if kind == "bait_boxes" and not record.fixed:
        return [Flag("bait_box_not_fixed", "A4.5.3", "warning",
                     f"Lokdoos {record.number} is niet vastgezet: pluimvee mag niet bij het middel kunnen (A4.5.3).")]
    if kind == "pest_control":
        register = {b.number for b in view.records("bait_boxes")}
        if record.bait_box not in register:
            return [Flag("unregistered_bait_box", "A4.5.3", "warning",
                         f"Lokdoos {record.bait_box} staat niet in het lokdozenregister; voeg hem toe met nummer, "
                         "locatie, plaagdier en middel (A4.5.2/A4.5.3).")]
    if kind == "samples" and record.result in ("positive", "non_compliant"):
        return [Flag("sample_positive", record.kind == "salmonella" and "E2.1.1" or "H2.4", "alert",
                     f"Uitslag {record.kind} stal {record.house} van {record.sampled_on.isoformat()} is "
                     f"{'positief' if record.result == 'positive' else 'afwijkend'}: neem contact op met uw "
                     "dierenarts.", record.house)]
    return []
