"""Apply a compiled codebook to stored passages or sentences and keep proposals in sync.

A proposal is keyed by (document, start, end, code, unit). Re-running is idempotent:
proposals still produced are left alone (their evidence refreshed), proposals no longer
produced are removed, new ones are added. Accepted or rejected rule codings are decisions:
they are never touched, so a rejected proposal is never proposed again. Manual, model and
imported codings are outside this module's reach.
"""
from __future__ import annotations

import gc
import json
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import delete, select, update

from qualcode.autocode.rules import Document, compile_rules
from qualcode.store import insert_rows, schema as t, utcnow
from qualcode.store.queries import (  # re-exported: their home is the store, which every feature uses
    AUTOCODER as AUTOCODER,
    SUGGESTER as SUGGESTER,
    sync_codes as sync_codes,
)
from qualcode.text.script import fold
from qualcode.text.segment import Segmenter, pack_tokens
from qualcode.vocabulary import CODING_UNITS

_to_json = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(..., ensure_ascii=False), without a new encoder per call
UNITS = CODING_UNITS


@dataclass
class AutocodeReport:
    unit: str
    codebook: str
    version: str
    documents: int = 0
    units: int = 0
    characters: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    decided: int = 0  # accepted/rejected proposals left as they are
    retokenized: int = 0
    per_code: dict[str, int] = field(default_factory=dict)
    changes: list[dict] = field(default_factory=list)  # filled on dry runs

    def summary(self) -> str:
        return (f"{self.added} added, {self.updated} updated, {self.removed} removed, "
                f"{self.unchanged} unchanged, {self.decided} decisions kept")


CHUNK = 50  # documents read, coded and written per transaction: few round trips, short write locks


def autocode(project, codebook, unit: str = "passage", dry_run: bool = False) -> AutocodeReport:
    """Propose codings for every document; see the module docstring for the guarantees."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}")
    ruleset = compile_rules(codebook)
    segmenter = project.segmenter(codebook)  # the codebook being applied: loaded once, its terms kept whole
    version = ruleset.version  # Codebook.version hashes the whole codebook: once per run, not per coding
    report = AutocodeReport(unit=unit, codebook=str(codebook.source), version=version)
    store = project.store
    if not dry_run:
        with store.transaction() as conn:
            sync_codes(conn, codebook, version)
    with store.read() as conn:
        doc_ids = [i for (i,) in conn.execute(select(t.documents.c.id).order_by(t.documents.c.id))]
    for at in range(0, len(doc_ids), CHUNK):
        with store.transaction() as conn, _no_cycle_collection():
            _autocode_documents(conn, doc_ids[at:at + CHUNK], ruleset, segmenter, version, unit, dry_run, report)
    return report


@contextmanager
def _no_cycle_collection():
    """Python's cycle collector paused while a chunk is coded: the chunk's many short-lived
    lists, tuples and hits form no cycles, yet with a chunk of documents alive at once the
    collector's passes over them cost about a tenth of the run; it resumes afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _retokenize(conn, doc_id: int, text: str, passage_rows, segmenter: Segmenter) -> list[tuple]:
    """Re-segment a document whose tokens came from an older user dictionary."""
    fresh = []
    for pid, start, end, speaker, _ in passage_rows:
        blob = pack_tokens(segmenter.token_lengths(text[start:end]))
        conn.execute(update(t.passages).where(t.passages.c.id == pid).values(tokens=blob))
        fresh.append((pid, start, end, speaker, blob))
    conn.execute(update(t.documents).where(t.documents.c.id == doc_id).values(dict_version=segmenter.version))
    return fresh


