"""Code co-occurrence on an explicit unit, with set semantics.

A unit × code incidence matrix X (1 = the unit contains at least one selected coding of
the code) gives every pair count at once: C = XᵀX, n_a = C[a, a], n_ab = C[a, b].
"""
from __future__ import annotations

import math

from qualcode.errors import QualcodeError
from qualcode.reports.placement import codable_passages, inside_own_passages, overlap_pairs, passage_rows, ranges
from qualcode.reports.selection import ReportData
from qualcode.vocabulary import COOCCURRENCE_UNITS, Role

UNITS = COOCCURRENCE_UNITS
PAIR_COLUMNS = ["code_a", "label_a", "code_b", "label_b", "n_a", "n_b", "n_ab", "units", "jaccard", "lift", "pmi",
                "p_fisher", "q_bh"]
_PAIRS = 1 << 22  # code pairs counted at once in pair_counts (bounds its memory)


def incidence(data: ReportData, unit: str = "passage", window: int = 1, level: int | None = None,
              all_units: bool = False):
    """The unit × code incidence matrix X as (rows, cols) of its ones (repeats allowed), the
    list of code paths (the columns) and the number of units N.

    Units are the codable passages (``placement.codable_passages``), their sentences, or
    windows over them; ``all_units`` counts every passage (interviewer turns and headers
    too). At ``sentence`` level only codings made below passage level count (a coding of a
    whole passage says nothing about which of its sentences carries the code); a selection
    with none is an error."""
    import numpy as np

    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}")
    k = data.expanded(level=level, rollup=level is not None)
    codes = data.codes["code"].tolist()
    col_of = {c: i for i, c in enumerate(codes)}
    cols = k["code"].map(col_of).to_numpy(dtype=np.int64)
    if unit == "document":
        docs = data.documents["doc_id"].to_numpy()
        row_of = {d: i for i, d in enumerate(docs)}
        return k["doc_id"].map(row_of).to_numpy(dtype=np.int64), cols, codes, len(docs)
    if unit == "passage" and all_units and _inside_own_passages(k):
        # then each coding overlaps its own passage and no other (passages do not overlap):
        # the passage ids are the units, and the passages need not be read
        return k["pid"].to_numpy(dtype=np.int64), cols, codes, int(data.passage_counts.sum())
    if unit == "passage" and not all_units and data.store is not None and not data.passages_read \
            and _inside_own_passages(k):
        # each coding counts in its own passage, which is codable (see codable_passages):
        # the passage ids are the units, and N is counted without reading the passages
        return _own_passage_units(data, k, cols, codes)
    units = data.passages if all_units else codable_passages(data)
    passages = units.sort_values(["doc_id", "start"], kind="stable").reset_index(drop=True)
    if unit == "sentence":
        fine = (k["unit"] != "passage").to_numpy()
        if len(k) and not fine.any():
            raise QualcodeError("every selected coding was made on a whole passage; at sentence level they "
                                "would be copied into every sentence of their passage",
                                hint="use --unit passage, or code below passage level (sentence scope, spans)")
        k, cols = k[fine], cols[fine]
        sents = data.sentences().merge(passages[["pid", "doc_id"]], on="pid")
        sents = sents.sort_values(["doc_id", "start"], kind="stable").reset_index(drop=True)
        ri, rows = overlap_pairs(k["doc_id"], k["start"], k["end"], sents["doc_id"], sents["start"], sents["end"])
        return rows, cols[ri], codes, len(sents)
    ri, pids = passage_rows(data, k)
    row_of_pid = {p: i for i, p in enumerate(passages["pid"])}
    mapped = np.array([row_of_pid.get(int(p), -1) for p in pids], dtype=np.int64)
    inside = mapped >= 0
    rows, cols = mapped[inside], cols[ri[inside]]
    if unit == "proximity":
        windows, members, n_windows = _windows(passages, window)
        # window w contains code c when one of its passages does
        order = np.argsort(rows, kind="stable")
        rows, cols = rows[order], cols[order]
        lo, hi = np.searchsorted(rows, members, side="left"), np.searchsorted(rows, members, side="right")
        n = hi - lo
        return np.repeat(windows, n), cols[_ranges(lo, n)], codes, n_windows
    return rows, cols, codes, len(passages)


def _own_passage_units(data: ReportData, k, cols, codes):
    """``incidence`` at passage level over the codable passages when every coding lies
    inside its own passage: rows are passage ids, and N (the codable passages, as
    ``codable_passages`` selects them) is counted in SQL plus the coded passages it adds."""
    import numpy as np

    coded = data.coded_passages()
    pids = k["pid"].to_numpy(dtype=np.int64)
    inside = np.isin(pids, coded.index.to_numpy())  # as passage_rows and the mapping to units drop
    speech = data.speech_counts()
    talk = speech["talk"] + speech["unlabelled"].where(speech["labelled"] == 0, 0)
    own = data.codings["pid"]
    mine = coded[coded.index.isin(own[own >= 0])]
    header = ~mine["has_speaker"] & mine["doc_id"].map(speech["labelled"]).gt(0)
    added = int(((mine["speaker_role"] == Role.INTERVIEWER) | header).sum())  # codable because coded
    return pids[inside], cols[inside], codes, int(talk.sum()) + added


