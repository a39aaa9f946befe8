"""Read-side queries over the store, returned as plain rows (lists of dicts)."""
from __future__ import annotations

import json

from sqlalchemy import func, insert, select, update

from qualcode.errors import NotFound, not_found
from qualcode.store import schema as t
from qualcode.vocabulary import Origin, Role, Status

PASSAGE_COLUMNS = ["passage", "document", "case", "speaker", "role", "start", "end", "text"]


def passage_ref(doc_id: int, seq: int) -> str:
    return f"{doc_id}:{seq}"


def resolve_document(store, ref: str) -> int:
    """A document id from a numeric id or a name (exact, else a unique prefix)."""
    with store.read() as conn:
        rows = conn.execute(select(t.documents.c.id, t.documents.c.name)).all()
    if ref.isdigit() and any(r.id == int(ref) for r in rows):
        return int(ref)
    exact = [r.id for r in rows if r.name == ref]
    if exact:
        return exact[0]
    prefixed = [r for r in rows if r.name.startswith(ref)]
    if len(prefixed) == 1:
        return prefixed[0].id
    if len(prefixed) > 1:
        names = ", ".join(r.name for r in prefixed[:5])
        raise NotFound(f"document {ref!r} is ambiguous: {names}", hint="give the full name or the numeric id")
    raise not_found("doc", ref, [r.name for r in rows])


def resolve_passage(store, ref: str) -> int:
    """A passage's row id from 'DOC:SEQ' (DOC = id or name)."""
    doc_ref, sep, seq = ref.rpartition(":")
    if not sep or not seq.isdigit():
        raise NotFound(f"{ref!r} is not a passage id", hint="passage ids look like 3:12 (document 3, passage 12)")
    doc_id = resolve_document(store, doc_ref)
    with store.read() as conn:
        found = conn.execute(
            select(t.passages.c.id).where(t.passages.c.document_id == doc_id, t.passages.c.seq == int(seq))
        ).scalar()
        if found is None:
            n = conn.execute(select(func.max(t.passages.c.seq)).where(t.passages.c.document_id == doc_id)).scalar()
            raise NotFound(f"document {doc_id} has no passage {seq}", hint=f"its passages are {doc_id}:1 to {doc_id}:{n}")
    return found


def list_documents(store) -> list[dict]:
    d, c, p, s = t.documents, t.cases, t.passages, t.speakers
    n_passages = select(func.count()).where(p.c.document_id == d.c.id).scalar_subquery()
    n_speakers = select(func.count()).where(s.c.document_id == d.c.id).scalar_subquery()
    query = (
        select(
            d.c.id, d.c.name, c.c.name.label("case"), n_speakers.label("speakers"),
            n_passages.label("passages"), d.c.n_chars.label("characters"), d.c.encoding,
            d.c.style, d.c.script, d.c.warnings,
        )
        .select_from(d.outerjoin(c, d.c.case_id == c.c.id))
        .order_by(d.c.id)
    )
    with store.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        row["warnings"] = len(json.loads(row["warnings"]))
        row["case"] = row["case"] or ""
    return rows


def document_detail(store, doc_id: int) -> dict:
    d, c = t.documents, t.cases
    with store.read() as conn:
        doc = conn.execute(
            select(d, c.c.name.label("case")).select_from(d.outerjoin(c, d.c.case_id == c.c.id)).where(d.c.id == doc_id)
        ).mappings().one()
        attrs = dict(conn.execute(select(t.attributes.c.key, t.attributes.c.value).where(t.attributes.c.document_id == doc_id)).all())
        speakers = [dict(r._mapping) for r in conn.execute(
            select(t.speakers.c.label, t.speakers.c.role).where(t.speakers.c.document_id == doc_id).order_by(t.speakers.c.id)
        )]
    info = {k: doc[k] for k in ("id", "name", "case", "file_name", "source_path", "encoding", "style", "script", "n_chars", "imported_at")}
    info["case"] = info["case"] or ""
    info["attributes"] = attrs
    info["speakers"] = speakers
    info["warnings"] = json.loads(doc["warnings"])
    info["notes"] = json.loads(doc["notes"])
    info["passages"] = passages(store, doc_ids=[doc_id], with_sentences=True, text=doc["text"])
    return info


