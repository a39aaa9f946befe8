"""Memos on codes, documents, passages and codings."""
from __future__ import annotations

from sqlalchemy import insert, select

from qualcode.annotate.audit import Event, record
from qualcode.annotate.coders import coder_name
from qualcode.annotate.resolve import canonical_passage, resolve_code, resolve_coding
from qualcode.errors import ConfigError
from qualcode.store import queries, schema as t, utcnow
from qualcode.vocabulary import MEMO_TARGETS

MEMO_COLUMNS = ["id", "target_type", "target", "coder", "text", "created_at"]


def insert_memo(conn, target_type: str, target: str, coder: str, text: str, now: str) -> dict:
    memo_id = conn.execute(insert(t.memos).values(
        target_type=target_type, target=target, coder=coder, text=text, created_at=now)).inserted_primary_key[0]
    return queries.memo_row(conn, memo_id)


def resolve_memo_target(project, target_type: str, target: str) -> str:
    """The canonical target: a code path, a document id, a passage id (DOC:SEQ) or a coding id."""
    if target_type not in MEMO_TARGETS:
        raise ConfigError(f"memo target type {target_type!r}; use {', '.join(MEMO_TARGETS)}")
    if target_type == "code":
        return resolve_code(project.codebook(), target)
    if target_type == "doc":
        return str(project.document_id(target))
    if target_type == "passage":
        return canonical_passage(project, target)
    with project.store.read() as conn:
        return str(resolve_coding(conn, target)["id"])


def add_memo(project, target_type: str, target: str, text: str, coder: str | None = None) -> dict:
    """Attach a memo to a code, document, passage or coding; returns the memo row."""
    coder = coder_name(project, coder)
    text = text.strip()
    if not text:
        raise ConfigError("the memo is empty")
    canonical = resolve_memo_target(project, target_type, target)
    with project.store.transaction() as conn:
        memo = insert_memo(conn, target_type, canonical, coder, text, utcnow())
        record(conn, coder, Event.memo_add(f"{target_type} {canonical}", memo, text[:40]))
    return memo


def list_memos(project, target_type: str | None = None, target: str | None = None, coder: str | None = None) -> list[dict]:
    q = select(t.memos).order_by(t.memos.c.id)
    if target_type:
        q = q.where(t.memos.c.target_type == target_type)
        if target:
            q = q.where(t.memos.c.target == resolve_memo_target(project, target_type, target))
    if coder:
        q = q.where(t.memos.c.coder == coder)
    with project.store.read() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
