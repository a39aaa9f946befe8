"""Inter-coder agreement of a project: three coders, missing documents, exclusive groups,
the char unit (R11, R13 of docs/methods.md) and the CLI, on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from qualcode.agreement.compare import AgreementReport
from qualcode.annotate.codings import decide
from qualcode.cli import cli
from qualcode.project import Project
from qualcode.store import schema as t, utcnow
from tests.agreement.test_coefficients import R11_I, R11_J
from tests.helpers import QA_TRANSCRIPT, write_text

# ------------------------------------------------------------------ a project coded by three coders

W, L, Z = "王", "李", "张"
CODEBOOK = """\
format: 1
name: agreement_test
codes:
  - id: participation
    label: 居民参与
  - id: evaluation
    label: 评价
    exclusive: true
    children:
      - id: positive
        label: 正面
      - id: negative
        label: 负面
      - id: mixed
        label: 褒贬不一
"""


def _import_three(project, tmp_path):
    from qualcode.ingest.pipeline import ImportOptions, import_paths

    for i, word in enumerate(["互助站", "议事会", "服务站"], start=1):
        write_text(tmp_path / "in" / f"访谈{i}.txt", QA_TRANSCRIPT.replace("互助站", word))
    assert import_paths(project, [tmp_path / "in"], ImportOptions()).ok
    write_text(project.root / "codebooks" / "agreement.yaml", CODEBOOK)
    project.use_codebook(project.root / "codebooks" / "agreement.yaml")


def _add(project, passage: str, code: str, coder: str, origin="manual", status="accepted") -> int:
    doc, seq = (int(x) for x in passage.split(":"))
    now = utcnow()
    with project.store.transaction() as conn:
        pid, start, end = conn.execute(select(t.passages.c.id, t.passages.c.start, t.passages.c.end).where(
            t.passages.c.document_id == doc, t.passages.c.seq == seq)).one()
        return conn.execute(insert(t.codings).values(
            document_id=doc, passage_id=pid, start=start, end=end, code=code, coder=coder, origin=origin,
            status=status, unit="passage", created_at=now, updated_at=now).returning(t.codings.c.id)).scalar_one()


def code_three_coders(project):
    """4 passages in each of 3 documents; 张 never saw document 3 (no assignment, no codings).

    participation, units 1:1..1:4 2:1..2:4 3:1..3:4 (1 = coded, . = missing):
        王  0 1 0 1 | 0 1 0 0 | 0 1 0 0     (3:2 is an accepted rule proposal)
        李  0 1 0 0 | 0 1 0 1 | 0 1 0 0     (李 rejected a proposal in 1:4; a pending one in 1:1)
        张  0 1 0 0 | 0 1 0 0 | . . . .
    evaluation (exclusive): 王 1:2 positive, 1:4 negative, 2:2 positive, 2:4 mixed;
                            李 1:2 positive, 1:4 negative, 2:2 negative, 2:4 mixed.
    """
    for p in ("1:2", "1:4", "2:2"):
        _add(project, p, "participation", W)
    proposal = _add(project, "3:2", "participation", "autocode", origin="rule", status="proposed")
    decide(project, "accepted", [proposal], coder=W)
    for p in ("1:2", "2:2", "2:4", "3:2"):
        _add(project, p, "participation", L)
    rejected = _add(project, "1:4", "participation", "autocode", origin="rule", status="proposed")
    decide(project, "rejected", [rejected], coder=L)
    _add(project, "1:1", "participation", "autocode", origin="rule", status="proposed")
    for p in ("1:2", "2:2"):
        _add(project, p, "participation", Z)
    for coder, choices in ((W, ["positive", "negative", "positive", "mixed"]),
                           (L, ["positive", "negative", "negative", "mixed"])):
        for p, child in zip(("1:2", "1:4", "2:2", "2:4"), choices):
            _add(project, p, f"evaluation/{child}", coder)


@pytest.fixture
def coded(project, tmp_path):
    _import_three(project, tmp_path)
    code_three_coders(project)
    return project


def _json(runner, project, *args):
    result = runner.invoke(cli, ["--project", str(project.root), "agreement", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # exactly one JSON object


# Every turn (--roles all): the figures as computed over all 12 passages, interviewer turns
# included. By default (issue 19) agreement compares only the codable units, see
# test_agreement_on_the_codable_units_by_default.


def test_three_coders_with_a_missing_document(coded, runner):
    out = _json(runner, coded, "--coders", f"{W},{L},{Z}", "--roles", "all")
    assert out["unit"] == "passage" and out["coders"] == [W, L, Z]
    assert out["documents"] == {W: 3, L: 3, Z: 2}
    part = out["codes"]["participation"]
    # by hand: n = 8·3 + 4·2 = 32 values, N1 = 10, N0 = 22; units 1:4 and 2:4 each add 2·n0·n1/(m−1) = 2
    assert part["units"] == 12
    assert part["alpha"] == pytest.approx(1 - 31 * 4 / (2 * 22 * 10), abs=1e-4)  # 0.7182
    assert part["percent"] == pytest.approx((32 - 4) / 32, abs=1e-4)
    assert part["kappa"] is None  # Cohen's kappa is for two coders
    lo, hi = part["alpha_ci"]
    assert lo <= part["alpha"] <= hi
    assert set(out["groups"]) == {"evaluation"}


def test_missing_is_not_disagreement_until_the_document_is_assigned(coded, runner):
    before = _json(runner, coded, "--coders", f"{W},{L},{Z}", "--roles", "all")["codes"]["participation"]
    result = runner.invoke(cli, ["--project", str(coded.root), "assign", "3", "--coder", Z])
    assert result.exit_code == 0 and "Assigned 1 document to 张" in result.output
    after = _json(runner, coded, "--coders", f"{W},{L},{Z}", "--roles", "all")["codes"]["participation"]
    # 张 now saw document 3 and coded nothing there: 3:2 becomes (1, 1, 0); n = 36, N0 = 26
    assert after["alpha"] == pytest.approx(1 - 35 * 6 / (2 * 26 * 10), abs=1e-4)  # 0.5962
    assert after["percent"] == pytest.approx(30 / 36, abs=1e-4)
    assert after["units"] == before["units"] == 12
    assert after["alpha"] < before["alpha"]


def test_two_coders_kappa_and_exclusive_group(coded, runner):
    out = _json(runner, coded, "--coders", f"{W},{L}", "--roles", "all")
    part = out["codes"]["participation"]
    assert part["units"] == 12
    assert part["percent"] == pytest.approx(10 / 12, abs=1e-4)
    assert part["kappa"] == pytest.approx(0.625, abs=1e-4)  # p_o 10/12, p_e 80/144
    assert part["alpha"] == pytest.approx(1 - 23 * 4 / (2 * 16 * 8), abs=1e-4)
    group = out["groups"]["evaluation"]
    # positive=1 negative=2 mixed=3: 王 1 2 1 3, 李 1 2 2 3 → n = 8, one disagreeing pair
    assert group["units"] == 4
    assert group["alpha"] == pytest.approx(1 - 7 * 2 / 42, abs=1e-4)
    assert group["fleiss_kappa"] == pytest.approx(0.40625 / 0.65625, abs=1e-4)
    with_none = _json(runner, coded, "--coders", f"{W},{L}", "--none-as-value", "--roles", "all")["groups"]["evaluation"]
    assert with_none["units"] == 12  # every passage both coders saw now has a value
    assert with_none["alpha"] == pytest.approx(1 - 23 * 2 / 298, abs=1e-4)
    assert with_none["values"][0] == "(none)"


def test_agreement_on_the_codable_units_by_default(coded, runner):
    """Interviewee (and unknown-role) turns only: 1:2 1:4 2:2 2:4 3:2 3:4, every one coded by
    someone; the six interviewer turns nobody codes are no longer counted as agreement.

    participation on those units (. = missing):
        王  1 1 | 1 0 | 1 0      李  1 0 | 1 1 | 1 0      张  1 0 | 1 0 | . .
    """
    out = _json(runner, coded, "--coders", f"{W},{L},{Z}")
    assert out["roles"] == ["interviewee", "unknown"] and out["headers"] is False
    assert out["units_used"] == ["1:2", "1:4", "2:2", "2:4", "3:2", "3:4"]
    assert out["documents_used"] == ["访谈1", "访谈2", "访谈3"]
    part = out["codes"]["participation"]
    # n = 4·3 + 2·2 = 16 values, N1 = 10, N0 = 6; units 1:4 and 2:4 each add 2·n0·n1/(m−1) = 2
    assert part["units"] == 6
    assert part["alpha"] == pytest.approx(1 - 15 * 4 / (2 * 6 * 10), abs=1e-4)  # 0.5
    assert part["percent"] == pytest.approx(12 / 16, abs=1e-4)
    two = _json(runner, coded, "--coders", f"{W},{L}")
    part = two["codes"]["participation"]
    assert part["units"] == 6 and part["percent"] == pytest.approx(4 / 6, abs=1e-4)
    assert part["kappa"] == pytest.approx(0.25, abs=1e-4)  # p_o 24/36, p_e 20/36
    assert part["alpha"] == pytest.approx(1 - 11 * 4 / (2 * 4 * 8), abs=1e-4)
    assert two["groups"]["evaluation"]["units"] == 4  # every group value is on an interviewee turn
    with_none = _json(runner, coded, "--coders", f"{W},{L}", "--none-as-value")["groups"]["evaluation"]
    # values 0:4 1:3 2:3 3:2 over 6 units, one disagreeing pair (2:2): 1 − 11·2/(144 − 38)
    assert with_none["units"] == 6 and with_none["alpha"] == pytest.approx(1 - 11 * 2 / 106, abs=1e-4)
    runner.invoke(cli, ["--project", str(coded.root), "assign", "3", "--coder", Z])
    part = _json(runner, coded, "--coders", f"{W},{L},{Z}")["codes"]["participation"]
    # 张 saw document 3 and coded nothing: 3:2 (1, 1, 0), 3:4 (0, 0, 0); n = 18, N0 = 8
    assert part["alpha"] == pytest.approx(1 - 17 * 6 / (2 * 8 * 10), abs=1e-4)  # 0.3625
    assert part["percent"] == pytest.approx(12 / 18, abs=1e-4)
    table = runner.invoke(cli, ["--project", str(coded.root), "agreement", "--coders", f"{W},{L}"]).output
    assert ("Compared 6 passage units (interviewee and unknown turns, headers left out) in 3 documents: "
            "访谈1, 访谈2, 访谈3.") in table
    bad = runner.invoke(cli, ["--project", str(coded.root), "agreement", "--coders", f"{W},{L}", "--roles", "boss"])
    assert bad.exit_code == 2 and "--roles" in bad.output


def test_codes_option_and_unknown_names(coded, runner):
    out = _json(runner, coded, "--coders", f"{W},{L}", "--codes", "participation")
    assert list(out["codes"]) == ["participation"] and out["groups"] == {}
    result = runner.invoke(cli, ["--project", str(coded.root), "agreement", "--coders", f"{W},{L}",
                                 "--codes", "participatoin"])
    assert result.exit_code == 1 and "did you mean participation?" in result.output
    result = runner.invoke(cli, ["--project", str(coded.root), "agreement", "--coders", f"{W},刘"])
    assert result.exit_code == 1 and "no coder '刘'" in result.output


def test_json_is_deterministic_and_table_and_xlsx_render(coded, runner, tmp_path):
    args = ["--coders", f"{W},{L},{Z}", "--unit", "sentence"]
    assert _json(runner, coded, *args) == _json(runner, coded, *args)
    result = runner.invoke(cli, ["--project", str(coded.root), "agreement", *args])
    assert result.exit_code == 0
    assert "participation" in result.output and "Exclusive groups" in result.output
    path = tmp_path / "agreement.xlsx"
    result = runner.invoke(cli, ["--project", str(coded.root), "agreement", *args, "--format", "xlsx", "-o", str(path)])
    assert result.exit_code == 0, result.output
    wb = load_workbook(path)
    assert wb.sheetnames == ["codes", "groups", "units"]
    assert [c.value for c in wb["codes"][1]] == AgreementReport.CODE_COLUMNS


def test_document_unit(coded, runner):
    part = _json(runner, coded, "--coders", f"{W},{L}", "--unit", "document")["codes"]["participation"]
    assert part["units"] == 3 and part["percent"] == 1.0  # both coded participation in every document


def test_disagreements_sheet_for_the_reconciliation_meeting(coded, runner, tmp_path):
    path = tmp_path / "review.xlsx"
    result = runner.invoke(cli, ["--project", str(coded.root), "disagreements", "--coders", f"{W},{L}",
                                 "--codes", "participation", "--output", str(path)])
    assert result.exit_code == 0 and "Wrote 2 disagreements" in result.output
    ws = load_workbook(path)["disagreements"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    header = rows[0]
    assert header[:7] == ["unit", "document", "start", "end", "code", W, L]
    assert [(r[0], r[5], r[6]) for r in rows[1:]] == [("1:4", 1, 0), ("2:4", 0, 1)]
    assert rows[1][header.index("text")].startswith("有事找站长")


# ------------------------------------------------------------------ unit = char (R11, R13 through a project)


def _add_document(project, text: str) -> int:
    with project.store.transaction() as conn:
        return conn.execute(insert(t.documents).values(
            name=f"doc{len(text)}", file_name="x.txt", source_path="x.txt", content_hash=str(len(text)), text=text,
            n_chars=len(text), encoding="utf-8", style="plain", script="simplified", dict_version="-",
            imported_at=utcnow()).returning(t.documents.c.id)).scalar_one()


def _add_span(project, doc: int, start: int, end: int, code: str, coder: str) -> None:
    now = utcnow()
    with project.store.transaction() as conn:
        conn.execute(insert(t.codings).values(document_id=doc, start=start, end=end, code=code, coder=coder,
                                              origin="manual", status="accepted", unit="span",
                                              created_at=now, updated_at=now))


def test_r11_unitized_alpha_through_a_project(project, runner):
    doc = _add_document(project, "𠮷" * 300)  # non-BMP: offsets are code points
    for coder, units in (("i", R11_I), ("j", R11_J)):
        for code, spans in units.items():
            for s, e in spans:
                _add_span(project, doc, s - 150, e - 150, code, coder)  # continuum begins at 150
    out = _json(runner, project, "--coders", "i,j", "--unit", "char")
    assert out["codes"]["c"]["alpha"] == pytest.approx(0.7286, abs=1e-4)
    assert out["codes"]["k"]["alpha"] == 1.0
    assert out["codes"]["c"]["units"] == 300


def test_r13_nvivo_character_percent_agreement(project, runner):
    doc = _add_document(project, "访" * 1000)
    _add_span(project, doc, 0, 150, "x", "A")  # 50 characters coded by both,
    _add_span(project, doc, 100, 200, "x", "B")  # 150 by only one, 800 by neither
    out = _json(runner, project, "--coders", "A,B", "--unit", "char")["codes"]["x"]
    assert out["percent"] == pytest.approx(0.85)
    # NVivo: EF1 = 150·100/1000, EF2 = 850·900/1000, K = (TA − ΣEF)/(TC − ΣEF)
    ef = 150 * 100 / 1000 + 850 * 900 / 1000
    assert out["kappa"] == pytest.approx((850 - ef) / (1000 - ef), abs=1e-4)


# ------------------------------------------------------------------ same figures on PostgreSQL


def test_same_json_on_sqlite_and_postgresql(tmp_path, runner, pg_url):  # noqa: F811
    outputs = []
    for name, db in (("lite", None), ("pg", pg_url)):
        project = Project.init(tmp_path / name, db=db)
        _import_three(project, tmp_path / f"src-{name}")
        code_three_coders(project)
        outputs.append(_json(runner, project, "--coders", f"{W},{L},{Z}"))
        project.close()
    assert outputs[0] == outputs[1]


def test_package_re_exports_the_public_api():
    import qualcode.agreement as agreement
    from qualcode.agreement import assignments, coefficients, compare

    assert agreement.compute is compare.compute and agreement.disagreements is compare.disagreements
    assert agreement.cohen_kappa is coefficients.cohen_kappa and agreement.SEED == coefficients.SEED
    assert agreement.assign is assignments.assign and callable(assignments.assignments)  # the submodule stays
    assert all(hasattr(agreement, name) for name in agreement.__all__)
