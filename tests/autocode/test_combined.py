"""The combined scorer: rule evidence and text in one model, from the codebook's examples
before any coding, then from the researcher's decisions; autocode writes its confidence."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import insert, select

from qualcode.annotate.review import ReviewSession
from qualcode.autocode.combined import T_ADD, CombinedScorer, Example, codebook_examples, tokenize
from qualcode.autocode.run import autocode
from qualcode.autocode.suggest import decision_examples
from qualcode.cli import cli
from qualcode.project import Project
from qualcode.store import queries, schema as t, utcnow
from tests.autocode.helpers import CRISIS, DELIB, LEGIT, POOLS, make_study


@pytest.fixture
def study(tmp_path) -> Project:
    p = make_study(tmp_path, documents=3)
    yield p
    p.close()


def _scorer(project, decisions=()):
    cb = project.codebook()
    background = [_example(project, r["text"]) for r in queries.passages(project.store)]
    return CombinedScorer([c.path for c in cb.codes]).fit(codebook_examples(cb, project.segmenter(cb)) + list(decisions),
                                                          background=background)


def _example(project, text: str) -> Example:
    from qualcode.autocode.combined import evidence_of_text
    from qualcode.autocode.rules import compile_rules

    cb = project.codebook()
    tokens = tokenize(text, project.segmenter(cb))
    return Example(tokens, evidence_of_text(compile_rules(cb), text, tokens))


def test_before_any_coding_it_learns_from_the_codebook_definitions_and_examples(study):
    scorer = _scorer(study)
    legit = scorer.codes.index(LEGIT)
    # legitimacy has no rule at all: only its definition and examples speak for it
    p_legit = scorer.predict_proba([_example(study, "居民都信得过这个书记，愿意听他的。"),
                                    _example(study, "早上去菜市场买菜，晚饭后在楼下散步。")])
    assert p_legit[0, legit] >= 0.5 > p_legit[1, legit]
    crisis = scorer.codes.index(CRISIS)
    p_crisis = scorer.predict_proba([_example(study, "疫情封控那阵子我们送物资。")])
    assert p_crisis[0, crisis] >= 0.5


def test_decisions_move_the_confidence(study):
    text = "意见不一样就再商量，晚饭后在楼下散步。"
    before = _scorer(study).predict_proba([_example(study, text)])[0]
    rejected = [Example(_example(study, t).tokens, _example(study, t).rules, {DELIB: 0})
                for t in ("意见不一样就再商量，周末带孙子去公园。", "这事再商量，早上去菜市场买菜。",
                          "我们回头再商量，这几天天气特别热。", "再商量吧，退休以后喜欢打太极。")]
    scorer = _scorer(study, rejected)
    after = scorer.predict_proba([_example(study, text)])[0]
    j = scorer.codes.index(DELIB)
    assert after[j] < before[j]  # the researcher rejected 商量 in small talk: less confident now


def _add(project, passage: str, code: str, status: str, origin: str = "manual") -> None:
    pid = queries.resolve_passage(project.store, passage)
    now = utcnow()
    with project.store.transaction() as conn:
        p = conn.execute(select(t.passages).where(t.passages.c.id == pid)).one()
        conn.execute(insert(t.codings).values(
            document_id=p.document_id, passage_id=pid, start=p.start, end=p.end, code=code, coder="alice",
            origin=origin, status=status, unit="passage", created_at=now, updated_at=now))


def test_decisions_are_accepted_yes_rejected_no_manual_yes(study):
    _add(study, "1:2", LEGIT, "accepted")
    _add(study, "1:4", DELIB, "rejected", origin="rule")
    _add(study, "1:4", CRISIS, "accepted", origin="rule")
    _add(study, "1:6", "not/in/codebook", "accepted")
    examples = decision_examples(study, study.codebook())
    assert sorted(sorted(e.labels.items()) for e in examples) == sorted([[(LEGIT, 1)], [(CRISIS, 1), (DELIB, 0)]])


def _use_combined(project) -> Project:
    config = project.root / "qualcode.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[autocode]\nscorer = "combined"\n', encoding="utf-8")
    return Project(project.root)


def _confidences(project) -> dict[int, float | None]:
    with project.store.read() as conn:
        return dict(conn.execute(select(t.codings.c.id, t.codings.c.confidence)
                                 .where(t.codings.c.origin == "rule")).all())


def test_autocode_writes_the_confidence_review_orders_by_it_and_rules_only_clears_it(study, runner):
    result = runner.invoke(cli, ["--project", str(study.root), "autocode"])
    assert result.exit_code == 0, result.output
    assert "Combined scorer" not in result.output
    assert set(_confidences(study).values()) == {None}  # the default: rules only
    combined = _use_combined(study)
    result = runner.invoke(cli, ["--project", str(study.root), "autocode"])
    assert result.exit_code == 0, result.output
    conf = _confidences(combined)
    assert conf and all(c is not None and 0.0 <= c <= 1.0 for c in conf.values())
    assert f"confidence on {len(conf)} open rule proposals" in result.output
    assert (study.root / "models" / "scorer.json").is_file()
    queue = ReviewSession(combined, coder="alice", order="uncertainty").proposals()
    assert [abs(r["confidence"] - 0.5) for r in queue] == sorted(abs(r["confidence"] - 0.5) for r in queue)
    assert {r["_p"] for r in queue} == {r["confidence"] for r in queue}
    combined.close()
    config = study.root / "qualcode.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('scorer = "combined"', 'scorer = "rules"'),
                      encoding="utf-8")
    assert runner.invoke(cli, ["--project", str(study.root), "autocode"]).exit_code == 0
    assert set(_confidences(study).values()) == {None}


def test_a_bad_scorer_setting_is_one_line(study, runner):
    config = study.root / "qualcode.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[autocode]\nscorer = "magic"\n', encoding="utf-8")
    result = runner.invoke(cli, ["--project", str(study.root), "autocode"])
    assert result.exit_code != 0
    assert "[autocode] scorer = 'magic' is not one of rules, combined" in result.output
    assert "Traceback" not in result.output


def test_suggest_scorer_train_and_show(study, runner):
    autocode(study, study.codebook())
    _add(study, "1:2", LEGIT, "accepted")
    result = runner.invoke(cli, ["--project", str(study.root), "suggest", "scorer", "train"])
    assert result.exit_code == 0, result.output
    assert "codebook examples and 1 decisions" in result.output
    result = runner.invoke(cli, ["--project", str(study.root), "suggest", "scorer", "show", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["code"]: r for r in json.loads(result.stdout)}
    assert rows[LEGIT]["positive"] == 1 and rows[LEGIT]["codebook_positive"] == 3  # definition + 2 examples
    assert rows[DELIB]["rule_weight"] > 0  # the rules' evidence counts for the code


def test_the_same_data_gives_the_same_scores(study):
    ex = [_example(study, "大家坐下来商量停车的事，居民都信得过书记。")]
    assert (_scorer(study).predict_proba(ex) == _scorer(study).predict_proba(ex)).all()



def _model_rows(project) -> list:
    k = t.codings
    with project.store.read() as conn:
        return conn.execute(select(k.c.id, k.c.passage_id, k.c.code, k.c.coder, k.c.status, k.c.score, k.c.confidence,
                                   k.c.evidence).where(k.c.origin == "model").order_by(k.c.id)).all()


def _texts(project) -> dict[int, tuple[str, str, str]]:
    """passage id → (ref, document, text)."""
    return {queries.resolve_passage(project.store, r["passage"]): (r["passage"], r["document"], r["text"])
            for r in queries.passages(project.store)}


@pytest.fixture
def larger(tmp_path) -> Project:
    p = make_study(tmp_path, documents=8)
    yield p
    p.close()


def _teach(project, runner) -> None:
    """The researcher codes legitimacy by hand in the first three interviews; the scorer is retrained."""
    for ref, document, text in _texts(project).values():
        if document in ("访谈1", "访谈2", "访谈3") and any(phrase in text for phrase in POOLS[LEGIT]):
            _add(project, ref, LEGIT, "accepted")
    result = runner.invoke(cli, ["--project", str(project.root), "suggest", "scorer", "train"])
    assert result.exit_code == 0, result.output


def test_the_combined_scorer_proposes_codes_the_rules_miss_with_why(larger, runner):
    combined = _use_combined(larger)
    _teach(combined, runner)
    result = runner.invoke(cli, ["--project", str(larger.root), "autocode"])
    assert result.exit_code == 0, result.output
    rows = _model_rows(combined)
    # legitimacy has no rule: every proposal of it comes from the combined scorer
    assert rows and {r.code for r in rows} == {LEGIT}
    texts = _texts(combined)
    assert all(any(phrase in texts[r.passage_id][2] for phrase in POOLS[LEGIT]) for r in rows)
    for r in rows:
        assert r.coder == "autocode" and r.status == "proposed" and r.confidence == float(r.score) >= T_ADD
        evidence = json.loads(r.evidence)
        assert evidence["scorer"].startswith("scorer-") and evidence["probability"] == r.confidence
        assert evidence["top_features"] and all(f["weight"] > 0 for f in evidence["top_features"])
    assert f"{len(rows)} added" in result.output
    # idempotent: a second run keeps the same rows
    result = runner.invoke(cli, ["--project", str(larger.root), "autocode"])
    assert result.exit_code == 0, result.output
    assert _model_rows(combined) == rows and f"{len(rows)} unchanged" in result.output
    combined.close()


def test_model_proposals_never_duplicate_a_manual_coding_and_decisions_survive(larger, runner):
    combined = _use_combined(larger)
    _teach(combined, runner)
    assert runner.invoke(cli, ["--project", str(larger.root), "autocode"]).exit_code == 0
    rows = _model_rows(combined)
    assert len(rows) >= 3
    coded, rejected, accepted = rows[0], rows[1], rows[2]
    _add(combined, _texts(combined)[coded.passage_id][0], LEGIT, "accepted")  # coded by hand meanwhile
    k = t.codings
    with combined.store.transaction() as conn:
        conn.execute(k.update().where(k.c.id == rejected.id).values(status="rejected", coder="alice"))
        conn.execute(k.update().where(k.c.id == accepted.id).values(status="accepted", coder="alice"))
    for _ in range(2):
        assert runner.invoke(cli, ["--project", str(larger.root), "autocode"]).exit_code == 0
        on: dict[int, list[str]] = {}
        for r in _model_rows(combined):
            on.setdefault(r.passage_id, []).append(r.status)
        assert coded.passage_id not in on  # the manual coding is the only one there
        assert on[rejected.passage_id] == ["rejected"]  # never proposed again
        assert on[accepted.passage_id] == ["accepted"]
    # back to rules only: the open model proposals go, the decisions stay
    config = larger.root / "qualcode.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('scorer = "combined"', 'scorer = "rules"'),
                      encoding="utf-8")
    assert runner.invoke(cli, ["--project", str(larger.root), "autocode"]).exit_code == 0
    assert sorted(r.status for r in _model_rows(combined)) == ["accepted", "rejected"]
    combined.close()


def test_suggest_apply_leaves_the_combined_scorers_proposals_alone(larger, runner):
    combined = _use_combined(larger)
    _teach(combined, runner)
    assert runner.invoke(cli, ["--project", str(larger.root), "autocode"]).exit_code == 0
    ours = [r for r in _model_rows(combined) if r.coder == "autocode"]
    assert ours
    result = runner.invoke(cli, ["--project", str(larger.root), "suggest", "train", "--min-examples", "3"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["--project", str(larger.root), "suggest", "apply", "--threshold", "0.99"])
    assert result.exit_code == 0, result.output
    assert [r for r in _model_rows(combined) if r.coder == "autocode"] == ours
    combined.close()
