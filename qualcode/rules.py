"""Compiled auto-coding rules: codebook -> RuleSet -> hits with evidence for one text unit.

Everything is compiled once per codebook: all literal terms of all codes go into one
Aho-Corasick automaton (over script-folded text), all regular expressions into one
combined prefilter. Matching a unit is one automaton pass; token boundaries are checked
by bisection in the unit's token ends; groups, proximity, negation and thresholds are
evaluated only for rules that have candidate occurrences.

Offsets are Python ``str`` indices into the unit text, half-open ``[start, end)``.
Folding (``qualcode.script.fold``) keeps the length, so offsets in the folded text are
offsets in the original.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from qualcode.codebook import Codebook, Term, dependency_order
from qualcode.script import fold

ROLE_UNKNOWN = "unknown"

# Slots: where a term occurrence counts inside its rule. 0.. are indices into `all`.
_ANY, _NONE, _NEAR_A, _NEAR_B, _REGEX = -1, -2, -3, -4, -5

# A negator separated from the term by clause punctuation does not negate it.
_CLAUSE_BREAK = re.compile(r"[，。！？；：、,.!?;:…—\n\r\t]")


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
    def from_tokens(cls, text: str, tokens: Iterable[tuple[int, int]], **kw) -> "Unit":
        """Build a unit from (start, end) token spans."""
        return cls(text, [e for _, e in tokens], **kw)


@dataclass
class Hit:
    """A code proposed for a unit. ``rule`` is the first rule that fired (codebook order)."""

    code: str
    rule: str
    score: float
    evidence: list[tuple[str, int, int]]  # (term or pattern as written, start, end)
    rules: tuple[str, ...] = ()  # every rule that fired


class _Neg:
    __slots__ = ("regex", "window", "maxlen", "substring")

    def __init__(self, negators: tuple[Term, ...], window: int):
        texts = sorted({fold(t.text) for t in negators}, key=lambda s: (-len(s), s))
        self.regex = re.compile("|".join(re.escape(t) for t in texts))
        self.window = window
        self.maxlen = max(len(t) for t in texts)
        self.substring = frozenset(fold(t.text) for t in negators if t.substring)


class _Rule:
    __slots__ = (
        "index", "position", "code_index", "rule_id", "needs_any", "n_all", "near", "min_hits", "min_terms",
        "threshold", "neg", "needs_context", "unit", "roles", "attrs", "requires", "unless", "regex",
    )


def compile_rules(codebook: Codebook) -> "RuleSet":
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
        neg_cache: dict[tuple, _Neg] = {}
        attr_names: set[str] = set()
        rx_parts: list[str] = []
        rx_all_combinable = True

        def add(term: Term, r: int, slot: int, trigger: bool) -> None:
            key = fold(term.text)
            (table if trigger else context_table).setdefault(key, []).append(
                (r, slot, term.substring, term.weight, term.text, term.negation))

        position = {}
        for code in codes:
            for rule in code.rules:
                position[code.rule_id(rule)] = len(position)
        for code in sorted(codes, key=lambda c: order[c.path]):
            for rule in code.rules:
                cr = _Rule()
                cr.position = position[code.rule_id(rule)]
                cr.index = r = len(self._rules)
                cr.code_index = code_index[code.path]
                cr.rule_id = code.rule_id(rule)
                cr.needs_any = bool(rule.any or rule.regex)
                cr.n_all = len(rule.all)
                cr.min_hits, cr.min_terms, cr.threshold = rule.min_hits, rule.min_terms, rule.threshold
                near = rule.near
                cr.near = (near.within, near.measure == "tokens", near.ordered) if near else None
                neg = codebook.effective_negation(code, rule)
                if neg.enabled and neg.negators:
                    key = (neg.negators, neg.window)
                    if key not in neg_cache:
                        neg_cache[key] = _Neg(neg.negators, neg.window)
                    cr.neg = neg_cache[key]
                else:
                    cr.neg = None
                scope = codebook.effective_scope(code, rule)
                cr.unit = frozenset(scope.unit) if scope.unit is not None else None
                cr.roles = frozenset(scope.role) if scope.role is not None else None
                cr.attrs = tuple((k, frozenset(fold(v) for v in vals)) for k, vals in (scope.attributes or ()))
                attr_names.update(k for k, _ in cr.attrs)
                cr.requires = tuple(subtree[p] for p in rule.requires_codes)
                cr.unless = tuple(subtree[p] for p in rule.unless_codes)
                cr.regex = []
                for pat in rule.regex:
                    compiled = re.compile(fold(pat))
                    cr.regex.append((pat, compiled))
                    if compiled.groups or pat.lstrip().startswith("(?") and not pat.lstrip().startswith("(?:"):
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
        self._rx_rules = [cr for cr in self._rules if cr.regex]
        self._rx_prefilter = None
        self._rx_always = bool(self._rx_rules) and not rx_all_combinable
        if rx_parts:
            try:
                self._rx_prefilter = re.compile("|".join(rx_parts))
            except re.error:
                self._rx_always = True
        self._attr_names = tuple(sorted(attr_names))
        self._scoped = any(cr.unit is not None or cr.roles is not None or cr.attrs for cr in self._rules)
        self._all_in_scope = bytes([1]) * len(self._rules)
        self._mask_cache: dict[tuple, bytes] = {}
        self._exclusive = [
            (i, frozenset(j for j, d in enumerate(codes) if d.parent == c.path))
            for i, c in enumerate(codes) if c.exclusive
        ]
        self._terms = codebook.terms()

    # -- tokens (fallback when the caller has none)

    def tokenize(self, text: str) -> list[int]:
        """Token end offsets of ``fold(text)`` by jieba with the codebook terms added."""
        return [e for _, _, e in _tokenizer(tuple(self._terms)).tokenize(fold(text))]

    # -- scope

    def _mask(self, unit: Unit) -> bytes:
        if not self._scoped:
            return self._all_in_scope
        attrs = unit.attributes or {}
        key = (unit.kind, unit.role, tuple(attrs.get(k) for k in self._attr_names))
        mask = self._mask_cache.get(key)
        if mask is None:
            role = unit.role if unit.role is not None else ROLE_UNKNOWN
            values = {k: fold(str(v)) for k, v in zip(self._attr_names, key[2]) if v is not None}
            mask = bytes(
                1 if (cr.unit is None or unit.kind in cr.unit)
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
                if not mask[cr.index]:
                    continue
                for pat, compiled in cr.regex:
                    for m in compiled.finditer(folded):
                        if m.end() > m.start():
                            occ.setdefault(cr.index, []).append((_REGEX, m.start(), m.end(), 1.0, pat, True))
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

        fired: dict[int, list[tuple]] = {}
        fired_codes: set[int] = set()
        for r in sorted(occ):  # rule indices follow dependency order
            cr = self._rules[r]
            result = self._evaluate(cr, occ[r], folded, ends, fired_codes)
            if result is not None:
                fired.setdefault(cr.code_index, []).append((cr.position, cr.rule_id, *result))
                fired_codes.add(cr.code_index)
        if not fired:
            return []
        if self._exclusive:
            self._apply_exclusive(fired)
        hits = []
        for ci in sorted(fired):
            parts = sorted(fired[ci])
            evidence = sorted({ev for *_, evs in parts for ev in evs}, key=lambda x: (x[1], x[2], x[0]))
            hits.append(Hit(self._code_paths[ci], parts[0][1], sum(p[2] for p in parts), evidence,
                            tuple(p[1] for p in parts)))
        return hits

    @staticmethod
    def _collect(automaton, wide: str, n: int, ends: Sequence[int], wanted: bytes | bytearray,
                 occ: dict[int, list]) -> None:
        """Append occurrences of ``automaton``'s terms to ``occ`` for the rules ``wanted`` flags."""
        for last, (length, uses) in automaton.iter(wide):
            last += 1
            if last & 3:
                continue  # straddles characters: not a real occurrence
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

    def match_many(self, units: Iterable[Unit]) -> list[list[Hit]]:
        """``match`` for each unit, in order."""
        match = self.match
        return [match(u) for u in units]

    def _evaluate(self, cr: _Rule, occurrences: list[tuple], folded: str, ends: Sequence[int],
                  fired_codes: set[int]):
        for sub in cr.requires:
            if not (sub & fired_codes):
                return None
        for sub in cr.unless:
            if sub & fired_codes:
                return None
        neg = cr.neg
        counted: list[tuple] = []  # any / all / regex occurrences
        all_seen: set[int] = set()
        near_a: list[tuple] = []
        near_b: list[tuple] = []
        for o in occurrences:
            slot = o[0]
            if slot == _NONE:
                return None
            if neg is not None and o[5] and _negated(folded, o[1], neg, ends):
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


