"""Learned suggestions (issue 7): the estimator, training, grouped CV, apply, similar, CLI.

The synthetic set has a known signal: answers about deliberation (商量, 议事会, 协商 …) carry
mobilization/deliberation, answers about the lockdown (疫情, 封控, 核酸 …) carry
context/crisis, everyday chatter carries nothing. Documents 1-4 are coded by hand (alice),
documents 5-6 are not.
"""
from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from qualcode.autocode.estimator import PassageClassifier, _clause_text, _word_tokens
from qualcode.autocode.suggest import (
    ModelMismatch,
    apply,
    evaluate,
    group_folds,
    load_model,
    load_passages,
    model_paths,
    similar,
    train,
    training_set,
)
from qualcode.cli import cli
from qualcode.ingest.pipeline import ImportOptions, import_paths
from qualcode.project import Project
from qualcode.store import queries, schema as t, utcnow
from tests.helpers import write_text

DELIB = "mobilization/deliberation"
CRISIS = "context/crisis"
POOLS = {
    DELIB: ["我们把楼里的住户叫到一起商量", "议事会上大家你一句我一句", "停车的事情开了三次协商会",
            "业主代表和物业坐下来谈", "最后大家投票定下来", "意见不一样就再商量"],
    CRISIS: ["疫情那会儿小区封控了", "我们挨家挨户送物资", "做核酸排队排到晚上",
             "封楼的时候志愿者守在门口", "隔离的老人要送药", "防疫物资不够就去借"],
    None: ["我家孩子今年上初中", "早上去菜市场买菜", "这几天天气特别热",
           "退休以后喜欢打太极", "周末带孙子去公园", "晚饭后在楼下散步"],
}
QUESTIONS = ["您能讲讲平时的情况吗？", "后来怎么样了？", "这个您怎么看？", "还有别的吗？"]
# A codebook of its own, so that edits to the bundled one do not move these tests.
CODEBOOK = """\
format: 1
name: suggest_test
codes:
  - id: mobilization
    label: 组织动员
    children:
      - id: deliberation
        label: 多元协商
        rules:
          - id: words
            any: [商量, 协商会]
  - id: governance
    label: 社区善治
    children:
      - id: legitimacy
        label: 合法性
  - id: context
    label: 情境
    children:
      - id: crisis
        label: 危机应对
        rules:
          - id: words
            any: [疫情, 封控]
"""
CODED_DOCS = [1, 2, 3, 4]
UNCODED_DOCS = [5, 6]


def _transcript(rng: random.Random, n: int = 12) -> str:
    lines = []
    for _ in range(n):
        pool = POOLS[rng.choice([DELIB, CRISIS, None])]
        lines += [f"问：{rng.choice(QUESTIONS)}", "答：" + "，".join(rng.sample(pool, 2) + rng.sample(POOLS[None], 1)) + "。"]
    return "\n".join(lines) + "\n"


def true_code(text: str) -> str | None:
    for code in (DELIB, CRISIS):
        if any(phrase in text for phrase in POOLS[code]):
            return code
    return None


def add_coding(project, passage: str, code: str, coder: str = "alice", status: str = "accepted",
               origin: str = "manual") -> None:
    pid = queries.resolve_passage(project.store, passage)
    now = utcnow()
    with project.store.transaction() as conn:
        p = conn.execute(select(t.passages).where(t.passages.c.id == pid)).one()
        conn.execute(insert(t.codings).values(
            document_id=p.document_id, passage_id=pid, start=p.start, end=p.end, code=code, coder=coder,
            origin=origin, status=status, unit="passage", created_at=now, updated_at=now))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("suggest")
    rng = random.Random(7)
    src = base / "src"
    for d in range(1, 7):
        write_text(src / f"访谈{d}.txt", _transcript(rng))
    project = Project.init(base / "study")
    project.use_codebook(write_text(base / "study" / "codebooks" / "suggest_test.yaml", CODEBOOK))
    import_paths(project, [src], ImportOptions())
    for row in queries.passages(project.store, doc_ids=CODED_DOCS):
        code = true_code(row["text"])
        if code:
            add_coding(project, row["passage"], code)
    project.close()
    return base / "study"


@pytest.fixture
def study(template, tmp_path) -> Project:
    shutil.copytree(template, tmp_path / "coded")
    p = Project(tmp_path / "coded")
    yield p
    p.close()


