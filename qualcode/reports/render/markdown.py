"""The Markdown report: selection, saturation sentences, then every table."""
from __future__ import annotations

from qualcode.reports.render.common import display_rows


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def markdown_table(df) -> str:
    cols, rows = display_rows(df)
    lines = ["| " + " | ".join(_md_cell(c) for c in cols) + " |",
             "| " + " | ".join("---" for _ in cols) + " |"]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_report(bundle) -> str:
    data = bundle.data
    out = [f"# qualcode report: {data.project_name}", "",
           f"Codings: {data.selection.describe()}.", ""]
    if data.selection.proposed:
        out += ["> Counts include unreviewed proposals (automatic codings nobody has accepted yet).", ""]
    out += [f"Documents: {len(data.documents)}; passages in scope: {len(data.passages)}; "
            f"codings: {len(data.codings)}.", ""]
    if bundle.sentences:
        out += ["## Saturation", ""] + [f"> {s}" for s in bundle.sentences] + [""]
    for i, t in enumerate(bundle.tables, start=1):
        out += [f"## Table {i}. {t.title} ({t.title_zh})", ""]
        if t.note:
            out += [t.note, ""]
        out += [markdown_table(t.df), ""]
    return "\n".join(out)
