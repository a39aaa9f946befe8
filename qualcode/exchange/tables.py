"""Writing rows (lists of dicts) as CSV, JSON, XLSX or an aligned text table.

CSV is UTF-8 with a BOM so that Excel and WPS open Chinese correctly.

Spreadsheet safety: text never becomes a formula. In .xlsx every text cell is stored as text
(``text_cells``), so ``=_=`` stays the emoticon it is; in CSV, a text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe, as the
OWASP "CSV injection" page recommends, so Excel and WPS show it instead of evaluating it.
Files are written through :mod:`qualcode.files` (never over the project's own files; the old
file stays until the new one is complete).
"""
from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from pathlib import Path

from qualcode import files

FORMATS = ("csv", "json", "xlsx")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters an .xlsx cannot hold (XML 1.0 forbids them); openpyxl raises on them.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def display_width(text: str) -> int:
    """Terminal/Excel width: East Asian wide and full-width characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def text_table(rows: list[dict], columns: list[str]) -> str:
    """Rows as a plain aligned table (CJK-aware), header first."""
    cells = [[str(c) for c in columns]] + [[_cell(r.get(c)).replace("\n", " ") for c in columns] for r in rows]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(columns))]
    lines = []
    for row in cells:
        padded = [v + " " * (w - display_width(v)) for v, w in zip(row, widths)]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def neutralise(text: str) -> str:
    """A CSV cell that a spreadsheet would take for a formula, made inert (OWASP: prefix ')."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_cell(value) -> str:
    # numbers stay numbers (-0.5 is not a formula); text and JSON never start a formula
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return neutralise(_cell(value))


def csv_text(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([neutralise(str(c)) for c in columns])
    for r in rows:
        writer.writerow([_csv_cell(r.get(c)) for c in columns])
    return buf.getvalue()


def xlsx_value(value):
    """A value for an .xlsx cell: numbers as numbers, everything else as text that the file
    can hold (control characters an .xlsx cannot store are dropped)."""
    if isinstance(value, (int, float)):
        return value
    text = _cell(value)
    return _XLSX_ILLEGAL.sub("", text) if _XLSX_ILLEGAL.search(text) else text


def text_cells(workbook) -> None:
    """Store every text cell of ``workbook`` as text: openpyxl makes any string starting with
    ``=`` a formula, which would run in Excel (or be refused as invalid, like ``=_=``)."""
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


def json_text(rows: list[dict], columns: list[str]) -> str:
    return json.dumps([{c: r.get(c) for c in columns} for r in rows], ensure_ascii=False, indent=1) + "\n"


def write_rows(rows: list[dict], columns: list[str], fmt: str, path: Path, sheet: str = "data") -> None:
    """Write rows to ``path`` in ``fmt``; the file appears only when complete."""
    if fmt == "xlsx":
        write_workbook(path, [(sheet, rows, columns)])
        return
    if fmt == "csv":
        files.write_text(Path(path), csv_text(rows, columns), encoding="utf-8-sig")
    elif fmt == "json":
        files.write_text(Path(path), json_text(rows, columns), encoding="utf-8")
    else:
        raise ValueError(f"unknown format {fmt!r}")


def write_workbook(path: Path, sheets: list[tuple[str, list[dict], list[str]]]) -> None:
    """Several (name, rows, columns) sheets in one .xlsx: bold frozen header, CJK-aware column
    widths, wrapped ``text`` column. The file appears only when complete."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    path = files.check_output(Path(path))  # refuse before the work, not after it
    wb = Workbook()
    wb.remove(wb.worksheets[0])  # the default sheet
    for name, rows, columns in sheets:
        ws = wb.create_sheet(name[:31])
        ws.append([xlsx_value(c) for c in columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r in rows:
            ws.append([xlsx_value(r.get(c)) for c in columns])
        ws.freeze_panes = "A2"
        for i, c in enumerate(columns, start=1):
            width = max([display_width(str(c))] + [display_width(_cell(r.get(c))) for r in rows[:500]])
            ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 6), 80)
        if "text" in columns:
            letter = get_column_letter(columns.index("text") + 1)
            for cell in ws[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    text_cells(wb)
    files.write_with(path, wb.save, suffix=".xlsx")
