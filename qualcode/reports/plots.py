"""Plots for the paper, each in one language (``lang`` "zh" or "en": titles, axes, legends
and code labels): co-occurrence heatmap, saturation curve, code × case heatmap, stage
profile per case, and the chain of each case (``chain_plot``).

Every figure is written as a 300 dpi PNG, an SVG and a PDF (text drawn as paths in the SVG;
in the PDF the glyphs used are embedded and the text stays searchable), reproducibly: no
dates in the files, a fixed SVG id salt.
Shares are shown as percentages. Categories differ in lightness and hatching, not only in
hue, so the figures survive greyscale printing; heatmaps use one-hue sequential colour maps
(lightness falls as the value rises). The code axes of the heatmaps follow the code tree:
each stage, then its sub-codes indented under it, the groups separated by a line.

Figures are drawn on ``matplotlib.figure.Figure`` directly (no pyplot state, no GUI backend).
A figure with nothing to show is not drawn: ``write_plots`` says why in ``skipped``.
"""
from __future__ import annotations

import functools
import textwrap
from pathlib import Path
from typing import Any

from qualcode import files
from qualcode.reports.cooccurrence import cooccurrence_matrix
from qualcode.reports.fonts import cjk_family
from qualcode.reports.labels import t as status_t

SVG_SALT = "qualcode"
DPI = 300
FORMATS = ("png", "svg", "pdf")
LANGS = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "cooc_title": "编码共现（Jaccard系数）", "jaccard": "Jaccard系数",
        "sat_title": "编码饱和曲线", "new": "新增编码", "cumulative": "累计编码",
        "expected": "期望累计（所有访谈顺序的均值）", "chao2": "Chao2估计：{est:.1f}",
        "band": "饱和点的5%–95%区间（随机访谈顺序）：{lo}–{hi}", "point": "饱和点：{guest}",
        "interview": "访谈序号", "codes": "编码数",
        "case_title": "编码×{group}（占该{group}段落的百分比）", "share": "段落占比（%）",
        "profile_title": "各{group}的阶段分布", "profile_axis": "段落占比（%）",
        "n_interviews": "{n}次访谈",
        "n_interview": "{n}次访谈",
        "break": "断裂", "chain_title": "{group}：组织链条", "breaks_at": "链条断于：{link}",
        "holds": "链条完整",
    },
    "en": {
        "cooc_title": "Code co-occurrence (Jaccard coefficient)", "jaccard": "Jaccard coefficient",
        "sat_title": "Code saturation", "new": "New codes", "cumulative": "Cumulative codes",
        "expected": "Expected cumulative (mean over interview orders)", "chao2": "Chao2 estimate: {est:.1f}",
        "band": "Saturation point, 5%–95% over random orders: {lo}–{hi}", "point": "Saturation point: {guest}",
        "interview": "Interview", "codes": "Codes",
        "case_title": "Code × {group} (% of the {group}'s passages)", "share": "Share of passages (%)",
        "profile_title": "Stage profile per {group}", "profile_axis": "Share of passages (%)",
        "n_interviews": "{n} interviews",
        "n_interview": "{n} interview",
        "break": "break", "chain_title": "{group}: the chain", "breaks_at": "The chain breaks at: {link}",
        "holds": "The chain holds",
    },
}
GROUP_WORDS = {"zh": {"case": "案例", "role": "受访者角色", "role_code": "受访者"},
               "en": {"case": "case", "role": "interviewee role", "role_code": "interviewee"}}

# Categorical fills for bars (the stage profile): a one-hue ramp from light to dark, so that
# neighbours differ in lightness (and the chain's order reads as light → dark), plus a
# hatching pattern each, drawn a shade lighter or darker than the fill.
HATCHES = ("", "////", "....", "xxx", "\\\\\\\\", "++", "oo", "--")
SEQUENTIAL = "Blues"
HATCH_CONTRAST = 0.45


def text(key: str, lang: str = "zh", **values: Any) -> str:
    """A figure string in ``lang`` ("zh" or "en"; anything else: zh)."""
    return TEXT[lang if lang in TEXT else "zh"][key].format(**values)