def invoke(runner, project, *args):
    return runner.invoke(cli, ["--project", str(project.root), *args])


def model_codings(project, **filters) -> list[dict]:
    return queries.codings(project.store, origin=["model"], **filters)


# ---------------------------------------------------------------- the estimator


def _xy(project, doc_ids):
    ps = load_passages(project.store, doc_ids)
    texts = ["".join(p.tokens) for p in ps]
    return [p.tokens for p in ps], [{true_code(x)} - {None} for x in texts]


def test_learns_the_known_signal(study):
    X, y = _xy(study, CODED_DOCS)
    est = PassageClassifier(random_state=0).fit(X, y)
    assert est.classes_ == [CRISIS, DELIB]
    held_out_X, held_out_y = _xy(study, UNCODED_DOCS)
    pred = est.predict(held_out_X)
    truth = [[int(c in labels) for c in est.classes_] for labels in held_out_y]
    wrong = sum(p != tr for prow, trow in zip(pred.tolist(), truth) for p, tr in zip(prow, trow))
    assert wrong <= 1, f"{wrong} wrong decisions out of {2 * len(truth)}"
    proba = est.predict_proba(held_out_X)
    assert proba.shape == (len(held_out_X), 2) and ((proba >= 0) & (proba <= 1)).all()


def test_estimator_conventions_and_seed(study):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    est = PassageClassifier(C=0.5, random_state=3)
    assert est.get_params() == {"min_examples": 5, "C": 0.5, "char_ngrams": (2, 3), "calibration": "sigmoid",
                                "calibration_folds": 3, "random_state": 3}
    assert clone(est).get_params() == est.get_params()
    assert not hasattr(est, "classes_")  # __init__ only stores parameters
    with pytest.raises(NotFittedError):
        est.predict_proba([["你好"]])
    X, y = _xy(study, CODED_DOCS)
    assert est.fit(X, y) is est
    again = clone(est).fit(X, y)
    assert (est.predict_proba(X) == again.predict_proba(X)).all()  # same seed, same data: same numbers


def test_too_few_examples_are_skipped_with_what_is_missing(study):
    X, y = _xy(study, CODED_DOCS)
    y[0] = y[0] | {"governance/legitimacy"}
    y[3] = y[3] | {"governance/legitimacy"}
    est = PassageClassifier().fit(X, y)
    assert "governance/legitimacy" not in est.classes_
    assert est.skipped_["governance/legitimacy"][0] == 2


# ---------------------------------------------------------------- training data and model store


def test_training_set_is_the_coded_documents(study):
    ts = training_set(study, study.codebook())
    assert ts.documents == CODED_DOCS
    assert len(ts.passages) == 4 * 24
    counts = ts.counts()
    expected = [true_code(r["text"]) for r in queries.passages(study.store, doc_ids=CODED_DOCS)]
    assert (counts[DELIB], counts[CRISIS]) == (expected.count(DELIB), expected.count(CRISIS))
    assert counts[DELIB] >= 10 and counts[CRISIS] >= 10 and counts["governance"] == 0
    # interviewer questions are negatives, not unlabelled
    assert any(not ls for ls in ts.labels)


def test_train_stores_model_with_codebook_version_and_fingerprint(study):
    report = train(study)
    model_path, sidecar_path = model_paths(study)
    assert model_path.is_file() and sidecar_path.is_file()
    info = json.loads(sidecar_path.read_text(encoding="utf-8"))
    assert info["codebook_version"] == study.codebook().version
    assert info["fingerprint"] == report.fingerprint and len(report.fingerprint) == 64
    assert info["codes"] == [CRISIS, DELIB] and info["documents"] == CODED_DOCS
    assert report.model == f"suggest-{report.fingerprint[:12]}"
    # deterministic: retraining on the same codings gives the same fingerprint and model id
    assert train(study).model == report.model
    add_coding(study, "1:1", DELIB)  # one more coding changes the training set
    assert train(study).fingerprint != report.fingerprint


def test_train_reports_how_many_more_examples_a_code_needs(study, runner):
    add_coding(study, "1:2", "governance/legitimacy")
    add_coding(study, "2:2", "governance/legitimacy")
    result = invoke(runner, study, "suggest", "train")
    assert result.exit_code == 0, result.output
    assert "  governance/legitimacy: 2 coded passages, needs 3 more" in result.output.splitlines()
    result = invoke(runner, study, "suggest", "train", "--codes", "governance")
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith("Error: too few examples to learn any code (governance: 0 coded passages, needs 5 more; ")


