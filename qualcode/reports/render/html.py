"""A self-contained HTML report in the report's language: tables, inline SVG plots and coded
passages.

Every table sits in a box that scrolls sideways when it is wider than the page. Each count
of a matrix (code × case counts, shares and presence, sub-codes, the framework, the
co-occurrence matrix on passages) links to the list of the passages it counts (a block with
a stable id, e.g. ``cell-embedding.retirees--H街道`` or ``pair-a--b``, shown when targeted),
and each listed passage links to its full text (``p-DOC-SEQ``) further down: a reader drills
from a count to the text without any script.

Coded passages are drawn by spaCy's displacy (``style="span"``, manual input): text with one
coloured bar per code underneath, overlapping codes stacked, the code's label at the start
of each span, in the codebook's colours. displacy's span templates are replaced by ones
using this report's CSS classes, which keeps the file small. displacy escapes the text but
not labels or colours, so those are escaped here. spaCy is imported only when a report has
coded passages.
"""
from __future__ import annotations

import html

from qualcode.reports.labels import header, labelled, t
from qualcode.reports.placement import codable_passages, passage_rows, placed
from qualcode.reports.render.common import display_rows, introduction, paper_tables

MAX_PASSAGES = 2000  # coded passages shown; the xlsx has all codings
MAX_LISTED = 200  # passages listed under one count (the rest are counted)
EXCERPT = 80  # characters of a passage shown in a count's list
TEXT: dict[str, dict[str, str]] = {
    "zh": {"coded_passages": "编码段落", "no_codings": "所选范围内没有编码。",
           "more_passages": "另有{n}个编码段落未列出。", "case_role": "案例{case} · 受访者{role}", "case_only": "案例{case}",
           "drill": "计数对应的段落", "drill_note": "点击矩阵中的计数，即在此显示该计数所含的段落；点击段落编号可跳至下文的原文。",
           "cell_group": "{code} × {group}：{n}", "cell_pair": "{a} × {b}：{n}",
           "cell_code": "{code}：{n}", "more_listed": "另有{n}个段落未列出。", "passages": "{n}个段落"},
    "en": {"coded_passages": "Coded passages", "no_codings": "No codings in this selection.",
           "more_passages": "{n} more coded passages are not shown.", "case_role": "case {case} · {role}",
           "case_only": "case {case}", "drill": "Passages behind the counts",
           "drill_note": "Click a count in a matrix to show its passages here; click a passage id for its full text "
                         "below.",
           "cell_group": "{code} × {group}: {n}", "cell_pair": "{a} × {b}: {n}", "cell_code": "{code}: {n}",
           "more_listed": "{n} more passages are not listed.", "passages": "{n} passages", "passage": "{n} passage"},
}


def text(key: str, lang: str = "zh", **values) -> str:
    """An HTML report string in ``lang``."""
    return TEXT["en" if lang == "en" else "zh"][key].format(**values)


def _passages(n: int, lang: str) -> str:
    """"7 passages" / "1 passage" / "7个段落"."""
    return text("passage" if n == 1 and lang == "en" else "passages", lang, n=n)
PALETTE = ["#7aecec", "#bfeeb7", "#feca74", "#ff9561", "#aa9cfc", "#c887fb", "#9cc9cc", "#ffeb80", "#ff8197",
           "#f0d0ff", "#bfe1d9", "#e4e7d2"]
BAR, GAP, TOP = 3, 2, 24  # bar height, gap between bars, distance of the first bar below the text top