def status_text(status: str, lang: str = "zh") -> str:
    """A chain status (present, absent, not discussed) as the tables print it."""
    return status_t(f"status.{status}", lang)


def group_word(by: str, lang: str = "zh") -> str:
    return GROUP_WORDS[lang if lang in GROUP_WORDS else "zh"].get(by, by)


def code_labels(codes_df, lang: str = "zh") -> dict[str, str]:
    """code path → its label in ``lang``: the codebook's English label for "en" (else the
    code's own id), the Chinese label otherwise (``ReportData.codes`` columns)."""
    out = {}
    for code, zh, en in zip(codes_df["code"], codes_df["label"], codes_df["label_en"]):
        en_label = str(en) if isinstance(en, str) and en else str(code).rsplit("/", 1)[-1]
        out[str(code)] = en_label if lang == "en" else (str(zh) if isinstance(zh, str) and zh else str(code))
    return out


def category_styles(n: int) -> list[dict[str, Any]]:
    """Fill, hatching and hatch colour of ``n`` categories: lightness evenly spaced along a
    one-hue ramp (neighbours differ by at least ~1/n of the black-to-white range) and a
    different hatching each."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps[SEQUENTIAL]
    stops = [0.18 + 0.82 * i / max(n - 1, 1) for i in range(n)] if n > 1 else [0.55]
    out = []
    for i, stop in enumerate(stops):
        r, g, b, _ = cmap(stop)
        # the hatching a shade lighter (dark fills) or darker (light fills) than its fill: visible,
        # while the patch's overall grey stays near its fill's, one step from its neighbours'
        toward = 1.0 if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else 0.0
        hatch = (r + HATCH_CONTRAST * (toward - r), g + HATCH_CONTRAST * (toward - g), b + HATCH_CONTRAST * (toward - b))
        out.append(dict(facecolor=to_hex((r, g, b)), edgecolor="black", hatch=HATCHES[i % len(HATCHES)],
                        hatchcolor=to_hex(hatch)))
    return out


def _styled(function):
    """Run ``function`` in this module's matplotlib settings (the CJK font, reproducible SVG):
    a text's font is fixed when the text is made."""
    @functools.wraps(function)
    def run(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(_rc()):
            return function(*args, **kwargs)
    return run


def _rc():
    return {"font.family": [cjk_family(), "DejaVu Sans"], "axes.unicode_minus": False, "svg.hashsalt": SVG_SALT,
            "svg.fonttype": "path", "pdf.fonttype": 3, "font.size": 9, "hatch.linewidth": 0.8}


@_styled
def _save(fig, base: Path) -> list[Path]:
    """The figure as ``base``.png (300 dpi), .svg and .pdf."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    metadata = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
                "pdf": {"CreationDate": None, "Creator": None, "Producer": None}}
    out = []
    for fmt in FORMATS:
        path = base.with_suffix(f".{fmt}")

        def save(tmp, fmt: str = fmt) -> None:
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata=metadata[fmt])
        files.write_with(path, save)
        out.append(path)
    return out


def _bold(artist) -> None:
    """Bold by outline: the CJK font ships one weight (asking for bold makes matplotlib warn)."""
    from matplotlib import patheffects

    artist.set_path_effects([patheffects.withStroke(linewidth=0.6, foreground=artist.get_color())])


def _pct(v: float) -> str:
    return f"{v * 100:.1f}%"


def tree_axis(codes: list[str]) -> tuple[list[int], list[int]]:
    """For codes in codebook order: their depths and the positions where a new stage group
    starts (a code whose top-level code differs from the one before)."""
    depths = [c.count("/") for c in codes]
    roots = [c.split("/", 1)[0] for c in codes]
    starts = [i for i in range(1, len(codes)) if roots[i] != roots[i - 1]]
    return depths, starts


def _tree_labels(ax, codes: list[str], labels: dict[str, str], axis: str, lang: str) -> None:
    """Label a heatmap axis with the code tree: stages bold, sub-codes indented under them,
    a line between stage groups."""
    depths, starts = tree_axis(codes)
    indent = "\u3000" if lang != "en" else "    "
    shown = [indent * d + labels.get(c, c) for c, d in zip(codes, depths)]
    ticks = list(range(len(codes)))
    if axis == "y":
        ax.set_yticks(ticks, labels=shown)
        tick_labels = ax.get_yticklabels()
        for s in starts:
            ax.axhline(s - 0.5, color="black", linewidth=1.0)
    else:
        ax.set_xticks(ticks, labels=shown, rotation=60, ha="right", rotation_mode="anchor")
        tick_labels = ax.get_xticklabels()
        for s in starts:
            ax.axvline(s - 0.5, color="black", linewidth=1.0)
    for t, d in zip(tick_labels, depths):
        if d == 0:
            _bold(t)
    if axis == "y":
        _left_align_yticks(ax)


def _left_align_yticks(ax) -> None:
    """Left-align the y tick labels (so that the sub-codes' indent shows): pad them by the
    widest label."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = ax.get_figure()
    renderer = FigureCanvasAgg(fig).get_renderer()
    labels = ax.get_yticklabels()
    widest = max((t.get_window_extent(renderer).width for t in labels), default=0.0)
    for t in labels:
        t.set_horizontalalignment("left")
    ax.tick_params(axis="y", pad=widest * 72 / fig.dpi + 3.5)


def _annotate(ax, matrix, fmt, top: float) -> None:
    if not matrix.size or matrix.size > 900:
        return
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            v = matrix[i, j]
            if v:
                ax.text(j, i, fmt(v), ha="center", va="center", fontsize=6,
                        color="white" if top and v > 0.55 * top else "black")


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


@_styled
def cooccurrence_figure(matrix_df, labels: dict[str, str] | None = None, lang: str = "zh"):
    """Jaccard coefficients of the codes that occur (``cooccurrence_matrix(value="jaccard")``),
    codes grouped by stage; None when fewer than two codes occur."""
    import numpy as np

    codes = matrix_df["code"].astype(str).tolist()
    if len(codes) < 2:
        return None
    labels = labels or dict(zip(codes, matrix_df["label"].astype(str)))
    values = matrix_df[codes].to_numpy(dtype=float, copy=True)
    np.fill_diagonal(values, 0.0)  # the diagonal (1) would swamp the colour scale
    n = len(codes)
    fig = _figure(min(3.5 + 0.3 * n, 16), min(2.8 + 0.27 * n, 15))
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="Blues", aspect="auto", vmin=0)
    _tree_labels(ax, codes, labels, "y", lang)
    _tree_labels(ax, codes, labels, "x", lang)
    _annotate(ax, values, lambda v: f"{v:.2f}".lstrip("0"), float(np.nanmax(values)))
    bar = fig.colorbar(image, ax=ax, shrink=0.7, label=text("jaccard", lang))
    bar.ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:g}")
    ax.set_title(text("cooc_title", lang))
    return fig