def passages(store, doc_ids: list[int] | None = None, with_sentences: bool = False, text: str | None = None) -> list[dict]:
    """Passage rows with the PASSAGE_COLUMNS (and 'timestamp', 'line', 'sentences' on request)."""
    d, c, p, s = t.documents, t.cases, t.passages, t.speakers
    query = (
        select(
            p.c.id.label("_pid"), d.c.id.label("_doc"), p.c.seq, d.c.name.label("document"),
            c.c.name.label("case"), s.c.label.label("speaker"), s.c.role, p.c.start, p.c.end,
            p.c.timestamp, p.c.line,
        )
        .select_from(p.join(d, p.c.document_id == d.c.id).outerjoin(c, d.c.case_id == c.c.id).outerjoin(s, p.c.speaker_id == s.c.id))
        .order_by(d.c.id, p.c.seq)
    )
    if doc_ids is not None:
        query = query.where(d.c.id.in_(doc_ids))
    texts: dict[int, str] = {}
    out = []
    with store.read() as conn:
        sentence_rows: dict[int, list] = {}
        if with_sentences:
            sq = select(t.sentences.c.passage_id, t.sentences.c.start, t.sentences.c.end).order_by(t.sentences.c.passage_id, t.sentences.c.seq)
            if doc_ids is not None:
                sq = sq.join(p, p.c.id == t.sentences.c.passage_id).where(p.c.document_id.in_(doc_ids))
            for pid, start, end in conn.execute(sq):
                sentence_rows.setdefault(pid, []).append((start, end))
        for r in conn.execute(query):
            if r._doc not in texts:
                texts[r._doc] = text if (text is not None and doc_ids == [r._doc]) else conn.execute(
                    select(d.c.text).where(d.c.id == r._doc)
                ).scalar_one()
            body = texts[r._doc]
            row = {
                "passage": passage_ref(r._doc, r.seq),
                "document": r.document,
                "case": r.case or "",
                "speaker": r.speaker or "",
                "role": r.role or "",
                "start": r.start,
                "end": r.end,
                "text": body[r.start : r.end],
                "timestamp": r.timestamp or "",
                "line": r.line,
            }
            if with_sentences:
                row["sentences"] = sentence_rows.get(r._pid, [])
            out.append(row)
    return out


def set_speaker_role(store, doc_id: int, speaker: str, role: str) -> int:
    """Set the role of one speaker label in a document; returns the number of passages affected."""
    with store.transaction() as conn:
        labels = [label for (label,) in conn.execute(select(t.speakers.c.label).where(t.speakers.c.document_id == doc_id))]
        if speaker not in labels:
            raise not_found("speaker", speaker, labels)
        conn.execute(
            update(t.speakers).where(t.speakers.c.document_id == doc_id, t.speakers.c.label == speaker).values(role=role)
        )
        sid = conn.execute(select(t.speakers.c.id).where(t.speakers.c.document_id == doc_id, t.speakers.c.label == speaker)).scalar_one()
        return conn.execute(select(func.count()).where(t.passages.c.speaker_id == sid)).scalar_one()


CODING_COLUMNS = ["document", "case", "speaker", "role", "passage", "start", "end", "text", "code", "coder",
                  "origin", "status", "evidence", "id", "unit", "rule", "score", "created_at", "updated_at"]


def codings(store, doc_ids: list[int] | None = None, code: str | None = None, coder: str | None = None,
            status: list[str] | None = None, origin: list[str] | None = None) -> list[dict]:
    """Coding rows with CODING_COLUMNS, ordered by document and offset. ``code`` includes descendants."""
    d, c, p, s, k = t.documents, t.cases, t.passages, t.speakers, t.codings
    query = (
        select(k, d.c.name.label("document"), c.c.name.label("case"), s.c.label.label("speaker"),
               s.c.role.label("role"), p.c.seq.label("seq"))
        .select_from(k.join(d, k.c.document_id == d.c.id).outerjoin(c, d.c.case_id == c.c.id)
                     .outerjoin(p, k.c.passage_id == p.c.id).outerjoin(s, p.c.speaker_id == s.c.id))
        .order_by(d.c.id, k.c.start, k.c.end, k.c.code, k.c.coder, k.c.id)
    )
    if doc_ids is not None:
        query = query.where(k.c.document_id.in_(doc_ids))
    if code:
        query = query.where((k.c.code == code) | k.c.code.startswith(code.rstrip("/") + "/"))
    if coder:
        query = query.where(k.c.coder == coder)
    if status:
        query = query.where(k.c.status.in_(status))
    if origin:
        query = query.where(k.c.origin.in_(origin))
    texts: dict[int, str] = {}
    out = []
    with store.read() as conn:
        for r in conn.execute(query).mappings():
            doc_id = r["document_id"]
            if doc_id not in texts:
                texts[doc_id] = conn.execute(select(d.c.text).where(d.c.id == doc_id)).scalar_one()
            row = {col: r[col] for col in ("document", "start", "end", "code", "coder", "origin", "status",
                                             "id", "unit", "rule", "score", "created_at", "updated_at")}
            row.update(
                case=r["case"] or "", speaker=r["speaker"] or "", role=r["role"] or "",
                passage=passage_ref(doc_id, r["seq"]) if r["seq"] is not None else "",
                text=texts[doc_id][r["start"]:r["end"]],
                evidence=r["evidence"] or "", unit=r["unit"] or "", rule=r["rule"] or "", score=r["score"] or "",
                absent=int(r["absent"] or 0), pin_note=r["pin_note"] or "",  # not in CODING_COLUMNS: added by callers
            )
            out.append(row)
    return out


