"""The learning curve: how good the proposals become as a researcher reviews passages.

``qualcode evaluate --learning-curve --gold FILE`` simulates a researcher working through
the gold file's documents in the order the tool offers them. Every passage of those
documents is in play (the gold file's reading: a passage without a gold row carries no code).

* Before any decision, the combined scorer (``qualcode.autocode.combined``) knows only the
  codebook's own examples. Each passage's uncertainty is how close its most uncertain code
  is to a coin toss (``min |p - 0.5|`` over the codes); the researcher reviews the
  ``step`` most uncertain passages not yet reviewed (ties in reading order).
* Reviewing a passage is **one decision** in this count. It yields what the researcher
  would record in the tool: every code proposed for it (by a rule, or added by the combined
  scorer at ``t_add``, ``combined.combine``) is accepted when the gold file has it and rejected otherwise,
  and every gold code nobody proposed is added by hand (a positive).
* After each step the combined scorer is retrained on the codebook's examples and every
  decision so far; the order of the next step uses it.

At 0 decisions and after each checkpoint (25, 50, 100, 200 — those smaller than the number
of passages) the passages **not yet reviewed** are scored for

* ``rules``: what the rules propose (negative evidence does not count);
* ``model``: the suggestion model (``PassageClassifier``) trained on the reviewed
  passages, each passage labelled with its gold codes (codes with too few examples are
  not predicted);
* ``combined``: the combination as ``autocode`` makes it: the rules' proposals and the codes
  the combined scorer adds at ``t_add`` (``combined.T_ADD``).

Micro and macro F1 (macro over every code in the gold or predicted pairs of those
passages, undefined = 0; ``qualcode.autocode.evaluate``). Every step is deterministic
(fixed seeds, ties in reading order).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from qualcode.autocode.combined import T_ADD, CombinedScorer, Example, code_term_lists, codebook_examples, combine
from qualcode.autocode.estimator import DEFAULT_THRESHOLD, PassageClassifier, make_vectorizer
from qualcode.autocode.evaluate import load_gold, scores_by_code
from qualcode.autocode.suggest import _rule_evidence, load_passages, tuned_documents
from qualcode.errors import QualcodeError
from qualcode.store import schema as t

CHECKPOINTS = (25, 50, 100, 200)
CURVE_COLUMNS = ["decisions", "unreviewed", "rules_micro_f1", "rules_macro_f1", "model_micro_f1", "model_macro_f1",
                 "combined_micro_f1", "combined_macro_f1"]


@dataclass
class CurveReport:
    rows: list[dict]
    documents: list[str]
    passages: int
    step: int
    threshold: float
    tuned: list[str]  # documents of the gold file the rules were tuned on ([autocode] tuned_on): rules look better there


def _f1s(gold: list[set[str]], pred: list[set[str]], idx: Sequence[int]) -> tuple[float | None, float | None]:
    g = {(i, c) for i in idx for c in gold[i]}
    p = {(i, c) for i in idx for c in pred[i]}
    if not g and not p:
        return None, None
    s = scores_by_code(g, p)
    return round(s["micro"]["f1"], 3), round(s["macro"]["f1"], 3)


def learning_curve(project, gold_path: Path, checkpoints: Sequence[int] = CHECKPOINTS, step: int = 5,
                   threshold: float = DEFAULT_THRESHOLD, seed: int = 0, codebook=None, t_add: float = T_ADD) -> CurveReport:
    """Rules, model and combined scorer on the unreviewed passages as decisions come in (module docstring)."""
    if step < 1:
        raise QualcodeError(f"--step {step}: must be at least 1")
    codebook = codebook or project.codebook()
    gold_pairs, doc_ids = load_gold(project.store, Path(gold_path))
    passages = load_passages(project.store, doc_ids)
    n = len(passages)
    if not n:
        raise QualcodeError(f"{gold_path}: its documents have no passages")
    labels_of: dict[int, set[str]] = {}
    for pid, code in gold_pairs:
        labels_of.setdefault(pid, set()).add(code)
    gold = [labels_of.get(p.id, set()) for p in passages]
    codes = [c.path for c in codebook.codes]
    known = set(codes)
    evidence = _rule_evidence(project, codebook, passages)
    rules = [{c for c, ev in evidence.get(p.id, {}).items() if not ev.absent} for p in passages]
    seeds = codebook_examples(codebook, project.segmenter(codebook))
    terms = code_term_lists(codebook)
    features = [Example(p.tokens, evidence.get(p.id, {})) for p in passages]
    # the text features' vocabulary: the codebook's examples and every passage (unlabelled), fitted once
    vectorizer = make_vectorizer().fit([list(e.tokens) for e in seeds] + [list(p.tokens) for p in passages])

    def fit(decisions: list[Example], reviewed: list[int]) -> CombinedScorer:
        done = set(reviewed)
        background = [features[i] for i in range(n) if i not in done]  # unlabelled: weak negatives
        return CombinedScorer(codes, random_state=seed, vectorizer=vectorizer, term_lists=terms).fit(
            seeds + decisions, background=background)

    stops = sorted({0, *(c for c in checkpoints if 0 < c < n)})
    reviewed: list[int] = []
    decisions: list[Example] = []
    scorer = fit(decisions, reviewed)
    rows = []
    while True:
        done = set(reviewed)
        unreviewed = [i for i in range(n) if i not in done]
        proba = scorer.predict_proba([features[i] for i in unreviewed])
        if len(reviewed) in stops:
            combined: list[set[str]] = [set() for _ in range(n)]
            for pos, i in enumerate(unreviewed):
                kept, added = combine(rules[i], dict(zip(codes, map(float, proba[pos]))), t_add)
                combined[i] = kept | added
            model: list[set[str]] = [set() for _ in range(n)]
            if reviewed:
                est = PassageClassifier(random_state=seed).fit([passages[i].tokens for i in reviewed],
                                                               [gold[i] & known for i in reviewed])
                if est.classes_:
                    mp = est.predict_proba([passages[i].tokens for i in unreviewed])
                    for pos, i in enumerate(unreviewed):
                        model[i] = {c for j, c in enumerate(est.classes_) if mp[pos, j] >= threshold}
            row: dict = {"decisions": len(reviewed), "unreviewed": len(unreviewed)}
            for name, pred in (("rules", rules), ("model", model), ("combined", combined)):
                row[f"{name}_micro_f1"], row[f"{name}_macro_f1"] = _f1s(gold, pred, unreviewed)
            rows.append(row)
        if len(reviewed) >= stops[-1]:
            break
        limit = min((s for s in stops if s > len(reviewed)), default=n)
        uncertainty = [min((abs(float(v) - 0.5) for v in proba[pos]), default=0.5) for pos in range(len(unreviewed))]
        order = sorted(range(len(unreviewed)), key=lambda pos: (round(uncertainty[pos], 9), pos))
        for pos in order[:min(step, limit - len(reviewed))]:
            i = unreviewed[pos]
            kept, added = combine(rules[i], dict(zip(codes, map(float, proba[pos]))), t_add)
            proposed = kept | added
            labels = {c: int(c in gold[i]) for c in proposed if c in known}
            labels.update({c: 1 for c in gold[i] if c in known})
            reviewed.append(i)
            if labels:
                decisions.append(Example(passages[i].tokens, evidence.get(passages[i].id, {}), labels))
        scorer = fit(decisions, reviewed)
    with project.store.read() as conn:
        names = [name for (name,) in conn.execute(select(t.documents.c.name).where(t.documents.c.id.in_(sorted(doc_ids)))
                                                  .order_by(t.documents.c.id))]
    tuned = tuned_documents(project)
    return CurveReport(rows=rows, documents=names, passages=n, step=step, threshold=threshold,
                       tuned=[tuned[d] for d in sorted(doc_ids) if d in tuned])
