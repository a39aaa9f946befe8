"""A CJK font for the plots, from a PyPI package (no system install needed).

``mplfonts`` ships Noto Sans CJK SC (SIL Open Font License); we register its file with
matplotlib's font manager without importing that package (which would change global
settings). Noto Sans CJK is a pan-CJK font: traditional characters (黨 組織 關係) draw as
well as simplified ones. ``QUALCODE_CJK_FONT=/path/font.otf`` overrides it (a path that is not a
file is an error, not a silent fallback); a system font with CJK glyphs is the last resort.
The font has one weight, so the plots draw bold text as an outline instead of asking for a
bold face (which matplotlib would replace, with a warning).
"""
from __future__ import annotations

import os
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from qualcode.errors import ConfigError

PACKAGED = ("NotoSansCJKsc-Regular.otf", "SourceHanSerifSC-Regular.otf", "NotoSerifCJKsc-Regular.otf")
SYSTEM_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
                   "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", "SimHei", "Heiti SC")


def packaged_font() -> Path | None:
    """The CJK font file shipped by the mplfonts package, if installed."""
    spec = find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        for name in PACKAGED:
            path = Path(location) / "fonts" / name
            if path.is_file():
                return path
    return None


@lru_cache(maxsize=1)
def cjk_family() -> str:
    """Register the CJK font with matplotlib and return its family name."""
    from matplotlib import font_manager

    chosen = os.environ.get("QUALCODE_CJK_FONT")
    if chosen and not Path(chosen).is_file():
        raise ConfigError(f"QUALCODE_CJK_FONT={chosen} is not a font file",
                          hint="point it at an .otf/.ttf/.ttc with Chinese characters, or unset it to use Noto Sans CJK")
    for path in [Path(chosen) if chosen else None, packaged_font()]:
        if path is not None and path.is_file():
            font_manager.fontManager.addfont(str(path))
            return font_manager.FontProperties(fname=str(path)).get_name()
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in SYSTEM_FAMILIES:
        if family in installed:
            return family
    raise ConfigError("no font with Chinese characters for the plots",
                      hint="pip install mplfonts (it ships Noto Sans CJK), or set QUALCODE_CJK_FONT=/path/to/font.otf")
