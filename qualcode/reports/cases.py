"""``report cases``: code × case matrices, and the stage profile of each case."""
from __future__ import annotations

from qualcode.reports.placement import placed
from qualcode.reports.selection import ReportData

VALUES = ("codings", "passages", "share", "presence")


def case_matrix(data: ReportData, by: str = "case", value: str = "codings", rollup: bool = True):
    """Codes (rows, codebook order) × groups (columns, sorted): the case matrix.

    ``value``: ``codings`` (number of codings), ``passages`` (distinct passages coded),
    ``share`` (passages coded / the group's passages in scope, 4 decimals) or ``presence``
    (1 if the code occurs in the group at all, else 0). ``by``: ``case``, ``role`` (role
    type) or any document attribute. Count tables end with a ``total`` column.
    """
    if value not in VALUES:
        raise ValueError(f"value must be one of {VALUES}")
    groups = data.groups(by)
    names = sorted(groups.unique().tolist())
    k = data.expanded(rollup=rollup)
    k = k.assign(group=k["doc_id"].map(groups))
    if value == "codings":
        table = k.groupby(["code", "group"])["id"].nunique()
    else:
        k = placed(data, k)
        table = k.groupby(["code", "group"])["pid"].nunique()
    table = table.unstack("group", fill_value=0).reindex(columns=names, fill_value=0)
    out = data.codes[["code", "label"]].merge(table, left_on="code", right_index=True, how="left")
    out[names] = out[names].fillna(0)
    if value == "share":
        sizes = data.passages_per(groups)
        for n in names:
            size = int(sizes.get(n, 0))
            out[n] = (out[n] / size).round(4) if size else 0.0
    elif value == "presence":
        out[names] = (out[names] > 0).astype(int)
    else:
        out[names] = out[names].astype(int)
        out["total"] = out[names].sum(axis=1).astype(int) if value == "codings" else out["code"].map(
            k.groupby("code")["pid"].nunique()).fillna(0).astype(int)
    return out.reset_index(drop=True)


def stages(data: ReportData) -> list[str]:
    """The top-level codes (the framework's stages and context codes), codebook order."""
    return data.codes.loc[data.codes["depth"] == 0, "code"].tolist()


def stage_profile(data: ReportData, by: str = "case"):
    """Share of each group's passages coded with each stage (any of its sub-codes).

    Rows: groups (sorted); columns: group, passages, then one column per stage (its code path).
    """
    import pandas as pd

    groups = data.groups(by)
    names = sorted(groups.unique().tolist())
    k = placed(data, data.expanded(level=0))
    k = k.assign(group=k["doc_id"].map(groups))
    counts = k.groupby(["group", "code"])["pid"].nunique().unstack("code", fill_value=0)
    sizes = data.passages_per(groups)
    rows = []
    for n in names:
        size = int(sizes.get(n, 0))
        row = {"group": n, "passages": size}
        for s in stages(data):
            c = int(counts.at[n, s]) if (n in counts.index and s in counts.columns) else 0
            row[s] = round(c / size, 4) if size else 0.0
        rows.append(row)
    return pd.DataFrame(rows, columns=["group", "passages", *stages(data)])
