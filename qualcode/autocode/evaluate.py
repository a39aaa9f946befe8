"""Precision, recall and F1 of proposals against a hand-coded gold standard.

Comparison is per (passage, code): a gold row marks its passage as carrying the code, and
so does a proposal. Only documents that appear in the gold file are scored, and every
passage of those documents counts as coded by the gold coder (absence = negative).
Stages roll codes up to their top-level parent.

Averages. ``micro`` pools the counts of every code. ``macro`` is the unweighted mean of the
per-code precision, recall and F1 over **every code in the gold file or the predictions**
(the same set for all three), computed from unrounded values; a metric that is undefined
for a code (precision of a code never predicted, recall of a code not in the gold file)
counts as 0, as scikit-learn's ``precision_recall_fscore_support(average="macro",
zero_division=0)``. A code's F1 is ``2·tp / (2·tp + fp + fn)``: 0 when the code was
never predicted or never in the gold file. The per-code rows show an undefined precision
or recall as empty.
"""
from __future__ import annotations

import csv
from bisect import bisect_right
from pathlib import Path

from sqlalchemy import select

from qualcode.errors import ConfigError
from qualcode.store import schema as t

EVAL_COLUMNS = ["level", "code", "gold", "predicted", "tp", "fp", "fn", "precision", "recall", "f1"]


def _passage_index(store, names: set[str]) -> dict[str, tuple[int, str, list[int], list[int], list[int]]]:
    """document name -> (doc id, text, passage starts, passage ends, passage ids)."""
    out = {}
    with store.read() as conn:
        docs = conn.execute(select(t.documents.c.id, t.documents.c.name, t.documents.c.text)
                            .where(t.documents.c.name.in_(sorted(names)))).all()
        for doc_id, name, text in docs:
            rows = conn.execute(select(t.passages.c.id, t.passages.c.start, t.passages.c.end)
                                .where(t.passages.c.document_id == doc_id).order_by(t.passages.c.start)).all()
            out[name] = (doc_id, text, [r.start for r in rows], [r.end for r in rows], [r.id for r in rows])
    return out


