"""The logbooks IKB Ei demands, and the rules they answer: one module per logbook family.

Others use what this names: the record models and their registry (validation, form fields, exports), the
view the rules read, the flags raised at the moment of writing, and the evaluator table the engine registers.
"""

from rules.logbooks.checks import ITEMS
from rules.logbooks.fields import FieldMeta, Record, describe
from rules.logbooks.flags import entry_flags
from rules.logbooks.registry import LOGBOOKS, EntryError, LogbookSpec, form_fields, spec_for, to_json, validate_entry
from rules.logbooks.rules_table import DUE_PROVIDERS, EVALUATORS
from rules.logbooks.view import DetectedTest, Flag, LogbookView, LogEntry

__all__ = ["DUE_PROVIDERS", "EVALUATORS", "ITEMS", "LOGBOOKS", "DetectedTest", "EntryError", "FieldMeta", "Flag",
           "LogEntry", "LogbookSpec", "LogbookView", "Record", "describe", "entry_flags", "form_fields", "spec_for", "to_json",
           "validate_entry"]
