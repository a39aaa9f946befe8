"""Fixing an import: remove documents, change a document's name, case and attributes, and
apply the metadata of a re-import with ``--replace`` to the files that did not change.

Both are audited (``docs-remove``, ``docs-set``) and undoable. A removal first writes the
document's codings and memos to ``outputs/removed-<doc>-<time>.csv`` (through
``qualcode.files``), then keeps every row it deletes in the audit log, so ``undo`` puts the
document back with its ids, passages, codings and memos.
"""
from __future__ import annotations

import base64
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, or_, select

from qualcode.annotate.audit import Event, record
from qualcode.annotate.coders import coder_name
from qualcode.annotate.document_rows import apply_state, state_of
from qualcode.errors import ConfigError
from qualcode.files import write_text
from qualcode.ingest.model import UNCHANGED, ImportReport
from qualcode.ingest.pipeline import ImportOptions, given_metadata
from qualcode.ingest.writer import case_id
from qualcode.store import schema as t

MAX_VALUE = 400  # characters of a name, case name or attribute value
RESERVED_KEYS = ("case", "document", "doc_id")
REMOVED_COLUMNS = ["kind", "id", "document", "passage", "start", "end", "code", "coder", "status", "origin",
                   "target_type", "target", "text"]


@dataclass
class Removed:
    document: int
    name: str
    codings: int
    memos: int
    backup: str  # the CSV written before the removal, relative to the project


@dataclass
class DocumentChange:
    document: int
    name: str
    changes: list[str] = field(default_factory=list)  # "case: A → B", "attribute role: - → R3" …


def _json_row(row) -> dict:
    out = {}
    for key, value in dict(row).items():
        out[key] = {"base64": base64.b64encode(value).decode("ascii")} if isinstance(value, bytes) else value
    return out


def _clean(value: str, what: str) -> str:
    value = " ".join((value or "").split())
    if len(value) > MAX_VALUE:
        raise ConfigError(f"{what} is longer than {MAX_VALUE} characters")
    return value


def _snapshot(conn, doc_id: int) -> dict[str, list[dict]]:
    passage_ids = [r[0] for r in conn.execute(select(t.passages.c.id).where(t.passages.c.document_id == doc_id))]
    coding_ids = [str(r[0]) for r in conn.execute(select(t.codings.c.id).where(t.codings.c.document_id == doc_id))]
    memo_where = or_((t.memos.c.target_type == "doc") & (t.memos.c.target == str(doc_id)),
                     (t.memos.c.target_type == "coding") & t.memos.c.target.in_(coding_ids))
    queries = {
        "documents": select(t.documents).where(t.documents.c.id == doc_id),
        "attributes": select(t.attributes).where(t.attributes.c.document_id == doc_id),
        "speakers": select(t.speakers).where(t.speakers.c.document_id == doc_id),
        "passages": select(t.passages).where(t.passages.c.document_id == doc_id),
        "sentences": select(t.sentences).where(t.sentences.c.passage_id.in_(passage_ids)),
        "codings": select(t.codings).where(t.codings.c.document_id == doc_id),
        "memos": select(t.memos).where(memo_where),
        "assignments": select(t.assignments).where(t.assignments.c.document_id == doc_id),
        "adjudications": select(t.adjudications).where(t.adjudications.c.document_id == doc_id),
    }
    return {name: [_json_row(r) for r in conn.execute(q.order_by(*q.selected_columns[:1])).mappings()]
            for name, q in queries.items()}


def _backup_csv(rows: dict[str, list[dict]], name: str) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=REMOVED_COLUMNS, lineterminator="\n")
    writer.writeheader()
    passage_seq = {p["id"]: p["seq"] for p in rows["passages"]}
    doc_id = rows["documents"][0]["id"]
    for c in rows["codings"]:
        writer.writerow({"kind": "coding", "id": c["id"], "document": name, "start": c["start"], "end": c["end"],
                         "passage": f"{doc_id}:{passage_seq[c['passage_id']]}" if c["passage_id"] in passage_seq
                         else "", "code": c["code"], "coder": c["coder"], "status": c["status"],
                         "origin": c["origin"], "text": rows["documents"][0]["text"][c["start"]:c["end"]]})
    for m in rows["memos"]:
        writer.writerow({"kind": "memo", "id": m["id"], "document": name, "coder": m.get("coder", ""),
                         "target_type": m["target_type"], "target": m["target"], "text": m["text"]})
    return buf.getvalue()


