"""Compiled auto-coding rules: codebook -> RuleSet -> hits with evidence for one text unit.

Everything is compiled once per codebook: all literal terms of all codes go into one
Aho-Corasick automaton (over script-folded text), all regular expressions into one
combined prefilter. Matching a unit is one automaton pass; token boundaries are checked
by bisection in the unit's token ends; groups, proximity, negation and thresholds are
evaluated only for rules that have candidate occurrences.

``match_documents`` gives the same hits for every unit of several documents at once
(autocode's path, a chunk of documents per call): one automaton pass for all terms, regex
prefilter strings and negators, with boundaries, scope and units checked on numpy arrays,
and the rules evaluated on arrays too (counts, distinct terms, proximity pairs), so that
Python work is per (unit, rule) that passes them, plus the occurrences a negator or an
organisation suffix is close to and the regular-expression rules. ``match`` stays the
per-unit reference; tests compare the two on random texts.

Offsets are Python ``str`` indices into the unit text, half-open ``[start, end)``.
Folding (``qualcode.script.fold``) keeps the length, so offsets in the folded text are
offsets in the original.
"""
from __future__ import annotations

import logging
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from re import _parser as sre  # type: ignore[attr-defined]
from typing import Literal

import numpy as np

from qualcode.codebook.graph import dependency_order
from qualcode.codebook.model import ENTITY_INFIXES, Codebook, CodebookError, Negation, Term
from qualcode.codebook.patterns import PatternError, compile_pattern
from qualcode.text.script import fold

ROLE_UNKNOWN = "unknown"

# Slots: where a term occurrence counts inside its rule. 0.. are indices into `all`.
_ANY, _NONE, _NEAR_A, _NEAR_B, _REGEX = -1, -2, -3, -4, -5

_BY_POSITION = itemgetter(1, 2, 0)  # evidence (term, start, end) by start, end, term

# A negator separated from the term by clause punctuation does not negate it (negation
# ``bound: clause``); with ``bound: sentence`` only the end of a sentence stops it.
_CLAUSE_BREAK = re.compile(r"[，。！？；：、,.!?;:…—\n\r\t]")
_BREAKS = {"clause": _CLAUSE_BREAK, "sentence": re.compile(r"[。！？；!?;\n\r]")}


@dataclass
class Unit:
    """One text unit to code.

    ``token_ends`` are the end offsets of the jieba tokens of the folded text, in order,
    tokens covering the text contiguously (so token starts are 0 and the previous ends).
    When it is None the RuleSet tokenises the text itself (slow; for tests and one-offs).
    ``folded`` may carry ``fold(text)`` when the caller has it already.
    """

    text: str
    token_ends: Sequence[int] | None = None
    role: str | None = None  # "interviewer" | "interviewee" | "other" | None (unknown)
    attributes: Mapping[str, str] = field(default_factory=dict)
    kind: str = "passage"  # "passage" | "sentence"
    folded: str | None = None

    @classmethod
    def from_tokens(cls, text: str, tokens: Iterable[tuple[int, int]], **kw) -> Unit:
        """Build a unit from (start, end) token spans."""
        return cls(text, [e for _, e in tokens], **kw)


@dataclass
class Document:
    """A document's units to code at once (``RuleSet.match_document``).

    ``spans`` are the units' (start, end) offsets in ``text``, ascending and not overlapping;
    ``token_ends`` the end offsets, in ``text``, of the jieba tokens covering them
    (ascending); ``roles`` the speaker role of each unit.
    """

    text: str
    spans: Sequence[tuple[int, int]]
    token_ends: Sequence[int]
    roles: Sequence[str | None]
    attributes: Mapping[str, str] = field(default_factory=dict)
    kind: str = "passage"
    folded: str | None = None


class _Text:
    """A unit's folded text and token ends, as the rule evaluation reads them."""

    __slots__ = ("folded", "ends")

    def __init__(self, folded: str, ends: Sequence[int]):
        self.folded, self.ends = folded, ends


class _SpanText:
    """``_Text`` of one unit of a document, cut out only when the evaluation asks for it."""

    __slots__ = ("_doc", "_lo", "_hi", "_token_ends", "_folded", "_ends")

    def __init__(self, doc_folded: str, lo: int, hi: int, token_ends: np.ndarray):
        self._doc, self._lo, self._hi, self._token_ends = doc_folded, lo, hi, token_ends
        self._folded: str | None = None
        self._ends: list[int] | None = None

    @property
    def folded(self) -> str:
        if self._folded is None:
            self._folded = self._doc[self._lo:self._hi]
        return self._folded

    @property
    def ends(self) -> list[int]:
        if self._ends is None:  # the tokens ending inside the unit, and the unit's end (as Unit expects)
            te, lo, hi = self._token_ends, self._lo, self._hi
            inner = te[np.searchsorted(te, lo, side="right"):np.searchsorted(te, hi, side="left")]
            self._ends = (inner - lo).tolist() + [hi - lo]
        return self._ends


@dataclass
class Hit:
    """A code proposed for a unit. ``rule`` is the first rule that fired (codebook order)."""

    code: str
    rule: str
    score: float
    evidence: list[tuple[str, int, int]]  # (term or pattern as written, start, end)
    rules: tuple[str, ...] = ()  # every rule that fired
    absent: bool = False  # from ``absent: true`` rules: negative evidence for the code


def _alternation(texts: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(t) for t in sorted(set(texts), key=lambda s: (-len(s), s))))


class _Neg:
    """A rule's negation settings, compiled: negators before the term (within ``window``),
    after-negators after it (starting within ``after``), both inside one clause (``breaks``)."""

    __slots__ = ("regex", "window", "maxlen", "substring", "texts", "after", "after_regex", "after_maxlen",
                 "breaks")

    def __init__(self, neg: Negation):
        negators, after_negators = neg.negators or (), neg.after_negators or ()
        before = {fold(t.text) for t in negators}
        after = {fold(t.text) for t in after_negators}
        # every string the negation reads (the document path scans for all of them at once)
        self.texts = sorted(before | after, key=lambda s: (-len(s), s))
        self.regex = _alternation(before) if before else None
        self.window = neg.window or 0
        self.maxlen = max(map(len, before), default=0)
        self.after = neg.after or 0
        self.after_regex = _alternation(after) if after else None
        self.after_maxlen = max(map(len, after), default=0)
        self.substring = frozenset(fold(t.text) for t in (*negators, *after_negators) if t.substring)
        self.breaks = _BREAKS[neg.bound or "clause"]


class _Entity:
    """The entity-name guard: organisation suffixes (optionally after 管理, 工作 …) that make
    a term right before them part of a name."""

    __slots__ = ("regex", "suffixes", "first")

    def __init__(self, suffixes: Sequence[str]):
        self.suffixes = tuple(suffixes)
        self.regex = re.compile(f"(?:{_alternation(ENTITY_INFIXES).pattern})?(?:{_alternation(suffixes).pattern})")
        self.first = frozenset(s[0] for s in (*ENTITY_INFIXES, *suffixes))


