"""Pinned exemplar quotes, codings marked absent (negative evidence), duplicates refused, and
the schema migration that adds both (version 5)."""
from __future__ import annotations

import json
import sqlite3

import pytest

from qualcode import annotate
from qualcode.annotate.review import ReviewSession
from qualcode.annotate.sheets import export_sheet
from qualcode.errors import QualcodeError
from qualcode.project import Project
from qualcode.reports import load, quotes
from qualcode.store import MIGRATIONS, SCHEMA_VERSION
from tests.annotate.helpers import coded_project, db, run
from tests.annotate.test_sheets import edit

DOC = "互助站访谈"


@pytest.fixture
def project(tmp_path, tmp_path_factory):
    p = coded_project(tmp_path_factory, tmp_path / "study")
    yield p
    p.close()


def flags(project, where: str = "1=1"):
    return db(project).execute(
        f"select id, code, coder, status, absent from codings where {where} order by id").fetchall()


# ----------------------------------------------------------------------------- pins

def test_pin_unpin_list_and_undo(runner, project):
    r = run(runner, project, "code", "add", "--doc", DOC, "--quote", "有事找站长", "embedding/leadership", "--coder", "李老师")
    assert r.exit_code == 0
    r = run(runner, project, "quote", "pin", "6", "--note", "居民的原话，最直白", "--coder", "李老师")
    assert r.exit_code == 0 and r.output == "pinned coding 6: embedding/leadership [64, 69) — 居民的原话，最直白\n"
    listed = json.loads(run(runner, project, "quote", "list", "--format", "json").output)
    assert [(q["id"], q["text"], q["pin_note"], q["pinned_by"], q["passage"]) for q in listed] == [
        (6, "有事找站长", "居民的原话，最直白", "李老师", "1:4")]
    assert json.loads(run(runner, project, "quote", "list", "--code", "governance", "--format", "json").output) == []
    # undo takes the pin off again; unpin does too
    run(runner, project, "undo", "--coder", "李老师")
    assert annotate.pinned_quotes(project) == []
    annotate.pin_quote(project, 6, coder="李老师")
    row = annotate.unpin_quote(project, 6, coder="李老师")
    assert row["pinned_at"] is None and annotate.pinned_quotes(project) == []
    r = run(runner, project, "quote", "unpin", "6", "--coder", "李老师")
    assert r.exit_code == 1 and "coding 6 is not pinned" in r.output


def test_a_rejected_coding_cannot_be_pinned_and_an_unknown_one_is_named(runner, project):
    annotate.decide(project, "rejected", [1], coder="王")
    with pytest.raises(QualcodeError, match="coding 1 was rejected"):
        annotate.pin_quote(project, 1, coder="王")
    r = run(runner, project, "quote", "pin", "77")
    assert r.exit_code == 1 and "no coding '77'" in r.output


def test_the_pinned_quote_comes_first_in_the_quote_table(project):
    annotate.decide(project, "accepted", [1], coder="王")
    span = annotate.add_coding(project, "embedding/leadership", doc=DOC, quote="有事找站长", coder="王")
    first = quotes(load(project), k=1, codes=["embedding/leadership"])
    assert first["quote"].tolist() != ["有事找站长"]  # without a pin the longer passage wins
    annotate.pin_quote(project, span["id"], coder="王")
    first = quotes(load(project), k=1, codes=["embedding/leadership"])
    assert first["quote"].tolist() == ["有事找站长"]


# ----------------------------------------------------------------------------- absent

def test_code_add_absent_is_counted_apart(runner, project):
    r = run(runner, project, "code", "add", "1:4", "embedding/leadership", "--absent", "--coder", "李老师")
    assert r.exit_code == 0 and r.output == "coding 6: embedding/leadership (absent) [64, 85) by 李老师\n"
    table = run(runner, project, "code", "list", "--coder", "李老师").output
    assert "embedding/leadership (absent)" in table
    data = load(project)
    assert data.codings["id"].tolist() == [] and data.absences["id"].tolist() == [6]
    from qualcode.reports import frequencies

    row = frequencies(data).set_index("code").loc["embedding/leadership"]
    assert (row["codings"], row["absent"], row["absent_documents"]) == (0, 1, 1)


def test_a_duplicate_coding_is_refused_present_or_absent(runner, project):
    assert run(runner, project, "code", "add", "1:4", "embedding/leadership", "--coder", "李老师").exit_code == 0
    r = run(runner, project, "code", "add", "1:4", "embedding/leadership", "--coder", "李老师")
    assert r.exit_code == 1 and "李老师 already coded this span as embedding/leadership (coding 6)" in r.output
    r = run(runner, project, "code", "add", "1:4", "embedding/leadership", "--absent", "--coder", "李老师")
    assert r.exit_code == 1 and "it cannot also be absent" in r.output
    assert "qualcode code remove 6" in r.output
    # another coder may code the same span
    assert run(runner, project, "code", "add", "1:4", "embedding/leadership", "--coder", "王").exit_code == 0