def remove_documents(project, doc_ids: list[int], coder: str | None = None) -> list[Removed]:
    """Remove documents with everything attached to them; each removal is one undoable
    ``docs-remove`` event, after its codings and memos were written to ``outputs/``."""
    coder = coder_name(project, coder)
    out: list[Removed] = []
    for doc_id in dict.fromkeys(doc_ids):
        with project.store.transaction() as conn:
            rows = _snapshot(conn, doc_id)
            if not rows["documents"]:
                raise ConfigError(f"no document {doc_id}", hint="'qualcode docs list' shows the documents")
            name = rows["documents"][0]["name"]
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            safe = re.sub(r"[^\w.\-]+", "_", name).strip("._") or str(doc_id)
            backup = project.root / "outputs" / f"removed-{safe}-{stamp}.csv"
            backup.parent.mkdir(parents=True, exist_ok=True)
            write_text(backup, _backup_csv(rows, name), encoding="utf-8-sig")
            passage_ids = [p["id"] for p in rows["passages"]]
            conn.execute(delete(t.memos).where(t.memos.c.id.in_([m["id"] for m in rows["memos"]])))
            conn.execute(delete(t.adjudications).where(t.adjudications.c.document_id == doc_id))
            conn.execute(delete(t.assignments).where(t.assignments.c.document_id == doc_id))
            conn.execute(delete(t.codings).where(t.codings.c.document_id == doc_id))
            conn.execute(delete(t.sentences).where(t.sentences.c.passage_id.in_(passage_ids)))
            conn.execute(delete(t.passages).where(t.passages.c.document_id == doc_id))
            conn.execute(delete(t.speakers).where(t.speakers.c.document_id == doc_id))
            conn.execute(delete(t.attributes).where(t.attributes.c.document_id == doc_id))
            conn.execute(delete(t.documents).where(t.documents.c.id == doc_id))
            rel = backup.relative_to(project.root).as_posix()
            summary = (f"removed {name} ({len(rows['codings'])} codings, {len(rows['memos'])} memos; "
                       f"saved to {rel})")
            record(conn, coder, Event.docs_remove(doc_id, rows, summary))
        out.append(Removed(doc_id, name, len(rows["codings"]), len(rows["memos"]), rel))
    return out


def set_document(project, doc_id: int, case: str | None = None, attributes: dict[str, str] | None = None,
                 name: str | None = None, coder: str | None = None, conn=None) -> DocumentChange:
    """Change a document's case (``""`` clears it), attributes (an empty value removes the key;
    keys not given are kept) and name; one undoable ``docs-set`` event. Nothing changed, no event."""
    coder = coder_name(project, coder)
    if conn is None:
        with project.store.transaction() as own:
            return set_document(project, doc_id, case, attributes, name, coder, own)
    before = state_of(conn, doc_id)
    after = {"name": before["name"], "case_id": before["case_id"], "attributes": dict(before["attributes"])}
    changes: list[str] = []
    if name is not None:
        new = _clean(name, "the document name")
        if not new:
            raise ConfigError("a document name cannot be empty")
        if new != before["name"] and conn.execute(select(t.documents.c.id).where(t.documents.c.name == new)).first():
            raise ConfigError(f"another document is already named {new}", hint="choose another name")
        after["name"] = new
    if case is not None:
        after["case_id"] = case_id(conn, _clean(case, "the case name") or None)
    for key, value in (attributes or {}).items():
        key = _clean(key, "an attribute name")
        if not key or key in RESERVED_KEYS:
            raise ConfigError(f"attribute name {key!r} is not allowed", hint="use another name")
        value = _clean(value, f"attribute {key}")
        if value:
            after["attributes"][key] = value
        else:
            after["attributes"].pop(key, None)
    cases = dict(conn.execute(select(t.cases.c.id, t.cases.c.name)).all())
    if after["name"] != before["name"]:
        changes.append(f"name: {before['name']} → {after['name']}")
    if after["case_id"] != before["case_id"]:
        changes.append(f"case: {cases.get(before['case_id'], '-')} → {cases.get(after['case_id'], '-')}")
    for key in sorted(set(before["attributes"]) | set(after["attributes"])):
        old, new_value = before["attributes"].get(key), after["attributes"].get(key)
        if old != new_value:
            changes.append(f"attribute {key}: {old or '-'} → {new_value or '-'}")
    if changes:
        apply_state(conn, doc_id, after)
        record(conn, coder, Event.docs_set(doc_id, before, after, f"{after['name']}: " + "; ".join(changes)))
    return DocumentChange(doc_id, after["name"], changes)


def apply_import_metadata(project, report: ImportReport, options: ImportOptions,
                          coder: str | None = None) -> list[DocumentChange]:
    """After ``import_paths`` with ``options.replace``: give each document whose file was
    unchanged the case and attributes this import was given for it (``--case``, ``--attr``,
    ``--case-from-folder``, the manifest), through ``set_document`` (one undoable ``docs-set``
    event each). Keys not given are kept; a document already so is left alone. Without
    ``replace`` nothing is changed. Returns the documents that changed, in the report's order."""
    if not options.replace:
        return []
    out: list[DocumentChange] = []
    for result in report.results:
        if result.status != UNCHANGED or result.source is None or result.document is None:
            continue
        case, attributes = given_metadata(Path(result.source), options)
        if case is None and not attributes:
            continue
        with project.store.read() as conn:
            row = conn.execute(select(t.documents.c.id).where(t.documents.c.name == result.document)).first()
        if row is None:
            continue
        change = set_document(project, row[0], case=case, attributes=attributes, coder=coder)
        if change.changes:
            out.append(change)
    return out
