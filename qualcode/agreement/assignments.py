"""Which documents each coder saw: assignments (``qualcode assign``) and coding activity.

A document was seen by a coder when it is assigned to them or they have any coding or
decision in it (accepted or rejected); agreement counts the units of other documents as
missing for that coder, not as "not coded".
"""
from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from qualcode.store import queries, schema as t, utcnow


def assign(store, doc_ids: list[int], coder: str, remove: bool = False, blind: bool = False) -> int:
    """Assign documents to a coder (or remove the assignment); returns how many changed.

    ``blind``: independent coding. While the assignment is open the coder is shown neither
    the other coders' decisions nor their manual codings on these documents (review, code
    list, sheets, the browser). Assigning an assigned document with ``blind`` makes it blind.
    """
    a = t.assignments
    changed = 0
    with store.transaction() as conn:
        have = {d: bool(b) for d, b in conn.execute(select(a.c.document_id, a.c.blind).where(a.c.coder == coder))}
        if remove:
            gone = [d for d in doc_ids if d in have]
            if gone:
                conn.execute(delete(a).where(a.c.coder == coder, a.c.document_id.in_(gone)))
            return len(gone)
        new = sorted({d for d in doc_ids if d not in have})
        if new:
            now = utcnow()
            conn.execute(insert(a), [{"document_id": d, "coder": coder, "assigned_at": now, "blind": int(blind)}
                                     for d in new])
            changed = len(new)
        if blind:
            made_blind = sorted({d for d in doc_ids if d in have and not have[d]})
            if made_blind:
                conn.execute(update(a).where(a.c.coder == coder, a.c.document_id.in_(made_blind)).values(blind=1))
                changed += len(made_blind)
    return changed


def close_assignments(store, coder: str, doc_ids: list[int] | None = None, reopen: bool = False) -> int:
    """Close (or reopen) ``coder``'s assignments, all or of ``doc_ids``: a closed blind assignment
    no longer hides the other coders' work, and adjudication may use it. Returns how many changed."""
    a = t.assignments
    with store.transaction() as conn:
        q = update(a).where(a.c.coder == coder, a.c.closed_at.is_not(None) if reopen else a.c.closed_at.is_(None))
        if doc_ids is not None:
            q = q.where(a.c.document_id.in_(doc_ids))
        return conn.execute(q.values(closed_at=None if reopen else utcnow())).rowcount or 0


def assignments(store) -> list[dict]:
    """Assignment rows (document id and name, coder, blind, when assigned and closed), ordered."""
    a, d = t.assignments, t.documents
    with store.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            select(a.c.document_id.label("document"), d.c.name, a.c.coder, a.c.blind, a.c.assigned_at, a.c.closed_at)
            .join(d, d.c.id == a.c.document_id).order_by(a.c.coder, a.c.document_id))]
    for r in rows:
        r["blind"] = bool(r["blind"])
        r["closed_at"] = r["closed_at"] or ""
    return rows


def seen_documents(store, coders: list[str]) -> dict[str, set[int]]:
    """Per coder: documents assigned to them or in which they coded or decided anything."""
    with store.read() as conn:
        return queries.seen_documents(conn, coders)