def test_train_without_codings_or_with_an_unknown_code(project, study, runner):
    result = invoke(runner, project, "suggest", "train")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "Error: no accepted codings to learn from"
    result = invoke(runner, study, "suggest", "train", "--codes", "mobilization/deliberaton")
    assert result.output == ("Error: no code 'mobilization/deliberaton' in this project\n"
                             "Hint: did you mean mobilization/deliberation?\n")


# ---------------------------------------------------------------- evaluation


def test_group_folds_never_split_a_document():
    docs = [1] * 5 + [2] * 3 + [3] * 7 + [4] * 2 + [5] * 4
    folds = group_folds(docs, 3)
    assert len(folds) == 3
    tested = []
    for train_idx, test_idx in folds:
        assert {docs[i] for i in train_idx}.isdisjoint({docs[i] for i in test_idx})
        assert sorted(train_idx + test_idx) == list(range(len(docs)))
        tested += test_idx
    assert sorted(tested) == list(range(len(docs)))  # every passage tested exactly once


def test_evaluate_is_grouped_by_document_and_compares_with_the_rules(study):
    report = evaluate(study, folds=4)
    assert len(report.folds) == 4
    for train_docs, test_docs in report.folds:
        assert set(train_docs).isdisjoint(test_docs)  # never train and test on the same interview
        assert sorted(train_docs + test_docs) == CODED_DOCS
    assert sorted(d for _, test_docs in report.folds for d in test_docs) == CODED_DOCS
    by_code = {(r["level"], r["code"]): r for r in report.rows}
    assert [r["code"] for r in report.rows] == [DELIB, CRISIS, "all codes", "all codes"]  # codebook order
    for code in (CRISIS, DELIB):
        assert by_code[("code", code)]["model_f1"] >= 0.9
    # the rules (疫情/封控 only) miss the crisis passages that say 核酸, 物资, 隔离 …
    crisis = by_code[("code", CRISIS)]
    assert crisis["rule_precision"] == 1.0 and crisis["rule_recall"] < 0.8
    assert crisis["prefer"] == "model"
    micro = by_code[("micro", "all codes")]
    assert micro["examples"] == by_code[("code", CRISIS)]["examples"] + by_code[("code", DELIB)]["examples"]
    assert micro["prefer"] in ("model", "rules", "either")


def test_evaluate_cli(study, runner):
    result = invoke(runner, study, "suggest", "evaluate", "--folds", "2", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == ("level,code,examples,model_precision,model_recall,model_f1,rule_precision,rule_recall,rule_f1,"
                        "prefer,combined_precision,combined_recall,combined_f1")
    assert [line.split(",")[1] for line in lines[1:]] == [DELIB, CRISIS, "all codes", "all codes"]  # codebook order
    assert "2 folds grouped by document over 96 passages in 4 documents" in result.stderr


# ---------------------------------------------------------------- apply


def test_apply_proposes_with_probability_and_evidence(study):
    train(study)
    report = apply(study)
    assert report.training_documents == 4 and report.documents == 2
    rows = model_codings(study)
    assert rows and report.added == len(rows)
    assert {r["document"] for r in rows} == {"访谈5", "访谈6"}  # training documents get no suggestions
    info, _ = load_model(study)
    for r in rows:
        assert (r["origin"], r["status"], r["coder"], r["unit"]) == ("model", "proposed", "suggest", "passage")
        assert r["code"] == true_code(r["text"])  # the known signal
        evidence = json.loads(r["evidence"])
        assert evidence["model"] == info["model"]
        assert float(r["score"]) == evidence["probability"] >= 0.5
        assert evidence["top_features"] and all(f["weight"] > 0 for f in evidence["top_features"])
    with study.store.read() as conn:
        versions = {v for (v,) in conn.execute(select(t.codings.c.codebook_version).where(t.codings.c.origin == "model"))}
    assert versions == {study.codebook().version}


def test_apply_is_idempotent_and_keeps_decisions(study):
    train(study)
    first = apply(study)
    again = apply(study)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, first.added)
    rows = model_codings(study)
    rejected, accepted = rows[0], rows[1]
    with study.store.transaction() as conn:
        conn.execute(update(t.codings).where(t.codings.c.id == rejected["id"]).values(status="rejected"))
        conn.execute(update(t.codings).where(t.codings.c.id == accepted["id"]).values(status="accepted"))
    third = apply(study, threshold=0.0)  # even at threshold 0 the rejected one is not proposed again
    assert third.decided == 2
    after = {(r["passage"], r["code"]): r for r in model_codings(study)}
    assert after[(rejected["passage"], rejected["code"])]["status"] == "rejected"
    assert after[(accepted["passage"], accepted["code"])]["status"] == "accepted"
    with study.store.read() as conn:
        n = conn.execute(select(func.count()).select_from(t.codings).where(
            t.codings.c.origin == "model", t.codings.c.passage_id == queries.resolve_passage(study.store, rejected["passage"]),
            t.codings.c.code == rejected["code"])).scalar()
    assert n == 1
    back = apply(study)  # stricter threshold again: the extra proposals go, decisions stay
    assert back.removed == third.added and back.decided == 2


