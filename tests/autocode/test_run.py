"""Auto-coding: proposals with evidence, idempotent re-runs, decisions that survive."""
from __future__ import annotations

import csv
import json
import sqlite3

import pytest
from sqlalchemy import update

from qualcode.autocode.run import autocode
from qualcode.cli import cli
from qualcode.codebook.load import load_codebook
from qualcode.store import schema as t
from tests.helpers import write_text

CODEBOOK = """\
format: 1
name: mini
defaults:
  scope:
    role: [interviewee, other, unknown]
codes:
  - id: governance
    label: {zh: 社区善治, en: Good governance}
    definition: 善治
    children:
      - id: legitimacy
        label: {zh: 合法性, en: Legitimacy}
        definition: 居民认可组织及其负责人
        rules:
          - id: words
            any: [推选, 有威信]
      - id: responsiveness
        label: {zh: 回应性, en: Responsiveness}
        definition: 及时回应居民诉求
        rules:
          - id: words
            any: [满意]
"""

TRANSCRIPT = (
    "问：站长是怎么选出来的？大家推选的吗？\n"
    "答：是大家推选的，他在小区里有威信。\n"
    "问：居民满意吗？\n"
    "答：居民都很满意。\n"
    "答：也有人不满意，说办事慢。\n"
)


@pytest.fixture
def coded(project, tmp_path):
    cb_path = write_text(tmp_path / "mini.yaml", CODEBOOK)
    project.use_codebook(cb_path)
    write_text(tmp_path / "a.txt", TRANSCRIPT)
    from qualcode.ingest.pipeline import ImportOptions, import_paths

    import_paths(project, [tmp_path / "a.txt"], ImportOptions(case="N街道"))
    return project


def rows(project):
    con = sqlite3.connect(project.root / "qualcode.db")
    con.row_factory = sqlite3.Row
    return [dict(r) for r in con.execute("select * from codings order by start, code")]


def test_proposals_carry_their_evidence(coded):
    report = autocode(coded, coded.codebook())
    assert report.added == 2
    text = sqlite3.connect(coded.root / "qualcode.db").execute("select text from documents").fetchone()[0]
    got = rows(coded)
    # the interviewer's question with 推选 and the negated 不满意 are not coded
    assert [(text[r["start"]:r["end"]], r["code"]) for r in got] == [
        ("是大家推选的，他在小区里有威信。", "governance/legitimacy"),
        ("居民都很满意。", "governance/responsiveness"),
    ]
    assert {r["origin"] for r in got} == {"rule"} and {r["status"] for r in got} == {"proposed"}
    evidence = json.loads(got[0]["evidence"])
    assert evidence["rule"] == "governance/legitimacy#words"
    assert sorted(text[s:e] for _, s, e in evidence["terms"]) == ["推选", "有威信"]


def test_rerun_is_idempotent(coded):
    autocode(coded, coded.codebook())
    before = rows(coded)
    again = autocode(coded, coded.codebook())
    assert (again.added, again.removed, again.updated, again.unchanged) == (0, 0, 0, 2)
    assert rows(coded) == before


def test_decisions_and_manual_codings_survive_every_rerun(coded, tmp_path):
    autocode(coded, coded.codebook())
    with coded.store.transaction() as conn:
        conn.execute(update(t.codings).where(t.codings.c.code == "governance/legitimacy").values(status="rejected"))
        conn.execute(update(t.codings).where(t.codings.c.code == "governance/responsiveness").values(status="accepted"))
        conn.execute(t.codings.insert().values(
            document_id=1, start=0, end=5, code="governance/legitimacy", coder="李老师", origin="manual",
            status="accepted", created_at="x", updated_at="x"))
    before = rows(coded)
    # a codebook that no longer has any rule for either code: decisions are still untouched
    changed = write_text(tmp_path / "mini.yaml", CODEBOOK.replace("any: [推选, 有威信]", "any: [威望]").replace("any: [满意]", "any: [诉求]"))
    report = autocode(coded, load_codebook(changed))
    assert report.decided == 2 and report.removed == 0
    assert rows(coded) == before
    # and the rejected proposal is not proposed again when its rule comes back
    autocode(coded, coded.codebook())
    assert [r["status"] for r in rows(coded) if r["origin"] == "rule"] == ["rejected", "accepted"]


