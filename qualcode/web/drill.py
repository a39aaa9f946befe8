"""Tables whose every count opens the passages behind it.

The tables are the library's reports (``reports.frequencies``, ``reports.case_matrix``,
``reports.cooccurrence_matrix``) on one :class:`~qualcode.reports.Selection`; a cell's
passages are found from the same ``ReportData`` the table was counted from, with the same
rules (roll-up to parents, groups by case, role type or attribute, co-occurrence within a
passage), so a cell that says 7 opens 7 passages (or, for a codings count, the passages
holding those 7 codings).
"""
from __future__ import annotations

from dataclasses import dataclass

from qualcode.errors import QualcodeError
from qualcode.reports import Selection, case_matrix, cooccurrence_matrix, frequencies, load
from qualcode.reports.cooccurrence import overlap_pairs
from qualcode.store import queries


@dataclass(frozen=True)
class Query:
    """Which table and cell: the selection, the grouping and the co-occurrence level."""

    proposed: bool = False
    by: str = "case"
    level: int | None = 0

    def params(self) -> dict:
        return {"proposed": "1" if self.proposed else "", "by": self.by,
                "level": "" if self.level is None else str(self.level)}


def tables(project, q: Query) -> dict:
    """The three drill-down tables as plain rows (lists of dicts) for the page."""
    data = load(project, Selection(proposed=q.proposed))
    freq = frequencies(data).to_dict("records")
    cases = case_matrix(data, by=q.by, value="codings")
    groups = [c for c in cases.columns if c not in ("code", "label", "total")]
    co = cooccurrence_matrix(data, unit="passage", level=q.level)
    co_codes = [c for c in co.columns if c not in ("code", "label")]
    return {
        "n_codings": len(data.codings), "n_passages": data.n_passages, "attributes": data.attribute_keys,
        "frequencies": freq, "groups": groups, "cases": cases.to_dict("records"),
        "co_codes": co_codes, "co_labels": dict(zip(co["code"], co["label"])), "cooccurrence": co.to_dict("records"),
    }


def passages_behind(project, q: Query, code: str, group: str | None = None, other: str | None = None) -> dict:
    """The passages (and codings) behind one cell.

    ``code`` alone: a frequencies row (the code or its sub-codes, rolled up). With ``group``:
    a case-matrix cell (``q.by`` = ``group``). With ``other``: a co-occurrence cell at
    ``q.level`` (passages containing both codes)."""
    data = load(project, Selection(proposed=q.proposed))
    if other is not None:
        k = data.expanded(level=q.level, rollup=q.level is not None)
        pids_a = _passages_of(data, k[k["code"] == code])
        pids_b = _passages_of(data, k[k["code"] == other])
        pids = pids_a & pids_b
        chosen = k[k["code"].isin([code, other])]
        chosen = chosen[chosen["pid"].isin(pids)]
    else:
        k = data.expanded(rollup=True)
        chosen = k[k["code"] == code]
        if group is not None:
            groups = data.groups(q.by)
            chosen = chosen[chosen["doc_id"].map(groups) == group]
        pids = set(chosen.loc[chosen["pid"] >= 0, "pid"].tolist())
    if code not in set(data.codes["code"]):
        raise QualcodeError(f"no code {code!r} in the reports")
    return {"codings": int(chosen["id"].nunique()), "passages": _passage_rows(project, data, pids, chosen)}


def _passages_of(data, k) -> set[int]:
    """Passage ids whose text a coding overlaps (a coding outside any passage's text keeps its own),
    as ``reports.cooccurrence`` counts units of ``passage``."""
    import numpy as np

    passages = data.passages.sort_values(["doc_id", "start"], kind="stable").reset_index(drop=True)
    ri, rows = overlap_pairs(k["doc_id"], k["start"], k["end"], passages["doc_id"], passages["start"],
                             passages["end"])
    out = set(passages["pid"].to_numpy()[rows].tolist())
    covered = np.zeros(len(k), dtype=bool)
    covered[ri] = True
    out |= {int(p) for p, c in zip(k["pid"], covered) if not c and p >= 0}
    return out


def _passage_rows(project, data, pids: set[int], chosen) -> list[dict]:
    """Passage rows (reading order) with the codings of the cell in each, for the list page."""
    if not pids:
        return []
    info = data.passages.set_index("pid")
    docs = sorted({int(info.at[p, "doc_id"]) for p in pids})
    by_ref = {r["passage"]: r for r in queries.passages(project.store, doc_ids=docs)}
    labels = dict(zip(data.codes["code"], data.codes["label"]))
    out = []
    for pid in sorted(pids, key=lambda p: (int(info.at[p, "doc_id"]), int(info.at[p, "seq"]))):
        doc_id, seq = int(info.at[pid, "doc_id"]), int(info.at[pid, "seq"])
        row = dict(by_ref[queries.passage_ref(doc_id, seq)])
        mine = chosen[chosen["pid"] == pid]
        row.update(doc_id=doc_id, seq=seq,
                   codes=sorted({(c, labels.get(c, c)) for c in mine["code"]}),
                   spans=sorted({(int(s), int(e)) for s, e in zip(mine["start"], mine["end"])}))
        out.append(row)
    return out


def highlight(text: str, start: int, spans: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """The passage text (starting at document offset ``start``) as (piece, coded) pieces."""
    cuts = {0, len(text)}
    for s, e in spans:
        cuts.update(min(max(x - start, 0), len(text)) for x in (s, e))
    points = sorted(cuts)
    return [(text[a:b], any(s - start < b and e - start > a for s, e in spans)) for a, b in zip(points, points[1:])]
