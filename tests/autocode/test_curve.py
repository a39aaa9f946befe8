"""The learning curve: rules, model and combined scorer on the passages not yet reviewed."""
from __future__ import annotations

import pytest

from qualcode.autocode.curve import CURVE_COLUMNS, learning_curve
from qualcode.cli import cli
from tests.autocode.helpers import gold_csv, make_study


@pytest.fixture(scope="module")
def curve_study(tmp_path_factory):
    base = tmp_path_factory.mktemp("curve")
    project = make_study(base, documents=4, turns=10)
    gold = gold_csv(project, base / "gold.csv", [1, 2, 3, 4])
    yield project, gold
    project.close()


def test_scores_the_unreviewed_passages_after_each_checkpoint_that_fits(curve_study):
    project, gold = curve_study
    report = learning_curve(project, gold, checkpoints=(25, 50, 100, 200), step=10)
    assert report.passages == 80  # 4 interviews × 10 questions and 10 answers
    assert [r["decisions"] for r in report.rows] == [0, 25, 50]  # 100 and 200 do not fit
    assert [r["unreviewed"] for r in report.rows] == [80, 55, 30]
    first = report.rows[0]
    assert first["model_micro_f1"] == 0.0  # nothing to learn from before the first decision
    # before any decision the combination proposes what the rules propose (nothing the codebook alone makes
    # probable enough); once legitimacy (no rule) has been coded by hand it proposes it where the rules cannot
    assert first["combined_micro_f1"] == first["rules_micro_f1"]
    assert report.rows[1]["combined_micro_f1"] > report.rows[1]["rules_micro_f1"]
    assert report.rows[-1]["model_micro_f1"] > 0  # the model learns from the reviewed passages
    assert learning_curve(project, gold, checkpoints=(25, 50), step=10).rows == report.rows  # deterministic


def test_cli_table(curve_study, runner):
    project, gold = curve_study
    result = runner.invoke(cli, ["--project", str(project.root), "evaluate", "--learning-curve", "--gold", str(gold),
                                 "--step", "25", "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == ",".join(CURVE_COLUMNS)
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "25", "50"]
    assert "80 passages in 4 documents (访谈1, 访谈2, 访谈3, 访谈4)" in result.stderr


def test_warns_when_the_rules_were_tuned_on_the_gold_documents(curve_study, runner, tmp_path):
    project, gold = curve_study
    config = project.root / "qualcode.toml"
    before = config.read_text(encoding="utf-8")
    config.write_text(before + '\n[autocode]\ntuned_on = ["访谈2"]\n', encoding="utf-8")
    try:
        result = runner.invoke(cli, ["--project", str(project.root), "evaluate", "--learning-curve", "--gold", str(gold),
                                     "--step", "25"])
    finally:
        config.write_text(before, encoding="utf-8")
    assert result.exit_code == 0, result.output
    assert "Warning: the rules were tuned on 访谈2" in result.stderr
