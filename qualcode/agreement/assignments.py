"""Which documents each coder saw: assignments (``qualcode assign``) and coding activity.

A document was seen by a coder when it is assigned to them or they have any coding or
decision in it (accepted or rejected); agreement counts the units of other documents as
missing for that coder, not as "not coded".
"""
from __future__ import annotations

from sqlalchemy import delete, insert, select

from qualcode.store import schema as t, utcnow


def assign(store, doc_ids: list[int], coder: str, remove: bool = False) -> int:
    """Assign documents to a coder (or remove the assignment); returns how many changed."""
    a = t.assignments
    changed = 0
    with store.transaction() as conn:
        have = {d for (d,) in conn.execute(select(a.c.document_id).where(a.c.coder == coder))}
        if remove:
            gone = [d for d in doc_ids if d in have]
            if gone:
                conn.execute(delete(a).where(a.c.coder == coder, a.c.document_id.in_(gone)))
            return len(gone)
        new = sorted({d for d in doc_ids if d not in have})
        if new:
            now = utcnow()
            conn.execute(insert(a), [{"document_id": d, "coder": coder, "assigned_at": now} for d in new])
            changed = len(new)
    return changed


def assignments(store) -> list[dict]:
    """Assignment rows (document id and name, coder), ordered."""
    a, d = t.assignments, t.documents
    with store.read() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(a.c.document_id.label("document"), d.c.name, a.c.coder, a.c.assigned_at)
            .join(d, d.c.id == a.c.document_id).order_by(a.c.coder, a.c.document_id))]


def seen_documents(store, coders: list[str]) -> dict[str, set[int]]:
    """Per coder: documents assigned to them or in which they coded or decided anything."""
    seen: dict[str, set[int]] = {c: set() for c in coders}
    with store.read() as conn:
        for doc, coder in conn.execute(select(t.assignments.c.document_id, t.assignments.c.coder)
                                       .where(t.assignments.c.coder.in_(coders))):
            seen[coder].add(doc)
        for doc, coder in conn.execute(select(t.codings.c.document_id, t.codings.c.coder).distinct()
                                       .where(t.codings.c.coder.in_(coders), t.codings.c.status != "proposed")):
            seen[coder].add(doc)
    return seen
