"""Write a prepared document into the store: one transaction, never half a document."""
from __future__ import annotations

import csv
import json
import os
from bisect import bisect_right
from contextlib import closing
from pathlib import Path

from sqlalchemy import bindparam, delete, insert, select, update

from qualcode.ingest import model as p
from qualcode.store import driver_statement, schema as t, utcnow

# The statements an import runs for every document, by name: (Core statement, its parameters
# in the order callers pass values). See ``_Statements``.
_DOCUMENT_COLUMNS = (
    "name", "file_name", "source_path", "content_hash", "text", "n_chars", "encoding", "style", "script",
    "case_id", "dict_version", "warnings", "notes", "imported_at", "rel_path",
)
_STATEMENTS = {
    "case": (lambda: select(t.cases.c.id).where(t.cases.c.name == bindparam("name")), ("name",)),
    "new_case": (lambda: insert(t.cases).returning(t.cases.c.id), ("name",)),
    "same_document": (
        lambda: select(t.documents.c.id, t.documents.c.name, t.documents.c.rel_path, t.documents.c.source_path,
                       t.documents.c.content_hash).where(
            t.documents.c.file_name == bindparam("file_name"), t.documents.c.case_id == bindparam("case_id")
        ).order_by(t.documents.c.id),
        ("file_name", "case_id"),
    ),
    "same_document_without_case": (
        lambda: select(t.documents.c.id, t.documents.c.name, t.documents.c.rel_path, t.documents.c.source_path,
                       t.documents.c.content_hash).where(
            t.documents.c.file_name == bindparam("file_name"), t.documents.c.case_id.is_(None)
        ).order_by(t.documents.c.id),
        ("file_name",),
    ),
    "document_named": (lambda: select(t.documents.c.id).where(t.documents.c.name == bindparam("name")), ("name",)),
    "names_like": (
        lambda: select(t.documents.c.name).where(t.documents.c.name.like(bindparam("pattern"))), ("pattern",)
    ),
    "new_document": (lambda: insert(t.documents).returning(t.documents.c.id), _DOCUMENT_COLUMNS),
    "new_attributes": (lambda: insert(t.attributes), ("document_id", "key", "value")),
    "new_speakers": (lambda: insert(t.speakers), ("document_id", "label", "role")),
    "speaker_ids": (
        lambda: select(t.speakers.c.label, t.speakers.c.id).where(t.speakers.c.document_id == bindparam("document_id")),
        ("document_id",),
    ),
    "new_passages": (
        lambda: insert(t.passages),
        ("document_id", "seq", "speaker_id", "start", "end", "timestamp", "line", "tokens"),
    ),
    "passage_ids": (
        lambda: select(t.passages.c.id)
        .where(t.passages.c.document_id == bindparam("document_id"))
        .order_by(t.passages.c.seq),
        ("document_id",),
    ),
    "new_sentences": (lambda: insert(t.sentences), ("passage_id", "seq", "start", "end")),
    "new_audit_entry": (lambda: insert(t.audit_log), ("at", "coder", "action", "target", "detail")),
}


class _Statements:
    """``_STATEMENTS`` run on the connection's DB-API cursor (``store.driver_statement``): the
    cursor belongs to the transaction's connection, so it is the same transaction."""

    def __init__(self, conn):
        self.dialect = conn.dialect
        self.cursor = conn.connection.cursor()

    def close(self) -> None:
        self.cursor.close()

    def _compiled(self, name: str):
        build, params = _STATEMENTS[name]
        return driver_statement(self.dialect, ("import", name), build, params)

    def run(self, name: str, *values):
        """Execute statement ``name`` with ``values`` (in its parameter order); the cursor, to fetch from."""
        sql, convert = self._compiled(name)
        self.cursor.execute(sql, values if convert is None else convert(values))
        return self.cursor

    def run_many(self, name: str, rows: list[tuple]) -> None:
        """Execute statement ``name`` once per row (tuples in its parameter order), with one executemany."""
        if rows:
            sql, convert = self._compiled(name)
            self.cursor.executemany(sql, rows if convert is None else list(map(convert, rows)))


def known_hashes(store) -> dict[str, str]:
    with store.read() as conn:
        return {h: n for h, n in conn.execute(select(t.documents.c.content_hash, t.documents.c.name))}


def case_id(conn, name: str | None) -> int | None:
    """The id of the case ``name``, added if new; None without a name."""
    with closing(_Statements(conn)) as db:
        return _case_id(db, name)


def _case_id(db: _Statements, name: str | None) -> int | None:
    if not name:
        return None
    found = db.run("case", name).fetchone()
    return found[0] if found is not None else db.run("new_case", name).fetchone()[0]


def _same_document(db: _Statements, prepared: p.PreparedDocument, cid: int | None) -> tuple[int, str, str] | None:
    """(id, name, content hash) of an earlier import of the same interview: the same relative path in the
    same case (H街道/访谈记录.txt and N街道/访谈记录.txt are two documents). A document imported
    before relative paths were kept (rel_path NULL) is the same when its source path ends
    with this relative path."""
    if cid is None:
        rows = db.run("same_document_without_case", prepared.file_name).fetchall()
    else:
        rows = db.run("same_document", prepared.file_name, cid).fetchall()
    if prepared.rel_path is None:
        return (rows[0][0], rows[0][1], rows[0][4]) if rows else None
    here = os.path.normpath(prepared.path)
    for doc_id, name, rel_path, source_path, digest in rows:
        # the same relative path, or the very same file named another way (by itself, in its folder)
        if rel_path == prepared.rel_path or os.path.normpath(source_path or "") == here:
            return doc_id, name, digest
    suffix = prepared.rel_path.replace("\\", "/")
    for doc_id, name, rel_path, source_path, digest in rows:
        source = (source_path or "").replace("\\", "/")
        if rel_path is None and (source == suffix or source.endswith("/" + suffix)):
            return doc_id, name, digest
    return None


