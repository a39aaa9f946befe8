"""The codebook: a tree of codes with definitions and auto-coding rules, kept in YAML.

``load_codebook(path)`` parses and validates a YAML file into a typed :class:`Codebook`;
every problem is collected with its line and YAML path and raised at once as
:class:`CodebookError`, so a malformed codebook is never half-applied. ``dump`` writes a
codebook back in canonical form (comments are not kept; content is, exactly).

The rule syntax is documented in ``docs/codebook.md``; matching lives in
``qualcode.autocode.rules``.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from qualcode.errors import QualcodeError
from qualcode.text.script import fold

FORMAT = 1
UNIT_KINDS = ("passage", "sentence")
ROLE_VALUES = ("interviewer", "interviewee", "other", "unknown")  # unknown: no speaker role
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
COLOR_RE = re.compile(r"^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$")
DEFAULT_NEGATORS = (
    "不", "没", "没有", "未", "无", "并非", "并不", "并没", "并没有", "不是", "从不", "从没",
    "从未", "毫无", "不太", "不大", "不怎么", "没怎么", "不够", "没什么", "没啥", "谈不上",
    "算不上", "缺乏", "缺少", "难以", "不再", "不愿", "不愿意", "不肯",
)
DEFAULT_NEGATION_WINDOW = 3


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


# ---------------------------------------------------------------------------- model


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
    window: int | None = None
    negators: tuple[Term, ...] | None = None

    def merged_over(self, base: Negation) -> Negation:
        if self.enabled is False:
            return Negation(False, base.window, base.negators)
        enabled: bool | None
        if self.enabled is not None:
            enabled = self.enabled
        elif self.window is not None or self.negators is not None:
            enabled = True  # giving settings switches the guard on
        else:
            enabled = base.enabled
        return Negation(
            enabled,
            self.window if self.window is not None else base.window,
            self.negators if self.negators is not None else base.negators,
        )

    def to_yaml(self) -> Any:
        if self.enabled is False:
            return False
        d: dict[str, Any] = {}
        if self.window is not None:
            d["window"] = self.window
        if self.negators is not None:
            d["negators"] = [t.to_yaml() for t in self.negators]
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
    explicit_id: bool = field(default=True, compare=False)

    def to_yaml(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.explicit_id:
            d["id"] = self.id
        if self.note is not None:
            d["note"] = self.note
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
        base = Negation(True, DEFAULT_NEGATION_WINDOW, tuple(Term(n) for n in DEFAULT_NEGATORS))
        n = self.negation.merged_over(base)
        if code.negation is not None:
            n = code.negation.merged_over(n)
        if rule.negation is not None:
            n = rule.negation.merged_over(n)
        return n

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


# ---------------------------------------------------------------------------- dump


class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


def _list_representer(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    # Short lists of short strings (term lists, roles) read best on one line.
    flow = all(isinstance(x, str) and "\n" not in x and len(x) <= 20 for x in data) and len(data) > 0
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(str, _str_representer)
_Dumper.add_representer(list, _list_representer)


def dumps(codebook: Codebook) -> str:
    """The codebook as canonical YAML text."""
    return yaml.dump(
        codebook.to_dict(), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100, indent=2
    )


def dump(codebook: Codebook, path: str | Path) -> None:
    """Write ``codebook`` to ``path`` (canonical YAML; loading it gives the same content)."""
    Path(path).write_text(dumps(codebook), encoding="utf-8")


# ---------------------------------------------------------------------------- load


def load_codebook(path: str | Path, cache_dir: Path | None = None) -> Codebook:
    """Read and validate a codebook file; raise CodebookError listing every problem.

    ``cache_dir``: where to remember which contents libyaml reads exactly as PyYAML does, so
    that loading them again is several times faster (see :class:`_LibyamlChecks`)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise CodebookError(str(p), [f"{p}:1: cannot read the file: {e.strerror or e}"]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CodebookError(str(p), [f"{p}:1: the file is not UTF-8 ({e.reason} at byte {e.start})"]) from None
    return parse_codebook(text, source=str(p), name=p.stem, cache_dir=cache_dir)


def parse_codebook(text: str, source: str = "<codebook>", name: str | None = None,
                   cache_dir: Path | None = None) -> Codebook:
    """Validate YAML ``text`` into a Codebook; ``source`` names it in problem messages;
    ``cache_dir`` as for :func:`load_codebook`."""
    v = _Validator(source)
    checks = _LibyamlChecks(Path(cache_dir), text, _LIBYAML) if cache_dir is not None and _LIBYAML else None
    cb = v.run(text, name or Path(source).stem or "codebook", checks)
    if v.problems or cb is None:
        raise CodebookError(source, [p for _, p in sorted(v.problems, key=lambda x: x[0])])
    return cb


_LIBYAML = getattr(yaml, "CSafeLoader", None)  # None: PyYAML was built without libyaml


def _compose(text: str, loader_class: type) -> tuple[yaml.Node | None, Any]:
    """The document's node tree and the loader (it constructs the scalars later)."""
    loader = loader_class(text)
    try:
        return loader.get_single_node(), loader
    finally:
        loader.dispose()


def _same_tree(a: yaml.Node | None, b: yaml.Node | None, seen: set | None = None) -> bool:
    """Whether two node trees are the same for the validator: kinds, tags, values and lines."""
    if a is None or b is None:
        return a is b
    seen = set() if seen is None else seen
    if (id(a), id(b)) in seen:  # an alias of a pair compared (or being compared) already
        return True
    seen.add((id(a), id(b)))
    if type(a) is not type(b) or a.tag != b.tag or a.start_mark.line != b.start_mark.line:
        return False
    if isinstance(a, yaml.ScalarNode):
        return a.value == b.value
    flat_a, flat_b = ([x for pair in n.value for x in pair] if isinstance(n, yaml.MappingNode) else n.value
                      for n in (a, b))
    return len(flat_a) == len(flat_b) and all(_same_tree(x, y, seen) for x, y in zip(flat_a, flat_b))


class _LibyamlChecks:
    """Codebook contents that libyaml has been checked to read exactly as PyYAML does.

    libyaml composes a codebook several times faster than PyYAML's pure-Python parser, but
    it accepts some text PyYAML rejects (tabs, '?' in flow sequences), and a codebook must
    read the same everywhere: with PyYAML built without libyaml, and in ``annotate``'s
    in-place editing. So new content is parsed by PyYAML and compared with libyaml's tree;
    when they agree, its hash goes into a small file and later loads use libyaml alone. The
    file holds hashes only, so a stale, foreign or unreadable one just means parsing with
    PyYAML again.
    """

    KEEP = 16  # contents remembered (a few codebooks, a few edits back)

    def __init__(self, folder: Path, text: str, loader_class: type):
        from qualcode import __version__

        self.path = folder / "libyaml-checked.txt"
        self.text = text
        self.loader_class = loader_class  # libyaml's
        versions = (__version__, yaml.__version__, yaml._yaml.get_version_string())
        self.key = hashlib.sha256("\0".join((*versions, text)).encode("utf-8")).hexdigest()

    def _known(self) -> list[str]:
        try:
            return self.path.read_text(encoding="ascii").split()
        except (OSError, UnicodeDecodeError):
            return []

    def passed(self) -> bool:
        return self.key in self._known()

    def compare(self, root: yaml.Node | None) -> None:
        """Remember the content when libyaml's tree equals PyYAML's ``root``."""
        try:
            same = _same_tree(root, _compose(self.text, self.loader_class)[0])
        except (yaml.YAMLError, RecursionError):
            same = False
        if not same:
            return
        keep = [k for k in self._known() if k != self.key][-(self.KEEP - 1):] + [self.key]
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.part")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text("\n".join(keep) + "\n", encoding="ascii")
            tmp.replace(self.path)
        except OSError:  # e.g. a read-only project: PyYAML parses every time, as before
            pass


_TOP_KEYS = ("format", "name", "title", "description", "defaults", "codes")
_DEFAULT_KEYS = ("negation", "scope")
_CODE_KEYS = (
    "id", "label", "definition", "include", "exclude", "examples", "counter_examples", "color",
    "exclusive", "scope", "negation", "rules", "meta", "children",
)
_RULE_KEYS = (
    "id", "note", "any", "all", "none", "regex", "near", "min_hits", "min_terms", "threshold",
    "negation", "scope", "requires_codes", "unless_codes",
)
_TERM_KEYS = ("term", "substring", "weight", "negation")
_NEAR_KEYS = ("terms", "with", "within_chars", "within_tokens", "ordered")
_NEG_KEYS = ("window", "negators")
_SCOPE_KEYS = ("unit", "role", "attributes")
_LABEL_KEYS = ("zh", "en")
_EXAMPLE_KEYS = ("quote", "gloss", "speaker")


class _Validator:
    """Walks the YAML node tree, building the model and collecting (line, message) problems."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[tuple[tuple[int, int], str]] = []
        self._seq = 0
        self.refs: list[tuple[str, str, str, yaml.Node]] = []  # (code path, yaml path, ref, node)

    # -- problem reporting

    def err(self, node: yaml.Node | None, ypath: str, msg: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self._seq += 1
        self.problems.append(((line, self._seq), f"{self.source}:{line}: {ypath}: {msg}"))

    # -- generic node helpers

    def scalar(self, node: yaml.Node) -> Any:
        return self.loader.construct_object(node, deep=True)

    def mapping(self, node: yaml.Node, ypath: str, allowed: tuple[str, ...]) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        """Key -> (key node, value node); reports non-mappings, unknown and repeated keys."""
        if not isinstance(node, yaml.MappingNode):
            self.err(node, ypath, f"expected a mapping (key: value), got {self.kind(node)}")
            return None
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for knode, vnode in node.value:
            key = self.scalar(knode) if isinstance(knode, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.err(knode, ypath, f"keys must be text, got {self.kind(knode)}")
                continue
            if key in out:
                self.err(knode, ypath, f"key {key!r} appears twice (first on line {out[key][0].start_mark.line + 1})")
                continue
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
                self.err(knode, ypath, f"unknown key {key!r}{hint}")
                continue
            out[key] = (knode, vnode)
        return out

    @staticmethod
    def kind(node: yaml.Node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "a mapping"
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        tag = node.tag.rsplit(":", 1)[-1]
        return {"str": "text", "int": "a number", "float": "a number", "bool": "true/false",
                "null": "nothing (null)"}.get(tag, tag)

    def text(self, node: yaml.Node, ypath: str, *, nonempty: bool = True) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":str"):
            value = self.scalar(node)
            if nonempty and not value.strip():
                self.err(node, ypath, "must not be empty")
                return None
            return value
        extra = "; put it in quotes" if isinstance(node, yaml.ScalarNode) and not node.tag.endswith(":null") else ""
        self.err(node, ypath, f"expected text, got {self.kind(node)}{extra}")
        return None

    def boolean(self, node: yaml.Node, ypath: str) -> bool | None:
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":bool"):
            return self.scalar(node)
        self.err(node, ypath, f"expected true or false, got {self.kind(node)}")
        return None

    def integer(self, node: yaml.Node, ypath: str, minimum: int) -> int | None:
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":int"):
            value = self.scalar(node)
            if value < minimum:
                self.err(node, ypath, f"must be at least {minimum}, got {value}")
                return None
            return value
        self.err(node, ypath, f"expected a whole number, got {self.kind(node)}")
        return None

    def number(self, node: yaml.Node, ypath: str) -> float | None:
        if isinstance(node, yaml.ScalarNode) and (node.tag.endswith(":int") or node.tag.endswith(":float")):
            value = float(self.scalar(node))
            if value != value or value in (float("inf"), float("-inf")):
                self.err(node, ypath, "must be a finite number")
                return None
            return value
        self.err(node, ypath, f"expected a number, got {self.kind(node)}")
        return None

    def seq(self, node: yaml.Node, ypath: str, *, allow_scalar: bool = False) -> list[yaml.Node] | None:
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        if allow_scalar and isinstance(node, yaml.ScalarNode) and not node.tag.endswith(":null"):
            return [node]
        self.err(node, ypath, f"expected a list, got {self.kind(node)}")
        return None

    def text_list(self, node: yaml.Node, ypath: str, *, allow_scalar: bool = False) -> list[str]:
        items = self.seq(node, ypath, allow_scalar=allow_scalar)
        out = []
        for i, n in enumerate(items or []):
            t = self.text(n, f"{ypath}[{i}]")
            if t is not None:
                out.append(t)
        return out

    # -- entry

    def parse(self, text: str, checks: _LibyamlChecks | None) -> yaml.Node | None:
        """The node tree (None for an empty document), or None with a problem for invalid YAML."""
        if checks is not None and checks.passed():
            root, self.loader = _compose(text, checks.loader_class)
            return root
        try:
            root, self.loader = _compose(text, yaml.SafeLoader)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
            line = mark.line + 1 if mark is not None else 1
            what = " ".join(x for x in (getattr(e, "context", None), getattr(e, "problem", None)) if x) or str(e)
            self._seq += 1
            self.problems.append(((line, self._seq), f"{self.source}:{line}: (yaml): not valid YAML: {what}"))
            return None
        if checks is not None:
            checks.compare(root)
        return root

    def run(self, text: str, default_name: str, checks: _LibyamlChecks | None = None) -> Codebook | None:
        root = self.parse(text, checks)
        if self.problems:
            return None
        if root is None:
            self.problems.append(((1, 0), f"{self.source}:1: (root): the codebook is empty"))
            return None
        top = self.mapping(root, "(root)", _TOP_KEYS)
        if top is None:
            return None
        if "format" in top:
            fmt = self.integer(top["format"][1], "format", 1)
            if fmt is not None and fmt != FORMAT:
                self.err(top["format"][1], "format", f"this qualcode reads codebook format {FORMAT}, not {fmt}")
        name = self.text(top["name"][1], "name") if "name" in top else default_name
        title = self.text(top["title"][1], "title") if "title" in top else None
        description = self.text(top["description"][1], "description") if "description" in top else None
        negation, scope = Negation(), Scope()
        if "defaults" in top:
            d = self.mapping(top["defaults"][1], "defaults", _DEFAULT_KEYS) or {}
            if "negation" in d:
                negation = self.negation(d["negation"][1], "defaults.negation") or Negation()
            if "scope" in d:
                scope = self.scope(d["scope"][1], "defaults.scope") or Scope()
        codes: list[Code] = []
        if "codes" not in top:
            self.err(root, "(root)", "missing 'codes': the list of top-level codes")
        else:
            items = self.seq(top["codes"][1], "codes")
            if items is not None and not items:
                self.err(top["codes"][1], "codes", "the codebook has no codes")
            self.code_list(items or [], None, "codes", codes, {})
        self.check_references(codes)
        if self.problems:
            return None
        return Codebook(name=name or default_name, codes=codes, title=title, description=description,
                        negation=negation, scope=scope, source=self.source)

    # -- codes

    def code_list(self, items: list[yaml.Node], parent: str | None, ypath: str, out: list[Code],
                  seen: dict[str, yaml.Node]) -> None:
        for i, node in enumerate(items):
            self.code(node, parent, f"{ypath}[{i}]", out, seen)

    def code(self, node: yaml.Node, parent: str | None, ypath: str, out: list[Code],
             seen: dict[str, yaml.Node]) -> None:
        if isinstance(node, yaml.MappingNode):  # name the code by its id in messages when we can
            for knode, vnode in node.value:
                if getattr(knode, "value", None) == "id" and isinstance(vnode, yaml.ScalarNode) \
                        and ID_RE.match(str(vnode.value)):
                    ypath = f"{ypath.rsplit('[', 1)[0]}[{vnode.value}]"
                    break
        m = self.mapping(node, ypath, _CODE_KEYS)
        if m is None:
            return
        cid = None
        if "id" not in m:
            self.err(node, ypath, "missing 'id' (a short ASCII name such as legitimacy)")
        else:
            cid = self.text(m["id"][1], f"{ypath}.id")
            if cid is not None and not ID_RE.match(cid):
                self.err(m["id"][1], f"{ypath}.id",
                         f"id {cid!r} must be ASCII letters, digits, '_' or '-' (put Chinese in 'label')")
                cid = None
        path = None
        if cid is not None:
            path = f"{parent}/{cid}" if parent else cid
            if path in seen:
                self.err(m["id"][1], f"{ypath}.id",
                         f"duplicate code {path!r} (also defined on line {seen[path].start_mark.line + 1})")
                path = None
            else:
                seen[path] = m["id"][1]
        label_zh = label_en = None
        if "label" not in m:
            self.err(node, ypath, "missing 'label' (label: {zh: 中文名, en: English name})")
        else:
            lnode = m["label"][1]
            if isinstance(lnode, yaml.ScalarNode):
                label_zh = self.text(lnode, f"{ypath}.label")
            else:
                lm = self.mapping(lnode, f"{ypath}.label", _LABEL_KEYS)
                if lm is not None:
                    if "zh" in lm:
                        label_zh = self.text(lm["zh"][1], f"{ypath}.label.zh")
                    if "en" in lm:
                        label_en = self.text(lm["en"][1], f"{ypath}.label.en")
                    if not lm:
                        self.err(lnode, f"{ypath}.label", "give at least 'zh' or 'en'")
        code = Code(path=path or "", id=cid or "", parent=parent, label_zh=label_zh, label_en=label_en)
        if "definition" in m:
            code.definition = self.text(m["definition"][1], f"{ypath}.definition")
        for key in ("include", "exclude"):
            if key in m:
                setattr(code, key, self.text_list(m[key][1], f"{ypath}.{key}", allow_scalar=True))
        for key in ("examples", "counter_examples"):
            if key in m:
                setattr(code, key, self.examples(m[key][1], f"{ypath}.{key}"))
        if "color" in m:
            cnode = m["color"][1]
            if isinstance(cnode, yaml.ScalarNode) and cnode.tag.endswith(":null"):
                # `color: #abc` without quotes: YAML reads everything after # as a comment
                self.err(cnode, f"{ypath}.color", 'colour is missing; write it in quotes, e.g. color: "#1f77b4"')
            else:
                color = self.text(cnode, f"{ypath}.color")
                if color is not None and not COLOR_RE.match(color):
                    self.err(cnode, f"{ypath}.color", f'colour {color!r} must be a hex colour like "#1f77b4"')
                elif color is not None:
                    code.color = color
        if "exclusive" in m:
            code.exclusive = bool(self.boolean(m["exclusive"][1], f"{ypath}.exclusive"))
        if "scope" in m:
            code.scope = self.scope(m["scope"][1], f"{ypath}.scope")
        if "negation" in m:
            code.negation = self.negation(m["negation"][1], f"{ypath}.negation")
        if "meta" in m:
            mnode = m["meta"][1]
            if isinstance(mnode, yaml.MappingNode):
                code.meta = self.scalar(mnode)
            else:
                self.err(mnode, f"{ypath}.meta", f"expected a mapping, got {self.kind(mnode)}")
        if "rules" in m:
            rule_ids: dict[str, yaml.Node] = {}
            for i, rnode in enumerate(self.seq(m["rules"][1], f"{ypath}.rules") or []):
                rule = self.rule(rnode, f"{ypath}.rules[{i}]", i, path, rule_ids)
                if rule is not None:
                    code.rules.append(rule)
        out.append(code)
        n_before = len(out)
        if "children" in m:
            kids = self.seq(m["children"][1], f"{ypath}.children")
            if path is not None:
                self.code_list(kids or [], path, f"{ypath}.children", out, seen)
        if code.exclusive and len(out) == n_before:
            self.err(m["exclusive"][1], f"{ypath}.exclusive", "exclusive: true needs children (they are the mutually exclusive options)")

    def examples(self, node: yaml.Node, ypath: str) -> list[Example]:
        out = []
        for i, n in enumerate(self.seq(node, ypath, allow_scalar=True) or []):
            p = f"{ypath}[{i}]"
            if isinstance(n, yaml.MappingNode):
                m = self.mapping(n, p, _EXAMPLE_KEYS) or {}
                if "quote" not in m:
                    self.err(n, p, "missing 'quote'")
                    continue
                q = self.text(m["quote"][1], f"{p}.quote")
                g = self.text(m["gloss"][1], f"{p}.gloss") if "gloss" in m else None
                s = self.text(m["speaker"][1], f"{p}.speaker") if "speaker" in m else None
                if q is not None:
                    out.append(Example(q, g, s))
            else:
                q = self.text(n, p)
                if q is not None:
                    out.append(Example(q))
        return out

    # -- rules

    def terms(self, node: yaml.Node, ypath: str) -> tuple[Term, ...]:
        items = self.seq(node, ypath, allow_scalar=True)
        out = []
        for i, n in enumerate(items or []):
            t = self.term(n, f"{ypath}[{i}]")
            if t is not None:
                out.append(t)
        if items is not None and not items:
            self.err(node, ypath, "the list is empty")
        return tuple(out)

    def term(self, node: yaml.Node, ypath: str) -> Term | None:
        if isinstance(node, yaml.MappingNode):
            m = self.mapping(node, ypath, _TERM_KEYS)
            if m is None:
                return None
            if "term" not in m:
                self.err(node, ypath, "missing 'term'")
                return None
            text = self.text(m["term"][1], f"{ypath}.term")
            sub = self.boolean(m["substring"][1], f"{ypath}.substring") if "substring" in m else False
            weight = self.number(m["weight"][1], f"{ypath}.weight") if "weight" in m else 1.0
            neg = self.boolean(m["negation"][1], f"{ypath}.negation") if "negation" in m else True
            if text is None or sub is None or weight is None or neg is None:
                return None
            if weight <= 0:
                self.err(m["weight"][1], f"{ypath}.weight", "must be greater than 0")
                return None
            return Term(text.strip(), sub, weight, neg)
        text = self.text(node, ypath)
        return Term(text.strip()) if text is not None else None

    def rule(self, node: yaml.Node, ypath: str, index: int, code_path: str | None,
             ids: dict[str, yaml.Node]) -> Rule | None:
        m = self.mapping(node, ypath, _RULE_KEYS)
        if m is None:
            return None
        ok = True
        explicit = "id" in m
        rid = f"r{index + 1}"
        if explicit:
            t = self.text(m["id"][1], f"{ypath}.id")
            if t is not None and not ID_RE.match(t):
                self.err(m["id"][1], f"{ypath}.id", f"rule id {t!r} must be ASCII letters, digits, '_' or '-'")
                ok = False
            elif t is not None:
                rid = t
            else:
                ok = False
        if rid in ids:
            self.err(m["id"][1] if explicit else node, f"{ypath}.id",
                     f"duplicate rule id {rid!r} (also on line {ids[rid].start_mark.line + 1})")
            ok = False
        ids[rid] = m["id"][1] if explicit else node
        kw: dict[str, Any] = {}
        for key in ("any", "all", "none"):
            if key in m:
                kw[key] = self.terms(m[key][1], f"{ypath}.{key}")
        if "regex" in m:
            pats = []
            for i, pnode in enumerate(self.seq(m["regex"][1], f"{ypath}.regex", allow_scalar=True) or []):
                pat = self.text(pnode, f"{ypath}.regex[{i}]")
                if pat is None:
                    continue
                try:
                    compiled = re.compile(fold(pat))
                except re.error as e:
                    self.err(pnode, f"{ypath}.regex[{i}]", f"invalid regular expression {pat!r}: {e}")
                    ok = False
                    continue
                if compiled.match("") is not None:
                    self.err(pnode, f"{ypath}.regex[{i}]", f"regular expression {pat!r} matches empty text")
                    ok = False
                    continue
                pats.append(pat)
            kw["regex"] = tuple(pats)
        if "near" in m:
            kw["near"] = self.near(m["near"][1], f"{ypath}.near")
            ok = ok and kw["near"] is not None
        for key in ("min_hits", "min_terms"):
            if key in m:
                kw[key] = self.integer(m[key][1], f"{ypath}.{key}", 1)
                ok = ok and kw[key] is not None
        if "threshold" in m:
            kw["threshold"] = self.number(m["threshold"][1], f"{ypath}.threshold")
            ok = ok and kw["threshold"] is not None
        if "negation" in m:
            kw["negation"] = self.negation(m["negation"][1], f"{ypath}.negation")
            ok = ok and kw["negation"] is not None
        if "scope" in m:
            kw["scope"] = self.scope(m["scope"][1], f"{ypath}.scope")
            ok = ok and kw["scope"] is not None
        if "note" in m:
            kw["note"] = self.text(m["note"][1], f"{ypath}.note")
        for key in ("requires_codes", "unless_codes"):
            if key in m:
                refs = []
                for i, rnode in enumerate(self.seq(m[key][1], f"{ypath}.{key}", allow_scalar=True) or []):
                    ref = self.text(rnode, f"{ypath}.{key}[{i}]")
                    if ref is not None:
                        ref = ref.strip().strip("/")
                        refs.append(ref)
                        if code_path is not None:
                            self.refs.append((code_path, f"{ypath}.{key}[{i}]", ref, rnode))
                kw[key] = tuple(refs)
        if not any(k in m for k in ("any", "all", "regex", "near")):
            self.err(node, ypath, "a rule needs at least one of 'any', 'all', 'regex' or 'near' "
                                  "('none' and code references only restrict it)")
            ok = False
        if not ok:
            return None
        return Rule(id=rid, explicit_id=explicit, **kw)

    def near(self, node: yaml.Node, ypath: str) -> Near | None:
        m = self.mapping(node, ypath, _NEAR_KEYS)
        if m is None:
            return None
        ok = True
        for key in ("terms", "with"):
            if key not in m:
                self.err(node, ypath, f"missing '{key}'")
                ok = False
        terms = self.terms(m["terms"][1], f"{ypath}.terms") if "terms" in m else ()
        with_ = self.terms(m["with"][1], f"{ypath}.with") if "with" in m else ()
        within = measure = None
        given = [k for k in ("within_chars", "within_tokens") if k in m]
        if len(given) != 1:
            self.err(node, ypath, "give exactly one of 'within_chars' or 'within_tokens'")
            ok = False
        else:
            measure = given[0].split("_")[1]
            within = self.integer(m[given[0]][1], f"{ypath}.{given[0]}", 0)
        ordered = self.boolean(m["ordered"][1], f"{ypath}.ordered") if "ordered" in m else False
        if not ok or not terms or not with_ or within is None or measure is None or ordered is None:
            return None
        return Near(terms, with_, within, measure, ordered)

    def negation(self, node: yaml.Node, ypath: str) -> Negation | None:
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":bool"):
            return Negation(enabled=bool(self.scalar(node)))
        m = self.mapping(node, ypath, _NEG_KEYS)
        if m is None:
            return None
        window = self.integer(m["window"][1], f"{ypath}.window", 0) if "window" in m else None
        negators = self.terms(m["negators"][1], f"{ypath}.negators") if "negators" in m else None
        if ("window" in m and window is None) or ("negators" in m and not negators):
            return None
        return Negation(None, window, negators)

    def scope(self, node: yaml.Node, ypath: str) -> Scope | None:
        m = self.mapping(node, ypath, _SCOPE_KEYS)
        if m is None:
            return None
        ok = True
        unit = role = attrs = None
        if "unit" in m:
            unit = tuple(self.text_list(m["unit"][1], f"{ypath}.unit", allow_scalar=True))
            for u in unit:
                if u not in UNIT_KINDS:
                    self.err(m["unit"][1], f"{ypath}.unit", f"unknown unit {u!r}; use {' or '.join(UNIT_KINDS)}")
                    ok = False
        if "role" in m:
            role = tuple(self.text_list(m["role"][1], f"{ypath}.role", allow_scalar=True))
            for r in role:
                if r not in ROLE_VALUES:
                    self.err(m["role"][1], f"{ypath}.role", f"unknown role {r!r}; use {', '.join(ROLE_VALUES)}")
                    ok = False
        if "attributes" in m:
            anode = m["attributes"][1]
            if not isinstance(anode, yaml.MappingNode):
                self.err(anode, f"{ypath}.attributes", f"expected a mapping (attribute: value or [values]), got {self.kind(anode)}")
                ok = False
            else:
                pairs = []
                for knode, vnode in anode.value:
                    key = self.text(knode, f"{ypath}.attributes")
                    if key is None:
                        ok = False
                        continue
                    vals = []
                    for i, x in enumerate(self.seq(vnode, f"{ypath}.attributes.{key}", allow_scalar=True) or []):
                        if isinstance(x, yaml.ScalarNode) and not x.tag.endswith(":null") and not x.tag.endswith(":str"):
                            vals.append(str(self.scalar(x)))  # case: 2 means the text "2"
                        else:
                            t = self.text(x, f"{ypath}.attributes.{key}[{i}]")
                            if t is None:
                                ok = False
                            else:
                                vals.append(t)
                    pairs.append((key, tuple(vals)))
                attrs = tuple(pairs)
        return Scope(unit, role, attrs) if ok else None

    # -- cross-references

    def check_references(self, codes: list[Code]) -> None:
        paths = {c.path for c in codes if c.path}
        for _, ypath, ref, rnode in self.refs:
            if ref not in paths:
                close = difflib.get_close_matches(ref, sorted(paths), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.err(rnode, ypath, f"refers to code {ref!r}, which does not exist{hint}")
        # A reference to P is satisfied by P or any descendant, so it depends on all of them.
        by_code: dict[str, list[tuple[str, str, yaml.Node]]] = {}
        for code_path, ypath, ref, rnode in self.refs:
            if ref in paths:
                by_code.setdefault(code_path, []).append((ref, ypath, rnode))
        graph: dict[str, list[tuple[str, str, yaml.Node]]] = {}
        for src, refs in by_code.items():
            for ref, ypath, rnode in refs:
                for target in sorted(p for p in paths if p == ref or p.startswith(ref + "/")):
                    graph.setdefault(src, []).append((target, ypath, rnode))
        for cycle, ypath, rnode in find_cycles(graph):
            self.err(rnode, ypath, "code references form a cycle: " + " → ".join(cycle))


def find_cycles(graph: dict[str, list[tuple[str, str, Any]]]) -> list[tuple[list[str], str, Any]]:
    """Each elementary cycle found by DFS once, with the edge (ypath, node) that closes it."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour: dict[str, int] = {}
    stack: list[str] = []
    found: list[tuple[list[str], str, Any]] = []
    seen_cycles: set[frozenset[str]] = set()

    def visit(n: str) -> None:
        colour[n] = GREY
        stack.append(n)
        for target, ypath, node in graph.get(n, []):
            c = colour.get(target, WHITE)
            if c == GREY:
                cyc = stack[stack.index(target):] + [target]
                key = frozenset(cyc)
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    found.append((cyc, ypath, node))
            elif c == WHITE:
                visit(target)
        stack.pop()
        colour[n] = BLACK

    for n in sorted(graph):
        if colour.get(n, WHITE) == WHITE:
            visit(n)
    return found


def dependency_order(codebook: Codebook) -> list[str]:
    """Code paths ordered so that codes referenced by a rule come before the referring code."""
    paths = [c.path for c in codebook.codes]
    deps: dict[str, set[str]] = {p: set() for p in paths}
    for c in codebook.codes:
        for r in c.rules:
            for ref in (*r.requires_codes, *r.unless_codes):
                deps[c.path].update(p for p in paths if p == ref or p.startswith(ref + "/"))
    order: list[str] = []
    done: set[str] = set()

    def visit(p: str, trail: tuple[str, ...]) -> None:
        if p in done or p in trail:
            return
        for d in sorted(deps[p], key=paths.index):
            visit(d, trail + (p,))
        done.add(p)
        order.append(p)

    for p in paths:
        visit(p, ())
    return order
