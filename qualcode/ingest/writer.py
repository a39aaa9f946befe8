"""Write a prepared document into the store: one transaction, never half a document."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from sqlalchemy import delete, insert, select, update

from ..store import schema as t
from ..store import utcnow
from . import pipeline as p


# (dialect name, table, columns) -> (SQL, positional?)
_INSERTS: dict[tuple[str, str, tuple[str, ...]], tuple[str, bool]] = {}


def _insert_many(conn, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT ``rows`` (plain tuples in ``columns`` order) with one DB-API executemany.

    ``conn.execute(insert(table), dicts)`` processes every row's parameters in Python, which
    cost a third of the writer's time for the ~250 sentences and ~140 passages of a
    document. Here the statement is compiled once per dialect (so quoting and paramstyle
    are the backend's own: ``?`` for SQLite, ``%(name)s`` for psycopg) and the driver gets
    the values as they are. Only for columns that need no bind processing: integers,
    strings, bytes and None.
    """
    if not rows:
        return
    key = (conn.dialect.name, table.name, columns)
    if key not in _INSERTS:
        # for_executemany: no implicit RETURNING of the primary key (PostgreSQL adds one).
        compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(columns), for_executemany=True)
        # Exactly these parameters: a column with a Python-side default would need SQLAlchemy.
        if tuple(compiled.positiontup if compiled.positional else compiled.params) != columns:
            raise AssertionError(f"unexpected parameters {list(compiled.params)} for {table.name}")
        _INSERTS[key] = (compiled.string, compiled.positional)
    sql, positional = _INSERTS[key]
    conn.exec_driver_sql(sql, rows if positional else [dict(zip(columns, row)) for row in rows])


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
    candidates = [stem]
    if prepared.case:
        candidates.append(f"{prepared.case}-{stem}")
    candidates.append(f"{Path(prepared.path).parent.name}-{stem}")
    # Exact lookups of the few candidates (an indexed probe each); the LIKE scan over every
    # document name is only needed in the rare case that all of them are taken.
    taken = {n for (n,) in conn.execute(select(t.documents.c.name).where(t.documents.c.name.in_(candidates)))}
    for name in candidates:
        if name not in taken:
            return name
    taken = {n for (n,) in conn.execute(select(t.documents.c.name).where(t.documents.c.name.like(f"%{stem}%")))}
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
        )
        if existing is None:
            name = _unique_name(conn, prepared)
            doc_id = conn.execute(
                insert(t.documents).values(name=name, **row).returning(t.documents.c.id)
            ).scalar_one()
            old_text = None
        else:
            name, doc_id = existing.name, existing.id
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
        _insert_many(
            conn, t.attributes, ("document_id", "key", "value"),
            [(doc_id, k, v) for k, v in sorted(prepared.attributes.items())],
        )
        # Bulk inserts (one executemany per table) and the new ids read back by one indexed
        # select, rather than RETURNING per row: the same on SQLite and PostgreSQL.
        speaker_ids: dict[str, int] = {}
        if prepared.speakers:
            _insert_many(
                conn, t.speakers, ("document_id", "label", "role"),
                [(doc_id, label, role) for label, role in prepared.speakers.items()],
            )
            speaker_ids = dict(
                conn.execute(select(t.speakers.c.label, t.speakers.c.id).where(t.speakers.c.document_id == doc_id)).all()
            )
        _insert_many(
            conn,
            t.passages,
            ("document_id", "seq", "speaker_id", "start", "end", "timestamp", "line", "tokens"),
            [
                (doc_id, pp.seq, speaker_ids.get(pp.speaker) if pp.speaker is not None else None,
                 pp.start, pp.end, pp.timestamp, pp.line, pp.tokens)
                for pp in prepared.passages
            ],
        )
        # seq is unique per document and ascending with the passages (prepare numbers them).
        passage_ids = conn.execute(
            select(t.passages.c.id).where(t.passages.c.document_id == doc_id).order_by(t.passages.c.seq)
        ).scalars().all()
        _insert_many(
            conn,
            t.sentences,
            ("passage_id", "seq", "start", "end"),
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
        _insert_many(
            conn, t.audit_log, ("at", "coder", "action", "target", "detail"),
            [(now, project.default_coder, "import" if existing is None else "replace", name,
              json.dumps({"path": prepared.path, "hash": prepared.content_hash}, ensure_ascii=False))],
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
