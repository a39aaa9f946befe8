"""A Word document with three-line tables (三线表) as Chinese journals require.

Caption above the table (表N …), 1.5 pt rules above and below the table, a 0.75 pt rule
under the header, no vertical rules; 宋体/Times New Roman 10.5 pt (五号); notes (注：) below.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

from qualcode import files
from qualcode.reports.render.common import HEADERS_ZH, display_rows, normalize_zip

EAST_ASIAN_FONT = "宋体"
LATIN_FONT = "Times New Roman"
FIXED_TIME = _dt.datetime(2000, 1, 1)


def _set_fonts(style_or_run, size_pt: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font = style_or_run.font
    font.name = LATIN_FONT
    if size_pt:
        font.size = Pt(size_pt)
    if bold is not None:
        font.bold = bold
    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)


def _border(parent, edge: str, size: int | None) -> None:
    from docx.oxml.ns import qn

    el = parent.find(qn(f"w:{edge}"))
    if el is None:
        el = parent.makeelement(qn(f"w:{edge}"), {})
        parent.append(el)
    if size is None:
        el.set(qn("w:val"), "nil")
    else:
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), str(size))  # eighths of a point
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")


def three_line(table) -> None:
    """Top and bottom rules 1.5 pt, header rule 0.75 pt, nothing else."""
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    borders = tbl_pr.find(qn("w:tblBorders"))
    if borders is None:
        borders = tbl_pr.makeelement(qn("w:tblBorders"), {})
        tbl_pr.append(borders)
    for edge, size in (("top", 12), ("left", None), ("bottom", 12), ("right", None), ("insideH", None),
                       ("insideV", None)):
        _border(borders, edge, size)
    for cell in table.rows[0].cells:
        tc_pr = cell._tc.get_or_add_tcPr()
        tc_borders = tc_pr.find(qn("w:tcBorders"))
        if tc_borders is None:
            tc_borders = tc_pr.makeelement(qn("w:tcBorders"), {})
            tc_pr.append(tc_borders)
        _border(tc_borders, "bottom", 6)


def write_docx(bundle, path: Path) -> None:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    data = bundle.data
    doc = Document()
    _set_fonts(doc.styles["Normal"], 10.5)
    for name in ("Title", "Heading 1"):
        _set_fonts(doc.styles[name])
    props = doc.core_properties
    props.author = props.last_modified_by = "qualcode"
    props.title = f"qualcode report: {data.project_name}"
    props.created = props.modified = props.last_printed = FIXED_TIME
    props.revision = 1
    doc.add_heading(f"qualcode report: {data.project_name}", level=0)
    doc.add_paragraph(f"Codings: {data.selection.describe()}.")
    if data.selection.proposed:
        doc.add_paragraph("Counts include unreviewed proposals (automatic codings nobody has accepted yet).")
    for s in bundle.sentences:
        doc.add_paragraph(s)
    n = 0
    for t in bundle.tables:
        if t.paper is None:
            continue
        n += 1
        cols, rows = display_rows(t.paper)
        caption = doc.add_paragraph()
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = caption.add_run(f"表{n} {t.title_zh}")
        run.bold = True
        table = doc.add_table(rows=len(rows) + 1, cols=len(cols))
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        all_rows = [[HEADERS_ZH.get(c, c) for c in cols]] + rows
        for r_idx, (row, values) in enumerate(zip(table.rows, all_rows)):
            for cell, value in zip(row.cells, values):
                para = cell.paragraphs[0]
                run = para.add_run(value)
                run.font.size = Pt(9)
                if r_idx == 0:
                    run.bold = True
        three_line(table)
        if t.note:
            note = doc.add_paragraph(f"注：{t.note}")
            note.runs[0].font.size = Pt(9)

    def save(tmp: Path) -> None:
        doc.save(str(tmp))
        normalize_zip(tmp)

    files.write_with(path, save, suffix=".docx")
