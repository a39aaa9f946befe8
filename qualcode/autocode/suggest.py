"""Learned suggestions: a linear model trained on the researcher's own codings (issue 7).

Training data. A passage is a training example when its document has at least one
accepted coding (of ``coder``, when given): such a document counts as coded through, so
every passage of it that does not carry a code is a negative example for that code (the
same reading as ``qualcode evaluate`` gives a gold file). Positives are accepted codings of
any origin (manual codings are created accepted); a coding narrower than a passage marks
the passage(s) it overlaps. Documents without any accepted coding are unlabelled: they are
what ``apply`` makes suggestions for.

Features are TF-IDF weights of the stored jieba tokens (segmented with the project
dictionary at import; never re-segmented here) and of character 2-3-grams within clauses,
both over script-folded text, so traditional and simplified transcripts share features.
The classifier is one linear SVM per code (one-vs-rest) with Platt-calibrated
probabilities; every step is deterministic for a given ``random_state``.

Suggestions are proposals keyed by (document, start, end, code) with origin ``model``,
unit ``passage``, coder ``suggest``, the probability in ``score`` and
``{"model", "probability", "top_features"}`` in ``evidence``. Re-running ``apply`` is
idempotent; accepted and rejected codings are never touched; a (passage, code) that was
rejected (whatever proposed it) or already carries an accepted coding is not proposed.

The estimator and its features are in ``qualcode.autocode.estimator``. This module is
imported only inside the ``suggest`` commands (it brings ``sklearn.base`` with the
estimator; joblib and the rest of scikit-learn are imported inside functions):
``qualcode --help`` stays fast.
"""
from __future__ import annotations

import hashlib
import json
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from qualcode import __version__
from qualcode.autocode.combined import (
    T_ADD,
    T_LOW,
    CombinedScorer,
    Evidence,
    Example,
    code_term_lists,
    codebook_examples,
    combine,
)
from qualcode.autocode.estimator import (  # `x as x`: explicit re-exports, see below
    DEFAULT_THRESHOLD,
    PassageClassifier,
    _clause_text as _clause_text,
    _word_tokens as _word_tokens,
    make_vectorizer,
)
from qualcode.autocode.evaluate import gold_documents, macro_average
from qualcode.autocode.rules import compile_rules
from qualcode.autocode.run import AUTOCODER, SUGGESTER, rules_document, sync_proposals
from qualcode.errors import ConfigError, NotFound, QualcodeError, not_found
from qualcode.store import queries, schema as t, utcnow
from qualcode.store.queries import passage_ref
from qualcode.text.script import fold
from qualcode.text.segment import pack_tokens, token_spans

# Models saved before the estimator moved to qualcode.autocode.estimator pickled it and its
# feature callables as qualcode.autocode.suggest.{PassageClassifier,_word_tokens,_clause_text}:
# those names stay importable from here so that such models still load.

MODEL_DIR = "models"
MODEL_FILE = "suggest.joblib"
SIDECAR_FILE = "suggest.json"
MODEL_FORMAT = 1

EVAL_COLUMNS = ["level", "code", "examples", "model_precision", "model_recall", "model_f1",
                "rule_precision", "rule_recall", "rule_f1", "prefer",
                "combined_precision", "combined_recall", "combined_f1"]
SCORER_FILE = "scorer.joblib"
SCORER_SIDECAR = "scorer.json"
SIMILAR_COLUMNS = ["rank", "passage", "document", "speaker", "similarity", "text"]


class ModelMismatch(QualcodeError):
    """The stored model does not fit the project's current codebook."""


# ---------------------------------------------------------------------------- store access


@dataclass
class Passage:
    id: int
    document_id: int
    seq: int
    start: int
    end: int
    tokens: list[str]

    @property
    def ref(self) -> str:
        return passage_ref(self.document_id, self.seq)


def load_passages(store, doc_ids: Iterable[int] | None = None) -> list[Passage]:
    """Passages in document order with their stored tokens (script-folded), not re-segmented."""
    p, d = t.passages, t.documents
    out = []
    with store.read() as conn:
        dq = select(d.c.id, d.c.text).order_by(d.c.id)
        if doc_ids is not None:
            dq = dq.where(d.c.id.in_(sorted(doc_ids)))
        for doc_id, text in conn.execute(dq).all():
            folded = fold(text)  # one-for-one: offsets are unchanged
            for pid, seq, start, end, blob in conn.execute(
                select(p.c.id, p.c.seq, p.c.start, p.c.end, p.c.tokens).where(p.c.document_id == doc_id).order_by(p.c.seq)
            ):
                tokens = [folded[s:e] for s, e in token_spans(blob, start)]
                if sum(len(x) for x in tokens) != end - start:  # tokens lost: fall back to the text
                    tokens = [folded[start:end]]
                out.append(Passage(pid, doc_id, seq, start, end, tokens))
    return out


def _passages_overlapping(by_doc: dict[int, list[Passage]], doc_id: int, start: int, end: int) -> list[Passage]:
    rows = by_doc.get(doc_id, [])
    starts = [r.start for r in rows]
    lo = max(bisect_right(starts, start) - 1, 0)
    hi = bisect_left(starts, max(end, start + 1))
    return [r for r in rows[lo:hi] if r.start < max(end, start + 1) and r.end > start]


