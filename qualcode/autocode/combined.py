"""The combined scorer: one calibrated model over the rules' evidence and the passage's text.

Each (passage, code) gets a probability from a logistic regression per code (one-vs-rest)
whose features are

* the rule evidence of the passage: for the code itself whether a rule fired, log(1 + its
  score), log(1 + the number of distinct terms) and whether the rule was negative evidence
  (``absent``); and, for every code of the codebook, whether a rule for it fired (one
  column each), so that one code's evidence can speak for or against another;
* how many of the code's rule terms occur anywhere in the passage (``code_term_lists``,
  log(1 + count)): a looser signal than the rules, whatever their other conditions;
* the text: TF-IDF of the stored jieba tokens and of character 2-3-grams within clauses
  (the features of ``qualcode suggest``, ``estimator.make_vectorizer``).

Training examples come from two sources, in this order of arrival:

1. **The codebook** (before anyone has coded): a code's examples, its definition (the
   Chinese part, before ``EN:``) and its include criteria are positive examples of the
   code and negative ones of every other code; its counter-examples and exclude criteria
   are negative examples of the code. Their rule evidence is what the rules find in them.
2. **The researcher's decisions**: an accepted proposal or a manual coding makes its
   passage a positive example of its code; a rejected proposal a negative one. A
   passage is an example only for the codes somebody decided on.

Unlabelled passages (``background``: a sample of the project's) are weak negatives
(``BACKGROUND_WEIGHT`` each) of the codes no rule found in them, so that a passage like
none of the examples is not a coin toss.

The probabilities are those of a logistic regression (log loss) with **balanced class
weights**: calibrated as if a code were as frequent as its absence, so that 0.5 is where the
evidence for and against a code balances (a frequency-calibrated model, such as a sigmoid
``CalibratedClassifierCV`` on top, let rare codes almost never reach 0.5 and scored lower on
``corpus/gold/tune.csv``; the choice was made on that file only). A code that has no
positive or no negative example yet falls back on the rules: ``1 - 0.5 ** score`` when a
rule fired (as ``review`` reads a rule score), 0 otherwise. Every step is deterministic
(liblinear with a fixed seed).

What the combination proposes (``combine``): every rule proposal, kept whatever its
probability (below ``T_LOW`` it is low-confidence and reviewed last: not proposing those lost
correct proposals at every cut-off on ``corpus/gold/tune.csv``), and every code no rule found
whose probability is at least ``T_ADD`` (0.7: the lowest cut-off that added no wrong proposal
on ``tune.csv``, before and after simulated decisions; chosen on that file only).

scikit-learn and numpy are imported inside functions; this module is imported only inside
the ``suggest``/``evaluate`` code paths, so ``qualcode --help`` stays fast.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qualcode.autocode.estimator import make_vectorizer
from qualcode.autocode.rules import compile_rules
from qualcode.autocode.run import rules_document
from qualcode.text.script import fold
from qualcode.text.segment import pack_tokens

SEED_WEIGHT = 1.0  # weight of a codebook example relative to one decision
DECISION_WEIGHT = 1.0
C = 1.0
CLASS_WEIGHT = "balanced"  # a code and its absence weigh the same (chosen on corpus/gold/tune.csv only)
RULE_SCALE = 1.0
BACKGROUND_WEIGHT = 0.1  # an unlabelled passage as a negative, next to one labelled example  # the rule features' scale next to the unit-length TF-IDF rows
T_ADD = 0.7  # a code no rule found is proposed (origin ``model``) at this probability (chosen on corpus/gold/tune.csv only)
T_LOW = 0.5  # a rule proposal whose probability is below this is low-confidence: kept, reviewed last
OWN_FEATURES = ("rule_fired", "rule_score", "rule_terms", "rule_absent", "code_terms")
TERM_SCALE = 1.0  # weight of the code's term-list feature (see ``code_term_lists``)


@dataclass(frozen=True)
class Evidence:
    """What a rule found for one code in one passage (from a ``Hit`` or a stored evidence JSON)."""

    score: float
    terms: tuple[str, ...] = ()
    absent: bool = False

    @classmethod
    def from_hit(cls, hit) -> Evidence:
        return cls(float(hit.score), tuple(term for term, _, _ in hit.evidence), bool(hit.absent))

    @classmethod
    def from_json(cls, evidence: Mapping | None, score, absent) -> Evidence:
        evidence = evidence or {}
        try:
            s = float(evidence.get("score", score))
        except (TypeError, ValueError):
            s = 1.0
        terms = tuple(str(t[0]) for t in evidence.get("terms", ()) if t)
        return cls(s, terms, bool(absent))


@dataclass
class Example:
    """One passage (or codebook text): its tokens, the rules' evidence per code, and the codes
    it is known to carry (1) or not to carry (0); codes not in ``labels`` are unknown."""

    tokens: list[str]
    rules: dict[str, Evidence] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    weight: float = DECISION_WEIGHT
    source: str = "decision"  # "codebook" | "decision"


def rule_probability(ev: Evidence | None) -> float:
    """The rules' own probability for a code: ``1 - 0.5 ** score`` (as ``review`` reads it)."""
    if ev is None or ev.absent:
        return 0.0
    return 1.0 - 0.5 ** max(ev.score, 0.0)


