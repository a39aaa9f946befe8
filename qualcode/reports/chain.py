"""``report chain``: does the framework's chain hold in each case, and where does it break?

The framework (docs/framework.md) argues a chain 组织构建 → 组织嵌入 → 组织动员 → 社区善治
whose end point has four dimensions. For each case (or any document attribute: community,
estate, period) and each link and dimension, the evidence is weighed per interview:

* an interview **supports** a link when it has more codings of presence than of absence
  for it (the link's code or any sub-code), and **denies** it when it has at least as many
  codings marked absent (negative evidence: 「有些支部就是挂个牌子」) and at least one;
* the link is ``present`` in the case when more interviews support it than deny it,
  ``absent`` when at least as many deny it (and one does), ``not discussed`` when no
  interview codes it either way.

The chain **breaks** at the first link (in chain order) that is not present; when every
stage is present, at the first governance dimension that is not. Each row carries the
number of interviews behind its status, the interviewee codes of those interviews and the
strongest quote of the evidence for the status (pinned exemplar first, see
``quotes.rank_candidates``).
"""
from __future__ import annotations

from qualcode.reports.placement import expand
from qualcode.reports.quotes import describe_rows, interviewee_code, rank_candidates, top_per
from qualcode.reports.selection import ReportData

CHAIN = ("construction", "embedding", "mobilization", "governance")  # the framework's stages, in order
PRESENT, ABSENT, NOT_DISCUSSED = "present", "absent", "not discussed"
STATUSES = (PRESENT, ABSENT, NOT_DISCUSSED)
CHAIN_COLUMNS = ["case", "link", "label", "kind", "status", "interviews", "roles", "present_interviews",
                 "absent_interviews", "present_codings", "absent_codings", "reason", "quote", "quote_by", "passage",
                 "pinned", "breaks_at"]