def test_a_changed_codebook_updates_only_its_own_proposals(coded, tmp_path):
    autocode(coded, coded.codebook())
    with coded.store.transaction() as conn:
        conn.execute(t.codings.insert().values(
            document_id=1, start=0, end=5, code="governance/responsiveness", coder="model-1", origin="model",
            status="proposed", created_at="x", updated_at="x"))
    narrower = write_text(tmp_path / "mini.yaml", CODEBOOK.replace("any: [推选, 有威信]", "any: [有威信]"))
    report = autocode(coded, load_codebook(narrower))
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 1)
    legit = [r for r in rows(coded) if r["code"] == "governance/legitimacy"][0]
    assert [term for term, _, _ in json.loads(legit["evidence"])["terms"]] == ["有威信"]
    assert any(r["origin"] == "model" for r in rows(coded))
    none_left = write_text(tmp_path / "mini.yaml", CODEBOOK.replace("any: [推选, 有威信]", "any: [威望]"))
    report = autocode(coded, load_codebook(none_left))
    assert report.removed == 1
    assert sorted(r["origin"] for r in rows(coded)) == ["model", "rule"]


def test_sentence_unit_codes_sentences(coded):
    autocode(coded, coded.codebook(), unit="sentence")
    text = sqlite3.connect(coded.root / "qualcode.db").execute("select text from documents").fetchone()[0]
    assert [(text[r["start"]:r["end"]], r["unit"]) for r in rows(coded)] == [
        ("是大家推选的，他在小区里有威信。", "sentence"), ("居民都很满意。", "sentence")]


