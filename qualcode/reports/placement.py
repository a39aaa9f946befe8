"""Where a coding is counted, one rule for every report: a coding belongs to every unit its
span overlaps (a passage-crossing span counts in each passage it touches); a zero-length
coding counts as one character; a coding that overlaps no passage's text (e.g. one on a
speaker label) belongs to the passage it was made in.

Also the *codable units* co-occurrence counts against by default: the passages a coding
can be made in, i.e. every passage but interviewer turns and headers (a header is a
passage without a speaker in a document that has labelled turns: titles, transcription
notes, section headings). A passage that carries a coding of the selection is codable
whatever its speaker, so no coding is ever counted outside N.
"""
from __future__ import annotations

from qualcode.reports.selection import ReportData
from qualcode.vocabulary import Role

_STRIDE = 1 << 32  # document id × stride + offset: one sorted axis over all documents


def overlap_pairs(k_doc, k_start, k_end, i_doc, i_start, i_end):
    """(coding index, interval index) for every coding that overlaps an interval.

    Intervals must be sorted by (document, start) and not overlap each other. Vectorised
    with two searchsorted calls; a zero-length coding counts as one character.
    """
    import numpy as np

    k_doc, k_start, k_end = (np.asarray(a, dtype=np.int64) for a in (k_doc, k_start, k_end))
    g_start = np.asarray(i_doc, dtype=np.int64) * _STRIDE + np.asarray(i_start, dtype=np.int64)
    g_end = np.asarray(i_doc, dtype=np.int64) * _STRIDE + np.asarray(i_end, dtype=np.int64)
    ks = k_doc * _STRIDE + k_start
    ke = k_doc * _STRIDE + np.maximum(k_end, k_start + 1)
    lo = np.searchsorted(g_end, ks, side="right")
    hi = np.searchsorted(g_start, ke, side="left")
    n = np.maximum(hi - lo, 0)
    return np.repeat(np.arange(len(ks)), n), ranges(lo, n)


def ranges(starts, lengths):
    """The ranges starts[i] .. starts[i] + lengths[i] - 1, concatenated (vectorised)."""
    import numpy as np

    return np.repeat(starts, lengths) + (np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths))


def inside_own_passages(k) -> bool:
    """Whether every coding lies inside the passage it was made in (as overlap_pairs counts a
    zero-length coding: one character); then a coding's passage is its only unit."""
    import numpy as np

    if not len(k):
        return True
    end = np.maximum(k["end"], k["start"] + 1)
    return bool(((k["pid"] >= 0) & (k["passage_start"] <= k["start"]) & (end <= k["passage_end"])).all())


def passage_rows(data: ReportData, k):
    """(row of ``k``, passage id) for every passage each coding overlaps (see the module doc)."""
    import numpy as np

    if inside_own_passages(k):
        keep = np.flatnonzero(k["pid"].to_numpy() >= 0)
        return keep, k["pid"].to_numpy()[keep]
    passages = data.passages.sort_values(["doc_id", "start"], kind="stable").reset_index(drop=True)
    ri, rows = overlap_pairs(k["doc_id"], k["start"], k["end"], passages["doc_id"], passages["start"],
                             passages["end"])
    pids = passages["pid"].to_numpy()[rows]
    covered = np.zeros(len(k), dtype=bool)
    covered[ri] = True
    own = k["pid"].to_numpy()
    known = np.isin(own, passages["pid"].to_numpy())
    extra = np.flatnonzero(~covered & known)
    return np.concatenate([ri, extra]), np.concatenate([pids, own[extra]])


def placed(data: ReportData, k):
    """``k`` (codings, possibly expanded to ancestors) with one row per passage each coding
    overlaps, ``pid`` set to that passage: what passage counts are taken over."""
    rows, pids = passage_rows(data, k)
    out = k.iloc[rows].copy()
    out["pid"] = pids
    return out.reset_index(drop=True)


def codable_passages(data: ReportData):
    """The passages in scope a coding could be counted in (see the module doc), as a frame
    like ``data.passages``."""
    p = data.passages
    labelled = set(p.loc[p["has_speaker"], "doc_id"])
    header = ~p["has_speaker"] & p["doc_id"].isin(labelled)
    keep = (p["speaker_role"] != Role.INTERVIEWER) & ~header
    _, coded = passage_rows(data, data.codings)
    keep |= p["pid"].isin(coded)
    return p[keep].reset_index(drop=True)


def expand(data: ReportData, k, level: int | None = None, rollup: bool = True):
    """Like ``data.expanded`` for any codings frame ``k`` (e.g. ``data.absences``): each row
    repeated for the codes it counts for (itself and its ancestors, or its ancestor at depth
    ``level``)."""
    import pandas as pd

    if not rollup and level is None:
        return k
    ancestors = data.ancestors(level)
    lists = k["code"].map(lambda c: ancestors.get(c, [c]))
    out = k.drop(columns=["code"]).assign(code=lists).explode("code")
    return pd.DataFrame(out.drop_duplicates(subset=["id", "code"])).reset_index(drop=True)