def cooccurrence_heatmap(matrix_df, base: Path, lang: str = "zh", labels: dict[str, str] | None = None) -> list[Path]:
    fig = cooccurrence_figure(matrix_df, labels, lang)
    return _save(fig, base) if fig is not None else []


@_styled
def saturation_figure(curve_df, summary_row, lang: str = "zh"):
    """Cumulative codes by interview (observed and expected over all orders), new codes as
    bars, the Chao2 estimate with its interval, and the Guest et al. saturation point; None
    without interviews."""
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    overall = curve_df[curve_df["scope"] == "overall"]
    x = overall["position"].to_numpy()
    if not len(x):
        return None
    fig = _figure(7, 4.6)
    ax = fig.add_subplot()
    ax.bar(x, overall["new"], color="#c8c8c8", edgecolor="#7f7f7f", linewidth=0.5, label=text("new", lang))
    ax.plot(x, overall["cumulative"], marker="o", markersize=4, color="#1f3b57", label=text("cumulative", lang))
    ax.plot(x, overall["expected"], linestyle="--", color="#4d4d4d", label=text("expected", lang))
    if summary_row is not None:
        est = float(summary_row["chao2_bc"])
        ax.axhline(est, color="#8c2d2a", linewidth=1, linestyle="-.", label=text("chao2", lang, est=est))
        lo, hi = summary_row["chao2_lower"], summary_row["chao2_upper"]
        if lo not in ("", None) and hi not in ("", None):  # no interval when Chao2 sees nothing unseen
            ax.fill_between([x.min() - 0.5, x.max() + 0.5], float(lo), float(hi), color="#8c2d2a", alpha=0.1,
                            linewidth=0)
        p05, p95 = summary_row.get("band_p05", ""), summary_row.get("band_p95", "")
        if isinstance(p05, (int, np.integer)) and isinstance(p95, (int, np.integer)):
            ax.axvspan(float(p05), float(p95), color="#7f7f7f", alpha=0.12, linewidth=0,
                       label=text("band", lang, lo=p05, hi=p95))
        point = summary_row["guest_interview"]
        if point not in ("", None) and not (isinstance(point, float) and np.isnan(point)):
            ax.axvline(float(point), color="black", linestyle=":",
                       label=text("point", lang, guest=summary_row["guest"]))
    ax.set_xlabel(text("interview", lang))
    ax.set_ylabel(text("codes", lang))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(text("sat_title", lang))
    ax.set_xticks(x if len(x) <= 30 else np.linspace(x.min(), x.max(), 10).round().astype(int))
    ax.legend(fontsize=7, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    return fig


def saturation_plot(curve_df, summary_row, base: Path, lang: str = "zh") -> list[Path]:
    fig = saturation_figure(curve_df, summary_row, lang)
    return _save(fig, base) if fig is not None else []


@_styled
def case_figure(share_df, labels: dict[str, str] | None = None, lang: str = "zh", by: str = "case"):
    """Share of each group's passages coded with each code (stages rolled up from their
    sub-codes, listed first with the sub-codes indented under them); None without codes or
    groups."""
    import numpy as np
    from matplotlib.ticker import PercentFormatter

    cols = [c for c in share_df.columns if c not in ("code", "label", "total")]
    codes = share_df["code"].astype(str).tolist()
    if not codes or not cols:
        return None
    labels = labels or dict(zip(codes, share_df["label"].astype(str)))
    values = share_df[cols].to_numpy(dtype=float)
    fig = _figure(min(3.5 + 0.75 * len(cols), 14), min(2.5 + 0.28 * len(codes), 15))
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="Oranges", aspect="auto", vmin=0)
    _tree_labels(ax, codes, labels, "y", lang)
    ax.set_xticks(np.arange(len(cols)), labels=[str(c) for c in cols], rotation=30, ha="right",
                  rotation_mode="anchor")
    _annotate(ax, values, _pct, float(np.nanmax(values)) if values.size else 0.0)
    bar = fig.colorbar(image, ax=ax, shrink=0.7, label=text("share", lang))
    bar.ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    group = group_word(by, lang)
    ax.set_title(text("case_title", lang, group=group))
    return fig