CSS = f"""
body {{ font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       margin: 2em auto; padding: 0 1em; max-width: 1100px; color: #222; line-height: 1.5; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 13px; }}
caption {{ font-weight: bold; text-align: left; padding: 4px 0; }}
thead th {{ border-top: 2px solid #000; border-bottom: 1px solid #000; padding: 3px 8px; text-align: left;
            white-space: nowrap; }}
tbody td {{ padding: 3px 8px; vertical-align: top; }}
tbody tr:last-child td {{ border-bottom: 2px solid #000; }}
.note {{ font-size: 12px; color: #555; }}
.doc {{ margin-top: 1.5em; border-top: 1px solid #ddd; }}
.p {{ margin: 0.6em 0; line-height: 2.2; }}
.pid {{ color: #888; font-size: 11px; margin-right: 6px; }}
.p .spans {{ display: inline; }}
.s {{ display: inline-block; position: relative; vertical-align: top; }}
.b {{ position: absolute; left: 0; width: 100%; height: {BAR}px; }}
.l {{ position: absolute; left: 0; margin-top: {BAR}px; font-size: 10px; line-height: 1; padding: 1px 3px;
      border-radius: 2px; white-space: nowrap; color: #000; z-index: 1; }}
svg {{ max-width: 100%; height: auto; }}
.scroll {{ overflow-x: auto; max-width: 100%; }}
.scroll table {{ margin: 0.5em 0; }}
a.n {{ color: inherit; text-decoration: underline dotted; }}
a.n:hover {{ background: #fff3c4; }}
.cell {{ display: none; border-left: 3px solid #1f4e79; padding: 0 1em; margin: 1em 0; }}
.cell:target {{ display: block; }}
.cell ol {{ padding-left: 1.5em; }}
.who {{ color: #555; font-size: 12px; }}
.p:target {{ background: #fff3c4; }}
"""


def colors(data) -> dict[str, str]:
    """Each code's colour: its own from the codebook, else its stage's, else the palette."""
    own = {}
    if data.codebook is not None:
        own = {c.path: c.color for c in data.codebook.codes if c.color}
    out = {}
    for i, code in enumerate(data.codes["code"]):
        parts = code.split("/")
        chain = ["/".join(parts[: j + 1]) for j in range(len(parts))][::-1]
        out[code] = next((own[c] for c in chain if c in own), PALETTE[i % len(PALETTE)])
    return out


def _cells(df, name: str, shares: set[str]) -> tuple[list[str], list[list[str]]]:
    """Headers (column ids) and cell texts; share tables' group columns as percentages."""
    cols, rows = display_rows(df)
    if name not in shares:
        return cols, rows
    skip = {"code", "label", "group", "passages", "total"}
    pct = [c not in skip for c in cols]
    values = df.itertuples(index=False, name=None)
    return cols, [[f"{float(v) * 100:.1f}%" if p and isinstance(v, (int, float)) and v == v else text
                   for text, v, p in zip(row, raw, pct)] for row, raw in zip(rows, values)]


def html_table(table, label: str, lang: str = "zh", links: dict | None = None, data=None,
               shares: set[str] | None = None) -> str:
    """One table in a box that scrolls sideways when the table is wider than the page;
    ``links``: (row index, column id) → the id of the passage list a cell opens."""
    shown = table.for_people() if hasattr(table, "for_people") else table.df
    df = labelled(shown, data, lang) if data is not None else shown
    cols, rows = _cells(df, table.name, shares or set())
    ids = [str(c) for c in shown.columns]  # links are keyed by the original column ids
    links = links or {}
    named = code_labels(data, lang) if data is not None else {}  # columns named after a code (co-occurrence)
    head = "".join(f"<th>{html.escape(named.get(c) or header(c, lang))}</th>" for c in cols)

    def cell(i: int, col: str, value: str) -> str:
        target = links.get((i, col))
        if not (target and value):
            return f"<td>{html.escape(value)}</td>"
        count, sep, rest = value.partition("｜")  # "n=12｜「quote」": the count is the link
        return f'<td><a class="n" href="#{html.escape(target)}">{html.escape(count)}</a>{html.escape(sep + rest)}</td>'

    body = "".join("<tr>" + "".join(cell(i, c, v) for c, v in zip(ids, r)) + "</tr>" for i, r in enumerate(rows))
    note_text = table.notes(lang) if hasattr(table, "notes") else table.note
    note = f'<p class="note">{html.escape(t("note", lang, text=note_text))}</p>' if note_text else ""
    title = table.caption(lang) if hasattr(table, "caption") else table.title
    sep = "\u3000" if lang != "en" else ". "
    caption = html.escape(f"{label}{sep}{title}" if label else title)
    return (f'<section id="{html.escape(table.name)}"><div class="scroll"><table><caption>{caption}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{note}</section>")


# ------------------------------------------------------------------ drilling from a count to its passages

def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(text)) or "_"


