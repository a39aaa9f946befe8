"""Rule semantics: each with a case that must fire and one that must not."""
from __future__ import annotations

import textwrap

from hypothesis import given, settings, strategies as st

from qualcode.autocode.rules import Document, Hit, Unit, compile_rules
from qualcode.codebook.load import parse_codebook
from qualcode.text.script import fold


def ruleset(rules_yaml: str, extra: str = "", defaults: str = ""):
    """A one-code codebook `c` with the given rules (YAML, indented as under `rules:`)."""
    text = "codes:\n  - id: c\n    label: 测试\n    rules:\n" + textwrap.indent(textwrap.dedent(rules_yaml), "      ")
    if extra:
        text += extra  # further top-level codes, indented as list items under `codes:`
    if defaults:
        text = textwrap.dedent(defaults) + text
    return compile_rules(parse_codebook(text, "test.yaml"))


def codes(rs, text, **kw) -> list[str]:
    hits = rs.match(Unit(text, **kw))
    assert in_document(rs, text, **kw) == hits, "match_document disagrees with match"
    return [h.code for h in hits]


def in_document(rs, text, role=None, attributes=None, kind="passage", token_ends=None):
    """The hits match_document gives ``text`` as the middle unit of a three-unit document."""
    units = ["没有不满意，说话都听。", text, "居民信任我们"]
    doc, spans, doc_token_ends = "", [], []
    for u in units:
        start = len(doc)
        ends = token_ends if u is text and token_ends is not None else rs.tokenize(u)
        doc_token_ends += [start + e for e in ends]
        spans.append((start, start + len(u)))
        doc += u + "\n"
    return rs.match_document(Document(doc, spans, doc_token_ends, [role] * 3, attributes or {}, kind))[1]


def fires(rs, text, **kw) -> bool:
    return "c" in codes(rs, text, **kw)


# ---------------------------------------------------------------- token boundaries


def test_term_matches_whole_token():
    rs = ruleset("- any: [满意]\n")
    assert fires(rs, "大家都很满意")
    assert not fires(rs, "满意度很高")  # 满意 is only part of the token 满意度


def test_term_inside_unrelated_longer_word_does_not_fire():
    rs = ruleset("- any: [党建]\n")
    assert fires(rs, "我们的党建工作做得扎实")
    assert not fires(rs, "要加强政党建设")  # 政党/建设: 党建 straddles a token boundary


def test_multi_token_term_matches_when_jieba_splits_it():
    rs = ruleset("- any: [协商议事]\n")
    # tokens given by the caller: 协商 | 议事 | 会 — the term spans two whole tokens
    assert fires(rs, "协商议事会", token_ends=[2, 4, 5])
    # ... but not when a token runs across its end: 协商 | 议事会
    assert not fires(rs, "协商议事会", token_ends=[2, 5])


def test_substring_is_opt_in_per_term():
    rs = ruleset("- any: [{term: 党建, substring: true}]\n")
    assert fires(rs, "要加强政党建设")
    assert not fires(rs, "要加强组织建设")


# ---------------------------------------------------------------- negation


def test_negator_before_term_blocks_it():
    rs = ruleset("- any: [满意, 认可]\n")
    assert fires(rs, "居民都认可")
    assert not fires(rs, "居民都不认可")
    assert not fires(rs, "我们不满意")
    assert not fires(rs, "我们不太满意")  # 不太 is a negator too


def test_negation_window_is_configurable():
    rs_short = ruleset("- any: [认可]\n  negation: {window: 1}\n")
    rs_long = ruleset("- any: [认可]\n  negation: {window: 5}\n")
    text = "没有哪个居民认可"  # four characters between 没有 and 认可
    assert fires(rs_short, text)
    assert not fires(rs_long, text)


def test_negation_stops_at_clause_punctuation():
    rs = ruleset("- any: [满意]\n")
    assert fires(rs, "不，满意")
    assert not fires(rs, "不满意")


def test_negator_inside_a_longer_word_does_not_negate():
    rs = ruleset("- any: [制度]\n")
    assert fires(rs, "我们不断完善制度")  # 不断 is not a negation
    assert not fires(rs, "我们没有制度")


def test_negator_that_is_part_of_the_term_does_not_count():
    rs = ruleset("- any: [不包办]\n")
    assert fires(rs, "支部不包办")
    assert not fires(rs, "支部从未不包办")  # a negator before the term still counts


