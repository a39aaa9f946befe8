"""Coding by hand, decisions, memos, in-vivo codes, the audit log and undo, through the CLI."""
from __future__ import annotations

import json

import pytest

from qualcode import annotate
from qualcode.autocode.run import autocode
from qualcode.codebook.load import load_codebook
from qualcode.errors import NotFound
from tests.annotate.helpers import coded_project, codings, db, run

DOC = "互助站访谈"
P2 = "我们互助站是二〇一九年成立的。站长是退休的老党员，大家推选出来的。"  # passage 1:2, [20, 53)


@pytest.fixture
def project(tmp_path, tmp_path_factory):
    p = coded_project(tmp_path_factory, tmp_path / "study")
    yield p
    p.close()


def listing(runner, project, *args):
    return json.loads(run(runner, project, "code", "list", "--format", "json", *args).output)


def test_code_a_passage_a_quote_and_a_span(runner, project):
    r = run(runner, project, "code", "add", "1:2", "governance/legitimacy", "--coder", "李老师", "--memo", "推选即认可")
    assert r.exit_code == 0 and r.output == "coding 6: governance/legitimacy [20, 53) by 李老师\n"
    r = run(runner, project, "code", "add", "--doc", DOC, "--quote", "退休的老党员", "embedding/retirees", "--coder", "李老师")
    assert r.output == "coding 7: embedding/retirees [38, 44) by 李老师\n"
    r = run(runner, project, "code", "add", "--doc", "1", "--start", "64", "--end", "69", "responsiveness",
            "--coder", "李老师")
    assert r.output == "coding 8: governance/responsiveness [64, 69) by 李老师\n"
    rows = {r["id"]: r for r in listing(runner, project, "--coder", "李老师")}
    assert rows[6]["text"] == P2 and rows[6]["unit"] == "passage" and rows[6]["status"] == "accepted"
    assert rows[7]["text"] == "退休的老党员" and rows[7]["passage"] == "1:2" and rows[7]["unit"] == "span"
    assert rows[8]["text"] == "有事找站长" and rows[8]["origin"] == "manual"
    memo = db(project).execute("select target_type, target, coder, text from memos").fetchall()
    assert memo == [("coding", "6", "李老师", "推选即认可")]
    # every coding records its coder and a timestamp
    row = db(project).execute("select coder, decided_by, created_at, decided_at from codings where id=7").fetchone()
    assert row[0] == row[1] == "李老师" and row[2] == row[3] and row[2].startswith("20")


def test_quote_may_be_narrowed_to_a_passage_and_found_across_scripts(runner, project):
    r = run(runner, project, "code", "add", "--doc", DOC, "--quote", "站長", "embedding/leadership", "--coder", "王")
    assert r.exit_code == 1
    assert r.output.splitlines()[0] == "Error: '站長' occurs 3 times in document 互助站访谈 (at 1:2, 1:4, 1:4)"
    r = run(runner, project, "code", "add", "1:2", "--quote", "站長", "embedding/leadership", "--coder", "王")
    assert r.output == "coding 6: embedding/leadership [35, 37) by 王\n"


def test_bad_references_are_one_line_errors_with_the_closest_match(runner, project):
    cases = [
        (["code", "add", "1:2", "governance/legitimcy"], "Error: no code 'governance/legitimcy' in the codebook",
         "Hint: did you mean governance/legitimacy?"),
        (["code", "add", "1:7", "governance"], "Error: document 1 has no passage 7", "Hint: its passages are 1:1 to 1:4"),
        (["code", "add", "互助站访淡:2", "governance"], "Error: no doc '互助站访淡' in this project",
         "Hint: did you mean 互助站访谈?"),
        (["code", "remove", "55"], "Error: no coding '55' in this project", "Hint: did you mean 5?"),
        (["accept", "44"], "Error: no coding '44' in this project", "Hint: did you mean 4?"),
        (["code", "add", "--doc", "1", "--quote", "居委会", "governance"],
         "Error: '居委会' does not occur in document 1", "Hint: copy the words exactly as 'qualcode docs show' prints them"),
        (["code", "add", "--doc", "1", "--start", "80", "--end", "500", "governance"],
         "Error: span [80, 500) is outside document 1 (0 to 85 characters)", "Hint: offsets are characters, half-open [start, end)"),
    ]
    for args, message, hint in cases:
        r = run(runner, project, *args)
        assert r.exit_code == 1, args
        assert r.output.splitlines() == [message, hint], args
    assert len(codings(project)) == 5