def _automaton(ahocorasick, table: dict[str, list[tuple]]):
    if not table:
        return None
    automaton = ahocorasick.Automaton()
    for key, uses in table.items():
        automaton.add_word(_wide(key), (len(key), tuple(uses)))
    automaton.make_automaton()
    return automaton


def _gap(left_end: int, right_start: int, ends: Sequence[int], by_tokens: bool) -> int:
    """Characters, or whole tokens, strictly between two occurrences."""
    if not by_tokens:
        return right_start - left_end
    last_left = bisect_left(ends, left_end)  # token holding the char before left_end
    first_right = bisect_right(ends, right_start)  # token holding the char at right_start
    return max(0, first_right - last_left - 1)


def _negated(folded: str, start: int, neg: _Neg, ends: Sequence[int]) -> bool:
    """A negator ends within ``window`` characters before ``start``, in the same clause."""
    lo = start - neg.window - neg.maxlen
    for m in neg.regex.finditer(folded, lo if lo > 0 else 0, start):
        ns, ne = m.span()
        if start - ne > neg.window:
            continue
        if ne < start and _CLAUSE_BREAK.search(folded, ne, start):
            continue
        if m.group() not in neg.substring:
            # Whole-token negators only (不 yes, 不断/不少/不仅 no), except right before the
            # term, where jieba may glue them to it (不满意 -> 不/满意 or 不满意).
            if not _at_boundary(ns, ends, len(folded)):
                continue
            if ne != start and not _at_boundary(ne, ends, len(folded)):
                continue
        return True
    return False


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
        import logging

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
