"""The figures as a reader of the printed paper sees them: percentages on the share axes,
categories that stay apart in greyscale, one language per figure, the stages in the
code × case heatmap with their sub-codes under them, 300 dpi PNG with SVG and PDF, and no
figure (with a reason) when there is nothing to draw."""
from __future__ import annotations

import re
import warnings

import pytest

CJK = re.compile(r"[\u3400-\u9fff]")
# Greyscale: neighbouring categories must differ in mean grey by at least a tenth of the
# black-to-white range (25.5 of 255 levels). Office laser printers and photocopies render
# greys as halftone dots and reliably keep apart about 8–10 steps between black and white;
# a tenth of the range is one such step. The categories also differ in hatching.
MIN_GREY_STEP = 255 / 10


def _bundle(project, lang="zh", **options):
    from qualcode.reports import load
    from qualcode.reports.bundle import ReportOptions, build_tables

    return build_tables(load(project), ReportOptions(lang=lang, **options))


def _texts(fig) -> list[str]:
    """Every string drawn on the figure: titles, axis labels, tick labels, legends, annotations."""
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text().strip()]


def _profile(small, lang="zh"):
    from qualcode.reports import plots

    bundle = _bundle(small, lang)
    labels = plots.code_labels(bundle.data.codes, lang)
    return plots.stage_profile_figure(bundle.table("stage_profile").df, labels, lang)


def _grey_means(fig, patches, tmp_path) -> list[float]:
    """Mean grey (0–255) inside each patch of ``fig`` in its PNG converted to greyscale."""
    from PIL import Image, ImageStat

    from qualcode.reports import plots

    path = plots._save(fig, tmp_path / "figure")[0]
    image = Image.open(path).convert("L")
    fig.canvas.draw()  # at the figure's 300 dpi: window extents are the PNG's pixels
    renderer = fig.canvas.get_renderer()
    height = image.size[1]
    out = []
    for patch in patches:
        box = patch.get_window_extent(renderer)
        inner = (int(box.x0) + 2, int(height - box.y1) + 2, int(box.x1) - 2, int(height - box.y0) - 2)
        crop = image.crop(inner)
        out.append(ImageStat.Stat(crop).mean[0])
    return out


def test_stage_bars_and_their_legend_stay_apart_in_greyscale(small, tmp_path):
    from matplotlib.patches import Rectangle

    fig = _profile(small)
    ax = fig.axes[0]
    stages = len(ax.get_legend().get_patches())
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() > 0.05]
    assert stages == 4
    # the first case's bars left to right (one per stage: 东街道 has each of the 4 in over 5% of its passages)
    first = sorted(bars, key=lambda p: p.get_x())[:stages]
    for patches in (ax.get_legend().get_patches(), first):
        greys = _grey_means(fig, patches, tmp_path)
        steps = [abs(a - b) for a, b in zip(greys, greys[1:])]
        assert min(steps) >= MIN_GREY_STEP, greys
    hatches = [p.get_hatch() or "" for p in ax.get_legend().get_patches()]
    assert len(set(hatches)) == stages  # each stage its own hatching too


def test_the_grey_check_catches_a_hue_only_palette(small, tmp_path):
    """Control: matplotlib's default colours (tab10) fail the greyscale check above."""
    fig = _profile(small)
    ax = fig.axes[0]
    patches = ax.get_legend().get_patches()
    for patch, colour in zip(patches, ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]):
        patch.set_facecolor(colour)
        patch.set_hatch(None)
    greys = _grey_means(fig, patches, tmp_path)
    assert min(abs(a - b) for a, b in zip(greys, greys[1:])) < MIN_GREY_STEP, greys


def test_heatmap_colours_darken_as_the_value_rises():
    """The heatmaps' colour maps lose lightness monotonically: a higher share prints darker."""
    from matplotlib import colormaps

    for name in ("Blues", "Oranges"):
        cmap = colormaps[name]
        greys = [0.299 * r + 0.587 * g + 0.114 * b for r, g, b, _ in (cmap(i / 20) for i in range(21))]
        assert all(a > b for a, b in zip(greys, greys[1:])), name