def test_negation_can_be_switched_off_per_rule_and_per_term():
    rs_rule = ruleset("- any: [满意]\n  negation: false\n")
    rs_term = ruleset("- any: [{term: 满意, negation: false}, 认可]\n")
    assert fires(rs_rule, "不满意") and fires(rs_term, "不满意")
    assert not fires(rs_term, "不认可")


def test_custom_negators_replace_the_defaults():
    rs = ruleset("- any: [认可]\n  negation: {negators: [很难]}\n")
    assert not fires(rs, "居民很难认可")
    assert fires(rs, "居民不认可")  # 不 is no longer a negator for this rule


def test_codebook_default_negation_applies_to_all_rules():
    rs = ruleset("- any: [认可]\n", defaults="defaults:\n  negation: false\n")
    assert fires(rs, "不认可")


def test_negation_after_the_term():
    rs = ruleset("- any: [满意度, 问题, 解决]\n")
    assert fires(rs, "满意度很高")
    assert not fires(rs, "满意度不高")
    assert not fires(rs, "这个问题一直没解决")  # 没解决 starts two characters after 问题
    assert fires(rs, "问题，一直没解决")  # clause punctuation stops it


def test_after_negators_are_predicates_of_failure_not_every_negator():
    rs = ruleset("- any: [党员]\n")
    assert fires(rs, "党员不怕苦")  # 不 after the term negates something else
    assert not fires(rs, "我不是党员")
    assert not fires(rs, "我并不是党员")


def test_negation_after_window_and_negators_are_configurable():
    rs_near = ruleset("- any: [问题]\n  negation: {after: 0}\n")
    rs_none = ruleset("- any: [问题]\n  negation: {after_negators: []}\n")
    rs_own = ruleset("- any: [问题]\n  negation: {after_negators: [悬而未决]}\n")
    assert fires(rs_near, "问题一直没解决") and not fires(rs_near, "问题没解决")
    assert fires(rs_none, "问题没解决")
    assert not fires(rs_own, "问题悬而未决") and fires(rs_own, "问题没解决")


def test_negation_bound_sentence_reaches_over_commas():
    rs_clause = ruleset("- any: [认可]\n  negation: {window: 4}\n")
    rs_sentence = ruleset("- any: [认可]\n  negation: {window: 4, bound: sentence}\n")
    assert fires(rs_clause, "没有，认可")
    assert not fires(rs_sentence, "没有，认可")
    assert fires(rs_sentence, "没有。认可")


def test_negation_applies_to_regex_rules_before_after_and_inside():
    rs = ruleset('- regex: ["委员.{0,8}是党员", "解决了?问题"]\n')
    assert fires(rs, "我是支部委员，也是党员")
    assert not fires(rs, "我是支部委员，但我不是党员")  # a negator inside the match, before its last token
    assert not fires(rs, "他是委员，并不是党员")
    assert not fires(rs, "并没有解决问题")  # before the match
    assert not fires(rs, "解决问题不到位")  # after the match
    off = ruleset('- regex: ["委员.{0,8}是党员"]\n  negation: false\n')
    assert fires(off, "我是支部委员，但我不是党员")


def test_negation_applies_to_both_sides_of_a_proximity_rule():
    rs = ruleset("- near: {terms: [站长], with: [党员], within_chars: 6}\n")
    assert fires(rs, "站长是个老党员")
    assert not fires(rs, "站长不是党员")  # the partner is negated
    assert not fires(rs, "没有站长，只有党员")  # the anchor is negated
    assert not fires(rs, "站长没用，党员也在")  # an after-negator on the anchor


# ---------------------------------------------------------------- entity names


def test_a_term_inside_an_organisation_name_does_not_count():
    rs = ruleset("- any: [退休党员, 应急]\n")
    assert fires(rs, "退休党员时间多")
    assert not fires(rs, "我是退休党员支部的书记")
    assert not fires(rs, "应急办又让我们填表")
    assert not fires(rs, "区应急管理局来检查")  # 管理 between the term and the suffix
    assert fires(rs, "退休党员站出来帮忙")  # 站 alone is a verb here, not a suffix


def test_a_rule_can_count_organisation_names():
    rs = ruleset("- any: [应急]\n  entity_names: true\n")
    assert fires(rs, "应急办又让我们填表")


def test_a_term_that_is_itself_a_name_is_not_guarded():
    rs = ruleset("- any: [党群服务中心, 支部]\n")
    assert fires(rs, "党群服务中心工作站挂牌了")
    assert fires(rs, "支部委员会开会")