def test_coder_comes_from_option_then_environment_then_project(runner, project):
    project.set_setting("default_coder", "项目默认")
    run(runner, project, "code", "add", "1:2", "governance")
    run(runner, project, "code", "add", "1:4", "governance", env={"QUALCODE_CODER": "环境变量"})
    run(runner, project, "code", "add", "1:1", "governance", "--coder", "选项", env={"QUALCODE_CODER": "环境变量"})
    assert [r[4] for r in codings(project, "origin='manual'")] == ["项目默认", "环境变量", "选项"]


def test_remove_only_manual_codings(runner, project):
    run(runner, project, "code", "add", "1:2", "governance", "--coder", "王", "--memo", "先记上")
    r = run(runner, project, "code", "remove", "6", "--coder", "王")
    assert r.output == "removed coding 6: governance [20, 53) by 王\n"
    assert db(project).execute("select count(*) from memos").fetchone()[0] == 0
    r = run(runner, project, "code", "remove", "1")
    assert r.exit_code == 1
    assert r.output.splitlines() == ["Error: coding 1 is a rule proposal (proposed); removing it would let it be proposed again",
                                     "Hint: reject it instead: qualcode reject 1"]


def test_list_filters(runner, project):
    run(runner, project, "code", "add", "1:2", "governance", "--coder", "王")
    run(runner, project, "code", "add", "1:4", "governance/responsiveness", "--coder", "李")
    run(runner, project, "reject", "4", "--coder", "李")
    assert [r["id"] for r in listing(runner, project, "--coder", "李")] == [4, 7]
    assert [r["id"] for r in listing(runner, project, "--code", "governance")] == [6, 3, 5, 7]
    assert [r["id"] for r in listing(runner, project, "--status", "rejected")] == [4]
    assert [r["id"] for r in listing(runner, project, "--origin", "manual", "--passage", "1:4")] == [7]
    assert [r["id"] for r in listing(runner, project, "--doc", DOC, "--status", "proposed")] == [1, 2, 3, 5]
    table = run(runner, project, "code", "list", "--coder", "王").output.splitlines()
    assert table[0].split() == ["id", "passage", "document", "speaker", "start", "end", "code", "coder", "origin",
                                "status", "text"]
    assert table[1].split()[:3] == ["6", "1:2", DOC]


def test_accept_and_reject_by_id_and_by_filter(runner, project):
    r = run(runner, project, "accept", "1", "2", "--coder", "李")
    assert r.output == "2 accepted, 0 already accepted\n"
    r = run(runner, project, "reject", "--code", "governance", "--origin", "rule", "--doc", DOC, "--coder", "李")
    assert r.output == "2 rejected, 0 already rejected\n"
    assert run(runner, project, "accept", "1", "--coder", "李").output == "0 accepted, 1 already accepted\n"
    assert codings(project) == [
        (1, 20, 53, "embedding/leadership", "李", "rule", "accepted"),
        (2, 20, 53, "embedding/retirees", "李", "rule", "accepted"),
        (3, 20, 53, "governance/legitimacy", "李", "rule", "rejected"),
        (4, 64, 85, "construction/network", "autocode", "rule", "proposed"),
        (5, 64, 85, "governance/responsiveness", "李", "rule", "rejected"),
    ]
    decided = db(project).execute("select decided_by, decided_at from codings where id=3").fetchone()
    assert decided[0] == "李" and decided[1]
    usage = run(runner, project, "accept")
    assert usage.exit_code == 2 and "give coding ids, or filters" in usage.output


def test_manual_codings_cannot_be_rejected(runner, project):
    run(runner, project, "code", "add", "1:2", "governance", "--coder", "王")
    r = run(runner, project, "reject", "6", "--coder", "王")
    assert r.exit_code == 1
    assert r.output.splitlines()[1] == "Hint: remove it instead: qualcode code remove 6"


