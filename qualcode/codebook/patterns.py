"""Rule regular expressions: run in a linear-time engine, refused when they could backtrack.

Rules' ``regex`` patterns are matched with RE2 (``google-re2``), whose running time grows
linearly with the text whatever the pattern, so no codebook can make ``autocode`` run for
hours on a 40-character passage. RE2 has no look-around and no back-references; a pattern
that uses them is refused by ``codebook validate`` with that reason.

``backtracking_risk`` also refuses patterns that a backtracking engine (Python's ``re``,
which other tools reading the same codebook may use) would take exponential time on:
a repeated group whose body ends in an unbounded repeat that can run into the next round
(``(.*?){30}x``, ``(a+)+``, ``(\\w+\\s?)*``) and a repeated choice between alternatives
that can start with the same character (``(社区|社区)+``).
"""
from __future__ import annotations

import importlib
import re
from typing import Any

import re2

# the parser of ``re`` (``sre_parse`` is its deprecated public alias)
_c: Any = importlib.import_module("re._constants")
_p: Any = importlib.import_module("re._parser")

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print its own complaint to stderr
MAXREPEAT = _c.MAXREPEAT


class _Anything(frozenset):
    """A character set that can be any character (unknown or unrestricted)."""


ANYTHING = _Anything({"<any>"})


class PatternError(ValueError):
    """A pattern the linear-time engine cannot run (look-around, back-references, bad syntax)."""