def test_codebook_sets_the_organisation_suffixes():
    rs = ruleset("- any: [应急, 退休党员]\n", defaults="defaults:\n  entity_suffixes: [小组]\n")
    assert fires(rs, "应急办又让我们填表")  # 办 is no longer a suffix
    assert not fires(rs, "退休党员小组开会")
    off = ruleset("- any: [应急]\n", defaults="defaults:\n  entity_suffixes: []\n")
    assert fires(off, "应急管理局来检查")


def test_entity_guard_applies_to_regex_and_proximity():
    rs = ruleset('- regex: ["退休党员"]\n- near: {terms: [应急], with: [物资], within_chars: 4}\n')
    assert not fires(rs, "退休党员支部开会")
    assert fires(rs, "应急物资到了")
    assert not fires(rs, "应急管理局的物资")


# ---------------------------------------------------------------- proximity


def test_near_within_chars():
    rs = ruleset("- near: {terms: [报到], with: [单位, 在职党员], within_chars: 4}\n")
    hit = rs.match(Unit("机关单位都来报到"))[0]
    assert [e[0] for e in hit.evidence] == ["单位", "报到"]
    assert not fires(rs, "单位的同志上个月去人事处报到")  # too far apart
    assert not fires(rs, "今天去报到")  # no partner at all


def test_near_within_tokens():
    rs1 = ruleset("- near: {terms: [站长], with: [党员], within_tokens: 1}\n")
    assert fires(rs1, "站长是党员", token_ends=[2, 3, 5])
    assert not fires(rs1, "站长是个老党员", token_ends=[2, 3, 4, 5, 7])


def test_near_ordered():
    rs = ruleset("- near: {terms: [站长], with: [党员], within_chars: 5, ordered: true}\n")
    assert fires(rs, "站长是党员")
    assert not fires(rs, "党员当站长")


# ---------------------------------------------------------------- groups


def test_all_group_needs_every_term():
    rs = ruleset("- all: [业委会, 物业]\n")
    assert fires(rs, "业委会和物业一起开会")
    assert not fires(rs, "业委会自己开会")


def test_any_and_all_combine_with_and():
    rs = ruleset("- any: [商量, 讨论]\n  all: [居民]\n")
    assert fires(rs, "居民一起商量")
    assert not fires(rs, "干部一起商量")
    assert not fires(rs, "居民一起吃饭")


def test_none_group_vetoes_the_rule():
    rs = ruleset("- any: [选举]\n  none: [人大代表]\n")
    assert fires(rs, "站长是选举产生的")
    assert not fires(rs, "人大代表选举")


def test_rules_of_a_code_are_alternatives():
    rs = ruleset("- id: a\n  any: [推选]\n- id: b\n  any: [威信]\n")
    assert [h.rule for h in rs.match(Unit("他有威信"))] == ["c#b"]
    hit = rs.match(Unit("大家推选他，他有威信"))[0]
    assert hit.rule == "c#a" and hit.rules == ("c#a", "c#b") and hit.score == 2


# ---------------------------------------------------------------- counts and thresholds


def test_min_hits_counts_occurrences():
    rs = ruleset("- any: [邻居]\n  min_hits: 2\n")
    assert fires(rs, "邻居帮邻居")
    assert not fires(rs, "我邻居出门了")


def test_min_terms_counts_distinct_terms():
    rs = ruleset("- any: [邻居, 熟人]\n  min_terms: 2\n")
    assert fires(rs, "邻居都是熟人")
    assert not fires(rs, "邻居帮邻居")


def test_threshold_sums_weights():
    rs = ruleset("- any: [{term: 信任, weight: 2}, 邻居]\n  threshold: 2\n")
    assert fires(rs, "彼此信任")
    assert rs.match(Unit("邻居之间彼此信任"))[0].score == 3
    assert not fires(rs, "我邻居出门了")


def test_regex_rule():
    rs = ruleset('- regex: ["有(?:事|困难)(?:就)?找"]\n')
    hit = rs.match(Unit("有事就找站长"))[0]
    assert hit.evidence == [("有(?:事|困难)(?:就)?找", 0, 4)]
    assert not fires(rs, "找不到人")


# ---------------------------------------------------------------- scope


def test_scope_by_role():
    rs = ruleset("- any: [满意]\n  scope: {role: [interviewee, unknown]}\n")
    assert fires(rs, "大家都满意", role="interviewee")
    assert fires(rs, "大家都满意", role=None)  # no speaker: 'unknown'
    assert not fires(rs, "大家都满意", role="interviewer")
    strict = ruleset("- any: [满意]\n  scope: {role: interviewee}\n")
    assert not fires(strict, "大家都满意", role=None)


