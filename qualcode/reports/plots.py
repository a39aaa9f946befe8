"""Plots (PNG + SVG) with Chinese labels: co-occurrence heatmap, saturation curve, code × case
heatmap, stage profile per case, and the chain of each case (``chain_plot``). Reproducible: no dates in the files, a fixed SVG id salt.

Figures are drawn on ``matplotlib.figure.Figure`` directly (no pyplot state, no GUI backend).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from qualcode import files
from qualcode.reports.cooccurrence import cooccurrence_matrix
from qualcode.reports.fonts import cjk_family

SVG_SALT = "qualcode"
DPI = 150


def _rc():
    return {"font.family": [cjk_family(), "DejaVu Sans"], "axes.unicode_minus": False, "svg.hashsalt": SVG_SALT,
            "svg.fonttype": "path", "font.size": 9}


def _save(fig, base: Path) -> list[Path]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    png, svg = base.with_suffix(".png"), base.with_suffix(".svg")
    files.write_with(png, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None}))
    files.write_with(svg, lambda tmp: fig.savefig(tmp, format="svg", metadata={"Date": None, "Creator": None}))
    return [png, svg]


def _heatmap(ax, matrix, rows, cols, fmt, cmap="Blues", annotate=True):
    import numpy as np

    image = ax.imshow(matrix, cmap=cmap, aspect="auto", vmin=0)
    ax.set_xticks(np.arange(len(cols)), labels=cols, rotation=60, ha="right", rotation_mode="anchor")
    ax.set_yticks(np.arange(len(rows)), labels=rows)
    if annotate and matrix.size and matrix.size <= 900:
        top = float(np.nanmax(matrix)) if matrix.size else 0.0
        for i in range(matrix.shape[0]):
            for j in range(matrix.shape[1]):
                v = matrix[i, j]
                if v:
                    ax.text(j, i, fmt(v), ha="center", va="center", fontsize=6,
                            color="white" if top and v > 0.6 * top else "black")
    return image


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def cooccurrence_heatmap(matrix_df, base: Path, title: str = "编码共现（Jaccard）") -> list[Path]:
    """Jaccard matrix of the codes that occur (labels in Chinese)."""
    import numpy as np

    labels = matrix_df["label"].astype(str).tolist()
    values = matrix_df.drop(columns=["code", "label"]).to_numpy(dtype=float, copy=True)
    np.fill_diagonal(values, 0.0)  # the diagonal (1) would swamp the colour scale
    n = max(len(labels), 1)
    fig = _figure(min(3 + 0.35 * n, 16), min(2.5 + 0.32 * n, 15))
    ax = fig.add_subplot()
    image = _heatmap(ax, values, labels, labels, lambda v: f"{v:.2f}".lstrip("0"))
    fig.colorbar(image, ax=ax, shrink=0.7, label="Jaccard")
    ax.set_title(title)
    return _save(fig, base)


def saturation_plot(curve_df, summary_row, base: Path, title: str = "编码饱和曲线") -> list[Path]:
    """Cumulative codes by interview (observed and expected over all orders), new codes as
    bars, the Chao2 estimate with its interval, and the Guest et al. saturation point."""
    import numpy as np

    overall = curve_df[curve_df["scope"] == "overall"]
    x = overall["position"].to_numpy()
    fig = _figure(7, 4)
    ax = fig.add_subplot()
    ax.bar(x, overall["new"], color="#bbbbbb", label="新增编码 new codes")
    ax.plot(x, overall["cumulative"], marker="o", color="#1f4e79", label="累计编码 cumulative")
    ax.plot(x, overall["expected"], linestyle="--", color="#2e8b57", label="期望累计 expected (all orders)")
    if summary_row is not None and len(x):
        est = float(summary_row["chao2_bc"])
        ax.axhline(est, color="#c0504d", linewidth=1, label=f"Chao2 估计 {est:.1f}")
        lo, hi = summary_row["chao2_lower"], summary_row["chao2_upper"]
        if lo not in ("", None) and hi not in ("", None):  # no interval when Chao2 sees nothing unseen
            ax.fill_between([x.min() - 0.5, x.max() + 0.5], float(lo), float(hi), color="#c0504d", alpha=0.1,
                            linewidth=0)
        p05, p95 = summary_row.get("band_p05", ""), summary_row.get("band_p95", "")
        if isinstance(p05, (int, np.integer)) and isinstance(p95, (int, np.integer)):
            ax.axvspan(float(p05), float(p95), color="#7f7f7f", alpha=0.12, linewidth=0,
                       label=f"饱和点 5–95% over random orders ({p05}–{p95})")
        point = summary_row["guest_interview"]
        if point not in ("", None) and not (isinstance(point, float) and np.isnan(point)):
            ax.axvline(float(point), color="#7f7f7f", linestyle=":",
                       label=f"饱和点 saturation ({summary_row['guest']})")
    ax.set_xlabel("访谈序号 interview")
    ax.set_ylabel("编码数 codes")
    ax.set_title(title)
    if len(x):
        ax.set_xticks(x if len(x) <= 30 else np.linspace(x.min(), x.max(), 10).round().astype(int))
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, base)


def case_heatmap(share_df, base: Path, title: str = "编码×案例（段落占比）") -> list[Path]:
    """Share of each case's passages coded with each leaf code."""
    leaf = share_df[~share_df["code"].isin(set(c.rsplit("/", 1)[0] for c in share_df["code"] if "/" in c))]
    cols = [c for c in share_df.columns if c not in ("code", "label")]
    values = leaf[cols].to_numpy(dtype=float)
    rows = leaf["label"].astype(str).tolist()
    fig = _figure(min(3 + 0.6 * len(cols), 14), min(2.5 + 0.3 * len(rows), 15))
    ax = fig.add_subplot()
    image = _heatmap(ax, values, rows, cols, lambda v: f"{v:.0%}", cmap="Oranges")
    fig.colorbar(image, ax=ax, shrink=0.7, label="段落占比 share of passages")
    ax.set_title(title)
    return _save(fig, base)


