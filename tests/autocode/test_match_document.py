"""The document path (``match_documents``, rules evaluated on arrays) gives ``match``'s hits.

Random texts built from the codebook's terms, negators, after-negators, organisation
suffixes, clause punctuation and filler, coded unit by unit with ``match`` (the oracle) and
as several documents at once with ``match_documents``.
"""
from __future__ import annotations

import textwrap

from hypothesis import given, settings, strategies as st

from qualcode.autocode.rules import Document, Unit, compile_rules
from qualcode.codebook.load import parse_codebook
from qualcode.text.script import fold

CODEBOOK = textwrap.dedent("""\
    defaults:
      negation: {window: 3, after: 2}
    codes:
      - id: trust
        label: 信任
        rules:
          - any: [满意, 认可, {term: 信任, weight: 0.7}, {term: 党建, substring: true}]
          - {id: many, any: [居民, 邻居], min_hits: 2}
          - {id: distinct, any: [居民, 邻居, 党员], min_terms: 2, negation: {bound: sentence}}
          - id: weighted
            any: [{term: 好评, weight: 0.1}, {term: 口碑, weight: 0.2}, {term: 满意, weight: 0.3}]
            threshold: 0.6
      - id: org
        label: 组织
        exclusive: true
        children:
          - id: party
            label: 党组织
            rules:
              - any: [支部, 退休党员, 应急]
              - {id: names, any: [应急], entity_names: true, negation: false}
          - id: owners
            label: 业委会
            rules:
              - {all: [业委会, 物业]}
              - {any: [业委会], all: [居民], none: [人大代表]}
      - id: near
        label: 邻近
        rules:
          - near: {terms: [站长, 报到], with: [党员, 单位], within_chars: 4}
          - {id: tokens, near: {terms: [居民], with: [满意, 物业], within_tokens: 2, ordered: true}, min_hits: 1}
          - {id: mixed, any: [认可], near: {terms: [党员], with: [站长], within_chars: 6}, min_terms: 2}
      - id: paper
        label: 形式
        rules:
          - {any: [挂牌子, 形同虚设], absent: true}
          - {regex: ["委员.{0,6}是党员", "解决了?问题"]}
      - id: follow
        label: 依赖
        rules:
          - {any: [物业], requires_codes: [trust]}
          - {id: veto, any: [业委会], unless_codes: [trust]}
          - {id: interviewer, any: [站长], scope: {role: [interviewer]}}
    """)

PIECES = [
    "满意", "认可", "信任", "党建", "居民", "邻居", "党员", "好评", "口碑", "支部", "退休党员", "应急",
    "业委会", "物业", "人大代表", "站长", "报到", "单位", "挂牌子", "形同虚设", "委员", "是", "解决", "了",
    "问题",
    "不", "没有", "并不", "不是", "不高", "没用", "不到位", "不断",  # negators, after-negators, a false one
    "办", "管理局", "中心", "工作站", "委员会",  # organisation suffixes (with 管理, 工作 before some)
    "，", "。", "；", "、", " ", "\n",
    "我们", "很", "大家", "都", "一起", "的", "个", "老", "滿意", "黨建", "𠮷", "a",
]
ROLES = [None, "interviewer", "interviewee"]

_RS = compile_rules(parse_codebook(CODEBOOK, "test.yaml"))

unit_text = st.lists(st.sampled_from(PIECES), min_size=0, max_size=14).map("".join)
document = st.lists(st.tuples(unit_text, st.sampled_from(ROLES)), min_size=1, max_size=5)


def _document(units: list[tuple[str, str | None]]) -> tuple[Document, list[Unit]]:
    """One document of ``units`` (text, role), separated by a line break, and the same units alone."""
    text, spans, token_ends, roles, alone = "", [], [], [], []
    for unit, role in units:
        start = len(text)
        ends = _RS.tokenize(unit)
        token_ends += [start + e for e in ends]
        spans.append((start, start + len(unit)))
        roles.append(role)
        alone.append(Unit(unit, ends, role=role))
        text += unit + "\n"
    return Document(text, spans, token_ends, roles), alone


@settings(max_examples=150, deadline=None)
@given(st.lists(document, min_size=1, max_size=3))
def test_match_documents_gives_the_hits_of_match(documents):
    built = [_document(units) for units in documents]
    expected = [[_RS.match(u) for u in alone] for _, alone in built]
    assert _RS.match_documents([doc for doc, _ in built]) == expected
    assert [_RS.match_document(doc) for doc, _ in built] == expected


def test_the_random_texts_exercise_every_rule_kind():
    """The property above is not vacuous: its pieces make each kind of rule fire and not fire."""
    cases = {
        "大家都满意": ["trust"],
        "大家不满意": [],
        "满意度不高": [],  # 满意 inside 满意度 does not count, and 不高 negates nothing else
        "居民和邻居都来了": ["trust"],
        "好评口碑满意": ["trust"],
        "好评口碑": [],
        "退休党员支部开会": ["org/party"],  # 退休党员 is part of the name; 支部 is a term itself
        "应急办来了": ["org/party"],  # only through the rule that counts names
        "业委会和物业，居民": ["org/owners", "follow"],  # follow: 业委会 without trust
        "站长是党员": ["near"],
        "站长不是党员": [],
        "村里挂牌子": ["paper"],
        "我是委员，也是党员": ["paper"],
        "满意，物业来了": ["trust", "follow"],
        "业委会来了": ["follow"],
        "没有业委会，居民来了": [],  # the any term is negated, the all term alone does not fire
        "站长是党员，不认可": ["near"],  # mixed: its any term is negated
    }
    for text, want in cases.items():
        hits = _RS.match(Unit(text))
        assert [h.code for h in hits] == want, text
        doc, _ = _document([(text, None)])
        assert _RS.match_document(doc) == [hits]
    assert fold("黨建") == "党建"