def test_memos_on_every_target(runner, project):
    assert run(runner, project, "memo", "add", "code", "legitimacy", "居民认可", "--coder", "王").output == \
        "memo 1 on code governance/legitimacy by 王\n"
    assert run(runner, project, "memo", "add", "doc", DOC, "书记访谈", "--coder", "王").output == "memo 2 on doc 1 by 王\n"
    assert run(runner, project, "memo", "add", "passage", f"{DOC}:2", "关键段", "--coder", "王").output == \
        "memo 3 on passage 1:2 by 王\n"
    assert run(runner, project, "memo", "add", "coding", "3", "证据弱", "--coder", "李").output == "memo 4 on coding 3 by 李\n"
    rows = json.loads(run(runner, project, "memo", "list", "--coder", "王", "--format", "json").output)
    assert [(m["target_type"], m["target"], m["text"]) for m in rows] == [
        ("code", "governance/legitimacy", "居民认可"), ("doc", "1", "书记访谈"), ("passage", "1:2", "关键段")]
    bad = run(runner, project, "memo", "add", "coding", "99", "x")
    assert bad.exit_code == 1 and bad.output.startswith("Error: no coding '99' in this project")


def test_new_code_is_written_back_keeping_comments(runner, project):
    before = project.codebook_path.read_text(encoding="utf-8")
    r = run(runner, project, "code", "new", "red_property", "--parent", "governance", "--label", "红色物业",
            "--definition", "物业公司成立党支部", "--coder", "王")
    assert r.output == "added code governance/red_property (红色物业) to codebooks/codebook.yaml\n"
    after = project.codebook_path.read_text(encoding="utf-8")
    assert after.startswith(before.split("\ncodes:")[0])  # header comments untouched
    assert all(line in after for line in before.splitlines())  # nothing lost, only lines added
    cb = load_codebook(project.codebook_path)
    code = cb.get("governance/red_property")
    assert code.label_zh == "红色物业" and code.meta == {"in_vivo": True, "coder": "王"}
    assert cb.codes.index(code) == max(i for i, c in enumerate(cb.codes) if c.path.startswith("governance"))
    # usable at once, and a leaf can become a parent
    assert run(runner, project, "code", "add", "1:4", "red_property", "--coder", "王").exit_code == 0
    assert run(runner, project, "code", "new", "pm", "--parent", "red_property", "--label", "物业党支部").exit_code == 0
    assert "governance/red_property/pm" in load_codebook(project.codebook_path)
    dup = run(runner, project, "code", "new", "pm", "--parent", "governance/red_property", "--label", "又一个")
    assert dup.exit_code == 1 and "governance/red_property/pm: a code with this path already exists" in dup.output


def test_log_lists_actions_newest_first_by_coder(runner, project):
    run(runner, project, "code", "add", "1:2", "governance", "--coder", "王")
    run(runner, project, "accept", "1", "--coder", "李")
    rows = json.loads(run(runner, project, "log", "--format", "json").output)
    assert [(r["coder"], r["action"], r["target"]) for r in rows[:2]] == [("李", "accept", "coding 1"), ("王", "code-add", "coding 6")]
    mine = json.loads(run(runner, project, "log", "--coder", "王", "--format", "json").output)
    assert [r["action"] for r in mine] == ["code-add"]


def _state(project):
    con = db(project)
    return (con.execute("select * from codings order by id").fetchall(),
            con.execute("select * from memos order by id").fetchall(),
            project.codebook_path.read_text(encoding="utf-8"))