def test_dry_run_writes_nothing(coded, runner):
    result = runner.invoke(cli, ["--project", str(coded.root), "autocode", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would add: document 1 [" in result.output
    assert result.output.splitlines()[-1] == "dry run: 2 added, 0 updated, 0 removed, 0 unchanged, 0 decisions kept"
    assert rows(coded) == []


def test_export_codings_columns_and_content(coded, runner, tmp_path):
    runner.invoke(cli, ["--project", str(coded.root), "autocode"])
    out = tmp_path / "codings.csv"
    result = runner.invoke(cli, ["--project", str(coded.root), "export", "codings", "--format", "csv", "--output", str(out)])
    assert result.output == f"Wrote 2 codings to {out}\n"
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    got = list(csv.DictReader(open(out, encoding="utf-8-sig")))
    assert list(got[0].keys())[:13] == ["document", "case", "speaker", "role", "passage", "start", "end", "text",
                                        "code", "coder", "origin", "status", "evidence"]
    assert [(r["document"], r["case"], r["speaker"], r["role"], r["passage"], r["text"], r["code"], r["origin"], r["status"])
            for r in got] == [
        ("a", "N街道", "答", "interviewee", "1:2", "是大家推选的，他在小区里有威信。", "governance/legitimacy", "rule", "proposed"),
        ("a", "N街道", "答", "interviewee", "1:4", "居民都很满意。", "governance/responsiveness", "rule", "proposed"),
    ]


def test_traditional_script_document_is_coded_by_a_simplified_codebook(coded, tmp_path):
    from qualcode.ingest.pipeline import ImportOptions, import_paths

    write_text(tmp_path / "b.txt", "問：站長怎麼選的？\n答：是大家推選的，他有威信。\n", encoding="big5")
    import_paths(coded, [tmp_path / "b.txt"], ImportOptions())
    autocode(coded, coded.codebook())
    assert [r["code"] for r in rows(coded) if r["document_id"] == 2] == ["governance/legitimacy"]


def test_evaluate_against_gold(coded, runner, tmp_path):
    runner.invoke(cli, ["--project", str(coded.root), "autocode"])
    gold = tmp_path / "gold.csv"
    text = sqlite3.connect(coded.root / "qualcode.db").execute("select text from documents").fetchone()[0]
    s1 = text.index("是大家推选的")
    s2 = text.index("也有人不满意")
    gold.write_text(
        "document,start,end,text,code\n"
        f"a,{s1},{s1 + 16},是大家推选的，他在小区里有威信。,governance/legitimacy\n"
        f"a,{s2},{s2 + 13},也有人不满意，说办事慢。,governance/responsiveness\n",
        encoding="utf-8-sig")
    result = runner.invoke(cli, ["--project", str(coded.root), "evaluate", "--gold", str(gold), "--format", "json"])
    assert result.exit_code == 0, result.output
    by = {(r["level"], r["code"]): r for r in json.loads(result.output)}
    assert by[("code", "governance/legitimacy")] | {} == {
        "level": "code", "code": "governance/legitimacy", "gold": 1, "predicted": 1, "tp": 1, "fp": 0, "fn": 0,
        "precision": 1.0, "recall": 1.0, "f1": 1.0}
    resp = by[("code", "governance/responsiveness")]
    assert (resp["tp"], resp["fp"], resp["fn"], resp["precision"], resp["recall"], resp["f1"]) == (0, 1, 1, 0.0, 0.0, 0.0)
    micro = by[("micro", "all codes")]
    assert (micro["precision"], micro["recall"], micro["f1"]) == (0.5, 0.5, 0.5)
    assert by[("stage", "governance")]["tp"] == 1


def test_evaluate_names_the_bad_gold_row(coded, runner, tmp_path):
    gold = write_text(tmp_path / "gold.csv", "document,start,end,text,code\nb,0,3,abc,governance\n")
    result = runner.invoke(cli, ["--project", str(coded.root), "evaluate", "--gold", str(gold)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"Error: {gold}:2: document 'b' is not in this project"


def test_codebook_validate_lists_every_problem(runner, tmp_path):
    bad = write_text(tmp_path / "bad.yaml", CODEBOOK.replace("any: [满意]", "regex: ['(unclosed']").replace("id: responsiveness", "id: legitimacy"))
    result = runner.invoke(cli, ["codebook", "validate", str(bad)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith(f"{bad}:") and "duplicate" in line for line in lines), lines
    assert any(line.startswith(f"{bad}:") and "regex" in line for line in lines), lines
    assert lines[-2].startswith("Error: ") and "2 problems" in lines[-2]


def test_codebook_use_and_show(coded, runner):
    runner.invoke(cli, ["--project", str(coded.root), "autocode"])
    result = runner.invoke(cli, ["--project", str(coded.root), "codebook", "show", "--format", "json"])
    shown = {r["path"]: r for r in json.loads(result.output)}
    assert shown["governance/legitimacy"]["proposed"] == 1 and shown["governance/legitimacy"]["rules"] == 1


def test_no_proposal_where_a_coder_already_coded_the_span(coded):
    text = sqlite3.connect(coded.root / "qualcode.db").execute("select text from documents").fetchone()[0]
    s = text.index("是大家推选的")
    with coded.store.transaction() as conn:
        conn.execute(t.codings.insert().values(
            document_id=1, start=s, end=s + 16, code="governance/legitimacy", coder="李老师", origin="manual",
            status="accepted", created_at="x", updated_at="x"))
    autocode(coded, coded.codebook())
    assert [(r["code"], r["origin"]) for r in rows(coded)] == [
        ("governance/legitimacy", "manual"), ("governance/responsiveness", "rule")]


def test_memos_leave_with_a_withdrawn_proposal(coded, tmp_path):
    autocode(coded, coded.codebook())
    legit = [r for r in rows(coded) if r["code"] == "governance/legitimacy"][0]
    with coded.store.transaction() as conn:
        conn.execute(t.memos.insert().values(target_type="coding", target=str(legit["id"]), coder="李老师",
                                             text="再看看", created_at="x"))
    narrower = write_text(tmp_path / "mini.yaml", CODEBOOK.replace("any: [推选, 有威信]", "any: [威望]"))
    autocode(coded, load_codebook(narrower))
    assert sqlite3.connect(coded.root / "qualcode.db").execute("select count(*) from memos").fetchone()[0] == 0


def test_another_codebook_leaves_the_proposals_of_codes_it_lacks(coded, tmp_path):
    autocode(coded, coded.codebook())
    other = write_text(tmp_path / "other.yaml", CODEBOOK.replace("id: legitimacy", "id: trust").replace(
        "id: responsiveness", "id: response").replace("any: [满意]", "any: [威信]"))
    report = autocode(coded, load_codebook(other))
    assert report.removed == 0
    assert sorted(r["code"] for r in rows(coded)) == [
        "governance/legitimacy", "governance/responsiveness", "governance/trust"]


@pytest.mark.parametrize("unit", ["passage", "sentence"])
def test_whole_document_matching_equals_unit_by_unit_matching_on_the_bundled_corpus(project, unit):
    """match_document (autocode's fast path) against RuleSet.match, one unit at a time."""
    from itertools import accumulate
    from pathlib import Path

    from qualcode.autocode.rules import Unit, compile_rules
    from qualcode.autocode.run import rules_document
    from qualcode.ingest.manifest import load_manifest
    from qualcode.ingest.pipeline import ImportOptions, import_paths
    from qualcode.text.segment import unpack_tokens

    corpus = Path(__file__).resolve().parents[2] / "corpus"
    import_paths(project, [corpus], ImportOptions(manifest=load_manifest(corpus / "manifest.csv")))
    ruleset = compile_rules(project.codebook())
    con = sqlite3.connect(project.root / "qualcode.db")
    roles = dict(con.execute("select id, role from speakers"))
    sentences: dict[int, list] = {}
    for pid, s, e in con.execute("select passage_id, start, \"end\" from sentences order by passage_id, seq"):
        sentences.setdefault(pid, []).append((s, e))
    compared = fired = 0
    for doc_id, text in con.execute("select id, text from documents order by id").fetchall():
        rows = con.execute("select id, start, \"end\", speaker_id, tokens from passages where document_id = ? "
                           "order by seq", (doc_id,)).fetchall()
        document, _ = rules_document(text, rows, sentences, unit, {}, roles)
        ends = {pid: [start + e for e in accumulate(unpack_tokens(blob))] for pid, start, _, _, blob in rows}
        doc_ends = sorted(e for es in ends.values() for e in es)
        for (lo, hi), role, hits in zip(document.spans, document.roles, ruleset.match_document(document)):
            unit_ends = [e - lo for e in doc_ends if lo < e < hi] + [hi - lo]
            expected = ruleset.match(Unit(text[lo:hi], unit_ends, role=role, kind=unit))
            assert hits == expected, (doc_id, lo, hi)
            compared += 1
            fired += bool(hits)
    table = "passages" if unit == "passage" else "sentences"
    assert compared == con.execute(f"select count(*) from {table}").fetchone()[0]
    assert fired > 100


def test_a_rerun_keeps_an_open_proposal_another_coder_coded_by_hand(coded):
    """In a team, 李's hand coding of a proposed span must not take the proposal out of 王's queue."""
    autocode(coded, coded.codebook())
    legit = [r for r in rows(coded) if r["code"] == "governance/legitimacy" and r["origin"] == "rule"][0]
    with coded.store.transaction() as conn:
        conn.execute(t.codings.insert().values(
            document_id=1, start=legit["start"], end=legit["end"], code="governance/legitimacy", coder="李老师",
            origin="manual", status="accepted", created_at="x", updated_at="x"))
    report = autocode(coded, coded.codebook())
    still = [r for r in rows(coded) if r["code"] == "governance/legitimacy" and r["origin"] == "rule"]
    assert [(r["id"], r["status"]) for r in still] == [(legit["id"], "proposed")]
    assert report.removed == 0


def test_evidence_is_written_as_the_json_encoder_writes_it():
    from qualcode.autocode.rules import Hit
    from qualcode.autocode.run import _EvidenceJSON

    odd = ['引号"与\\反斜杠', "换行\n制表\t", "\x01控制", "𠮷扩展B", "ascii", "</script>"]
    hits = [Hit("a", f"a#{term}", score, [(term, 3, 5), ("满意", 0, 2)])
            for term in odd for score in (1.0, 2.5, 0.1 + 0.2, 1e-7, 1e22, 3)]
    hits.append(Hit("b", "b#none", 1.0, []))
    hits.append(Hit("c", "c#nan", float("nan"), [("不", 1, 2)]))
    encoder = _EvidenceJSON()
    for start in (0, 17):
        expected = [json.dumps({"rule": h.rule, "score": h.score,
                                "terms": [[term, start + s, start + e] for term, s, e in h.evidence]},
                               ensure_ascii=False) for h in hits]
        assert encoder.unit(hits, start) == expected
