"""All reports at once: build the tables, then write every output format (``report all``)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualcode.reports.cases import case_matrix, stage_profile
from qualcode.reports.chain import chain
from qualcode.reports.codebook import CODEBOOK_EXAMPLE, codebook_table
from qualcode.reports.cooccurrence import cooccurrence, cooccurrence_matrix
from qualcode.reports.framework import framework_matrix
from qualcode.reports.frequencies import frequencies, frequencies_by
from qualcode.reports.interviews import interviews
from qualcode.reports.labels import chain_lines, check_lang, header, labelled, localize, percent, saturation_lines, t
from qualcode.reports.quotes import quotes
from qualcode.reports.render import write_all
from qualcode.reports.saturation import saturation
from qualcode.reports.selection import ReportData, Selection, load
from qualcode.reports.subcodes import subcode_matrix, subcodes


@dataclass
class ReportOptions:
    """Parameters of ``report all`` (each report's own function documents its meaning)."""

    by: str = "case"
    unit: str = "passage"
    window: int = 1
    level: int | None = None
    order: str = "date"
    manifest: Path | None = None
    base: int = 4
    run: int = 2
    threshold: float = 0.05
    initial: int = 10
    stop: int = 3
    k: int = 3
    plots: bool = True
    all_units: bool = False  # co-occurrence N over every passage (interviewer turns and headers too)
    leaf_only: bool = False  # saturation: a parent with a sub-code seen is not a code of its own
    paper_pairs: int = 30  # co-occurrence pairs in the docx/LaTeX tables (most frequent first)
    lang: str = "zh"  # language of every output: captions, notes, column headers, axis labels ("zh" or "en")
    codebook_examples: bool = False  # codebook table: the codebook's invented example where a code has no quote


@dataclass
class Table:
    name: str  # file/sheet name
    title: str
    title_zh: str
    df: object  # pandas DataFrame
    note: str = ""
    paper: object = None  # DataFrame for docx/LaTeX (a subset), None: not in the paper outputs
    note_zh: str = ""
    appendix: bool = False  # printed after the tables, numbered 附表1 / Table A1
    shown: object = None  # df as people read it in the report's language (labels.localize); CSV keeps df

    def for_people(self):
        """The table the workbook, HTML and Markdown appendix show: ``shown``, else ``df``."""
        return self.df if self.shown is None else self.shown

    def caption(self, lang: str = "zh") -> str:
        """The title in ``lang`` (without its number)."""
        return self.title if lang == "en" else self.title_zh

    def notes(self, lang: str = "zh") -> str:
        """The note in ``lang`` (the English one where a Chinese one is missing)."""
        return self.note if lang == "en" else (self.note_zh or self.note)


@dataclass
class Bundle:
    data: ReportData
    options: ReportOptions
    tables: list[Table]
    sentences: list[str] = field(default_factory=list)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def _shown(table: Table, data: ReportData, lang: str, names: dict[str, str]):
    """The whole table as the workbook, HTML and Markdown appendix show it: code labels, codebook
    texts and id values in ``lang``, no column of the other language's labels."""
    df: Any = table.df
    if table.name == "codebook":
        df = df.assign(definition=df["definition"].map(lambda d: _in_language(d, lang)),
                       criteria=df["criteria"].map(lambda c: _criteria(c, lang)))
    df = labelled(df, data, lang)
    if "label_en" in df.columns:
        df = df.drop(columns=["label_en"])
    return localize(df, lang, names)


def _frequencies_paper(freq, data: ReportData):
    import pandas as pd

    n_docs, n_cases = len(data.documents), data.documents.loc[data.documents["case"] != "", "case"].nunique()
    return pd.DataFrame({
        "code": freq["code"], "label": freq["label"], "codings": freq["codings"],
        "passages_pct": [percent(n, data.n_passages) for n in freq["passages"]],
        "documents_pct": [percent(n, n_docs) for n in freq["documents"]],
        "cases_pct": [percent(n, n_cases) for n in freq["cases"]],
    }), (data.n_passages, n_docs, n_cases)


def _share_paper(data: ReportData, by: str, lang: str):
    """Code × group: passages coded n (%) of the group's passages; the header names N."""
    passages = case_matrix(data, by=by, value="passages")
    groups = data.groups(by)
    sizes = data.passages_per(groups)
    names = sorted(groups.unique().tolist())
    out = passages[["code", "label"]].copy()
    for n in names:
        size = int(sizes.get(n, 0))
        out[f"{n} (N={size})"] = [percent(v, size) for v in passages[n]]
    out[f"{header('total', lang)} (N={data.n_passages})"] = [percent(v, data.n_passages) for v in passages["total"]]
    return out


ORDERS_ZH = {"date": "按访谈日期", "manifest": "按清单顺序", "name": "按文件名", "import": "按导入顺序"}
_GLOSS = re.compile(r"\s*[（(][^（）()\u4e00-\u9fff]*[A-Za-z][^（）()\u4e00-\u9fff]*[）)]")  # （English gloss）


def _in_language(text: str, lang: str) -> str:
    """A codebook text written as "中文 EN: English" in one language (all of it when not split)."""
    zh, sep, en = text.partition(" EN: ")
    return (en if lang == "en" else zh).strip() if sep else text


def _criteria(text: str, lang: str) -> str:
    """A code's include/exclude criteria in ``lang`` (the English glosses for coders left out in Chinese)."""
    if lang == "en":
        return text.replace("纳入: ", "Include: ").replace("排除: ", "Exclude: ")
    return _GLOSS.sub("", text).replace("纳入: ", "纳入：").replace("排除: ", "排除：")


def _codebook_paper(cb, lang: str):
    def example(r) -> str:
        if not r.example:
            return "—"
        if r.example_by == CODEBOOK_EXAMPLE:
            return r.example + t("codebook_example", lang)
        return r.example + (f"（{r.example_by}）" if r.example_by else "")

    return cb.assign(example=[example(r) for r in cb.itertuples(index=False)],
                     definition=cb["definition"].map(lambda d: _in_language(d, lang)),
                     criteria=cb["criteria"].map(lambda c: _criteria(c, lang)))[
        ["code", "label", "definition", "criteria", "example", "codings"]]


def build_tables(data: ReportData, options: ReportOptions | None = None) -> Bundle:
    """Every report table for ``data`` in a fixed order (the order the report cites them)."""
    o = options or ReportOptions()
    lang = check_lang(o.lang)
    by = o.by
    unit_note = f"unit: {o.unit}" + (f" (windows of {o.window + 1} passages)" if o.unit == "proximity" else "")
    unit_note_zh = {"passage": "共现单位：段落", "document": "共现单位：访谈", "span": "共现单位：编码片段重叠",
                    "proximity": f"共现单位：相邻{o.window + 1}个段落的窗口"}.get(o.unit, f"共现单位：{o.unit}")
    freq = frequencies(data)
    cb = codebook_table(data, codebook_examples=o.codebook_examples)
    pairs = cooccurrence(data, unit=o.unit, window=o.window, level=o.level, all_units=o.all_units)
    curve, summary = saturation(data, order=o.order, base=o.base, run=o.run, threshold=o.threshold,
                                initial=o.initial, stop=o.stop, level=o.level, manifest=o.manifest,
                                leaf_only=o.leaf_only)
    links = chain(data, by=by)
    english = {zh: (en or zh) for zh, en in zip(data.codes["label"], data.codes["label_en"])}
    stage_rows = links[links["kind"] == "stage"]
    quote_table = quotes(data, k=o.k)
    cases_count = case_matrix(data, by=by, value="codings")
    framework = framework_matrix(data, by=by)
    sub_long = subcodes(data, by=by)
    sub_matrix = subcode_matrix(data, by=by, long=sub_long)
    interview_counts = interviews(data, by=by)
    interview_counts = interview_counts[interview_counts["interviews"] + interview_counts["absent_interviews"] > 0].reset_index(drop=True)
    top_pairs = pairs.sort_values(["n_ab", "jaccard"], ascending=[False, False], kind="stable").head(o.paper_pairs)
    freq_paper, (n_passages, n_docs, n_cases) = _frequencies_paper(freq, data)
    cited = interview_counts[interview_counts["interviews"] > 0]
    interview_paper = cited.assign(interviews_pct=[percent(n, of) for n, of in zip(cited["interviews"], cited["of"])])[
        ["label", "role", "case", "interviews_pct", "of", "interviewees"]]
    chain_paper = stage_rows[["case", "label", "status", "interviews", "roles", "quote", "quote_by"]]
    tables = [
        Table("codebook", "Codebook", "编码表", cb, paper=_codebook_paper(cb, lang),
              note="Example: a quote from this project's codings of the code (a pinned exemplar first, else the "
                   "strongest evidence) with the interviewee code; codings roll sub-codes up into their parents.",
              note_zh="示例引语取自本研究对该编码的编码结果（优先固定引语，其次证据最强者），括号内为受访者编号；"
                      "编码次数包含子编码。"),
        Table("frequencies", "Code frequencies", "编码频次", freq,
              f"n (%): passages coded out of the N = {n_passages} passages in scope; interviews out of N = "
              f"{n_docs} interviews; cases out of N = {n_cases} cases. Counts roll sub-codes up into their parents.",
              paper=freq_paper,
              note_zh=f"n (%)：段落数的分母为纳入统计的段落总数（N = {n_passages}），访谈数的分母为访谈总数"
                      f"（N = {n_docs}），案例数的分母为案例总数（N = {n_cases}）；上级编码的计数包含其子编码。"),
        Table("frequencies_by_role", "Passages coded by interviewee role", "按受访者角色统计的编码段落数",
              frequencies_by(data, "role"), "Role type = the role code without its letter (社区党组织书记A → 社区党组织书记).",
              note_zh="角色类型即去掉字母的角色编号（社区党组织书记A → 社区党组织书记）。"),
        Table(f"{by}_matrix", f"Code × {by} matrix (codings)", "编码×案例矩阵（编码次数）", cases_count,
              "Cells count codings; parents include their sub-codes.", paper=cases_count.drop(columns=["code"]),
              note_zh="单元格为编码次数；上级编码包含其子编码。"),
        Table(f"{by}_share", f"Code × {by} matrix (share of the {by}'s passages)", "编码×案例矩阵（段落占比）",
              case_matrix(data, by=by, value="share"),
              f"n (%): n = passages of the {by} coded with the code or a sub-code; % of the {by}'s N passages "
              "in scope (N in the column header).", paper=_share_paper(data, by, lang).drop(columns=["code"]),
              note_zh="n (%)：n为该案例中含该编码（或其子编码）的段落数，%的分母为该案例纳入统计的段落数N（见列标题）。"),
        Table(f"{by}_presence", f"Code × {by} matrix (presence)", "编码×案例矩阵（是否出现）",
              case_matrix(data, by=by, value="presence"), note_zh="1 = 该案例中出现该编码。"),
        Table("framework", f"Framework matrix: {by} × stage with exemplar quotes", "框架矩阵：案例×阶段（附典型引语）",
              framework, "n = passages coded with the stage or any of its sub-codes; the interviewee code follows "
              "each quote.", paper=framework,
              note_zh="n为含该阶段或其任一子编码的段落数；引语后括号内为受访者编号。"),
        Table("subcodes", f"Sub-code × {by} matrix with exemplar quotes", "子编码×案例矩阵（附典型引语）", sub_matrix,
              "n = passages coded with the sub-code or its own sub-codes; the quote is a pinned exemplar if "
              "there is one, else the strongest reviewed evidence, with the interviewee code.", paper=sub_matrix,
              note_zh="n为含该子编码（或其下级编码）的段落数；引语优先取固定引语，否则取证据最强的已审核编码，括号内为受访者编号。"),
        Table("subcodes_long", f"Sub-codes per {by}: codings, passages, interviews and the strongest quote",
              "各案例子编码：编码次数、段落数、访谈数与典型引语", sub_long),
        Table("interviews", f"Interviews per code, role and {by}", "按编码、受访者角色与案例统计的访谈数",
              interview_counts, "Counts interviews (documents with at least one coding of the code or a "
              "sub-code), not passages; n (%) of the interviews of the role in the group (of); cells without an "
              "interview are left out.", paper=interview_paper,
              note_zh="计数单位为访谈（至少含一条该编码或其子编码的访谈），而非段落；n (%)的分母为该案例中该角色的访谈数"
                      "（该类访谈数列）；无访谈的组合未列出。"),
        Table("stage_profile", f"Stage profile per {by} (share of passages)", "各案例的阶段分布（段落占比）",
              stage_profile(data, by=by)),
        Table("chain", f"The chain per {by}: present, absent or not discussed, and where it breaks",
              "组织链条：各案例各环节的有无与断裂点", links,
              "Per interview, more codings of presence than of absence support a link, at least as many "
              "absences deny it; a link is present when more interviews support it than deny it, absent when "
              "at least as many deny it, and a stage is absent when one of its sub-codes is. "
              + " ".join(line + "." for line in chain_lines(links, "en", english)),
              paper=chain_paper,
              note_zh="在每次访谈中，出现证据多于缺失证据即支持该环节，缺失证据不少于出现证据即否定该环节；支持的访谈多于否定的"
                      "访谈则该环节存在，否定的访谈不少于支持的访谈则缺失；某一子编码缺失则其阶段缺失。"
                      + "".join(line + "。" for line in chain_lines(links, "zh"))),
        Table("cooccurrence", "Code co-occurrence", "编码共现", pairs,
              f"{unit_note}; counts are units containing both codes; jaccard = ATLAS.ti c-coefficient; "
              "p_fisher = one-sided Fisher exact test; " + pairs.attrs["note"],
              paper=top_pairs[["label_a", "label_b", "n_a", "n_b", "n_ab", "jaccard", "lift", "p_fisher"]],
              note_zh=f"{unit_note_zh}（N = {pairs.attrs['units']}"
                      + ("，含访谈者发言与标题" if o.all_units else "，不含访谈者发言与标题") + "）；共现数为同时含两个编码的"
                      f"单位数；Jaccard即ATLAS.ti的c系数；Fisher p为单侧Fisher精确检验（BH q为对出现的全部{pairs.attrs['family']}"
                      f"对编码作Benjamini–Hochberg校正）；按共现数列出前{o.paper_pairs}对。"),
        Table("cooccurrence_matrix", "Co-occurrence counts (diagonal: units with the code)", "编码共现矩阵",
              cooccurrence_matrix(data, unit=o.unit, window=o.window, level=o.level, all_units=o.all_units),
              unit_note, note_zh=unit_note_zh + "；对角线为含该编码的单位数。"),
        Table("saturation", "Saturation: new and cumulative codes per interview", "编码饱和：逐次访谈的新增与累计编码",
              curve, f"Order: {o.order}; expected = mean accumulation over all interview orders"
              + ("; parents of codes seen are not codes of their own (leaf only)." if o.leaf_only else "."),
              note_zh=f"访谈顺序：{ORDERS_ZH.get(o.order, o.order)}；期望值为所有访谈顺序下的平均累计编码数"
              + ("；已见子编码的上级编码不单独计数。" if o.leaf_only else "。")),
        Table("saturation_summary", "Saturation summary", "编码饱和判定", summary,
              "Code saturation only (Hennink et al. 2017).",
              paper=summary[["scope", "interviews", "codes_observed", "guest", "francis", "chao2_bc", "chao2_lower",
                             "chao2_upper", "coverage"]],
              note_zh="仅为编码饱和（Hennink et al. 2017）。"),
        Table("quotes", "Exemplar quotes", "典型引语", quote_table,
              "Up to k quotes per code, the interviewee code after each.",
              paper=quote_table[["label", "rank", "quote", "role", "case"]], appendix=True,
              note_zh=f"每个编码至多列出{o.k}条引语，受访者编号见“受访者编号”列。"),
    ]
    names = {c: (en or zh) if lang == "en" else zh
             for c, zh, en in zip(data.codes["code"], data.codes["label"], data.codes["label_en"])}
    for table in tables:
        table.shown = _shown(table, data, lang, names)
        if table.paper is not None:
            table.paper = localize(labelled(table.paper, data, lang), lang, names)
    sentences = saturation_lines(summary, lang) + chain_lines(links, lang, english)
    return Bundle(data, o, tables, sentences)


def report_all(project, output: Path, selection: Selection | None = None, options: ReportOptions | None = None,
               data: ReportData | None = None) -> dict:
    """Write every table and plot under ``output``; returns {kind: [paths]} and warnings."""
    data = data or load(project, selection)
    bundle = build_tables(data, options or ReportOptions(lang=project.report_lang))
    return write_all(bundle, Path(output))