def test_undo_reverts_every_kind_of_action_exactly(runner, project):
    start = _state(project)
    steps = [
        ["code", "add", "1:2", "governance", "--memo", "一"],
        ["code", "add", "--doc", DOC, "--quote", "有事找站长", "governance/responsiveness"],
        ["code", "remove", "7"],
        ["accept", "1", "2"],
        ["reject", "--code", "construction"],
        ["memo", "add", "code", "governance", "二"],
        ["code", "new", "emergent", "--parent", "governance", "--label", "新码"],
        ["code", "add", "1:4", "emergent"],
    ]
    states = [start]
    for args in steps:
        assert run(runner, project, *args, "--coder", "王").exit_code == 0, args
        states.append(_state(project))
    from qualcode.annotate.review import ReviewSession

    ReviewSession(project, coder="王").change_code("context/social_capital")  # a recode, from review
    states.append(_state(project))
    for i in range(len(states) - 1, 0, -1):
        r = run(runner, project, "undo", "--coder", "王")
        assert r.exit_code == 0 and r.output.startswith("undid #"), r.output
        assert _state(project) == states[i - 1], steps[i - 1] if i <= len(steps) else "recode"
    r = run(runner, project, "undo", "--coder", "王")
    assert r.exit_code == 1 and r.output.startswith("Error: nothing to undo for 王")
    log = json.loads(run(runner, project, "log", "--format", "json").output)
    assert sum(1 for e in log if e["action"] == "undo") == len(states) - 1
    assert all(e["undone"] for e in log if e["action"] not in ("undo", "import"))


def test_undo_n_and_only_your_own_actions(runner, project):
    run(runner, project, "code", "add", "1:2", "governance", "--coder", "王")
    run(runner, project, "code", "add", "1:4", "governance", "--coder", "李")
    run(runner, project, "code", "add", "1:1", "governance", "--coder", "王")
    r = run(runner, project, "undo", "2", "--coder", "王")
    assert r.output.count("undid") == 2
    assert [c[4] for c in codings(project, "origin='manual'")] == ["李"]


def test_another_coders_decision_is_never_overwritten(runner, project):
    # decisions are per coder (issue 19): 李 rejecting the proposal 王 accepted is 李's own
    # decision, a copy of the proposal; 王's stays as it was (formerly a conflict, exit 4)
    run(runner, project, "accept", "3", "--coder", "王")
    r = run(runner, project, "reject", "3", "--coder", "李")
    assert r.exit_code == 0 and r.output == "1 rejected, 0 already rejected\n"
    assert codings(project, "id=3")[0][4:] == ("王", "rule", "accepted")
    assert codings(project, "id=6") == [(6, 20, 53, "governance/legitimacy", "李", "rule", "rejected")]
    copy = db(project).execute("select rule, evidence, score from codings where id=6").fetchone()
    assert copy == db(project).execute("select rule, evidence, score from codings where id=3").fetchone()
    # 李 changes their mind: their own row changes, 王's does not
    assert run(runner, project, "accept", "3", "--coder", "李").output == "1 accepted, 0 already accepted\n"
    assert codings(project, "id in (3, 6)") == [(3, 20, 53, "governance/legitimacy", "王", "rule", "accepted"),
                                                 (6, 20, 53, "governance/legitimacy", "李", "rule", "accepted")]
    # a filtered decision takes the proposals still open for the coder (3 is decided by 李 now)
    r = run(runner, project, "reject", "--code", "governance", "--coder", "李")
    assert r.output == "1 rejected, 0 already rejected\n"  # proposal 5 only
    # another coder's manual coding is theirs: a conflict, kept
    run(runner, project, "code", "add", "1:4", "context/social_capital", "--coder", "王")
    r = run(runner, project, "accept", "7", "--coder", "李")
    assert r.exit_code == 4 and "conflict: coding 7 (context/social_capital) was already accepted by 王" in r.output
    # undo takes back 李's copy and leaves 王's decision
    for _ in range(3):
        assert run(runner, project, "undo", "--coder", "李").exit_code == 0
    assert codings(project, "id in (3, 5, 6)") == [(3, 20, 53, "governance/legitimacy", "王", "rule", "accepted"),
                                                    (5, 64, 85, "governance/responsiveness", "autocode", "rule",
                                                     "proposed")]


