"""Plots (PNG + SVG) with Chinese labels: co-occurrence heatmap, saturation curve, code × case
heatmap, stage profile per case. Reproducible: no dates in the files, a fixed SVG id salt.

Figures are drawn on ``matplotlib.figure.Figure`` directly (no pyplot state, no GUI backend).
"""
from __future__ import annotations

from pathlib import Path

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
    fig.savefig(png, dpi=DPI, metadata={"Software": None})
    fig.savefig(svg, metadata={"Date": None, "Creator": None})
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
        est, lo, hi = (float(summary_row[c]) for c in ("chao2_bc", "chao2_lower", "chao2_upper"))
        ax.axhline(est, color="#c0504d", linewidth=1, label=f"Chao2 估计 {est:.1f}")
        ax.fill_between([x.min() - 0.5, x.max() + 0.5], lo, hi, color="#c0504d", alpha=0.1, linewidth=0)
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
    return out
