"""CSV: UTF-8 with BOM, ``;`` as separator, CRLF — Dutch Excel opens it as columns.

Header row = Nr., the record's Dutch labels, then the entry's metadata in Dutch (:mod:`agent.exports.columns`);
the machine-readable copy of every entry is its chain file (``chains/<kind>.jsonl``)."""

from __future__ import annotations

import csv
import io

from agent.exports.common import csv_header, csv_rows
from agent.logbooks import StoredEntry
from rules.logbooks import LogbookSpec


def to_csv(spec: LogbookSpec, rows: list[StoredEntry], zone: str) -> bytes:
    """Return a logbook as CSV bytes: UTF-8 with BOM, ';' separated, CRLF line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(csv_header(spec, zone))
    writer.writerows(csv_rows(spec, rows, zone))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
