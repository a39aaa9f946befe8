"""The documents page: every document with its case, interviewee code, attributes and
codings by status; correcting a document's case, attributes (the interviewee code is
the attribute ``role``, as the manifest's ``role`` column) and speaker roles in place; and
removing a document once its name was typed again."""
from __future__ import annotations

from sqlalchemy import func, select

from qualcode.annotate.documents import Removed, remove_documents, set_document
from qualcode.errors import ConfigError
from qualcode.ingest.speakers import parse_role
from qualcode.reports.selection import ROLE_KEY
from qualcode.store import queries, schema as t


def document_rows(project) -> list[dict]:
    """``queries.list_documents`` plus attributes, speakers and codings by status."""
    rows = queries.list_documents(project.store)
    k, a, s = t.codings, t.attributes, t.speakers
    with project.store.read() as conn:
        counts: dict[int, dict[str, int]] = {}
        for doc_id, status, n in conn.execute(
                select(k.c.document_id, k.c.status, func.count()).group_by(k.c.document_id, k.c.status)):
            counts.setdefault(doc_id, {})[status] = n
        attrs: dict[int, dict[str, str]] = {}
        for doc_id, key, value in conn.execute(select(a.c.document_id, a.c.key, a.c.value).order_by(a.c.key)):
            attrs.setdefault(doc_id, {})[key] = value
        speakers: dict[int, list[dict]] = {}
        for doc_id, label, role in conn.execute(select(s.c.document_id, s.c.label, s.c.role).order_by(s.c.id)):
            speakers.setdefault(doc_id, []).append({"label": label, "role": role or ""})
    for row in rows:
        row["attributes"] = attrs.get(row["id"], {})
        row["role_code"] = row["attributes"].get(ROLE_KEY, "")
        row["speaker_list"] = speakers.get(row["id"], [])
        row["codings"] = {st: counts.get(row["id"], {}).get(st, 0) for st in ("proposed", "accepted", "rejected")}
    return rows


def set_metadata(project, doc_id: int, case: str | None = None, attributes: dict[str, str] | None = None) -> dict:
    """Change a document's case (``""`` clears it) and attributes (an empty value removes the
    key; keys not given are kept) through ``annotate.documents.set_document``: audited and
    undoable as ``qualcode docs set``. Returns the document's row as ``document_rows`` gives it."""
    set_document(project, doc_id, case=case, attributes=attributes)
    return next(r for r in document_rows(project) if r["id"] == doc_id)


def remove(project, doc_id: int, confirm: str, coder: str | None = None) -> Removed:
    """Remove a document as ``qualcode docs remove`` (its codings and memos written to
    ``outputs/removed-<doc>-<time>.csv`` first; one undoable ``docs-remove`` event), only if
    ``confirm`` is the document's name: a removal is never one click."""
    row = next((r for r in queries.list_documents(project.store) if r["id"] == doc_id), None)
    if row is None:
        raise ConfigError(f"no document {doc_id}")
    if " ".join((confirm or "").split()) != row["name"]:
        raise ConfigError(f"not removed: type the document's name ({row['name']}) to confirm")
    return remove_documents(project, [doc_id], coder=coder)[0]


def set_role(project, doc_id: int, speaker: str, role: str) -> int:
    """A speaker's role in a document, as ``qualcode docs set-role`` (Chinese names accepted)."""
    try:
        role = parse_role(role)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return queries.set_speaker_role(project.store, doc_id, speaker, role)


def parse_attributes(text: str) -> dict[str, str]:
    """``key=value`` lines (or ``key：value``) as a dict; a line without ``=`` is an error."""
    out = {}
    for n, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.replace("：", "=").partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"line {n}: {line!r} is not key=value")
        out[key.strip()] = value.strip()
    return out
