"""Writing rows (lists of dicts) as CSV, JSON, XLSX or an aligned text table.

CSV is UTF-8 with a BOM so that Excel and WPS open Chinese correctly.
"""
from __future__ import annotations

import csv
import io
import json
import unicodedata
from pathlib import Path

FORMATS = ("csv", "json", "xlsx")


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


def csv_text(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([_cell(r.get(c)) for c in columns])
    return buf.getvalue()


def json_text(rows: list[dict], columns: list[str]) -> str:
    return json.dumps([{c: r.get(c) for c in columns} for r in rows], ensure_ascii=False, indent=1) + "\n"


def write_rows(rows: list[dict], columns: list[str], fmt: str, path: Path, sheet: str = "data") -> None:
    """Write rows to ``path`` in ``fmt``; the file appears only when complete."""
    if fmt == "xlsx":
        write_workbook(path, [(sheet, rows, columns)])
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    if fmt == "csv":
        tmp.write_text(csv_text(rows, columns), encoding="utf-8-sig")
    elif fmt == "json":
        tmp.write_text(json_text(rows, columns), encoding="utf-8")
    else:
        raise ValueError(f"unknown format {fmt!r}")
    tmp.replace(path)


def write_workbook(path: Path, sheets: list[tuple[str, list[dict], list[str]]]) -> None:
    """Several (name, rows, columns) sheets in one .xlsx: bold frozen header, CJK-aware column
    widths, wrapped ``text`` column. The file appears only when complete."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    wb.remove(wb.worksheets[0])  # the default sheet
    for name, rows, columns in sheets:
        ws = wb.create_sheet(name[:31])
        ws.append(columns)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r in rows:
            ws.append([r.get(c) if isinstance(r.get(c), (int, float)) else _cell(r.get(c)) for c in columns])
        ws.freeze_panes = "A2"
        for i, c in enumerate(columns, start=1):
            width = max([display_width(str(c))] + [display_width(_cell(r.get(c))) for r in rows[:500]])
            ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 6), 80)
        if "text" in columns:
            letter = get_column_letter(columns.index("text") + 1)
            for cell in ws[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    tmp = path.with_name(path.name + ".part")
    wb.save(tmp)
    tmp.replace(path)