def chain_links(data: ReportData, links: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """(code path, kind) in chain order: each stage (kind ``stage``) followed by its sub-codes
    (kind ``dimension`` for the last stage's, the governance dimensions; ``mechanism`` for
    the others'). Default stages: the codebook's construction, embedding, mobilization,
    governance; a codebook without them uses its top-level codes but ``context``."""
    codes = data.codes
    top = codes.loc[codes["depth"] == 0, "code"].tolist()
    stages = list(links) if links else [c for c in CHAIN if c in top] or [c for c in top if c != "context"]
    out = []
    for i, stage in enumerate(stages):
        out.append((stage, "stage"))
        kind = "dimension" if i == len(stages) - 1 else "mechanism"
        out += [(c, kind) for c in codes.loc[codes["parent"] == stage, "code"]]
    return out


def _verdicts(present, absent, doc_ids):
    """Per document: ('present' | 'absent' | None) from its codings of presence and absence."""
    p = present.groupby("doc_id")["id"].nunique()
    a = absent.groupby("doc_id")["id"].nunique()
    out = {}
    for d in doc_ids:
        n_p, n_a = int(p.get(d, 0)), int(a.get(d, 0))
        out[d] = PRESENT if n_p > n_a else (ABSENT if n_a else None)
    return out


def chain(data: ReportData, by: str = "case", links: tuple[str, ...] | None = None, max_chars: int = 80):
    """One row per group (case or ``by`` attribute, sorted) and link (chain order): CHAIN_COLUMNS.

    ``status``: present | absent | not discussed (see the module doc); ``interviews``: the
    interviews behind the status, ``roles``: their interviewee codes; ``reason``: for a
    stage made absent by a sub-code, which one; ``quote`` (with ``quote_by``, the
    interviewee code, and ``passage``): the strongest evidence for the status, ``pinned`` =
    1 when it is a pinned exemplar; ``breaks_at``: the stage where the group's chain breaks
    ("" when it holds). ``df.attrs["breaks"]``: {group: stage or ""}.
    """
    import pandas as pd

    groups = data.groups(by)
    names = sorted(groups.unique().tolist())
    docs = data.documents.set_index("doc_id")
    absences = data.absences if data.absences is not None else data.codings.iloc[:0]
    present = data.expanded(rollup=True)
    absent = expand(data, absences, rollup=True)
    present = present.assign(group=present["doc_id"].map(groups))
    absent = absent.assign(group=absent["doc_id"].map(groups))
    labels = data.codes.set_index("code")["label"]
    order = chain_links(data, links)
    # each (group, code)'s codings, split once: a mask over every coding per group and link took
    # most of report all's time at 10,000 interviews
    present_at = present.groupby(["group", "code"], sort=False).indices  # (group, code) -> row positions
    absent_at = absent.groupby(["group", "code"], sort=False).indices
    rows, evidence = [], []
    for g in names:
        doc_ids = groups.index[groups == g].tolist()
        weighed = {}
        for link, kind in order:
            pk = present.iloc[present_at.get((g, link), [])]
            ak = absent.iloc[absent_at.get((g, link), [])]
            verdict = _verdicts(pk, ak, doc_ids)
            yes = [d for d in doc_ids if verdict[d] == PRESENT]
            no = [d for d in doc_ids if verdict[d] == ABSENT]
            status = PRESENT if len(yes) > len(no) else (ABSENT if no else NOT_DISCUSSED)
            weighed[link] = (kind, pk, ak, yes, no, status)
        for link, kind in order:
            _, pk, ak, yes, no, status = weighed[link]
            reason, missing = "", []
            if kind == "stage":  # a stage holds only if none of its mechanisms is absent
                missing = [c for c, (k, *_, st) in weighed.items() if k != "stage" and c.startswith(link + "/")
                           and st == ABSENT]
                if missing:
                    reason = ", ".join(missing) + " absent"
                    no = sorted(set(no) | {d for c in missing for d in weighed[c][4]}, key=doc_ids.index)
                    status = ABSENT
            behind = yes if status == PRESENT else no if status == ABSENT else []
            roles = sorted({interviewee_code(docs, d) for d in behind} - {""})
            rows.append(dict(case=g, link=link, label=str(labels.get(link, link)), kind=kind, status=status,
                             interviews=len(behind), roles="、".join(roles), present_interviews=len(yes),
                             absent_interviews=len(no), present_codings=int(pk["id"].nunique()),
                             absent_codings=int(ak["id"].nunique()), reason=reason))
            if reason:  # quote the absent mechanism, not any negative evidence of the stage
                ak = pd.concat([weighed[c][2] for c in missing], ignore_index=True)
            source = pk if status == PRESENT else ak if status == ABSENT else pk.iloc[:0]
            evidence.append(source[source["doc_id"].isin(behind)].assign(_row=len(rows) - 1))
    quotes = {}
    chosen = pd.concat(evidence, ignore_index=True) if evidence else None
    if chosen is not None and len(chosen):
        chosen = chosen.assign(code=chosen["_row"].astype(str))  # rank within each row
        best = top_per(rank_candidates(data, chosen), ["code"], 1)
        for row_no, pinned, d in zip(best["_row"], best["pinned"], describe_rows(data, best, max_chars, 0)):
            quotes[int(row_no)] = (d["quote"], d["role"], d["passage"], int(pinned))
    breaks: dict[str, str] = {}
    for i, r in enumerate(rows):
        r["quote"], r["quote_by"], r["passage"], r["pinned"] = quotes.get(i, ("", "", "", 0))
        if r["kind"] == "stage" and r["status"] != PRESENT:
            breaks.setdefault(r["case"], r["link"])
    for r in rows:
        r["breaks_at"] = breaks.get(r["case"], "")
    out = pd.DataFrame(rows, columns=CHAIN_COLUMNS)
    out.attrs.update(by=by, breaks={g: breaks.get(g, "") for g in names})
    return out


def chain_summary(df) -> list[str]:
    """One line per group: where its chain breaks, e.g. "S街道: breaks at embedding 组织嵌入 (absent)"."""
    lines = []
    for g, part in df.groupby("case", sort=True):
        at = part["breaks_at"].iloc[0]
        if not at:
            lines.append(f"{g}: the chain holds (every stage present)")
            continue
        r = part[part["link"] == at].iloc[0]
        why = f"; {r['reason']}" if r["reason"] else ""
        lines.append(f"{g}: breaks at {at} {r['label']} ({r['status']}{why})")
    return lines