def test_apply_leaves_out_what_is_already_decided_by_other_origins(study):
    train(study)
    report = apply(study)
    target = model_codings(study)[0]
    with study.store.transaction() as conn:  # pretend a rule proposal there was rejected instead
        conn.execute(t.codings.delete().where(t.codings.c.origin == "model"))
    add_coding(study, target["passage"], target["code"], coder="autocode", origin="rule", status="rejected")
    again = apply(study)
    assert again.added == report.added - 1 and again.already_coded >= 1
    assert (target["passage"], target["code"]) not in {(r["passage"], r["code"]) for r in model_codings(study)}


def test_top_k_limits_suggestions_per_passage(study):
    train(study)
    apply(study, threshold=0.0, top=1)
    per_passage = {}
    for r in model_codings(study):
        per_passage[r["passage"]] = per_passage.get(r["passage"], 0) + 1
    assert per_passage and set(per_passage.values()) == {1}


def test_apply_refuses_a_model_for_another_codebook_version(study, runner, tmp_path):
    train(study)
    changed = tmp_path / "changed.yaml"
    changed.write_text(CODEBOOK.replace("危机应对", "危机"), encoding="utf-8")
    study.use_codebook(changed)
    with pytest.raises(ModelMismatch):
        apply(study)
    result = invoke(runner, study, "suggest", "apply")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Error: the suggestion model was trained on codebook version ")
    assert lines[1] == "Hint: retrain it: qualcode suggest train"
    assert not model_codings(study)


def test_apply_without_a_model(project, runner):
    result = invoke(runner, project, "suggest", "apply")
    assert result.exit_code == 1
    assert result.output == "Error: this project has no suggestion model\nHint: train one: qualcode suggest train\n"


def _save_as_if_defined_in(monkeypatch, project, module_name: str, *objects) -> bytes:
    """Rewrite the stored model so that its pickle names ``objects`` as members of ``module_name``
    (as a model saved by an older qualcode does); returns the file's bytes."""
    import joblib

    path, _ = model_paths(project)
    payload = joblib.load(path)
    with monkeypatch.context() as m:
        for obj in objects:
            m.setattr(obj, "__module__", module_name)
        joblib.dump(payload, path)
    return path.read_bytes()


def test_a_model_saved_before_the_estimator_moved_still_loads(study, monkeypatch):
    train(study)
    _, est = load_model(study)
    X = [p.tokens for p in load_passages(study.store, UNCODED_DOCS)]
    raw = _save_as_if_defined_in(monkeypatch, study, "qualcode.autocode.suggest", PassageClassifier,
                                 _word_tokens, _clause_text)
    assert b"qualcode.autocode.suggest" in raw and b"qualcode.autocode.estimator" not in raw
    _, old = load_model(study)
    assert type(old) is PassageClassifier
    assert (old.predict_proba(X) == est.predict_proba(X)).all()
    assert apply(study).added > 0


def test_a_model_from_before_the_autocode_package_asks_for_retraining(study, runner, monkeypatch):
    train(study)
    with monkeypatch.context() as m:  # qualcode.suggest existed before qualcode.autocode
        old = types.ModuleType("qualcode.suggest")
        old.PassageClassifier = PassageClassifier
        m.setitem(sys.modules, "qualcode.suggest", old)
        _save_as_if_defined_in(monkeypatch, study, "qualcode.suggest", PassageClassifier)
    result = invoke(runner, study, "suggest", "apply")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: {model_paths(study)[0]}: cannot load the suggestion model (No module named 'qualcode.suggest')",
        "Hint: retrain it: qualcode suggest train"]


