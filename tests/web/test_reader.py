"""The reader's segments: overlapping codings on their own lanes, offsets in code points."""
from __future__ import annotations

from qualcode import annotate
from qualcode.ingest import pipeline
from qualcode.web import reader
from tests.helpers import write_text


def test_overlapping_codings_are_cut_into_segments_with_stacked_bars(project, tmp_path):
    write_text(tmp_path / "in" / "a.txt", "问：互助站怎么来的？\n答：𠮷祥社区的退休党员😀成立了互助站，大家推选站长。\n")
    assert pipeline.import_paths(project, [tmp_path / "in"], pipeline.ImportOptions(case="N街道")).ok
    doc = "1"
    passages = reader.reader_view(project, 1, reader.Filters(statuses=("accepted",)))["passages"]
    answer = passages[1]
    body = "".join(s.text for s in answer.segments)
    lo = answer.start
    s1 = lo + body.index("退休党员")
    a = annotate.add_coding(project, "embedding/retirees", doc=doc, start=s1, end=s1 + 4, coder="王")
    b = annotate.add_coding(project, "construction/hub", doc=doc, start=s1 + 2, end=body.index("，大家") + lo, coder="王")
    view = reader.reader_view(project, 1, reader.Filters(statuses=("accepted",)))["passages"][1]
    assert "".join(s.text for s in view.segments) == body  # nothing lost or repeated
    by_start = {s.start: s for s in view.segments}
    assert by_start[s1].text == "退休" and by_start[s1].ids == [a["id"]]
    assert by_start[s1 + 2].text == "党员" and sorted(by_start[s1 + 2].ids) == sorted([a["id"], b["id"]])
    assert by_start[s1 + 2].style.count("0 0 #") == 2 and view.lanes == 2  # two bars where they overlap
    # offsets are code points: 𠮷 and 😀 are one character each, as in the store
    assert by_start[s1].start - lo == body.index("退休")
    assert [c.id for c in view.chips] == [a["id"], b["id"]]


def test_filters_keep_codes_with_their_sub_codes_statuses_and_coders():
    f = reader.Filters.parse("embedding", ["accepted", "bogus"], "王")
    row = {"code": "embedding/retirees", "status": "accepted", "coder": "王"}
    assert f.statuses == ("accepted",) and f.keep(row)
    assert not f.keep({**row, "code": "embeddingX"}) and not f.keep({**row, "coder": "李"})
    assert reader.Filters.parse(None, [], None).statuses == reader.DEFAULT_STATUSES


def test_codes_without_a_colour_take_their_parents(project):
    colors = reader.code_colors(project.codebook())
    codebook = project.codebook()
    for c in codebook.codes:
        if c.color:
            assert colors[c.path] == c.color
        elif c.parent and codebook.get(c.parent).color:
            assert colors[c.path] == colors[c.parent]
