"""Scoring proposals against a gold file: micro and macro averages as scikit-learn defines them."""
from __future__ import annotations

import json
import random

import pytest
from sklearn.metrics import precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer

from qualcode.autocode.evaluate import load_gold, macro_average, predicted_pairs, scores_by_code
from qualcode.autocode.run import autocode
from qualcode.cli import cli
from tests.autocode.helpers import DELIB, LEGIT, gold_csv, make_study


def _sklearn(gold: set, pred: set, average: str) -> tuple[float, float, float]:
    passages = sorted({p for p, _ in gold | pred})
    codes = sorted({c for _, c in gold | pred})  # every code in gold ∪ predicted
    mlb = MultiLabelBinarizer(classes=codes)
    y_true = mlb.fit_transform([{c for p2, c in gold if p2 == p} for p in passages])
    y_pred = mlb.transform([{c for p2, c in pred if p2 == p} for p in passages])
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)
    return p, r, f


def test_averages_equal_scikit_learns_with_codes_only_in_gold_or_only_predicted():
    rng = random.Random(3)
    codes = ["a", "b/x", "b/y", "c", "gold_only", "pred_only"]
    gold = {(p, c) for p in range(60) for c in codes[:4] if rng.random() < 0.3} | {(1, "gold_only"), (7, "gold_only")}
    pred = {(p, c) for p in range(60) for c in codes[:4] if rng.random() < 0.3} | {(2, "pred_only")}
    pred |= set(rng.sample(sorted(gold), 15))  # some agreement
    ours = scores_by_code(gold, pred)
    for average in ("macro", "micro"):
        expected = _sklearn(gold, pred, average)
        got = tuple(ours[average][k] for k in ("precision", "recall", "f1"))
        assert got == pytest.approx(expected, abs=1e-12)
    # the macro F1 is no longer above both macro precision and macro recall by leaving codes out
    assert ours["macro"]["f1"] <= max(ours["macro"]["precision"], ours["macro"]["recall"])


def test_macro_of_nothing_is_undefined():
    assert macro_average([]) == {"precision": None, "recall": None, "f1": None}


def test_evaluate_macro_row_counts_a_missed_code_as_zero(tmp_path, runner):
    project = make_study(tmp_path, documents=2)
    autocode(project, project.codebook())
    gold = gold_csv(project, tmp_path / "gold.csv", [1, 2])
    result = runner.invoke(cli, ["--project", str(project.root), "evaluate", "--gold", str(gold), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {(r["level"], r["code"]): r for r in json.loads(result.output)}
    assert rows[("code", LEGIT)]["predicted"] == 0 and rows[("code", LEGIT)]["f1"] == 0.0  # no rule for it
    assert rows[("code", DELIB)]["f1"] > 0
    gold_pairs, docs = load_gold(project.store, gold)
    pred = predicted_pairs(project.store, docs, ("rule",), ())
    expected = _sklearn(gold_pairs, pred, "macro")
    macro = rows[("macro", "all codes")]
    assert (macro["precision"], macro["recall"], macro["f1"]) == tuple(round(x, 3) for x in expected)
    project.close()

