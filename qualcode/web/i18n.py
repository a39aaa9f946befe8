"""Every string of the browser workspace, in one catalogue: Chinese (the default) and English.

Templates call ``_("key")``; the scripts get the ``js.*`` entries as JSON in the page. A key
missing from the catalogue is a bug, so ``text`` raises rather than showing the key.
"""
from __future__ import annotations

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

# key: (中文, English)
CATALOGUE: dict[str, tuple[str, str]] = {
    "app.title": ("qualcode 工作台", "qualcode workspace"),
    "nav.documents": ("文档", "Documents"),
    "nav.review": ("审阅队列", "Review queue"),
    "nav.codebook": ("编码本", "Codebook"),
    "nav.reports": ("统计与下钻", "Reports"),
    "nav.chain": ("机制链条", "Chain"),
    "nav.log": ("操作记录", "Log"),
    "nav.adjudicate": ("裁定分歧", "Adjudicate"),
    "nav.coder": ("编码者", "Coder"),
    "nav.language": ("English", "中文"),
    "nav.undo": ("撤销", "Undo"),
    # documents
    "docs.title": ("文档", "Documents"),
    "docs.empty": ("项目里还没有文档。先导入：qualcode import 文件夹", "No documents yet. Import some: qualcode import FOLDER"),
    "docs.id": ("编号", "Id"),
    "docs.name": ("文档", "Document"),
    "docs.case": ("个案", "Case"),
    "docs.role_code": ("受访者代码", "Interviewee code"),
    "docs.attributes": ("属性", "Attributes"),
    "docs.speakers": ("说话人", "Speakers"),
    "docs.passages": ("段落", "Passages"),
    "docs.codings": ("编码（待审 / 接受 / 拒绝）", "Codings (proposed / accepted / rejected)"),
    "docs.edit": ("修改", "Edit"),
    "docs.save": ("保存", "Save"),
    "docs.cancel": ("取消", "Cancel"),
    "docs.attr_hint": ("每行一个：键=值；空值删除该属性", "One per line: key=value; an empty value removes the key"),
    "docs.speaker_roles": ("说话人角色", "Speaker roles"),
    "docs.saved": ("已保存", "Saved"),
    "docs.remove": ("删除", "Remove"),
    "docs.remove_title": ("删除这份文档及其编码和备忘（先存到 outputs/，可撤销）",
                          "Remove this document with its codings and memos (saved to outputs/ first; undoable)"),
    "docs.removed": ("已删除 {name}（{codings} 个编码，{memos} 条备忘；已存到 {backup}）",
                     "Removed {name} ({codings} codings, {memos} memos; saved to {backup})"),
    "role.interviewer": ("访谈者", "interviewer"),
    "role.interviewee": ("受访者", "interviewee"),
    "role.other": ("其他", "other"),
    "role.none": ("未知", "unknown"),
    # reader
    "reader.filters": ("筛选", "Filters"),
    "reader.code": ("代码", "Code"),
    "reader.status": ("状态", "Status"),
    "reader.coder": ("编码者", "Coder"),
    "reader.all": ("全部", "all"),
    "reader.apply": ("应用", "Apply"),
    "reader.help": ("用鼠标选中文字即可编码。点击右侧的编码条目后可用快捷键：a 接受，r 拒绝，c 改码，m 备忘，"
                    "x 删除（手工编码），j/k 下一个/上一个待审，u 撤销，? 帮助。",
                    "Select text with the mouse to code it. Click a coding on the right, then: a accept, r reject, "
                    "c change code, m memo, x remove (hand codings), j/k next/previous proposal, u undo, ? help."),
    "reader.memo_passage": ("段落备忘", "Passage memo"),
    "reader.memos": ("备忘", "Memos"),
    "reader.no_passages": ("没有段落。", "No passages."),
    "reader.legend": ("实线：已决定的编码；虚线：待审的建议；点状下划线：证据词",
                      "Solid: decided codings; dashed: proposals to review; dotted underline: evidence terms"),
    "reader.warnings": ("导入警告", "Import warnings"),
    "status.proposed": ("待审", "proposed"),
    "status.accepted": ("已接受", "accepted"),
    "status.rejected": ("已拒绝", "rejected"),
    "origin.rule": ("规则", "rule"),
    "origin.manual": ("手工", "manual"),
    "origin.model": ("模型", "model"),
    "origin.import": ("导入", "import"),
    # review
    "review.title": ("审阅队列", "Review queue"),
    "review.order": ("顺序", "Order"),
    "order.document": ("按文档", "document"),
    "order.confidence": ("置信度高者优先", "most confident first"),
    "order.uncertainty": ("最不确定者优先", "most uncertain first"),
    "review.done": ("这个队列里没有待审的建议了。", "No proposal left to review in this queue."),
    "review.skipped_left": ("已跳过、尚未决定：", "Skipped and still undecided: "),
    "review.reset": ("重新开始（忘掉跳过）", "Start again (forget skips)"),
    "review.position": ("第 {position} 条，共 {total} 条", "{position} of {total}"),
    "review.probability": ("概率", "Probability"),
    "review.rule": ("规则", "Rule"),
    "review.definition": ("定义", "Definition"),
    "review.include": ("纳入标准", "Include when"),
    "review.exclude": ("排除标准", "Exclude when"),
    "review.examples": ("例子", "Examples"),
    "review.counter_examples": ("反例", "Counter-examples"),
    "review.open_reader": ("在阅读器中打开", "Open in the reader"),
    "review.keys": ("a 接受 · r 拒绝 · b 标为缺失（文本说这一机制不存在或只在纸面上）· c 改码 · n 再加一个代码 · m 备忘 · "
                    "s 跳过 · u 撤销 · ? 帮助",
                    "a accept · r reject · b mark absent (the text says the mechanism is missing or only on paper) · "
                    "c change code · n add another code · m memo · s skip · u undo · ? help"),
    "key.accept": ("接受", "Accept"),
    "key.reject": ("拒绝", "Reject"),
    "key.absent": ("标为缺失", "Mark absent"),
    "key.change": ("改码", "Change code"),
    "key.add": ("再加代码", "Add a code"),
    "key.memo": ("备忘", "Memo"),
    "key.skip": ("跳过", "Skip"),
    "key.undo": ("撤销", "Undo"),
    "key.help": ("帮助", "Help"),
    # codebook
    "codebook.title": ("编码本", "Codebook"),
    "codebook.none": ("项目没有编码本：qualcode codebook use 文件", "The project has no codebook: qualcode codebook use FILE"),
    "codebook.rules": ("规则", "Rules"),
    "codebook.new": ("新建代码（原生代码）", "New code (in vivo)"),
    "codebook.id": ("代码 id（字母、数字、_ 或 -）", "Code id (letters, digits, _ or -)"),
    "codebook.parent": ("上级代码", "Parent code"),
    "codebook.top": ("（顶层）", "(top level)"),
    "codebook.label": ("中文名", "Chinese label"),
    "codebook.label_en": ("英文名", "English label"),
    "codebook.definition": ("定义", "Definition"),
    "codebook.create": ("创建", "Create"),
    "codebook.in_vivo": ("原生", "in vivo"),
    # reports and drill-down
    "reports.title": ("统计与下钻", "Reports and drill-down"),
    "reports.note": ("点击任一数字，查看它背后的段落；每个段落都能在阅读器中打开。",
                     "Click any number to see the passages behind it; each opens in the reader."),
    "reports.proposed": ("包括待审建议", "Include proposals"),
    "reports.by": ("分组", "Group by"),
    "reports.level": ("共现层级", "Co-occurrence level"),
    "reports.level_all": ("按编码", "as coded"),
    "reports.level_n": ("第 {n} 层", "level {n}"),
    "reports.frequencies": ("代码频次", "Code frequencies"),
    "reports.cases": ("个案 × 代码矩阵（编码数）", "Case × code matrix (codings)"),
    "reports.cooccurrence": ("代码共现（段落）", "Code co-occurrence (passages)"),
    "reports.code": ("代码", "Code"),
    "reports.label": ("名称", "Label"),
    "reports.codings": ("编码", "Codings"),
    "reports.passages": ("段落", "Passages"),
    "reports.documents": ("文档", "Documents"),
    "reports.cases_col": ("个案", "Cases"),
    "reports.total": ("合计", "Total"),
    "reports.empty": ("没有计入的编码。接受一些建议，或勾选“包括待审建议”。",
                      "No codings count yet. Accept some proposals, or include proposals."),
    "drill.title": ("下钻：段落", "Drill-down: passages"),
    "drill.summary": ("{codings} 个编码，{passages} 个段落", "{codings} codings in {passages} passages"),
    "drill.back": ("返回统计", "Back to the reports"),
    "drill.open": ("打开", "Open"),
    "drill.what.code": ("代码 {code}", "code {code}"),
    "drill.what.group": ("{by} 为 {group}", "{by} = {group}"),
    "drill.what.pair": ("与 {code} 共现", "together with {code}"),
    # chain report
    "chain.title": ("机制链条：组织构建 → 组织嵌入 → 组织动员 → 社区善治", "The chain: construction → embedding → mobilization → governance"),
    "chain.note": ("每个个案、每个环节：多数访谈支持为“存在”，多数否定为“缺失”；链条断在第一个不存在的环节。"
                   "数字打开背后的段落，引文打开阅读器。",
                   "Per case and link: present when more interviews support it than deny it, absent when as many deny "
                   "it; the chain breaks at the first link not present. Numbers open their passages, quotes the reader."),
    "chain.group": ("分组", "Group"),
    "chain.link": ("环节", "Link"),
    "chain.status": ("判断", "Status"),
    "chain.interviews": ("访谈数", "Interviews"),
    "chain.roles": ("受访者", "Interviewees"),
    "chain.codings": ("编码（存在 / 缺失）", "Codings (present / absent)"),
    "chain.quote": ("最有力的引文", "Strongest quote"),
    "chain.breaks": ("断在：", "Breaks at: "),
    "chain.holds": ("链条完整", "the chain holds"),
    "chain.status.present": ("存在", "present"),
    "chain.status.absent": ("缺失", "absent"),
    "chain.status.not discussed": ("未谈及", "not discussed"),
    "chain.reason_absent": ("{links} 缺失", "{links} absent"),
    "chain.summary_holds": ("{group}：链条完整（每个环节都存在）", "{group}: the chain holds (every stage present)"),
    "chain.summary_breaks": ("{group}：断在 {link} {label}（{status}）", "{group}: breaks at {link} {label} ({status})"),
    "list.sep": ("、", ", "),
    "chain.reason_sep": ("；", "; "),
    # adjudication
    "adj.title": ("裁定分歧", "Adjudication"),
    "adj.coders": ("比较的编码者：", "Coders compared:"),
    "adj.no_coders": ("还没有编码者做过决定或手工编码。", "No coder has decided or coded anything yet."),
    "adj.consensus": ("共识编码者", "Consensus coder"),
    "adj.start": ("开始裁定", "Adjudicate"),
    "adj.intro": ("勾选至少两位独立编码的编码者。两人一致之处自动并入共识；分歧逐条显示，每位编码者的决定和证据并排，"
                  "裁定时必须写明理由（与 qualcode adjudicate 相同）。",
                  "Tick at least two coders who coded independently. Their agreements are carried into the consensus; "
                  "the disagreements come one at a time with each coder's decision and evidence side by side, and each "
                  "settlement needs a reason (as in qualcode adjudicate)."),
    "adj.summary": ("已裁定 {settled} 处分歧，尚余 {open} 处；{agreed} 处一致已并入 {consensus}（共识编码 {coded} 个）",
                    "{settled} disagreements settled, {open} open; {agreed} agreements carried into {consensus} "
                    "({coded} consensus codings)"),
    "adj.adjudicator": ("裁定人", "Adjudicator"),
    "adj.done": ("这些编码者之间没有待裁定的分歧了。", "No disagreement of these coders is left to settle."),
    "adj.coded": ("编码了", "coded"),
    "adj.not_coded": ("未编码", "not coded"),
    "adj.unseen": ("没有看过这份文档", "did not see this document"),
    "adj.coding": ("编码", "coding"),
    "adj.score": ("分数", "score"),
    "adj.evidence": ("证据词", "Evidence"),
    "adj.no_coding": ("看过这一段，没有用这个代码。", "Saw this unit and did not apply the code."),
    "adj.never_saw": ("没有看过这份文档。", "Never saw this document."),
    "adj.key_coded": ("共识：编码", "Consensus: coded"),
    "adj.key_not_coded": ("共识：不编码", "Consensus: not coded"),
    "adj.key_take": ("照 {coder} 的决定", "As {coder} had it"),
    "adj.msg_settled": ("{code} 在 {unit}：{consensus} 中{result}", "{code} on {unit}: {result} in {consensus}"),
    "adj.msg_skipped": ("已跳过 {code} 在 {unit}（其余裁定完后再出现）", "Skipped {code} on {unit} (it comes again last)"),
    "adj.msg_undone": ("已撤销：{what}", "Undone: {what}"),
    "adj.msg_nothing": ("本次裁定中没有可撤销的操作", "Nothing to undo in this adjudication"),
    "adj.keys": ("y 共识编码 · n 共识不编码 · 1–9 照第 N 位编码者的决定（三者都要写理由）· s 跳过 · u 撤销本次裁定的上一步 · "
                 "? 帮助",
                 "y coded in the consensus · n not coded · 1–9 as coder N had it (each asks for the reason) · s skip · "
                 "u undo this adjudication's last settlement · ? help"),
    # log
    "log.title": ("操作记录", "Audit log"),
    "log.at": ("时间", "Time"),
    "log.action": ("操作", "Action"),
    "log.target": ("对象", "Target"),
    "log.summary": ("摘要", "Summary"),
    "log.undone": ("已撤销", "Undone"),
    # errors
    "error.title": ("出错了", "Something went wrong"),
    "error.forbidden": ("需要访问令牌：请使用 qualcode serve 打印的完整网址打开。",
                        "An access token is needed: open the full URL that qualcode serve printed."),
    "error.not_found": ("没有这个页面。", "No such page."),
    # scripts
    "js.pick_code": ("选择代码（输入 id、中文或英文名筛选）", "Pick a code (type an id, Chinese or English label)"),
    "js.recent": ("最近用过", "Recent"),
    "js.no_match": ("没有匹配的代码", "No matching code"),
    "js.new_code": ("新建原生代码：", "New in-vivo code: "),
    "js.new_code_id": ("新代码的 id（字母、数字、_ 或 -）：", "Id of the new code (letters, digits, _ or -):"),
    "js.memo_prompt": ("备忘内容：", "Memo:"),
    "js.saved": ("已保存", "Saved"),
    "js.conflict": ("冲突：", "Conflict: "),
    "js.error": ("错误：", "Error: "),
    "js.select_chip": ("先点击一个编码", "Click a coding first"),
    "js.confirm_remove": ("删除这个手工编码？", "Remove this hand coding?"),
    "js.confirm_remove_doc": ("要删除文档「{name}」及其全部编码和备忘，请输入文档名确认（删除前存到 outputs/，可撤销）：",
                              "To remove the document \"{name}\" with all its codings and memos, type its name "
                              "(saved to outputs/ first; undoable):"),
    "js.not_removed": ("名称不符，未删除", "The name did not match: nothing removed"),
    "js.help_title": ("快捷键", "Keys"),
    "js.close": ("关闭", "Close"),
    "js.undone": ("已撤销：", "Undone: "),
    "js.reason_prompt": ("裁定理由（必填，会与共识一起保存）：", "Reason for the settlement (required, kept with the consensus):"),
    "js.reason_take": ("照此编码者的决定：", "As this coder had it: "),
    "js.reason_required": ("请写明理由：每一处裁定都保存理由。", "Give the reason: every settlement keeps its reason."),
    "js.carried": ("两人一致之处已并入共识：", "Agreements carried into the consensus: "),
    "js.never_saw": ("这位编码者没有看过这份文档：", "This coder never saw the document: "),
}


def text(key: str, lang: str = DEFAULT_LANGUAGE, **values) -> str:
    """The string ``key`` in ``lang`` (``{name}`` placeholders filled from ``values``)."""
    zh, en = CATALOGUE[key]
    out = en if lang == "en" else zh
    return out.format(**values) if values else out


def script_strings(lang: str) -> dict[str, str]:
    """The strings the scripts show, for the page's JSON island."""
    return {key[3:]: text(key, lang) for key in CATALOGUE if key.startswith("js.")}


def language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE
