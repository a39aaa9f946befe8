"""The codebook model: a tree of codes with definitions and auto-coding rules.

Only the typed data lives here (constants, :class:`CodebookError` and the dataclasses
:class:`Codebook`, :class:`Code`, :class:`Rule`, :class:`Term` …) with their canonical
plain-data form (``to_yaml``/``to_dict``) and content ``version``. Reading a YAML file is
``qualcode.codebook.load``, checking it ``qualcode.codebook.validate``, writing it
``qualcode.codebook.dump``; the rule syntax is documented in ``docs/codebook.md`` and
matching lives in ``qualcode.autocode.rules``.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from qualcode.errors import QualcodeError
from qualcode.text.script import fold
from qualcode.vocabulary import CODING_UNITS, SCOPE_ROLES

FORMAT = 1
UNIT_KINDS = CODING_UNITS
ROLE_VALUES = SCOPE_ROLES  # unknown: no speaker role
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
COLOR_RE = re.compile(r"^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$")
DEFAULT_NEGATORS = (
    "不", "没", "没有", "未", "无", "并非", "并不", "并没", "并没有", "不是", "从不", "从没",
    "从未", "毫无", "不太", "不大", "不怎么", "没怎么", "不够", "没什么", "没啥", "谈不上",
    "算不上", "缺乏", "缺少", "难以", "不再", "不愿", "不愿意", "不肯", "并不是",
)
DEFAULT_NEGATION_WINDOW = 3
# Negation after the term (满意度不高, 问题没解决): what may follow a term and deny it. Only
# predicates of failure, not bare 不/没, which after a term usually negate something else
# (党员不怕苦, 站长不是社区指派的).
DEFAULT_AFTER_NEGATORS = (
    "不高", "不好", "不行", "不够", "不足", "不到位", "不理想", "不明显", "不落实", "没落实", "没有落实", "未落实",
    "没解决", "没有解决", "未解决", "没能解决", "解决不了", "没用", "没有用", "不管用", "没效果", "没有效果",
    "没作用", "没有作用", "不起作用", "没起作用", "没下文", "没有下文", "不了了之", "没办成", "没办好", "没搞定",
    "没修好", "没弄好",
)
DEFAULT_NEGATION_AFTER = 2
# What ends the reach of a negator: any clause punctuation, or only the end of a sentence.
NEGATION_BOUNDS = ("clause", "sentence")
# Organisation names: a code's word right before one of these (optionally with 管理, 工作 …
# between) names a body (退休党员支部, 应急办, 应急管理局) and is not evidence of the mechanism.
# Single characters that are also verbs (站, 处, 所) are left out: 党员站出来 is not a name.
DEFAULT_ENTITY_SUFFIXES = (
    "支部", "党支部", "总支", "党总支", "党委", "工委", "办", "办公室", "局", "委员会", "中心", "科", "服务站",
    "工作站", "公司", "协会", "学会", "工作室", "服务社", "联合会",
)
ENTITY_INFIXES = ("管理", "工作", "服务", "事务", "保障", "指挥", "综合")


class CodebookError(QualcodeError):
    """A codebook that cannot be used; ``problems`` lists every fault as file:line: path: what."""

    def __init__(self, source: str, problems: list[str]):
        n = len(problems)
        super().__init__(
            f"{source}: {n} problem{'s' if n != 1 else ''} in codebook",
            hint="each problem is listed as file:line: yaml path: what is wrong; "
            "fix them all (see docs/codebook.md) and load the codebook again",
        )
        self.source = source
        self.problems = problems


@dataclass(frozen=True)
class Term:
    """A word or phrase; whole jieba tokens unless ``substring``."""

    text: str
    substring: bool = False
    weight: float = 1.0
    negation: bool = True  # False: the negation guard does not apply to this term

    def to_yaml(self) -> Any:
        if not self.substring and self.weight == 1.0 and self.negation:
            return self.text
        d: dict[str, Any] = {"term": self.text}
        if self.substring:
            d["substring"] = True
        if self.weight != 1.0:
            d["weight"] = self.weight
        if not self.negation:
            d["negation"] = False
        return d


@dataclass(frozen=True)
class Negation:
    """Negation guard settings; ``None`` fields inherit from the enclosing level."""

    enabled: bool | None = None
    window: int | None = None  # characters before the term a negator may end
    negators: tuple[Term, ...] | None = None
    after: int | None = None  # characters after the term an after-negator may start (0: right after)
    after_negators: tuple[Term, ...] | None = None  # empty: no negation after the term
    bound: str | None = None  # one of NEGATION_BOUNDS

    def merged_over(self, base: Negation) -> Negation:
        def pick(name: str) -> Any:
            mine = getattr(self, name)
            return mine if mine is not None else getattr(base, name)

        if self.enabled is False:
            return replace(base, enabled=False)
        enabled: bool | None
        if self.enabled is not None:
            enabled = self.enabled
        elif any(getattr(self, k) is not None for k in ("window", "negators", "after", "after_negators", "bound")):
            enabled = True  # giving settings switches the guard on
        else:
            enabled = base.enabled
        return Negation(enabled, pick("window"), pick("negators"), pick("after"), pick("after_negators"),
                        pick("bound"))

    def to_yaml(self) -> Any:
        if self.enabled is False:
            return False
        d: dict[str, Any] = {}
        if self.window is not None:
            d["window"] = self.window
        if self.negators is not None:
            d["negators"] = [t.to_yaml() for t in self.negators]
        if self.after is not None:
            d["after"] = self.after
        if self.after_negators is not None:
            d["after_negators"] = [t.to_yaml() for t in self.after_negators]
        if self.bound is not None:
            d["bound"] = self.bound
        return d if d else True


@dataclass(frozen=True)
class Scope:
    """Where a rule applies; ``None`` fields inherit (and ultimately mean: anywhere)."""

    unit: tuple[str, ...] | None = None
    role: tuple[str, ...] | None = None
    attributes: tuple[tuple[str, tuple[str, ...]], ...] | None = None

    def merged_over(self, base: Scope) -> Scope:
        return Scope(
            self.unit if self.unit is not None else base.unit,
            self.role if self.role is not None else base.role,
            self.attributes if self.attributes is not None else base.attributes,
        )

    def to_yaml(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.unit is not None:
            d["unit"] = list(self.unit)
        if self.role is not None:
            d["role"] = list(self.role)
        if self.attributes is not None:
            d["attributes"] = {k: list(v) for k, v in self.attributes}
        return d


@dataclass(frozen=True)
class Near:
    """Proximity: a ``terms`` occurrence within N characters/tokens of a ``with`` occurrence."""

    terms: tuple[Term, ...]
    with_: tuple[Term, ...]
    within: int
    measure: str = "chars"  # "chars" | "tokens"
    ordered: bool = False  # True: the ``terms`` occurrence must come first

    def to_yaml(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "terms": [t.to_yaml() for t in self.terms],
            "with": [t.to_yaml() for t in self.with_],
            f"within_{self.measure}": self.within,
        }
        if self.ordered:
            d["ordered"] = True
        return d


@dataclass(frozen=True)
class Rule:
    """One way a code is recognised; all conditions present must hold (AND)."""

    id: str
    any: tuple[Term, ...] = ()
    all: tuple[Term, ...] = ()
    none: tuple[Term, ...] = ()
    regex: tuple[str, ...] = ()
    near: Near | None = None
    min_hits: int = 1
    min_terms: int = 1
    threshold: float | None = None
    negation: Negation | None = None
    scope: Scope | None = None
    requires_codes: tuple[str, ...] = ()
    unless_codes: tuple[str, ...] = ()
    note: str | None = None
    absent: bool = False  # negative evidence: what this rule finds says the code's mechanism is missing
    entity_names: bool = False  # True: a term inside an organisation's name (应急办) counts too
    explicit_id: bool = field(default=True, compare=False)

    def to_yaml(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.explicit_id:
            d["id"] = self.id
        if self.note is not None:
            d["note"] = self.note
        if self.absent:
            d["absent"] = True
        if self.entity_names:
            d["entity_names"] = True
        for key in ("any", "all", "none"):
            terms = getattr(self, key)
            if terms:
                d[key] = [t.to_yaml() for t in terms]
        if self.regex:
            d["regex"] = list(self.regex)
        if self.near is not None:
            d["near"] = self.near.to_yaml()
        if self.min_hits != 1:
            d["min_hits"] = self.min_hits
        if self.min_terms != 1:
            d["min_terms"] = self.min_terms
        if self.threshold is not None:
            d["threshold"] = self.threshold
        if self.negation is not None:
            d["negation"] = self.negation.to_yaml()
        if self.scope is not None:
            d["scope"] = self.scope.to_yaml()
        if self.requires_codes:
            d["requires_codes"] = list(self.requires_codes)
        if self.unless_codes:
            d["unless_codes"] = list(self.unless_codes)
        return d


@dataclass(frozen=True)
class Example:
    quote: str
    gloss: str | None = None  # English gloss
    speaker: str | None = None  # anonymised role code, e.g. 社区党组织书记A

    def to_yaml(self) -> Any:
        if self.gloss is None and self.speaker is None:
            return self.quote
        d: dict[str, Any] = {"quote": self.quote}
        if self.gloss is not None:
            d["gloss"] = self.gloss
        if self.speaker is not None:
            d["speaker"] = self.speaker
        return d


@dataclass
class Code:
    path: str  # "governance/legitimacy": identifies the code everywhere
    id: str
    parent: str | None
    label_zh: str | None
    label_en: str | None = None
    definition: str | None = None
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    counter_examples: list[Example] = field(default_factory=list)  # must NOT be coded
    color: str | None = None
    exclusive: bool = False  # children are mutually exclusive per passage
    rules: list[Rule] = field(default_factory=list)
    scope: Scope | None = None  # default for this code's rules
    negation: Negation | None = None  # default for this code's rules
    meta: dict[str, Any] = field(default_factory=dict)  # free extension data (e.g. in-vivo)

    @property
    def depth(self) -> int:
        return self.path.count("/")

    def rule_id(self, rule: Rule) -> str:
        return f"{self.path}#{rule.id}"


@dataclass
class Codebook:
    name: str
    codes: list[Code]
    title: str | None = None
    description: str | None = None
    negation: Negation = field(default_factory=Negation)  # codebook-wide defaults
    scope: Scope = field(default_factory=Scope)
    source: str | None = None  # the file it was loaded from; not content
    entity_suffixes: tuple[str, ...] | None = None  # None: DEFAULT_ENTITY_SUFFIXES; empty: no guard

    def __post_init__(self) -> None:
        self._index = {c.path: c for c in self.codes}

    def get(self, path: str) -> Code:
        """The code at ``path``; KeyError when there is none."""
        return self._index[path]

    def __contains__(self, path: object) -> bool:
        return path in self._index

    def __iter__(self) -> Iterator[Code]:
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)

    def roots(self) -> list[Code]:
        return [c for c in self.codes if c.parent is None]

    def children(self, path: str | None) -> list[Code]:
        """Direct children of ``path`` (``None``: the top-level codes), in codebook order."""
        return [c for c in self.codes if c.parent == path]

    def descendants(self, path: str) -> list[Code]:
        prefix = path + "/"
        return [c for c in self.codes if c.path.startswith(prefix)]

    def effective_negation(self, code: Code, rule: Rule) -> Negation:
        base = Negation(True, DEFAULT_NEGATION_WINDOW, tuple(Term(n) for n in DEFAULT_NEGATORS),
                        DEFAULT_NEGATION_AFTER, tuple(Term(n) for n in DEFAULT_AFTER_NEGATORS), NEGATION_BOUNDS[0])
        n = self.negation.merged_over(base)
        if code.negation is not None:
            n = code.negation.merged_over(n)
        if rule.negation is not None:
            n = rule.negation.merged_over(n)
        return n

    def effective_entity_suffixes(self) -> tuple[str, ...]:
        """The organisation-name suffixes of the entity-name guard (the codebook's, or the defaults)."""
        return self.entity_suffixes if self.entity_suffixes is not None else DEFAULT_ENTITY_SUFFIXES

    def effective_scope(self, code: Code, rule: Rule) -> Scope:
        s = self.scope
        if code.scope is not None:
            s = code.scope.merged_over(s)
        if rule.scope is not None:
            s = rule.scope.merged_over(s)
        return s

    def terms(self) -> list[str]:
        """Every literal term of every rule, script-folded, once each (for jieba's dictionary)."""
        seen: dict[str, None] = {}
        for code in self.codes:
            for rule in code.rules:
                groups = [rule.any, rule.all, rule.none]
                if rule.near is not None:
                    groups += [rule.near.terms, rule.near.with_]
                for group in groups:
                    for t in group:
                        seen.setdefault(fold(t.text), None)
        return list(seen)

    def add_code(self, code: Code) -> Code:
        """Add ``code`` (e.g. an in-vivo code) after its parent's last descendant."""
        if not ID_RE.match(code.id):
            raise CodebookError(self.source or self.name, [f"code id {code.id!r} must be ASCII letters, digits, '_' or '-'"])
        path = f"{code.parent}/{code.id}" if code.parent else code.id
        if path in self._index:
            raise CodebookError(self.source or self.name, [f"{path}: a code with this path already exists"])
        if code.parent is not None and code.parent not in self._index:
            raise CodebookError(self.source or self.name, [f"{path}: parent code {code.parent!r} does not exist"])
        code = replace(code, path=path)
        pos = len(self.codes)
        if code.parent is not None:
            pos = self.codes.index(self._index[code.parent]) + 1
            while pos < len(self.codes) and self.codes[pos].path.startswith(code.parent + "/"):
                pos += 1
        self.codes.insert(pos, code)
        self._index[path] = code
        return code

    # -- serialisation

    def to_dict(self) -> dict[str, Any]:
        """Canonical plain-data form; ``dump`` writes it, ``version`` hashes it."""
        d: dict[str, Any] = {"format": FORMAT, "name": self.name}
        if self.title is not None:
            d["title"] = self.title
        if self.description is not None:
            d["description"] = self.description
        defaults: dict[str, Any] = {}
        if self.negation != Negation():
            defaults["negation"] = self.negation.to_yaml()
        if self.scope != Scope():
            defaults["scope"] = self.scope.to_yaml()
        if self.entity_suffixes is not None:
            defaults["entity_suffixes"] = list(self.entity_suffixes)
        if defaults:
            d["defaults"] = defaults
        d["codes"] = [self._code_dict(c) for c in self.roots()]
        return d

    def _code_dict(self, c: Code) -> dict[str, Any]:
        d: dict[str, Any] = {"id": c.id, "label": {}}
        if c.label_zh is not None:
            d["label"]["zh"] = c.label_zh
        if c.label_en is not None:
            d["label"]["en"] = c.label_en
        if c.definition is not None:
            d["definition"] = c.definition
        if c.include:
            d["include"] = list(c.include)
        if c.exclude:
            d["exclude"] = list(c.exclude)
        if c.examples:
            d["examples"] = [e.to_yaml() for e in c.examples]
        if c.counter_examples:
            d["counter_examples"] = [e.to_yaml() for e in c.counter_examples]
        if c.color is not None:
            d["color"] = c.color
        if c.exclusive:
            d["exclusive"] = True
        if c.scope is not None:
            d["scope"] = c.scope.to_yaml()
        if c.negation is not None:
            d["negation"] = c.negation.to_yaml()
        if c.rules:
            d["rules"] = [r.to_yaml() for r in c.rules]
        if c.meta:
            d["meta"] = dict(c.meta)
        kids = self.children(c.path)
        if kids:
            d["children"] = [self._code_dict(k) for k in kids]
        return d

    @property
    def version(self) -> str:
        """sha256 of the canonical content: changes whenever anything but layout/comments does."""
        blob = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()