def case_heatmap(share_df, base: Path, lang: str = "zh", labels: dict[str, str] | None = None,
                 by: str = "case") -> list[Path]:
    fig = case_figure(share_df, labels, lang, by)
    return _save(fig, base) if fig is not None else []


@_styled
def stage_profile_figure(profile_df, labels: dict[str, str], lang: str = "zh", by: str = "case"):
    """Grouped bars: per group, the share of its passages coded with each stage; each stage
    its own lightness and hatching. None without stages or groups."""
    import numpy as np
    from matplotlib.ticker import PercentFormatter

    stages = [c for c in profile_df.columns if c not in ("group", "passages")]
    groups = profile_df["group"].astype(str).tolist()
    if not stages or not groups:
        return None
    fig = _figure(min(4 + 0.9 * len(groups) * max(len(stages), 3) / 5, 14), 4)
    ax = fig.add_subplot()
    width = 0.8 / len(stages)
    x = np.arange(len(groups))
    for i, (s, style) in enumerate(zip(stages, category_styles(len(stages)))):
        ax.bar(x + (i - (len(stages) - 1) / 2) * width, profile_df[s].to_numpy(dtype=float), width,
               label=labels.get(s, s), linewidth=0.6, **style)
    ax.set_xticks(x, labels=groups)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_ylabel(text("profile_axis", lang))
    ax.set_title(text("profile_title", lang, group=group_word(by, lang)))
    ax.legend(fontsize=7, ncols=min(len(stages), 5), loc="upper center", bbox_to_anchor=(0.5, -0.1),
              handleheight=1.6, handlelength=2.4)
    return fig