def test_change_code_to_a_proposed_code_accepts_it_instead_of_duplicating(project):
    # proposals 1 (leadership) and 2 (retirees) are on the same span: changing 1 to retirees
    old, new = annotate.change_code(project, 1, "embedding/retirees", coder="王")
    assert new["id"] == 2 and new["status"] == "accepted"
    assert flags(project) [:2] == [(1, "embedding/leadership", "王", "rejected", 0),
                                   (2, "embedding/retirees", "王", "accepted", 0)]
    assert len(flags(project, "code='embedding/retirees'")) == 1
    # the coder already has legitimacy there: a change to it is refused, nothing changes
    annotate.decide(project, "accepted", [3], coder="王")
    with pytest.raises(QualcodeError, match="already coded this span as governance/legitimacy"):
        annotate.change_code(project, 2, "governance/legitimacy", coder="王")
    assert flags(project, "id=2") == [(2, "embedding/retirees", "王", "accepted", 0)]
    # undo of the first recode puts both proposals back
    annotate.undo(project, 2, coder="王")
    assert [r[3] for r in flags(project, "id in (1, 2)")] == ["proposed", "proposed"]


def test_review_marks_a_proposal_absent(project):
    session = ReviewSession(project, coder="王")
    assert session.current().coding["id"] == 1
    message = session.mark_absent()
    assert message.startswith("coded embedding/leadership as absent on 1:2")
    assert flags(project, "id=1 or coder='王'") == [(1, "embedding/leadership", "王", "rejected", 0),
                                                     (6, "embedding/leadership", "王", "accepted", 1)]
    assert session.current().coding["id"] == 2
    session.undo()
    assert flags(project, "id=1") == [(1, "embedding/leadership", "autocode", "proposed", 0)]
    assert flags(project, "id=6") == []


def test_sheet_absent_mark_round_trip(runner, project, tmp_path):
    out = tmp_path / "coding.xlsx"
    export_sheet(project, out, coder="李老师")
    edit(out, {("1:2", "embedding/leadership"): "⊘", ("1:4", "governance/legitimacy"): "缺"})
    r = run(runner, project, "sheet", "import", str(out), "--coder", "李老师")
    assert r.exit_code == 0, r.output
    assert flags(project, "coder='李老师'") == [(1, "embedding/leadership", "李老师", "rejected", 0),
                                                (6, "embedding/leadership", "李老师", "accepted", 1),
                                                (7, "governance/legitimacy", "李老师", "accepted", 1)]
    export_sheet(project, out, coder="李老师")
    from openpyxl import load_workbook

    ws = load_workbook(out)["coding"]
    header = [c.value for c in ws[1]]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=3)}
    assert rows["1:2"][header.index("embedding/leadership")].value == "⊘"
    # ✓ over an absent mark turns it into presence: the absent coding goes, the proposal the
    # coder had rejected for it is accepted again
    edit(out, {("1:2", "embedding/leadership"): "✓"})
    run(runner, project, "sheet", "import", str(out), "--coder", "李老师")
    assert flags(project, "coder='李老师' and code='embedding/leadership' and status='accepted'") == [
        (1, "embedding/leadership", "李老师", "accepted", 0)]
    assert flags(project, "id=6") == []


# ----------------------------------------------------------------------------- migration 5

def test_migration_5_adds_absence_and_pins_keeping_codings(tmp_path):
    p = Project.init(tmp_path / "old")
    p.close()
    con = sqlite3.connect(tmp_path / "old" / "qualcode.db")
    for column in ("absent", "pinned_at", "pinned_by", "pin_note"):  # the schema as version 4 had it
        con.execute(f"alter table codings drop column {column}")
    con.execute("delete from schema_migrations where version = 5")
    con.execute("insert into documents (id, name, file_name, source_path, content_hash, text, n_chars, encoding, "
                "style, script, dict_version, warnings, notes, imported_at) values "
                "(1, 'd', 'd.txt', '/d.txt', 'h', '党员', 2, 'utf-8', 'plain', 'simplified', 'x', '[]', '[]', 'now')")
    con.execute("insert into codings (document_id, start, end, code, coder, origin, status, created_at, updated_at) "
                "values (1, 0, 2, 'embedding', '王', 'manual', 'accepted', 'now', 'now')")
    con.commit()
    con.close()
    p = Project(tmp_path / "old")  # opening migrates
    assert p.store.schema_version() == SCHEMA_VERSION
    con = sqlite3.connect(tmp_path / "old" / "qualcode.db")
    assert con.execute("select code, absent, pinned_at from codings").fetchall() == [("embedding", 0, None)]
    step = next(f for v, _, f in MIGRATIONS if v == 5)
    with p.store.transaction() as conn:  # idempotent: running it again changes nothing
        step(conn)
    assert annotate.pin_quote(p, 1, coder="王")["pinned_by"] == "王"
    p.close()
