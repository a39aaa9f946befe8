"""Checking a codebook: a composed YAML node tree in, a :class:`Codebook` or every problem out.

:func:`validate_tree` walks the tree (``qualcode.codebook.load`` composes it from the text),
builds the model and collects each fault with its line and YAML path, raising them at once
as :class:`CodebookError` so that a malformed codebook is never half-applied.
"""
from __future__ import annotations

import difflib
import re
from typing import Any

import yaml

from qualcode.codebook.graph import find_cycles
from qualcode.codebook.model import (
    COLOR_RE,
    FORMAT,
    ID_RE,
    NEGATION_BOUNDS,
    ROLE_VALUES,
    UNIT_KINDS,
    Code,
    Codebook,
    CodebookError,
    Example,
    Near,
    Negation,
    Rule,
    Scope,
    Term,
)
from qualcode.codebook.patterns import PatternError, backtracking_risk, compile_pattern
from qualcode.text.script import fold

_SURROGATE = re.compile("[\ud800-\udfff]")
_TOP_KEYS = ("format", "name", "title", "description", "defaults", "codes")
_DEFAULT_KEYS = ("negation", "scope", "entity_suffixes")
_CODE_KEYS = (
    "id", "label", "definition", "include", "exclude", "examples", "counter_examples", "color",
    "exclusive", "scope", "negation", "rules", "meta", "children",
)
_RULE_KEYS = (
    "id", "note", "any", "all", "none", "regex", "near", "min_hits", "min_terms", "threshold",
    "negation", "scope", "requires_codes", "unless_codes", "absent", "entity_names",
)
_TERM_KEYS = ("term", "substring", "weight", "negation")
_NEAR_KEYS = ("terms", "with", "within_chars", "within_tokens", "ordered")
_NEG_KEYS = ("window", "negators", "after", "after_negators", "bound")
_SCOPE_KEYS = ("unit", "role", "attributes")
_LABEL_KEYS = ("zh", "en")
_EXAMPLE_KEYS = ("quote", "gloss", "speaker")


def validate_tree(root: yaml.Node | None, loader: Any, source: str, default_name: str) -> Codebook:
    """The codebook the node tree ``root`` describes; raise CodebookError listing every problem.

    ``loader``: the PyYAML loader that composed ``root`` (it constructs the scalars);
    ``source`` names the file in problem messages; ``default_name`` is used when the
    codebook gives no ``name``."""
    v = Validator(source, loader)
    cb = v.run(root, default_name)
    if v.problems or cb is None:
        raise CodebookError(source, [p for _, p in sorted(v.problems, key=lambda x: x[0])])
    return cb


class Validator:
    """Walks the YAML node tree, building the model and collecting (line, message) problems."""

    def __init__(self, source: str, loader: Any):
        self.source = source
        self.loader = loader  # the loader that composed the tree: it constructs the scalars
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
        try:
            value = self.loader.construct_object(node, deep=True)
        except ValueError as e:  # an integer of thousands of digits (Python refuses to convert it)
            self.err(node, "(value)", f"cannot read this value ({' '.join(str(e).split())[:80]})")
            return None
        if isinstance(value, str) and _SURROGATE.search(value):
            self.err(node, "(value)", "contains an invalid character (an unpaired UTF-16 surrogate such as \\ud800)")
            return None
        return value

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
            if value is None:  # reported by scalar()
                return None
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
            if value is None:  # reported by scalar()
                return None
            if value < minimum:
                self.err(node, ypath, f"must be at least {minimum}, got {value}")
                return None
            return value
        self.err(node, ypath, f"expected a whole number, got {self.kind(node)}")
        return None

    def number(self, node: yaml.Node, ypath: str) -> float | None:
        if isinstance(node, yaml.ScalarNode) and (node.tag.endswith(":int") or node.tag.endswith(":float")):
            raw = self.scalar(node)
            if raw is None:  # reported by scalar()
                return None
            value = float(raw)
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

    def run(self, root: yaml.Node | None, default_name: str) -> Codebook | None:
        """The codebook ``root`` describes, or None when there are problems (see ``problems``)."""
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
        entity_suffixes: tuple[str, ...] | None = None
        if "defaults" in top:
            d = self.mapping(top["defaults"][1], "defaults", _DEFAULT_KEYS) or {}
            if "negation" in d:
                negation = self.negation(d["negation"][1], "defaults.negation") or Negation()
            if "scope" in d:
                scope = self.scope(d["scope"][1], "defaults.scope") or Scope()
            if "entity_suffixes" in d:
                suffixes = self.text_list(d["entity_suffixes"][1], "defaults.entity_suffixes", allow_scalar=True)
                entity_suffixes = tuple(dict.fromkeys(fold(s) for s in suffixes))
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
                        negation=negation, scope=scope, source=self.source, entity_suffixes=entity_suffixes)

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
                    compiled = compile_pattern(fold(pat))
                except PatternError as e:
                    self.err(pnode, f"{ypath}.regex[{i}]", f"invalid regular expression {pat!r}: {e}")
                    ok = False
                    continue
                risk = backtracking_risk(fold(pat))
                if risk is not None:
                    self.err(pnode, f"{ypath}.regex[{i}]",
                             f"regular expression {pat!r} can backtrack catastrophically: {risk}")
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
        for key, check in (("threshold", self.number), ("negation", self.negation), ("scope", self.scope),
                           ("note", self.text), ("absent", self.boolean), ("entity_names", self.boolean)):
            if key in m:
                kw[key] = check(m[key][1], f"{ypath}.{key}")
                ok = ok and (kw[key] is not None or key == "note")  # a bad note is reported, the rule kept
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
        after = self.integer(m["after"][1], f"{ypath}.after", 0) if "after" in m else None
        after_negators = None
        if "after_negators" in m:  # an empty list switches negation after the term off
            node_after = m["after_negators"][1]
            after_negators = () if isinstance(node_after, yaml.SequenceNode) and not node_after.value else \
                self.terms(node_after, f"{ypath}.after_negators")
        bound = self.text(m["bound"][1], f"{ypath}.bound") if "bound" in m else None
        if bound is not None and bound not in NEGATION_BOUNDS:
            self.err(m["bound"][1], f"{ypath}.bound",
                     f"bound must be one of {', '.join(NEGATION_BOUNDS)} (where a negator's reach ends), not {bound!r}")
            return None
        if (("window" in m and window is None) or ("negators" in m and not negators)
                or ("after" in m and after is None) or ("bound" in m and bound is None)
                or ("after_negators" in m and after_negators is None)):
            return None
        return Negation(None, window, negators, after, after_negators, bound)

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