def stage_profile_plot(profile_df, labels: dict[str, str], base: Path, lang: str = "zh",
                       by: str = "case") -> list[Path]:
    fig = stage_profile_figure(profile_df, labels, lang, by)
    return _save(fig, base) if fig is not None else []


# greyscale-safe: the three statuses differ in fill, hatching and border, not in hue
STATUS_STYLE: dict[str, dict[str, Any]] = {
    "present": dict(facecolor="#3a3a3a", edgecolor="black", linewidth=1.2, hatch=None, linestyle="-"),
    "absent": dict(facecolor="white", edgecolor="black", linewidth=2.0, hatch="////", linestyle="-"),
    "not discussed": dict(facecolor="white", edgecolor="#7f7f7f", linewidth=1.2, hatch=None, linestyle="--"),
}


@_styled
def chain_figure(case_df, title: str, lang: str = "zh", labels: dict[str, str] | None = None):
    """One case's chain: the stages left to right with arrows, each stage's sub-codes below
    it; status by fill (present: dark), hatching (absent) and a dashed border (not
    discussed); a cross on the arrow into the stage where the chain breaks."""
    from matplotlib.patches import FancyBboxPatch, Patch

    def label_of(row) -> str:
        return (labels or {}).get(row["link"], row["label"])

    stages = case_df[case_df["kind"] == "stage"].reset_index(drop=True)
    subs = case_df[case_df["kind"] != "stage"]
    depth = max([int((subs["link"].str.rsplit("/", n=1).str[0] == s).sum()) for s in stages["link"]] + [0])
    n = max(len(stages), 1)
    fig = _figure(2.6 * n + 0.6, 2.3 + 0.62 * depth + 0.6)
    ax = fig.add_subplot()
    ax.set_xlim(-0.2, 3 * n - 0.6)
    ax.set_ylim(-1.0 - 0.75 * depth, 1.6)
    ax.axis("off")
    breaks_at = case_df["breaks_at"].iloc[0] if len(case_df) else ""

    def box(x, y, w, h, row, size):
        style = STATUS_STYLE[row["status"]]
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", **style))
        color = "white" if row["status"] == "present" else "black"
        n_int = int(row["interviews"])
        count = text("n_interview" if n_int == 1 else "n_interviews", lang, n=n_int) if row["status"] != "not discussed" else ""
        label = "\n".join(textwrap.wrap(label_of(row), 20 if size > 7 else 28)) or label_of(row)
        body = f"{label}\n{status_text(row['status'], lang)}" + (f"\n{count}" if count and size > 7 else
                                                                   (f" · {count}" if count else ""))
        ax.text(x + w / 2, y + h / 2, body, ha="center", va="center", fontsize=size, color=color,
                bbox=dict(facecolor="white", edgecolor="none", pad=0.5, alpha=0.85) if row["hatch_label"] else None)

    def break_mark(x, y):
        _bold(ax.text(x, y, text("break", lang), ha="center", va="bottom", fontsize=8))

    for i, row in stages.iterrows():
        x = 3 * i
        box(x, 0, 2.2, 1.2, dict(row, hatch_label=row["status"] == "absent"), 9)
        if i:
            ax.annotate("", xy=(x - 0.05, 0.6), xytext=(x - 0.75, 0.6),
                        arrowprops=dict(arrowstyle="-|>", color="black", linewidth=1.5))
            if row["link"] == breaks_at:
                mid = x - 0.4
                ax.plot([mid - 0.15, mid + 0.15], [0.35, 0.85], color="black", linewidth=3)
                ax.plot([mid - 0.15, mid + 0.15], [0.85, 0.35], color="black", linewidth=3)
                break_mark(mid, 1.0)
        kids = subs[subs["link"].str.rsplit("/", n=1).str[0] == row["link"]].reset_index(drop=True)
        for j, kid in kids.iterrows():
            box(x + 0.15, -0.85 - 0.75 * j, 1.9, 0.6, dict(kid, hatch_label=kid["status"] == "absent"), 7)
    if breaks_at and len(stages) and breaks_at == stages["link"].iloc[0]:
        break_mark(1.1, 1.3)
    handles = [Patch(label=status_text(k, lang), **{key: v for key, v in st.items() if key != "linestyle"},
                     linestyle=st["linestyle"]) for k, st in STATUS_STYLE.items()]
    ax.legend(handles=handles, loc="upper right", fontsize=7, ncols=3, bbox_to_anchor=(1.0, 1.08), frameon=False)
    broken = stages[stages["link"] == breaks_at]
    verdict = (text("breaks_at", lang, link=label_of(broken.iloc[0]) if len(broken) else breaks_at) if breaks_at
               else text("holds", lang))
    ax.set_title(f"{title}\n{verdict}", fontsize=10)
    return fig