class _Ids:
    """Stable, unique element ids from readable keys (code paths, group names)."""

    def __init__(self) -> None:
        self.ids: dict[tuple, str] = {}
        self.taken: set[str] = set()

    def get(self, kind: str, *parts: str) -> str:
        key = (kind, *parts)
        if key not in self.ids:
            base = kind + "-" + "--".join(_slug(p.replace("/", ".")) for p in parts)
            out, n = base, 1
            while out in self.taken:
                n += 1
                out = f"{base}-{n}"
            self.ids[key] = out
            self.taken.add(out)
        return self.ids[key]


def _group_passages(data, by: str) -> dict[tuple[str, str], list[int]]:
    """(code, group) → the passages counted in that cell of the code × group tables (a code
    with its sub-codes rolled up, each coding in every passage it overlaps)."""
    k = placed(data, data.expanded(rollup=True))
    groups = data.groups(by)
    out: dict[tuple[str, str], set[int]] = {}
    for code, group, pid in zip(k["code"], k["doc_id"].map(groups), k["pid"]):
        out.setdefault((str(code), str(group)), set()).add(int(pid))
    return {key: sorted(v) for key, v in out.items()}


def _code_units(data, o) -> dict[str, set[int]] | None:
    """code → the passages (units) the co-occurrence matrix counts it in; None when the unit
    is not a passage (sentences, windows and interviews are not listed)."""
    import numpy as np

    if getattr(o, "unit", "passage") != "passage":
        return None
    level = getattr(o, "level", None)
    k = data.expanded(level=level, rollup=level is not None)
    rows, pids = passage_rows(data, k)
    units = data.passages if getattr(o, "all_units", False) else codable_passages(data)
    keep = np.isin(pids, units["pid"].to_numpy())
    out: dict[str, set[int]] = {}
    for code, pid in zip(k["code"].to_numpy()[rows][keep], pids[keep]):
        out.setdefault(str(code), set()).add(int(pid))
    return out


def drill_links(bundle, ids: _Ids) -> tuple[dict[str, dict], dict[str, tuple[str, list[int]]]]:
    """For each matrix table, (row, column) → list id; and list id → (heading, passage ids).

    Code × group tables (codings, shares, presence, sub-codes) and the framework share one
    list per (code, group); the co-occurrence matrix one per pair of codes."""
    data, o = bundle.data, bundle.options
    lang = getattr(o, "lang", "zh")
    by = o.by
    label = code_labels(data, lang)
    lists: dict[str, tuple[str, list[int]]] = {}
    links: dict[str, dict] = {}
    cells = None
    stage_of = {}
    for code, zh, en, depth in zip(data.codes["code"], data.codes["label"], data.codes["label_en"],
                                   data.codes["depth"]):
        if depth == 0:
            stage_of[str(zh)] = stage_of[str(en or zh)] = str(code)
    for table in bundle.tables:
        df = table.df
        mine: dict = {}
        if table.name in (f"{by}_matrix", f"{by}_share", f"{by}_presence", "subcodes", "framework"):
            cells = cells if cells is not None else _group_passages(data, by)
            if table.name == "framework":
                if by not in df.columns:
                    continue
                pairs = [(i, col, stage_of.get(str(col), ""), str(g)) for i, g in enumerate(df[by])
                         for col in df.columns if col != by]
            elif "code" in df.columns:
                groups = [c for c in df.columns if c not in ("code", "label", "total")]
                pairs = [(i, col, str(code), str(col)) for i, code in enumerate(df["code"]) for col in groups]
            else:
                continue
            for i, col, code, group in pairs:
                pids = cells.get((code, group)) if code else None
                if pids:
                    target = ids.get("cell", code, group)
                    mine[(i, str(col))] = target
                    lists.setdefault(target, (text("cell_group", lang, code=label.get(code, code), group=group,
                                                   n=_passages(len(pids), lang)), pids))
        elif table.name == "cooccurrence_matrix" and "code" in df.columns:
            units = _code_units(data, o)
            if units is None:
                continue
            order = {c: i for i, c in enumerate(data.codes["code"])}
            for i, a in enumerate(df["code"]):
                for b in df.columns[2:]:
                    x, y = sorted((str(a), str(b)), key=lambda c: order.get(c, 0))
                    pids = sorted(units.get(x, set()) & units.get(y, set()))
                    if pids:
                        target = ids.get("pair", x, y)
                        mine[(i, str(b))] = target
                        n = _passages(len(pids), lang)
                        head = (text("cell_code", lang, code=label.get(x, x), n=n) if x == y else
                                text("cell_pair", lang, a=label.get(x, x), b=label.get(y, y), n=n))
                        lists.setdefault(target, (head, pids))
        if mine:
            links[table.name] = mine
    return links, lists


