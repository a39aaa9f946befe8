"""LaTeX tables in booktabs three-line style (三线表): one file per table and a main file.

Compiled with xelatex: xeCJK with a CJK font covering simplified and traditional characters
(Noto Serif CJK SC, else WenQuanYi Micro Hei), A4 with journal margins, every table a
``longtable`` (it breaks across pages and is never floated away from the text) with column
widths that fit the text block (``render.common.layout``; wide tables turn landscape),
captions 表1 / Table 1 in the report's language, the quotes in an appendix after the tables.
"""
from __future__ import annotations

import re

from qualcode.reports.labels import t
from qualcode.reports.render.common import MARGINS_MM, citing_sentences, introduction, layout, paper_cells, paper_tables

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def preamble(lang: str) -> str:
    m = MARGINS_MM
    word = t("table_word", lang)
    # appendix tables: 附表1 in Chinese, Table A1 in English
    appendix = (r"\renewcommand{\thetable}{A\arabic{table}}" if lang == "en"
                else rf"\renewcommand{{\tablename}}{{{t('appendix_table_word', lang)}}}")
    # 表1 as the docx prints it: the number in a box, so xeCJK puts no CJK–Latin space before it
    label_format = "joined" if lang != "en" else "simple"
    return rf"""\documentclass[a4paper,10pt]{{article}}
\usepackage[a4paper,top={m['top']}mm,bottom={m['bottom']}mm,left={m['left']}mm,right={m['right']}mm]{{geometry}}
\usepackage{{fontspec}}
\usepackage{{xeCJK}}
\IfFontExistsTF{{Noto Serif CJK SC}}{{\setCJKmainfont{{Noto Serif CJK SC}}}}{{\setCJKmainfont{{WenQuanYi Micro Hei}}}}
\IfFontExistsTF{{TeX Gyre Termes}}{{\setmainfont{{TeX Gyre Termes}}}}{{}}
\usepackage{{array}}
\usepackage{{booktabs}}
\usepackage{{longtable}}
\usepackage{{pdflscape}}
\usepackage{{caption}}
\DeclareCaptionLabelFormat{{joined}}{{#1\hbox{{#2}}}}
\captionsetup[table]{{labelformat={label_format},labelsep=quad,font=small,skip=4pt}}
\renewcommand{{\tablename}}{{{word}}}
\newcommand{{\appendixtables}}{{\clearpage\setcounter{{table}}{{0}}{appendix}}}
\setlength{{\tabcolsep}}{{4pt}}
\setlength{{\LTcapwidth}}{{\linewidth}}
\setlength{{\parindent}}{{2em}}
\begin{{document}}
"""


# xeCJK lets a line break between an ellipsis or a closing mark and the closing punctuation
# after it (……」, ”。): glue them so that no line starts with 」，。、；：？！）》.
_CLOSING = "」』）》〉】〕，。、；：？！”’"
_PUNCT_PAIR = re.compile(f"(?<=[…—{_CLOSING}])(?=[{_CLOSING}])")


_TABLE_REF = re.compile(r"(附?表)(\d+)")  # 表1 as in the captions: no CJK–Latin space before the number


def escape(text: str) -> str:
    escaped = "".join(_SPECIAL.get(ch, ch) for ch in text).replace("\n", " ")
    return _PUNCT_PAIR.sub(r"\\nobreak{}", escaped)


def _cell(text: str) -> str:
    """A table cell: escaped, a code path may break after its slashes."""
    return escape(text).replace("/", r"/\allowbreak{}")


def _spec(widths: list[float], numeric: list[bool]) -> str:
    align = {True: r">{\raggedleft\arraybackslash}", False: r">{\raggedright\arraybackslash}"}
    return "".join(f"{align[n]}p{{{w:.1f}pt}}" for w, n in zip(widths, numeric))


def latex_table(table, label: str, lang: str = "zh") -> str:
    """A three-line longtable: \\toprule, \\midrule under the header (repeated on every page),
    \\bottomrule; no vertical rules; the note (注：) under it."""
    headers, rows = paper_cells(table, lang)
    fit = layout(headers, rows)
    size = r"\small" if fit.font_pt >= 9 else r"\scriptsize"
    head = " & ".join(_cell(h) for h in headers) + r" \\"
    body = [" & ".join(_cell(v) for v in r) + r" \\" for r in rows]
    caption = escape(table.caption(lang))
    lines = [rf"% {label}", "{" + size, rf"\begin{{longtable}}{{{_spec(fit.widths_pt, fit.numeric)}}}",
             rf"\caption{{{caption}}}\label{{tab:{table.name}}} \\",
             r"\toprule", head, r"\midrule", r"\endfirsthead", r"\toprule", head, r"\midrule", r"\endhead",
             r"\bottomrule", r"\endlastfoot", *body, r"\end{longtable}", "}"]
    note = table.notes(lang)
    if note:
        lines.append(r"{\footnotesize\noindent " + escape(t("note", lang, text=note)) + r"\par}")
    if fit.landscape:
        lines = [r"\begin{landscape}", *lines, r"\end{landscape}"]
    return "\n".join(lines) + "\n"


def latex_files(bundle) -> dict[str, str]:
    """{file name: content}: one .tex per paper table plus report.tex that inputs them all."""
    lang = bundle.options.lang
    files = {}
    body = [rf"\section*{{{escape(t('title', lang, name=bundle.data.project_name))}}}"]
    body += [escape(p) + "\n" for p in introduction(bundle)]
    if bundle.sentences:
        body.append(rf"\subsection*{{{escape(t('summary', lang))}}}")
        body += [escape(s) + "\n" for s in bundle.sentences]
    body += [_TABLE_REF.sub(r"\1\\hbox{\2}", escape(p)) + "\n" for p in citing_sentences(bundle)]
    in_appendix = False
    for label, table in paper_tables(bundle):
        if table.appendix and not in_appendix:
            in_appendix = True
            body += [r"\appendixtables", rf"\section*{{{escape(t('appendix', lang))}}}"]
        files[f"{table.name}.tex"] = latex_table(table, label, lang)
        body.append(rf"\input{{{table.name}.tex}}")
    files["report.tex"] = preamble(lang) + "\n".join(body) + "\n\\end{document}\n"
    return files
