"""``report framework``: the framework matrix (case × stage) with the best quote per cell."""
from __future__ import annotations

from qualcode.reports.cases import stages
from qualcode.reports.placement import placed
from qualcode.reports.quotes import describe_rows, rank_candidates, top_per
from qualcode.reports.selection import ReportData


def framework_matrix(data: ReportData, by: str = "case", max_chars: int = 60):
    """Case × stage: per cell the number of passages coded with the stage and its best
    exemplar quote with the interviewee's role code — "n=12｜「…」（社区党组织书记A）".
    Empty cells are "—". Columns are the stages' labels; rows the groups (sorted)."""
    import pandas as pd

    groups = data.groups(by)
    names = sorted(groups.unique().tolist())
    k = data.expanded(level=0)
    k = k.assign(group=k["doc_id"].map(groups))
    counts = placed(data, k).groupby(["group", "code"])["pid"].nunique()
    best = top_per(rank_candidates(data, k), ["group", "code"], 1)
    described = describe_rows(data, best, max_chars=max_chars, context=0) if len(best) else []
    cell_quote = {(g, c): d for g, c, d in zip(best["group"], best["code"], described)}
    labels = data.codes.set_index("code")["label"]
    stage_codes = stages(data)
    rows = []
    for n in names:
        row = {by: n}
        for s in stage_codes:
            n_p = int(counts.get((n, s), 0))
            d = cell_quote.get((n, s))
            if d is None:
                row[labels[s]] = "—"
            else:
                who = f"（{d['role']}）" if d["role"] else ""  # the interviewee code, never a file name
                row[labels[s]] = f"n={n_p}｜「{d['quote']}」{who}"
        rows.append(row)
    return pd.DataFrame(rows, columns=[by, *[labels[s] for s in stage_codes]])