class _Rule:
    __slots__ = (
        "index", "position", "code_index", "rule_id", "needs_any", "n_all", "near", "min_hits", "min_terms",
        "threshold", "neg", "needs_context", "unit", "roles", "attrs", "requires", "unless", "regex", "entity",
    )
    index: int  # in RuleSet._rules (dependency order)
    position: int  # in codebook order
    code_index: int
    rule_id: str
    needs_any: bool
    n_all: int
    near: tuple[int, bool, bool] | None  # (within, measured in tokens, ordered)
    min_hits: int
    min_terms: int
    threshold: float | None
    neg: _Neg | None
    entity: _Entity | None  # the entity-name guard, unless the rule counts names (entity_names: true)
    needs_context: bool
    unit: frozenset[str] | None
    roles: frozenset[str] | None
    attrs: tuple[tuple[str, frozenset[str]], ...]
    requires: tuple[frozenset[int], ...]
    unless: tuple[frozenset[int], ...]
    regex: list[tuple[str, re.Pattern[str]]]


def compile_rules(codebook: Codebook) -> RuleSet:
    """Compile every rule of ``codebook`` once; the RuleSet then matches units."""
    return RuleSet(codebook)


class RuleSet:
    def __init__(self, codebook: Codebook):
        import ahocorasick

        self.codebook = codebook
        self.version = codebook.version
        codes = codebook.codes
        code_index = {c.path: i for i, c in enumerate(codes)}
        self._code_paths = [c.path for c in codes]
        # ``absent: true`` rules fire for code index + n (negative evidence for the code)
        self._n_codes = n_codes = len(codes)
        subtree = {
            c.path: frozenset(j for j, d in enumerate(codes) if d.path == c.path or d.path.startswith(c.path + "/"))
            for c in codes
        }
        order = {p: k for k, p in enumerate(dependency_order(codebook))}
        self._rules: list[_Rule] = []
        # Two automata: "trigger" terms that can make a rule fire on their own (any, the
        # anchor side of near, all when there is nothing else), and "context" terms that only
        # qualify a rule (near partners, none, the rest of all). The second pass runs only
        # for rules the first one triggered, so frequent context words (居民, 小区) cost little.
        table: dict[str, list[tuple]] = {}
        context_table: dict[str, list[tuple]] = {}
        neg_cache: dict[Negation, _Neg] = {}
        suffixes = [fold(s) for s in codebook.effective_entity_suffixes() if s]
        entity = _Entity(suffixes) if suffixes else None
        self._entity_first = np.array(sorted(ord(c) for c in entity.first) if entity else [], dtype=np.uint32)
        attr_names: set[str] = set()
        rx_parts: list[str] = []
        rx_all_combinable = True
        # regex prefilter of the document path: for each pattern, sets of strings ("runs") of
        # which a match must contain one member each; string -> (rule, pattern, run) uses
        rx_factors: dict[str, list[tuple]] = {}
        pattern_rule: list[int] = []
        pattern_runs: list[int] = []
        # rules with patterns that have no such runs -> those patterns (their index in cr.regex)
        self._rx_unconditional_slots: dict[int, list[int]] = {}
        pattern_slot: list[int] = []  # the index in cr.regex of each pattern with runs

        def add(term: Term, r: int, slot: int, trigger: bool) -> None:
            key = fold(term.text)
            (table if trigger else context_table).setdefault(key, []).append(
                (r, slot, term.substring, term.weight, term.text, term.negation))

        position: dict[str, int] = {}
        for code in codes:
            for rule in code.rules:
                position[code.rule_id(rule)] = len(position)
        for code in sorted(codes, key=lambda c: order[c.path]):
            for rule in code.rules:
                cr = _Rule()
                cr.position = position[code.rule_id(rule)]
                cr.index = r = len(self._rules)
                cr.code_index = code_index[code.path] + (n_codes if rule.absent else 0)
                cr.rule_id = code.rule_id(rule)
                cr.needs_any = bool(rule.any or rule.regex)
                cr.n_all = len(rule.all)
                cr.min_hits, cr.min_terms, cr.threshold = rule.min_hits, rule.min_terms, rule.threshold
                near = rule.near
                cr.near = (near.within, near.measure == "tokens", near.ordered) if near else None
                neg = codebook.effective_negation(code, rule)
                if neg.enabled and (neg.negators or neg.after_negators):
                    if neg not in neg_cache:
                        neg_cache[neg] = _Neg(neg)
                    cr.neg = neg_cache[neg]
                else:
                    cr.neg = None
                cr.entity = None if rule.entity_names else entity
                scope = codebook.effective_scope(code, rule)
                cr.unit = frozenset(scope.unit) if scope.unit is not None else None
                cr.roles = frozenset(scope.role) if scope.role is not None else None
                cr.attrs = tuple((k, frozenset(fold(v) for v in vals)) for k, vals in (scope.attributes or ()))
                attr_names.update(k for k, _ in cr.attrs)
                cr.requires = tuple(subtree[p] for p in rule.requires_codes)
                cr.unless = tuple(subtree[p] for p in rule.unless_codes)
                cr.regex = []
                for k_pat, pat in enumerate(rule.regex):
                    compiled = _compiled_rule_pattern(fold(pat), code.path)
                    cr.regex.append((pat, compiled))
                    runs = _regex_factors(fold(pat))
                    if runs is None:
                        self._rx_unconditional_slots.setdefault(r, []).append(k_pat)
                        continue
                    pattern_slot.append(k_pat)
                    for k, run in enumerate(runs):
                        for f in run:
                            rx_factors.setdefault(f, []).append((r, len(pattern_rule), k))
                    pattern_rule.append(r)
                    pattern_runs.append(len(runs))
                    if re.compile(fold(pat)).groups or pat.lstrip().startswith("(?") and not pat.lstrip().startswith("(?:"):
                        rx_all_combinable = False  # groups/flags do not survive concatenation
                    else:
                        rx_parts.append(f"(?:{fold(pat)})")
                has_any = bool(rule.any or rule.regex)
                for t in rule.any:
                    add(t, r, _ANY, True)
                for k, t in enumerate(rule.all):
                    add(t, r, k, not has_any and not near)
                for t in rule.none:
                    add(t, r, _NONE, False)
                if near:
                    for t in near.terms:
                        add(t, r, _NEAR_A, not has_any)
                    for t in near.with_:
                        add(t, r, _NEAR_B, False)
                cr.needs_context = any(u[0] == r for uses in context_table.values() for u in uses)
                self._rules.append(cr)

        self._automaton = _automaton(ahocorasick, table)
        self._context_automaton = _automaton(ahocorasick, context_table)
        self._tables = {"trigger": table, "context": context_table, "factor": rx_factors}
        self._needs_context = np.array([cr.needs_context for cr in self._rules], dtype=np.bool_)
        self._near_rule = np.array([cr.near is not None for cr in self._rules], dtype=np.bool_)
        self._scanner_built: _Scanner | Literal[False] | None = None
        self._pattern_rule = np.array(pattern_rule, dtype=np.int64)
        self._pattern_slot = np.array(pattern_slot, dtype=np.int64)
        self._pattern_runs = np.array(pattern_runs, dtype=np.int64)
        self._max_runs = max(pattern_runs, default=0)
        self._no_such_run = np.arange(self._max_runs) >= self._pattern_runs[:, None]  # pattern x run: padding
        self._negs = list(dict.fromkeys(cr.neg for cr in self._rules if cr.neg is not None))
        self._neg_index = np.array([self._negs.index(cr.neg) if cr.neg is not None else -1 for cr in self._rules],
                                   dtype=np.int64)
        self._rx_rules = [cr for cr in self._rules if cr.regex]
        # rules the document path evaluates on arrays: all but those with regular expressions (they go
        # through ``_evaluate`` occurrence by occurrence, as ``match`` does)
        rules = self._rules
        self._on_arrays = np.array([not cr.regex for cr in rules], dtype=np.bool_)
        self._near_within = np.array([cr.near[0] if cr.near else 0 for cr in rules], dtype=np.int64)
        self._near_tokens = np.array([bool(cr.near and cr.near[1]) for cr in rules], dtype=np.bool_)
        self._near_ordered = np.array([bool(cr.near and cr.near[2]) for cr in rules], dtype=np.bool_)
        self._needs_any = np.array([cr.needs_any for cr in rules], dtype=np.bool_)
        self._n_all = np.array([cr.n_all for cr in rules], dtype=np.int64)
        self._min_hits = np.array([cr.min_hits for cr in rules], dtype=np.int64)
        self._min_terms = np.array([cr.min_terms if cr.min_terms > 1 else 0 for cr in rules], dtype=np.int64)
        self._guarded = np.array([cr.entity is not None for cr in rules], dtype=np.bool_)
        self._rx_prefilter = None
        self._rx_always = bool(self._rx_rules) and not rx_all_combinable
        if rx_parts:
            try:  # linear time like the patterns themselves (see codebook.patterns)
                self._rx_prefilter = compile_pattern("|".join(rx_parts))
            except PatternError:
                self._rx_always = True
        self._attr_names = tuple(sorted(attr_names))
        self._scoped = any(cr.unit is not None or cr.roles is not None or cr.attrs for cr in self._rules)
        self._all_in_scope = bytes([1]) * len(self._rules)
        self._mask_cache: dict[tuple, bytes] = {}
        self._exclusive = [
            (i, frozenset(j for j, d in enumerate(codes) if d.parent == c.path))
            for i, c in enumerate(codes) if c.exclusive
        ]
        self._subtree = [subtree[c.path] for c in codes]
        self._terms = codebook.terms()

    # -- tokens (fallback when the caller has none)

    def tokenize(self, text: str) -> list[int]:
        """Token end offsets of ``fold(text)`` by jieba with the codebook terms added."""
        return [e for _, _, e in _tokenizer(tuple(self._terms)).tokenize(fold(text))]

    # -- scope

    def _mask(self, unit: Unit) -> bytes:
        return self._mask_for(unit.kind, unit.role, unit.attributes)

    def _mask_for(self, kind: str, role: str | None, attributes: Mapping[str, str] | None) -> bytes:
        """One byte per rule, 1 where a unit of this kind, role and attributes is in its scope
        (empty when no rule is)."""
        if not self._scoped:
            return self._all_in_scope
        attrs = attributes or {}
        key = (kind, role, tuple(attrs.get(k) for k in self._attr_names))
        mask = self._mask_cache.get(key)
        if mask is None:
            role = role if role is not None else ROLE_UNKNOWN
            values = {k: fold(str(v)) for k, v in zip(self._attr_names, key[2]) if v is not None}
            mask = bytes(
                1 if (cr.unit is None or kind in cr.unit)
                and (cr.roles is None or role in cr.roles)
                and all(values.get(k) in vals for k, vals in cr.attrs)
                else 0
                for cr in self._rules
            )
            if 1 not in mask:
                mask = b""  # nothing in scope: match() stops at once
            if len(self._mask_cache) > 4096:
                self._mask_cache.clear()
            self._mask_cache[key] = mask
        return mask

    # -- matching

    def match(self, unit: Unit) -> list[Hit]:
        """Codes proposed for ``unit``, in codebook order, each with its evidence."""
        mask = self._mask(unit)
        if not mask:
            return []
        folded = unit.folded if unit.folded is not None else fold(unit.text)
        n = len(folded)
        ends = unit.token_ends
        if ends is None:
            ends = self.tokenize(folded)
        occ: dict[int, list[tuple]] = {}

        wide = None
        if self._automaton is not None:
            wide = _wide(folded)
            self._collect(self._automaton, wide, n, ends, mask, occ)
        if self._rx_rules and (self._rx_always or (self._rx_prefilter is not None and self._rx_prefilter.search(folded))):
            for cr in self._rx_rules:
                if mask[cr.index]:
                    self._regex_occurrences(cr, folded, 0, occ)
        if not occ:
            return []
        if self._context_automaton is not None:
            rules = self._rules
            wanted = None
            for r in occ:
                if rules[r].needs_context:
                    if wanted is None:
                        wanted = bytearray(len(rules))
                    wanted[r] = 1
            if wanted is not None:
                self._collect(self._context_automaton, wide if wide is not None else _wide(folded),
                              n, ends, wanted, occ)
        return self._decide(occ, _Text(folded, ends))

    @staticmethod
    def _collect(terms: _Terms, wide: str, n: int, ends: Sequence[int], wanted: bytes | bytearray,
                 occ: dict[int, list]) -> None:
        """Append occurrences of ``terms`` to ``occ`` for the rules ``wanted`` flags."""
        entries = terms.entries
        for last, key in terms.automaton.iter(wide):
            last += 1
            if last & 3:
                continue  # straddles characters: not a real occurrence
            length, uses = entries[key]
            e = last >> 2
            s = e - length
            whole = -1
            for use in uses:
                r = use[0]
                if not wanted[r]:
                    continue
                if not use[2]:  # whole-token term: both edges on token boundaries
                    if whole < 0:
                        whole = 1
                        if s > 0:
                            i = bisect_left(ends, s)
                            if i == len(ends) or ends[i] != s:
                                whole = 0
                        if whole and e < n:
                            i = bisect_left(ends, e)
                            if i == len(ends) or ends[i] != e:
                                whole = 0
                    if not whole:
                        continue
                lst = occ.get(r)
                if lst is None:
                    occ[r] = lst = []
                lst.append((use[1], s, e, use[3], use[4], use[5]))

    @staticmethod
    def _regex_occurrences(cr: _Rule, folded: str, lo: int, occ: dict[int, list], hi: int | None = None,
                           slots: Sequence[int] | None = None) -> None:
        """Append the matches of ``cr``'s patterns (those at ``slots`` when given, in order) in
        ``folded[lo:hi]`` (offsets from ``lo``)."""
        text = folded if lo == 0 and hi is None else folded[lo:hi]
        for pat, compiled in (cr.regex if slots is None else [cr.regex[k] for k in slots]):
            for m in compiled.finditer(text):
                if m.end() > m.start():
                    occ.setdefault(cr.index, []).append((_REGEX, m.start(), m.end(), 1.0, pat, True))

    def match_many(self, units: Iterable[Unit]) -> list[list[Hit]]:
        """``match`` for each unit, in order."""
        match = self.match
        return [match(u) for u in units]

    def match_document(self, doc: Document) -> list[list[Hit]]:
        """``match`` for each unit of ``doc`` at once: the same hits, offsets relative to the unit.

        The terms are found by one automaton pass over the whole document; token boundaries,
        scope and unit membership are checked on arrays, and a term is tested for negation
        only when a negator is close enough before or after it. The rules are evaluated on
        arrays (counts, distinct terms, proximity); only the (unit, rule) groups that pass them,
        and the rules with regular expressions, reach Python, where the result is the same as
        ``match``'s.
        """
        return self.match_documents([doc])[0]

    def match_documents(self, docs: Sequence[Document]) -> list[list[list[Hit]]]:
        """``match_document`` for each of ``docs``, in one pass (the array work is shared)."""
        folded_parts, spans_parts, ends_parts, masks = [], [], [], []
        offset = 0
        for doc in docs:
            by_role = {role: self._mask_for(doc.kind, role, doc.attributes) for role in set(doc.roles)}
            masks += [by_role[role] for role in doc.roles]
            folded_doc = doc.folded if doc.folded is not None else fold(doc.text)
            folded_parts.append(folded_doc)
            spans_parts.append(np.asarray(doc.spans, dtype=np.int64).reshape(-1, 2) + offset)
            ends_parts.append(np.asarray(doc.token_ends, dtype=np.int64) + offset)
            offset += len(folded_doc) + 1  # a line break between documents: no term spans it
            folded_parts.append("\n")
        flat = self._match_spans("".join(folded_parts), np.concatenate(spans_parts) if docs else np.zeros((0, 2), np.int64),
                                 np.concatenate(ends_parts) if docs else np.zeros(0, np.int64), masks)
        out, at = [], 0
        for doc in docs:
            out.append(flat[at:at + len(doc.spans)])
            at += len(doc.spans)
        return out

    def _match_spans(self, folded: str, spans: np.ndarray, token_ends: np.ndarray, masks: list[bytes]) -> list[list[Hit]]:
        """The hits of each unit ``spans[i]`` of ``folded`` in scope ``masks[i]``."""
        n_units = len(spans)
        result: list[list[Hit]] = [[] for _ in range(n_units)]
        scanner = self._scanner()
        if not any(masks) or scanner is None:
            return result
        starts, stops = spans[:, 0], spans[:, 1]
        n_rules = len(self._rules)
        scope = np.frombuffer(b"".join(m or bytes(n_rules) for m in masks), dtype=np.uint8)
        scope = scope.reshape(n_units, n_rules).astype(bool)
        edge = np.zeros(len(folded) + 1, dtype=bool)  # token boundaries and unit edges
        edge[token_ends] = edge[starts] = edge[stops] = True
        found = scanner.scan(_wide(folded), starts, stops)
        span, key, start, end = found
        negator_ends = [end[is_negator[key]] for is_negator in scanner.negators]  # ascending
        negator_starts = [np.sort(start[is_negator[key]]) for is_negator in scanner.negators]

        trigger = self._occurrences(scanner.trigger, found, edge, scope)
        regex: dict[tuple[int, int], list] = {}
        for i, rule, slots in self._regex_candidates(scanner.factor, span, key, scope):
            rule_occ: dict[int, list] = {}
            self._regex_occurrences(self._rules[rule], folded, int(starts[i]), rule_occ, int(stops[i]), slots)
            if rule_occ:
                regex[i, rule] = rule_occ[rule]
        triggered = np.zeros((n_units, n_rules), dtype=bool)
        triggered[trigger.span, trigger.rule] = True
        for i, rule in regex:
            triggered[i, rule] = True
        if not triggered.any():
            return result
        context = self._occurrences(scanner.context, found, edge, triggered & self._needs_context)
        # groups that cannot fire need no evaluation: a 'none' term is there, or a proximity rule has no partner term
        slot = context.slot
        dead = np.zeros_like(triggered)
        dead[context.span[slot == _NONE], context.rule[slot == _NONE]] = True
        partnered = np.zeros_like(triggered)
        partnered[context.span[slot == _NEAR_B], context.rule[slot == _NEAR_B]] = True
        dead |= triggered & self._near_rule & ~partnered
        live_trigger = ~dead[trigger.span, trigger.rule]
        live_context = ~dead[context.span, context.rule]
        on_arrays = self._on_arrays
        texts: dict[int, _SpanText] = {}

        def text(i: int) -> _SpanText:
            t = texts.get(i)
            if t is None:
                t = texts[i] = _SpanText(folded, int(starts[i]), int(stops[i]), token_ends)
            return t

        # proximity and regex rules: occurrence tuples for ``_evaluate``, as ``match`` builds them
        occ: list[dict[int, list]] = [{} for _ in range(n_units)]
        self._append(trigger.where(live_trigger & ~on_arrays[trigger.rule]), starts, negator_ends, negator_starts,
                     occ)
        for (i, rule), found_rx in regex.items():
            if not dead[i, rule]:
                occ[i].setdefault(rule, []).extend(found_rx)
        self._append(context.where(live_context & ~on_arrays[context.rule]), starts, negator_ends, negator_starts,
                     occ)
        # the other rules on arrays: only the (unit, rule) groups that pass their counts reach Python
        groups, columns = self._array_groups(
            [trigger.where(live_trigger & on_arrays[trigger.rule]), context.where(live_context & on_arrays[context.rule])],
            scanner.labels, folded, starts, stops, token_ends, negator_ends, negator_starts, text)
        candidates: dict[int, list[tuple]] = {}
        for group in groups:
            candidates.setdefault(group[0], []).append(group[1:])
        for i in range(n_units):
            if occ[i]:
                candidates.setdefault(i, []).extend((rule, -1, -1, -1, -1) for rule in occ[i])
        for i, items in candidates.items():
            result[i] = self._decide_unit(sorted(items), occ[i], columns, text(i))
        return result

    def _array_groups(self, parts: list[_Found], label_text: np.ndarray, folded: str, starts: np.ndarray,
                      stops: np.ndarray, token_ends: np.ndarray, negator_ends: list, negator_starts: list, text):
        """Evaluate the rules without regular expressions on the occurrences in ``parts``.

        Returns the (unit, rule, lo, hi, near_lo, near_hi) groups that pass the rule's counts
        (any, all, proximity, min_hits, min_terms), in order, and the columns they slice:
        ``lo:hi`` the counted any/all occurrences of the group, ``near_lo:near_hi`` its
        proximity anchors that have a partner, with that partner (the nearest, the first of
        equals), as ``_evaluate`` finds them; offsets in the unit.

        An occurrence counts unless it is negated or inside an organisation's name; both are
        asked of ``_negated`` and ``_entity_name`` only for the occurrences an array test finds
        a negator close to, or an organisation suffix's first character right after."""
        nothing: tuple[list, tuple] = ([], ([],) * 11)
        span = np.concatenate([f.span for f in parts])
        if not len(span):
            return nothing
        rule = np.concatenate([f.rule for f in parts])
        start = np.concatenate([f.start for f in parts])
        end = np.concatenate([f.end for f in parts])
        slot, label, weight, negation = (np.concatenate([getattr(f.uses, name)[f.use] for f in parts])
                                         for name in ("slot", "label", "weight", "negation"))
        ask_negation = negation & (self._neg_index[rule] >= 0)
        if ask_negation.any():
            ask_negation[ask_negation] = self._near_negator(start[ask_negation], end[ask_negation],
                                                            rule[ask_negation], negator_ends, negator_starts)
        ask_entity = self._guarded[rule] & (end < stops[span])
        if ask_entity.any():
            codes = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32)
            ask_entity[ask_entity] = np.isin(codes[end[ask_entity]], self._entity_first)
        valid = np.ones(len(span), dtype=bool)
        asked = np.flatnonzero(ask_negation | ask_entity)
        if len(asked):
            rules = self._rules
            for j, i, r, s, e, neg in zip(asked.tolist(), span[asked].tolist(), rule[asked].tolist(),
                                          start[asked].tolist(), end[asked].tolist(), ask_negation[asked].tolist()):
                t, cr = text(i), rules[r]
                base = t._lo
                if neg and _negated(t.folded, s - base, e - base, cr.neg, t.ends):
                    valid[j] = False
                elif cr.entity is not None and _entity_name(t.folded, s - base, e - base, cr.entity, t.ends):
                    valid[j] = False
        n_rules = len(self._rules)
        key = span * n_rules + rule
        kept = np.flatnonzero(valid)
        kept = kept[np.argsort(key[kept], kind="stable")]  # by unit and rule, in match's order within
        key, span, rule, slot, label, weight, start, end = (
            a[kept] for a in (key, span, rule, slot, label, weight, start, end))
        counted = (slot == _ANY) | (slot >= 0)
        anchor, partner = slot == _NEAR_A, slot == _NEAR_B
        # proximity: every (anchor, partner) pair of a group, its gap, and the best partner of each anchor
        a_idx, b_idx = np.flatnonzero(anchor), np.flatnonzero(partner)
        b_key = key[b_idx]
        first = np.searchsorted(b_key, key[a_idx], side="left")
        n_b = np.searchsorted(b_key, key[a_idx], side="right") - first
        pair_a = np.repeat(np.arange(len(a_idx)), n_b)
        pair_b = np.arange(len(pair_a)) - np.repeat(np.cumsum(n_b) - n_b, n_b) + np.repeat(first, n_b)
        ai, bi = a_idx[pair_a], b_idx[pair_b]
        a_s, a_e, b_s, b_e = start[ai], end[ai], start[bi], end[bi]
        near_rule = rule[ai]
        within, by_tokens, ordered = self._near_within[near_rule], self._near_tokens[near_rule], self._near_ordered[near_rule]
        after, before = b_s >= a_e, (a_s >= b_e) & ~(b_s >= a_e)
        left = np.where(after, a_e, b_e)  # the end of the earlier occurrence and the start of the later one
        right = np.where(after, b_s, a_s)
        gap = right - left
        if by_tokens.any():
            lo = starts[span[ai]]
            below = np.searchsorted(token_ends, lo, side="right")
            last_left = np.searchsorted(token_ends, left, side="left") - below
            first_right = np.searchsorted(token_ends, right, side="right") - below
            gap = np.where(by_tokens, np.maximum(0, first_right - last_left - 1), gap)
        gap = np.where(after | before, gap, 0)  # overlapping: no gap
        ok = ~((a_s == b_s) & (a_e == b_e)) & ~(before & ordered) & (gap <= within)
        pair_a, pair_b, gap = pair_a[ok], pair_b[ok], gap[ok]
        best = np.lexsort((pair_b, gap, pair_a))
        best = best[np.concatenate([[True], pair_a[best][1:] != pair_a[best][:-1]])] if len(best) else best
        anchors = a_idx[pair_a[best]]  # the anchors with a partner, in order, and their partners
        partners = b_idx[pair_b[best]]
        # the groups: keys of counted occurrences and of anchors with a partner
        c_idx = np.flatnonzero(counted)
        c_key, n_key = key[c_idx], key[anchors]
        group_key = np.unique(np.concatenate([c_key, n_key]))
        n_groups = len(group_key)
        if not n_groups:
            return nothing
        c_lo = np.searchsorted(c_key, group_key, side="left")
        c_hi = np.searchsorted(c_key, group_key, side="right")
        n_lo = np.searchsorted(n_key, group_key, side="left")
        n_hi = np.searchsorted(n_key, group_key, side="right")
        grule = group_key % n_rules
        c_group = np.repeat(np.arange(n_groups), c_hi - c_lo)
        n_group = np.repeat(np.arange(n_groups), n_hi - n_lo)
        ok = (c_hi - c_lo) + (n_hi - n_lo) >= self._min_hits[grule]
        ok &= ~self._near_rule[grule] | (n_hi > n_lo)
        ok &= ~self._needs_any[grule] | (np.bincount(c_group[slot[c_idx] == _ANY], minlength=n_groups) > 0)
        if self._n_all[grule].any():
            c_slot = slot[c_idx]
            width = int(c_slot.max()) + 2
            pairs = np.unique(c_group[c_slot >= 0] * width + c_slot[c_slot >= 0])
            ok &= np.bincount(pairs // width, minlength=n_groups) >= self._n_all[grule]
        if self._min_terms[grule].any():
            width = len(label_text)
            pairs = np.unique(np.concatenate([c_group * width + label[c_idx], n_group * width + label[anchors]]))
            ok &= np.bincount(pairs // width, minlength=n_groups) >= self._min_terms[grule]
        base = starts[span]
        columns = tuple(x.tolist() for x in (
            label_text[label[c_idx]], start[c_idx] - base[c_idx], end[c_idx] - base[c_idx], weight[c_idx],
            label_text[label[anchors]], start[anchors] - base[anchors], end[anchors] - base[anchors],
            weight[anchors], label_text[label[partners]], start[partners] - base[partners],
            end[partners] - base[partners]))
        out = (group_key[ok] // n_rules, grule[ok], c_lo[ok], c_hi[ok], n_lo[ok], n_hi[ok])
        return zip(*(x.tolist() for x in out)), columns

    def _decide_unit(self, items: list[tuple], occ: dict[int, list[tuple]], columns, text: _SpanText) -> list[Hit]:
        """``_decide`` for one unit of a document: ``items`` are (rule, lo, hi, near_lo, near_hi)
        in rule order, a group of ``_array_groups`` that passed its counts, or (rule, -1, …)
        for a rule whose occurrences ``occ`` holds (evaluated by ``_evaluate``)."""
        labels, s_col, e_col, w_col, a_label, a_s, a_e, a_w, b_label, b_s, b_e = columns
        rules = self._rules
        fired: dict[int, list[tuple]] = {}
        fired_codes: set[int] = set()
        for r, lo, hi, near_lo, near_hi in items:
            cr = rules[r]
            if lo < 0:
                result = self._evaluate(cr, occ[r], text, fired_codes)
                if result is None:
                    continue
            else:
                if cr.requires and any(not (sub & fired_codes) for sub in cr.requires):
                    continue
                if cr.unless and any(sub & fired_codes for sub in cr.unless):
                    continue
                evidence = list(zip(labels[lo:hi], s_col[lo:hi], e_col[lo:hi]))
                if near_hi > near_lo:
                    score = float(sum(w_col[lo:hi] + a_w[near_lo:near_hi]))
                    evidence += zip(a_label[near_lo:near_hi], a_s[near_lo:near_hi], a_e[near_lo:near_hi])
                    evidence += zip(b_label[near_lo:near_hi], b_s[near_lo:near_hi], b_e[near_lo:near_hi])
                else:
                    score = float(sum(w_col[lo:hi]))
                if cr.threshold is not None and score < cr.threshold:
                    continue
                result = (score, evidence)
            fired.setdefault(cr.code_index, []).append((cr.position, cr.rule_id, *result))
            fired_codes.add(cr.code_index)
        return self._hits(fired)

    def _scanner(self) -> _Scanner | None:
        """The document path's automaton over every key, built on first use."""
        if self._scanner_built is None:
            import ahocorasick

            self._scanner_built = (_Scanner(ahocorasick, self._tables, self._negs) if any(self._tables.values())
                                   else False)
        return self._scanner_built or None

    @staticmethod
    def _occurrences(uses: _Uses, found, edge: np.ndarray, scope: np.ndarray | None) -> _Found:
        """The uses of ``found`` occurrences in ``uses``'s table that count: in scope (when
        given) and, for whole-token terms, on token boundaries at both ends."""
        span, key, start, end = found
        which, use = uses.expand(key)
        span, start, end = span[which], start[which], end[which]
        keep = uses.substring[use] | (edge[start] & edge[end])
        if scope is not None:
            keep &= scope[span, uses.rule[use]]
        return _Found(uses, span[keep], use[keep], start[keep], end[keep])

    def _append(self, found: _Found, starts: np.ndarray, negator_ends: list, negator_starts: list,
                occ: list[dict[int, list]]) -> None:
        """Append ``found`` to ``occ[unit][rule]`` as ``_collect``'s tuples (offsets in the unit)."""
        negatable = found.uses.negation[found.use] & (self._neg_index[found.rule] >= 0)
        if negatable.any():
            negatable[negatable] = self._near_negator(found.start[negatable], found.end[negatable],
                                                      found.rule[negatable], negator_ends, negator_starts)
        base = starts[found.span]
        table = found.uses.uses
        for i, r, u, s, e, neg in zip(found.span.tolist(), found.rule.tolist(), found.use.tolist(),
                                      (found.start - base).tolist(), (found.end - base).tolist(), negatable.tolist()):
            t = table[u]
            lst = occ[i].get(r)
            if lst is None:
                occ[i][r] = lst = []
            lst.append((t[1], s, e, t[3], t[4], neg))

    def _near_negator(self, start: np.ndarray, end: np.ndarray, rule: np.ndarray, negator_ends: list,
                      negator_starts: list) -> np.ndarray:
        """Whether a negator of the rule's negation settings ends within its window before
        ``start``, or one starts within its ``after`` window after ``end``: only then can
        ``_negated`` find one, so only then is it asked."""
        out = np.zeros(len(start), dtype=bool)
        which = self._neg_index[rule]
        for k in np.unique(which).tolist():
            neg, ends, firsts, sel = self._negs[k], negator_ends[k], negator_starts[k], which == k
            s, e = start[sel], end[sel]
            j = np.searchsorted(ends, s, side="right") - 1  # the last negator ending at or before s
            near = j >= 0
            near[near] = ends[j[near]] >= s[near] - neg.window
            if neg.after_regex is not None:
                j = np.searchsorted(firsts, e, side="left")  # the first negator starting at or after e
                after = j < len(firsts)
                after[after] = firsts[j[after]] <= e[after] + neg.after
                near |= after
            out[sel] = near
        return out

    def _regex_candidates(self, factor: _Uses, span: np.ndarray, key: np.ndarray,
                          scope: np.ndarray) -> list[tuple[int, int, tuple[int, ...]]]:
        """(unit, rule, patterns) in order, for the rules in scope whose patterns may match in
        the unit: the patterns (indices in the rule's list, in order) of which every required
        string set has a member there, and those that have none (always run)."""
        if not self._rx_rules:
            return []
        wanted: dict[tuple[int, int], set[int]] = {}
        which, use = factor.expand(key)
        if len(use):
            # seen[unit, pattern, run]: a string of that run of that pattern occurs in the unit
            seen = np.zeros((len(scope), len(self._pattern_rule), self._max_runs), dtype=bool)
            seen[span[which], factor.pattern[use], factor.run[use]] = True
            complete = (seen | self._no_such_run).all(axis=2)  # unit x pattern
            units, patterns = np.nonzero(complete)
            rules = self._pattern_rule[patterns]
            keep = scope[units, rules]
            for u, r, k in zip(units[keep].tolist(), rules[keep].tolist(), self._pattern_slot[patterns[keep]].tolist()):
                wanted.setdefault((u, r), set()).add(k)
        for r, slots in self._rx_unconditional_slots.items():
            for u in np.flatnonzero(scope[:, r]).tolist():
                wanted.setdefault((u, r), set()).update(slots)
        return sorted((u, r, tuple(sorted(ks))) for (u, r), ks in wanted.items())

    def _decide(self, occ: dict[int, list[tuple]], text: _Text | _SpanText) -> list[Hit]:
        """Evaluate the rules with occurrences (dependency order) and build the hits."""
        fired: dict[int, list[tuple]] = {}
        fired_codes: set[int] = set()
        for r in sorted(occ):  # rule indices follow dependency order
            cr = self._rules[r]
            result = self._evaluate(cr, occ[r], text, fired_codes)
            if result is not None:
                fired.setdefault(cr.code_index, []).append((cr.position, cr.rule_id, *result))
                fired_codes.add(cr.code_index)
        return self._hits(fired)

    def _hits(self, fired: dict[int, list[tuple]]) -> list[Hit]:
        """The hits of a unit from its fired rules: code index -> (position, rule id, score, evidence)."""
        if not fired:
            return []
        n = self._n_codes
        for ci in [c for c in fired if c >= n]:
            # negative evidence wins in its unit: no presence proposal for the code or a sub-code
            for sub in self._subtree[ci - n]:
                fired.pop(sub, None)
        if self._exclusive:
            self._apply_exclusive(fired)
        hits = []
        for ci in sorted(fired):
            parts = fired[ci]
            if len(parts) == 1:
                evidence = sorted(set(parts[0][3]), key=_BY_POSITION)
            else:
                parts.sort()
                evidence = sorted(set(chain.from_iterable(p[3] for p in parts)), key=_BY_POSITION)
            hits.append(Hit(self._code_paths[ci % n], parts[0][1], sum([p[2] for p in parts]), evidence,
                            tuple([p[1] for p in parts]), absent=ci >= n))
        return hits

    def _evaluate(self, cr: _Rule, occurrences: list[tuple], text: _Text | _SpanText, fired_codes: set[int]):
        for sub in cr.requires:
            if not (sub & fired_codes):
                return None
        for sub in cr.unless:
            if sub & fired_codes:
                return None
        neg, entity = cr.neg, cr.entity
        counted: list[tuple] = []  # any / all / regex occurrences
        all_seen: set[int] = set()
        near_a: list[tuple] = []
        near_b: list[tuple] = []
        for o in occurrences:
            slot = o[0]
            if slot == _NONE:
                return None
            if neg is not None and o[5] and _negated(text.folded, o[1], o[2], neg, text.ends, slot == _REGEX):
                continue
            if entity is not None and _entity_name(text.folded, o[1], o[2], entity, text.ends):
                continue
            if slot >= 0:
                all_seen.add(slot)
                counted.append(o)
            elif slot == _ANY or slot == _REGEX:
                counted.append(o)
            elif slot == _NEAR_A:
                near_a.append(o)
            else:
                near_b.append(o)
        if cr.needs_any and not any(o[0] == _ANY or o[0] == _REGEX for o in counted):
            return None
        if len(all_seen) < cr.n_all:
            return None
        evidence = [(o[4], o[1], o[2]) for o in counted]
        weights = [o[3] for o in counted]
        labels = [o[4] for o in counted]
        if cr.near is not None:
            within, by_tokens, ordered = cr.near
            ends = text.ends if by_tokens else ()
            found = False
            for a in near_a:
                best = None
                for b in near_b:
                    if (a[1], a[2]) == (b[1], b[2]):
                        continue
                    if b[1] >= a[2]:
                        gap = _gap(a[2], b[1], ends, by_tokens)
                    elif a[1] >= b[2]:
                        if ordered:
                            continue
                        gap = _gap(b[2], a[1], ends, by_tokens)
                    else:
                        gap = 0  # overlapping
                    if gap <= within and (best is None or gap < best[0]):
                        best = (gap, b)
                if best is not None:
                    found = True
                    b = best[1]
                    evidence.append((a[4], a[1], a[2]))
                    evidence.append((b[4], b[1], b[2]))
                    weights.append(a[3])
                    labels.append(a[4])
            if not found:
                return None
        if len(weights) < cr.min_hits:
            return None
        if cr.min_terms > 1 and len(set(labels)) < cr.min_terms:
            return None
        score = float(sum(weights))
        if cr.threshold is not None and score < cr.threshold:
            return None
        return score, evidence

    def _apply_exclusive(self, fired: dict[int, list]) -> None:
        for _, kids in self._exclusive:
            present = [k for k in sorted(fired) if k in kids]
            if len(present) > 1:
                best = max(present, key=lambda k: (sum(p[2] for p in fired[k]), -k))
                for k in present:
                    if k != best:
                        del fired[k]


def _wide(text: str) -> str:
    """Each character as its 4 UTF-32 bytes, one latin-1 character per byte.

    pyahocorasick finds a node's child by a linear scan, so a root with hundreds of
    distinct CJK first characters made every step slow (~12M chars/s for the default
    codebook). Over bytes the fan-out is tiny and the scan is 2-3x faster even though the
    text is four times longer; offsets are exact (byte offset // 4).
    """
    return text.encode("utf-32-be").decode("latin-1")


class _Terms:
    """An Aho-Corasick automaton over wide text whose value for key ``k`` is ``k``, with each
    key's length and uses (``match``'s per-unit path)."""

    def __init__(self, ahocorasick, table: Mapping[str, Sequence[tuple]]):
        self.automaton = ahocorasick.Automaton()
        self.entries: list[tuple[int, tuple]] = []  # per key: (length, uses)
        for key, uses in table.items():
            self.automaton.add_word(_wide(key), len(self.entries))
            self.entries.append((len(key), tuple(uses)))
        self.automaton.make_automaton()


class _Uses:
    """One table of the document scanner as arrays: for each key id, its uses (CSR), and
    the uses' rule and their other fields as columns."""

    # the columns (set from ``columns``): of term tables, and of the regex prefilter table
    slot: np.ndarray
    substring: np.ndarray
    weight: np.ndarray
    negation: np.ndarray
    label: np.ndarray
    pattern: np.ndarray
    run: np.ndarray

    def __init__(self, key_ids: Mapping[str, int], table: Mapping[str, Sequence[tuple]],
                 columns: Mapping[str, tuple[int, type]]):
        per_key: list[tuple] = [()] * len(key_ids)
        for key, uses in table.items():
            per_key[key_ids[key]] = tuple(uses)
        counts = np.array([len(u) for u in per_key], dtype=np.int64)
        self.uses = [u for uses in per_key for u in uses]
        self.n_uses = counts
        self.first_use = np.cumsum(counts) - counts
        self.rule = np.array([u[0] for u in self.uses], dtype=np.int64)
        for name, (i, dtype) in columns.items():
            setattr(self, name, np.array([u[i] for u in self.uses], dtype=dtype))

    def expand(self, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(occurrence index, use index) for every use of every occurrence, in order."""
        counts = self.n_uses[key]
        occurrence = np.repeat(np.arange(len(key)), counts)
        offset = np.arange(len(occurrence)) - np.repeat(np.cumsum(counts) - counts, counts)
        return occurrence, self.first_use[key][occurrence] + offset


class _Found:
    """Term occurrences of a document as arrays: unit, use (of ``uses``), start, end."""

    __slots__ = ("uses", "span", "use", "start", "end")

    def __init__(self, uses: _Uses, span: np.ndarray, use: np.ndarray, start: np.ndarray, end: np.ndarray):
        self.uses, self.span, self.use, self.start, self.end = uses, span, use, start, end

    @property
    def rule(self) -> np.ndarray:
        return self.uses.rule[self.use]

    @property
    def slot(self) -> np.ndarray:
        return self.uses.slot[self.use]

    def where(self, keep: np.ndarray) -> _Found:
        return _Found(self.uses, self.span[keep], self.use[keep], self.start[keep], self.end[keep])


class _Scanner:
    """Every key of a RuleSet (terms, regex prefilter strings, negators) in one automaton
    over wide text, so that ``match_document`` reads a document once."""

    def __init__(self, ahocorasick, tables: Mapping[str, Mapping[str, Sequence[tuple]]], negs: Sequence[_Neg]):
        keys = list(dict.fromkeys([k for table in tables.values() for k in table] + [t for n in negs for t in n.texts]))
        ids = {k: i for i, k in enumerate(keys)}
        self.automaton = ahocorasick.Automaton()
        for k, i in ids.items():
            self.automaton.add_word(_wide(k), i)
        self.automaton.make_automaton()
        self.length = np.array([len(k) for k in keys], dtype=np.int64)
        terms = {"slot": (1, np.int64), "substring": (2, bool), "weight": (3, np.float64), "negation": (5, bool)}
        self.trigger = _Uses(ids, tables["trigger"], terms)
        self.context = _Uses(ids, tables["context"], terms)
        # the terms as written (evidence labels), numbered in string order
        labels = sorted({u[4] for uses in (self.trigger, self.context) for u in uses.uses})
        label_id = {t: i for i, t in enumerate(labels)}
        self.labels = np.array(labels + [""], dtype=object)
        for uses in (self.trigger, self.context):
            uses.label = np.array([label_id[u[4]] for u in uses.uses], dtype=np.int64)
        self.factor = _Uses(ids, tables["factor"], {"pattern": (1, np.int64), "run": (2, np.int64)})
        self.negators = []  # per _Neg: which keys are its negators
        for neg in negs:
            mask = np.zeros(len(keys), dtype=bool)
            mask[[ids[t] for t in neg.texts]] = True
            self.negators.append(mask)

    def scan(self, wide: str, starts: np.ndarray, stops: np.ndarray):
        """Occurrences inside the spans [starts, stops): (span index, key, start, end) arrays,
        in the automaton's order (by end offset)."""
        raw = np.fromiter(chain.from_iterable(self.automaton.iter(wide)), dtype=np.int64).reshape(-1, 2)
        last = raw[:, 0] + 1
        whole_chars = (last & 3) == 0  # matches straddling characters are not real
        end = last[whole_chars] >> 2
        key = raw[whole_chars, 1]
        start = end - self.length[key]
        span = np.searchsorted(starts, start, side="right") - 1
        inside = span >= 0
        inside[inside] = end[inside] <= stops[span[inside]]
        return span[inside], key[inside], start[inside], end[inside]


def _automaton(ahocorasick, table: dict[str, list[tuple]]) -> _Terms | None:
    return _Terms(ahocorasick, table) if table else None


_FACTOR_STRINGS = 64  # the most alternatives a required-string set may have


def _regex_factors(pattern: str) -> list[frozenset[str]] | None:
    """Sets of strings ("runs") such that every match of ``pattern`` contains a member of each,
    or None if none is known.

    Read from the parsed pattern: runs of consecutive literal pieces (characters, character
    sets and alternations of literal strings, all of them required). Single characters are
    kept only when nothing longer is known (they would be found everywhere). The runs only
    decide where the pattern is worth running, never what it matches.
    """
    # private and without type stubs, so any surprise means "unknown"

    try:
        parsed = sre.parse(pattern)
        if parsed.state.flags & re.IGNORECASE:
            return None
        runs, current = [], {""}
        for op, av in parsed:
            strings = _literal_strings(sre, op, av)
            if strings is None:
                runs.append(current)
                current = {""}
                if op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:
                    runs.append(_sequence_strings(sre, av[2]) or {""})  # at least one repetition
                continue
            joined = {a + b for a in current for b in strings}
            if len(joined) > _FACTOR_STRINGS:
                runs.append(current)
                joined = strings
            current = joined
        runs.append(current)
    except Exception:  # noqa: BLE001 - a pattern we cannot read is simply always run
        return None
    factors = [frozenset(r) for r in runs if r and "" not in r]
    long = [r for r in factors if min(map(len, r)) >= 2]
    if long:
        return long
    return [min(factors, key=len)] if factors else None


def _sequence_strings(sre, items) -> set[str] | None:
    """Every string a parsed sequence can match, if it matches only literal strings (a few)."""
    out = {""}
    for op, av in items:
        strings = _literal_strings(sre, op, av)
        if strings is None:
            return None
        out = {a + b for a in out for b in strings}
        if len(out) > _FACTOR_STRINGS:
            return None
    return out


def _literal_strings(sre, op, av) -> set[str] | None:
    if op is sre.LITERAL:
        return {chr(av)}
    if op is sre.IN:
        return {chr(c) for _, c in av} if all(o is sre.LITERAL for o, _ in av) else None
    if op is sre.SUBPATTERN:
        _group, add_flags, _del_flags, sub = av
        return None if add_flags & re.IGNORECASE else _sequence_strings(sre, sub)
    if op is sre.BRANCH:
        out: set[str] = set()
        for alternative in av[1]:
            strings = _sequence_strings(sre, alternative)
            if strings is None:
                return None
            out |= strings
        return out if len(out) <= _FACTOR_STRINGS else None
    return None


def _gap(left_end: int, right_start: int, ends: Sequence[int], by_tokens: bool) -> int:
    """Characters, or whole tokens, strictly between two occurrences."""
    if not by_tokens:
        return right_start - left_end
    last_left = bisect_left(ends, left_end)  # token holding the char before left_end
    first_right = bisect_right(ends, right_start)  # token holding the char at right_start
    return max(0, first_right - last_left - 1)


def _negated(folded: str, start: int, end: int, neg: _Neg, ends: Sequence[int], inside: bool = False) -> bool:
    """The occurrence ``[start, end)`` is negated: a negator ends within ``window`` characters
    before it, or an after-negator starts within ``after`` characters after it, in the same
    clause (``neg.breaks``). ``inside`` (regular-expression matches): also a negator inside the
    match within ``window`` before the match's last token (楼组长并不是党员, 委员，但我不是党员)."""
    n = len(folded)
    if neg.regex is not None:
        lo = start - neg.window - neg.maxlen
        for m in neg.regex.finditer(folded, lo if lo > 0 else 0, start):
            ns, ne = m.span()
            if start - ne > neg.window:
                continue
            if ne < start and neg.breaks.search(folded, ne, start):
                continue
            if m.group() not in neg.substring:
                # Whole-token negators only (不 yes, 不断/不少/不仅 no), except right before the
                # term, where jieba may glue them to it (不满意 -> 不/满意 or 不满意).
                if not _at_boundary(ns, ends, n):
                    continue
                if ne != start and not _at_boundary(ne, ends, n):
                    continue
            return True
        if inside:
            # the match's last token is treated like a term: a negator before it inside the match
            i = bisect_left(ends, end) - 1
            last = ends[i] if i >= 0 and ends[i] > start else start
            lo = last - neg.window - neg.maxlen
            for m in neg.regex.finditer(folded, lo if lo > start else start, last):
                ns, ne = m.span()
                if last - ne > neg.window or (ne < last and neg.breaks.search(folded, ne, last)):
                    continue
                if m.group() in neg.substring or (_at_boundary(ns, ends, n) and _at_boundary(ne, ends, n)):
                    return True
    if neg.after_regex is not None:
        hi = end + neg.after + neg.after_maxlen
        for m in neg.after_regex.finditer(folded, end, hi if hi < n else n):
            ns, ne = m.span()
            if ns - end > neg.after:
                break
            if ns > end and neg.breaks.search(folded, end, ns):
                break
            if m.group() not in neg.substring and not (_at_boundary(ns, ends, n) and _at_boundary(ne, ends, n)):
                continue
            return True
    return False


def _entity_name(folded: str, start: int, end: int, entity: _Entity, ends: Sequence[int]) -> bool:
    """The occurrence ``[start, end)`` is part of an organisation's name: an organisation
    suffix follows it and ends on a token boundary (退休党员|支部, 应急|管理局), and it is not
    itself the name of an organisation (a term such as 党群服务中心 names one on purpose)."""
    if end >= len(folded) or folded[end] not in entity.first:
        return False
    m = entity.regex.match(folded, end)
    if m is None or not _at_boundary(m.end(), ends, len(folded)):
        return False
    return not folded[start:end].endswith(entity.suffixes)


def _at_boundary(p: int, ends: Sequence[int], n: int) -> bool:
    if p <= 0 or p >= n:
        return True
    i = bisect_left(ends, p)
    return i < len(ends) and ends[i] == p


_TOKENIZERS: dict[tuple[str, ...], object] = {}
_BASE_TOKENIZER: list = []


def _tokenizer(terms: tuple[str, ...]):
    """A jieba Tokenizer with ``terms`` added; the main dictionary is loaded only once."""
    tk = _TOKENIZERS.get(terms)
    if tk is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        if not _BASE_TOKENIZER:
            base = jieba.Tokenizer()
            base.initialize()
            _BASE_TOKENIZER.append(base)
        base = _BASE_TOKENIZER[0]
        tk = jieba.Tokenizer()
        tk.FREQ, tk.total, tk.initialized = dict(base.FREQ), base.total, True
        for t in terms:
            tk.add_word(t)
        if len(_TOKENIZERS) > 16:
            _TOKENIZERS.clear()
        _TOKENIZERS[terms] = tk
    return tk


def _compiled_rule_pattern(pattern: str, code: str):
    """A rule's pattern in the linear-time engine; a codebook validated by an older qualcode
    (cached) may hold one it cannot run: say which code, as ``codebook validate`` would."""
    try:
        return compile_pattern(pattern)
    except PatternError as exc:
        raise CodebookError("the codebook", [f"code {code}: regular expression {pattern!r}: {exc}"]) from None
