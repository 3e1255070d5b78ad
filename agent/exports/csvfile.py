"""CSV: UTF-8 with BOM, ``;`` as separator, CRLF — Dutch Excel opens it as columns.

Header row = the record's field names (DESIGN §3.3) plus the entry's metadata."""

from __future__ import annotations

import csv
import io

from agent.exports.common import csv_header, csv_row
from agent.logbooks import StoredEntry
from rules.logbooks import LogbookSpec


def to_csv(spec: LogbookSpec, rows: list[StoredEntry]) -> bytes:
    """Return a logbook as CSV bytes: UTF-8 with BOM, ';' separated, CRLF line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(csv_header(spec))
    for row in rows:
        writer.writerow(csv_row(spec, row))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