def _autocode_documents(conn, doc_ids: list[int], ruleset, segmenter, version, unit, dry_run, report) -> None:
    d, p = t.documents, t.passages
    docs = _rows(conn, select(d.c.id, d.c.text, d.c.dict_version, t.cases.c.name)
                 .select_from(d.outerjoin(t.cases, d.c.case_id == t.cases.c.id))
                 .where(d.c.id.in_(doc_ids)).order_by(d.c.id))
    attrs: dict[int, dict] = {i: {} for i in doc_ids}
    for doc_id, key, value in _rows(conn, select(t.attributes.c.document_id, t.attributes.c.key, t.attributes.c.value)
                                    .where(t.attributes.c.document_id.in_(doc_ids))):
        attrs[doc_id][key] = value
    roles = dict(_rows(conn, select(t.speakers.c.id, t.speakers.c.role).where(t.speakers.c.document_id.in_(doc_ids))))
    passages: dict[int, list[tuple]] = {i: [] for i in doc_ids}
    for row in _rows(conn, select(p.c.document_id, p.c.id, p.c.start, p.c.end, p.c.speaker_id, p.c.tokens)
                     .where(p.c.document_id.in_(doc_ids)).order_by(p.c.document_id, p.c.seq)):
        passages[row[0]].append(row[1:])
    sentences: dict[int, list] = {}
    if unit == "sentence":
        q = (select(t.sentences.c.passage_id, t.sentences.c.start, t.sentences.c.end)
             .join(p, p.c.id == t.sentences.c.passage_id)
             .where(p.c.document_id.in_(doc_ids)).order_by(t.sentences.c.passage_id, t.sentences.c.seq))
        for pid, s, e in _rows(conn, q):
            sentences.setdefault(pid, []).append((s, e))

    wanted: dict[int, dict[tuple, dict]] = {}
    evidence = _EvidenceJSON()
    documents = []
    for doc_id, text, dict_version, case in docs:
        rows = passages[doc_id]
        if dict_version != segmenter.version and not dry_run:
            rows = _retokenize(conn, doc_id, text, rows, segmenter)
            report.retokenized += 1
        if case:
            attrs[doc_id]["case"] = case
        documents.append(rules_document(text, rows, sentences, unit, attrs[doc_id], roles))
    # the chunk's documents matched at once: the array work of the rule evaluation is shared
    matched = ruleset.match_documents([document for document, _ in documents])
    for (doc_id, *_), (document, pids), document_hits in zip(docs, documents, matched):
        found = wanted[doc_id] = {}
        report.units += len(pids)
        report.characters += sum(end - start for start, end in document.spans)
        for (start, end), pid, hits in zip(document.spans, pids, document_hits):
            if not hits:
                continue
            for hit, encoded in zip(hits, evidence.unit(hits, start)):
                found[(start, end, hit.code)] = dict(
                    document_id=doc_id, passage_id=pid, start=start, end=end, code=hit.code, rule=hit.rule,
                    evidence=encoded, score=f"{hit.score:g}", absent=int(hit.absent),
                )
        report.documents += 1

    codes = {c.path for c in ruleset.codebook.codes}
    sync_proposals(conn, wanted, origin="rule", unit=unit, coder=AUTOCODER, codes=codes,
                   version=version, report=report, dry_run=dry_run, compare=("rule", "evidence", "score", "absent"))


def _rows(conn, query) -> list[tuple]:
    """A query's rows as the DB-API cursor's plain tuples (no SQLAlchemy Row per row): for
    columns that need no result processing (integers, strings, bytes)."""
    result = conn.execute(query)
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    return rows


class _EvidenceJSON:
    """The evidence of a unit's hits as ``_to_json({"rule", "score", "terms"})`` gives it, byte
    for byte, built from strings encoded once per run (rule ids and terms repeat)."""

    def __init__(self):
        self._strings: dict[str, str] = {}

    def _string(self, value: str) -> str:
        encoded = self._strings.get(value)
        if encoded is None:
            encoded = self._strings[value] = _to_json(value)
        return encoded

    def unit(self, hits, start: int) -> list[str]:
        """One JSON text per hit; evidence offsets move from the unit to the document (+ ``start``)."""
        out = []
        string = self._string
        for hit in hits:
            score = hit.score
            if type(score) is not float or score != score or score in (_INF, -_INF):
                # not a plain finite float: let the encoder write it (NaN, Infinity, int)
                out.append(_to_json({"rule": hit.rule, "score": score,
                                     "terms": [[term, start + s, start + e] for term, s, e in hit.evidence]}))
                continue
            terms = ", ".join(f"[{string(term)}, {start + s}, {start + e}]" for term, s, e in hit.evidence)
            out.append(f'{{"rule": {string(hit.rule)}, "score": {score!r}, "terms": [{terms}]}}')
        return out


_INF = float("inf")


