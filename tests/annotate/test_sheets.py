"""Spreadsheet round trip: export a coding sheet, edit it as a coder would, import the changes."""
from __future__ import annotations

import pytest
from openpyxl import load_workbook

from qualcode import annotate
from qualcode.annotate.sheets import cell_state, export_sheet
from tests.annotate.helpers import coded_project, codings, db, run

CODE_COLUMNS = ["construction", "construction/network", "embedding", "embedding/leadership", "embedding/retirees",
                "mobilization", "mobilization/deliberation", "governance", "governance/legitimacy",
                "governance/responsiveness", "context", "context/social_capital"]


@pytest.fixture
def project(tmp_path, tmp_path_factory):
    p = coded_project(tmp_path_factory, tmp_path / "study")
    yield p
    p.close()


def cells(ws, passage: str) -> dict:
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=3):
        if row[0].value == passage:
            return {h: c for h, c in zip(header, row)}
    raise KeyError(passage)


def edit(path, changes: dict[tuple[str, str], object]):
    wb = load_workbook(path)
    ws = wb["coding"]
    for (passage, column), value in changes.items():
        cells(ws, passage)[column].value = value
    wb.save(path)


def test_export_layout(runner, project, tmp_path):
    annotate.add_coding(project, "context/social_capital", passage="1:4", coder="李老师")
    out = tmp_path / "编码表.xlsx"
    r = run(runner, project, "sheet", "export", "--output", str(out), "--coder", "李老师")
    assert r.output == f"Wrote 4 passages × 12 codes to {out} (1 coded, 5 proposed)\n"
    wb = load_workbook(out)
    assert wb.sheetnames == ["coding", "codes", "_qualcode"] and wb["_qualcode"].sheet_state == "hidden"
    ws = wb["coding"]
    assert [c.value for c in ws[1]] == ["passage", "document", "case", "speaker", "role", "timestamp", "text"] + CODE_COLUMNS
    assert [c.value for c in ws[2]][:8] == ["段落", "文档", "个案", "说话人", "角色", "时间", "原文", "组织构建"]
    assert ws.freeze_panes == "H3" and ws.max_row == 6
    row = cells(ws, "1:2")
    assert row["document"].value == "互助站访谈" and row["case"].value == "N街道" and row["role"].value == "interviewee"
    assert row["text"].value == "我们互助站是二〇一九年成立的。站长是退休的老党员，大家推选出来的。"
    assert row["embedding/leadership"].value == "?" and row["embedding/leadership"].fill.fgColor.rgb.endswith("FFF2CC")
    assert "站长, 老党员" in row["embedding/leadership"].comment.text
    assert row["governance"].value is None
    assert cells(ws, "1:4")["context/social_capital"].value == "✓"
    dv = ws.data_validations.dataValidation[0]
    assert dv.type == "list" and dv.formula1 == '"✓,?,✗,⊘"' and str(dv.sqref) == "H3:S6"
    assert [c.value for c in wb["codes"][10]][:2] == ["governance/legitimacy", "合法性"]


def test_round_trip_applies_the_coders_changes(runner, project, tmp_path):
    annotate.add_coding(project, "context/social_capital", passage="1:4", coder="李老师")
    annotate.add_coding(project, "governance", passage="1:4", coder="王")  # another coder: not in 李老师's sheet
    out = tmp_path / "coding.xlsx"
    run(runner, project, "sheet", "export", "--output", str(out), "--coder", "李老师")
    edit(out, {
        ("1:2", "embedding/leadership"): "✓",       # accept a proposal
        ("1:2", "embedding/retirees"): None,         # reject a proposal by clearing it
        ("1:2", "governance/legitimacy"): "✗",       # reject with the mark
        ("1:2", "mobilization/deliberation"): "是",  # code by hand
        ("1:4", "context/social_capital"): None,     # remove own coding
        ("1:3", "governance"): 1,                    # an interviewer turn, coded
    })
    r = run(runner, project, "sheet", "import", str(out), "--coder", "李老师")
    assert r.exit_code == 0, r.output
    assert r.output == ("3 added (1 proposals accepted), 3 removed (2 proposals rejected), 42 unchanged, "
                        "0 conflicts, 0 rows refused\n")
    assert codings(project, "coder='李老师'") == [
        (1, 20, 53, "embedding/leadership", "李老师", "rule", "accepted"),
        (2, 20, 53, "embedding/retirees", "李老师", "rule", "rejected"),
        (3, 20, 53, "governance/legitimacy", "李老师", "rule", "rejected"),
        (8, 20, 53, "mobilization/deliberation", "李老师", "manual", "accepted"),
        (9, 54, 63, "governance", "李老师", "manual", "accepted"),
    ]
    assert codings(project, "coder='王'")[0][3] == "governance"
    # importing the same sheet again changes nothing
    again = run(runner, project, "sheet", "import", str(out), "--coder", "李老师")
    assert again.output.startswith("0 added (0 proposals accepted), 0 removed (0 proposals rejected), 48 unchanged")
    # and the whole import is one undoable action
    run(runner, project, "undo", "--coder", "李老师")
    assert [c[3] for c in codings(project, "coder='李老师'")] == ["context/social_capital"]
    assert len(codings(project, "status='proposed'")) == 5


