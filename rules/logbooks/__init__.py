"""The logbooks IKB Ei demands, and the rules they answer: one module per logbook family.

Others use what this names: the record models and their registry (validation, form fields, exports), the
view the rules read, the flags raised at the moment of writing, and the evaluator table the engine registers.
"""

from rules.logbooks.checks import ALARM_ITEMS, CHECK_MONTHS, GENERATOR_ITEMS, ITEMS, test_alarm_spells
from rules.logbooks.fields import FieldMeta, Record, describe
from rules.logbooks.flags import entry_flags
from rules.logbooks.plausible import Jump, jumps
from rules.logbooks.registry import LOGBOOKS, EntryError, LogbookSpec, form_fields, spec_for, to_json, validate_entry
from rules.logbooks.repairs import (
                                   FILE_REFERENCE,
                                   CorrectiveAction,
                                   RepairError,
                                   attach_repairs,
                                   repair_problem,
                                   repairable,
)
from rules.logbooks.rules_table import DUE_PROVIDERS, EVALUATORS, NVT_ONLY
from rules.logbooks.view import DetectedTest, Flag, LogbookView, LogEntry

__all__ = ["ALARM_ITEMS", "CHECK_MONTHS", "DUE_PROVIDERS", "EVALUATORS", "FILE_REFERENCE", "GENERATOR_ITEMS", "ITEMS",
           "LOGBOOKS", "NVT_ONLY", "CorrectiveAction", "DetectedTest", "EntryError", "FieldMeta", "Flag", "Jump", "LogEntry",
           "LogbookSpec", "LogbookView", "Record", "RepairError", "attach_repairs", "describe", "entry_flags", "form_fields", "jumps",
           "repair_problem", "repairable", "spec_for", "test_alarm_spells", "to_json", "validate_entry"]