def test_scope_by_unit_kind():
    rs = ruleset("- any: [满意]\n  scope: {unit: sentence}\n")
    assert fires(rs, "大家都满意", kind="sentence")
    assert not fires(rs, "大家都满意", kind="passage")


def test_scope_by_document_attribute_is_script_insensitive():
    rs = ruleset("- any: [满意]\n  scope: {attributes: {case: [N街道]}}\n")
    assert fires(rs, "大家都满意", attributes={"case": "N街道"})
    assert fires(rs, "大家都满意", attributes={"case": "N街道", "日期": "2021"})
    assert not fires(rs, "大家都满意", attributes={"case": "M街道"})
    assert not fires(rs, "大家都满意", attributes={})


def test_scope_inherits_code_then_codebook_defaults():
    rs = ruleset("- any: [满意]\n", defaults="defaults:\n  scope: {role: [interviewee]}\n")
    assert fires(rs, "都满意", role="interviewee")
    assert not fires(rs, "都满意", role="interviewer")


# ---------------------------------------------------------------- script


def test_simplified_codebook_codes_traditional_text():
    rs = ruleset("- any: [认可]\n- id: n\n  near: {terms: [报到], with: [单位], within_chars: 3}\n")
    hits = rs.match(Unit("居民都很認可，單位來報到"))
    assert hits[0].rules == ("c#r1", "c#n")
    assert ("认可", 4, 6) in hits[0].evidence  # evidence names the codebook term
    assert not fires(rs, "居民都不認可")


def test_traditional_codebook_codes_simplified_text():
    rs = ruleset("- any: [協商議事]\n- regex: ['議事會']\n")
    assert fires(rs, "我们搞协商议事")
    assert fires(rs, "开议事会")
    assert not fires(rs, "我们搞协商")


# ---------------------------------------------------------------- code references, exclusivity


def test_requires_and_unless_codes():
    extra = (
        "  - id: d\n"
        "    label: 依赖\n"
        "    rules:\n"
        "      - {any: [物业], requires_codes: [c]}\n"
        "      - {id: veto, any: [业委会], unless_codes: [c]}\n"
    )
    rs = ruleset("- any: [满意]\n", extra=extra)
    assert codes(rs, "物业让人满意") == ["c", "d"]
    assert codes(rs, "物业来了") == []
    assert codes(rs, "业委会来了") == ["d"]
    assert codes(rs, "业委会让人满意") == ["c"]


def test_exclusive_parent_keeps_the_best_child():
    text = textwrap.dedent("""\
        codes:
          - id: eval
            label: 评价
            exclusive: true
            children:
              - id: pos
                label: 正面
                rules: [{any: [满意, 认可]}]
              - id: neg
                label: 负面
                rules: [{any: [抱怨]}]
        """)
    rs = compile_rules(parse_codebook(text, "t.yaml"))
    assert codes(rs, "有人抱怨，但大家都满意也认可") == ["eval/pos"]
    assert codes(rs, "有人抱怨") == ["eval/neg"]


# ---------------------------------------------------------------- offsets and API


def test_offsets_are_code_points_with_non_bmp_text():
    rs = ruleset("- any: [满意]\n")
    text = "𠮷😀大家都满意"
    hit = rs.match(Unit(text))[0]
    (term, s, e), = hit.evidence
    assert text[s:e] == "满意" and (s, e) == (5, 7)


def test_unit_from_tokens_and_match_many():
    rs = ruleset("- any: [满意]\n")
    u = Unit.from_tokens("都满意", [(0, 1), (1, 3)], role="interviewee")
    assert u.token_ends == [1, 3]
    assert rs.match_many([u, Unit("都不满意")]) == [[Hit("c", "c#r1", 1.0, [("满意", 1, 3)], ("c#r1",))], []]


TERMS = ["满意", "认可", "党建", "邻居"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(TERMS + ["不", "很", "𠮷", "😀", "，", "滿意", "黨建", "a"]), max_size=12))
def test_evidence_spans_are_the_terms_in_the_text(parts):
    rs = _PROPERTY_RS
    text = "".join(parts)
    hits = rs.match(Unit(text))
    assert in_document(rs, text) == hits
    for hit in hits:
        for term, s, e in hit.evidence:
            assert 0 <= s < e <= len(text)
            assert fold(text[s:e]) == fold(term)


_PROPERTY_RS = ruleset("- any: [满意, 认可, {term: 党建, substring: true}, 邻居]\n")
