"""Reports on the small hand-checkable project (see conftest.py for its codings)."""
from __future__ import annotations

from importlib import import_module

import pytest

from qualcode.errors import NotFound
from qualcode.reports import (
    Selection,
    case_matrix,
    codebook_table,
    cooccurrence,
    cooccurrence_matrix,
    framework_matrix,
    frequencies,
    frequencies_by,
    load,
    quotes,
    saturation,
    stage_profile,
)


def row(df, **match):
    sub = df
    for k, v in match.items():
        sub = sub[sub[k] == v]
    assert len(sub) == 1, match
    return sub.iloc[0]


def test_frequencies_roll_up_and_count_distinct_units(small):
    f = frequencies(load(small))
    assert list(f["code"][:3]) == ["construction", "construction/hub", "construction/network"]  # codebook order
    net = row(f, code="construction/network")
    assert (net.codings, net.passages, net.documents, net.cases) == (3, 3, 3, 2)
    assert net.passage_share == pytest.approx(3 / 7, abs=1e-4)
    emb = row(f, code="embedding")  # two sub-codes in two documents of one case
    assert (emb.codings, emb.passages, emb.documents, emb.cases) == (2, 2, 2, 1)
    hub = row(f, code="construction/hub")  # a code that never occurs
    assert (hub.codings, hub.passages, hub.documents, hub.cases, hub.passage_share) == (0, 0, 0, 0, 0)


def test_selection_defaults_to_accepted_and_manual(small):
    assert row(frequencies(load(small)), code="governance/legitimacy").codings == 0  # proposed: left out
    with_proposed = frequencies(load(small, Selection(proposed=True)))
    assert row(with_proposed, code="governance/legitimacy").codings == 1
    assert row(with_proposed, code="governance/rules").codings == 0  # rejected: never counted
    assert row(with_proposed, code="governance").codings == 2


def test_selection_filters(small):
    only = frequencies(load(small, Selection(interviewee_only=True)))
    assert row(only, code="construction/network").passage_share == pytest.approx(3 / 5)
    west = frequencies(load(small, Selection(cases=("西街道",))))
    assert row(west, code="construction/network").codings == 1 and row(west, code="embedding").codings == 0
    secretaries = load(small, Selection(roles=("社区党组织书记",)))  # role type matches 社区党组织书记A
    assert sorted(secretaries.documents["document"]) == ["乙-书记A", "甲-书记A"]
    with pytest.raises(NotFound, match="no coder 'nobody'"):  # a mistyped filter is an error, not zeros
        load(small, Selection(coders=("nobody",)))
    assert "interviewee turns only" in Selection(interviewee_only=True).describe()


def test_frequencies_by_role_type(small):
    f = frequencies_by(load(small), "role")
    assert list(f.columns) == ["code", "label", "互助站站长", "社区党组织书记", "all"]
    net = row(f, code="construction/network")
    assert (net["互助站站长"], net["社区党组织书记"], net["all"]) == (1, 2, 3)
    assert f.iloc[-1]["label"] == "passages in scope" and f.iloc[-1]["all"] == 7


def test_case_matrix_values_and_a_case_with_one_interview(small):
    data = load(small)
    counts = case_matrix(data)
    net = row(counts, code="construction/network")
    assert (net["东街道"], net["西街道"], net["total"]) == (2, 1, 3)
    share = row(case_matrix(data, value="share"), code="construction/network")
    assert share["东街道"] == pytest.approx(2 / 6, abs=1e-4) and share["西街道"] == 1.0
    presence = case_matrix(data, value="presence")
    assert row(presence, code="embedding")[["东街道", "西街道"]].tolist() == [1, 0]
    by_role = case_matrix(data, by="role_code")
    assert "社区党组织书记A" in by_role.columns


def test_stage_profile_and_framework_matrix(small):
    data = load(small)
    profile = stage_profile(data)
    assert row(profile, group="西街道")["construction"] == 1.0
    assert row(profile, group="东街道")["embedding"] == pytest.approx(2 / 6, abs=1e-4)
    fm = framework_matrix(data)
    assert list(fm.columns) == ["case", "组织构建", "组织嵌入", "组织动员", "社区善治"]
    west = row(fm, case="西街道")
    assert west["组织构建"] == "n=1｜「答：网格党支部很有用。」（社区党组织书记A）"
    assert west["组织嵌入"] == "—"


