"""The Markdown report: selection, saturation sentences, then every table."""
from __future__ import annotations

from qualcode.reports.render.common import display_rows

_MD_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "\\[", "]": "\\]", "`": "\\`"})


def md_text(text: str) -> str:
    """User text (labels, quotes, names) made inert in Markdown: no raw HTML passes through
    (``<script>``, ``<img onerror>``), and no link or code span can be formed."""
    return str(text).translate(_MD_ESCAPES)


def _md_cell(text: str) -> str:
    return md_text(text).replace("|", "\\|").replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _md_line(text: str) -> str:
    return " ".join(md_text(text).split("\n"))


def markdown_table(df) -> str:
    cols, rows = display_rows(df)
    lines = ["| " + " | ".join(_md_cell(c) for c in cols) + " |",
             "| " + " | ".join("---" for _ in cols) + " |"]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_report(bundle) -> str:
    data = bundle.data
    out = [f"# qualcode report: {_md_line(data.project_name)}", "",
           f"Codings: {_md_line(data.selection.describe())}.", ""]
    if data.selection.proposed:
        out += ["> Counts include unreviewed proposals (automatic codings nobody has accepted yet).", ""]
    out += [f"Documents: {len(data.documents)}; passages in scope: {len(data.passages)}; "
            f"codings: {len(data.codings)}.", ""]
    if bundle.sentences:
        out += ["## Summary", ""] + [f"> {_md_line(s)}" for s in bundle.sentences] + [""]
    for i, t in enumerate(bundle.tables, start=1):
        out += [f"## Table {i}. {_md_line(t.title)} ({_md_line(t.title_zh)})", ""]
        if t.note:
            out += [_md_line(t.note), ""]
        out += [markdown_table(t.df), ""]
    return "\n".join(out)