_inside_own_passages = inside_own_passages
_ranges = ranges


def _windows(passages, window: int):
    """(windows, passages) pairs and the number of windows: window i covers passages
    j..j+``window`` of one document (a document shorter than that is one window)."""
    import numpy as np

    doc = passages["doc_id"].to_numpy()
    n = len(doc)
    pos = np.arange(n)
    first = np.searchsorted(doc, doc, side="left") if n else pos  # first passage of each one's document
    last = np.searchsorted(doc, doc, side="right") - 1 if n else pos
    size = last - first + 1
    starts = pos[(pos - first) <= np.maximum(size - 1 - window, 0)]  # window start positions
    stops = np.minimum(starts + window, last[starts])
    lengths = stops - starts + 1
    return np.repeat(np.arange(len(starts)), lengths), _ranges(starts, lengths), len(starts)


def pair_counts(rows, cols, n_codes: int):
    """C = XᵀX for the 0/1 units × codes matrix X with ones at (rows, cols): C[a, b] = units
    containing both a and b, C[a, a] = units containing a (set semantics: repeats count once).

    Counted in integers from the code pairs within each unit, a slice of units at a time:
    scipy.sparse takes longer to import than this takes to run, and BLAS threads spin badly
    on a busy machine."""
    import numpy as np

    out = np.zeros(n_codes * n_codes, dtype=np.int64)
    if not n_codes or not len(rows):
        return out.reshape(n_codes, n_codes)
    keys = np.unique(np.asarray(rows, dtype=np.int64) * n_codes + np.asarray(cols, dtype=np.int64))
    unit, code = keys // n_codes, keys % n_codes  # sorted by unit
    starts = np.flatnonzero(np.r_[True, unit[1:] != unit[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    first, size = np.repeat(starts, sizes), np.repeat(sizes, sizes)  # per one: its unit's slice of keys
    ends = np.cumsum(size)  # pairs made by the ones up to each
    lo = 0
    while lo < len(keys):
        hi = max(int(np.searchsorted(ends, ends[lo] - size[lo] + _PAIRS, side="right")), lo + 1)
        partners = code[_ranges(first[lo:hi], size[lo:hi])]
        out += np.bincount(np.repeat(code[lo:hi], size[lo:hi]) * n_codes + partners, minlength=n_codes * n_codes)
        lo = hi
    return out.reshape(n_codes, n_codes)


def pair_statistics(n_a, n_b, n_ab, n_units):
    """Jaccard, lift, PMI (log2) and the one-sided Fisher exact p (hypergeometric upper tail
    P(X ≥ n_ab)) for arrays of pair counts; see docs/reports.md for the formulas."""
    import numpy as np

    n_a, n_b, n_ab = (np.asarray(x, dtype=float) for x in (n_a, n_b, n_ab))
    union = n_a + n_b - n_ab
    with np.errstate(divide="ignore", invalid="ignore"):
        jaccard = np.where(union > 0, n_ab / union, 0.0)
        lift = np.where(n_a * n_b > 0, n_units * n_ab / (n_a * n_b), np.nan)
        pmi = np.where(n_ab > 0, np.log2(lift), np.nan)
    p = (np.array([hypergeom_upper_tail(int(k), int(n_units), int(a), int(b)) for k, a, b in zip(n_ab, n_a, n_b)])
         if n_units else np.ones_like(n_ab))
    return jaccard, lift, pmi, np.clip(p, 0.0, 1.0)


def hypergeom_upper_tail(k: int, total: int, successes: int, draws: int) -> float:
    """P(X ≥ k) for X ~ Hypergeometric(total, successes, draws): the one-sided Fisher exact p.

    Summed from the log pmf at k and the pmf ratio recurrence, vectorised over the tail;
    the same values as scipy.stats.hypergeom.sf (checked in the tests) without importing
    scipy.stats, which alone takes most of a second.
    """
    import numpy as np

    lo, hi = max(0, draws - (total - successes)), min(successes, draws)
    if k <= lo:
        return 1.0
    if k > hi:
        return 0.0

    def log_comb(n: int, r: int) -> float:
        return math.lgamma(n + 1) - math.lgamma(r + 1) - math.lgamma(n - r + 1)

    first = log_comb(successes, k) + log_comb(total - successes, draws - k) - log_comb(total, draws)
    x = np.arange(k, hi, dtype=float)  # ratios pmf(x + 1) / pmf(x) for x = k .. hi - 1
    ratios = (successes - x) * (draws - x) / ((x + 1) * (total - successes - draws + x + 1))
    logs = first + np.concatenate(([0.0], np.cumsum(np.log(ratios))))
    return float(min(1.0, np.exp(logs).sum()))


def bh(p):
    """Benjamini–Hochberg adjusted p-values (q), in the input order."""
    import numpy as np

    p = np.asarray(p, dtype=float)
    m = len(p)
    if not m:
        return p
    order = np.argsort(p, kind="stable")
    q = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(q[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def cooccurrence(data: ReportData, unit: str = "passage", window: int = 1, level: int | None = None,
                 min_count: int = 1, all_units: bool = False):
    """Code pairs (a before b in codebook order) with n_ab ≥ ``min_count`` among codes that occur.

    ``unit``: passage | sentence | document | proximity (windows of ``window``+1
    consecutive codable passages). ``level``: roll codes up to that depth first (0 = the
    stages). Counts are units containing both codes (set semantics); ``jaccard`` equals
    ATLAS.ti's c-coefficient on those counts. N = codable units unless ``all_units``.

    The Benjamini–Hochberg family is every pair of codes that occur in the selection,
    whatever ``min_count`` leaves out of the table: ``df.attrs`` holds ``family`` (its
    size), ``units`` (N), ``unit`` and ``note`` (the line printed under the table).
    """
    import numpy as np
    import pandas as pd

    rows, cols, codes, n_units = incidence(data, unit, window, level, all_units=all_units)
    C = pair_counts(rows, cols, len(codes))
    n = np.diag(C)
    present = np.flatnonzero(n > 0)
    ia, ib = np.triu_indices(len(present), k=1)
    a, b = present[ia], present[ib]
    n_ab = C[a, b]
    jac, lift, pmi, p = pair_statistics(n[a], n[b], n_ab, n_units)
    q = bh(p)  # over the whole family, before min_count hides any pair
    family = len(p)
    keep = n_ab >= min_count
    a, b, n_ab, jac, lift, pmi, p, q = (x[keep] for x in (a, b, n_ab, jac, lift, pmi, p, q))
    labels = data.codes["label"].to_numpy()
    codes_arr = np.asarray(codes, dtype=object)
    out = pd.DataFrame({
        "code_a": codes_arr[a], "label_a": labels[a], "code_b": codes_arr[b], "label_b": labels[b],
        "n_a": n[a].astype(int), "n_b": n[b].astype(int), "n_ab": n_ab.astype(int), "units": int(n_units),
        "jaccard": np.round(jac, 4), "lift": np.round(lift, 4), "pmi": np.round(pmi, 4),
        "p_fisher": p, "q_bh": q,
    }, columns=PAIR_COLUMNS)
    out["p_fisher"] = out["p_fisher"].map(lambda v: float(f"{v:.4g}"))
    out["q_bh"] = out["q_bh"].map(lambda v: float(f"{v:.4g}"))
    what = "units" if unit != "proximity" else "windows"
    scope = "every passage" if all_units else "codable passages (no interviewer turns or headers)"
    base = {"passage": scope, "sentence": f"sentences of {scope}", "document": "interviews",
            "proximity": f"windows of {window + 1} {scope}"}[unit]
    out.attrs.update(family=family, units=int(n_units), unit=unit, note=(
        f"N = {n_units} {what} ({base}); q_bh: Benjamini–Hochberg over all {family} pairs of codes that occur"
        + (f", of which {len(out)} with n_ab ≥ {min_count} are shown" if min_count > 1 else "") + "."))
    return out


def cooccurrence_matrix(data: ReportData, unit: str = "passage", window: int = 1, level: int | None = None,
                        value: str = "count", all_units: bool = False):
    """Square code × code table (codes that occur): ``count`` (diagonal = units with the
    code) or ``jaccard`` (diagonal 1)."""
    import numpy as np
    import pandas as pd

    rows, cols, codes, n_units = incidence(data, unit, window, level, all_units=all_units)
    C = pair_counts(rows, cols, len(codes)).astype(float)
    n = np.diag(C)
    present = np.flatnonzero(n > 0)
    C = C[np.ix_(present, present)]
    if value == "jaccard":
        d = n[present]
        union = d[:, None] + d[None, :] - C
        C = np.round(np.where(union > 0, C / np.where(union > 0, union, 1), 0.0), 4)
    else:
        C = C.astype(int)
    labels = data.codes["label"].to_numpy()[present]
    paths = np.asarray(codes, dtype=object)[present]
    out = pd.DataFrame(C, columns=list(paths))
    out.insert(0, "label", labels)
    out.insert(0, "code", paths)
    return out
