"""A self-contained HTML report: tables, inline SVG plots and coded passages.

Coded spans are drawn the way spaCy's displacy ``style="span"`` draws them: text with one
coloured bar per code underneath, overlapping codes stacked, the code's label at the start
of each span. Written directly (no spaCy import) so that large projects render quickly.
"""
from __future__ import annotations

import html

from .common import display_rows

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
.s {{ display: inline-block; position: relative; vertical-align: top; }}
.b {{ position: absolute; left: 0; width: 100%; height: {BAR}px; }}
.l {{ position: absolute; left: 0; font-size: 10px; line-height: 1; padding: 1px 3px; border-radius: 2px;
      white-space: nowrap; color: #000; z-index: 1; }}
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


def _slots(spans):
    """Stack overlapping spans: the lowest free row for each (start, end, code)."""
    ends: list[int] = []
    out = []
    for start, end, code in spans:
        slot = next((i for i, e in enumerate(ends) if e <= start), len(ends))
        if slot == len(ends):
            ends.append(end)
        else:
            ends[slot] = end
        out.append((start, end, code, slot))
    return out


def render_passage(text: str, p_start: int, spans, color: dict, label: dict) -> str:
    """Passage text [p_start, …) with spans (document offsets) drawn as stacked bars."""
    placed = _slots(sorted(spans, key=lambda s: (s[0], -s[1], s[2])))
    depth = max((s[3] for s in placed), default=-1) + 1
    height = TOP + depth * (BAR + GAP) + 14
    cuts = sorted({p_start, p_start + len(text), *[s[0] for s in placed], *[s[1] for s in placed]})
    parts = []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        if hi <= lo:
            continue
        seg = html.escape(text[lo - p_start:hi - p_start])
        active = [s for s in placed if s[0] <= lo and s[1] >= hi]
        if not active:
            parts.append(seg)
            continue
        inner = [seg]
        for start, _end, code, slot in active:
            top = TOP + slot * (BAR + GAP)
            inner.append(f'<span class="b" style="top:{top}px;background:{color.get(code, "#ddd")}"></span>')
            if start == lo:
                inner.append(f'<span class="l" style="top:{top + BAR}px;background:{color.get(code, "#ddd")}">'
                             f"{html.escape(label.get(code, code))}</span>")
        parts.append(f'<span class="s" style="height:{height}px">{"".join(inner)}</span>')
    return "".join(parts)


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
    color = colors(data)
    label = dict(zip(data.codes["code"], data.codes["label"]))
    shown = k[k["pid"].isin(p["pid"])]
    by_pid: dict[int, list] = {}
    for pid, s, e, c in zip(shown["pid"].tolist(), shown["start"].tolist(), shown["end"].tolist(),
                            shown["code"].tolist()):
        by_pid.setdefault(pid, []).append((s, e, c))
    out, current = [], None
    for pid, doc_id, seq, ps, pe in zip(p["pid"].tolist(), p["doc_id"].tolist(), p["seq"].tolist(),
                                        p["start"].tolist(), p["end"].tolist()):
        if doc_id != current:
            if current is not None:
                out.append("</div>")
            current = doc_id
            role = roles.get(doc_id, "")
            out.append(f'<div class="doc"><h3>{html.escape(names[doc_id])}</h3>'
                       f'<p class="note">case {html.escape(cases[doc_id] or "-")}'
                       f'{" · " + html.escape(role) if role else ""}</p>')
        spans = [(max(s, ps), min(e, pe), c) for s, e, c in by_pid.get(pid, []) if min(e, pe) > max(s, ps)]
        body = render_passage(texts[doc_id][ps:pe], ps, spans, color, label)
        out.append(f'<p class="p"><span class="pid">{doc_id}:{seq}</span>{body}</p>')
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
