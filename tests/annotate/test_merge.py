"""Merging another copy's coders, codings and memos: matched by content, conflicts reported."""
from __future__ import annotations

import json

import pytest

from qualcode import annotate
from tests.annotate.helpers import coded_project, codings, db, run


@pytest.fixture
def ours(tmp_path, tmp_path_factory):
    p = coded_project(tmp_path_factory, tmp_path / "ours", kind="two")
    yield p
    p.close()


@pytest.fixture
def theirs(tmp_path, tmp_path_factory):
    """The same interviews, imported in the other order under other names, plus one more."""
    p = coded_project(tmp_path_factory, tmp_path / "theirs", kind="theirs")
    yield p
    p.close()


def ids_of(project, name):
    return db(project).execute("select id from documents where name=?", (name,)).fetchone()[0]


def test_merge_brings_codings_and_memos_and_reports_conflicts(runner, ours, theirs):
    # ours: document 1 = 互助站访谈 (QA), 2 = 议事会访谈; theirs: 1 = b-议事会, 2 = a-互助站, 3 = c-仅此一份
    qa_ours, qa_theirs = ids_of(ours, "互助站访谈"), ids_of(theirs, "a-互助站")
    assert (qa_ours, qa_theirs) == (1, 2)
    # both copies: 王 decides the same proposal differently → conflict
    mine = db(ours).execute("select id from codings where document_id=1 and code='embedding/leadership'").fetchone()[0]
    annotate.decide(ours, "accepted", [mine], coder="王")
    their_id = db(theirs).execute("select id from codings where document_id=2 and code='embedding/leadership'").fetchone()[0]
    annotate.decide(theirs, "rejected", [their_id], coder="王")
    # same decision in both → unchanged
    for p, doc in ((ours, 1), (theirs, 2)):
        cid = db(p).execute("select id from codings where document_id=? and code='embedding/retirees'", (doc,)).fetchone()[0]
        annotate.decide(p, "accepted", [cid], coder="王")
    # only theirs: 赵's manual coding with a memo, a passage memo, a code memo, a coding in a document we lack
    added = annotate.add_coding(theirs, "governance/legitimacy", doc="a-互助站", quote="大家推选出来的", coder="赵", memo="推选")
    annotate.add_memo(theirs, "passage", "a-互助站:4", "找站长", coder="赵")
    annotate.add_memo(theirs, "code", "governance", "总的看法", coder="赵")
    annotate.add_memo(theirs, "doc", "c-仅此一份", "只在他们那里", coder="赵")
    annotate.add_coding(theirs, "governance", passage="3:2", coder="赵")
    before = codings(ours)

    r = run(runner, ours, "merge", str(theirs.root), "--coder", "组长")
    assert r.exit_code == 4, r.output
    lines = r.output.splitlines()
    assert lines[0] == "Matched 2 documents; coders: 王, 赵"
    assert "1 documents are not in this project (import them first): c-仅此一份" in lines
    assert "1 memos skipped: their target is not in this project" in lines
    assert "1 codings added, 1 unchanged, 1 conflicts; 3 memos added, 0 unchanged" in lines
    assert lines[-3] == "Conflicts (this project's version kept):"
    assert lines[-1].split() == ["互助站访谈", "1:2", "20", "53", "embedding/leadership", "王", "accepted", "rejected", str(mine)]
    new = codings(ours, f"id > {before[-1][0]}")
    merged = {(c[3], c[4], c[6]) for c in new}
    assert ("governance/legitimacy", "赵", "accepted") in merged
    assert ("embedding/leadership", "王", "rejected") not in merged  # the conflict was not overwritten
    text = db(ours).execute("select text from documents where id=1").fetchone()[0]
    zhao = db(ours).execute("select id, start, end, passage_id from codings where coder='赵'").fetchone()
    assert text[zhao[1]:zhao[2]] == "大家推选出来的" and zhao[1] == added["start"]
    memos = db(ours).execute("select target_type, target, coder, text from memos order by id").fetchall()
    assert memos == [("coding", str(zhao[0]), "赵", "推选"), ("passage", "1:4", "赵", "找站长"), ("code", "governance", "赵", "总的看法")]

    # merging again brings nothing new and reports the same conflict
    again = run(runner, ours, "merge", str(theirs.root), "--coder", "组长")
    assert "0 codings added, 2 unchanged, 1 conflicts; 0 memos added, 3 unchanged" in again.output
    # the merge is one undoable action
    run(runner, ours, "undo", "--coder", "组长")
    assert codings(ours) == before
    assert db(ours).execute("select count(*) from memos").fetchone()[0] == 0


def test_proposals_are_not_copied_and_a_project_cannot_merge_itself(runner, ours, theirs):
    r = run(runner, ours, "merge", str(theirs.root))
    assert r.exit_code == 0
    assert r.output.splitlines()[0] == "Matched 2 documents; coders: -"
    assert "10 undecided proposals not copied (run autocode here)" in r.output
    assert r.output.splitlines()[-1] == "0 codings added, 0 unchanged, 0 conflicts; 0 memos added, 0 unchanged"
    self_merge = run(runner, ours, "merge", str(ours.root))
    assert self_merge.exit_code == 1 and self_merge.output == "Error: cannot merge a project into itself\n"
    missing = run(runner, ours, "merge", str(ours.root / "nowhere"))
    assert missing.exit_code == 3


def test_merged_decisions_keep_coders_apart(ours, theirs):
    """A decision merged in from 王's copy is 王's; 李 still reviews the proposal in this project."""
    from qualcode.annotate.merge import merge_project
    from qualcode.annotate.review import ReviewSession

    their_id = db(theirs).execute("select id from codings where document_id=2 and code='embedding/leadership'").fetchone()[0]
    annotate.decide(theirs, "accepted", [their_id], coder="王")
    merge_project(ours, theirs.root, coder="组长")
    rows = json.loads(json.dumps(annotate.list_codings(ours, code="embedding/leadership", doc="互助站访谈")))
    assert sorted((r["coder"], r["status"]) for r in rows) == [("autocode", "proposed"), ("王", "accepted")]
    assert "embedding/leadership" not in {r["code"] for r in ReviewSession(ours, coder="王", doc="1").pending()}
    assert "embedding/leadership" in {r["code"] for r in ReviewSession(ours, coder="李", doc="1").pending()}