def stage_profile_plot(profile_df, labels: dict[str, str], base: Path, title: str = "各案例的阶段分布") -> list[Path]:
    """Grouped bars: per case, the share of its passages coded with each stage."""
    import numpy as np

    stages = [c for c in profile_df.columns if c not in ("group", "passages")]
    groups = profile_df["group"].astype(str).tolist()
    fig = _figure(min(4 + 0.9 * len(groups), 14), 4)
    ax = fig.add_subplot()
    width = 0.8 / max(len(stages), 1)
    x = np.arange(len(groups))
    for i, s in enumerate(stages):
        ax.bar(x + (i - (len(stages) - 1) / 2) * width, profile_df[s].to_numpy(dtype=float), width,
               label=labels.get(s, s))
    ax.set_xticks(x, labels=groups)
    ax.set_ylabel("段落占比 share of passages")
    ax.set_title(title)
    ax.legend(fontsize=7, ncols=min(len(stages), 5), loc="upper center", bbox_to_anchor=(0.5, -0.12))
    return _save(fig, base)


STATUS_ZH = {"present": "有 present", "absent": "缺失 absent", "not discussed": "未谈及 not discussed"}
# greyscale-safe: the three statuses differ in fill, hatching and border, not in hue
STATUS_STYLE: dict[str, dict[str, Any]] = {
    "present": dict(facecolor="#3a3a3a", edgecolor="black", linewidth=1.2, hatch=None, linestyle="-"),
    "absent": dict(facecolor="white", edgecolor="black", linewidth=2.0, hatch="////", linestyle="-"),
    "not discussed": dict(facecolor="white", edgecolor="#7f7f7f", linewidth=1.2, hatch=None, linestyle="--"),
}


