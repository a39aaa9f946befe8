"""Bring another copy of a project's coders, codings and memos into this one.

Documents are matched by content hash, so the copies may have imported them in another
order or under other names. A coding is the same coding when its document, span, code,
coder, origin and unit match; if both copies have it with different statuses (one coder
accepted a proposal in one copy and rejected it in the other) that is a conflict: it is
reported and this project's version is kept. Undecided proposals are not copied (run
``autocode`` here to make them). Everything brought in is one undoable action.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select

from qualcode import annotate
from qualcode.annotate.audit import Event, record
from qualcode.errors import QualcodeError
from qualcode.project import Project
from qualcode.store import queries, schema as t

CONFLICT_COLUMNS = ["document", "passage", "start", "end", "code", "coder", "ours", "theirs", "coding"]


@dataclass
class MergeReport:
    source: str
    documents_matched: int = 0
    documents_missing: list[str] = field(default_factory=list)  # theirs, not in this project
    coders: list[str] = field(default_factory=list)  # everyone who coded, decided or wrote a memo there
    codings_added: int = 0
    codings_unchanged: int = 0
    proposals_skipped: int = 0
    conflicts: list[dict] = field(default_factory=list)
    memos_added: int = 0
    memos_unchanged: int = 0
    memos_skipped: int = 0  # their target is not in this project
    unknown_codes: list[str] = field(default_factory=list)
    audit_id: int | None = None

    def summary(self) -> str:
        return (f"{self.codings_added} codings added, {self.codings_unchanged} unchanged, "
                f"{len(self.conflicts)} conflicts; {self.memos_added} memos added, {self.memos_unchanged} unchanged")


def _key(r) -> tuple:
    return (r["start"], r["end"], r["code"], r["coder"], r["origin"], r["unit"] or "")


def merge_project(project, other: str | Path, coder: str | None = None) -> MergeReport:
    """Merge the project at ``other`` into ``project``; see the module docstring."""
    coder = annotate.coder_name(project, coder)
    source = Project(Path(other))  # the directory itself, not a parent: merging the wrong project is costly
    try:
        if source.root == project.root:
            raise QualcodeError("cannot merge a project into itself")
        return _merge(project, source, coder)
    finally:
        source.close()


def _merge(project, source, coder: str) -> MergeReport:
    report = MergeReport(str(source.root))
    d, p, k, m = t.documents, t.passages, t.codings, t.memos
    with source.store.read() as sconn:
        their_docs = [dict(r) for r in sconn.execute(select(d.c.id, d.c.name, d.c.content_hash).order_by(d.c.id)).mappings()]
        their_passages = {r.id: (r.document_id, r.start, r.seq) for r in sconn.execute(select(p.c.id, p.c.document_id, p.c.start, p.c.seq))}
        their_codings = [dict(r) for r in sconn.execute(select(k).order_by(k.c.id)).mappings()]
        their_memos = [dict(r) for r in sconn.execute(select(m).order_by(m.c.id)).mappings()]
    try:
        codebook = project.codebook()
    except QualcodeError:
        codebook = None
    now_ins, ins_memos = [], []
    with project.store.transaction() as conn:
        by_hash: dict[str, int] = {}
        for r in conn.execute(select(d.c.id, d.c.content_hash).order_by(d.c.id)):
            by_hash.setdefault(r.content_hash, r.id)
        doc_map = {}
        for doc in their_docs:
            if doc["content_hash"] in by_hash:
                doc_map[doc["id"]] = by_hash[doc["content_hash"]]
            else:
                report.documents_missing.append(doc["name"])
        report.documents_matched = len(doc_map)
        our_names = {r.id: r.name for r in conn.execute(select(d.c.id, d.c.name))}
        ours: dict[int, dict[tuple, dict]] = {}
        for r in conn.execute(select(k).where(k.c.document_id.in_(list(doc_map.values())))).mappings():
            ours.setdefault(r["document_id"], {}).setdefault(_key(r), dict(r))
        our_passages: dict[int, list] = {}
        for r in conn.execute(select(p.c.id, p.c.document_id, p.c.start, p.c.end, p.c.seq)
                              .where(p.c.document_id.in_(list(doc_map.values())))):
            our_passages.setdefault(r.document_id, []).append(r)

        def passage_at(doc_id, offset):
            return next((r for r in our_passages.get(doc_id, []) if r.start <= offset < r.end), None)

        coding_map: dict[int, int] = {}
        coders, unknown = set(), set()
        for c in their_codings:
            doc_id = doc_map.get(c["document_id"])
            if doc_id is None:
                continue
            if c["status"] == "proposed" and c["origin"] in ("rule", "model"):
                report.proposals_skipped += 1
                continue
            coders.add(c["coder"])
            mine = ours.get(doc_id, {}).get(_key(c))
            if mine is not None:
                coding_map[c["id"]] = mine["id"]
                if mine["status"] == c["status"]:
                    report.codings_unchanged += 1
                else:
                    pr = passage_at(doc_id, c["start"])
                    report.conflicts.append({
                        "document": our_names[doc_id], "passage": f"{doc_id}:{pr.seq}" if pr else "",
                        "start": c["start"], "end": c["end"], "code": c["code"], "coder": c["coder"],
                        "ours": mine["status"], "theirs": c["status"], "coding": mine["id"]})
                continue
            pr = passage_at(doc_id, c["start"])
            row = {col: c[col] for col in t.CODING_FIELDS if col not in ("id", "document_id", "passage_id")}
            new_id = conn.execute(insert(k).values(**row, document_id=doc_id,
                                                   passage_id=pr.id if pr else None)).inserted_primary_key[0]
            coding_map[c["id"]] = new_id
            ours.setdefault(doc_id, {})[_key(c)] = dict(row, id=new_id)
            now_ins.append(queries.coding_row(conn, new_id))
            report.codings_added += 1
            if codebook is not None and c["code"] not in codebook:
                unknown.add(c["code"])

        existing_memos = {(r.target_type, r.target, r.coder, r.text) for r in conn.execute(
            select(m.c.target_type, m.c.target, m.c.coder, m.c.text))}
        for memo in their_memos:
            coders.add(memo["coder"])
            target = _map_target(memo, doc_map, coding_map, their_passages, passage_at)
            if target is None:
                report.memos_skipped += 1
                continue
            key = (memo["target_type"], target, memo["coder"], memo["text"])
            if key in existing_memos:
                report.memos_unchanged += 1
                continue
            existing_memos.add(key)
            memo_id = conn.execute(insert(m).values(target_type=memo["target_type"], target=target, coder=memo["coder"],
                                                    text=memo["text"], created_at=memo["created_at"])).inserted_primary_key[0]
            ins_memos.append(queries.memo_row(conn, memo_id))
            report.memos_added += 1
        report.coders = sorted(coders)
        report.unknown_codes = sorted(unknown)
        if now_ins or ins_memos:
            report.audit_id = record(conn, coder, Event.merge(str(source.root), now_ins, ins_memos, report.summary()))
    return report


def _map_target(memo, doc_map, coding_map, their_passages, passage_at) -> str | None:
    kind, target = memo["target_type"], memo["target"]
    if kind in ("code", "project"):
        return target
    if kind == "doc":
        return str(doc_map[int(target)]) if target.isdigit() and int(target) in doc_map else None
    if kind == "coding":
        return str(coding_map[int(target)]) if target.isdigit() and int(target) in coding_map else None
    if kind == "passage":
        doc, _, seq = target.partition(":")
        if not (doc.isdigit() and seq.isdigit()) or int(doc) not in doc_map:
            return None
        start = next((s for (dd, s, q) in their_passages.values() if dd == int(doc) and q == int(seq)), None)
        ours = passage_at(doc_map[int(doc)], start) if start is not None else None
        return f"{doc_map[int(doc)]}:{ours.seq}" if ours is not None else None
    return None
