"""One workbook, a sheet per table: bold frozen header, column widths for CJK text."""
from __future__ import annotations

from pathlib import Path

from qualcode import files
from qualcode.exchange.tables import display_width, text_cells, xlsx_value
from qualcode.reports.render.common import normalize_zip, records


def write_xlsx(tables, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.worksheets[0])  # the default sheet
    for table in tables:
        ws = wb.create_sheet(table.name[:31])
        columns = [str(c) for c in table.df.columns]
        ws.append([xlsx_value(c) for c in columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        rows = records(table.df)
        for r in rows:
            ws.append([None if r[c] is None else xlsx_value(r[c]) for c in columns])
        ws.freeze_panes = "A2"
        for i, c in enumerate(columns, start=1):
            sample = [display_width("" if r[c] is None else str(r[c])) for r in rows[:500]]
            width = max([display_width(c)] + sample)
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