def test_cooccurrence_units(small):
    data = load(small)
    pairs = cooccurrence(data)  # N = codable passages: the 2 interviewer turns of doc 1 are not units
    assert len(pairs) == 2 and set(pairs["units"]) == {5}
    assert pairs.attrs["units"] == 5 and pairs.attrs["family"] == 10  # 5 codes occur: 10 pairs in the BH family
    p = row(pairs, code_a="construction/network", code_b="embedding/retirees")
    assert (p.n_a, p.n_b, p.n_ab) == (3, 1, 1)
    assert p.jaccard == pytest.approx(1 / 3, abs=1e-4) and p.lift == pytest.approx(5 / 3, abs=1e-4)
    every = cooccurrence(data, all_units=True)  # the old N: every passage
    assert set(every["units"]) == {7} and row(every, code_a="construction/network",
                                               code_b="embedding/retirees").lift == pytest.approx(7 / 3, abs=1e-4)
    doc = cooccurrence(data, unit="document")
    assert len(doc) == 6 and set(doc["units"]) == {3}
    near = cooccurrence(data, unit="proximity", window=1)  # windows over codable passages: one per document
    p = row(near, code_a="construction/network", code_b="embedding/retirees")
    assert (p.units, p.n_a, p.n_b, p.n_ab) == (3, 3, 1, 1)
    near = cooccurrence(data, unit="proximity", window=1, all_units=True)  # 3 in doc 1, 1 each in docs 2 and 3
    p = row(near, code_a="construction/network", code_b="embedding/retirees")
    assert (p.units, p.n_a, p.n_b, p.n_ab) == (5, 4, 2, 2)
    # sentence level: the whole-passage network codings are not copied into the passage's two
    # sentences; only the span coding (退休党员) counts, so no pair is left
    sent = cooccurrence_matrix(data, unit="sentence")
    assert sent["code"].tolist() == ["embedding/retirees"] and sent["embedding/retirees"].tolist() == [1]
    stages = cooccurrence(data, level=0)
    assert sorted(zip(stages["code_a"], stages["code_b"])) == [("construction", "embedding"),
                                                               ("construction", "mobilization")]
    matrix = cooccurrence_matrix(data)
    assert matrix.loc[matrix["code"] == "construction/network", "construction/network"].item() == 3


def test_saturation_orders_ties_by_name_and_reports_per_case(small):
    curve, summary = saturation(load(small), base=1, run=1, threshold=0)
    overall = curve[curve["scope"] == "overall"]
    # 乙-书记A and 甲-站长B share 2023-02-01: ties are broken by document name
    assert list(overall["document"]) == ["甲-书记A", "乙-书记A", "甲-站长B"]
    assert list(overall["new"]) == [3, 0, 2] and list(overall["cumulative"]) == [3, 3, 5]
    s = row(summary, scope="overall")
    assert s.guest == "1+1" and s.sentence == "Saturation was reached at interview 1 of 3 (base 1, run 1, threshold 0%; interviews in date order)."
    assert s.chao2_bc == pytest.approx(9.0)  # S 5, Q1 4, Q2 0, T 3
    west = row(summary, scope="西街道")  # a case with one interview
    assert (west.interviews, west.guest) == (1, "not assessable")
    by_name, _ = saturation(load(small), order="name")
    assert list(by_name[by_name["scope"] == "overall"]["document"]) == ["乙-书记A", "甲-书记A", "甲-站长B"]


def test_saturation_counts_themes_at_a_level(small):
    curve, _ = saturation(load(small), level=0)
    assert list(curve[curve["scope"] == "overall"]["cumulative"]) == [3, 3, 4]


def test_quotes_are_trimmed_with_source_and_role(small):
    q = quotes(load(small), k=2)
    retirees = row(q, code="embedding/retirees")
    assert (retirees.quote, retirees.role, retirees.passage, retirees.case) == ("退休党员", "社区党组织书记A", "1:2", "东街道")
    assert "网格党支部。【退休党员】当楼组长。" in retirees.context
    net = q[q["code"] == "construction/network"]
    assert list(net["rank"]) == [1, 2] and net["document"].nunique() == 2  # spread over documents