def test_removing_or_recoding_another_coders_coding_is_a_conflict_unless_adjudicator(runner, project):
    run(runner, project, "code", "add", "1:2", "governance", "--coder", "王", "--memo", "王的备忘")
    r = run(runner, project, "code", "remove", "6", "--coder", "李")
    assert r.exit_code == 4
    assert r.output.splitlines()[0] == "Error: coding 6 (governance) is 王's; 李 cannot remove it"
    with pytest.raises(annotate.codings.OwnershipConflict):
        annotate.change_code(project, 6, "context/social_capital", coder="李")
    assert codings(project, "id=6") == [(6, 20, 53, "governance", "王", "manual", "accepted")]
    # an adjudicator named in the project's settings may; the owner can undo it
    project.settings.setdefault("team", {})["adjudicators"] = ["李"]  # this open project; the CLI reads the file
    (project.root / "qualcode.toml").write_text(
        (project.root / "qualcode.toml").read_text(encoding="utf-8") + '\n[team]\nadjudicators = ["李"]\n',
        encoding="utf-8")
    r = run(runner, project, "code", "remove", "6", "--coder", "李")
    assert r.exit_code == 0 and codings(project, "id=6") == []
    assert db(project).execute("select count(*) from memos").fetchone()[0] == 0
    r = run(runner, project, "undo", "--coder", "王")  # the owner takes the removal back
    assert r.exit_code == 0 and "code-remove" in r.output
    assert codings(project, "id=6") == [(6, 20, 53, "governance", "王", "manual", "accepted")]
    assert db(project).execute("select coder, text from memos").fetchall() == [("王", "王的备忘")]
    _, new = annotate.change_code(project, 6, "context/social_capital", coder="李")
    assert codings(project, "id=6") == [] and new["coder"] == "李"
    assert run(runner, project, "undo", "--coder", "王").exit_code == 0  # a recode is a removal too
    assert codings(project, f"id in (6, {new['id']})") == [(6, 20, 53, "governance", "王", "manual", "accepted")]


def test_undo_refuses_when_the_target_changed_since(runner, project):
    import sqlite3

    run(runner, project, "accept", "3", "--coder", "王")
    con = sqlite3.connect(project.root / "qualcode.db")  # another process changes the row meanwhile
    con.execute("update codings set status='rejected', coder='李', updated_at='2099-01-01' where id=3")
    con.commit()
    r = run(runner, project, "undo", "--coder", "王")
    assert r.exit_code == 1
    assert r.output.splitlines()[0] == "Error: coding 3 (governance/legitimacy [20, 53)) was changed again since"
    assert codings(project, "id=3")[0][4:] == ("李", "rule", "rejected")


def test_autocode_never_touches_manual_codings_or_revives_rejected_proposals(project):
    annotate.add_coding(project, "governance/legitimacy", passage="1:2", coder="王")  # same span+code as proposal 3
    annotate.add_coding(project, "context/social_capital", passage="1:4", coder="王")
    annotate.decide(project, "rejected", [1, 4], coder="王")
    annotate.decide(project, "accepted", [2], coder="王")
    before = db(project).execute("select * from codings where id in (1, 2, 4, 6, 7) order by id").fetchall()
    for unit in ("passage", "passage", "sentence", "passage"):
        autocode(project, project.codebook(), unit=unit)
    assert db(project).execute("select * from codings where id in (1, 2, 4, 6, 7) order by id").fetchall() == before
    by_key = db(project).execute(
        "select start, end, code, count(*) from codings where unit='passage' and origin='rule' "
        "group by start, end, code having count(*) > 1").fetchall()
    assert by_key == []  # no second proposal next to a decided one
    # even a codebook whose rules changed keeps the decisions
    cb = project.codebook()
    for code in cb.codes:
        code.rules = []
    report = autocode(project, cb)
    assert report.decided == 3
    assert db(project).execute("select * from codings where id in (1, 2, 4, 6, 7) order by id").fetchall() == before
    assert db(project).execute("select count(*) from codings where status='proposed' and unit='passage'").fetchone()[0] == 0


def test_resolve_code_by_id_label_and_ambiguity(project):
    cb = project.codebook()
    assert annotate.resolve_code(cb, "合法性") == "governance/legitimacy"
    assert annotate.resolve_code(cb, "/governance/legitimacy/") == "governance/legitimacy"
    with pytest.raises(NotFound) as err:
        annotate.resolve_code(cb, "合法")
    assert err.value.hint == "did you mean governance/legitimacy (合法性)?"
