"""XLSX (openpyxl): one sheet per logbook, typed cells (dates, times, numbers, booleans), frozen header with
the Dutch label as a comment, and an info sheet."""

from __future__ import annotations

import io
from datetime import date, time

from agent.exports.common import _widget, cell, csv_header, render
from agent.logbooks import StoredEntry
from rules.logbooks import LogbookSpec

# --------------------------------------------------------------------------- XLSX


def _typed(spec: LogbookSpec, name: str, value):
    """Return a value as an Excel cell value of the right type."""
    if value is None:
        return None
    widget = _widget(spec, name)
    if widget == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if widget == "time" and isinstance(value, str):
        return time.fromisoformat(value)
    if widget in ("number", "yesno") or isinstance(value, (int, float, bool)):
        return value if not isinstance(value, str) else cell(value)
    return cell(render(value))


def to_xlsx(sheets: list[tuple[LogbookSpec, list[StoredEntry]]], info: list[tuple[str, str]]) -> bytes:
    """Return an XLSX workbook: an info sheet, then one sheet per logbook with typed columns."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Info"
    for key, value in info:
        ws.append([cell(key), cell(value)])
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 90
    for spec, rows in sheets:
        ws = wb.create_sheet(spec.kind)
        header = csv_header(spec)
        ws.append(header)
        for col, name in enumerate(header, start=1):
            head = ws.cell(row=1, column=col)
            head.font = Font(bold=True)
            label = spec.label(name) if name in spec.model.model_fields else {
                "id": "Regelnummer", "state": "Status", "recorded_at": "Geregistreerd op",
                "recorded_by": "Geregistreerd door", "supersedes": "Corrigeert regel", "reason": "Reden correctie",
                "hash": "Ketenhash"}[name]
            head.comment = Comment(label, "ikb-agent")
        for row in rows:
            values = [_typed(spec, n, row.entry.get(n)) for n in spec.columns()]
            values += [row.id, row.state, row.recorded_at, cell(row.recorded_by), row.supersedes,
                       None if row.reason is None else cell(row.reason), row.hash]
            ws.append(values)
        for col, name in enumerate(header, start=1):
            letter = get_column_letter(col)
            widget = _widget(spec, name) if name in spec.model.model_fields else "text"
            fmt = {"date": "yyyy-mm-dd", "time": "hh:mm"}.get(widget)
            if fmt:
                for c in ws[letter][1:]:
                    c.number_format = fmt
            ws.column_dimensions[letter].width = 12 if widget in ("date", "time", "number", "yesno") else 22
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
