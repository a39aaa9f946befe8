"""Write a prepared document into the store: one transaction, never half a document."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from sqlalchemy import delete, insert, select, update

from ..store import schema as t
from ..store import utcnow
from . import pipeline as p


def known_hashes(store) -> dict[str, str]:
    with store.read() as conn:
        return {h: n for h, n in conn.execute(select(t.documents.c.content_hash, t.documents.c.name))}


def case_id(conn, name: str | None) -> int | None:
    if not name:
        return None
    found = conn.execute(select(t.cases.c.id).where(t.cases.c.name == name)).scalar()
    if found is not None:
        return found
    return conn.execute(insert(t.cases).values(name=name).returning(t.cases.c.id)).scalar_one()


def _same_document(conn, prepared: p.PreparedDocument, cid: int | None):
    """An earlier import of the same interview: same file name in the same case."""
    query = select(t.documents.c.id, t.documents.c.name).where(t.documents.c.file_name == prepared.file_name)
    query = query.where(t.documents.c.case_id.is_(None) if cid is None else t.documents.c.case_id == cid)
    return conn.execute(query).first()


def _unique_name(conn, prepared: p.PreparedDocument) -> str:
    stem = Path(prepared.file_name).stem
    taken = {n for (n,) in conn.execute(select(t.documents.c.name).where(t.documents.c.name.like(f"%{stem}%")))}
    candidates = [stem]
    if prepared.case:
        candidates.append(f"{prepared.case}-{stem}")
    candidates.append(f"{Path(prepared.path).parent.name}-{stem}")
    for name in candidates:
        if name not in taken:
            return name
    n = 2
    while f"{stem}-{n}" in taken:
        n += 1
    return f"{stem}-{n}"


def write(project, prepared: p.PreparedDocument, replace: bool = False) -> p.ImportResult:
    store = project.store
    with store.transaction() as conn:
        cid = case_id(conn, prepared.case)
        existing = _same_document(conn, prepared, cid)
        if existing is not None and not replace:
            return p.ImportResult(
                prepared.path,
                p.CHANGED,
                f"{prepared.path}: changed since it was imported as {existing.name}; "
                "re-run with --replace to replace it (codings are carried over)",
                existing.name,
            )
        now = utcnow()
        row = dict(
            file_name=prepared.file_name,
            source_path=prepared.path,
            content_hash=prepared.content_hash,
            text=prepared.text,
            n_chars=len(prepared.text),
            encoding=prepared.encoding,
            style=prepared.style,
            script=prepared.script,
            case_id=cid,
            dict_version=prepared.dict_version,
            notes=json.dumps(prepared.notes, ensure_ascii=False),
            imported_at=now,
        )
        if existing is None:
            name = _unique_name(conn, prepared)
            doc_id = conn.execute(
                insert(t.documents).values(name=name, warnings="[]", **row).returning(t.documents.c.id)
            ).scalar_one()
            old_text = None
        else:
            name, doc_id = existing.name, existing.id
            old_text = conn.execute(select(t.documents.c.text).where(t.documents.c.id == doc_id)).scalar_one()
            conn.execute(update(t.documents).where(t.documents.c.id == doc_id).values(**row))
            conn.execute(update(t.codings).where(t.codings.c.document_id == doc_id).values(passage_id=None))
            for table in (t.attributes, t.passages, t.speakers):
                conn.execute(delete(table).where(table.c.document_id == doc_id))

        warnings = list(prepared.warnings)
        warnings += [
            f"passage {doc_id}:{pp.seq} looks mis-decoded ({pp.mojibake}); check the file's encoding"
            for pp in prepared.passages
            if pp.mojibake
        ]
        conn.execute(
            update(t.documents)
            .where(t.documents.c.id == doc_id)
            .values(warnings=json.dumps(warnings, ensure_ascii=False))
        )
        if prepared.attributes:
            conn.execute(
                insert(t.attributes),
                [{"document_id": doc_id, "key": k, "value": v} for k, v in sorted(prepared.attributes.items())],
            )
        speaker_ids: dict[str, int] = {}
        for label, role in prepared.speakers.items():
            speaker_ids[label] = conn.execute(
                insert(t.speakers).values(document_id=doc_id, label=label, role=role).returning(t.speakers.c.id)
            ).scalar_one()
        passage_ids = conn.execute(
            insert(t.passages).returning(t.passages.c.id, sort_by_parameter_order=True),
            [
                {
                    "document_id": doc_id,
                    "seq": pp.seq,
                    "speaker_id": speaker_ids.get(pp.speaker) if pp.speaker is not None else None,
                    "start": pp.start,
                    "end": pp.end,
                    "timestamp": pp.timestamp,
                    "line": pp.line,
                    "tokens": pp.tokens,
                }
                for pp in prepared.passages
            ],
        ).scalars().all()
        conn.execute(
            insert(t.sentences),
            [
                {"passage_id": pid, "seq": i, "start": pp.start + s, "end": pp.start + e}
                for pid, pp in zip(passage_ids, prepared.passages)
                for i, (s, e) in enumerate(pp.sentences, start=1)
            ],
        )
        message = f"{len(prepared.passages)} passages, {len(prepared.text)} characters"
        status = p.IMPORTED
        if existing is not None:
            status = p.REPLACED
            message += "; " + _relocate_codings(conn, project, doc_id, name, old_text, prepared, passage_ids)
        conn.execute(
            insert(t.audit_log).values(
                at=now,
                coder=project.default_coder,
                action="import" if existing is None else "replace",
                target=name,
                detail=json.dumps({"path": prepared.path, "hash": prepared.content_hash}, ensure_ascii=False),
            )
        )
    return p.ImportResult(prepared.path, status, message, name)


def _relocate_codings(conn, project, doc_id, name, old_text, prepared, passage_ids) -> str:
    """Move a replaced document's codings to where their text is now; save the rest to a CSV."""
    from bisect import bisect_right

    new_text = prepared.text
    starts = [pp.start for pp in prepared.passages]
    rows = conn.execute(select(t.codings).where(t.codings.c.document_id == doc_id)).mappings().all()
    moved = kept = 0
    orphans = []
    for row in rows:
        quote = old_text[row["start"] : row["end"]]
        pos = _nearest(new_text, quote, row["start"]) if quote else -1
        if pos < 0:
            orphans.append(dict(row, text=quote, document=name))
            continue
        i = bisect_right(starts, pos) - 1
        pid = passage_ids[i] if i >= 0 and pos < prepared.passages[i].end else None
        conn.execute(
            update(t.codings)
            .where(t.codings.c.id == row["id"])
            .values(start=pos, end=pos + len(quote), passage_id=pid)
        )
        if pos == row["start"]:
            kept += 1
        else:
            moved += 1
    note = f"{kept + moved} codings kept ({moved} moved to the new position of their text)"
    if orphans:
        out = project.root / "outputs" / f"orphaned-codings-{doc_id}-{utcnow().replace(':', '')}.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(orphans[0].keys()))
            writer.writeheader()
            writer.writerows(orphans)
        conn.execute(delete(t.codings).where(t.codings.c.id.in_([o["id"] for o in orphans])))
        note += f"; {len(orphans)} codings whose text is gone were removed and saved to {out}"
    return note


def _nearest(text: str, quote: str, near: int) -> int:
    """Position of ``quote`` in ``text`` closest to ``near``, or -1."""
    best = -1
    pos = text.find(quote)
    while pos >= 0:
        if best < 0 or abs(pos - near) < abs(best - near):
            best = pos
        pos = text.find(quote, pos + 1)
    return best
