"""Every string the report outputs print, in Chinese and English: captions (表1 / Table 1),
notes (注：/ Note:), column headers, the report's introduction and the saturation and chain
sentences. One language per output (``ReportOptions.lang``); renderers and plots ask
:func:`t` and :func:`header` and never spell a caption themselves.
"""
from __future__ import annotations

from qualcode.errors import QualcodeError
from qualcode.project import DEFAULT_REPORT_LANGUAGE, REPORT_LANGUAGES
from qualcode.reports.chain import chain_summary
from qualcode.reports.selection import ONLY_CODER

LANGUAGES = REPORT_LANGUAGES
DEFAULT_LANGUAGE = DEFAULT_REPORT_LANGUAGE

# key: (中文, English); ``{name}`` placeholders are filled from t()'s keywords
TEXT: dict[str, tuple[str, str]] = {
    "table": ("表{n}", "Table {n}"),
    "appendix_table": ("附表{n}", "Table A{n}"),
    "table_word": ("表", "Table"),
    "appendix_table_word": ("附表", "Table A"),
    "note": ("注：{text}", "Note: {text}"),
    "title": ("质性编码分析报告：{name}", "Qualitative coding report: {name}"),
    "codings": ("纳入统计的编码：{what}。", "Codings: {what}."),
    "proposed": ("计数包含尚未审核的自动编码建议。", "Counts include unreviewed proposals (automatic codings nobody has "
                 "accepted yet)."),
    "scope": ("访谈{documents}次，纳入统计的段落{passages}个，编码{codings}条。",
              "Documents: {documents}; passages in scope: {passages}; codings: {codings}."),
    "summary": ("概要", "Summary"),
    "tables": ("表格", "Tables"),
    "cites": ("{first}至{last}依次为：{list}。", "{first} to {last} are, in order: {list}."),
    "cites_one": ("{first}为{list}。", "{first} is the {list}."),
    "list_sep": ("；", "; "),
    "appendix": ("附录 典型引语", "Appendix: exemplar quotes"),
    "appendix_intro": ("{first}列出各编码的典型引语，括号内为受访者编号。",
                       "{first} lists exemplar quotes per code; the interviewee code follows each quote."),
    "codebook_example": ("〔编码表自拟示例，非本研究访谈〕", "[codebook's own example, not from this study's interviews]"),
    "n": ("N", "N"),
    # selection (Selection.describe, in Chinese)
    "sel.proposed": ("已接受、手工及未审核的自动编码", "accepted, manual and proposed (unreviewed) codings"),
    "sel.reviewed": ("已接受与手工编码", "accepted and manual codings"),
    "sel.pooled": ("合并全部{n}位编码员：{names}", "all {n} coders pooled: {names}"),
    "sel.coder": ("编码员{names}", "coder {names}"),
    "sel.case": ("案例{names}", "case {names}"),
    "sel.role": ("受访者角色{names}", "role {names}"),
    "sel.documents": ("访谈{names}", "documents {names}"),
    "sel.interviewee": ("仅受访者发言", "interviewee turns only"),
    # the chain (chain_summary)
    "chain.holds": ("{case}：链条完整（各环节均存在）", "{case}: the chain holds (every stage present)"),
    "chain.breaks": ("{case}：链条断于{label}（{status}{why}）", "{case}: breaks at {label} ({status}{why})"),
    "status.present": ("存在", "present"),
    "status.absent": ("缺失", "absent"),
    "status.not discussed": ("未涉及", "not discussed"),
    # saturation sentences beyond the one saturation.py writes in both languages
    "sat.band": ("在{orders}种随机访谈顺序下，达到饱和的访谈序次中位数为{median}，5%–95%区间为{p05}–{p95}；"
                 "{reached}的顺序达到饱和。",
                 "Over {orders} random interview orders the saturation interview has median {median}, 5–95 %: "
                 "{p05}–{p95}; {reached} of orders reach saturation."),
    "sat.estimate": ("{n}次访谈共观察到{observed}个编码；偏差校正Chao2估计编码总数为{chao2}{ci}，样本覆盖率{coverage}。",
                     "{observed} codes observed in {n} interviews; the bias-corrected Chao2 estimates {chao2} codes "
                     "in total{ci}, sample coverage {coverage}."),
    "sat.ci": ("（95%置信区间{lo}–{hi}）", " (95% CI {lo}–{hi})"),
    "sat.warning": ("计数包含未审核的自动编码建议，引用饱和结论前请先审核。",
                    "Counts include unreviewed proposals: review them before citing saturation."),
    "sat.chao2_note": ("Q1 = {q1}，Q2 = {q2}：偏差校正Chao2估计没有未见编码，故不给出置信区间",
                       "Q1 = {q1}, Q2 = {q2}: the bias-corrected Chao2 estimates no unseen codes, so it has no "
                       "interval"),
    "chain.missing": ("{labels}缺失", "{labels} absent"),
}

