"""Cell formatting and reproducible files shared by the renderers."""
from __future__ import annotations

import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qualcode.reports.labels import HEADERS, describe_selection, header, t as t_

P_COLUMNS = ("p_fisher", "q_bh")
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# Column headers in Chinese (kept for callers of the old name; labels.HEADERS has both languages).
HEADERS_ZH = HEADERS["zh"]

# The page the paper outputs print on: A4 with the margins Chinese journals ask for (Word's
# A4 default: 2.54 cm top and bottom, 3.17 cm left and right), tables in 9 pt (小五).
PAGE_MM = (210.0, 297.0)
MARGINS_MM = {"top": 25.4, "bottom": 25.4, "left": 31.7, "right": 31.7}
TABLE_PT = 9.0
SMALL_TABLE_PT = 7.5
COLUMN_GAP_PT = 8.0  # space between two columns (4 pt each side)
_MM = 72 / 25.4
TEXT_WIDTH_PT = (PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]) * _MM
LANDSCAPE_WIDTH_PT = (PAGE_MM[1] - MARGINS_MM["top"] - MARGINS_MM["bottom"]) * _MM - 20  # under the running foot


def _char_em(ch: str) -> float:
    if unicodedata.east_asian_width(ch) in "WF":
        return 1.0
    if ch.isupper() or ch in "%@&—":
        return 0.75
    return 0.5 if ch.isdigit() or ch in " .,;:()" else 0.55


def text_em(text: str) -> float:
    """The width of ``text`` on one line, in em (CJK one em, digits half, Latin letters a little more)."""
    return sum(_char_em(ch) for ch in text)


_BREAKS = re.compile(r"[\s/]+|(?<=[-–])")


def min_em(text: str) -> float:
    """The widest piece of ``text`` a line cannot break (a Latin word, a code path segment,
    a number); CJK breaks between characters."""
    widest = 0.0
    for token in _BREAKS.split(text):
        run = 0.0
        for ch in token:
            if unicodedata.east_asian_width(ch) in "WF":
                widest, run = max(widest, run, 2.0), 0.0  # a character and its closing punctuation
            else:
                run += _char_em(ch)
        widest = max(widest, run + 0.6)  # the slash or hyphen that ends it
    return widest


@dataclass
class Layout:
    """How a paper table fits the page: landscape or not, font size, column widths in pt."""

    landscape: bool
    font_pt: float
    widths_pt: list[float]
    numeric: list[bool]


def is_numeric_column(values: list[str]) -> bool:
    return bool(values) and all(re.fullmatch(r"[<>]?-?[\d.]+( \([\d.—]+\))?|—|", v) is not None for v in values)


def layout(headers: list[str], rows: list[list[str]], cap_em: float = 40.0) -> Layout:
    """Column widths that fit the text block: portrait 9 pt, else portrait 7.5 pt, else
    landscape. A column gets its natural width when every column fits; otherwise each gets
    its widest unbreakable piece and the rest of the line goes to the columns with long text."""
    columns = list(zip(headers, *rows)) if rows else [(h,) for h in headers]
    need = [min(cap_em, max(text_em(v) for v in col)) for col in columns]
    least = [max(min_em(v) for v in col) for col in columns]
    numeric = [is_numeric_column(list(col[1:])) for col in columns]
    need = [max(n * 1.08 + 0.8, m) for n, m in zip(need, least)]  # slack: a substituted font runs wider
    for landscape, font in ((False, TABLE_PT), (False, SMALL_TABLE_PT), (True, TABLE_PT), (True, SMALL_TABLE_PT)):
        avail = ((LANDSCAPE_WIDTH_PT if landscape else TEXT_WIDTH_PT) - COLUMN_GAP_PT * len(columns)) / font
        if sum(least) > avail:
            continue
        if sum(need) <= avail:
            widths = need
        else:
            spare, grow = avail - sum(least), [n - m for n, m in zip(need, least)]
            widths = [m + spare * g / sum(grow) for m, g in zip(least, grow)]
        return Layout(landscape, font, [w * font for w in widths], numeric)
    font = SMALL_TABLE_PT  # wider than a landscape page even at 7.5 pt: split the line evenly
    avail = (LANDSCAPE_WIDTH_PT - COLUMN_GAP_PT * len(columns))
    return Layout(True, font, [avail / len(columns)] * len(columns), numeric)