def test_conflicts_and_refused_rows_are_reported_not_applied(runner, project, tmp_path):
    out = tmp_path / "coding.xlsx"
    export_sheet(project, out, coder="李老师")
    annotate.decide(project, "rejected", [1], coder="王")  # another coder decides after the export
    annotate.decide(project, "accepted", [5], coder="李老师")  # in a passage whose row is refused below
    edit(out, {
        ("1:2", "embedding/leadership"): "✓",  # 王's rejection is 王's: 李老师 keeps their own decision
        ("1:2", "embedding/retirees"): "✓",
        ("1:4", "text"): "有事找站长。",  # the text was edited in the sheet
        ("1:3", "governance"): "也许",
    })
    r = run(runner, project, "sheet", "import", str(out), "--coder", "李老师")
    assert r.exit_code == 4
    lines = r.output.splitlines()
    assert "refused row 6 (1:4): the passage text no longer matches the project" in lines
    assert "conflict 1:3 governance: sheet says 也许, project has - (cannot read '也许' (use ✓, ?, ✗ or ⊘))" in lines
    # decisions are per coder (issue 19): another coder's decision after the export is no conflict
    assert not any("1:2 embedding/leadership" in line for line in lines)
    assert lines[-1] == "2 added (2 proposals accepted), 0 removed (0 proposals rejected), 33 unchanged, 1 conflicts, 1 rows refused"
    assert codings(project, "id in (1, 2, 5)") == [
        (1, 20, 53, "embedding/leadership", "王", "rule", "rejected"),
        (2, 20, 53, "embedding/retirees", "李老师", "rule", "accepted"),
        (5, 64, 85, "governance/responsiveness", "李老师", "rule", "accepted")]
    copy = codings(project, "id > 5 and code='embedding/leadership'")
    assert [c[1:] for c in copy] == [(20, 53, "embedding/leadership", "李老师", "rule", "accepted")]


def test_a_replaced_document_refuses_rows_by_name(runner, project, tmp_path):
    out = tmp_path / "coding.xlsx"
    export_sheet(project, out, coder="李老师")
    with db(project) as con:  # the passage's text changed in the project (e.g. re-imported)
        con.execute("update documents set text = replace(text, '推选出来', '选举产生')")
    edit(out, {("1:2", "governance/legitimacy"): "✓"})
    r = run(runner, project, "sheet", "import", str(out), "--coder", "李老师", "--dry-run")
    assert "refused row 4 (1:2): the passage text no longer matches the project" in r.output
    assert codings(project, "id=3")[0][6] == "proposed"


def test_dry_run_writes_nothing(runner, project, tmp_path):
    out = tmp_path / "coding.xlsx"
    export_sheet(project, out, coder="李老师")
    edit(out, {("1:2", "embedding/leadership"): "✓"})
    r = run(runner, project, "sheet", "import", str(out), "--coder", "李老师", "--dry-run")
    assert r.output.startswith("dry run: 1 added (1 proposals accepted)")
    assert codings(project, "id=1")[0][6] == "proposed"
    assert db(project).execute("select count(*) from audit_log where action='sheet-import'").fetchone()[0] == 0


def test_not_a_workbook(runner, project, tmp_path):
    bad = tmp_path / "coding.xlsx"
    bad.write_text("not a spreadsheet")
    r = run(runner, project, "sheet", "import", str(bad))
    assert r.exit_code == 1 and r.output.startswith(f"Error: {bad}: not an Excel workbook")


def test_cell_values():
    assert [cell_state(v) for v in ("✓", "√", 1, 1.0, "是", "X", True)] == ["coded"] * 7
    assert [cell_state(v) for v in (None, "", "✗", 0, "否", False, " ")] == ["no"] * 7
    assert [cell_state(v) for v in ("?", "？")] == ["proposed"] * 2
    assert cell_state("maybe") is None
