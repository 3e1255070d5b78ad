"""Exports an auditor can trust: CSV, XLSX and PDF per logbook, and the audit pack with its verifier.

One module per format (:mod:`csvfile`, :mod:`xlsx`, :mod:`pdf`), the pack (:mod:`pack`) and its check
(:mod:`verify`). Others use what this names.
"""

from agent.exports.common import ExportError
from agent.exports.pack import PACK_SECTIONS, build_pack, export, export_bytes
from agent.exports.proof import HeadsError, pack_kip, read_heads
from agent.exports.verify import verify_pack

__all__ = ["PACK_SECTIONS", "ExportError", "HeadsError", "build_pack", "export", "export_bytes", "pack_kip", "read_heads",
           "verify_pack"]
