"""qualcode docs remove / docs set: audited, undoable, codings saved before a removal."""
from __future__ import annotations

import csv

import pytest

from qualcode.annotate.audit import audit_log
from qualcode.annotate.documents import set_document
from qualcode.annotate.memos import add_memo
from qualcode.errors import ConfigError
from tests.annotate.helpers import coded_project, codings, db, run


@pytest.fixture
def project(tmp_path, tmp_path_factory):
    p = coded_project(tmp_path_factory, tmp_path / "study", kind="two")
    yield p
    p.close()


def _table(project, sql):
    return db(project).execute(sql).fetchall()


def test_remove_saves_codings_and_memos_then_undo_restores_everything(runner, project):
    doc = _table(project, "select id, name from documents order by id")[0]
    add_memo(project, "doc", str(doc[0]), "记得回访站长")
    before = {name: _table(project, f"select * from {name} order by 1, 2")
              for name in ("documents", "attributes", "speakers", "passages", "sentences", "codings", "memos")}
    mine = codings(project, f"document_id = {doc[0]}")
    assert mine  # the template's rules coded it

    result = run(runner, project, "docs", "remove", doc[1])
    assert result.exit_code == 0, result.output
    assert f"{len(mine)} codings" in result.output
    saved = sorted((project.root / "outputs").glob("removed-*.csv"))
    assert len(saved) == 1 and saved[0].name.startswith("removed-互助站访谈-")
    rows = list(csv.DictReader(saved[0].open(encoding="utf-8-sig")))
    assert sorted(int(r["id"]) for r in rows if r["kind"] == "coding") == [c[0] for c in mine]
    assert [r["text"] for r in rows if r["kind"] == "memo"] == ["记得回访站长"]
    assert _table(project, f"select count(*) from passages where document_id = {doc[0]}") == [(0,)]
    assert codings(project, f"document_id = {doc[0]}") == []
    assert [e["action"] for e in audit_log(project)][0] == "docs-remove"
    assert doc[1] not in run(runner, project, "docs", "list").output

    assert run(runner, project, "undo").exit_code == 0
    after = {name: _table(project, f"select * from {name} order by 1, 2") for name in before}
    assert after == before  # same ids, passages, tokens, sentences and codings


def test_set_case_attributes_and_name_then_undo(runner, project):
    doc_id, name = _table(project, "select id, name from documents order by id")[0]
    result = run(runner, project, "docs", "set", name, "--case", "H街道", "--attr", "role=R3",
                 "--attr", "访谈时间=", "--name", "互助站-站长")
    assert result.exit_code == 0, result.output
    assert "case: N街道 → H街道" in result.output and "attribute role: - → R3" in result.output
    assert "name: 互助站访谈 → 互助站-站长" in result.output
    attrs = dict(_table(project, f"select key, value from attributes where document_id = {doc_id}"))
    assert attrs["role"] == "R3" and "访谈时间" not in attrs
    assert _table(project, f"select d.name, c.name from documents d join cases c on c.id = d.case_id "
                           f"where d.id = {doc_id}") == [("互助站-站长", "H街道")]
    assert run(runner, project, "docs", "set", "互助站-站长", "--attr", "role=R3").output.endswith("unchanged\n")

    assert run(runner, project, "undo").exit_code == 0
    assert _table(project, f"select d.name, c.name from documents d join cases c on c.id = d.case_id "
                           f"where d.id = {doc_id}") == [(name, "N街道")]
    attrs = dict(_table(project, f"select key, value from attributes where document_id = {doc_id}"))
    assert "role" not in attrs and attrs["访谈时间"] == "2022年7月21日"


def test_set_refuses_a_taken_name_and_reserved_keys(project):
    (a, _), (_, other) = _table(project, "select id, name from documents order by id")
    with pytest.raises(ConfigError, match="already named"):
        set_document(project, a, name=other)
    with pytest.raises(ConfigError, match="not allowed"):
        set_document(project, a, attributes={"case": "x"})


def test_undo_of_a_set_refuses_after_a_later_change(project):
    from qualcode.annotate.audit import UndoError, undo

    doc_id = _table(project, "select id from documents order by id")[0][0]
    set_document(project, doc_id, attributes={"role": "R1"}, coder="ann")
    set_document(project, doc_id, attributes={"role": "R2"}, coder="bob")
    with pytest.raises(UndoError, match="changed again"):
        undo(project, coder="ann")


def test_remove_unknown_document_is_one_line(runner, project):
    result = run(runner, project, "docs", "remove", "没有这份")
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_a_simplified_quote_finds_its_traditional_text(runner, project, tmp_path):
    from tests.helpers import write_text

    f = write_text(tmp_path / "火災.txt", "問：那次怎麼了？\n答：去年冬天車棚著了火，大家一起滅火。\n")
    assert run(runner, project, "import", str(f)).exit_code == 0
    r = run(runner, project, "code", "add", "--doc", "火災", "--quote", "车棚着了火", "embedding/retirees",
            "--coder", "王")
    assert r.exit_code == 0, r.output
    text = _table(project, "select text from documents where name = '火災'")[0][0]
    start, end = _table(project, "select start, end from codings where coder = '王'")[0]
    assert text[start:end] == "車棚著了火"
