"""Exemplar quotes chosen by the researcher: pin a coding as the quote for its code.

A pin is three columns of the coding (``pinned_at``, ``pinned_by``, ``pin_note``), so it
travels with the coding (merge, export, PostgreSQL copy) and undo restores it like any
other change to a coding. Reports (``report quotes``, ``framework``, ``chain``) quote
pinned codings before any other of their code (``qualcode.reports.quotes.rank_candidates``).
"""
from __future__ import annotations

from sqlalchemy import select, update

from qualcode.annotate.audit import Event, record
from qualcode.annotate.coders import coder_name
from qualcode.annotate.resolve import resolve_coding
from qualcode.errors import QualcodeError
from qualcode.store import queries, schema as t, utcnow
from qualcode.vocabulary import Status

PIN_FIELDS = ("pinned_at", "pinned_by", "pin_note")
PIN_COLUMNS = ["id", "code", "absent", "document", "passage", "start", "end", "coder", "status", "pinned_by",
               "pinned_at", "pin_note", "text"]


def pin_quote(project, coding: str | int, note: str | None = None, coder: str | None = None) -> dict:
    """Pin ``coding`` as an exemplar quote of its code (a rejected coding cannot be pinned);
    pinning a pinned coding again replaces its note. Returns the coding row after the change."""
    coder = coder_name(project, coder)
    note = (note or "").strip() or None
    now = utcnow()
    with project.store.transaction() as conn:
        row = resolve_coding(conn, coding)
        if row["status"] == Status.REJECTED:
            raise QualcodeError(f"coding {row['id']} was rejected; a rejected coding is not a quote",
                                hint="pin an accepted or manual coding ('qualcode code list --code ...')")
        if row["pinned_at"] is not None and row["pin_note"] == note:
            return row
        after = dict(pinned_at=now, pinned_by=coder, pin_note=note, updated_at=now)
        conn.execute(update(t.codings).where(t.codings.c.id == row["id"]).values(**after))
        change = {"id": row["id"], "before": {k: row[k] for k in after}, "after": after}
        record(conn, coder, Event.quote_pin("quote-pin", row, change,
                                            f"{row['code']} [{row['start']}, {row['end']})" + (f": {note}" if note else "")))
        return queries.coding_row(conn, row["id"])


def unpin_quote(project, coding: str | int, coder: str | None = None) -> dict:
    """Take the pin off ``coding``; returns the coding row after the change."""
    coder = coder_name(project, coder)
    now = utcnow()
    with project.store.transaction() as conn:
        row = resolve_coding(conn, coding)
        if row["pinned_at"] is None:
            raise QualcodeError(f"coding {row['id']} is not pinned", hint="'qualcode quote list' shows the pinned quotes")
        after = dict(pinned_at=None, pinned_by=None, pin_note=None, updated_at=now)
        conn.execute(update(t.codings).where(t.codings.c.id == row["id"]).values(**after))
        change = {"id": row["id"], "before": {k: row[k] for k in after}, "after": after}
        record(conn, coder, Event.quote_pin("quote-unpin", row, change, f"{row['code']} [{row['start']}, {row['end']})"))
        return queries.coding_row(conn, row["id"])


def pinned_quotes(project, code: str | None = None) -> list[dict]:
    """Pinned codings (PIN_COLUMNS) in codebook path order, then document and offset; ``code``
    (a path) includes its descendants."""
    k, d, p = t.codings, t.documents, t.passages
    query = (select(k.c.id, k.c.code, k.c.absent, d.c.name, d.c.id, p.c.seq, k.c.start, k.c.end, k.c.coder,
                    k.c.status, k.c.pinned_by, k.c.pinned_at, k.c.pin_note, d.c.text)
             .select_from(k.join(d, k.c.document_id == d.c.id).outerjoin(p, k.c.passage_id == p.c.id))
             .where(k.c.pinned_at.is_not(None)).order_by(k.c.code, d.c.name, k.c.start, k.c.id))
    if code:
        query = query.where((k.c.code == code) | k.c.code.startswith(code + "/"))
    with project.store.read() as conn:
        rows = conn.execute(query).all()
    return [dict(id=i, code=c, absent=int(a or 0), document=name, passage=f"{doc_id}:{seq}" if seq is not None else "",
                 start=s, end=e, coder=coder, status=status, pinned_by=by, pinned_at=at, pin_note=note or "",
                 text=text[s:e])
            for i, c, a, name, doc_id, seq, s, e, coder, status, by, at, note, text in rows]


__all__ = ["PIN_COLUMNS", "PIN_FIELDS", "pin_quote", "pinned_quotes", "unpin_quote"]
