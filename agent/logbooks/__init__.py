"""What the farmer records, as evidence: logbook entries in their hash chain, documents, self-assessment
answers, housing orders, drawn signatures, and the drafts the agent proposes.
"""

from agent.logbooks import signatures
from agent.logbooks.assessments import AssessmentError, answer_history, load_answers, record_answer, record_answers
from agent.logbooks.chain import GENESIS, ChainCheck, StoredEntry, canonical, check_chain, content_hash
from agent.logbooks.documents import DocumentError, load_documents, record_document
from agent.logbooks.drafts import draft_job
from agent.logbooks.entries import (
    LogbookError,
    add_entry,
    chain_head,
    confirm_draft,
    correct_entry,
    current_entries,
    entry_date,
    get_entry,
    list_entries,
    logbook_event_ids,
    logbook_view,
    record_of,
    select_entries,
    verify_chain,
    verify_chains,
    with_successors,
)
from agent.logbooks.housing_orders import HousingOrderError, add_housing_order, end_housing_order, load_housing_orders
from agent.logbooks.repairs import record_repair
from agent.logbooks.signatures import SignatureError, store_signature

__all__ = [
    "AssessmentError",
    "ChainCheck",
    "DocumentError",
    "GENESIS",
    "HousingOrderError",
    "LogbookError",
    "SignatureError",
    "StoredEntry",
    "add_entry",
    "add_housing_order",
    "answer_history",
    "canonical",
    "chain_head",
    "check_chain",
    "confirm_draft",
    "content_hash",
    "correct_entry",
    "current_entries",
    "draft_job",
    "end_housing_order",
    "entry_date",
    "get_entry",
    "list_entries",
    "logbook_event_ids",
    "load_answers",
    "load_documents",
    "load_housing_orders",
    "logbook_view",
    "record_answer",
    "record_answers",
    "record_document",
    "record_repair",
    "record_of",
    "select_entries",
    "signatures",
    "store_signature",
    "verify_chain",
    "with_successors",
    "verify_chains",
]
