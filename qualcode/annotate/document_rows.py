"""A document's rows and metadata as the audit log keeps them (``docs-remove``, ``docs-set``)."""
from __future__ import annotations

import base64

from sqlalchemy import delete, insert, or_, select, update

from qualcode.errors import ConfigError
from qualcode.store import schema as t

# the rows of a document, in the order undo puts them back
DOCUMENT_TABLES = ("documents", "attributes", "speakers", "passages", "sentences", "codings", "memos",
                   "assignments", "adjudications")


def _db_row(row: dict) -> dict:
    return {k: base64.b64decode(v["base64"]) if isinstance(v, dict) and "base64" in v else v for k, v in row.items()}


def restore_rows(conn, rows: dict[str, list[dict]]) -> None:
    """Undo of ``docs-remove``: put the rows back with their ids (refuses if one is taken)."""
    doc = rows["documents"][0]
    if conn.execute(select(t.documents.c.id).where(
            or_(t.documents.c.id == doc["id"], t.documents.c.name == doc["name"]))).first() is not None:
        raise ConfigError(f"cannot restore document {doc['name']}: its id or name is in use again",
                          hint="remove or rename the document that took its place first")
    for name in DOCUMENT_TABLES:
        table = t.metadata.tables[name]
        for row in rows.get(name, []):
            conn.execute(insert(table).values(**{k: v for k, v in _db_row(row).items() if k in table.c}))


def state_of(conn, doc_id: int) -> dict:
    doc = conn.execute(select(t.documents.c.name, t.documents.c.case_id).where(t.documents.c.id == doc_id)).first()
    if doc is None:
        raise ConfigError(f"no document {doc_id}", hint="'qualcode docs list' shows the documents")
    attrs = dict(conn.execute(select(t.attributes.c.key, t.attributes.c.value)
                              .where(t.attributes.c.document_id == doc_id)).all())
    return {"name": doc.name, "case_id": doc.case_id, "attributes": attrs}


def apply_state(conn, doc_id: int, state: dict) -> None:
    """Set a document's name, case id and attributes to ``state`` (``_state``'s shape)."""
    conn.execute(update(t.documents).where(t.documents.c.id == doc_id)
                 .values(name=state["name"], case_id=state["case_id"]))
    conn.execute(delete(t.attributes).where(t.attributes.c.document_id == doc_id))
    for key, value in sorted(state["attributes"].items()):
        conn.execute(insert(t.attributes).values(document_id=doc_id, key=key, value=value))
