"""Cell formatting and reproducible files shared by the renderers."""
from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path

P_COLUMNS = ("p_fisher", "q_bh")
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# Column headers in Chinese for the paper outputs (docx, LaTeX); others keep the ids.
HEADERS_ZH = {
    "code": "编码", "label": "名称", "label_en": "英文名", "depth": "层级", "definition": "定义",
    "criteria": "纳入/排除标准", "example": "示例", "codings": "编码次数", "passages": "段落数",
    "documents": "访谈数", "cases": "案例数", "passage_share": "段落占比", "total": "合计", "case": "案例",
    "label_a": "编码A", "label_b": "编码B", "n_a": "A段落数", "n_b": "B段落数", "n_ab": "共现数",
    "jaccard": "Jaccard", "lift": "提升度", "pmi": "PMI", "p_fisher": "Fisher p", "scope": "范围",
    "interviews": "访谈数", "codes_observed": "已见编码", "guest": "Guest b+r", "francis": "Francis 10+3",
    "chao2_bc": "Chao2", "chao2_lower": "95%CI下限", "chao2_upper": "95%CI上限", "coverage": "样本覆盖率",
    "rank": "序号", "quote": "引语", "role": "受访者", "group": "组别",
}


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
