"""Exemplar quotes: the k best coded spans per code, trimmed, with their source and context."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from qualcode.errors import not_found
from qualcode.reports.selection import ROLE_KEY, ReportData
from qualcode.store import schema as t

QUOTE_COLUMNS = ["code", "label", "rank", "document", "case", "role", "passage", "quote", "context", "status",
                 "coder"]
INTERVIEWEE_KEY = "interviewee"  # document attribute with the interviewee's anonymised code
IDEAL_MIN, IDEAL_MAX = 20, 150  # quote lengths (characters) that read well in a table
_SENTENCE_END = re.compile(r"[。！？!?；;…]+[”’」』）)]*")


def rank_candidates(data: ReportData, k_frame=None):
    """Codings ordered best exemplar first (deterministic).

    Order: pinned exemplars (``qualcode quote pin``) first; reviewed (accepted/manual) before
    proposed; interviewee turns first; passages
    carrying fewer other codes (purer examples); higher rule score; length closest to the
    20–150 character band; then document and offset. Adds ``_doc_rank``: the position of
    the coding among its code's codings in the same document, so that taking rows by
    (``_doc_rank``, order) spreads quotes over documents before repeating one.
    """
    import numpy as np

    k = data.codings if k_frame is None else k_frame
    p = data.coded_passages()
    others = data.codings[data.codings["pid"] >= 0].groupby("pid")["code"].nunique()
    length = (k["end"] - k["start"]).to_numpy()
    penalty = np.where(length < IDEAL_MIN, IDEAL_MIN - length, np.where(length > IDEAL_MAX, length - IDEAL_MAX, 0))
    docs = data.documents.set_index("doc_id")["document"]
    pinned = k["pinned"] if "pinned" in k.columns else 0
    ranked = k.assign(
        _pinned=1 - pinned,
        _reviewed=(k["status"] != "accepted").astype(int),
        _speaker=(k["pid"].map(p["speaker_role"]).fillna("") != "interviewee").astype(int),
        _others=k["pid"].map(others).fillna(1).astype(int),
        _score=-k["score"].astype(float),
        _penalty=penalty,
        _docname=k["doc_id"].map(docs),
    ).sort_values(["code", "_pinned", "_reviewed", "_speaker", "_others", "_score", "_penalty", "_docname", "start", "end", "id"],
                  kind="stable")
    ranked["_doc_rank"] = ranked.groupby(["code", "doc_id"]).cumcount()
    return ranked


def top_per(ranked, keys: list[str], k: int):
    """The best ``k`` rows per ``keys`` group, one per document before any document repeats."""
    ranked = ranked.assign(_pos=range(len(ranked)))
    ranked = ranked.sort_values(keys + ["_doc_rank", "_pos"], kind="stable")
    return ranked.groupby(keys, sort=False).head(k).sort_values(keys + ["_doc_rank", "_pos"], kind="stable")


def trim(text: str, start: int, end: int, anchor: int | None = None, max_chars: int = 120) -> tuple[int, int]:
    """A sub-span of [start, end) of at most ``max_chars`` characters, made of whole sentences
    around ``anchor`` (the first evidence term) when they fit, else a window centred on it."""
    if end - start <= max_chars:
        return start, end
    anchor = start if anchor is None or not (start <= anchor < end) else anchor
    bounds = [start] + [m.end() for m in _SENTENCE_END.finditer(text, start, end) if m.end() < end] + [end]
    sentences = list(zip(bounds[:-1], bounds[1:]))
    idx = next(i for i, (s, e) in enumerate(sentences) if s <= anchor < e)
    lo, hi = sentences[idx]
    if hi - lo > max_chars:
        lo = max(start, min(anchor - max_chars // 3, end - max_chars))
        return lo, lo + max_chars
    i, j = idx, idx
    while True:
        grew = False
        if j + 1 < len(sentences) and sentences[j + 1][1] - lo <= max_chars:
            j += 1
            hi = sentences[j][1]
            grew = True
        if i > 0 and hi - sentences[i - 1][0] <= max_chars:
            i -= 1
            lo = sentences[i][0]
            grew = True
        if not grew:
            return lo, hi


def _flat(s: str) -> str:
    return re.sub(r"\s*\n\s*", " / ", s).strip()


def excerpt(text: str, start: int, end: int, anchor: int | None, max_chars: int, context: int) -> tuple[str, str]:
    """(quote, context line) for a coded span: trimmed quote with …, and …before【quote】after…"""
    lo, hi = trim(text, start, end, anchor, max_chars)
    quote = ("……" if lo > start else "") + _flat(text[lo:hi]) + ("……" if hi < end else "")
    before = _flat(text[max(0, lo - context):lo])
    after = _flat(text[hi:hi + context])
    line = ("…" if lo - context > 0 else "") + before + "【" + _flat(text[lo:hi]) + "】" + after + (
        "…" if hi + context < len(text) else "")
    return quote, line


def _anchors(data: ReportData, ids) -> dict[int, int]:
    """First evidence term offset per coding id (one query, only for the ids asked for)."""

    ids = [int(i) for i in ids]
    out: dict[int, int] = {}
    if not ids or data.store is None:
        return out
    with data.store.read() as conn:
        for cid, evidence in conn.execute(select(t.codings.c.id, t.codings.c.evidence).where(t.codings.c.id.in_(ids))):
            try:
                terms = json.loads(evidence or "{}").get("terms") or []
                starts = [int(term[1]) for term in terms if isinstance(term, (list, tuple)) and len(term) >= 2]
            except (ValueError, AttributeError, TypeError):
                starts = []
            if starts:
                out[cid] = min(starts)
    return out


def describe_rows(data: ReportData, rows, max_chars: int = 120, context: int = 30) -> list[dict]:
    """Quote text, context, document, case and interviewee code for chosen coding rows (see
    :func:`interviewee_code`)."""
    texts = data.texts(rows["doc_id"].unique())
    anchors = _anchors(data, rows["id"])
    docs = data.documents.set_index("doc_id")
    seqs = data.coded_passages()["seq"]
    out = []
    for r in rows.itertuples(index=False):
        quote, line = excerpt(texts[r.doc_id], int(r.start), int(r.end), anchors.get(int(r.id)), max_chars, context)
        seq = seqs.get(r.pid)
        out.append(dict(
            quote=quote, context=line, document=docs.at[r.doc_id, "document"], case=docs.at[r.doc_id, "case"],
            role=interviewee_code(docs, r.doc_id),
            passage=f"{r.doc_id}:{seq}" if seq is not None else "", status=r.status, coder=r.coder,
        ))
    return out


def interviewee_code(docs, doc_id) -> str:
    """Who said it, as the reports name them: the document attribute ``interviewee`` (an
    anonymised code such as N-A-01, from the manifest or ``docs set``), else ``role``
    (社区党组织书记A); never the file name (which may carry a real name). ``docs`` is
    ``data.documents`` indexed by doc_id."""
    for key in (INTERVIEWEE_KEY, ROLE_KEY):
        if key in docs.columns:
            value = docs.at[doc_id, key]
            if isinstance(value, str) and value.strip():
                return value.strip()
    return ""


def quotes(data: ReportData, k: int = 3, rollup: bool = False, max_chars: int = 120, context: int = 30,
           codes: list[str] | None = None):
    """The ``k`` best exemplar quotes per code (see :func:`rank_candidates` for "best").

    ``rollup``: a parent code also draws on its sub-codes' codings. ``codes``: only these
    codes (and, with ``rollup``, their sub-codes' codings). Rows follow codebook order.
    """
    import pandas as pd

    frame = data.expanded(rollup=rollup)
    if codes:
        known = data.codes["code"].tolist()
        for code in codes:
            if code not in set(known):
                raise not_found("code", code, known)
        frame = frame[frame["code"].isin(codes)]
    ranked = rank_candidates(data, frame)
    chosen = top_per(ranked, ["code"], k)
    order = data.codes.set_index("code")["order"]
    chosen = chosen.assign(_order=chosen["code"].map(order)).sort_values(["_order", "_doc_rank", "_pos"],
                                                                        kind="stable")
    chosen["rank"] = chosen.groupby("code").cumcount() + 1
    described = describe_rows(data, chosen, max_chars=max_chars, context=context)
    labels = data.codes.set_index("code")["label"]
    rows = [dict(code=c, label=labels.get(c, c), rank=int(rk), **d)
            for c, rk, d in zip(chosen["code"], chosen["rank"], described)]
    return pd.DataFrame(rows, columns=QUOTE_COLUMNS)
