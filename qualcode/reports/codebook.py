"""The codebook as an appendix table: code, definition, criteria, a quote from the project's codings, counts."""
from __future__ import annotations

from qualcode.reports.frequencies import frequencies
from qualcode.reports.quotes import describe_rows, rank_candidates, top_per
from qualcode.reports.selection import ReportData

CODEBOOK_COLUMNS = ["code", "label", "label_en", "depth", "definition", "criteria", "example", "example_by",
                    "example_passage", "codings", "passages", "documents"]
CODEBOOK_EXAMPLE = "codebook example"  # example_by of an invented example from the codebook (codebook_examples)


def codebook_table(data: ReportData, codebook_examples: bool = False, max_chars: int = 80):
    """One row per code (codebook order). ``criteria`` joins the inclusion (纳入) and exclusion
    (排除) rules; counts are the rolled-up frequencies of the selection.

    ``example`` is a quote from the project's own codings of the code (or its sub-codes): a
    pinned exemplar first, else the strongest evidence, reviewed before proposed, chosen as
    in *quotes* (``quotes.rank_candidates``), with ``example_by`` the interviewee code of who
    said it and ``example_passage`` its ``DOC:SEQ``. A code without codings has none. The
    codebook's own examples are invented for coders, not said in the study's interviews: only
    with ``codebook_examples`` does a code without a quote show its first one, and
    ``example_by`` then says ``codebook example``."""
    import pandas as pd

    freq = frequencies(data).set_index("code")
    cb = data.codebook
    found: dict[str, dict] = {}
    for rollup in (False, True):  # the code's own codings first; a parent without any: its sub-codes'
        k = data.expanded(rollup=rollup)
        k = k[~k["code"].isin(list(found))]
        if len(k):
            best = top_per(rank_candidates(data, k), ["code"], 1)
            for code, described in zip(best["code"], describe_rows(data, best, max_chars=max_chars, context=0)):
                found[code] = described
    rows = []
    for r in data.codes.itertuples(index=False):
        code = cb.get(r.code) if (cb is not None and r.code in cb) else None
        definition, criteria, example, example_by, passage = "", "", "", "", ""
        if code is not None:
            definition = (code.definition or "").strip()
            parts = []
            if code.include:
                parts.append("纳入: " + "；".join(code.include))
            if code.exclude:
                parts.append("排除: " + "；".join(code.exclude))
            criteria = " / ".join(parts)
        quote = found.get(r.code)
        if quote is not None:
            example, example_by, passage = f"「{quote['quote']}」", quote["role"], quote["passage"]
        elif codebook_examples and code is not None and code.examples:
            example, example_by = f"「{code.examples[0].quote.strip()}」", CODEBOOK_EXAMPLE
        rows.append(dict(code=r.code, label=r.label, label_en=r.label_en, depth=int(r.depth),
                         definition=" ".join(definition.split()), criteria=" ".join(criteria.split()),
                         example=" ".join(example.split()), example_by=example_by, example_passage=passage,
                         codings=int(freq.at[r.code, "codings"]), passages=int(freq.at[r.code, "passages"]),
                         documents=int(freq.at[r.code, "documents"])))
    return pd.DataFrame(rows, columns=CODEBOOK_COLUMNS)