def compile_pattern(pattern: str):
    """``pattern`` compiled by RE2 (``finditer``, ``search``, ``match`` as in ``re``, offsets in
    code points); PatternError saying why it cannot be."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise PatternError(str(exc)) from None
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        if "perl operator" in reason or "(?<" in pattern or "(?=" in pattern or "(?!" in pattern:
            raise PatternError("look-ahead and look-behind ((?=…), (?!…), (?<=…), (?<!…)) are not supported; "
                               "use none: or unless_codes: for what must not be there") from None
        if re.search(r"\\[1-9]|\(\?P=", pattern):
            raise PatternError("back-references (\\1, (?P=name)) are not supported") from None
        raise PatternError(f"not supported by the linear-time engine ({reason})") from None


# -- static check for catastrophic backtracking -----------------------------------------------
def backtracking_risk(pattern: str) -> str | None:
    """Why ``pattern`` could make a backtracking engine run for an exponential time, or None."""
    try:
        parsed = _p.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None  # reported by compile_pattern
    try:
        return _risk(list(parsed))
    except RecursionError:
        return "the pattern is nested too deeply"


def _is_repeat(op) -> bool:
    return op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None))


def _risk(items: list) -> str | None:
    for op, av in items:
        if _is_repeat(op):
            lo, hi, body = av
            body = list(body)
            if hi > 1 or hi == MAXREPEAT:
                tail = _unbounded_tail(body)
                if tail is not None and _overlaps(tail, _first(body)):
                    return ("a repeated group ends in an unbounded repeat that can also match the start of the "
                            "next repetition (nested quantifiers such as (.*){20} or (a+)+); write the repeat once")
                choice = _overlapping_choice(body)
                if choice is not None:
                    return f"a repeated choice between alternatives that can start alike ({choice}); make them distinct"
            found = _risk(body)
            if found:
                return found
        elif op is _c.SUBPATTERN:
            found = _risk(list(av[-1]))
            if found:
                return found
        elif op is _c.BRANCH:
            for alt in av[1]:
                found = _risk(list(alt))
                if found:
                    return found
    return None


def _overlapping_choice(body: list) -> str | None:
    """Two alternatives of a choice in the repeated body that can match the same start: both
    start with a common character, or both can match nothing (``(社区|社区)+``: the parser
    takes the common 社区 out, leaving a choice between two empty alternatives)."""
    items = body
    while len(items) == 1 and items[0][0] is _c.SUBPATTERN:
        items = list(items[0][1][-1])
    for op, av in items:
        if op is not _c.BRANCH:
            continue
        alts = [list(a) for a in av[1]]
        for i in range(len(alts)):
            for j in range(i + 1, len(alts)):
                if (_overlaps(_first(alts[i]), _first(alts[j]))
                        or (_nullable(alts[i]) and _nullable(alts[j]))):
                    return f"alternatives {i + 1} and {j + 1}"
    return None


def _unbounded_tail(body: list):
    """The characters of an unbounded repeat with which ``body`` can end, or None."""
    for op, av in reversed(body):
        if _is_repeat(op):
            lo, hi, inner = av
            inner = list(inner)
            if hi == MAXREPEAT:
                return _chars(inner)
            nested = _unbounded_tail(inner)
            if nested is not None:
                return nested
            if lo > 0:
                return None
            continue  # an optional part: what is before it can end the body
        if op is _c.SUBPATTERN:
            nested = _unbounded_tail(list(av[-1]))
            if nested is not None:
                return nested
            if not _nullable(list(av[-1])):
                return None
            continue
        if op is _c.BRANCH:
            tails = [_unbounded_tail(list(a)) for a in av[1]]
            found = [t for t in tails if t is not None]
            return _union(found) if found else None
        if op is _c.AT:
            continue  # anchors match no character
        return None
    return None


def _nullable(items: list) -> bool:
    for op, av in items:
        if _is_repeat(op):
            if av[0] > 0 and not _nullable(list(av[2])):
                return False
        elif op is _c.SUBPATTERN:
            if not _nullable(list(av[-1])):
                return False
        elif op is _c.BRANCH:
            if not any(_nullable(list(a)) for a in av[1]):
                return False
        elif op is _c.AT:
            continue
        else:
            return False
    return True


def _first(items: list):
    """The characters ``items`` can start with (ANYTHING when unknown or unrestricted)."""
    out: set[str] = set()
    for op, av in items:
        if op is _c.AT:
            continue
        if _is_repeat(op):
            got = _first(list(av[2]))
            if got is ANYTHING:
                return ANYTHING
            out |= got
            if av[0] > 0 and not _nullable(list(av[2])):
                return out
            continue
        if op is _c.SUBPATTERN:
            got = _first(list(av[-1]))
            if got is ANYTHING:
                return ANYTHING
            out |= got
            if not _nullable(list(av[-1])):
                return out
            continue
        if op is _c.BRANCH:
            firsts = [_first(list(a)) for a in av[1]]
            if any(f is ANYTHING for f in firsts):
                return ANYTHING
            for f in firsts:
                out |= f
            if not any(_nullable(list(a)) for a in av[1]):
                return out
            continue
        got = _chars([(op, av)])
        if got is ANYTHING:
            return ANYTHING
        return out | got
    return out


def _chars(items: list):
    """The set of characters a single-character item (or the first of ``items``) matches."""
    if len(items) != 1:
        return _first(items)
    op, av = items[0]
    if op is _c.LITERAL:
        return {chr(av)}
    if op is _c.IN:
        out: set[str] = set()
        for sub_op, sub_av in av:
            if sub_op is _c.LITERAL:
                out.add(chr(sub_av))
            elif sub_op is _c.RANGE and sub_av[1] - sub_av[0] < 256:
                out |= {chr(c) for c in range(sub_av[0], sub_av[1] + 1)}
            elif sub_op is _c.CATEGORY and sub_av is _c.CATEGORY_DIGIT:
                out |= set("0123456789")
            elif sub_op is _c.CATEGORY and sub_av is _c.CATEGORY_SPACE:
                out |= set(" \t\n\r\f\v")
            else:
                return ANYTHING
        return out
    if op is _c.SUBPATTERN or _is_repeat(op) or op is _c.BRANCH:
        return _first(items)
    return ANYTHING


def _union(sets: list):
    if any(s is ANYTHING for s in sets):
        return ANYTHING
    out: set[str] = set()
    for s in sets:
        out |= s
    return out


def _overlaps(a, b) -> bool:
    if a is ANYTHING or b is ANYTHING:
        return bool(a) and bool(b)
    return bool(a & b)