def codebook_rows(store, codebook) -> list[dict]:
    """The code tree in order, with rule counts and coding counts by status/origin."""
    k = t.codings
    counts: dict[tuple[str, str], int] = {}
    with store.read() as conn:
        for code, origin, status, n in conn.execute(
            select(k.c.code, k.c.origin, k.c.status, func.count()).group_by(k.c.code, k.c.origin, k.c.status)
        ):
            counts[(code, status)] = counts.get((code, status), 0) + n
            if origin == "manual":
                counts[(code, "manual")] = counts.get((code, "manual"), 0) + n
    return [
        {
            "path": c.path, "label": c.label_zh, "label_en": c.label_en or "", "depth": c.path.count("/"),
            "rules": len(c.rules),
            **{s: counts.get((c.path, s), 0) for s in ("proposed", "accepted", "rejected", "manual")},
        }
        for c in codebook.codes
    ]


def sync_codes(conn, codebook, version: str) -> None:
    """Mirror the codebook's codes into the store (for reports and foreign tools)."""
    existing = {p: i for p, i in conn.execute(select(t.codes.c.path, t.codes.c.id))}
    for sort, code in enumerate(codebook.codes):
        row = dict(path=code.path, parent=code.parent, label=code.label_zh or code.label_en or code.id,
                   label_en=code.label_en,
                   definition=code.definition, color=code.color, sort=sort, codebook_version=version)
        if code.path in existing:
            conn.execute(update(t.codes).where(t.codes.c.id == existing[code.path]).values(**row))
        else:
            conn.execute(insert(t.codes).values(**row))


# ---------------------------------------------------------------------------- rows by id (annotate, merge, sheets, review)


def coding_row(conn, coding_id: int) -> dict:
    return dict(conn.execute(select(t.codings).where(t.codings.c.id == coding_id)).mappings().one())


def memo_row(conn, memo_id: int) -> dict:
    return dict(conn.execute(select(t.memos).where(t.memos.c.id == memo_id)).mappings().one())


def document_text(conn, doc_id: int) -> str:
    return conn.execute(select(t.documents.c.text).where(t.documents.c.id == doc_id)).scalar_one()


def passage_at(conn, doc_id: int, offset: int):
    """(passage row id, start, end, seq) of the passage containing ``offset``, else None."""
    p = t.passages
    return conn.execute(
        select(p.c.id, p.c.start, p.c.end, p.c.seq)
        .where(p.c.document_id == doc_id, p.c.start <= offset, p.c.end > offset)
    ).first()


def passage_ref_of(conn, passage_id: int | None) -> str:
    """``DOC:SEQ`` of a passage row id ("" for none)."""
    if passage_id is None:
        return ""
    r = conn.execute(select(t.passages.c.document_id, t.passages.c.seq).where(t.passages.c.id == passage_id)).first()
    return f"{r.document_id}:{r.seq}" if r else ""


# ---------------------------------------------------------------------------- which codings count

# the coders recorded on the program's own proposals (autocode, suggest): they belong to no coder
AUTOCODER = "autocode"
SUGGESTER = "suggest"


def counted(proposed: bool = False):
    """The rule every report and ``qualcode run`` use for which codings count: accepted
    codings and manual ones that are not rejected, plus unreviewed proposals if ``proposed``."""
    k = t.codings
    # plain values: database drivers may adapt an Enum member by its name
    statuses = [Status.ACCEPTED.value, Status.PROPOSED.value] if proposed else [Status.ACCEPTED.value]
    return k.c.status.in_(statuses) | ((k.c.origin == Origin.MANUAL.value) & (k.c.status != Status.REJECTED.value))


def count_documents(store) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(t.documents)).scalar_one()


def count_counted_codings(store, proposed: bool = False) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(t.codings).where(counted(proposed))).scalar_one()


# ---------------------------------------------------------------------------- coders' units (agreement, adjudication)

HEADER = "header"  # a passage without a speaker in a document whose other passages have speakers
CODABLE_ROLES = (Role.INTERVIEWEE.value, Role.UNKNOWN.value)  # what agreement compares by default


