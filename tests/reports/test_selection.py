"""Loading report data: the frames read in chunks are the frames of all rows at once."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import insert, select

from qualcode.reports import Selection, load, selection
from qualcode.store import schema as t


def _loaded(project) -> tuple:
    data = load(project, Selection(proposed=True))
    return data.documents, data.codings, data.absences, data.passages, data.sentences()


def test_chunked_reading_gives_the_same_frames_as_reading_everything_at_once(small, monkeypatch):
    whole = _loaded(small)
    monkeypatch.setattr(selection, "FETCH", 2)  # many chunks, and rows split between them
    for one, chunked in zip(whole, _loaded(small)):
        pd.testing.assert_frame_equal(one, chunked)
    assert len(whole[1]) > 2 and len(whole[3]) > 2  # the chunks did split these frames


def test_an_integer_column_with_a_null_in_a_later_chunk_reads_as_it_would_at_once(small, monkeypatch):
    with small.store.transaction() as conn:
        doc = conn.execute(select(t.documents.c.id)).scalars().first()
        # a span coding without a passage: its passage id is NULL, far down the id order
        conn.execute(insert(t.codings).values(document_id=doc, passage_id=None, start=0, end=2, code="embedding",
                                              coder="root", origin="manual", status="accepted", unit="span",
                                              created_at="2026-01-01", updated_at="2026-01-01"))
    query = select(t.codings.c.id, t.codings.c.passage_id, t.codings.c.code).order_by(t.codings.c.id)
    columns = ["id", "pid", "code"]
    with small.store.read() as conn:
        whole = selection.frame(conn, query, columns)
        monkeypatch.setattr(selection, "FETCH", 2)
        chunked = selection.frame(conn, query, columns)
    assert whole["pid"].isna().sum() == 1 and whole["id"].dtype == "int64"
    pd.testing.assert_frame_equal(whole, chunked)


def test_equal_strings_are_held_once(small):
    with small.store.read() as conn:
        codings = selection.frame(conn, select(t.codings.c.status), ["status"])
    statuses = codings["status"].tolist()
    assert len(statuses) > len(set(statuses))
    assert len({id(s) for s in statuses}) == len(set(statuses))