def _unique_name(db: _Statements, prepared: p.PreparedDocument) -> str:
    stem = Path(prepared.file_name).stem
    candidates = [stem]
    if prepared.case:
        candidates.append(f"{prepared.case}-{stem}")
    candidates.append(f"{Path(prepared.path).parent.name}-{stem}")
    # Exact lookups of the few candidates (an indexed probe each); the LIKE scan over every
    # document name is only needed in the rare case that all of them are taken.
    for name in candidates:
        if db.run("document_named", name).fetchone() is None:
            return name
    taken = {n for (n,) in db.run("names_like", f"%{stem}%").fetchall()}
    n = 2
    while f"{stem}-{n}" in taken:
        n += 1
    return f"{stem}-{n}"


def write(project, prepared: p.PreparedDocument, replace: bool = False) -> p.ImportResult:
    """Write one document in its own transaction."""
    with project.store.transaction() as conn:
        return write_in(conn, project, prepared, replace)


def write_in(conn, project, prepared: p.PreparedDocument, replace: bool = False,
             coder: str | None = None) -> p.ImportResult:
    """Write one document within the caller's transaction ``conn`` (``import qdpx`` writes a
    whole project in one, so that a killed import leaves nothing behind). ``coder`` is the
    audit entry's coder (default: the project's ``default_coder``; an import of many
    documents asks for it once)."""
    with closing(_Statements(conn)) as db:
        cid = _case_id(db, prepared.case)
        existing = _same_document(db, prepared, cid)
        if existing is not None and existing[2] == prepared.content_hash:
            # imported meanwhile by another process (two imports of one folder at once)
            return p.ImportResult(prepared.path, p.UNCHANGED, f"already imported as {existing[1]}", existing[1])
        if existing is not None and not replace:
            return p.ImportResult(
                prepared.path,
                p.CHANGED,
                f"{prepared.path}: changed since it was imported as {existing[1]}; "
                "re-run with --replace to replace it (codings are carried over)",
                existing[1],
            )
        now = utcnow()
        # The passage warnings name passage ids, which need the document id: written after
        # the insert, and only for the rare document with a mis-decoded passage.
        flagged = [pp for pp in prepared.passages if pp.mojibake]
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
            warnings=json.dumps(prepared.warnings, ensure_ascii=False),
            notes=json.dumps(prepared.notes, ensure_ascii=False),
            imported_at=now,
            rel_path=prepared.rel_path,
        )
        if existing is None:
            name = _unique_name(db, prepared)
            row["name"] = name
            doc_id = db.run("new_document", *(row[c] for c in _DOCUMENT_COLUMNS)).fetchone()[0]
            old_text = None
        else:
            doc_id, name, _ = existing
            old_text = conn.execute(select(t.documents.c.text).where(t.documents.c.id == doc_id)).scalar_one()
            conn.execute(update(t.documents).where(t.documents.c.id == doc_id).values(**row))
            conn.execute(update(t.codings).where(t.codings.c.document_id == doc_id).values(passage_id=None))
            for table in (t.attributes, t.passages, t.speakers):
                conn.execute(delete(table).where(table.c.document_id == doc_id))

        if flagged:
            warnings = list(prepared.warnings) + [
                f"passage {doc_id}:{pp.seq} looks mis-decoded ({pp.mojibake}); check the file's encoding"
                for pp in flagged
            ]
            conn.execute(
                update(t.documents)
                .where(t.documents.c.id == doc_id)
                .values(warnings=json.dumps(warnings, ensure_ascii=False))
            )
        db.run_many("new_attributes", [(doc_id, k, v) for k, v in sorted(prepared.attributes.items())])
        # Bulk inserts (one executemany per table) and the new ids read back by one indexed
        # select, rather than RETURNING per row: the same on SQLite and PostgreSQL.
        speaker_ids: dict[str, int] = {}
        if prepared.speakers:
            db.run_many("new_speakers", [(doc_id, label, role) for label, role in prepared.speakers.items()])
            speaker_ids = dict(db.run("speaker_ids", doc_id).fetchall())
        db.run_many(
            "new_passages",
            [
                (doc_id, pp.seq, speaker_ids.get(pp.speaker) if pp.speaker is not None else None,
                 pp.start, pp.end, pp.timestamp, pp.line, pp.tokens)
                for pp in prepared.passages
            ],
        )
        # seq is unique per document and ascending with the passages (prepare numbers them).
        passage_ids = [pid for (pid,) in db.run("passage_ids", doc_id).fetchall()]
        db.run_many(
            "new_sentences",
            [
                (pid, i, pp.start + s, pp.start + e)
                for pid, pp in zip(passage_ids, prepared.passages)
                for i, (s, e) in enumerate(pp.sentences, start=1)
            ],
        )
        message = f"{len(prepared.passages)} passages, {len(prepared.text)} characters"
        status = p.IMPORTED
        if existing is not None:
            status = p.REPLACED
            message += "; " + _relocate_codings(conn, project, doc_id, name, old_text, prepared, passage_ids)
        db.run(
            "new_audit_entry", now, coder or project.default_coder, "import" if existing is None else "replace", name,
            json.dumps({"path": prepared.path, "hash": prepared.content_hash}, ensure_ascii=False),
        )
    return p.ImportResult(prepared.path, status, message, name)


def _relocate_codings(conn, project, doc_id, name, old_text, prepared, passage_ids) -> str:
    """Move a replaced document's codings to where their text is now; save the rest to a CSV."""
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
