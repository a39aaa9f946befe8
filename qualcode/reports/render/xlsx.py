"""One workbook, a sheet per table: bold frozen header, column widths for CJK text."""
from __future__ import annotations

from pathlib import Path

from qualcode import files
from qualcode.exchange.tables import display_width, text_cells, xlsx_value
from qualcode.reports.labels import header
from qualcode.reports.render.common import code_columns, normalize_zip, records

SHARE_COLUMNS = ("passage_share", "share", "coverage", "band_reached")


def share_columns(table) -> set[str]:
    """The columns of ``table`` holding shares (0–1), shown as percentages in the workbook."""
    cols = [str(c) for c in table.df.columns]
    if table.name.endswith("_share") or table.name == "stage_profile":
        return {c for c in cols if c not in ("code", "label", "group", "passages")}
    return {c for c in cols if c in SHARE_COLUMNS}


def write_xlsx(tables, path: Path, lang: str = "zh", codes: frozenset[str] = frozenset()) -> None:
    """A sheet per table, headers in ``lang`` (a column named after a code in ``codes`` keeps
    its name), shares formatted as percentages (the cell keeps the number)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.worksheets[0])  # the default sheet
    for table in tables:
        ws = wb.create_sheet(table.name[:31])
        df = table.for_people() if hasattr(table, "for_people") else table.df
        columns = [str(c) for c in df.columns]
        keep = code_columns(columns, codes)
        titles = [c if c in keep else header(c, lang) for c in columns]
        ws.append([xlsx_value(c) for c in titles])
        shares = share_columns(table)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        rows = records(df)
        for r in rows:
            ws.append([None if r[c] is None else xlsx_value(r[c]) for c in columns])
        ws.freeze_panes = "A2"
        for i, (c, title) in enumerate(zip(columns, titles), start=1):
            sample = [display_width("" if r[c] is None else str(r[c])) for r in rows[:500]]
            width = max([display_width(title)] + sample)
            if c in shares:
                for cell in ws[get_column_letter(i)][1:]:
                    cell.number_format = "0.0%"
            ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 6), 60)
            if width > 60:  # long quotes and definitions wrap instead of running off
                for cell in ws[get_column_letter(i)][1:]:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    wb.properties.creator = "qualcode"
    text_cells(wb)

    def save(tmp: Path) -> None:
        wb.save(tmp)
        normalize_zip(tmp)

    files.write_with(path, save, suffix=".xlsx")
