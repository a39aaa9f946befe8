"""Code frequencies: codings, passages, documents and cases per code, rolled up to parents."""
from __future__ import annotations

from qualcode.reports.placement import expand, placed
from qualcode.reports.selection import ReportData

FREQUENCY_COLUMNS = ["code", "label", "label_en", "depth", "codings", "passages", "documents", "cases",
                     "passage_share", "absent", "absent_documents"]


def frequencies(data: ReportData, rollup: bool = True):
    """One row per code in codebook order.

    A coding counts for its code and (``rollup``) every ancestor; ``passages``,
    ``documents`` and ``cases`` count distinct units, so a passage coded with two
    sub-codes counts once for the parent. ``passage_share`` = passages / passages in scope.
    A coding counts in every passage its span overlaps (``reports.placement``). Codings
    marked absent (negative evidence) are not counted as occurrences: ``absent`` and
    ``absent_documents`` count them apart. Codes that never occur get zeros.
    """
    import pandas as pd

    k = data.expanded(rollup=rollup)
    case_of = data.documents.set_index("doc_id")["case"]
    k = k.assign(case=k["doc_id"].map(case_of))
    g = k.groupby("code")
    counts = pd.DataFrame({
        "codings": g["id"].nunique(),
        "passages": placed(data, k).groupby("code")["pid"].nunique(),
        "documents": g["doc_id"].nunique(),
        "cases": k[k["case"] != ""].groupby("code")["case"].nunique(),
    })
    out = data.codes[["code", "label", "label_en", "depth"]].merge(counts, left_on="code", right_index=True, how="left")
    for col in ("codings", "passages", "documents", "cases"):
        out[col] = out[col].fillna(0).astype(int)
    negative = expand(data, data.absences if data.absences is not None else k.iloc[:0], rollup=rollup)
    out["absent"] = out["code"].map(negative.groupby("code")["id"].nunique()).fillna(0).astype(int)
    out["absent_documents"] = out["code"].map(negative.groupby("code")["doc_id"].nunique()).fillna(0).astype(int)
    total = data.n_passages
    out["passage_share"] = (out["passages"] / total).round(4) if total else 0.0
    return out[FREQUENCY_COLUMNS].reset_index(drop=True)


def frequencies_by(data: ReportData, by: str = "role", rollup: bool = True):
    """Passages coded per code and group (role type by default, or case / any attribute).

    Columns: code, label, then one column per group (sorted) with the number of distinct
    passages coded, then ``all``. A group header row is not needed: group sizes (passages in
    scope per group) are in the ``passages in scope`` row at the bottom.
    """
    import pandas as pd

    groups = data.groups(by)
    k = placed(data, data.expanded(rollup=rollup))
    k = k.assign(group=k["doc_id"].map(groups))
    table = k.groupby(["code", "group"])["pid"].nunique().unstack("group", fill_value=0)
    names = sorted(groups.unique().tolist())
    table = table.reindex(columns=names, fill_value=0)
    out = data.codes[["code", "label"]].merge(table, left_on="code", right_index=True, how="left")
    out[names] = out[names].fillna(0).astype(int)
    out["all"] = out["code"].map(k.groupby("code")["pid"].nunique()).fillna(0).astype(int)
    sizes = data.passages_per(groups)
    footer = {"code": "", "label": "passages in scope", **{n: int(sizes.get(n, 0)) for n in names},
              "all": data.n_passages}
    out = pd.concat([out, pd.DataFrame([footer])], ignore_index=True)
    return out.reset_index(drop=True)