def load_gold(store, path: Path) -> tuple[set[tuple[int, str]], set[int]]:
    """Gold (passage id, code) pairs and the ids of the documents the gold file covers."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the gold file ({exc})") from None
    missing = {"document", "start", "end", "code"} - set(rows[0].keys() if rows else ())
    if missing:
        raise ConfigError(f"{path}: gold file lacks column(s) {', '.join(sorted(missing))}",
                          hint="use the columns of 'qualcode export codings'")
    index = _passage_index(store, {r["document"] for r in rows})
    pairs: set[tuple[int, str]] = set()
    docs: set[int] = set()
    for line, r in enumerate(rows, start=2):
        if r["document"] not in index:
            raise ConfigError(f"{path}:{line}: document {r['document']!r} is not in this project",
                              hint="import it first, or fix the name")
        doc_id, text, starts, ends, pids = index[r["document"]]
        try:
            start, end = int(r["start"]), int(r["end"])
        except ValueError:
            raise ConfigError(f"{path}:{line}: start/end must be integers") from None
        quote = (r.get("text") or "").strip()
        if quote and text[start:end].strip() != quote:
            found = text.find(quote)
            if found < 0:
                raise ConfigError(f"{path}:{line}: the quoted text is not at {start}-{end} nor anywhere in {r['document']}",
                                  hint="the document changed since the gold file was made; re-check this row")
            start = found
        i = bisect_right(starts, start) - 1
        if i < 0 or start >= ends[i]:
            raise ConfigError(f"{path}:{line}: offset {start} is not inside a passage of {r['document']}")
        pairs.add((pids[i], r["code"].strip()))
        docs.add(doc_id)
    return pairs, docs


def gold_documents(store, path: Path) -> set[int]:
    """The ids of the documents a gold file covers."""
    return load_gold(store, Path(path))[1]


def predicted_pairs(store, doc_ids: set[int], origins: tuple[str, ...], statuses: tuple[str, ...]) -> set[tuple[int, str]]:
    k = t.codings
    query = select(k.c.passage_id, k.c.code).where(k.c.document_id.in_(sorted(doc_ids)), k.c.passage_id.is_not(None),
                                                    k.c.absent == 0)  # negative evidence does not predict the code
    if origins:
        query = query.where(k.c.origin.in_(origins))
    if statuses:
        query = query.where(k.c.status.in_(statuses))
    with store.read() as conn:
        return {(pid, code) for pid, code in conn.execute(query)}


def prf(tp: int, fp: int, fn: int) -> tuple[float | None, float | None, float]:
    """Unrounded precision, recall (None when undefined) and F1 (0 when undefined)."""
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return precision, recall, f1


def macro_average(counts: list[tuple[int, int, int]]) -> dict[str, float | None]:
    """Macro precision/recall/F1 over the codes whose (tp, fp, fn) are given: the mean of the
    unrounded per-code values, an undefined value counting 0 (``zero_division=0``)."""
    if not counts:
        return {"precision": None, "recall": None, "f1": None}
    per = [prf(*c) for c in counts]
    return {k: sum(v[i] or 0.0 for v in per) / len(per) for i, k in enumerate(("precision", "recall", "f1"))}


def _scores(gold: set, pred: set) -> dict:
    tp, fp, fn = len(gold & pred), len(pred - gold), len(gold - pred)
    precision, recall, f1 = prf(tp, fp, fn)
    return {"gold": len(gold), "predicted": len(pred), "tp": tp, "fp": fp, "fn": fn,
            "precision": _r(precision), "recall": _r(recall), "f1": _r(f1)}


def _r(x):
    return None if x is None else round(x, 3)


def scores_by_code(gold: set[tuple[int, str]], pred: set[tuple[int, str]]) -> dict[str, dict]:
    """Micro and macro precision/recall/F1 (unrounded) of (passage, code) pairs; macro over
    every code in ``gold`` ∪ ``pred``."""
    codes = sorted({c for _, c in gold | pred})
    counts = [(len({g for g in gold if g[1] == c} & pred), len({p for p in pred if p[1] == c} - gold),
               len({g for g in gold if g[1] == c} - pred)) for c in codes]
    p, r, f = prf(len(gold & pred), len(pred - gold), len(gold - pred))
    return {"micro": {"precision": p, "recall": r, "f1": f}, "macro": macro_average(counts)}


def evaluate(store, gold_path: Path, origins=("rule",), statuses=()) -> list[dict]:
    """Rows per code, per stage, then micro and macro averages over codes (macro: over every
    code in the gold file or the predictions, an undefined value counting 0)."""
    gold, docs = load_gold(store, Path(gold_path))
    pred = predicted_pairs(store, docs, tuple(origins), tuple(statuses))
    rows = []
    codes = sorted({c for _, c in gold | pred})
    for code in codes:
        rows.append({"level": "code", "code": code, **_scores({g for g in gold if g[1] == code}, {p for p in pred if p[1] == code})})
    stage = lambda pairs: {(pid, code.split("/")[0]) for pid, code in pairs}  # noqa: E731
    gs, ps = stage(gold), stage(pred)
    for top in sorted({c for _, c in gs | ps}):
        rows.append({"level": "stage", "code": top, **_scores({g for g in gs if g[1] == top}, {p for p in ps if p[1] == top})})
    rows.append({"level": "micro", "code": "all codes", **_scores(gold, pred)})
    # every code in gold ∪ predicted, undefined = 0, from unrounded values (module docstring)
    macro = {k: _r(v) for k, v in macro_average([(r["tp"], r["fp"], r["fn"]) for r in rows
                                                 if r["level"] == "code"]).items()}
    rows.append({"level": "macro", "code": "all codes", "gold": len(gold), "predicted": len(pred),
                 "tp": None, "fp": None, "fn": None, **macro})
    return rows
