"""The plots' CJK font: simplified and traditional characters draw, a wrong override is named."""
from __future__ import annotations

import warnings

import pytest


def test_traditional_and_simplified_characters_have_glyphs(tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from qualcode.reports import plots

    fig = Figure()
    FigureCanvasAgg(fig)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph.*missing.*")
        with __import__("matplotlib").rc_context(plots._rc()):
            fig.add_subplot().set_title("組織動員 黨員 關係 · 组织动员 党员 关系 · 鄰里 邻里")
            fig.savefig(tmp_path / "t.png")


def test_a_font_override_that_is_not_a_file_is_an_error(monkeypatch, tmp_path):
    from qualcode.errors import ConfigError
    from qualcode.reports import fonts

    monkeypatch.setenv("QUALCODE_CJK_FONT", str(tmp_path / "missing.otf"))
    fonts.cjk_family.cache_clear()
    try:
        with pytest.raises(ConfigError, match="QUALCODE_CJK_FONT=.*missing.otf is not a font file"):
            fonts.cjk_family()
    finally:
        monkeypatch.delenv("QUALCODE_CJK_FONT")
        fonts.cjk_family.cache_clear()