def _codings_by_passage(conn, by_doc, statuses: tuple[str, ...], coder: str | None = None,
                        doc_ids: Iterable[int] | None = None) -> dict[int, set[str]]:
    """passage id → codes of the codings with these statuses that cover (part of) it."""
    k = t.codings
    q = select(k.c.document_id, k.c.passage_id, k.c.start, k.c.end, k.c.code).where(
        k.c.status.in_(statuses), k.c.absent == 0)  # a coding marked absent is no example of its code
    if coder:
        q = q.where(k.c.coder == coder)
    if doc_ids is not None:
        q = q.where(k.c.document_id.in_(sorted(doc_ids)))
    ids = {p.id for rows in by_doc.values() for p in rows}
    out: dict[int, set[str]] = {}
    for doc_id, pid, start, end, code in conn.execute(q):
        targets = [pid] if pid in ids else [p.id for p in _passages_overlapping(by_doc, doc_id, start, end)]
        for target in targets:
            out.setdefault(target, set()).add(code)
    return out


# ---------------------------------------------------------------------------- training set


@dataclass
class TrainingSet:
    passages: list[Passage]
    labels: list[set[str]]
    codes: list[str]  # the codes asked for (all of the codebook's by default)
    documents: list[int]
    coder: str | None
    outside_codebook: dict[str, int] = field(default_factory=dict)  # accepted codes not in the codebook

    def counts(self) -> dict[str, int]:
        out = {c: 0 for c in self.codes}
        for ls in self.labels:
            for c in ls:
                out[c] = out.get(c, 0) + 1
        return out


def _select_codes(codebook, codes: Sequence[str] | None) -> list[str]:
    paths = [c.path for c in codebook.codes]
    if not codes:
        return paths
    chosen: list[str] = []
    for raw in codes:
        for code in (s.strip().strip("/") for s in raw.split(",")):
            if not code:
                continue
            if code not in paths:
                raise not_found("code", code, paths)
            for p in paths:
                if (p == code or p.startswith(code + "/")) and p not in chosen:
                    chosen.append(p)
    return [p for p in paths if p in chosen]


def _decided_documents(project, statuses: tuple[str, ...], coder: str | None):
    """The documents with a coding in ``statuses`` (by ``coder``), their passages, and the
    passages grouped by document."""
    k = t.codings
    with project.store.read() as conn:
        q = select(k.c.document_id).where(k.c.status.in_(statuses)).distinct()
        if coder:
            q = q.where(k.c.coder == coder)
        doc_ids = sorted(i for (i,) in conn.execute(q))
    passages = load_passages(project.store, doc_ids)
    by_doc: dict[int, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.document_id, []).append(p)
    return doc_ids, passages, by_doc


def training_set(project, codebook, codes: Sequence[str] | None = None, coder: str | None = None) -> TrainingSet:
    """Passages of the documents with accepted codings, labelled with their accepted codes."""
    selected = _select_codes(codebook, codes)
    wanted = set(selected)
    doc_ids, passages, by_doc = _decided_documents(project, ("accepted",), coder)
    with project.store.read() as conn:
        accepted = _codings_by_passage(conn, by_doc, ("accepted",), coder=coder, doc_ids=doc_ids)
    known = {c.path for c in codebook.codes}
    outside: dict[str, int] = {}
    labels = []
    for p in passages:
        codes_here = accepted.get(p.id, set())
        for c in codes_here - known:
            outside[c] = outside.get(c, 0) + 1
        labels.append(codes_here & wanted)
    return TrainingSet(passages, labels, selected, doc_ids, coder, dict(sorted(outside.items())))


def fingerprint(project, ts: TrainingSet, params: dict) -> str:
    """sha256 over the documents' content, the labelled passages, the codes and the parameters."""
    with project.store.read() as conn:
        hashes = dict(conn.execute(select(t.documents.c.id, t.documents.c.content_hash)
                                   .where(t.documents.c.id.in_(ts.documents))).all())
    blob = json.dumps({
        "examples": [[hashes[p.document_id], p.start, p.end, sorted(ls)] for p, ls in zip(ts.passages, ts.labels)],
        "codes": ts.codes, "coder": ts.coder, "params": params,
    }, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=list)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def shortfalls(ts: TrainingSet, need: int) -> list[dict]:
    """Codes that cannot be learned: how many examples they have and how many more they need.

    Codes with no example at all are listed only when they were asked for by name.
    """
    n = len(ts.passages)
    out = []
    for code, pos in ts.counts().items():
        if code not in ts.codes:
            continue
        neg = n - pos
        if pos >= need and neg >= need:
            continue
        out.append({"code": code, "positives": pos, "negatives": neg,
                    "more_positives": max(need - pos, 0), "more_negatives": max(need - neg, 0)})
    return out


def shortfall_message(row: dict) -> str:
    """e.g. 'governance/legitimacy: 2 passages, needs 3 more'."""
    if row["more_positives"]:
        return f"{row['code']}: {row['positives']} coded passage{'s' if row['positives'] != 1 else ''}, needs {row['more_positives']} more"
    return f"{row['code']}: only {row['negatives']} passages without it, needs {row['more_negatives']} more"


# ---------------------------------------------------------------------------- train


@dataclass
class TrainReport:
    model: str
    path: Path
    codebook_version: str
    fingerprint: str
    passages: int
    documents: int
    codes: list[str]  # learned
    examples: dict[str, int]
    skipped: list[dict]  # see shortfalls()
    unlisted: int  # codes with no example at all (not asked for by name), not reported one by one
    outside_codebook: dict[str, int]


def model_paths(project) -> tuple[Path, Path]:
    base = project.root / MODEL_DIR
    return base / MODEL_FILE, base / SIDECAR_FILE


def _no_training_data(ts: TrainingSet, coder: str | None) -> QualcodeError:
    who = f" by coder {coder!r}" if coder else ""
    return QualcodeError(f"no accepted codings{who} to learn from",
                         hint="code passages by hand or accept proposals first (qualcode code add / qualcode review)")


