"""Codebook model, validation (every problem with file:line, all at once), dump/load, default codebook."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from qualcode.autocode.rules import Document, Unit, compile_rules
from qualcode.codebook import Code, CodebookError, dump, dumps, load_codebook, parse_codebook
from qualcode.errors import QualcodeError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "codebooks" / "party_building_governance.yaml"
TEMPLATE = ROOT / "codebooks" / "template.yaml"


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "cb.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    return [p.replace(str(path), "cb.yaml") for p in info.value.problems]


# ---------------------------------------------------------------- validation


def test_bad_yaml_is_reported_with_its_line(tmp_path):
    assert problems_of(tmp_path, """\
        codes:
          - id: a
            label: [unclosed
        """) == ["cb.yaml:4: (yaml): not valid YAML: while parsing a flow sequence expected ',' or ']', but got '<stream end>'"]


def test_every_problem_is_reported_at_once_with_lines(tmp_path):
    problems = problems_of(tmp_path, """\
        name: broken
        codes:
          - id: governance
            label: {zh: 治理, en: Governance}
            colour: "#123456"
            children:
              - id: legitimacy
                label: 合法性
                color: red
                rules:
                  - any: [认可]
                    regex: ["(认可"]
                    requires_codes: [governance/rule]
              - id: legitimacy
                label: 重复
              - id: 责任
                label: 责任性
              - label: 无名
              - id: rules
                rules:
                  - any: [制度]
                    scope: {unit: paragraph, role: [resident]}
                    min_hits: 0
        """)
    assert problems == [
        "cb.yaml:5: codes[governance]: unknown key 'colour'; did you mean 'color'?",
        "cb.yaml:9: codes[governance].children[legitimacy].color: colour 'red' must be a hex colour like \"#1f77b4\"",
        "cb.yaml:12: codes[governance].children[legitimacy].rules[0].regex[0]: "
        "invalid regular expression '(认可': missing ), unterminated subpattern at position 0",
        "cb.yaml:13: codes[governance].children[legitimacy].rules[0].requires_codes[0]: "
        "refers to code 'governance/rule', which does not exist; did you mean 'governance/rules'?",
        "cb.yaml:14: codes[governance].children[legitimacy].id: duplicate code 'governance/legitimacy' (also defined on line 7)",
        "cb.yaml:16: codes[governance].children[2].id: id '责任' must be ASCII letters, digits, '_' or '-' (put Chinese in 'label')",
        "cb.yaml:18: codes[governance].children[3]: missing 'id' (a short ASCII name such as legitimacy)",
        "cb.yaml:19: codes[governance].children[rules]: missing 'label' (label: {zh: 中文名, en: English name})",
        "cb.yaml:22: codes[governance].children[rules].rules[0].scope.unit: unknown unit 'paragraph'; use passage or sentence",
        "cb.yaml:22: codes[governance].children[rules].rules[0].scope.role: "
        "unknown role 'resident'; use interviewer, interviewee, other, unknown",
        "cb.yaml:23: codes[governance].children[rules].rules[0].min_hits: must be at least 1, got 0",
    ]


def test_error_message_is_one_line_with_the_count_and_a_hint(tmp_path):
    path = tmp_path / "cb.yaml"
    path.write_text("codes:\n  - id: a\n  - id: b\n", encoding="utf-8")
    with pytest.raises(QualcodeError) as info:
        load_codebook(path)
    assert str(info.value) == f"{path}: 2 problems in codebook"
    assert "\n" not in str(info.value) and info.value.hint


def test_cycle_among_code_references(tmp_path):
    problems = problems_of(tmp_path, """\
        codes:
          - id: a
            label: A
            rules:
              - any: [甲]
                requires_codes: [b]
          - id: b
            label: B
            rules:
              - any: [乙]
                unless_codes: [a]
          - id: c
            label: C
            rules:
              - any: [丙]
                requires_codes: [c]
        """)
    assert problems == [
        "cb.yaml:11: codes[b].rules[0].unless_codes[0]: code references form a cycle: a → b → a",
        "cb.yaml:16: codes[c].rules[0].requires_codes[0]: code references form a cycle: c → c",
    ]


def test_reference_to_own_parent_is_a_cycle(tmp_path):
    # a reference to P is satisfied by P or any code under it, so a child requiring its parent requires itself
    problems = problems_of(tmp_path, """\
        codes:
          - id: p
            label: P
            children:
              - id: k
                label: K
                rules: [{any: [甲], requires_codes: [p]}]
        """)
    assert problems == ["cb.yaml:7: codes[p].children[k].rules[0].requires_codes[0]: code references form a cycle: p/k → p/k"]


def test_wrong_types_and_structure(tmp_path):
    problems = problems_of(tmp_path, """\
        codes:
          - id: a
            label: A
            color: #ff0000
            exclusive: yes please
            include: 3
            rules:
              - none: [甲]
              - any: [no, "ok"]
              - near: {terms: [甲], with: [乙]}
              - id: words
                any: [甲]
                id: again
        """)
    assert problems == [
        'cb.yaml:4: codes[a].color: colour is missing; write it in quotes, e.g. color: "#1f77b4"',
        "cb.yaml:5: codes[a].exclusive: expected true or false, got text",
        "cb.yaml:6: codes[a].include[0]: expected text, got a number; put it in quotes",
        "cb.yaml:8: codes[a].rules[0]: a rule needs at least one of 'any', 'all', 'regex' or 'near' "
        "('none' and code references only restrict it)",
        "cb.yaml:9: codes[a].rules[1].any[0]: expected text, got true/false; put it in quotes",
        "cb.yaml:10: codes[a].rules[2].near: give exactly one of 'within_chars' or 'within_tokens'",
        "cb.yaml:13: codes[a].rules[3]: key 'id' appears twice (first on line 11)",
    ]


def test_exclusive_needs_children_and_empty_codebook(tmp_path):
    assert problems_of(tmp_path, "codes:\n  - id: a\n    label: A\n    exclusive: true\n") == [
        "cb.yaml:4: codes[a].exclusive: exclusive: true needs children (they are the mutually exclusive options)"
    ]
    assert problems_of(tmp_path, "# nothing\n") == ["cb.yaml:1: (root): the codebook is empty"]
    assert problems_of(tmp_path, "codes: []\nfoo: 1\n") == [
        "cb.yaml:1: codes: the codebook has no codes",
        "cb.yaml:2: (root): unknown key 'foo'; allowed: format, name, title, description, defaults, codes",
    ]


def test_missing_file_is_a_codebook_error(tmp_path):
    with pytest.raises(CodebookError):
        load_codebook(tmp_path / "nope.yaml")


def test_negation_and_entity_settings_are_checked_with_their_lines(tmp_path):
    problems = problems_of(tmp_path, """\
        defaults:
          entity_suffixes: {办: 1}
          negation: {after: -1, bound: paragraph}
        codes:
          - id: c
            label: 测试
            rules:
              - any: [认可]
                entity_names: maybe
                negation: {after_negators: 不高, windows: 2}
        """)
    assert problems == [
        "cb.yaml:2: defaults.entity_suffixes: expected a list, got a mapping",
        "cb.yaml:3: defaults.negation.after: must be at least 0, got -1",
        "cb.yaml:3: defaults.negation.bound: bound must be one of clause, sentence (where a negator's reach ends), "
        "not 'paragraph'",
        "cb.yaml:9: codes[c].rules[0].entity_names: expected true or false, got text",
        "cb.yaml:10: codes[c].rules[0].negation: unknown key 'windows'; did you mean 'window'?",
    ]


def test_negation_and_entity_settings_round_trip(tmp_path):
    cb = parse_codebook(textwrap.dedent("""\
        defaults:
          entity_suffixes: [办, 支部]
          negation: {window: 2, after: 1, after_negators: [不高], bound: sentence}
        codes:
          - id: c
            label: 测试
            rules:
              - any: [认可]
                entity_names: true
                negation: {after_negators: []}
        """), "cb.yaml")
    again = parse_codebook(dumps(cb), "again.yaml")
    assert again.version == cb.version
    assert again.entity_suffixes == ("办", "支部")
    assert again.codes[0].rules[0].entity_names
    effective = again.effective_negation(again.codes[0], again.codes[0].rules[0])
    assert (effective.window, effective.after, effective.bound, effective.after_negators) == (2, 1, "sentence", ())


# ---------------------------------------------------------------- model, dump, version


def test_model_paths_parents_children():
    cb = load_codebook(TEMPLATE)
    assert cb.get("evaluation/positive").parent == "evaluation"
    assert [c.id for c in cb.children("evaluation")] == ["positive", "negative", "mixed"]
    assert cb.get("evaluation").exclusive
    assert cb.get("participation").rules[0].any[0].text == "报名"
    assert cb.name == "my_project" and cb.source == str(TEMPLATE)


@pytest.mark.parametrize("path", [DEFAULT, TEMPLATE])
def test_dump_then_load_is_lossless(tmp_path, path):
    cb = load_codebook(path)
    out = tmp_path / "out.yaml"
    dump(cb, out)
    again = load_codebook(out)
    assert again.to_dict() == cb.to_dict()
    assert again.version == cb.version
    assert dumps(again) == out.read_text(encoding="utf-8")  # canonical: a second dump is identical


def test_version_tracks_content_not_layout():
    text = "codes:\n  - id: a\n    label: A\n    rules: [{any: [甲]}]\n"
    v1 = parse_codebook(text).version
    assert parse_codebook("# a comment\n" + text.replace("[{any: [甲]}]", "\n      - any:\n          - 甲")).version == v1
    assert parse_codebook(text.replace("甲", "乙")).version != v1
    assert len(v1) == 64


def test_terms_are_folded_for_the_jieba_dictionary():
    cb = parse_codebook("codes:\n  - id: a\n    label: A\n    rules:\n      - {any: [協商, 认可], none: [人大]}\n")
    assert cb.terms() == ["协商", "认可", "人大"]


def test_add_code_for_in_vivo_codes_round_trips(tmp_path):
    cb = load_codebook(TEMPLATE)
    cb.add_code(Code(path="", id="grumbling", parent="evaluation", label_zh="发牢骚", meta={"in_vivo": True}))
    assert [c.path for c in cb.codes].index("evaluation/grumbling") == [c.path for c in cb.codes].index("evaluation/mixed") + 1
    with pytest.raises(CodebookError):
        cb.add_code(Code(path="", id="grumbling", parent="evaluation", label_zh="重复"))
    dump(cb, tmp_path / "cb.yaml")
    assert load_codebook(tmp_path / "cb.yaml").get("evaluation/grumbling").meta == {"in_vivo": True}


# ---------------------------------------------------------------- the default codebook

FRAMEWORK = {
    "construction": ["hub", "network", "standards"],
    "embedding": ["leadership", "retirees", "guidance"],
    "mobilization": ["horizontal", "exemplar", "deliberation"],
    "governance": ["legitimacy", "accountability", "rules", "responsiveness"],
    "context": ["crisis", "bureaucracy", "social_capital"],
}


@pytest.fixture(scope="module")
def default():
    cb = load_codebook(DEFAULT)
    return cb, compile_rules(cb)


def test_default_codebook_has_the_framework(default):
    cb, _ = default
    assert [c.id for c in cb.roots()] == list(FRAMEWORK)
    for stage, subs in FRAMEWORK.items():
        assert [c.id for c in cb.children(stage)] == subs
    for code in cb.codes:
        assert code.label_zh and code.label_en and code.definition and code.color, code.path
        assert "EN:" in code.definition, code.path
        assert code.include and code.exclude, code.path
        if code.parent is not None:
            assert 1 <= len(code.examples) <= 3 and code.rules, code.path


def test_default_codebook_codes_its_own_examples_and_not_its_counter_examples(default):
    cb, rs = default
    for code in cb.codes:
        for ex in code.examples:
            got = [h.code for h in rs.match(Unit(ex.quote, role="interviewee"))]
            assert any(g == code.path or g.startswith(code.path + "/") for g in got), (code.path, ex.quote, got)
        for ex in code.counter_examples:
            got = [h.code for h in rs.match(Unit(ex.quote, role="interviewee"))]
            assert code.path not in got, (code.path, ex.quote, got)


@pytest.mark.parametrize("text, expected", [
    ("老王是我们楼里大家推出来的，他说话大家都听。", ["governance/legitimacy"]),
    ("我們社區的黨員都很有威信，居民也認可。", ["governance/legitimacy"]),
    ("互助站的负责人就是退休的老党员，天天在站里。", ["embedding/leadership", "embedding/retirees"]),
    ("以前居民有事都不知道找谁，现在有事就找站长。", ["governance/responsiveness"]),
    ("前几天楼道灯坏了，跟网格员说了一声，第二天就修好了。", ["governance/responsiveness"]),
    ("驻区的几个单位每年都来社区报到，帮我们搞活动。", ["mobilization/horizontal"]),
    ("停车的问题我们开了好几次协调会，物业、业委会、居民坐下来一起谈。", ["mobilization/deliberation"]),
    ("支部不去管具体的事，让互助站自己运作。", ["embedding/guidance"]),
    ("居委会现在台账太多，根本忙不过来。", ["context/bureaucracy"]),
    ("楼上楼下的邻居现在都熟了，谁家有事都互相帮忙。", ["context/social_capital"]),
    # negated or off-topic: nothing
    ("大家对他一点也不认可。", []),
    ("这个站长没有威信，没人听他的。", []),
    ("我们对物业很不满意。", []),
    ("问题反映了也没人解决。", []),
    ("我孙子今天去学校报到。", []),
    ("今天天气不错，我去菜市场买菜。", []),
    ("他们从来没有推选过什么代表。", []),
])
def test_default_codebook_codes_like_a_researcher(default, text, expected):
    _, rs = default
    assert [h.code for h in rs.match(Unit(text, role="interviewee")) if not h.absent] == expected


@pytest.mark.parametrize("text, expected", [
    # negation before, after and inside a match
    ("我是支部委员，但我不是党员。", []),
    ("我们楼组长并不是党员骨干，都是普通居民。", []),
    ("居民的满意度不高，反映的问题一直没解决。", []),
    # a code's word inside an organisation's name
    ("我在退休党员支部当组织委员，今天说说停车。", []),
    ("应急管理局又发来一张表，要我们填表报材料。", ["context/bureaucracy"]),
    ("合同里列了物业的服务清单，保洁一天两次。", []),
    # practitioners' words
    ("我们小区账目公开，每个季度贴在公告栏上。", ["governance/accountability"]),
    ("年底业主给物业打分，分数低了就扣钱。", ["governance/accountability"]),
    ("我包一栋楼，这栋楼的大事小事都归我。", ["governance/accountability"]),
    ("拍个照，回单位交差，就算完成了。", ["context/bureaucracy"]),
    ("现在居民觉得社区是自己的，有事愿意出来。", ["governance/legitimacy"]),
    ("加装电梯那回，志愿者挨家挨户上门听意见，开了四次会，一楼住户最后也签了字。",
     ["mobilization/deliberation"]),
    ("小区搞了红色物业，物业经理也进了社区党委。", ["embedding"]),
    ("街道推吹哨报到以后，城管、房管的人一叫就来。", ["mobilization/horizontal"]),
    ("我们办了时间银行，志愿服务的时长以后可以换服务。", ["mobilization"]),
])
def test_default_codebook_reads_practitioners_words_negation_and_names(default, text, expected):
    _, rs = default
    hits = rs.match(Unit(text, role="interviewee"))
    assert [h.code for h in hits if not h.absent] == expected
    tokens = rs.tokenize(text)
    assert rs.match_document(Document(text, [(0, len(text))], tokens, ["interviewee"])) == [hits]


def test_default_codebook_codes_an_owners_committee_election():
    cb = load_codebook(DEFAULT)
    rs = compile_rules(cb)
    text = "老刘是党员，退休前在厂里当工程师，这次业委会换届，他得了四百多票，当选了业委会主任。"
    got = {h.code for h in rs.match(Unit(text, role="interviewee")) if not h.absent}
    assert {"embedding/leadership", "governance/legitimacy"} <= got


@pytest.mark.parametrize("text, expected", [
    ("大家对他一点也不认可。", ["governance/legitimacy"]),
    ("这个站长没有威信，没人听他的。", ["governance/legitimacy"]),
    ("有些支部就是挂个牌子，一年也开不了一次会。", ["construction"]),
    ("业委会五个人，里面没有党员。", ["embedding"]),
    ("报到就是签个字，填个表，人是不来的。", ["mobilization/horizontal"]),
    ("开会来的都是老面孔，年轻人不来。", ["mobilization"]),
    ("楼顶漏水，反映了好几次也没人管，推来推去。", ["governance/responsiveness"]),
    ("事情好办，但是不规范，什么都靠人情。", ["governance/rules"]),
    # a negated formalism marker is no absence; a working body is no absence either
    ("我们的支部不是形同虚设，每个月都开会。", []),
    ("业委会七个人，有五个是党员。", []),
])
def test_default_codebook_proposes_absences_for_negative_evidence(default, text, expected):
    """``absent: true`` rules: negative evidence is proposed as such, and the presence of the
    code is then not proposed in the same unit."""
    _, rs = default
    hits = rs.match(Unit(text, role="interviewee"))
    assert [h.code for h in hits if h.absent] == expected
    for code in expected:
        assert not any(h.code == code or h.code.startswith(code + "/") for h in hits if not h.absent)


def test_default_codebook_ignores_the_interviewers_questions(default):
    _, rs = default
    question = "你们对社区的工作满意吗？站长是大家推选的吗？"
    assert rs.match(Unit(question, role="interviewer")) == []
    assert rs.match(Unit(question, role="interviewee")) != []


def test_a_codebook_read_again_through_libyaml_is_the_same_codebook(tmp_path):
    """load_codebook(cache_dir=...) parses new content with PyYAML, later loads with libyaml."""
    cache = tmp_path / "cache"
    plain = load_codebook(DEFAULT)
    first = load_codebook(DEFAULT, cache_dir=cache)
    assert (cache / "libyaml-checked.txt").read_text().strip()
    again = load_codebook(DEFAULT, cache_dir=cache)
    assert dumps(again) == dumps(first) == dumps(plain) and again.version == plain.version
    # problems keep their lines on the libyaml path
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: 1\ncodes:\n  - id: a\n    label: 甲\n    colour: red\n", encoding="utf-8")
    with pytest.raises(CodebookError) as e1:
        load_codebook(bad, cache_dir=cache)
    with pytest.raises(CodebookError) as e2:
        load_codebook(bad, cache_dir=cache)
    assert e1.value.problems == e2.value.problems and ":5:" in e1.value.problems[0]


def test_yaml_only_libyaml_accepts_is_still_refused_and_a_damaged_cache_is_ignored(tmp_path):
    cache = tmp_path / "cache"
    tab = tmp_path / "tab.yaml"
    tab.write_text("format: 1\nname:\tx\ncodes:\n  - id: a\n    label: 甲\n", encoding="utf-8")  # PyYAML: no tabs
    for _ in range(2):
        with pytest.raises(CodebookError) as e:
            load_codebook(tab, cache_dir=cache)
        assert "not valid YAML" in e.value.problems[0]
    cache.mkdir(exist_ok=True)
    (cache / "libyaml-checked.txt").write_bytes(b"\xff\xfe not hashes")
    assert load_codebook(DEFAULT, cache_dir=cache).version == load_codebook(DEFAULT).version


def test_a_validated_codebook_is_reused_until_its_text_changes(tmp_path, monkeypatch):
    """The second load of the same content skips validation (a JSON file in the cache folder),
    and gives the same codebook; an edit, or a cache file someone altered, validates again."""
    from qualcode.codebook import load

    validations: list[str] = []
    real = load.validate_tree
    monkeypatch.setattr(load, "validate_tree", lambda *a: validations.append(a[2]) or real(*a))
    cache = tmp_path / "cache"
    path = tmp_path / "cb.yaml"
    path.write_text(DEFAULT.read_text(encoding="utf-8"), encoding="utf-8")
    first = load_codebook(path, cache_dir=cache)
    again = load_codebook(path, cache_dir=cache)
    assert len(validations) == 1
    assert again == first and dumps(again) == dumps(first) and again.version == first.version
    assert [r.explicit_id for c in again for r in c.rules] == [r.explicit_id for c in first for r in c.rules]
    (stored,) = cache.glob("codebook-*.json")
    assert stored.read_text(encoding="utf-8").startswith('{"key"')  # plain JSON, never pickle
    path.write_text(path.read_text(encoding="utf-8").replace("name:", "name: x", 0) + "\n# edited\n",
                    encoding="utf-8")
    load_codebook(path, cache_dir=cache)
    assert len(validations) == 2
    stored.write_text(stored.read_text(encoding="utf-8").replace('"codes": [', '"codes": 7, "x": ['),
                      encoding="utf-8")
    assert load_codebook(path, cache_dir=cache) == first
    assert len(validations) == 3


def test_a_codebook_json_cannot_carry_exactly_is_validated_every_time(tmp_path):
    cache = tmp_path / "cache"
    path = tmp_path / "dated.yaml"
    path.write_text("format: 1\ncodes:\n  - id: a\n    label: 甲\n    meta:\n      since: 2024-01-05\n",
                    encoding="utf-8")
    first = load_codebook(path, cache_dir=cache)
    assert load_codebook(path, cache_dir=cache) == first
    assert first.get("a").meta["since"].year == 2024
