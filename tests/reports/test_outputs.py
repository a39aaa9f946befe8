"""``report all``: every format against golden files (compared by content), reproducible bytes,
and Chinese in every plot. Refresh the golden files with QUALCODE_UPDATE_GOLDEN=1."""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("QUALCODE_UPDATE_GOLDEN") == "1"


def check_golden(name: str, actual) -> None:
    path = GOLDEN / name
    text = actual if isinstance(actual, str) else json.dumps(actual, ensure_ascii=False, indent=1) + "\n"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert (text if isinstance(actual, str) else json.loads(text)) == (
        expected if isinstance(actual, str) else json.loads(expected)), f"{name} differs from its golden file"


def test_report_all_writes_every_format(small_report):
    out, result = small_report
    assert result["warnings"] == []
    names = {p.relative_to(out).as_posix() for kind, paths in result.items() if kind != "warnings" for p in paths}
    assert {"report.xlsx", "report.md", "report.docx", "report.html", "csv/frequencies.csv", "csv/quotes.csv",
            "latex/report.tex", "latex/frequencies.tex", "plots/saturation_curve.png", "plots/saturation_curve.svg",
            "plots/cooccurrence_heatmap.svg", "plots/code_case_heatmap.png", "plots/stage_profile.svg"} <= names


def test_xlsx_cells_sheets_and_frozen_headers(small_report):
    from openpyxl import load_workbook

    wb = load_workbook(small_report[0] / "report.xlsx")
    cells = {ws.title: [[c for c in row] for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    check_golden("report.xlsx.json", cells)
    ws = wb["frequencies"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    # a column of Chinese labels is sized by display width (two per character)
    assert ws.column_dimensions["B"].width == pytest.approx(len("枢纽型组织") * 2 + 2)


def test_csv_markdown_latex_golden(small_report):
    out = small_report[0]
    check_golden("frequencies.csv", (out / "csv" / "frequencies.csv").read_text(encoding="utf-8-sig"))
    assert (out / "csv" / "frequencies.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel/WPS
    check_golden("report.md", (out / "report.md").read_text(encoding="utf-8"))
    check_golden("frequencies.tex", (out / "latex" / "frequencies.tex").read_text(encoding="utf-8"))
    check_golden("report.tex", (out / "latex" / "report.tex").read_text(encoding="utf-8"))


def test_latex_tables_are_three_line():
    from qualcode.reports.render.latex import escape

    tex = (GOLDEN / "frequencies.tex").read_text(encoding="utf-8")
    # the header (rule above, rule below) on the first page and again on every page the table runs on
    assert tex.count(r"\toprule") == tex.count(r"\midrule") == 2 and tex.count(r"\bottomrule") == 1
    assert "|" not in tex.split(r"\begin{longtable}{")[1].split(r"\caption")[0]  # no vertical rules
    assert escape("a_b & 50% #1") == r"a\_b \& 50\% \#1"


def test_docx_paragraphs_and_three_line_tables(small_report):
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(small_report[0] / "report.docx")
    content = {"paragraphs": [p.text for p in doc.paragraphs],
               "tables": [[[c.text for c in r.cells] for r in t.rows] for t in doc.tables]}
    check_golden("report.docx.json", content)
    assert "表1 编码表" in content["paragraphs"]
    for table in doc.tables:
        borders = table._tbl.tblPr.find(qn("w:tblBorders"))
        sizes = {el.tag.split("}")[1]: (el.get(qn("w:val")), el.get(qn("w:sz"))) for el in borders}
        assert sizes["top"] == ("single", "12") and sizes["bottom"] == ("single", "12")
        assert sizes["insideV"][0] == sizes["insideH"][0] == sizes["left"][0] == "nil"
        header_rule = table.rows[0].cells[0]._tc.tcPr.find(qn("w:tcBorders")).find(qn("w:bottom"))
        assert header_rule.get(qn("w:sz")) == "6"
    assert doc.core_properties.created.year == 2000  # no timestamps


def test_html_is_self_contained_with_highlighted_spans(small_report):
    html = (small_report[0] / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<link" not in html and 'src="http' not in html  # nothing fetched
    assert html.count("<svg") == 6  # the plots are inline (4, and one chain figure per case)
    assert 'class="l"' in html and "离退休党员</span>" in html  # the retirees span carries its label
    assert "退休党员" in html and "编码段落" in html  # in the report's language (zh by default)


def test_same_project_gives_identical_bytes(small_report, tmp_path):
    from qualcode.reports import report_all
    from tests.reports.helpers import build

    first = small_report[0]
    project = build(tmp_path / "project")  # same name: the name is in the headers
    report_all(project, tmp_path / "out")
    project.close()
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*") if p.is_file())
    different = [str(f) for f in files if (first / f).read_bytes() != (tmp_path / "out" / f).read_bytes()]
    assert different == []


def _bundle(small):
    from qualcode.reports import load
    from qualcode.reports.bundle import build_tables

    return build_tables(load(small))


def test_every_plot_renders_chinese_without_missing_glyphs(small, tmp_path):
    from qualcode.reports.fonts import cjk_family
    from qualcode.reports.plots import write_plots

    assert cjk_family()  # a CJK font from a PyPI package is registered
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph.*missing.*")
        written = write_plots(_bundle(small), tmp_path)
    assert len(written) == 5 and all(p.stat().st_size > 0 for paths in written.values() for p in paths)


def test_the_glyph_check_catches_a_font_without_chinese(small, tmp_path, monkeypatch):
    """Control for the test above: with a Latin-only font the warning does appear."""
    from qualcode.reports import plots

    monkeypatch.setattr(plots, "_rc", lambda: {"font.family": ["DejaVu Sans"], "svg.hashsalt": "x"})
    with pytest.raises(UserWarning, match="missing"):
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=r".*[Gg]lyph.*missing.*")
            plots.write_plots(_bundle(small), tmp_path)
