"""A small hand-checkable project for the report tests, written straight into the store.

Three interviews in two cases (西街道 has one interview); two share a date (a tie in the
saturation order). Codings (all manual unless noted):

  doc 1 甲-书记A  东街道 社区党组织书记A 2023-01-01
      p1 interviewer 问：请介绍一下网格。
      p2 interviewee 答：我们建了网格党支部。退休党员当楼组长。   network (passage), retirees (span 退休党员)
      p3 interviewer 问：居民满意吗？
      p4 interviewee 答：居民很满意，问题当天解决。               responsiveness; legitimacy (PROPOSED rule)
  doc 2 甲-站长B  东街道 互助站站长B 2023-02-01
      p1 interviewee 答：互助站站长是党员。                       leadership
      p2 interviewee 答：我们有议事会。                           deliberation, network
  doc 3 乙-书记A  西街道 社区党组织书记A 2023-02-01
      p1 interviewee 答：网格党支部很有用。                       network; rules (REJECTED rule)
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert

from qualcode.project import Project
from qualcode.store import schema as t
from qualcode.text.segment import split_sentences

CODEBOOK = """\
format: 1
name: test_framework
codes:
  - id: construction
    label: {zh: 组织构建, en: Construction}
    definition: 党组织建立组织网络。
    include: [描述党组织的设置]
    exclude: [党员个人任职]
    examples:
      - quote: 街道有大工委。
        speaker: 街道办事处主任A
    color: "#1f77b4"
    children:
      - id: hub
        label: {zh: 枢纽型组织, en: Hub}
      - id: network
        label: {zh: 组织网络, en: Network}
  - id: embedding
    label: {zh: 组织嵌入, en: Embedding}
    children:
      - id: leadership
        label: {zh: 骨干任职, en: Leadership}
      - id: retirees
        label: {zh: 离退休党员, en: Retirees}
  - id: mobilization
    label: {zh: 组织动员, en: Mobilization}
    children:
      - id: deliberation
        label: {zh: 多元协商, en: Deliberation}
  - id: governance
    label: {zh: 社区善治, en: Governance}
    children:
      - id: legitimacy
        label: {zh: 合法性, en: Legitimacy}
      - id: rules
        label: {zh: 规则化, en: Rules}
      - id: responsiveness
        label: {zh: 回应性, en: Responsiveness}
"""

DOCS = [
    ("甲-书记A", "东街道", {"role": "社区党组织书记A", "date": "2023-01-01"}, [
        ("interviewer", "问：请介绍一下网格。", []),
        ("interviewee", "答：我们建了网格党支部。退休党员当楼组长。",
         [("construction/network", None, "manual", "accepted"), ("embedding/retirees", "退休党员", "manual", "accepted")]),
        ("interviewer", "问：居民满意吗？", []),
        ("interviewee", "答：居民很满意，问题当天解决。",
         [("governance/responsiveness", None, "manual", "accepted"), ("governance/legitimacy", None, "rule", "proposed")]),
    ]),
    ("甲-站长B", "东街道", {"role": "互助站站长B", "date": "2023-02-01"}, [
        ("interviewee", "答：互助站站长是党员。", [("embedding/leadership", None, "manual", "accepted")]),
        ("interviewee", "答：我们有议事会。",
         [("mobilization/deliberation", None, "manual", "accepted"), ("construction/network", None, "manual", "accepted")]),
    ]),
    ("乙-书记A", "西街道", {"role": "社区党组织书记A", "date": "2023-02-01"}, [
        ("interviewee", "答：网格党支部很有用。",
         [("construction/network", None, "manual", "accepted"), ("governance/rules", None, "rule", "rejected")]),
    ]),
]


def build(root: Path) -> Project:
    project = Project.init(root)
    path = root / "codebooks" / "test.yaml"
    path.write_text(CODEBOOK, encoding="utf-8")
    project.use_codebook(path)
    with project.store.transaction() as conn:
        case_ids = {}
        for doc_id, (name, case, attrs, turns) in enumerate(DOCS, start=1):
            if case not in case_ids:
                case_ids[case] = conn.execute(insert(t.cases).values(name=case)).inserted_primary_key[0]
            text = "\n".join(turn[1] for turn in turns)
            conn.execute(insert(t.documents).values(
                id=doc_id, name=name, file_name=name + ".txt", source_path=f"/data/{name}.txt", content_hash=name,
                text=text, n_chars=len(text), encoding="utf-8", style="qa", script="simplified",
                case_id=case_ids[case], dict_version="x", warnings="[]", imported_at="2026-01-01"))
            for key, value in attrs.items():
                conn.execute(insert(t.attributes).values(document_id=doc_id, key=key, value=value))
            speakers = {}
            for role in ("interviewer", "interviewee"):
                speakers[role] = conn.execute(insert(t.speakers).values(
                    document_id=doc_id, label="问" if role == "interviewer" else "答", role=role)).inserted_primary_key[0]
            offset = 0
            for seq, (role, body, codings) in enumerate(turns, start=1):
                start, end = offset, offset + len(body)
                pid = conn.execute(insert(t.passages).values(
                    document_id=doc_id, seq=seq, speaker_id=speakers[role], start=start, end=end,
                    tokens=b"")).inserted_primary_key[0]
                for n, (s, e) in enumerate(split_sentences(text, start, end), start=1):
                    conn.execute(insert(t.sentences).values(passage_id=pid, seq=n, start=s, end=e))
                for code, span, origin, status in codings:
                    s, e = (start, end) if span is None else (text.index(span, start), text.index(span, start) + len(span))
                    conn.execute(insert(t.codings).values(
                        document_id=doc_id, passage_id=pid, start=s, end=e, code=code,
                        coder="autocode" if origin == "rule" else "李老师", origin=origin, status=status,
                        unit="passage" if span is None else "span", score="1" if origin == "rule" else None,
                        created_at="2026-01-01", updated_at="2026-01-01"))
                offset = end + 1
    return project


