"""XLSX (openpyxl): an info sheet, then one sheet per logbook — the same Dutch columns and values as the CSV,
with dates, times, numbers and the registration moment as typed cells, a frozen header whose comment names the
field and its rule, and an auto-filter."""

from __future__ import annotations

import io
from datetime import datetime

from agent.exports.columns import cell_typed, columns
from agent.exports.common import cell, zone_info
from agent.logbooks import StoredEntry
from rules.logbooks import LogbookSpec

FORMATS = {"date": "yyyy-mm-dd", "time": "hh:mm", "moment": "yyyy-mm-dd hh:mm"}
NARROW = ("nr", "id", "state", "date", "time", "number", "yesno", "house")

# --------------------------------------------------------------------------- XLSX


def to_xlsx(sheets: list[tuple[LogbookSpec, list[StoredEntry]]], info: list[tuple[str, str]], zone: str,
            created: datetime | None = None) -> bytes:
    """Return an XLSX workbook: an info sheet, then one sheet per logbook with typed columns.

    ``created`` fixes the workbook's creation and modification date (the pack's generation time).
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    tz = zone_info(zone)
    wb = Workbook()
    if created is not None:
        stamp = created.astimezone(tz).replace(tzinfo=None)
        wb.properties.created = wb.properties.modified = stamp
    wb.properties.creator = "ikb-agent"
    ws = wb.active
    ws.title = "Info"
    for key, value in info:
        ws.append([cell(key), cell(value)])
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 90
    for spec, rows in sheets:
        ws = wb.create_sheet(spec.kind)
        cols = columns(spec, zone)
        ws.append([c.label for c in cols])
        for col, column in enumerate(cols, start=1):
            head = ws.cell(row=1, column=col)
            head.font = Font(bold=True)
            if column.field is not None:
                head.comment = Comment(f"veld {column.key} ({column.field.rule or spec.rules[0]})", "ikb-agent")
        for number, row in enumerate(rows, start=1):
            values = (cell_typed(c, number, row, tz) for c in cols)
            ws.append([cell(v) if isinstance(v, str) else v for v in values])  # text never becomes a formula
        for col, column in enumerate(cols, start=1):
            letter = get_column_letter(col)
            fmt = FORMATS.get(column.widget)
            if fmt:
                for c in ws[letter][1:]:
                    c.number_format = fmt
            ws.column_dimensions[letter].width = 12 if column.widget in NARROW else 17 if fmt else 22
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