def test_train_and_apply_cli(study, runner):
    result = invoke(runner, study, "suggest", "train", "--coder", "alice", "--seed", "1")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Trained suggest-") and lines[0].endswith(
        " on 96 passages in 4 documents (coder alice): 2 codes")
    assert lines[-1].startswith("Saved models/suggest.joblib (codebook version ")
    result = invoke(runner, study, "suggest", "apply", "--threshold", "0.6", "--top", "1")
    assert result.exit_code == 0, result.output
    assert "(threshold 0.6, top 1; 4 training documents left out)" in result.output.splitlines()[0]
    n = len(model_codings(study))
    assert result.output.splitlines()[-1] == f"{n} added, 0 updated, 0 removed, 0 unchanged, 0 decisions kept"
    result = invoke(runner, study, "suggest", "train", "--coder", "bob")
    assert result.output.splitlines()[0] == "Error: no accepted codings by coder 'bob' to learn from"


# ---------------------------------------------------------------- similar


def test_similar_returns_the_near_duplicate_first(study, runner, tmp_path):
    original = "我们楼的王阿姨把自家的三轮车借给互助站运菜，一借就是两年。"
    near = "我们楼的王阿姨把自家的三轮车借给互助站运菜，一借就是三年。"
    write_text(tmp_path / "src" / "访谈7.txt", f"问：您好。\n答：{original}\n问：还有呢？\n答：早上去菜市场买菜。\n")
    write_text(tmp_path / "src" / "访谈8.txt", f"问：互助站的车哪来的？\n答：周末带孙子去公园。\n问：还有呢？\n答：{near}\n")
    import_paths(study, [tmp_path / "src"], ImportOptions())
    result = similar(study, "7:2", k=3)
    assert result.query["text"] == original
    assert result.rows[0]["passage"] == "8:4" and result.rows[0]["text"] == near
    assert result.rows[0]["similarity"] > 0.8 > result.rows[1]["similarity"]
    assert [r["rank"] for r in result.rows] == [1, 2, 3]
    cli_result = invoke(runner, study, "similar", "访谈7:2", "--k", "2", "--format", "json")
    assert cli_result.exit_code == 0, cli_result.output
    rows = json.loads(cli_result.output)
    assert [r["passage"] for r in rows][0] == "8:4" and len(rows) == 2
    table = invoke(runner, study, "similar", "7:2", "--k", "1")
    assert table.output.splitlines()[0] == f"7:2  访谈7  答: {original}"
    bad = invoke(runner, study, "similar", "7:99")
    assert bad.exit_code == 1 and bad.output.startswith("Error: document 7 has no passage 99\n")


# ---------------------------------------------------------------- start-up cost


def test_help_does_not_import_scikit_learn():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom qualcode.cli import cli\n"
            "for args in (['--help'], ['suggest', '--help'], ['similar', '--help']):\n"
            "    assert CliRunner().invoke(cli, args).exit_code == 0\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'joblib', 'scipy')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_evaluate_never_scores_the_documents_the_rules_were_tuned_on(study, runner):
    report = evaluate(study, folds=3, tuned_on=["访谈1"])
    assert report.tuned == ["访谈1"]
    assert report.tested == ["访谈2", "访谈3", "访谈4"]
    for train_docs, test_docs in report.folds:
        assert 1 in train_docs and 1 not in test_docs  # tuned on: always on the training side
        assert set(train_docs).isdisjoint(test_docs)
    assert sorted(d for _, test_docs in report.folds for d in test_docs) == [2, 3, 4]
    micro = next(r for r in report.rows if r["level"] == "micro")
    assert micro["examples"] == sum(bool(true_code(r["text"])) for r in queries.passages(study.store, doc_ids=[2, 3, 4]))
    config = study.root / "qualcode.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[autocode]\ntuned_on = ["访谈2"]\n', encoding="utf-8")
    result = invoke(runner, study, "suggest", "evaluate", "--folds", "2", "--tuned-on", "访谈1")
    assert result.exit_code == 0, result.output
    assert "neither the model was trained on nor the rules tuned on: 访谈3, 访谈4" in result.output
    assert "Rules tuned on (never scored): 访谈1, 访谈2" in result.output