def test_long_quotes_are_cut_to_whole_sentences_around_the_evidence():
    from qualcode.reports.quotes import excerpt

    text = "第一句话很长很长。" * 5 + "关键的网格党支部在这里。" + "后面的句子。" * 5
    anchor = text.index("网格")
    quote, context = excerpt(text, 0, len(text), anchor, max_chars=30, context=5)
    assert "网格党支部" in quote and quote.startswith("……") and quote.endswith("……")
    assert len(quote.strip("…")) <= 30


def test_codebook_table(small):
    cb = codebook_table(load(small))
    c = row(cb, code="construction")
    assert c.definition == "党组织建立组织网络。"
    assert c.criteria == "纳入: 描述党组织的设置 / 排除: 党员个人任职"
    assert (c.codings, c.passages, c.documents) == (3, 3, 3)
    # the example is said in this study's interviews (a sub-code's coding: construction has none of its
    # own), with the interviewee's code, never the codebook's invented example
    assert c.example == "「答：网格党支部很有用。」" and c.example_by == "社区党组织书记A"
    assert "大工委" not in "".join(cb["example"])
    assert row(cb, code="construction/hub").example == ""  # never coded: no quote


def test_codebook_examples_only_when_asked_and_labelled(small):
    data = load(small)
    data.codings, data._expanded = data.codings.iloc[:0], {}  # nothing coded: no quote of the study's own
    assert "大工委" not in "".join(codebook_table(data)["example"])
    c = row(codebook_table(data, codebook_examples=True), code="construction")
    assert (c.example, c.example_by) == ("「街道有大工委。」", "codebook example")


def test_passage_cooccurrence_without_reading_passages_equals_the_overlap_count(small, monkeypatch):
    """When every coding lies in its own passage, the passage ids are the units (fast path)."""
    pairs = import_module("qualcode.reports.cooccurrence")  # the module; qualcode.reports.cooccurrence is the function
    fast = cooccurrence(load(small))
    monkeypatch.setattr(pairs, "_inside_own_passages", lambda k: False)
    slow = cooccurrence(load(small))
    assert len(fast) and fast.equals(slow)


def test_reports_without_every_passage_equal_those_over_every_passage(small):
    """Co-occurrence, quotes and the codebook read only the coded passages and counts made in
    SQL unless the passages are read already; a coded interviewer turn and a coded header
    count as codable units either way."""
    from sqlalchemy import insert, select, update

    from qualcode.store import schema as t

    k, p = t.codings, t.passages
    with small.store.transaction() as conn:
        for seq in (1, 3):  # doc 1: p1 an interviewer turn, p3 becomes a header (no speaker label)
            pid, start, end = conn.execute(select(p.c.id, p.c.start, p.c.end)
                                           .where(p.c.document_id == 1, p.c.seq == seq)).one()
            for code in ("construction/network", "governance/responsiveness"):
                conn.execute(insert(k).values(
                    document_id=1, passage_id=pid, start=start, end=end, code=code, coder="李老师", origin="manual",
                    status="accepted", unit="passage", created_at="2026-01-02", updated_at="2026-01-02"))
        conn.execute(update(p).where(p.c.document_id == 1, p.c.seq == 3).values(speaker_id=None))
    lazy, full = load(small), load(small)
    assert len(full.passages) == 7  # read: the reports below take the way over every passage
    pairs = cooccurrence(lazy)
    assert pairs.equals(cooccurrence(full))
    assert set(pairs["units"]) == {7}  # 5 interviewee turns + the coded interviewer turn + the coded header
    assert quotes(lazy, k=5).equals(quotes(full, k=5))
    assert codebook_table(lazy).equals(codebook_table(full))
    assert not lazy.passages_read


def test_pair_counts_equal_the_incidence_matrix_product():
    import numpy as np

    pairs = import_module("qualcode.reports.cooccurrence")  # the module; qualcode.reports.cooccurrence is the function
    rng = np.random.default_rng(7)
    for n_units, n_codes, n_ones in [(1, 1, 1), (30, 5, 80), (500, 21, 3000)]:
        rows, cols = rng.integers(0, n_units, n_ones), rng.integers(0, n_codes, n_ones)
        X = np.zeros((n_units, n_codes), dtype=np.int64)
        X[rows, cols] = 1  # repeats count once
        assert (pairs.pair_counts(rows, cols, n_codes) == X.T @ X).all()