def passage_lists(data, lists: dict[str, tuple[str, list[int]]], shown: set[int], lang: str) -> str:
    """One hidden block per linked cell (shown when a count's link targets it): the passages
    counted, each with its interviewee code, the start of its text and a link to it below."""
    if not lists:
        return ""
    info = data.passages.set_index("pid")
    place = {int(p): (int(d), int(q)) for p, d, q in zip(data.passages["pid"], data.passages["doc_id"],
                                                          data.passages["seq"])}
    lists = {k: (h, sorted(pids, key=lambda p: place.get(p, (0, p)))) for k, (h, pids) in lists.items()}  # reading order
    needed = sorted({p for _, pids in lists.values() for p in pids[:MAX_LISTED]})
    docs = sorted({int(info.at[p, "doc_id"]) for p in needed if p in info.index})
    texts = data.texts(docs)
    who = _interviewees(data)
    out = [f'<section id="drill"><h2>{html.escape(text("drill", lang))}</h2>'
           f'<p class="note">{html.escape(text("drill_note", lang))}</p>']
    for target, (heading, pids) in lists.items():
        items = []
        for pid in pids[:MAX_LISTED]:
            if pid not in info.index:
                continue
            doc_id, seq = int(info.at[pid, "doc_id"]), int(info.at[pid, "seq"])
            body = texts[doc_id][int(info.at[pid, "start"]):int(info.at[pid, "end"])]
            excerpt = body if len(body) <= EXCERPT else body[:EXCERPT] + "…"
            ref = f"{doc_id}:{seq}"
            link = (f'<a href="#p-{doc_id}-{seq}">{ref}</a>' if pid in shown else ref)
            person = who.get(doc_id, "")
            items.append(f'<li>{link} <span class="who">{html.escape(person)}</span> {html.escape(excerpt)}</li>')
        more = (f'<p class="note">{html.escape(text("more_listed", lang, n=len(pids) - MAX_LISTED))}</p>'
                if len(pids) > MAX_LISTED else "")
        out.append(f'<div class="cell" id="{html.escape(target)}"><h3>{html.escape(heading)}</h3>'
                   f'<ol>{"".join(items)}</ol>{more}</div>')
    out.append("</section>")
    return "".join(out)


def _interviewees(data) -> dict[int, str]:
    """doc_id → the interviewee code (manifest or ``docs set``), else the document name."""
    docs = data.documents.set_index("doc_id")
    names = docs["document"].astype(str).to_dict()
    roles = docs["role"].fillna("").astype(str).to_dict() if "role" in docs.columns else {}
    return {d: roles.get(d) or names[d] for d in names}