def chain_plot(case_df, base: Path, title: str) -> list[Path]:
    """One case's chain: the stages left to right with arrows, each stage's sub-codes below
    it; status by fill (present: dark), hatching (absent) and a dashed border (not
    discussed); a cross on the arrow into the stage where the chain breaks."""
    from matplotlib.patches import FancyBboxPatch, Patch

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
        count = f"{row['interviews']} 访谈" if row["status"] != "not discussed" else ""
        text = f"{row['label']}\n{STATUS_ZH[row['status']]}" + (f"\n{count}" if count and size > 7 else
                                                                   (f" · {count}" if count else ""))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size, color=color,
                bbox=dict(facecolor="white", edgecolor="none", pad=0.5, alpha=0.85) if row["hatch_label"] else None)

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
                ax.text(mid, 1.0, "断裂 break", ha="center", va="bottom", fontsize=8, fontweight="bold")
        kids = subs[subs["link"].str.rsplit("/", n=1).str[0] == row["link"]].reset_index(drop=True)
        for j, kid in kids.iterrows():
            box(x + 0.15, -0.85 - 0.75 * j, 1.9, 0.6, dict(kid, hatch_label=kid["status"] == "absent"), 7)
    if breaks_at and len(stages) and breaks_at == stages["link"].iloc[0]:
        ax.text(1.1, 1.3, "断裂 break", ha="center", va="bottom", fontsize=8, fontweight="bold")
    handles = [Patch(label=STATUS_ZH[k], **{key: v for key, v in st.items() if key != "linestyle"},
                     linestyle=st["linestyle"]) for k, st in STATUS_STYLE.items()]
    ax.legend(handles=handles, loc="upper right", fontsize=7, ncols=3, bbox_to_anchor=(1.0, 1.08), frameon=False)
    verdict = f"链条断于 breaks at: {breaks_at}" if breaks_at else "链条完整 the chain holds"
    ax.set_title(f"{title}\n{verdict}", fontsize=10)
    return _save(fig, base)


def chain_file_name(group: str, index: int) -> str:
    """``chain_<group>`` with characters unsafe in file names replaced (index keeps names unique)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(group)).strip("_")
    return f"chain_{index:02d}_{safe or 'none'}"


def write_chain_plots(chain_df, folder: Path) -> list[Path]:
    """One chain figure per group of ``chain_df`` (``reports.chain``) into ``folder``: PNG + SVG each."""
    import matplotlib

    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    with matplotlib.rc_context(_rc()):
        for i, (group, part) in enumerate(chain_df.groupby("case", sort=True), start=1):
            paths += chain_plot(part, folder / chain_file_name(group, i), f"{group}：组织链条 the chain")
    return paths


def write_plots(bundle, folder: Path) -> dict[str, list[Path]]:
    """All four plots into ``folder``; {name: [png, svg]}."""
    import matplotlib

    folder.mkdir(parents=True, exist_ok=True)
    t = {table.name: table.df for table in bundle.tables}
    by = bundle.options.by
    labels = dict(zip(bundle.data.codes["code"], bundle.data.codes["label"]))
    summary = t["saturation_summary"]
    overall = summary[summary["scope"] == "overall"].iloc[0] if len(summary) else None

    o = bundle.options
    jac = cooccurrence_matrix(bundle.data, unit=o.unit, window=o.window, level=o.level, value="jaccard")
    out = {}
    with matplotlib.rc_context(_rc()):
        out["cooccurrence"] = cooccurrence_heatmap(jac, folder / "cooccurrence_heatmap")
        out["saturation"] = saturation_plot(t["saturation"], overall, folder / "saturation_curve")
        out["cases"] = case_heatmap(t[f"{by}_share"], folder / f"code_{by}_heatmap")
        out["stage_profile"] = stage_profile_plot(t["stage_profile"], labels, folder / "stage_profile")
    if "chain" in t:
        out["chain"] = write_chain_plots(t["chain"], folder)
    return out