def combine(rule_codes: set[str], probabilities: Mapping[str, float], t_add: float = T_ADD) -> tuple[set[str], set[str]]:
    """What the combination proposes for one passage: (the rule proposals, kept whatever their
    probability: a low one only orders them last; the codes no rule found whose probability
    is at least ``t_add``)."""
    added = {c for c, p in probabilities.items() if c not in rule_codes and p >= t_add}
    return set(rule_codes), added


# ---------------------------------------------------------------------------- codebook examples


def _zh(text: str | None) -> str:
    return (text or "").split("EN:")[0].strip()


def tokenize(text: str, segmenter) -> list[str]:
    """Script-folded tokens of a text, segmented as imported passages are."""
    folded = fold(text)
    out, at = [], 0
    for n in segmenter.token_lengths(text):
        out.append(folded[at:at + n])
        at += n
    if at != len(folded):
        return [folded]
    return out


def codebook_examples(codebook, segmenter) -> list[Example]:
    """The codebook's own examples (see the module docstring), with what the rules find in them."""
    ruleset = compile_rules(codebook)
    codes = [c.path for c in codebook.codes]
    items: list[tuple[str, str, int]] = []  # (text, code, label)
    for code in codebook.codes:
        positives = [e.quote for e in code.examples] + [_zh(code.definition)] + list(code.include)
        negatives = [e.quote for e in code.counter_examples] + list(code.exclude)
        items += [(text, code.path, 1) for text in positives if text and text.strip()]
        items += [(text, code.path, 0) for text in negatives if text and text.strip()]
    out = []
    for text, code, label in items:
        tokens = tokenize(text, segmenter)
        labels = {c: 0 for c in codes} if label else {}
        labels[code] = label
        out.append(Example(tokens, evidence_of_text(ruleset, text, tokens), labels, SEED_WEIGHT, "codebook"))
    return out


def evidence_of_text(ruleset, text: str, tokens: Sequence[str]) -> dict[str, Evidence]:
    """What the rules find in a free text (one passage, no speaker, no attributes)."""
    blob = pack_tokens(len(t) for t in tokens)
    document, _ = rules_document(text, [(0, 0, len(text), None, blob)], {}, "passage", {}, {})
    hits = ruleset.match_document(document)[0]
    return {h.code: Evidence.from_hit(h) for h in hits}


def code_term_lists(codebook) -> dict[str, tuple[str, ...]]:
    """Per code, the script-folded literal terms of its positive rules (``any``, ``all`` and
    ``near``; not ``none`` nor negative-evidence rules): a looser signal than the rules
    themselves, counted anywhere in a passage whatever the rule's other conditions."""
    out: dict[str, tuple[str, ...]] = {}
    for code in codebook.codes:
        seen: dict[str, None] = {}
        for rule in code.rules:
            if rule.absent:
                continue
            groups = [rule.any, rule.all] + ([rule.near.terms, rule.near.with_] if rule.near is not None else [])
            for group in groups:
                for term in group:
                    if len(term.text) >= 2:
                        seen.setdefault(fold(term.text), None)
        out[code.path] = tuple(seen)
    return out


# ---------------------------------------------------------------------------- the model