# String values the tables hold as stable ids (CSV and JSON keep them; scripts rely on them),
# shown in the report's language in every output people read (docx, LaTeX, Markdown, HTML, xlsx).
VALUES: dict[str, tuple[str, str]] = {
    "overall": ("全部访谈", "overall"),
    "passages in scope": ("纳入统计的段落数", "passages in scope"),
    "not assessable": ("无法判定", "not assessable"),
    "undefined": ("无法判定", "undefined"),
    "undefined (no codes in the base)": ("无法判定（基础样本无编码）", "undefined (no codes in the base)"),
    "reached": ("达到", "reached"),
    "not reached": ("未达到", "not reached"),
    "met": ("达到", "met"),
    "not met": ("未达到", "not met"),
    "present": ("存在", "present"),
    "absent": ("缺失", "absent"),
    "not discussed": ("未涉及", "not discussed"),
    "stage": ("阶段", "stage"),
    "mechanism": ("机制", "mechanism"),
    "dimension": ("维度", "dimension"),
    "proposed": ("未审核", "proposed"),
    "accepted": ("已接受", "accepted"),
    "rejected": ("已拒绝", "rejected"),
}
# values whose meaning depends on the column: the saturation's interview order, a coding's origin
COLUMN_VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "order": {"date": ("按访谈日期", "date"), "manifest": ("按清单顺序", "manifest"), "name": ("按文件名", "name"),
              "import": ("按导入顺序", "import")},
    "origin": {"rule": ("编码规则", "rule"), "manual": ("手工", "manual"), "model": ("学习模型", "model"),
               "import": ("外部导入", "import")},
}
_VALUE_COLUMNS = {"scope", "guest", "francis", "status", "kind", "band_p05", "band_p95", "band_median"}

