"""The logbook rules as the engine registers them: evaluators by rule id and due providers."""

from __future__ import annotations

from rules.logbooks.checks import due_checks, eval_checks
from rules.logbooks.cleaning import eval_cleaning, eval_hygienogram, eval_hygienogram_score
from rules.logbooks.daysheet import (
    due_reports,
    eval_daily_inspection,
    eval_dead_removed,
    eval_flock_records,
    eval_mortality_measures,
    eval_nvwa,
    eval_vet,
)
from rules.logbooks.freerange import eval_free_range_journal
from rules.logbooks.pest import due_pest_control, eval_bait_boxes_fixed, eval_pest_control
from rules.logbooks.samples import (
    NO_SALMONELLA_RULES,
    due_samples,
    eval_dioxin,
    eval_dioxin_barn,
    eval_no_salmonella,
    eval_salmonella,
    eval_salmonella_lab,
    eval_slaughter_sample,
)
from rules.logbooks.stocking import eval_compartments, eval_hens_per_hectare, eval_max_hens
from rules.logbooks.visitors import eval_visitors

# --------------------------------------------------------------------------- registration

EVALUATORS = {
    "A4.2.2": eval_visitors,
    "A4.5.1": eval_pest_control,
    "A4.4.5": eval_cleaning,
    "E4.4.1": eval_hygienogram,
    "E4.4.2": eval_hygienogram_score,
    "A3.6": eval_checks,
    "E5.3": eval_daily_inspection,
    "E4.4.4": eval_dead_removed,
    "E9.4": eval_flock_records,
    "A6.2.1": eval_vet,
    "A6.2.2": eval_nvwa,
    "H3.12.10": eval_free_range_journal,
    "E2.1.1": eval_salmonella,
    "H2.4": eval_dioxin,
    # Moved from self-assessment to the records (docs/COVERAGE.md).
    "A4.5.3": eval_bait_boxes_fixed,
    "E2.1.4": eval_salmonella_lab,
    "E2.1.3": eval_slaughter_sample,
    "E2.3.2": eval_dioxin_barn,
    "G3.1.2": eval_compartments,
    "I1.3": eval_compartments,
    "G1.2": eval_max_hens,  # with [[houses]] max_hens from the stalmeetrapport
    "H3.12.1": eval_hens_per_hectare,  # with [[houses]] free_range_ha
    # Only the NVT condition comes from the records; otherwise the farmer answers.
    "A6.2.3": eval_mortality_measures,
    **{rule: eval_no_salmonella for rule in NO_SALMONELLA_RULES},
}

# Rules whose evaluator proves only their NVT condition (no finding otherwise: the self-assessment answers).
NVT_ONLY = ("A6.2.3", *NO_SALMONELLA_RULES)


DUE_PROVIDERS = [due_checks, due_pest_control, due_samples, due_reports]