def test_shares_are_percentages(small):
    from qualcode.reports import plots

    fig = _profile(small)
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]
    assert ticks and all(t.endswith("%") for t in ticks), ticks
    bundle = _bundle(small)
    heat = plots.case_figure(bundle.table("case_share").df, plots.code_labels(bundle.data.codes, "zh"))
    heat.canvas.draw()
    colorbar = [t.get_text() for t in heat.axes[1].get_yticklabels() if t.get_text()]
    assert colorbar and all(t.endswith("%") for t in colorbar), colorbar
    # 组织网络 in 东街道: 2 of its 6 passages
    assert "33.3%" in _texts(heat)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_figure_speaks_one_language(small, tmp_path, lang):
    from qualcode.reports import plots

    bundle = _bundle(small, lang)
    cases = set(bundle.data.documents["case"])  # data, not labels: 东街道 stays 东街道
    labels = plots.code_labels(bundle.data.codes, lang)
    t = {tb.name: tb.df for tb in bundle.tables}
    summary = t["saturation_summary"].iloc[0]
    figures = {
        "profile": plots.stage_profile_figure(t["stage_profile"], labels, lang),
        "cases": plots.case_figure(t["case_share"], labels, lang),
        "saturation": plots.saturation_figure(t["saturation"], summary, lang),
        "chain": plots.chain_figure(t["chain"][t["chain"]["case"] == "东街道"],
                                    plots.text("chain_title", lang, group="东街道"), lang, labels),
    }
    for name, fig in figures.items():
        strings = [s for s in _texts(fig) if s not in cases]
        strings = [s.replace("东街道", "") for s in strings]
        if lang == "en":
            assert not [s for s in strings if CJK.search(s)], (name, strings)
        else:
            english = [s for s in strings if re.search(r"[A-Za-z]{3,}", s.replace("Chao2", "").replace("Jaccard", ""))]
            assert not english, (name, english)
    assert "Embedding" in _texts(figures["cases"]) if lang == "en" else "组织嵌入" in _texts(figures["cases"])


def test_the_case_heatmap_lists_each_stage_above_its_sub_codes(small):
    from qualcode.reports import plots

    bundle = _bundle(small)
    fig = plots.case_figure(bundle.table("case_share").df, plots.code_labels(bundle.data.codes, "zh"))
    ax = fig.axes[0]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows[:3] == ["组织构建", "\u3000枢纽型组织", "\u3000组织网络"]  # the stage, its sub-codes indented
    assert rows.index("组织嵌入") < rows.index("\u3000离退休党员") < rows.index("组织动员")
    separators = [line for line in ax.get_lines() if len(set(line.get_ydata())) == 1]
    assert len(separators) == 3  # a line between the four stage groups
    # a stage's row counts its sub-codes' passages: 组织构建 in 东街道 = 组织网络's 2 of 6
    row = bundle.table("case_share").df.set_index("code").loc["construction"]
    assert row["东街道"] == pytest.approx(2 / 6, abs=1e-4)


def test_write_plots_gives_300_dpi_png_svg_and_pdf(small, tmp_path):
    from PIL import Image

    from qualcode.reports.plots import write_plots

    written = write_plots(_bundle(small, "en"), tmp_path)
    for name, paths in written.items():
        suffixes = [p.suffix for p in paths]
        assert suffixes.count(".png") == suffixes.count(".svg") == suffixes.count(".pdf") >= 1, name
    png = Image.open(tmp_path / "stage_profile.png")
    assert [round(d) for d in png.info["dpi"]] == [300, 300]
    assert (tmp_path / "stage_profile.pdf").read_bytes().startswith(b"%PDF")


def test_no_codings_skips_the_plots_with_a_reason(small, tmp_path):
    from sqlalchemy import delete

    from qualcode.reports.plots import write_plots
    from qualcode.store import schema as t

    with small.store.transaction() as conn:
        conn.execute(delete(t.codings))
    skipped: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "Attempting to set identical low and high xlims"
        written = write_plots(_bundle(small), tmp_path / "plots", skipped)
    assert written == {} and skipped == ["plots skipped: no codings in this selection (accept or code some, or "
                                         "count proposals with --proposed)"]
    assert not (tmp_path / "plots").exists()


def test_report_all_says_why_the_plots_are_missing(small, tmp_path):
    from sqlalchemy import delete

    from qualcode.reports import report_all
    from qualcode.store import schema as t

    with small.store.transaction() as conn:
        conn.execute(delete(t.codings))
    result = report_all(small, tmp_path / "out")
    assert result["plots"] == [] and any("no codings" in w for w in result["warnings"])
    assert (tmp_path / "out" / "report.html").is_file()