# Column headers of the paper tables (docx, LaTeX, Markdown) and the workbook.
HEADERS: dict[str, dict[str, str]] = {
    "zh": {
        "code": "编码", "label": "名称", "label_en": "英文名", "depth": "层级", "definition": "定义",
        "criteria": "纳入/排除标准", "example": "示例引语", "example_passage": "引语段落", "example_by": "受访者编号", "codings": "编码次数",
        "passages": "段落数", "documents": "访谈数", "cases": "案例数", "passage_share": "段落占比",
        "passages_pct": "段落数 n (%)", "documents_pct": "访谈数 n (%)", "cases_pct": "案例数 n (%)",
        "interviews_pct": "访谈数 n (%)", "absent": "缺失证据", "absent_documents": "缺失证据访谈数",
        "total": "合计", "all": "合计", "case": "案例", "label_a": "编码A", "label_b": "编码B", "n_a": "A段落数",
        "n_b": "B段落数", "n_ab": "共现数", "jaccard": "Jaccard", "lift": "提升度", "pmi": "PMI",
        "p_fisher": "Fisher p", "q_bh": "BH q", "scope": "范围", "interviews": "访谈数", "of": "该类访谈数",
        "share": "占比", "absent_interviews": "缺失证据访谈数", "interviewees": "受访者编号",
        "codes_observed": "已见编码", "guest": "Guest b+r", "francis": "Francis 10+3", "chao2_bc": "Chao2",
        "chao2_lower": "95%CI下限", "chao2_upper": "95%CI上限", "coverage": "样本覆盖率", "rank": "序号",
        "quote": "引语", "role": "受访者编号", "group": "组别", "status": "状态", "roles": "受访者角色",
        "quote_by": "受访者编号", "document": "访谈", "passage": "段落", "context": "上下文", "coder": "编码员",
        "stage": "阶段", "link": "环节", "pinned": "固定引语",
        "absent_codings": "缺失证据编码数", "present_codings": "出现证据编码数", "present_interviews": "支持访谈数",
        "band": "顺序敏感性", "band_median": "饱和序次中位数", "band_orders": "随机顺序数", "band_p05": "饱和序次P5",
        "band_p95": "饱和序次P95", "band_reached": "达到饱和的顺序占比", "base": "基础样本", "base_codes": "基础样本编码数",
        "breaks_at": "断裂环节", "chao2": "Chao2（未校正）", "chao2_note": "Chao2说明", "code_a": "编码A代码",
        "code_b": "编码B代码", "codes": "编码数", "cumulative": "累计编码", "date": "日期", "doubletons": "双现编码",
        "estimate": "估计", "expected": "期望累计编码", "francis_interview": "Francis饱和访谈", "guest_interview": "Guest饱和访谈",
        "kind": "类型", "new": "新增编码", "new_codes": "新增编码列表", "order": "顺序", "position": "序次",
        "reason": "原因", "run": "连续次数", "sentence": "结论", "sentence_zh": "结论", "singletons": "单现编码",
        "threshold": "新信息阈值", "units": "单位数", "warning": "提示",
    },
    "en": {
        "code": "Code", "label": "Label", "label_en": "English label", "depth": "Depth", "definition": "Definition",
        "criteria": "Include / exclude", "example": "Example quote", "example_passage": "Quote passage", "example_by": "Interviewee",
        "codings": "Codings", "passages": "Passages", "documents": "Interviews", "cases": "Cases",
        "passage_share": "Share of passages", "passages_pct": "Passages, n (%)", "documents_pct": "Interviews, n (%)",
        "cases_pct": "Cases, n (%)", "interviews_pct": "Interviews, n (%)", "absent": "Absent",
        "absent_documents": "Interviews with absence", "total": "Total", "all": "Total", "case": "Case",
        "label_a": "Code A", "label_b": "Code B", "n_a": "n A", "n_b": "n B", "n_ab": "n both",
        "jaccard": "Jaccard", "lift": "Lift", "pmi": "PMI", "p_fisher": "Fisher p", "q_bh": "BH q",
        "scope": "Scope", "interviews": "Interviews", "of": "Of", "share": "Share",
        "absent_interviews": "Interviews with absence", "interviewees": "Interviewee codes",
        "codes_observed": "Codes seen", "guest": "Guest b+r", "francis": "Francis 10+3", "chao2_bc": "Chao2",
        "chao2_lower": "95% CI low", "chao2_upper": "95% CI high", "coverage": "Coverage", "rank": "Rank",
        "quote": "Quote", "role": "Interviewee", "group": "Group", "status": "Status", "roles": "Roles",
        "quote_by": "Interviewee", "document": "Interview", "passage": "Passage", "context": "Context",
        "coder": "Coder", "stage": "Stage", "link": "Link", "pinned": "Pinned",
        "absent_codings": "Absence codings", "present_codings": "Presence codings",
        "present_interviews": "Supporting interviews", "band": "Order sensitivity", "band_median": "Median interview",
        "band_orders": "Random orders", "band_p05": "Interview P5", "band_p95": "Interview P95",
        "band_reached": "Orders reaching saturation", "base": "Base", "base_codes": "Codes in base",
        "breaks_at": "Breaks at", "chao2": "Chao2 (uncorrected)", "chao2_note": "Chao2 note", "code_a": "Code A id",
        "code_b": "Code B id", "codes": "Codes", "cumulative": "Cumulative", "date": "Date", "doubletons": "Doubletons",
        "estimate": "Estimate", "expected": "Expected", "francis_interview": "Francis interview",
        "guest_interview": "Guest interview", "kind": "Kind", "new": "New", "new_codes": "New codes", "order": "Order",
        "position": "Position", "reason": "Reason", "run": "Run", "sentence": "Sentence", "sentence_zh": "Sentence (Chinese)",
        "singletons": "Singletons", "threshold": "Threshold", "units": "Units", "warning": "Warning",
    },
}