def coder_units(conn, unit: str, doc_ids: list[int], roles: tuple[str, ...] | None = CODABLE_ROLES,
                headers: bool = False) -> list[tuple[int, str, int, int, str]]:
    """(document id, label, start, end, role) of the units of ``doc_ids`` coders are compared on.

    ``unit``: passage (label 3:12), sentence (3:12.2) or document (3). Passages and sentences
    keep only those spoken in ``roles`` (the speaker's role; ``unknown`` for a speaker without
    one, or for every passage of a document without speakers; None = every role). Headers (a
    passage without a speaker in a document with speakers) are left out unless ``headers``.
    """
    d, p, s, sp = t.documents, t.passages, t.sentences, t.speakers
    if not doc_ids:
        return []
    if unit == "document":
        q = select(d.c.id, d.c.n_chars).where(d.c.id.in_(doc_ids)).order_by(d.c.id)
        return [(i, str(i), 0, n, "") for i, n in conn.execute(q)]
    with_speakers = {i for (i,) in conn.execute(
        select(p.c.document_id).where(p.c.document_id.in_(doc_ids), p.c.speaker_id.is_not(None)).distinct())}
    q = (select(p.c.id, p.c.document_id, p.c.seq, p.c.start, p.c.end, p.c.speaker_id, sp.c.role)
         .select_from(p.outerjoin(sp, p.c.speaker_id == sp.c.id))
         .where(p.c.document_id.in_(doc_ids)).order_by(p.c.document_id, p.c.seq))
    passages = []
    for pid, doc, seq, a, b, speaker, role in conn.execute(q):
        kind = (role or Role.UNKNOWN.value) if speaker is not None else (
            HEADER if doc in with_speakers else Role.UNKNOWN.value)
        if kind == HEADER and not headers:
            continue
        if kind != HEADER and roles is not None and kind not in roles:
            continue
        passages.append((pid, doc, seq, a, b, kind))
    if unit == "passage":
        return [(doc, f"{doc}:{seq}", a, b, kind) for _, doc, seq, a, b, kind in passages]
    by_pid = {pid: (doc, seq, kind) for pid, doc, seq, _, _, kind in passages}
    out = []
    for pid, sseq, a, b in conn.execute(
            select(s.c.passage_id, s.c.seq, s.c.start, s.c.end).join(p, p.c.id == s.c.passage_id)
            .where(p.c.document_id.in_(doc_ids)).order_by(p.c.document_id, p.c.seq, s.c.seq)):
        if pid in by_pid:
            doc, seq, kind = by_pid[pid]
            out.append((doc, f"{doc}:{seq}.{sseq}", a, b, kind))
    return out


def coder_spans(conn, coders: list[str], doc_ids: list[int] | None = None) -> dict[str, dict[int, list[tuple]]]:
    """coder → document → [(start, end, code, id)] of each coder's accepted codings (manual,
    imported, and the proposals they accepted), in id order."""
    k = t.codings
    out: dict[str, dict[int, list]] = {c: {} for c in coders}
    q = select(k.c.coder, k.c.document_id, k.c.start, k.c.end, k.c.code, k.c.id).where(
        k.c.coder.in_(coders), k.c.status == Status.ACCEPTED.value, k.c.absent == 0)  # presence only
    if doc_ids is not None:
        q = q.where(k.c.document_id.in_(doc_ids))
    for coder, doc, start, end, code, cid in conn.execute(q.order_by(k.c.id)):
        out[coder].setdefault(doc, []).append((start, end, code, cid))
    return out


def seen_documents(conn, coders: list[str]) -> dict[str, set[int]]:
    """Per coder: documents assigned to them or in which they coded or decided anything."""
    seen: dict[str, set[int]] = {c: set() for c in coders}
    for doc, coder in conn.execute(select(t.assignments.c.document_id, t.assignments.c.coder)
                                   .where(t.assignments.c.coder.in_(coders))):
        seen[coder].add(doc)
    for doc, coder in conn.execute(select(t.codings.c.document_id, t.codings.c.coder).distinct()
                                   .where(t.codings.c.coder.in_(coders), t.codings.c.status != Status.PROPOSED.value)):
        seen[coder].add(doc)
    return seen


def open_blind_assignments(conn, coders: list[str], doc_ids: list[int] | None = None) -> list[tuple[int, str]]:
    """(document id, coder) of the open blind assignments of ``coders``."""
    a = t.assignments
    q = select(a.c.document_id, a.c.coder).where(a.c.coder.in_(coders), a.c.blind == 1, a.c.closed_at.is_(None))
    if doc_ids is not None:
        q = q.where(a.c.document_id.in_(doc_ids))
    return [(d, c) for d, c in conn.execute(q.order_by(a.c.document_id, a.c.coder))]
