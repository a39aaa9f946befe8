"""``report subcodes``: the case × sub-code matrix with quotes.

*Sub-code matrix* (``subcodes``): one row per case (or attribute value: community, period …)
and sub-code (every code below a stage, codebook order; a sub-code counts its own
sub-codes' codings). Per cell: the codings, passages and interviews with the sub-code, and
the strongest quote — a pinned exemplar first, then reviewed codings with the strongest
evidence, chosen as in *quotes* (``quotes.rank_candidates``) — with the interviewee code of
who said it (``quotes.interviewee_code``), never a file name. ``subcode_matrix`` pivots it
into the matrix for the paper: sub-codes × cases, cells "n=3｜「…」（N-A-01）".
"""
from __future__ import annotations

from qualcode.reports.placement import placed
from qualcode.reports.quotes import describe_rows, rank_candidates, top_per
from qualcode.reports.selection import ReportData

SUBCODE_COLUMNS = ["case", "code", "label", "stage", "codings", "passages", "interviews", "quote", "quote_by",
                   "passage", "pinned"]
EMPTY = "—"


def subcodes(data: ReportData, by: str = "case", max_chars: int = 60):
    """One row per group (sorted) and sub-code (codebook order): SUBCODE_COLUMNS.

    ``codings``: codings of the sub-code or its own sub-codes; ``passages``: distinct passages
    they overlap; ``interviews``: distinct documents; ``quote``/``quote_by``/``passage``/
    ``pinned``: the group's strongest quote of the sub-code (empty when the cell is empty),
    its interviewee code, ``DOC:SEQ`` and 1 when pinned. ``stage``: the sub-code's stage.
    """
    import pandas as pd

    groups = data.groups(by)
    names = sorted(groups.unique().tolist())
    codes = data.codes[data.codes["depth"] >= 1]
    k = data.expanded(rollup=True)
    k = k[k["code"].isin(codes["code"])]
    k = k.assign(group=k["doc_id"].map(groups))
    n_codings = k.groupby(["group", "code"])["id"].nunique()
    n_docs = k.groupby(["group", "code"])["doc_id"].nunique()
    n_passages = placed(data, k).groupby(["group", "code"])["pid"].nunique() if len(k) else n_codings
    quotes: dict[tuple[str, str], tuple[str, str, str, int]] = {}
    if len(k):
        best = top_per(rank_candidates(data, k), ["group", "code"], 1)
        for g, c, pinned, d in zip(best["group"], best["code"], best["pinned"],
                                   describe_rows(data, best, max_chars=max_chars, context=0)):
            quotes[(g, c)] = (d["quote"], d["role"], d["passage"], int(pinned))
    rows = []
    for g in names:
        for code, label in zip(codes["code"], codes["label"]):
            key = (g, code)
            quote, who, passage, pinned = quotes.get(key, ("", "", "", 0))
            rows.append(dict(case=g, code=code, label=label, stage=code.split("/", 1)[0],
                             codings=int(n_codings.get(key, 0)), passages=int(n_passages.get(key, 0)),
                             interviews=int(n_docs.get(key, 0)), quote=quote, quote_by=who, passage=passage,
                             pinned=pinned))
    out = pd.DataFrame(rows, columns=SUBCODE_COLUMNS)
    out.attrs["by"] = by
    return out


def subcode_matrix(data: ReportData, by: str = "case", max_chars: int = 60, long=None):
    """Sub-codes (rows, codebook order) × groups (columns, sorted): per cell
    "n=<passages>｜「quote」（interviewee code）", "n=<passages>" without a quote, or "—".
    ``long``: the result of :func:`subcodes` to pivot (computed when not given)."""
    import pandas as pd

    long = subcodes(data, by=by, max_chars=max_chars) if long is None else long
    names = sorted(long["case"].unique().tolist())
    cells: dict[str, dict[str, str]] = {}
    for r in long.itertuples(index=False):
        if not r.passages and not r.codings:
            text = EMPTY
        else:
            who = f"（{r.quote_by}）" if r.quote_by else ""
            text = f"n={r.passages}" + (f"｜「{r.quote}」{who}" if r.quote else "")
        cells.setdefault(r.code, {})[r.case] = text
    codes = data.codes[data.codes["depth"] >= 1]
    rows = [dict(code=c, label=lab, **{g: cells.get(c, {}).get(g, EMPTY) for g in names})
            for c, lab in zip(codes["code"], codes["label"])]
    return pd.DataFrame(rows, columns=["code", "label", *names])