def check_lang(lang: str) -> str:
    """``lang`` if it is a report language, else a QualcodeError naming the choices."""
    if lang not in LANGUAGES:
        raise QualcodeError(f"unknown report language {lang!r}", hint=f"use one of {', '.join(LANGUAGES)}")
    return lang


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values) -> str:
    """The string ``key`` in ``lang`` with its ``{placeholders}`` filled from ``values``."""
    zh, en = TEXT[key]
    return (en if lang == "en" else zh).format(**values)


def header(column: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A column's header in ``lang``; columns named after data (cases, codes) stay as they are."""
    return HEADERS["en" if lang == "en" else "zh"].get(column, column)


def percent(n: int, of: int) -> str:
    """A count with its share as journals print it: ``12 (34.5)``; ``0 (—)`` with no denominator."""
    return f"{int(n)} ({100 * n / of:.1f})" if of else f"{int(n)} (—)"


def value(text, lang: str = DEFAULT_LANGUAGE):
    """A stable id value (``not assessable``, ``overall`` …) in ``lang``; anything else as it is."""
    if isinstance(text, str) and text in VALUES:
        return VALUES[text][1 if lang == "en" else 0]
    return text


def missing_reason(reason: str, lang: str = DEFAULT_LANGUAGE, names: dict[str, str] | None = None) -> str:
    """The chain's ``reason`` ("governance/rules, governance/legitimacy absent") in ``lang``, the
    sub-codes by their labels (``names``: code → label in ``lang``)."""
    reason = str(reason or "")
    if not reason.endswith(" absent"):
        return reason
    names = names or {}
    missing = [names.get(c.strip(), c.strip()) for c in reason[:-len(" absent")].split(",")]
    return t("chain.missing", lang, labels=(", " if lang == "en" else "、").join(missing))


def localize(df, lang: str = DEFAULT_LANGUAGE, names: dict[str, str] | None = None):
    """``df`` as people read it in ``lang``: the stable id values of the columns that hold them
    (``scope``, ``guest``, ``francis``, ``status`` …) translated, the chain's ``reason`` with the
    sub-codes' labels, and the saturation summary's sentences in that one language (``names``:
    code → label in ``lang``). CSV and JSON keep ``df`` itself."""
    out = df.copy()
    i = 1 if lang == "en" else 0
    for col in out.columns:
        if col in COLUMN_VALUES:
            out[col] = out[col].map(lambda v, m=COLUMN_VALUES[col]: m[v][i] if isinstance(v, str) and v in m else v)
        elif col in _VALUE_COLUMNS or (col == "label" and "passages in scope" in set(out[col].astype(str))):
            out[col] = out[col].map(lambda v: value(v, lang))
    if "reason" in out.columns:
        out["reason"] = out["reason"].map(lambda r: missing_reason(r, lang, names))
    if "sentence" in out.columns and "sentence_zh" in out.columns:  # the saturation summary
        if lang == "en":
            out = out.drop(columns=["sentence_zh"])
        else:
            out["sentence"] = out["sentence_zh"]
            out = out.drop(columns=["sentence_zh"])
            zh = [_saturation_zh(row) for _, row in df.iterrows()]
            out["band"] = [band for band, _, _ in zh]
            out["estimate"] = [estimate for _, estimate, _ in zh]
            out["chao2_note"] = [note for _, _, note in zh]
            out["warning"] = [t("sat.warning", lang) if row["warning"] else "" for _, row in df.iterrows()]
    return out


def describe_selection(selection, lang: str = DEFAULT_LANGUAGE) -> str:
    """``Selection.describe()`` in ``lang``."""
    if lang == "en":
        return selection.describe()
    parts = [t("sel.proposed" if selection.proposed else "sel.reviewed", lang)]
    if selection.pooled:
        parts.append(t("sel.pooled", lang, n=len(selection.pooled), names="、".join(selection.pooled)))
    elif selection.coders and selection.chosen != ONLY_CODER:
        parts.append(t("sel.coder", lang, names="、".join(selection.coders)))
    for key, values in (("sel.case", selection.cases), ("sel.role", selection.roles),
                        ("sel.documents", selection.documents)):
        if values:
            parts.append(t(key, lang, names="、".join(values)))
    if selection.interviewee_only:
        parts.append(t("sel.interviewee", lang))
    return "；".join(parts)


def chain_lines(links, lang: str = DEFAULT_LANGUAGE, english: dict[str, str] | None = None) -> list[str]:
    """One line per group: where its chain breaks (``chain.chain_summary`` in ``lang``);
    ``english``: code label → English label, for the labels in English."""
    if lang == "en" and english is None:
        return chain_summary(links)
    names = dict(zip(links["link"], links["label"]))
    english = english or {}
    lines = []
    for g, part in links.groupby("case", sort=True):
        at = part["breaks_at"].iloc[0]
        if not at:
            lines.append(t("chain.holds", lang, case=g))
            continue
        r = part[part["link"] == at].iloc[0]
        status = r["status"] if lang == "en" else TEXT.get(f"status.{r['status']}", (r["status"], r["status"]))[0]
        reason = missing_reason(r["reason"], lang,
                                {str(c): str(english.get(label, label) if lang == "en" else label)
                                 for c, label in names.items()})
        label = english.get(r["label"], r["label"]) if lang == "en" else r["label"]
        lines.append(t("chain.breaks", lang, case=g, label=label, status=status,
                       why=(f"; {reason}" if lang == "en" else f"；{reason}") if reason else ""))
    return lines


def saturation_lines(summary, lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """The overall saturation sentence, its order band, the Chao2 estimate and a warning."""
    if not len(summary):
        return []
    row = summary.iloc[0]
    if lang == "en":
        lines = [row["sentence"]] + ([row["band"]] if row["band"] else []) + [row["estimate"]]
        lines += [row["warning"]] if row["warning"] else []
        return [line[:1].upper() + line[1:] + ("" if line.endswith(".") else ".") for line in lines]
    band, estimate, _ = _saturation_zh(row)
    lines = [row["sentence_zh"]] + [line for line in (band, estimate) if line]
    if row["warning"]:
        lines.append(t("sat.warning", lang))
    return lines


def _saturation_zh(row) -> tuple[str, str, str]:
    """A saturation summary row's order band, Chao2 sentence and Chao2 note in Chinese."""
    band = estimate = note = ""
    if row["band"]:
        band = t("sat.band", "zh", orders=int(row["band_orders"]), median=_num(value(row["band_median"])),
                 p05=_num(value(row["band_p05"])), p95=_num(value(row["band_p95"])),
                 reached=f"{100 * float(row['band_reached']):.0f}%")
    chao2 = row["chao2_bc"]
    if _present(chao2):
        ci = (t("sat.ci", "zh", lo=f"{float(row['chao2_lower']):.1f}", hi=f"{float(row['chao2_upper']):.1f}")
              if _present(row["chao2_lower"]) else "")
        estimate = t("sat.estimate", "zh", n=int(row["interviews"]), observed=int(row["codes_observed"]),
                     chao2=f"{float(chao2):.1f}", ci=ci,
                     coverage=f"{float(row['coverage']):.2f}" if _present(row["coverage"]) else "—")
    if row["chao2_note"]:
        note = t("sat.chao2_note", "zh", q1=int(row["singletons"]), q2=int(row["doubletons"]))
    return band, estimate, note


def _present(value) -> bool:
    return value is not None and value == value and value != ""


def _num(v) -> str:
    if isinstance(v, str):
        return v
    return str(int(v)) if _present(v) and float(v).is_integer() else str(v)


def labelled(df, data, lang: str):
    """``df`` with code labels in ``lang``: the label columns and the columns named after a
    code (the framework's stages) take the English label in English."""
    if lang != "en":
        return df
    en = {zh: (e or zh) for zh, e in zip(data.codes["label"], data.codes["label_en"])}
    out = df.copy()
    for col in ("label", "label_a", "label_b"):
        if col in out.columns:
            out[col] = out[col].map(lambda v: en.get(v, v))
    return out.rename(columns={c: en[c] for c in out.columns if isinstance(c, str) and c in en})
