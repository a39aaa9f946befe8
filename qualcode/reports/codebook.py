"""The codebook as an appendix table: code, definition, criteria, example and counts."""
from __future__ import annotations

from qualcode.reports.frequencies import frequencies
from qualcode.reports.selection import ReportData

CODEBOOK_COLUMNS = ["code", "label", "label_en", "depth", "definition", "criteria", "example", "codings", "passages",
                    "documents"]


def codebook_table(data: ReportData):
    """One row per code (codebook order). ``criteria`` joins the inclusion (纳入) and exclusion
    (排除) rules; ``example`` is the codebook's first example with its speaker; counts are the
    rolled-up frequencies of the selection."""
    import pandas as pd

    freq = frequencies(data).set_index("code")
    cb = data.codebook
    rows = []
    for r in data.codes.itertuples(index=False):
        code = cb.get(r.code) if (cb is not None and r.code in cb) else None
        definition, criteria, example = "", "", ""
        if code is not None:
            definition = (code.definition or "").strip()
            parts = []
            if code.include:
                parts.append("纳入: " + "；".join(code.include))
            if code.exclude:
                parts.append("排除: " + "；".join(code.exclude))
            criteria = " / ".join(parts)
            if code.examples:
                ex = code.examples[0]
                example = f"「{ex.quote.strip()}」" + (f"（{ex.speaker}）" if ex.speaker else "")
        rows.append(dict(code=r.code, label=r.label, label_en=r.label_en, depth=int(r.depth),
                         definition=" ".join(definition.split()), criteria=" ".join(criteria.split()),
                         example=" ".join(example.split()),
                         codings=int(freq.at[r.code, "codings"]), passages=int(freq.at[r.code, "passages"]),
                         documents=int(freq.at[r.code, "documents"])))
    return pd.DataFrame(rows, columns=CODEBOOK_COLUMNS)
