"""Agreement counts on the units its coefficients use; at the char unit no exclusive-group rows
pretend to be character figures, and a document seen by two of three coders is compared
(issue 17). Figures recomputed from the store's rows with scikit-learn, ``krippendorff`` and
the definition of pairwise percent agreement."""
from __future__ import annotations

import json

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from sqlalchemy import select

from qualcode.cli import cli
from qualcode.store import schema as t
from tests.agreement.test_compare import L, W, Z, coded  # noqa: F401  (the fixture)


def _json(runner, project, *args):
    result = runner.invoke(cli, ["--project", str(project.root), "agreement", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _store(project):
    """Passages (doc, seq, start, end) and accepted participation codings per coder, from SQL."""
    p, k = t.passages, t.codings
    with project.store.read() as conn:
        passages = conn.execute(select(p.c.document_id, p.c.seq, p.c.start, p.c.end)
                                .order_by(p.c.document_id, p.c.seq)).all()
        rows = conn.execute(select(k.c.coder, k.c.document_id, k.c.start, k.c.end).where(
            k.c.status == "accepted", k.c.code == "participation")).all()
    spans: dict[str, list[tuple[int, int, int]]] = {}
    for coder, doc, a, b in rows:
        spans.setdefault(coder, []).append((doc, a, b))
    return passages, spans


def test_coded_counts_only_the_units_both_coders_saw(coded, runner):  # noqa: F811
    out = _json(runner, coded, "--coders", f"{W},{Z}", "--roles", "all")["codes"]["participation"]
    passages, spans = _store(coded)
    seen = {W: {1, 2, 3}, Z: {1, 2}}  # 张 never saw document 3
    both = [(d, s, a, b) for d, s, a, b in passages if d in seen[W] & seen[Z]]
    vectors = {c: [int(any(d == sd and sa < b and se > a for sd, sa, se in spans.get(c, ()))) for d, _, a, b in both]
               for c in (W, Z)}
    assert out["units"] == len(both) == 8
    # 王 coded 3:2 too, but 张 never saw document 3: it is in no coefficient, so not in 'coded'
    assert out["coded"] == {W: sum(vectors[W]), Z: sum(vectors[Z])} == {W: 3, Z: 2}
    assert out["kappa"] == pytest.approx(cohen_kappa_score(vectors[W], vectors[Z]), abs=1e-4)
    assert out["alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=np.array([vectors[W], vectors[Z]], dtype=float),
                           level_of_measurement="nominal"), abs=1e-4)


def test_char_unit_keeps_a_document_seen_by_two_of_three_coders(coded, runner):  # noqa: F811
    out = _json(runner, coded, "--coders", f"{W},{L},{Z}", "--unit", "char", "--roles", "all", "--headers")
    part = out["codes"]["participation"]
    assert sorted(out["documents_used"]) == ["访谈1", "访谈2", "访谈3"]  # 访谈3: seen by 王 and 李 only
    assert sorted(out["alpha_documents"]) == ["访谈1", "访谈2"]  # uα needs every coder on one continuum
    passages, spans = _store(coded)
    seen = {W: {1, 2, 3}, L: {1, 2, 3}, Z: {1, 2}}
    # per character: 1 coded, 0 not, NaN for a coder who did not see the document
    columns = []
    for d, _, a, b in passages:
        for x in range(a, b):
            columns.append([np.nan if d not in seen[c] else
                            float(any(d == sd and sa <= x < se for sd, sa, se in spans.get(c, ())))
                            for c in (W, L, Z)])
    chars = np.array(columns).T
    agree = total = 0.0
    for col in chars.T:  # pairwise percent agreement by its definition
        values = col[~np.isnan(col)]
        pairs = [(i, j) for i in range(len(values)) for j in range(len(values)) if i != j]
        agree += sum(values[i] == values[j] for i, j in pairs) / (len(values) - 1)
        total += len(values)
    assert part["units"] == chars.shape[1]
    assert part["percent"] == pytest.approx(agree / total, abs=1e-4)
    assert part["coded"] == {c: int(np.nansum(chars[i])) for i, c in enumerate((W, L, Z))}
    # the same document with two coders: kappa over its characters, as scikit-learn computes it
    two = _json(runner, coded, "--coders", f"{W},{L}", "--unit", "char", "--roles", "all", "--headers")
    assert two["codes"]["participation"]["kappa"] == pytest.approx(
        cohen_kappa_score(chars[0], chars[1]), abs=1e-4)
    assert "alpha_documents" in two and len(two["alpha_documents"]) == 3


def test_char_unit_has_no_group_rows_and_says_why(coded, runner):  # noqa: F811
    out = _json(runner, coded, "--coders", f"{W},{L}", "--unit", "char")
    assert out["groups"] == {} and "evaluation" in out["groups_note"]
    passage = _json(runner, coded, "--coders", f"{W},{L}")
    assert set(passage["groups"]) == {"evaluation"} and "groups_note" not in passage
    table = runner.invoke(cli, ["--project", str(coded.root), "agreement", "--coders", f"{W},{L},{Z}", "--unit",
                                "char"]).output
    assert "Exclusive groups (evaluation) are compared per passage" in table
    assert "uα needs every coder on one continuum" in table and "访谈3" in table
