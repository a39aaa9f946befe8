"""A self-contained HTML report: tables, inline SVG plots and coded passages.

Coded passages are drawn by spaCy's displacy (``style="span"``, manual input): text with one
coloured bar per code underneath, overlapping codes stacked, the code's label at the start
of each span, in the codebook's colours. displacy's span templates are replaced by ones
using this report's CSS classes, which keeps the file small. displacy escapes the text but
not labels or colours, so those are escaped here. spaCy is imported only when a report has
coded passages.
"""
from __future__ import annotations

import html

from qualcode.reports.render.common import display_rows

MAX_PASSAGES = 2000  # coded passages shown; the xlsx has all codings
PALETTE = ["#7aecec", "#bfeeb7", "#feca74", "#ff9561", "#aa9cfc", "#c887fb", "#9cc9cc", "#ffeb80", "#ff8197",
           "#f0d0ff", "#bfe1d9", "#e4e7d2"]
BAR, GAP, TOP = 3, 2, 24  # bar height, gap between bars, distance of the first bar below the text top

CSS = f"""
body {{ font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       margin: 2em auto; max-width: 1100px; color: #222; line-height: 1.5; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 13px; }}
caption {{ font-weight: bold; text-align: left; padding: 4px 0; }}
thead th {{ border-top: 2px solid #000; border-bottom: 1px solid #000; padding: 3px 8px; text-align: left; }}
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


def html_table(table, number: int) -> str:
    cols, rows = display_rows(table.df)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>" for r in rows)
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    caption = html.escape(f"Table {number}. {table.title} ({table.title_zh})")
    return (f'<section id="{table.name}"><table><caption>{caption}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>{note}</section>")


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


def coded_passages(data) -> str:
    """Every coded passage (up to MAX_PASSAGES), grouped by document."""
    k = data.codings[data.codings["pid"] >= 0]
    k = k[k["pid"].isin(data.passages["pid"])]
    if not len(k):
        return "<p>No codings in this selection.</p>"
    p = data.passages[data.passages["pid"].isin(k["pid"])].sort_values(["doc_id", "seq"], kind="stable")
    p = p.head(MAX_PASSAGES)
    texts = data.texts(p["doc_id"].unique())
    docs = data.documents.set_index("doc_id")
    names = docs["document"].astype(str).to_dict()
    cases = docs["case"].astype(str).to_dict()
    roles = docs["role"].astype(str).to_dict() if "role" in docs.columns else {}
    in_view = k[k["pid"].isin(p["pid"])]
    shown = _labels(in_view["code"].tolist(), dict(zip(data.codes["code"], data.codes["label"])))
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
            out.append(f'<div class="doc"><h3>{html.escape(names[doc_id])}</h3>'
                       f'<p class="note">case {html.escape(cases[doc_id] or "-")}'
                       f'{" · " + html.escape(role) if role else ""}</p>')
        out.append(f'<div class="p"><span class="pid">{doc_id}:{seq}</span>{body}</div>')
    out.append("</div>")
    total = k["pid"].nunique()
    if total > len(p):
        out.append(f'<p class="note">{total - len(p)} more coded passages are not shown.</p>')
    return "".join(out)


def html_report(bundle, svgs: dict[str, str] | None = None) -> str:
    data = bundle.data
    title = html.escape(f"qualcode report: {data.project_name}")
    parts = [f'<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>{title}</title>'
             f"<style>{CSS}</style></head><body><h1>{title}</h1>",
             f"<p>Codings: {html.escape(data.selection.describe())}.</p>"]
    if data.selection.proposed:
        parts.append("<p><strong>Counts include unreviewed proposals</strong> (automatic codings nobody has "
                     "accepted yet).</p>")
    parts += [f"<blockquote>{html.escape(s)}</blockquote>" for s in bundle.sentences]
    for name, svg in (svgs or {}).items():
        parts.append(f'<figure id="plot-{html.escape(name)}">{svg}</figure>')
    for i, t in enumerate(bundle.tables, start=1):
        parts.append(html_table(t, i))
    parts.append("<h2>Coded passages</h2>")
    parts.append(coded_passages(data))
    parts.append("</body></html>\n")
    return "\n".join(parts)