class CombinedScorer:
    """Logistic regression per code over rule evidence and text (module docstring)."""

    def __init__(self, codes: Sequence[str], C: float = C, random_state: int = 0, class_weight=CLASS_WEIGHT,
                 rule_scale: float = RULE_SCALE, vectorizer=None, term_lists: Mapping[str, Sequence[str]] | None = None):
        self.codes = list(codes)
        self.C = C
        self.random_state = random_state
        self.class_weight = class_weight
        self.rule_scale = rule_scale
        self.vectorizer = vectorizer  # already fitted: used as it is (e.g. on every passage of a project)
        self.term_lists = {c: tuple(v) for c, v in (term_lists or {}).items()}  # code → terms (code_term_lists)

    def _rule_matrix(self, examples: Sequence[Example]):
        import numpy as np

        index = {c: i for i, c in enumerate(self.codes)}
        fired = np.zeros((len(examples), len(self.codes)))
        for row, ex in enumerate(examples):
            for code, ev in ex.rules.items():
                if code in index and not ev.absent:
                    fired[row, index[code]] = 1.0
        return fired

    def _own(self, examples: Sequence[Example], code: str):
        import numpy as np

        out = np.zeros((len(examples), len(OWN_FEATURES)))
        terms = getattr(self, "term_lists", {}).get(code, ())
        for row, ex in enumerate(examples):
            ev = ex.rules.get(code)
            if ev is not None:
                out[row, :4] = (0.0 if ev.absent else 1.0, math.log1p(max(ev.score, 0.0)),
                                math.log1p(len(set(ev.terms))), 1.0 if ev.absent else 0.0)
            if terms:
                text = "".join(ex.tokens)
                out[row, 4] = TERM_SCALE * math.log1p(sum(term in text for term in terms))
        return out

    def _features(self, examples, code, text, fired):
        from scipy.sparse import csr_matrix, hstack

        return hstack([text, csr_matrix(self.rule_scale * self._own(examples, code)),
                       csr_matrix(self.rule_scale * fired)]).tocsr()

    def fit(self, examples: Sequence[Example], vocabulary: Sequence[Sequence[str]] = (),
            background: Sequence[Example] = ()) -> CombinedScorer:
        """Learn from ``examples``. ``vocabulary`` (token lists, unlabelled) only widens the text
        features' vocabulary; ``background`` (unlabelled passages, e.g. a sample of the
        project's) are weak negatives (weight ``BACKGROUND_WEIGHT``) of every code no rule
        found in them: what a passage that looks like nothing in particular is."""
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        if self.vectorizer is not None:
            self.vectorizer_ = self.vectorizer
        else:
            self.vectorizer_ = make_vectorizer()
            self.vectorizer_.fit([list(e.tokens) for e in examples] + [list(e.tokens) for e in background]
                                 + [list(v) for v in vocabulary])
        pool = list(examples) + list(background)
        text = self.vectorizer_.transform([list(e.tokens) for e in pool])
        fired = self._rule_matrix(pool)
        n_labelled = len(examples)
        self.models_: dict[str, Any] = {}
        self.counts_: dict[str, dict[str, int]] = {}
        for code in self.codes:
            rows = [i for i, e in enumerate(examples) if code in e.labels]
            y_list = [examples[i].labels[code] for i in rows]
            w_list = [examples[i].weight for i in rows]
            counts = {"codebook_positive": 0, "codebook_negative": 0, "positive": 0, "negative": 0}
            for i, label in zip(rows, y_list):
                key = ("codebook_" if examples[i].source == "codebook" else "") + ("positive" if label else "negative")
                counts[key] += 1
            self.counts_[code] = counts
            if len(set(y_list)) < 2:
                continue
            extra = [n_labelled + i for i, e in enumerate(background)
                     if code not in e.rules or e.rules[code].absent]
            rows += extra
            y = np.array(y_list + [0] * len(extra), dtype=int)
            w = np.array(w_list + [BACKGROUND_WEIGHT] * len(extra), dtype=float)
            if self.class_weight == "balanced":  # the two classes weigh the same in total
                total, pos, neg = w.sum(), w[y == 1].sum(), w[y == 0].sum()
                w[y == 1] *= total / (2 * pos)
                w[y == 0] *= total / (2 * neg)
            X = self._features([pool[i] for i in rows], code, text[rows], fired[rows])
            model = LogisticRegression(C=self.C, solver="liblinear", dual=True, max_iter=1000, random_state=self.random_state)
            model.fit(X, y, sample_weight=w)
            self.models_[code] = model
        return self

    def predict_proba(self, examples: Sequence[Example]):
        """Probabilities, shape (len(examples), len(codes)), columns in ``codes`` order."""
        import numpy as np

        out = np.zeros((len(examples), len(self.codes)))
        if not examples:
            return out
        text = self.vectorizer_.transform([list(e.tokens) for e in examples])
        fired = self._rule_matrix(examples)
        for j, code in enumerate(self.codes):
            model = self.models_.get(code)
            if model is None:
                out[:, j] = [rule_probability(e.rules.get(code)) for e in examples]
            else:
                out[:, j] = model.predict_proba(self._features(examples, code, text, fired))[:, 1]
        return out

    def top_features(self, example: Example, code: str, k: int = 5) -> list[dict]:
        """The ``k`` features that raise ``code``'s score most in ``example``: ``{"feature",
        "kind" (token, chars, rule, terms or fired: another code's rule), "weight"}``, weight =
        coefficient × value (why the model proposes the code)."""
        model = self.models_.get(code)
        if model is None:
            return []
        text = self.vectorizer_.transform([list(example.tokens)])
        row = self._features([example], code, text, self._rule_matrix([example])).tocoo()
        names = list(self.vectorizer_.get_feature_names_out())
        n_text = len(names)
        out = []
        for col, value in zip(row.col, row.data):
            weight = float(model.coef_[0][col] * value)
            if weight <= 0:
                continue
            if col < n_text:
                kind, _, name = names[col].partition("__")
            elif col < n_text + len(OWN_FEATURES):
                name = OWN_FEATURES[col - n_text]
                kind = "terms" if name == "code_terms" else "rule"
            else:
                kind, name = "fired", self.codes[col - n_text - len(OWN_FEATURES)]
            out.append({"feature": name, "kind": kind, "weight": round(weight, 4)})
        out.sort(key=lambda f: (-f["weight"], f["feature"]))
        return out[:k]

    def rule_weights(self) -> dict[str, float]:
        """Per learned code, the coefficient of 'a rule for this code fired' (how far the model
        trusts the rules)."""
        n_text = len(self.vectorizer_.get_feature_names_out())
        return {code: float(m.coef_[0][n_text]) for code, m in self.models_.items()}