def code_labels(data, lang: str) -> dict[str, str]:
    """code → its label in ``lang`` (the English label, else the code's id, in English)."""
    out = {}
    for code, zh, en in zip(data.codes["code"], data.codes["label"], data.codes["label_en"]):
        out[str(code)] = (str(en) if en else str(code).rsplit("/", 1)[-1]) if lang == "en" else str(zh)
    return out


# displacy's span templates with this report's classes (.s segment, .b bar, .l label) instead
# of its inline styles; {text} arrives escaped, {label} and {bg} are escaped in _labels/_options.
TEMPLATE = {
    "span": '<span class="s" style="height:{total_height}px">{text}{span_slices}{span_starts}</span>',
    "slice": '<span class="b" style="top:{top_offset}px;background:{bg}"></span>',
    "start": '<span class="l" style="top:{top_offset}px;background:{bg}">{label}{kb_link}</span>',
}
# displacy writes a space after every token outside a span (it expects space-separated words,
# Chinese has none); each token carries this mark and the mark with its space is taken out.
# Import removes control characters, so no passage contains it.
_MARK = "\x00"


def _labels(codes, label: dict) -> dict[str, str]:
    """The escaped label shown for each code; displacy colours by label (case-insensitively),
    so a label two codes share gets the code path added."""
    codes = sorted(set(codes))
    shown = {c: html.escape(label.get(c, c)) for c in codes}
    counts: dict[str, int] = {}
    for text in shown.values():
        counts[text.upper()] = counts.get(text.upper(), 0) + 1
    return {c: t if counts[t.upper()] == 1 else f"{t} ({html.escape(c)})" for c, t in shown.items()}


def _manual(text: str, p_start: int, spans, shown: dict) -> dict:
    """displacy's manual span format: tokens cut at every span boundary (document offsets
    in ``spans`` made relative to the passage)."""
    cuts = sorted({0, len(text), *(x - p_start for s, e, _ in spans for x in (s, e))})
    index = {x: i for i, x in enumerate(cuts)}
    mark = "" if _MARK in text else _MARK
    return {
        "text": text,
        "tokens": [text[a:b] + mark for a, b in zip(cuts, cuts[1:])],
        "spans": [{"start_token": index[s - p_start], "end_token": index[e - p_start], "label": shown[code]}
                  for s, e, code in spans],
    }


def _options(shown: dict, color: dict) -> dict:
    return {"colors": {text: html.escape(color.get(code, "#ddd")) for code, text in shown.items()},
            "template": TEMPLATE, "top_offset": TOP, "top_offset_step": BAR + GAP,
            "span_label_offset": BAR + GAP + 14}


def _render(manuals: list[dict], options: dict) -> list[str]:
    """The markup of each passage in ``manuals`` (displacy's manual format), from one displacy
    call: setting up its renderer costs more than rendering a passage."""
    from spacy import displacy

    def render(docs):
        markup = displacy.render(docs, style="span", manual=True, page=False, jupyter=False, options=options)
        return markup.replace(_MARK + " ", "").replace(_MARK, "")

    # each passage is one <div class="spans">; text and labels are escaped, so no other "<div"
    parts = ["<div" + part.rstrip() for part in render(manuals).split("<div")[1:]]
    return parts if len(parts) == len(manuals) else [render(m) for m in manuals]


def render_passage(text: str, p_start: int, spans, color: dict, label: dict) -> str:
    """Passage text [p_start, …) with spans (start, end, code; document offsets) drawn as
    stacked bars by displacy; ``color`` and ``label`` map codes to colours and labels."""
    shown = _labels([c for _, _, c in spans], label)
    return _render([_manual(text, p_start, spans, shown)], _options(shown, color))[0]