def train(project, codes: Sequence[str] | None = None, coder: str | None = None, codebook=None,
          **params) -> TrainReport:
    """Fit a PassageClassifier on the project's accepted codings and store it in models/."""
    import sklearn

    codebook = codebook or project.codebook()
    ts = training_set(project, codebook, codes, coder)
    if not ts.passages:
        raise _no_training_data(ts, coder)
    est = PassageClassifier(**params)
    need = max(est.min_examples, est.calibration_folds)
    skipped = shortfalls(ts, need)
    explicit = bool(codes)
    counts = ts.counts()
    learnable = [c for c in ts.codes if c not in {s["code"] for s in skipped}]
    if not learnable:
        msgs = "; ".join(shortfall_message(s) for s in skipped if explicit or s["positives"]) or "no code has an example"
        raise QualcodeError(f"too few examples to learn any code ({msgs})",
                            hint=f"each code needs at least {need} coded passages and {need} without it")
    est.fit([p.tokens for p in ts.passages], [ls & set(learnable) for ls in ts.labels])
    fp = fingerprint(project, ts, est.get_params())
    model_id = f"suggest-{fp[:12]}"
    reported = [s for s in skipped if explicit or s["positives"]]
    sidecar = {
        "format": MODEL_FORMAT,
        "model": model_id,
        "created_at": utcnow(),
        "codebook": str(codebook.source) if getattr(codebook, "source", None) else None,
        "codebook_version": codebook.version,
        "fingerprint": fp,
        "coder": coder,
        "codes": est.classes_,
        "examples": {c: counts[c] for c in est.classes_},
        "skipped": reported,
        "passages": len(ts.passages),
        "documents": ts.documents,
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in est.get_params().items()},
        "scikit_learn": sklearn.__version__,
        "qualcode": __version__,
    }
    model_path, sidecar_path = model_paths(project)
    _save_model(model_path, sidecar_path, {"model": model_id, "estimator": est}, sidecar)
    return TrainReport(
        model=model_id, path=model_path, codebook_version=codebook.version, fingerprint=fp,
        passages=len(ts.passages), documents=len(ts.documents), codes=list(est.classes_),
        examples={c: counts[c] for c in est.classes_}, skipped=reported,
        unlisted=len(skipped) - len(reported), outside_codebook=ts.outside_codebook,
    )


