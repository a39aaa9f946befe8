"""Every count of the drill-down tables opens that many codings / passages (the library's reports)."""
from __future__ import annotations

from qualcode import annotate
from qualcode.reports import Selection, load
from qualcode.web import drill


def test_each_matrix_cell_opens_the_codings_it_counts(corpus_project):
    annotate.decide(corpus_project, "accepted", code="embedding", coder="李")
    annotate.decide(corpus_project, "accepted", code="governance", coder="李")
    q = drill.Query(by="case")
    t = drill.tables(corpus_project, q)
    checked = 0
    for row in t["cases"]:
        for group in t["groups"]:
            if row[group]:
                got = drill.passages_behind(corpus_project, q, row["code"], group=group)
                assert got["codings"] == row[group], (row["code"], group)
                assert all(p["case"] == group for p in got["passages"])
                checked += 1
    assert checked >= 6
    for row in t["frequencies"]:
        if row["passages"]:
            got = drill.passages_behind(corpus_project, q, row["code"])
            assert (got["codings"], len(got["passages"])) == (row["codings"], row["passages"]), row["code"]


def test_a_cooccurrence_cell_opens_the_passages_holding_both_codes(corpus_project):
    q = drill.Query(proposed=True, level=0)
    t = drill.tables(corpus_project, q)
    pairs = [(r["code"], c, r[c]) for r in t["cooccurrence"] for c in t["co_codes"] if c != r["code"] and r[c]]
    assert pairs
    data = load(corpus_project, Selection(proposed=True))
    k = data.expanded(level=0)
    for a, b, n in pairs:
        got = drill.passages_behind(corpus_project, q, a, other=b)
        assert len(got["passages"]) == n, (a, b)
        for p in got["passages"]:  # each listed passage holds a coding of each stage
            here = k[(k["doc_id"] == p["doc_id"]) & (k["start"] < p["end"]) & (k["end"] > p["start"])]
            assert {a, b} <= set(here["code"]), p["passage"]


def test_highlight_marks_the_coded_stretches_in_code_points():
    assert drill.highlight("𠮷野家很好吃", 10, [(11, 13)]) == [("𠮷", False), ("野家", True), ("很好吃", False)]
