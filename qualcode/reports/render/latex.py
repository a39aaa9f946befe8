"""LaTeX tables in booktabs three-line style (三线表): one file per table and a main file."""
from __future__ import annotations

from qualcode.exchange.tables import display_width
from qualcode.reports.render.common import HEADERS_ZH, display_rows

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
LONG_ROWS = 30  # longer tables become longtable (breaks across pages)
PREAMBLE = r"""\documentclass[a4paper]{article}
\usepackage{xeCJK}
\usepackage{booktabs}
\usepackage{longtable}
\usepackage{array}
\usepackage[margin=2cm]{geometry}
\begin{document}
"""


def escape(text: str) -> str:
    return "".join(_SPECIAL.get(ch, ch) for ch in text).replace("\n", " ")


def _spec(cols: list[str], rows: list[list[str]]) -> str:
    spec = []
    for i, _ in enumerate(cols):
        values = [r[i] for r in rows]
        width = max([display_width(v) for v in values] or [0])
        numeric = values and all(v.replace(".", "", 1).replace("-", "", 1).replace("<", "", 1).isdigit() or v == ""
                                 for v in values)
        if numeric:
            spec.append("r")
        elif width > 40:
            spec.append(r"p{5cm}")
        else:
            spec.append("l")
    return "".join(spec)


def latex_table(table, number: int) -> str:
    """A three-line table: \\toprule, \\midrule under the header, \\bottomrule; no vertical rules."""
    df = table.paper if table.paper is not None else table.df
    cols, rows = display_rows(df)
    header = " & ".join(escape(HEADERS_ZH.get(c, c)) for c in cols) + r" \\"
    body = [" & ".join(escape(v) for v in r) + r" \\" for r in rows]
    caption = escape(f"{table.title_zh}（{table.title}）")
    spec = _spec(cols, rows)
    label = f"tab:{table.name}"
    if len(rows) > LONG_ROWS:
        lines = [rf"\begin{{longtable}}{{{spec}}}", rf"\caption{{{caption}}}\label{{{label}}} \\",
                 r"\toprule", header, r"\midrule", r"\endfirsthead", r"\toprule", header, r"\midrule", r"\endhead",
                 r"\bottomrule", r"\endlastfoot", *body, r"\end{longtable}"]
    else:
        lines = [r"\begin{table}[htbp]", r"\centering", rf"\caption{{{caption}}}\label{{{label}}}",
                 rf"\begin{{tabular}}{{{spec}}}", r"\toprule", header, r"\midrule", *body, r"\bottomrule",
                 r"\end{tabular}", r"\end{table}"]
    if table.note:  # inside the float, under the table
        lines.insert(len(lines) - 1 if lines[-1] == r"\end{table}" else len(lines),
                     r"\par\small " + escape("注：" + table.note))
    return "\n".join(lines) + "\n"


def latex_files(bundle) -> dict[str, str]:
    """{file name: content}: one .tex per paper table plus report.tex that inputs them all."""
    files = {}
    inputs = []
    n = 0
    for t in bundle.tables:
        if t.paper is None:
            continue
        n += 1
        files[f"{t.name}.tex"] = latex_table(t, n)
        inputs.append(rf"\input{{{t.name}.tex}}")
    files["report.tex"] = PREAMBLE + "\n".join(inputs) + "\n\\end{document}\n"
    return files