def _save_model(model_path: Path, sidecar_path: Path, payload: dict, sidecar: dict) -> None:
    """Write a joblib model and its JSON sidecar under temporary names, then swap both:
    readers never see a half-written model."""
    import joblib

    model_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_model = model_path.with_name(model_path.name + ".part")
    tmp_side = sidecar_path.with_name(sidecar_path.name + ".part")
    joblib.dump(payload, tmp_model)
    tmp_side.write_text(json.dumps(sidecar, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp_model.replace(model_path)
    tmp_side.replace(sidecar_path)


def _read_sidecar(sidecar_path: Path, what: str, train: str) -> dict:
    """A stored model's sidecar (JSON); NotFound when none was trained."""
    if not sidecar_path.is_file():
        raise NotFound(f"this project has no {what}", hint=f"train one: {train}")
    try:
        return json.loads(sidecar_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise QualcodeError(f"{sidecar_path}: unreadable {what} description ({exc})",
                            hint=f"retrain: {train}") from None


def model_info(project) -> dict:
    """The stored model's sidecar (JSON); NotFound when no model was trained."""
    return _read_sidecar(model_paths(project)[1], "suggestion model", "qualcode suggest train")


def load_model(project, codebook=None) -> tuple[dict, PassageClassifier]:
    """The stored model and its sidecar; refuses a model trained on another codebook version."""
    import joblib

    info = model_info(project)
    codebook = codebook or project.codebook()
    if info.get("codebook_version") != codebook.version:
        raise ModelMismatch(
            f"the suggestion model was trained on codebook version {str(info.get('codebook_version'))[:12]}, "
            f"but the codebook is now version {codebook.version[:12]}",
            hint="retrain it: qualcode suggest train",
        )
    model_path, _ = model_paths(project)
    try:
        payload = joblib.load(model_path)
    except Exception as exc:  # missing, truncated or from an incompatible scikit-learn
        raise QualcodeError(f"{model_path}: cannot load the suggestion model ({exc})",
                            hint="retrain it: qualcode suggest train") from None
    if not isinstance(payload, dict) or payload.get("model") != info.get("model"):
        raise QualcodeError(f"{model_path} does not match {model_path.with_suffix('.json').name}",
                            hint="retrain it: qualcode suggest train")
    return info, payload["estimator"]


# ---------------------------------------------------------------------------- evaluate


@dataclass
class EvaluationReport:
    rows: list[dict]
    folds: list[tuple[list[int], list[int]]]  # (training document ids, test document ids) per fold
    passages: int
    documents: int
    threshold: float
    skipped: list[dict]
    unlisted: int
    tested: list[str] = field(default_factory=list)  # names of the documents scored (never tuned or trained on)
    tuned: list[str] = field(default_factory=list)  # names of the documents the rules were tuned on (never scored)
    tested_passages: int = 0


def _prf(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    r = lambda x: None if x is None else round(x, 3)  # noqa: E731
    return {"precision": r(precision), "recall": r(recall), "f1": r(f1)}


def tuned_documents(project, refs: Sequence[str] = ()) -> dict[int, str]:
    """Document id → name of the documents the rules were tuned on: ``refs`` (document names
    or ids, or gold CSV files whose documents count) plus ``[autocode] tuned_on`` in
    qualcode.toml."""
    setting = project.settings.get("autocode", {}).get("tuned_on", [])
    if isinstance(setting, str):
        setting = [setting]
    if not isinstance(setting, list):
        raise ConfigError("qualcode.toml: [autocode] tuned_on must be a list of document names or gold CSV files",
                          hint='e.g. tuned_on = ["corpus/gold/tune.csv"]')
    ids: list[int] = []
    for ref in [str(r) for r in setting] + list(refs):
        path = Path(ref) if Path(ref).is_absolute() else project.root / ref
        if ref.lower().endswith(".csv") and (path.is_file() or Path(ref).is_file()):
            ids += sorted(gold_documents(project.store, path if path.is_file() else Path(ref)))
        else:
            ids.append(project.document_id(ref))
    with project.store.read() as conn:
        names = dict(conn.execute(select(t.documents.c.id, t.documents.c.name).where(t.documents.c.id.in_(ids))).all())
    return {i: names[i] for i in sorted(set(ids))}


def _rule_evidence(project, codebook, passages: list[Passage]) -> dict[int, dict[str, Evidence]]:
    """passage id → code → what the rule auto-coder finds in it (passage units, run afresh)."""
    ruleset = compile_rules(codebook)
    out: dict[int, dict[str, Evidence]] = {}
    by_doc: dict[int, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.document_id, []).append(p)
    with project.store.read() as conn:
        for doc_id, rows in by_doc.items():
            text, case = conn.execute(
                select(t.documents.c.text, t.cases.c.name)
                .select_from(t.documents.outerjoin(t.cases, t.documents.c.case_id == t.cases.c.id))
                .where(t.documents.c.id == doc_id)).one()
            attrs = dict(conn.execute(select(t.attributes.c.key, t.attributes.c.value)
                                      .where(t.attributes.c.document_id == doc_id)).all())
            if case:
                attrs["case"] = case
            roles = dict(conn.execute(select(t.speakers.c.id, t.speakers.c.role).where(t.speakers.c.document_id == doc_id)).all())
            speaker = dict(conn.execute(select(t.passages.c.id, t.passages.c.speaker_id).where(t.passages.c.document_id == doc_id)).all())
            prows = [(p.id, p.start, p.end, speaker.get(p.id), pack_tokens(len(x) for x in p.tokens))
                     for p in sorted(rows, key=lambda p: p.start)]
            document, pids = rules_document(text, prows, {}, "passage", attrs, roles)
            for pid, hits in zip(pids, ruleset.match_document(document)):
                if hits:
                    out.setdefault(pid, {}).update((h.code, Evidence.from_hit(h)) for h in hits)
    return out


def _rule_hits(project, codebook, passages: list[Passage]) -> dict[int, set[str]]:
    """passage id → codes the rule auto-coder gives it (passage units, run afresh; negative
    evidence does not count)."""
    return {pid: {c for c, ev in found.items() if not ev.absent}
            for pid, found in _rule_evidence(project, codebook, passages).items()}


def group_folds(doc_of_passage: Sequence[int], n_splits: int) -> list[tuple[list[int], list[int]]]:
    """Passage-index folds grouped by document (GroupKFold): no document on both sides."""
    from sklearn.model_selection import GroupKFold

    idx = list(range(len(doc_of_passage)))
    return [(list(a), list(b)) for a, b in GroupKFold(n_splits=n_splits).split(idx, groups=list(doc_of_passage))]


def evaluate(project, codes: Sequence[str] | None = None, coder: str | None = None, folds: int = 5,
             threshold: float = DEFAULT_THRESHOLD, codebook=None, tuned_on: Sequence[str] = (),
             **params) -> EvaluationReport:
    """Cross-validated precision/recall/F1 per code (folds grouped by document), next to the
    rule auto-coder's and the combined scorer's on the same passages; micro and macro last.

    Honest comparison: only documents that neither the model was trained on (in that fold)
    nor the rules were tuned on (``tuned_on`` and ``[autocode] tuned_on``) are scored; the
    tuned documents are always on the training side. ``tested`` names the scored documents.
    """
    codebook = codebook or project.codebook()
    ts = training_set(project, codebook, codes, coder)
    if not ts.passages:
        raise _no_training_data(ts, coder)
    tuned = tuned_documents(project, tuned_on)
    if len(ts.documents) < 2:
        raise QualcodeError("cross-validation needs coded passages in at least 2 documents, found 1",
                            hint="code passages in another interview first")
    proto = PassageClassifier(**params)
    need = max(proto.min_examples, proto.calibration_folds)
    skipped = shortfalls(ts, need)
    explicit = bool(codes)
    reported = [s for s in skipped if explicit or s["positives"]]
    evaluated = [c for c in ts.codes if c not in {s["code"] for s in skipped}]
    if not evaluated:
        msgs = "; ".join(shortfall_message(s) for s in reported) or "no code has an example"
        raise QualcodeError(f"too few examples to evaluate any code ({msgs})",
                            hint=f"each code needs at least {need} coded passages and {need} without it")
    docs = [p.document_id for p in ts.passages]
    pool = [i for i, d in enumerate(docs) if d not in tuned]  # passages that may be scored
    pool_docs = sorted({docs[i] for i in pool})
    if not pool_docs:
        raise QualcodeError("every coded document was used to tune the rules: none is left to score both on",
                            hint="code another interview, or list fewer documents in [autocode] tuned_on")
    n_splits = min(int(folds), len(pool_docs))
    if n_splits < 2 and not tuned:
        raise QualcodeError("cross-validation needs at least 2 folds", hint="use --folds 2 or more")
    test_sets = [pool] if n_splits < 2 else [[pool[j] for j in b] for _, b in group_folds([docs[i] for i in pool], n_splits)]
    splits = []
    for test_idx in test_sets:
        held = set(test_idx)
        splits.append(([i for i in range(len(docs)) if i not in held], test_idx))
    wanted = set(evaluated)
    gold = [ls & wanted for ls in ts.labels]
    predicted: list[set[str]] = [set() for _ in ts.passages]
    combined: list[set[str]] = [set() for _ in ts.passages]
    evidence = _rule_evidence(project, codebook, ts.passages)
    seeds = codebook_examples(codebook, project.segmenter(codebook))
    examples = [Example(p.tokens, evidence.get(p.id, {}), {c: int(c in ls) for c in ts.codes})
                for p, ls in zip(ts.passages, ts.labels)]
    fold_docs = []
    for train_idx, test_idx in splits:
        fold_docs.append((sorted({docs[i] for i in train_idx}), sorted({docs[i] for i in test_idx})))
        scorer = CombinedScorer(ts.codes, random_state=proto.random_state or 0, term_lists=code_term_lists(codebook))
        scorer.fit(seeds + [examples[i] for i in train_idx])
        cproba = scorer.predict_proba([examples[i] for i in test_idx])
        for pos, i in enumerate(test_idx):
            fired = {c for c, ev in examples[i].rules.items() if not ev.absent}
            kept, added = combine(fired, dict(zip(scorer.codes, map(float, cproba[pos]))))
            combined[i] = kept | added
        est = PassageClassifier(**proto.get_params())
        est.fit([ts.passages[i].tokens for i in train_idx], [gold[i] for i in train_idx])
        if not est.classes_:
            continue
        proba = est.predict_proba([ts.passages[i].tokens for i in test_idx])
        for pos, i in enumerate(test_idx):
            predicted[i] = {c for j, c in enumerate(est.classes_) if proba[pos, j] >= threshold}
    rules = [{c for c, ev in evidence.get(p.id, {}).items() if not ev.absent} & wanted for p in ts.passages]
    tested = sorted(pool)
    gold_t = [gold[i] for i in tested]
    preds = {"model": [predicted[i] for i in tested], "rule": [rules[i] for i in tested],
             "combined": [combined[i] & wanted for i in tested]}

    rows: list[dict[str, Any]] = []
    totals = {name: [0, 0, 0] for name in preds}
    per_code: dict[str, list[tuple[int, int, int]]] = {name: [] for name in preds}
    for code in evaluated:
        row: dict[str, Any] = {"level": "code", "code": code, "examples": sum(code in g for g in gold_t)}
        for name, pred in preds.items():
            tp = sum(code in g and code in p for g, p in zip(gold_t, pred))
            fp = sum(code not in g and code in p for g, p in zip(gold_t, pred))
            fn = sum(code in g and code not in p for g, p in zip(gold_t, pred))
            for i, v in enumerate((tp, fp, fn)):
                totals[name][i] += v
            per_code[name].append((tp, fp, fn))
            row.update({f"{name}_{k}": v for k, v in _prf(tp, fp, fn).items()})
        row["prefer"] = _prefer(row["model_f1"], row["rule_f1"])
        rows.append(row)
    micro: dict[str, Any] = {"level": "micro", "code": "all codes", "examples": sum(r["examples"] for r in rows)}
    macro: dict[str, Any] = {"level": "macro", "code": "all codes", "examples": micro["examples"]}
    for name in preds:
        micro.update({f"{name}_{k}": v for k, v in _prf(*totals[name]).items()})
        # over every evaluated code, an undefined value counting 0, from unrounded values
        macro.update({f"{name}_{k}": None if v is None else round(v, 3)
                      for k, v in macro_average([c for c in per_code[name] if any(c)]).items()})
    for r in (micro, macro):
        r["prefer"] = _prefer(r["model_f1"], r["rule_f1"])
    rows += [micro, macro]
    with project.store.read() as conn:
        names = dict(conn.execute(select(t.documents.c.id, t.documents.c.name)
                                  .where(t.documents.c.id.in_(pool_docs))).all())
    return EvaluationReport(rows=rows, folds=fold_docs, passages=len(ts.passages), documents=len(ts.documents),
                            threshold=threshold, skipped=reported, unlisted=len(skipped) - len(reported),
                            tested=[names[d] for d in pool_docs], tuned=sorted(tuned.values()),
                            tested_passages=len(tested))


def _prefer(model_f1, rule_f1) -> str:
    m, r = model_f1 or 0.0, rule_f1 or 0.0
    if m == r:
        return "-" if m == 0 else "either"
    return "model" if m > r else "rules"


# ---------------------------------------------------------------------------- apply


@dataclass
class ApplyReport:
    model: str
    threshold: float
    top: int | None
    documents: int = 0
    passages: int = 0
    training_documents: int = 0  # documents the model learned from: not given suggestions
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    decided: int = 0  # accepted/rejected model codings left as they are
    already_coded: int = 0  # (passage, code) above threshold with an accepted or rejected coding already
    per_code: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"{self.added} added, {self.updated} updated, {self.removed} removed, "
                f"{self.unchanged} unchanged, {self.decided} decisions kept")


def apply(project, threshold: float = DEFAULT_THRESHOLD, top: int | None = None, codebook=None) -> ApplyReport:
    """Write the stored model's suggestions as proposals (see the module docstring)."""
    if not 0.0 <= threshold <= 1.0:
        raise QualcodeError(f"threshold {threshold} is not a probability", hint="use a value between 0 and 1")
    if top is not None and top < 1:
        raise QualcodeError(f"--top {top}: must be at least 1")
    info, est = load_model(project, codebook)
    version = info["codebook_version"]
    report = ApplyReport(model=info["model"], threshold=threshold, top=top)
    training_docs = set(info.get("documents", []))
    with project.store.read() as conn:
        all_docs = [i for (i,) in conn.execute(select(t.documents.c.id).order_by(t.documents.c.id))]
    report.training_documents = sum(d in training_docs for d in all_docs)
    targets = [d for d in all_docs if d not in training_docs]
    passages = load_passages(project.store, targets)
    by_doc: dict[int, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.document_id, []).append(p)
    if passages and est.classes_:
        M = est.transform([p.tokens for p in passages])
        proba = est._proba(M)
    else:
        M, proba = None, None
    row_of = {p.id: i for i, p in enumerate(passages)}
    for doc_id in targets:
        with project.store.transaction() as conn:
            _apply_document(conn, doc_id, by_doc.get(doc_id, []), row_of, M, proba, est, info["model"],
                            version, threshold, top, report)
    return report


def _apply_document(conn, doc_id, rows, row_of, M, proba, est, model_id, version, threshold, top, report) -> None:
    k = t.codings
    report.documents += 1
    report.passages += len(rows)
    by_doc = {doc_id: rows}
    accepted = _codings_by_passage(conn, by_doc, ("accepted",), doc_ids=[doc_id])
    rejected = {(r.start, r.end, r.code) for r in conn.execute(
        select(k.c.start, k.c.end, k.c.code).where(k.c.document_id == doc_id, k.c.status == "rejected"))}
    wanted: dict[tuple, dict] = {}
    for p in rows:
        if proba is None:
            break
        i = row_of[p.id]
        candidates = []
        for j, code in enumerate(est.classes_):
            prob = float(proba[i, j])
            if prob < threshold:
                continue
            if code in accepted.get(p.id, ()) or (p.start, p.end, code) in rejected:
                report.already_coded += 1
                continue
            candidates.append((-round(prob, 4), j, code, prob))
        candidates.sort()
        for _, j, code, prob in candidates[:top] if top else candidates:
            evidence = {"model": model_id, "probability": round(prob, 4),
                        "top_features": est.top_features(M, i, j)}
            wanted[(p.start, p.end, code)] = dict(
                document_id=doc_id, passage_id=p.id, start=p.start, end=p.end, code=code,
                score=f"{prob:.4f}", evidence=json.dumps(evidence, ensure_ascii=False, sort_keys=True),
            )
    wanted = {key: dict(w, rule=None, codebook_version=version) for key, w in wanted.items()}
    # the combined scorer's open proposals (origin model, coder autocode) are not this model's: kept as they are
    theirs = []
    for r in conn.execute(select(k.c.start, k.c.end, k.c.code, k.c.passage_id, k.c.score, k.c.evidence,
                                 k.c.codebook_version).where(
            k.c.document_id == doc_id, k.c.origin == "model", k.c.coder == AUTOCODER, k.c.status == "proposed")):
        if r.code in est.classes_ and (r.start, r.end, r.code) not in wanted:  # other codes: sync leaves them
            theirs.append(r.code)
            wanted[(r.start, r.end, r.code)] = dict(document_id=doc_id, passage_id=r.passage_id, start=r.start,
                                                    end=r.end, code=r.code, score=r.score, evidence=r.evidence,
                                                    rule=None, codebook_version=r.codebook_version)
    sync_proposals(conn, {doc_id: wanted}, origin="model", unit="passage", coder=SUGGESTER,
                   codes=set(est.classes_), version=version,
                   report=report, compare=("score", "evidence", "codebook_version"))
    report.unchanged -= len(theirs)  # counted by sync_proposals, but not this model's
    for code in theirs:
        report.per_code[code] -= 1
        if not report.per_code[code]:
            del report.per_code[code]


# ---------------------------------------------------------------------------- similar


@dataclass
class SimilarResult:
    query: dict
    rows: list[dict]


def similar(project, passage: str, k: int = 10) -> SimilarResult:
    """The ``k`` passages most like ``passage`` ('DOC:SEQ'): cosine similarity of TF-IDF
    token and character n-gram vectors over every passage of the project (no model needed)."""
    from sklearn.preprocessing import normalize

    if k < 1:
        raise QualcodeError(f"--k {k}: must be at least 1")
    pid = queries.resolve_passage(project.store, passage)
    passages = load_passages(project.store)
    index = next(i for i, p in enumerate(passages) if p.id == pid)
    M = normalize(make_vectorizer().fit_transform([p.tokens for p in passages]))
    sims = (M @ M[index:index + 1].T).toarray().ravel()
    order = sorted((i for i in range(len(passages)) if i != index and sims[i] > 0),
                   key=lambda i: (-round(float(sims[i]), 6), passages[i].document_id, passages[i].seq))[:k]
    info = {r["passage"]: r for r in queries.passages(project.store, doc_ids=sorted(
        {passages[i].document_id for i in order} | {passages[index].document_id}))}
    rows = []
    for rank, i in enumerate(order, start=1):
        r = info[passages[i].ref]
        rows.append({"rank": rank, "passage": r["passage"], "document": r["document"], "speaker": r["speaker"],
                     "similarity": round(float(sims[i]), 3), "text": r["text"]})
    q = info[passages[index].ref]
    return SimilarResult(query={"passage": q["passage"], "document": q["document"], "speaker": q["speaker"],
                                "text": q["text"]}, rows=rows)


# ---------------------------------------------------------------------------- the combined scorer


@dataclass
class ScorerReport:
    model: str
    path: Path
    codebook_version: str
    codebook_examples: int
    decisions: int  # (passage, code) decisions learned from
    counts: dict[str, dict[str, int]]  # code → codebook_positive/negative, positive/negative
    rule_weights: dict[str, float]  # code → weight of "a rule for this code fired"


def _stored_evidence(conn, passage_ids: Sequence[int]) -> dict[int, dict[str, Evidence]]:
    """passage id → code → the evidence of the rule codings stored on it (any status)."""
    k = t.codings
    out: dict[int, dict[str, Evidence]] = {}
    ids = sorted(set(passage_ids))
    for at in range(0, len(ids), 500):
        q = select(k.c.passage_id, k.c.code, k.c.evidence, k.c.score, k.c.absent).where(
            k.c.origin == "rule", k.c.passage_id.in_(ids[at:at + 500]))
        for pid, code, evidence, score, absent in conn.execute(q):
            try:
                ev = Evidence.from_json(json.loads(evidence) if evidence else {}, score, absent)
            except ValueError:
                ev = Evidence.from_json({}, score, absent)
            old = out.setdefault(pid, {}).get(code)
            if old is None or ev.score > old.score:
                out[pid][code] = ev
    return out


def decision_examples(project, codebook, coder: str | None = None) -> list[Example]:
    """The researcher's decisions as examples: accepted (any origin, manual included) =
    positive, rejected = negative, per (passage, code); codes outside the codebook are left out."""
    known = {c.path for c in codebook.codes}
    doc_ids, passages, by_doc = _decided_documents(project, ("accepted", "rejected"), coder)
    with project.store.read() as conn:
        accepted = _codings_by_passage(conn, by_doc, ("accepted",), coder=coder, doc_ids=doc_ids)
        rejected = _codings_by_passage(conn, by_doc, ("rejected",), coder=coder, doc_ids=doc_ids)
        labelled = [p for p in passages if p.id in accepted or p.id in rejected]
        evidence = _stored_evidence(conn, [p.id for p in labelled])
    out = []
    for p in labelled:
        labels = {c: 0 for c in rejected.get(p.id, ()) if c in known}
        labels.update({c: 1 for c in accepted.get(p.id, ()) if c in known})  # accepted wins over a rejection
        if labels:
            out.append(Example(p.tokens, evidence.get(p.id, {}), labels))
    return out


BACKGROUND = 2000  # at most this many unlabelled passages as weak negatives


def background_examples(project, limit: int = BACKGROUND) -> list[Example]:
    """An even sample (every k-th, in document order) of the passages nobody decided on, with
    the evidence of the rule codings stored on them: the combined scorer's weak negatives."""
    k = t.codings
    with project.store.read() as conn:
        decided = {pid for (pid,) in conn.execute(select(k.c.passage_id).where(
            k.c.status.in_(("accepted", "rejected")), k.c.passage_id.is_not(None)))}
    passages = [p for p in load_passages(project.store) if p.id not in decided]
    every = max(1, -(-len(passages) // limit))
    sample = passages[::every]
    with project.store.read() as conn:
        evidence = _stored_evidence(conn, [p.id for p in sample])
    return [Example(p.tokens, evidence.get(p.id, {}), source="background") for p in sample]


def scorer_paths(project) -> tuple[Path, Path]:
    base = project.root / MODEL_DIR
    return base / SCORER_FILE, base / SCORER_SIDECAR


def train_scorer(project, codebook=None, coder: str | None = None, seed: int = 0) -> ScorerReport:
    """Fit the combined scorer on the codebook's examples and the decisions so far; store it in models/."""
    import sklearn

    codebook = codebook or project.codebook()
    seeds = codebook_examples(codebook, project.segmenter(codebook))
    decisions = decision_examples(project, codebook, coder)
    scorer = CombinedScorer([c.path for c in codebook.codes], random_state=seed,
                            term_lists=code_term_lists(codebook)).fit(seeds + decisions,
                                                                      background=background_examples(project))
    n_decisions = sum(len(e.labels) for e in decisions)
    blob = json.dumps([[e.tokens, sorted(e.labels.items())] for e in decisions] + [codebook.version, seed, coder],
                      ensure_ascii=False, sort_keys=True)
    model_id = "scorer-" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
    weights = scorer.rule_weights()
    sidecar = {
        "format": MODEL_FORMAT, "model": model_id, "created_at": utcnow(),
        "codebook_version": codebook.version, "coder": coder, "seed": seed,
        "codebook_examples": len(seeds), "decisions": n_decisions,
        "counts": scorer.counts_, "rule_weights": weights,
        "scikit_learn": sklearn.__version__, "qualcode": __version__,
    }
    model_path, sidecar_path = scorer_paths(project)
    _save_model(model_path, sidecar_path, {"model": model_id, "scorer": scorer}, sidecar)
    return ScorerReport(model_id, model_path, codebook.version, len(seeds), n_decisions, scorer.counts_, weights)


def scorer_info(project) -> dict:
    """The stored combined scorer's sidecar (JSON); NotFound when none was trained."""
    return _read_sidecar(scorer_paths(project)[1], "combined scorer", "qualcode suggest scorer train")


SCORER_COLUMNS = ["code", "codebook_positive", "codebook_negative", "positive", "negative", "rule_weight"]


def scorer_rows(info: dict) -> list[dict]:
    """One row per code of a stored scorer's sidecar (``suggest scorer show``)."""
    weights = info.get("rule_weights", {})
    return [{"code": code, **counts, "rule_weight": None if code not in weights else round(weights[code], 3)}
            for code, counts in info.get("counts", {}).items()]


def load_scorer(project, codebook) -> CombinedScorer | None:
    """The stored combined scorer, or None when there is none or it was trained on another
    codebook version (or cannot be read)."""
    import joblib

    model_path, sidecar_path = scorer_paths(project)
    try:
        info = json.loads(sidecar_path.read_text(encoding="utf-8"))
        if info.get("codebook_version") != codebook.version:
            return None
        payload = joblib.load(model_path)
    except Exception:  # missing, truncated or from an incompatible scikit-learn: train afresh
        return None
    if not isinstance(payload, dict) or payload.get("model") != info.get("model"):
        return None
    return payload["scorer"]


@dataclass
class CombineReport:
    """What ``attach_confidence`` did: rule proposals scored, of them low-confidence, and the
    scorer's own proposals (codes no rule found) added, updated, removed, left unchanged."""

    model: str = ""
    scored: int = 0
    low: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        return (f"confidence on {self.scored} open rule proposals ({self.low} below {T_LOW}, reviewed last); "
                f"codes no rule found, proposed at probability {T_ADD} or more: {self.added} added, "
                f"{self.updated} updated, {self.removed} removed, {self.unchanged} unchanged")


def attach_confidence(project, codebook=None, t_add: float = T_ADD) -> CombineReport:
    """The combined scorer over the project (the stored scorer, trained first when there is none
    for this codebook version; ``qualcode.autocode.scoring.scorer_setting`` says whether a
    project uses it):

    * every open rule proposal gets its probability in ``confidence`` (below ``T_LOW`` it is
      low-confidence: kept, ordered last by ``review --order confidence|uncertainty``);
    * every code no rule found in a passage whose probability is at least ``t_add`` is
      proposed: origin ``model``, coder ``autocode``, unit ``passage``, the probability in
      ``score`` and ``confidence``, ``{"scorer", "probability", "top_features"}`` in
      ``evidence``. Idempotent; decisions are never changed; a (passage, code) with an
      accepted coding (any origin, manual included) or any other coding of the same span and
      code (a rejected one, an open rule or ``suggest`` proposal) gets none.
    """
    codebook = codebook or project.codebook()
    k = t.codings
    scorer = load_scorer(project, codebook)
    if scorer is None:
        train_scorer(project, codebook)
        scorer = load_scorer(project, codebook)
    assert scorer is not None
    model_id = scorer_info(project)["model"]
    report = CombineReport(model=model_id)
    passages = load_passages(project.store)
    by_doc: dict[int, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.document_id, []).append(p)
    with project.store.read() as conn:
        evidence = _stored_evidence(conn, [p.id for p in passages])
        open_rule = conn.execute(select(k.c.id, k.c.passage_id, k.c.code).where(
            k.c.origin == "rule", k.c.status == "proposed", k.c.passage_id.is_not(None))).all()
        accepted = _codings_by_passage(conn, by_doc, ("accepted",))
        taken = conn.execute(select(k.c.id, k.c.document_id, k.c.start, k.c.end, k.c.code, k.c.origin, k.c.coder,
                                    k.c.status, k.c.score, k.c.evidence)).all()
    examples = [Example(p.tokens, evidence.get(p.id, {})) for p in passages]
    proba = scorer.predict_proba(examples) if examples else None
    row_of = {p.id: i for i, p in enumerate(passages)}
    column = {c: j for j, c in enumerate(scorer.codes)}
    values = []
    for r in open_rule:
        if r.passage_id in row_of and r.code in column and proba is not None:
            conf = round(float(proba[row_of[r.passage_id], column[r.code]]), 4)
            values.append({"cid": r.id, "conf": conf})
            report.low += conf < T_LOW
    report.scored = len(values)
    now = utcnow()
    wanted: dict[tuple, dict] = {}
    for i, p in enumerate(passages):
        if proba is None:
            break
        fired = {c for c, ev in examples[i].rules.items() if not ev.absent}
        _, added = combine(fired, {c: float(proba[i, j]) for c, j in column.items()}, t_add)
        for code in sorted(added):
            if code in accepted.get(p.id, ()):
                continue  # coded already (by hand or accepted): never a duplicate
            prob = float(proba[i, column[code]])
            ev = {"scorer": model_id, "probability": round(prob, 4),
                  "top_features": scorer.top_features(examples[i], code)}
            wanted[(p.document_id, p.start, p.end, code)] = dict(
                document_id=p.document_id, passage_id=p.id, start=p.start, end=p.end, code=code,
                score=f"{prob:.4f}", confidence=round(prob, 4), evidence=json.dumps(ev, ensure_ascii=False, sort_keys=True))
    stale, changed, new = [], [], []
    ours = [r for r in taken if r.origin == "model" and r.coder == AUTOCODER and r.status == "proposed"]
    for row in taken:  # a decision, or another proposal of the same span and code: none of ours there
        if not (row.origin == "model" and row.coder == AUTOCODER and row.status == "proposed"):
            wanted.pop((row.document_id, row.start, row.end, row.code), None)
    for row in ours:
        want = wanted.pop((row.document_id, row.start, row.end, row.code), None)
        if want is None:
            stale.append(row.id)
        elif (want["score"], want["evidence"]) != (row.score, row.evidence):
            changed.append({"cid": row.id, "s": want["score"], "e": want["evidence"], "conf": want["confidence"]})
        else:
            report.unchanged += 1
    new = [dict(w, coder=AUTOCODER, origin="model", status="proposed", unit="passage", rule=None,
                codebook_version=codebook.version, created_at=now, updated_at=now) for w in wanted.values()]
    report.added, report.updated, report.removed = len(new), len(changed), len(stale)
    with project.store.transaction() as conn:
        if values:
            conn.execute(update(k).where(k.c.id == bindparam("cid")).values(confidence=bindparam("conf")), values)
        if stale:
            conn.execute(delete(k).where(k.c.id.in_(stale)))
            conn.execute(delete(t.memos).where(t.memos.c.target_type == "coding",
                                               t.memos.c.target.in_([str(i) for i in stale])))
        if changed:
            conn.execute(update(k).where(k.c.id == bindparam("cid")).values(
                score=bindparam("s"), evidence=bindparam("e"), confidence=bindparam("conf"), updated_at=now), changed)
        if new:
            conn.execute(insert(k), new)
    return report
