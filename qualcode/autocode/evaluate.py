"""Precision, recall and F1 of proposals against a hand-coded gold standard.

Comparison is per (passage, code): a gold row marks its passage as carrying the code, and
so does a proposal. Only documents that appear in the gold file are scored, and every
passage of those documents counts as coded by the gold coder (absence = negative).
Stages roll codes up to their top-level parent.
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


def _scores(gold: set, pred: set) -> dict:
    tp, fp, fn = len(gold & pred), len(pred - gold), len(gold - pred)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (2 * precision * recall / (precision + recall)) if precision and recall else (0.0 if precision is not None and recall is not None else None)
    return {"gold": len(gold), "predicted": len(pred), "tp": tp, "fp": fp, "fn": fn,
            "precision": _r(precision), "recall": _r(recall), "f1": _r(f1)}


def _r(x):
    return None if x is None else round(x, 3)


def evaluate(store, gold_path: Path, origins=("rule",), statuses=()) -> list[dict]:
    """Rows per code, per stage, then micro and macro averages over codes."""
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
    per_code = [r for r in rows if r["level"] == "code"]
    macro = {}
    for k in ("precision", "recall", "f1"):
        defined = [r[k] for r in per_code if r[k] is not None]
        macro[k] = _r(sum(defined) / len(defined)) if defined else None
    rows.append({"level": "macro", "code": "all codes", "gold": len(gold), "predicted": len(pred),
                 "tp": None, "fp": None, "fn": None, **macro})
    return rows