def rules_document(text: str, passage_rows, sentence_rows: dict, unit: str, attrs: dict, roles: dict):
    """The ``rules.Document`` of one stored document's passages or sentences, and each unit's passage id.

    ``passage_rows`` are (id, start, end, speaker id, packed tokens) in document order;
    ``sentence_rows`` maps a passage id to its sentences' (start, end), for ``unit="sentence"``.
    """
    blobs = [row[4] for row in passage_rows]
    lengths = np.frombuffer(b"".join(blobs), dtype=np.uint32).astype(np.int64)
    counts = np.array([len(b) // 4 for b in blobs], dtype=np.int64)
    starts = np.array([row[1] for row in passage_rows], dtype=np.int64)
    # token ends in the document: each passage's start plus the running length of its tokens
    running = np.cumsum(lengths)
    before = np.concatenate([[0], running])[np.cumsum(counts) - counts]
    token_ends = running + np.repeat(starts - before, counts)
    if unit == "passage":
        spans = [(row[1], row[2]) for row in passage_rows]
        pids = [row[0] for row in passage_rows]
        unit_roles = [roles.get(row[3]) for row in passage_rows]
    else:
        spans, pids, unit_roles = [], [], []
        for pid, _, _, speaker, _ in passage_rows:
            for span in sentence_rows.get(pid, ()):
                spans.append(span)
                pids.append(pid)
                unit_roles.append(roles.get(speaker))
    return Document(text, spans, token_ends, unit_roles, attrs, unit, fold(text)), pids


def sync_proposals(conn, wanted: dict[int, dict[tuple, dict]], *, origin: str, unit: str, coder: str,
                   codes: set[str], version: str | None, report, dry_run: bool = False,
                   compare: tuple[str, ...] = ("rule", "evidence", "score")) -> None:
    """Make the proposals of ``origin``/``unit`` for ``codes`` in each document equal ``wanted``
    without touching decisions.

    Only proposals of ``codes`` (the codebook or model being applied) are in play: applying
    another codebook leaves the proposals of codes it does not have as they are.

    ``wanted`` maps a document id to a dict of (start, end, code) -> coding values. Proposals no
    longer wanted are removed (with their memos), changed ones updated in place, new ones added;
    accepted or rejected rows are decisions and stay exactly as they are, so a rejected proposal
    never comes back. A span somebody already coded by hand or accepted gets no new proposal;
    a proposal already open on it stays open (other coders of a team still decide it).
    ``report`` counts.
    """
    k = t.codings
    doc_ids = list(wanted)
    if not doc_ids:
        return
    settled: dict[int, set[tuple]] = {i: set() for i in doc_ids}  # still produced, but coded by hand
    for doc_id, start, end, code in _rows(conn, select(k.c.document_id, k.c.start, k.c.end, k.c.code).where(
            k.c.document_id.in_(doc_ids), k.c.origin != origin, k.c.status == "accepted")):
        if wanted[doc_id].pop((start, end, code), None) is not None:
            settled[doc_id].add((start, end, code))
    existing: dict[int, list] = {i: [] for i in doc_ids}
    names = ("id", "document_id", "start", "end", "code", "status", *compare)
    for fetched in _rows(conn, select(*(k.c[c] for c in names))
                         .where(k.c.document_id.in_(doc_ids), k.c.origin == origin, k.c.unit == unit).order_by(k.c.id)):
        if fetched[4] in codes:
            existing[fetched[1]].append(dict(zip(names, fetched)))
    now = utcnow()
    stale, new = [], []
    changes = getattr(report, "changes", None) if dry_run else None
    for doc_id in doc_ids:
        seen = set()
        for row in existing[doc_id]:
            key = (row["start"], row["end"], row["code"])
            seen.add(key)
            if row["status"] != "proposed":
                report.decided += 1  # a decision: never re-proposed, never altered
                continue
            want = wanted[doc_id].get(key)
            if want is None and key in settled[doc_id]:
                # The rules still propose it, but someone coded this span by hand meanwhile: no new
                # proposal is made for it, yet the open one stays (in a team it is open for the others).
                report.unchanged += 1
            elif want is None:
                stale.append(row["id"])
                report.removed += 1
                if changes is not None:
                    changes.append({"change": "remove", "document": doc_id, "start": row["start"],
                                    "end": row["end"], "code": row["code"]})
            elif any(want.get(c) != row[c] for c in compare):
                report.updated += 1
                if not dry_run:
                    values = {c: want.get(c) for c in compare}
                    values.update(passage_id=want.get("passage_id"), codebook_version=version, updated_at=now)
                    conn.execute(update(k).where(k.c.id == row["id"]).values(**values))
            else:
                report.unchanged += 1
        added = [w for key, w in wanted[doc_id].items() if key not in seen]
        for w in wanted[doc_id].values():
            report.per_code[w["code"]] = report.per_code.get(w["code"], 0) + 1
        report.added += len(added)
        new += added
        if changes is not None:
            changes += [{"change": "add", "document": doc_id, "start": w["start"], "end": w["end"], "code": w["code"]}
                        for w in added]
    if dry_run:
        return
    if stale:
        conn.execute(delete(k).where(k.c.id.in_(stale)))
        # memos on a withdrawn proposal go with it (ids may be reused by later codings)
        conn.execute(delete(t.memos).where(t.memos.c.target_type == "coding",
                                           t.memos.c.target.in_([str(i) for i in stale])))
    if new:
        fixed = dict(coder=coder, origin=origin, status="proposed", unit=unit, codebook_version=version,
                     created_at=now, updated_at=now)
        own = tuple(c for c in new[0] if c not in fixed)
        same = tuple(fixed.values())
        insert_rows(conn, k, own + tuple(fixed), [tuple(w[c] for c in own) + same for w in new])
