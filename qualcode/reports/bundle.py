"""All reports at once: build the tables, then write every output format (``report all``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qualcode.reports.cases import case_matrix, stage_profile
from qualcode.reports.chain import chain, chain_summary
from qualcode.reports.codebook import codebook_table
from qualcode.reports.cooccurrence import cooccurrence, cooccurrence_matrix
from qualcode.reports.framework import framework_matrix
from qualcode.reports.frequencies import frequencies, frequencies_by
from qualcode.reports.interviews import interviews
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


@dataclass
class Table:
    name: str  # file/sheet name
    title: str
    title_zh: str
    df: object  # pandas DataFrame
    note: str = ""
    paper: object = None  # DataFrame for docx/LaTeX (a subset), None: not in the paper outputs


@dataclass
class Bundle:
    data: ReportData
    options: ReportOptions
    tables: list[Table]
    sentences: list[str] = field(default_factory=list)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def build_tables(data: ReportData, options: ReportOptions | None = None) -> Bundle:
    """Every report table for ``data`` in a fixed order."""
    o = options or ReportOptions()
    by = o.by
    unit_note = f"unit: {o.unit}" + (f" (windows of {o.window + 1} passages)" if o.unit == "proximity" else "")
    freq = frequencies(data)
    cb = codebook_table(data)
    pairs = cooccurrence(data, unit=o.unit, window=o.window, level=o.level, all_units=o.all_units)
    curve, summary = saturation(data, order=o.order, base=o.base, run=o.run, threshold=o.threshold,
                                initial=o.initial, stop=o.stop, level=o.level, manifest=o.manifest,
                                leaf_only=o.leaf_only)
    links = chain(data, by=by)
    stage_rows = links[links["kind"] == "stage"]
    quote_table = quotes(data, k=o.k)
    cases_count = case_matrix(data, by=by, value="codings")
    framework = framework_matrix(data, by=by)
    sub_long = subcodes(data, by=by)
    sub_matrix = subcode_matrix(data, by=by, long=sub_long)
    interview_counts = interviews(data, by=by)
    interview_counts = interview_counts[interview_counts["interviews"] + interview_counts["absent_interviews"] > 0].reset_index(drop=True)
    top_pairs = pairs.sort_values(["n_ab", "jaccard"], ascending=[False, False], kind="stable").head(o.paper_pairs)
    tables = [
        Table("codebook", "Codebook", "编码表", cb,
              paper=cb[["code", "label", "definition", "criteria", "example", "codings"]]),
        Table("frequencies", "Code frequencies", "编码频次", freq,
              "Counts roll sub-codes up into their parents; passage_share = passages coded / passages in scope.",
              paper=freq[["code", "label", "codings", "passages", "documents", "cases", "passage_share"]]),
        Table("frequencies_by_role", "Passages coded by interviewee role", "按受访者角色统计的编码段落数",
              frequencies_by(data, "role"), "Role type = the role code without its letter (社区党组织书记A → 社区党组织书记)."),
        Table(f"{by}_matrix", f"Code × {by} matrix (codings)", "编码×案例矩阵（编码次数）", cases_count,
              paper=cases_count),
        Table(f"{by}_share", f"Code × {by} matrix (share of the {by}'s passages)", "编码×案例矩阵（段落占比）",
              case_matrix(data, by=by, value="share")),
        Table(f"{by}_presence", f"Code × {by} matrix (presence)", "编码×案例矩阵（是否出现）",
              case_matrix(data, by=by, value="presence")),
        Table("framework", f"Framework matrix: {by} × stage with exemplar quotes", "框架矩阵：案例×阶段（附典型引语）",
              framework, "n = passages coded with the stage or any of its sub-codes.", paper=framework),
        Table("subcodes", f"Sub-code × {by} matrix with exemplar quotes", "子编码×案例矩阵（附典型引语）", sub_matrix,
              "n = passages coded with the sub-code or its own sub-codes; the quote is a pinned exemplar if "
              "there is one, else the strongest reviewed evidence, with the interviewee code.", paper=sub_matrix),
        Table("subcodes_long", f"Sub-codes per {by}: codings, passages, interviews and the strongest quote",
              "各案例子编码：编码次数、段落数、访谈数与典型引语", sub_long),
        Table("interviews", f"Interviews per code, role and {by}", "按编码、受访者角色与案例统计的访谈数",
              interview_counts, "Counts interviews (documents with at least one coding of the code or a "
              "sub-code), not passages; of = interviews of the role in the group; cells without an interview "
              "are left out.", paper=interview_counts[interview_counts["interviews"] > 0][
                  ["label", "role", "case", "interviews", "of", "interviewees"]]),
        Table("stage_profile", f"Stage profile per {by} (share of passages)", "各案例的阶段分布（段落占比）",
              stage_profile(data, by=by)),
        Table("chain", f"The chain per {by}: present, absent or not discussed, and where it breaks",
              "组织链条：各案例各环节的有无与断裂点", links,
              "Per interview, more codings of presence than of absence support a link, at least as many "
              "absences deny it; a link is present when more interviews support it than deny it, absent when "
              "at least as many deny it, and a stage is absent when one of its sub-codes is. "
              + " ".join(chain_summary(links)),
              paper=stage_rows[["case", "label", "status", "interviews", "roles", "quote", "quote_by"]]),
        Table("cooccurrence", "Code co-occurrence", "编码共现", pairs,
              f"{unit_note}; counts are units containing both codes; jaccard = ATLAS.ti c-coefficient; "
              "p_fisher = one-sided Fisher exact test; " + pairs.attrs["note"],
              paper=top_pairs[["label_a", "label_b", "n_a", "n_b", "n_ab", "jaccard", "lift", "p_fisher"]]),
        Table("cooccurrence_matrix", "Co-occurrence counts (diagonal: units with the code)", "编码共现矩阵",
              cooccurrence_matrix(data, unit=o.unit, window=o.window, level=o.level, all_units=o.all_units),
              unit_note),
        Table("saturation", "Saturation: new and cumulative codes per interview", "编码饱和：逐次访谈的新增与累计编码",
              curve, f"Order: {o.order}; expected = mean accumulation over all interview orders"
              + ("; parents of codes seen are not codes of their own (leaf only)." if o.leaf_only else ".")),
        Table("saturation_summary", "Saturation summary", "编码饱和判定", summary,
              "Code saturation only (Hennink et al. 2017).",
              paper=summary[["scope", "interviews", "codes_observed", "guest", "francis", "chao2_bc", "chao2_lower",
                             "chao2_upper", "coverage"]]),
        Table("quotes", "Exemplar quotes", "典型引语", quote_table,
              paper=quote_table[["label", "rank", "quote", "role", "case"]]),
    ]
    sentences = [s for s in summary["sentence"].head(1)] + [s for s in summary["band"].head(1) if s]
    sentences += [s for s in summary["estimate"].head(1)] + [s for s in summary["warning"].head(1) if s]
    sentences += chain_summary(links)
    return Bundle(data, o, tables, sentences)


def report_all(project, output: Path, selection: Selection | None = None, options: ReportOptions | None = None,
               data: ReportData | None = None) -> dict:
    """Write every table and plot under ``output``; returns {kind: [paths]} and warnings."""
    data = data or load(project, selection)
    bundle = build_tables(data, options)
    return write_all(bundle, Path(output))