def chain_plot(case_df, base: Path, title: str, lang: str = "zh", labels: dict[str, str] | None = None) -> list[Path]:
    return _save(chain_figure(case_df, title, lang, labels), base)


def chain_file_name(group: str, index: int) -> str:
    """``chain_<group>`` with characters unsafe in file names replaced (index keeps names unique)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(group)).strip("_")
    return f"chain_{index:02d}_{safe or 'none'}"


def write_chain_plots(chain_df, folder: Path, lang: str = "zh", labels: dict[str, str] | None = None) -> list[Path]:
    """One chain figure per group of ``chain_df`` (``reports.chain``) into ``folder``: PNG,
    SVG and PDF each. ``labels``: code path → label in ``lang`` (default: the table's labels)."""
    import matplotlib

    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    with matplotlib.rc_context(_rc()):
        for i, (group, part) in enumerate(chain_df.groupby("case", sort=True), start=1):
            paths += chain_plot(part, folder / chain_file_name(group, i), text("chain_title", lang, group=group),
                                lang, labels)
    return paths


def write_plots(bundle, folder: Path, skipped: list[str] | None = None) -> dict[str, list[Path]]:
    """Every plot of ``bundle`` into ``folder`` in ``bundle.options.lang``; {name: [png, svg,
    pdf]}. A plot with nothing to show is left out, with the reason appended to ``skipped``."""
    import matplotlib

    skipped = skipped if skipped is not None else []
    data, o = bundle.data, bundle.options
    lang = getattr(o, "lang", "zh")
    if not len(data.codings):
        skipped.append("plots skipped: no codings in this selection (accept or code some, or count proposals "
                       "with --proposed)")
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    t = {table.name: table.df for table in bundle.tables}
    by = o.by
    labels = code_labels(data.codes, lang)
    summary = t["saturation_summary"]
    overall = summary[summary["scope"] == "overall"].iloc[0] if len(summary) else None
    jac = cooccurrence_matrix(data, unit=o.unit, window=o.window, level=o.level, value="jaccard",
                              all_units=o.all_units)
    out: dict[str, list[Path]] = {}
    reasons = {"cooccurrence": "fewer than two codes occur", "saturation": "no interviews",
               "cases": f"no codes or no {by} groups", "stage_profile": f"no stages or no {by} groups"}
    with matplotlib.rc_context(_rc()):
        drawn = {
            "cooccurrence": cooccurrence_heatmap(jac, folder / "cooccurrence_heatmap", lang, labels),
            "saturation": saturation_plot(t["saturation"], overall, folder / "saturation_curve", lang),
            "cases": case_heatmap(t[f"{by}_share"], folder / f"code_{by}_heatmap", lang, labels, by),
            "stage_profile": stage_profile_plot(t["stage_profile"], labels, folder / "stage_profile", lang, by),
        }
    for name, paths in drawn.items():
        if paths:
            out[name] = paths
        else:
            skipped.append(f"plot {name} skipped: {reasons[name]}")
    if "chain" in t and len(t["chain"]):
        out["chain"] = write_chain_plots(t["chain"], folder, lang, labels)
    return out
