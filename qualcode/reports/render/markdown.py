"""The Markdown report in the report's language: selection, summary, the tables, the appendix."""
from __future__ import annotations

from qualcode.reports.labels import header, t
from qualcode.reports.render.common import citing_sentences, code_columns, display_rows, introduction, paper_tables

_MD_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "\\[", "]": "\\]", "`": "\\`"})


def md_text(text: str) -> str:
    """User text (labels, quotes, names) made inert in Markdown: no raw HTML passes through
    (``<script>``, ``<img onerror>``), and no link or code span can be formed."""
    return str(text).translate(_MD_ESCAPES)


def _md_cell(text: str) -> str:
    return md_text(text).replace("|", "\\|").replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _md_line(text: str) -> str:
    return " ".join(md_text(text).split("\n"))


def markdown_table(df, lang: str = "zh", codes: frozenset[str] = frozenset()) -> str:
    """A pipe table; headers in ``lang`` except the columns named after a code in ``codes``."""
    cols, rows = display_rows(df)
    keep = code_columns(cols, codes)
    lines = ["| " + " | ".join(_md_cell(c if c in keep else header(c, lang)) for c in cols) + " |",
             "| " + " | ".join("---" for _ in cols) + " |"]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_report(bundle) -> str:
    """The paper tables numbered as in the docx (表1 …), then the appendix: the quotes and
    every other table in full (附表1 …), all in the report's language."""
    lang = bundle.options.lang
    data = bundle.data
    codes = frozenset(data.codes["code"])
    out = [f"# {_md_line(t('title', lang, name=data.project_name))}", ""]
    for text in introduction(bundle):
        out += [_md_line(text), ""]
    if bundle.sentences:
        out += [f"## {t('summary', lang)}", ""] + [f"> {_md_line(s)}" for s in bundle.sentences] + [""]
    for text in citing_sentences(bundle):
        out += [_md_line(text), ""]
    numbered = paper_tables(bundle)
    shown = {tb.name for _, tb in numbered}
    extra = [tb for tb in bundle.tables if tb.name not in shown]
    n_appendix = sum(1 for _, tb in numbered if tb.appendix)
    in_appendix = False
    entries = [(label, tb, tb.paper) for label, tb in numbered] + [
        (t("appendix_table", lang, n=n_appendix + i), tb, tb.for_people()) for i, tb in enumerate(extra, start=1)]
    for label, tb, df in entries:
        if (tb.appendix or tb.paper is None) and not in_appendix:
            in_appendix = True
            out += [f"## {t('appendix', lang)}", ""]
        out += [f"### {label} {_md_line(tb.caption(lang))}", "", markdown_table(df, lang, codes), ""]
        if tb.notes(lang):
            out += [_md_line(t("note", lang, text=tb.notes(lang))), ""]
    return "\n".join(out)
