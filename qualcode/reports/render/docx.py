"""A Word document with three-line tables (三线表) as Chinese journals require.

Caption above the table (表N … / Table N …, in the report's language), 1.5 pt rules above and
below the table, a 0.75 pt rule under the header, no vertical rules; 宋体/Times New Roman 10.5 pt
(五号), tables 9 pt (小五); notes (注：) below. A4 with journal margins; each table has fixed
column widths that fit the text block (``render.common.layout``), a wide one a landscape page;
the quotes follow the tables in an appendix.
"""
from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

from qualcode import files
from qualcode.reports.labels import t
from qualcode.reports.render.common import (
    COLUMN_GAP_PT,
    MARGINS_MM,
    PAGE_MM,
    citing_sentences,
    introduction,
    layout,
    normalize_zip,
    paper_cells,
    paper_tables,
)

EAST_ASIAN_FONT = "宋体"
LATIN_FONT = "Times New Roman"
FIXED_TIME = _dt.datetime(2000, 1, 1)
CODE_PATH = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+")  # may break after a slash


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


def _page(section, landscape: bool) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    short, long = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (long, short) if landscape else (short, long)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])


def _fixed_widths(table, widths_pt: list[float]) -> None:
    """A fixed table layout with these column widths (Word and LibreOffice keep them), and the
    header row repeated on every page."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    table.autofit = False
    tbl_pr = table._tbl.tblPr
    layout_el = tbl_pr.find(qn("w:tblLayout"))
    if layout_el is None:
        layout_el = tbl_pr.makeelement(qn("w:tblLayout"), {})
        tbl_pr.append(layout_el)
    layout_el.set(qn("w:type"), "fixed")
    width = tbl_pr.find(qn("w:tblW"))
    if width is None:
        width = tbl_pr.makeelement(qn("w:tblW"), {})
        tbl_pr.append(width)
    width.set(qn("w:type"), "dxa")
    width.set(qn("w:w"), str(int(sum(widths_pt) * 20)))
    for column, w in zip(table.columns, widths_pt):
        column.width = Pt(w)
    for row in table.rows:
        for cell, w in zip(row.cells, widths_pt):
            cell.width = Pt(w)
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    tr_pr.append(tr_pr.makeelement(qn("w:tblHeader"), {}))


def _cell_margins(table, pt: float) -> None:
    """Left and right cell margins of ``pt`` (the column gap the widths allow for)."""
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    margins = tbl_pr.makeelement(qn("w:tblCellMar"), {})
    for side in ("left", "right"):
        el = margins.makeelement(qn(f"w:{side}"), {qn("w:w"): str(int(pt * 20)), qn("w:type"): "dxa"})
        margins.append(el)
    tbl_pr.append(margins)


def write_docx(bundle, path: Path) -> None:
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Pt, RGBColor

    data = bundle.data
    lang = bundle.options.lang
    doc = Document()
    _page(doc.sections[0], landscape=False)
    _set_fonts(doc.styles["Normal"], 10.5)
    for name, size in (("Title", 16.0), ("Heading 1", 12.0)):  # black, 三号 and 小四 bold (not Word's blue)
        _set_fonts(doc.styles[name], size, bold=True)
        doc.styles[name].font.color.rgb = RGBColor(0, 0, 0)
    doc.styles["Title"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title = t("title", lang, name=data.project_name)
    props = doc.core_properties
    props.author = props.last_modified_by = "qualcode"
    props.title = title
    props.created = props.modified = props.last_printed = FIXED_TIME
    props.revision = 1
    doc.add_heading(title, level=0)
    for text in introduction(bundle):
        doc.add_paragraph(text)
    if bundle.sentences:
        doc.add_heading(t("summary", lang), level=1)
    for s in bundle.sentences:
        doc.add_paragraph(s)
    for text in citing_sentences(bundle):
        doc.add_paragraph(text)
    landscape = False
    in_appendix = False
    for label, tb in paper_tables(bundle):
        headers, rows = paper_cells(tb, lang)
        fit = layout(headers, rows)
        if tb.appendix and not in_appendix:
            in_appendix = True
            if landscape:
                landscape = False
                _page(doc.add_section(WD_SECTION.NEW_PAGE), landscape=False)
            else:
                doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            doc.add_heading(t("appendix", lang), level=1)
        if fit.landscape != landscape:
            landscape = fit.landscape
            _page(doc.add_section(WD_SECTION.NEW_PAGE), landscape=landscape)
        caption = doc.add_paragraph()
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        caption.paragraph_format.keep_with_next = True
        run = caption.add_run(f"{label} {tb.caption(lang)}")
        run.bold = True
        table = doc.add_table(rows=len(rows) + 1, cols=len(headers))
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for r_idx, (row, values) in enumerate(zip(table.rows, [headers] + rows)):
            for cell, value, numeric in zip(row.cells, values, fit.numeric):
                para = cell.paragraphs[0]
                para.paragraph_format.space_after = Pt(0)
                para.paragraph_format.line_spacing = 1.0
                if numeric:
                    para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                # a code path may break after a slash; quotes and headers stay exactly as written
                run = para.add_run(value.replace("/", "/\u200b") if r_idx and CODE_PATH.fullmatch(value) else value)
                run.font.size = Pt(fit.font_pt)
                if r_idx == 0:
                    run.bold = True
        _fixed_widths(table, [w + COLUMN_GAP_PT for w in fit.widths_pt])  # a cell's width holds its margins
        _cell_margins(table, COLUMN_GAP_PT / 2)
        three_line(table)
        note = tb.notes(lang)
        if note:
            para = doc.add_paragraph(t("note", lang, text=note))
            para.runs[0].font.size = Pt(9)

    def save(tmp: Path) -> None:
        doc.save(str(tmp))
        normalize_zip(tmp)

    files.write_with(path, save, suffix=".docx")