def paper_tables(bundle) -> list[tuple[str, Any]]:
    """The tables the docx and LaTeX print, each with its label (表1 … then 附表1 …), in the
    order the introduction cites them: the main tables, then the appendix."""
    lang = bundle.options.lang
    main = [t for t in bundle.tables if t.paper is not None and not t.appendix]
    appendix = [t for t in bundle.tables if t.paper is not None and t.appendix]
    return ([(t_("table", lang, n=i), t) for i, t in enumerate(main, start=1)]
            + [(t_("appendix_table", lang, n=i), t) for i, t in enumerate(appendix, start=1)])


def citing_sentences(bundle) -> list[str]:
    """The introduction's sentence citing every table in the order they are numbered."""
    lang = bundle.options.lang
    numbered = paper_tables(bundle)
    main = [(label, t) for label, t in numbered if not t.appendix]
    appendix = [(label, t) for label, t in numbered if t.appendix]
    out = []
    if main:
        names = t_("list_sep", lang).join(t.caption(lang) for _, t in main)
        out.append(t_("cites", lang, first=main[0][0], last=main[-1][0], list=names) if len(main) > 1
                   else t_("cites_one", lang, first=main[0][0], list=names))
    if appendix:
        out.append(t_("appendix_intro", lang, first=appendix[0][0]))
    return out


def introduction(bundle) -> list[str]:
    """The paragraphs before the tables: which codings, the scope, and the tables cited in order."""
    lang = bundle.options.lang
    data = bundle.data
    out = [t_("codings", lang, what=describe_selection(data.selection, lang))]
    if data.selection.proposed:
        out.append(t_("proposed", lang))
    out.append(t_("scope", lang, documents=len(data.documents), passages=data.n_passages, codings=len(data.codings)))
    return out


def code_columns(columns, codes: frozenset[str]) -> set[str]:
    """The columns named after codes (the stage profile's, the co-occurrence matrix's): they keep
    their names in every language. One column that happens to share a code's name (``context``
    beside a code ``context``) is not a table of codes."""
    named = set(columns) & codes
    return named if len(named) > 1 else set()


def paper_cells(table, lang: str) -> tuple[list[str], list[list[str]]]:
    """A paper table's headers in ``lang`` and its cells as text."""
    cols, rows = display_rows(table.paper)
    return [header(c, lang) for c in cols], rows


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def display(value, column: str = "") -> str:
    """A cell as text for Markdown, LaTeX, docx and HTML."""
    if is_missing(value):
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu"):
        return str(int(value))
    if isinstance(value, float) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") == "f"):
        v = float(value)
        if column in P_COLUMNS:
            return "<0.001" if v < 0.001 else f"{v:.3f}"
        if v.is_integer() and column not in ("passage_share", "jaccard", "lift", "pmi", "coverage"):
            return str(int(v))
        return f"{v:.3f}"
    return str(value)


def records(df) -> list[dict]:
    """DataFrame rows as plain Python values (NaN → None) for CSV/xlsx."""
    out = []
    for row in df.itertuples(index=False, name=None):
        rec = {}
        for col, v in zip(df.columns, row):
            if is_missing(v):
                v = None
            elif hasattr(v, "item"):
                v = v.item()
            rec[str(col)] = v
        out.append(rec)
    return out


def display_rows(df) -> tuple[list[str], list[list[str]]]:
    cols = [str(c) for c in df.columns]
    return cols, [[display(v, c) for c, v in zip(cols, row)] for row in df.itertuples(index=False, name=None)]


_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")
FIXED_DATE = b"2000-01-01T00:00:00Z"


def _fixed_core(blob: bytes) -> bytes:
    """docProps/core.xml with created/modified pinned (writers stamp the current time)."""
    return _CORE_DATES.sub(lambda m: m.group(1) + FIXED_DATE + m.group(3), blob)


def normalize_zip(path: Path) -> None:
    """Rewrite a zip (xlsx/docx) with fixed timestamps and sorted-by-original-order entries,
    so that the same content gives the same bytes."""
    path = Path(path)
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info.filename)) for info in src.infolist()]
    items = [(info, _fixed_core(blob) if info.filename == "docProps/core.xml" else blob) for info, blob in items]
    tmp = path.with_name(path.name + ".zip-part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info, blob in items:
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, blob)
    tmp.replace(path)