def coded_passages(data, lang: str = "zh") -> tuple[str, set[int]]:
    """Every coded passage (up to MAX_PASSAGES), grouped by document, each with the id
    ``p-DOC-SEQ`` the passage lists link to; returns the markup and the passage ids shown."""
    k = data.codings[data.codings["pid"] >= 0]
    k = k[k["pid"].isin(data.passages["pid"])]
    if not len(k):
        return f"<p>{html.escape(text('no_codings', lang))}</p>", set()
    p = data.passages[data.passages["pid"].isin(k["pid"])].sort_values(["doc_id", "seq"], kind="stable")
    p = p.head(MAX_PASSAGES)
    texts = data.texts(p["doc_id"].unique())
    docs = data.documents.set_index("doc_id")
    names = docs["document"].astype(str).to_dict()
    cases = docs["case"].astype(str).to_dict()
    roles = docs["role"].fillna("").astype(str).to_dict() if "role" in docs.columns else {}
    in_view = k[k["pid"].isin(p["pid"])]
    shown = _labels(in_view["code"].tolist(), code_labels(data, lang))
    options = _options(shown, colors(data))
    by_pid: dict[int, list] = {}
    for pid, s, e, c in zip(in_view["pid"].tolist(), in_view["start"].tolist(), in_view["end"].tolist(),
                            in_view["code"].tolist()):
        by_pid.setdefault(pid, []).append((s, e, c))
    rows = list(zip(p["pid"].tolist(), p["doc_id"].tolist(), p["seq"].tolist(), p["start"].tolist(),
                    p["end"].tolist()))
    manuals = []
    for pid, doc_id, _seq, ps, pe in rows:
        spans = [(max(s, ps), min(e, pe), c) for s, e, c in by_pid.get(pid, []) if min(e, pe) > max(s, ps)]
        manuals.append(_manual(texts[doc_id][ps:pe], ps, spans, shown))
    bodies = _render(manuals, options)
    out, current = [], None
    for (_pid, doc_id, seq, _ps, _pe), body in zip(rows, bodies):
        if doc_id != current:
            if current is not None:
                out.append("</div>")
            current = doc_id
            role = roles.get(doc_id, "")
            who = text("case_role", lang, case=cases[doc_id] or "-", role=role) if role else \
                text("case_only", lang, case=cases[doc_id] or "-")
            out.append(f'<div class="doc"><h3>{html.escape(names[doc_id])}</h3>'
                       f'<p class="note">{html.escape(who)}</p>')
        out.append(f'<div class="p" id="p-{doc_id}-{seq}"><span class="pid">{doc_id}:{seq}</span>{body}</div>')
    out.append("</div>")
    total = k["pid"].nunique()
    if total > len(p):
        out.append(f'<p class="note">{html.escape(text("more_passages", lang, n=total - len(p)))}</p>')
    return "".join(out), set(p["pid"].tolist())


def html_report(bundle, svgs: dict[str, str] | None = None) -> str:
    """The report as one self-contained page in ``bundle.options.lang``: introduction, plots,
    every table (wide ones scroll in their box; each count of a matrix links to the list of
    its passages), the passage lists, and the coded passages."""
    data = bundle.data
    lang = getattr(bundle.options, "lang", "zh")
    title = html.escape(t("title", lang, name=data.project_name))
    parts = [f'<!DOCTYPE html><html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8">'
             f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
             f"<style>{CSS}</style></head><body><h1>{title}</h1>"]
    parts += [f"<p>{html.escape(line)}</p>" for line in introduction(bundle)]
    parts += [f"<blockquote>{html.escape(s)}</blockquote>" for s in bundle.sentences]
    for name, svg in (svgs or {}).items():
        parts.append(f'<figure id="plot-{html.escape(name)}">{svg}</figure>')
    numbers = {id(tb): label for label, tb in paper_tables(bundle)}
    ids = _Ids()
    links, lists = drill_links(bundle, ids)
    shares = {f"{bundle.options.by}_share", "stage_profile"}
    for tb in bundle.tables:
        parts.append(html_table(tb, numbers.get(id(tb), ""), lang, links.get(tb.name), data, shares))
    passages, shown = coded_passages(data, lang)
    parts.append(passage_lists(data, lists, shown, lang))
    parts.append(f'<h2 id="passages">{html.escape(text("coded_passages", lang))}</h2>')
    parts.append(passages)
    parts.append("</body></html>\n")
    return "\n".join(parts)
