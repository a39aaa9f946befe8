"""Manual codings, review decisions, memos, in-vivo codes, the audit log and undo.

Every change a person makes goes through this module and is written, in the same
transaction, to ``audit_log`` with a ``detail`` JSON that is enough to invert it:

* ``inserted``: {"codings": [row, ...], "memos": [row, ...]}  → undo deletes them
* ``deleted``:  {"codings": [row, ...], "memos": [row, ...]}  → undo puts them back (same ids)
* ``updated``:  {"codings": [{"id", "before", "after"}, ...]}  → undo restores ``before``
* ``codebook``: {"path", "before", "after"} (file text)        → undo restores the file

Undo checks that what it is about to revert is still as the action left it; if someone
changed it since, it refuses (naming the action) rather than guess.

A decision on a proposal (accept/reject) makes the coding the decider's: ``coder`` and
``decided_by`` become the deciding coder and ``decided_at``/``updated_at`` the time, while
``origin``, ``rule``, ``evidence`` and ``score`` keep recording where the proposal came from.
Manual codings are created accepted with ``decided_by`` = their coder.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, update

from qualcode.errors import ConfigError, NotFound, QualcodeError
from qualcode.store import schema as t, utcnow
from qualcode.store.locking import lock_rows

STATUSES = ("proposed", "accepted", "rejected")
ORIGINS = ("rule", "manual", "model", "import")
MEMO_TARGETS = ("code", "doc", "passage", "coding")
LOG_COLUMNS = ["id", "at", "coder", "action", "target", "summary", "undone"]
MEMO_COLUMNS = ["id", "target_type", "target", "coder", "text", "created_at"]
LIST_COLUMNS = ["id", "passage", "document", "speaker", "start", "end", "code", "coder", "origin", "status", "text"]
_CODING_COLS = [c.name for c in t.codings.columns]
_MEMO_COLS = [c.name for c in t.memos.columns]


class UndoError(QualcodeError):
    """An action that can no longer be undone because its target changed since."""


# ---------------------------------------------------------------------------- helpers


def coder_name(project, coder: str | None = None) -> str:
    """The coder: ``coder`` if given, else QUALCODE_CODER, else the project's default coder."""
    name = (coder or "").strip() or project.default_coder
    if not name:
        raise ConfigError("no coder name", hint="pass --coder NAME or set QUALCODE_CODER")
    return name


def resolve_code(codebook, ref: str) -> str:
    """A code path from a path, a unique id (last path segment) or a unique Chinese/English label."""
    from qualcode.project import not_found

    ref = ref.strip().strip("/")
    if ref in codebook:
        return ref
    for attr in ("id", "label_zh", "label_en"):
        hits = [c.path for c in codebook.codes if getattr(c, attr) == ref]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise NotFound(f"code {ref!r} is ambiguous: {', '.join(hits)}", hint="give the full code path")
    candidates = [c.path for c in codebook.codes] + [c.label_zh for c in codebook.codes if c.label_zh]
    err = not_found("code", ref, candidates)
    err.message = f"no code {ref!r} in the codebook"
    hint = err.hint or ""
    guess = hint.removeprefix("did you mean ").removesuffix("?") if hint.startswith("did you mean") else None
    if guess and guess not in codebook:  # a label matched: suggest its path
        path = next(c.path for c in codebook.codes if c.label_zh == guess)
        err.hint = f"did you mean {path} ({guess})?"
    elif not guess:
        err.hint = "see the codes with 'qualcode codebook show'"
    raise err


def resolve_coding(conn, ref) -> dict:
    """The coding row for an id; unknown → NotFound suggesting the closest id."""
    from qualcode.project import not_found

    text = str(ref).strip().lstrip("#")
    row = None
    if text.isdigit():
        row = conn.execute(select(t.codings).where(t.codings.c.id == int(text))).mappings().first()
    if row is None:
        ids = [str(i) for (i,) in conn.execute(select(t.codings.c.id).order_by(t.codings.c.id))]
        err = not_found("coding", text, ids)
        if not (err.hint or "").startswith("did you mean"):
            err.hint = "list them with 'qualcode code list'"
        raise err
    return dict(row)


def _log(conn, coder: str, action: str, target: str | None, detail: dict) -> int:
    return conn.execute(insert(t.audit_log).values(
        at=utcnow(), coder=coder, action=action, target=target,
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
    )).inserted_primary_key[0]


def _coding(conn, coding_id: int) -> dict:
    return dict(conn.execute(select(t.codings).where(t.codings.c.id == coding_id)).mappings().one())


def _memo(conn, memo_id: int) -> dict:
    return dict(conn.execute(select(t.memos).where(t.memos.c.id == memo_id)).mappings().one())


def _doc_text(conn, doc_id: int) -> str:
    return conn.execute(select(t.documents.c.text).where(t.documents.c.id == doc_id)).scalar_one()


def _passage_at(conn, doc_id: int, offset: int):
    """(passage row id, start, end, seq) of the passage containing ``offset``, else None."""
    p = t.passages
    return conn.execute(
        select(p.c.id, p.c.start, p.c.end, p.c.seq)
        .where(p.c.document_id == doc_id, p.c.start <= offset, p.c.end > offset)
    ).first()


def passage_ref_of(conn, passage_id: int | None) -> str:
    if passage_id is None:
        return ""
    r = conn.execute(select(t.passages.c.document_id, t.passages.c.seq).where(t.passages.c.id == passage_id)).first()
    return f"{r.document_id}:{r.seq}" if r else ""


# ---------------------------------------------------------------------------- spans


@dataclass
class Span:
    document_id: int
    passage_id: int | None
    start: int
    end: int
    unit: str  # passage | span


def find_span(project, *, passage: str | None = None, doc: str | None = None, quote: str | None = None,
              start: int | None = None, end: int | None = None) -> Span:
    """Where a manual coding goes: a passage, a quote found in a document (or passage), or offsets."""
    from qualcode.store import queries
    from qualcode.text.script import fold

    store = project.store
    if passage is None and doc is None:
        raise ConfigError("say what to code: a passage id (3:12), or --doc with --quote or --start/--end")
    if quote is not None and (start is not None or end is not None):
        raise ConfigError("give either --quote or --start/--end, not both")
    with store.read() as conn:
        if passage is not None:
            pid = queries.resolve_passage(store, passage)
            prow = conn.execute(select(t.passages).where(t.passages.c.id == pid)).mappings().one()
            doc_id, lo, hi = prow["document_id"], prow["start"], prow["end"]
            if doc is not None and project.document_id(doc) != doc_id:
                raise ConfigError(f"passage {passage} is not in document {doc!r}")
            if quote is None and start is None and end is None:
                return Span(doc_id, pid, lo, hi, "passage")
        else:
            doc_id = project.document_id(doc)
            lo, hi = 0, None
        text = _doc_text(conn, doc_id)
        hi = len(text) if hi is None else hi
        where = f"passage {passage}" if passage else f"document {doc}"
        if quote is not None:
            quote = quote.strip()
            if not quote:
                raise ConfigError("--quote is empty")
            hits = _occurrences(text, quote, lo, hi)
            if not hits:  # traditional/simplified variants: fold() maps one-for-one, offsets stay valid
                hits = _occurrences(fold(text), fold(quote), lo, hi)
            if not hits:
                raise NotFound(f"{quote!r} does not occur in {where}",
                               hint="copy the words exactly as 'qualcode docs show' prints them")
            if len(hits) > 1:
                places = ", ".join(_where(conn, doc_id, s) for s in hits[:6])
                raise ConfigError(f"{quote!r} occurs {len(hits)} times in {where} (at {places})",
                                  hint="give a passage id with it (code add 3:12 --quote ...), a longer quote, or --start/--end")
            s, e = hits[0], hits[0] + len(quote)
        else:
            if start is None or end is None:
                raise ConfigError("--start and --end go together")
            s, e = start, end
            if not (0 <= s < e <= len(text)):
                raise ConfigError(f"span [{s}, {e}) is outside document {doc_id} (0 to {len(text)} characters)",
                                  hint="offsets are characters, half-open [start, end)")
        p = _passage_at(conn, doc_id, s)
        unit = "passage" if p is not None and (p.start, p.end) == (s, e) else "span"
        return Span(doc_id, p.id if p is not None else None, s, e, unit)


def _occurrences(text: str, needle: str, lo: int, hi: int) -> list[int]:
    out, i = [], text.find(needle, lo, hi)
    while i != -1:
        out.append(i)
        i = text.find(needle, i + 1, hi)
    return out


def _where(conn, doc_id: int, offset: int) -> str:
    p = _passage_at(conn, doc_id, offset)
    return f"{doc_id}:{p.seq}" if p is not None else f"offset {offset}"


# ---------------------------------------------------------------------------- codings


def _insert_manual(conn, span: Span, code: str, coder: str, now: str, codebook_version: str | None,
                   origin: str = "manual") -> dict:
    dup = conn.execute(select(t.codings.c.id).where(
        t.codings.c.document_id == span.document_id, t.codings.c.start == span.start, t.codings.c.end == span.end,
        t.codings.c.code == code, t.codings.c.coder == coder, t.codings.c.status == "accepted",
    )).scalar()
    if dup is not None:
        raise QualcodeError(f"{coder} already coded this span as {code} (coding {dup})")
    new_id = conn.execute(insert(t.codings).values(
        document_id=span.document_id, passage_id=span.passage_id, start=span.start, end=span.end, code=code,
        coder=coder, origin=origin, status="accepted", unit=span.unit, codebook_version=codebook_version,
        created_at=now, updated_at=now, decided_by=coder, decided_at=now,
    )).inserted_primary_key[0]
    return _coding(conn, new_id)


def add_coding(project, code: str, *, passage: str | None = None, doc: str | None = None, quote: str | None = None,
               start: int | None = None, end: int | None = None, coder: str | None = None,
               memo: str | None = None) -> dict:
    """Code a passage, a quote or an exact span by hand; returns the new coding row."""
    coder = coder_name(project, coder)
    codebook = project.codebook()
    path = resolve_code(codebook, code)
    span = find_span(project, passage=passage, doc=doc, quote=quote, start=start, end=end)
    now = utcnow()
    with project.store.transaction() as conn:
        row = _insert_manual(conn, span, path, coder, now, codebook.version)
        memos = [_insert_memo(conn, "coding", str(row["id"]), coder, memo, now)] if memo else []
        _log(conn, coder, "code-add", f"coding {row['id']}", {"inserted": {"codings": [row], "memos": memos},
             "summary": f"{path} on {passage_ref_of(conn, span.passage_id) or span.document_id} [{span.start}, {span.end})"})
    return row


def remove_coding(project, coding: str | int, coder: str | None = None) -> dict:
    """Delete a manual or imported coding (and its memos); proposals are rejected instead."""
    coder = coder_name(project, coder)
    with project.store.transaction() as conn:
        row = resolve_coding(conn, coding)
        if row["origin"] in ("rule", "model"):
            verb = "reject" if row["status"] != "rejected" else "leave"
            raise QualcodeError(
                f"coding {row['id']} is a {row['origin']} proposal ({row['status']}); removing it would let it be proposed again",
                hint=f"{verb} it instead: qualcode reject {row['id']}" if verb == "reject" else "it is already rejected")
        memos = [dict(m) for m in conn.execute(select(t.memos).where(
            t.memos.c.target_type == "coding", t.memos.c.target == str(row["id"]))).mappings()]
        conn.execute(delete(t.memos).where(t.memos.c.id.in_([m["id"] for m in memos])))
        conn.execute(delete(t.codings).where(t.codings.c.id == row["id"]))
        _log(conn, coder, "code-remove", f"coding {row['id']}", {"deleted": {"codings": [row], "memos": memos},
             "summary": f"{row['code']} by {row['coder']} [{row['start']}, {row['end']})"})
    return row


def list_codings(project, *, doc: str | None = None, code: str | None = None, coder: str | None = None,
                 status: list[str] | None = None, origin: list[str] | None = None,
                 passage: str | None = None) -> list[dict]:
    """Coding rows (queries.CODING_COLUMNS) filtered; ``code`` includes its descendants."""
    from qualcode.store import queries
    doc_ids = [project.document_id(doc)] if doc else None
    if code:
        code = resolve_code(project.codebook(), code) if project.codebook_path else code
    rows = queries.codings(project.store, doc_ids=doc_ids, code=code, coder=coder,
                           status=list(status or []), origin=list(origin or []))
    if passage:
        ref = _canonical_passage(project, passage)  # "name:3" → "1:3"; a clear error for a bad id
        rows = [r for r in rows if r["passage"] == ref]
    return rows


def _canonical_passage(project, ref: str) -> str:
    from qualcode.store import queries
    pid = queries.resolve_passage(project.store, ref)
    with project.store.read() as conn:
        return passage_ref_of(conn, pid)


# ---------------------------------------------------------------------------- decisions


@dataclass
class DecisionReport:
    decision: str
    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)  # decided by another coder first: kept as they are
    audit_id: int | None = None

    def summary(self) -> str:
        verb = {"accepted": "accepted", "rejected": "rejected"}[self.decision]
        text = f"{len(self.changed)} {verb}, {len(self.unchanged)} already {verb}"
        return text + (f", {len(self.conflicts)} conflicts" if self.conflicts else "")


def decide(project, decision: str, codings: list | None = None, *, code: str | None = None,
           origin: list[str] | None = None, doc: str | None = None, status: list[str] | None = None,
           coder: str | None = None, action: str | None = None) -> DecisionReport:
    """Accept or reject codings by id, or every coding matching the filters (default: proposals)."""
    if decision not in ("accepted", "rejected"):
        raise ValueError("decision must be 'accepted' or 'rejected'")
    coder = coder_name(project, coder)
    codings = list(codings or [])
    if not codings and not (code or origin or doc):
        raise ConfigError("say which codings: give coding ids, or filters (--code, --origin, --doc)")
    report = DecisionReport(decision)
    now = utcnow()
    with project.store.transaction() as conn:
        if codings:
            ids = [resolve_coding(conn, c)["id"] for c in codings]
            # re-read under a row lock (FOR UPDATE on PostgreSQL): another coder may have decided meanwhile
            locked = {r["id"]: dict(r) for r in lock_rows(conn, t.codings, t.codings.c.id.in_(ids))}
            rows = [locked[i] for i in dict.fromkeys(ids)]
        else:
            q = select(t.codings).with_for_update().where(t.codings.c.status.in_(list(status or ["proposed"])))
            if code:
                path = resolve_code(project.codebook(), code)
                q = q.where((t.codings.c.code == path) | t.codings.c.code.startswith(path + "/"))
            if origin:
                q = q.where(t.codings.c.origin.in_(list(origin)))
            if doc:
                q = q.where(t.codings.c.document_id == project.document_id(doc))
            rows = [dict(r) for r in conn.execute(q.order_by(t.codings.c.id)).mappings()]
        updates = []
        for row in rows:
            if row["origin"] == "manual" and decision == "rejected":
                raise QualcodeError(f"coding {row['id']} was coded by hand; it cannot be rejected",
                                    hint=f"remove it instead: qualcode code remove {row['id']}")
            if row["status"] == decision and row["coder"] == coder:
                report.unchanged.append(row["id"])
                continue
            if row["status"] != "proposed" and row["coder"] != coder:
                # someone else's decision or manual coding: never overwritten, reported instead
                report.conflicts.append({"id": row["id"], "status": row["status"], "coder": row["coder"],
                                         "code": row["code"], "at": row["updated_at"]})
                continue
            after = dict(status=decision, coder=coder, decided_by=coder, decided_at=now, updated_at=now)
            conn.execute(update(t.codings).where(t.codings.c.id == row["id"]).values(**after))
            updates.append({"id": row["id"], "before": {k: row[k] for k in after}, "after": after})
            report.changed.append(row["id"])
        if updates:
            verb = "accept" if decision == "accepted" else "reject"
            target = f"coding {rows[0]['id']}" if len(updates) == 1 else f"{len(updates)} codings"
            report.audit_id = _log(conn, coder, action or verb, target, {
                "updated": {"codings": updates}, "summary": _codes_summary(rows, report.changed)})
    return report


def _codes_summary(rows: list[dict], ids: list[int]) -> str:
    chosen = [r for r in rows if r["id"] in set(ids)]
    codes = sorted({r["code"] for r in chosen})
    head = ", ".join(codes[:3]) + (f" and {len(codes) - 3} more" if len(codes) > 3 else "")
    return f"{len(chosen)} × {head}" if len(chosen) > 1 else f"{head} [{chosen[0]['start']}, {chosen[0]['end']})"


def change_code(project, coding: int, new_code: str, coder: str | None = None) -> tuple[dict, dict]:
    """Reject a proposal and code its span with ``new_code`` instead (one undoable action)."""
    coder = coder_name(project, coder)
    codebook = project.codebook()
    path = resolve_code(codebook, new_code)
    now = utcnow()
    with project.store.transaction() as conn:
        row = resolve_coding(conn, coding)
        if row["code"] == path:
            raise QualcodeError(f"coding {row['id']} is already {path}")
        after = dict(status="rejected", coder=coder, decided_by=coder, decided_at=now, updated_at=now)
        updates = []
        if row["origin"] != "manual":
            conn.execute(update(t.codings).where(t.codings.c.id == row["id"]).values(**after))
            updates.append({"id": row["id"], "before": {k: row[k] for k in after}, "after": after})
        span = Span(row["document_id"], row["passage_id"], row["start"], row["end"], row["unit"] or "span")
        new = _insert_manual(conn, span, path, coder, now, codebook.version)
        deleted = {}
        if row["origin"] == "manual":  # a hand coding is simply recoded
            conn.execute(delete(t.codings).where(t.codings.c.id == row["id"]))
            deleted = {"codings": [row], "memos": []}
        _log(conn, coder, "recode", f"coding {row['id']}", {
            "updated": {"codings": updates}, "inserted": {"codings": [new], "memos": []}, "deleted": deleted,
            "summary": f"{row['code']} → {path} [{row['start']}, {row['end']})"})
    return row, new


# ---------------------------------------------------------------------------- memos


def _insert_memo(conn, target_type: str, target: str, coder: str, text: str, now: str) -> dict:
    memo_id = conn.execute(insert(t.memos).values(
        target_type=target_type, target=target, coder=coder, text=text, created_at=now)).inserted_primary_key[0]
    return _memo(conn, memo_id)


def resolve_memo_target(project, target_type: str, target: str) -> str:
    """The canonical target: a code path, a document id, a passage id (DOC:SEQ) or a coding id."""
    if target_type not in MEMO_TARGETS:
        raise ConfigError(f"memo target type {target_type!r}; use {', '.join(MEMO_TARGETS)}")
    if target_type == "code":
        return resolve_code(project.codebook(), target)
    if target_type == "doc":
        return str(project.document_id(target))
    if target_type == "passage":
        return _canonical_passage(project, target)
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
        memo = _insert_memo(conn, target_type, canonical, coder, text, utcnow())
        _log(conn, coder, "memo-add", f"{target_type} {canonical}",
             {"inserted": {"codings": [], "memos": [memo]}, "summary": text[:40]})
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


# ---------------------------------------------------------------------------- in-vivo codes


def new_code(project, code_id: str, parent: str | None, label: str, *, label_en: str | None = None,
             definition: str | None = None, coder: str | None = None):
    """Add an emergent (in-vivo) code to the project's codebook file; returns the Code."""
    from qualcode.autocode.run import sync_codes
    from qualcode.codebook.model import Code, CodebookError, parse_codebook

    coder = coder_name(project, coder)
    path = project.codebook_path
    codebook = project.codebook()
    parent_path = resolve_code(codebook, parent) if parent else None
    try:
        code = codebook.add_code(Code(path="", id=code_id, parent=parent_path, label_zh=label.strip() or None,
                                      label_en=label_en, definition=definition, meta={"in_vivo": True, "coder": coder}))
    except CodebookError as exc:  # one problem: say it on one line
        raise QualcodeError(exc.problems[0], hint="choose another id") from None
    before = path.read_text(encoding="utf-8")
    after = _insert_code_text(before, codebook, code)
    try:
        ok = parse_codebook(after, source=str(path), name=codebook.name).to_dict() == codebook.to_dict()
    except QualcodeError:
        ok = False
    if not ok:  # layout we cannot edit in place: write the canonical form (comments are lost)
        from qualcode.codebook.model import dumps

        after = dumps(codebook)
    with project.store.transaction() as conn:
        sync_codes(conn, codebook, codebook.version)
        _log(conn, coder, "code-new", code.path, {
            "codebook": {"path": path.relative_to(project.root).as_posix(), "before": before, "after": after},
            "summary": f"{code.path} {code.label_zh or ''} in {path.name}"})
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(after, encoding="utf-8")
        tmp.replace(path)
    return code


def _insert_code_text(text: str, codebook, code) -> str:
    """``text`` with ``code`` inserted as the last child of its parent, keeping comments and layout."""
    import yaml

    from qualcode.codebook.model import _Dumper

    try:
        root = yaml.compose(text)
        if root is None:  # an empty file
            return ""
        m = _pairs(root)
        seq = m.get("codes")
        owner = root
        for segment in (code.parent.split("/") if code.parent else []):
            if seq is None:
                return ""
            owner = next(item for item in seq.value if _scalar(_pairs(item).get("id")) == segment)
            seq = _pairs(owner).get("children")
    except Exception:  # unusual layout: the caller falls back to a canonical dump
        return ""
    item = codebook._code_dict(code)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if seq is not None and isinstance(seq, yaml.SequenceNode) and not seq.flow_style and seq.value:
        dash_col = seq.value[0].start_mark.column - 2
        at = _content_end_line(seq)
        block = yaml.dump([item], Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100, indent=2)
    elif seq is None and owner is not root:
        at = _content_end_line(owner)
        dash_col = owner.start_mark.column  # 'children:' lines up with the parent's keys
        block = yaml.dump([item], Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100, indent=2)
        block = "children:\n" + "".join("  " + ln for ln in block.splitlines(keepends=True))
    else:
        return ""
    pad = " " * dash_col
    new = "".join(pad + ln if ln.strip() else ln for ln in block.splitlines(keepends=True))
    return "".join(lines[:at]) + new + "".join(lines[at:])


def _pairs(node) -> dict:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: v for k, v in node.value}


def _scalar(node):
    return getattr(node, "value", None)


def _content_end_line(node) -> int:
    """Index of the first line after ``node``'s last content (trailing comments not included)."""
    import yaml

    def end(n):
        if isinstance(n, yaml.ScalarNode) or getattr(n, "flow_style", False):
            return n.end_mark
        kids = [v for pair in n.value for v in pair] if isinstance(n, yaml.MappingNode) else list(n.value)
        return max((end(k) for k in kids), key=lambda m: (m.line, m.column), default=n.end_mark)

    mark = end(node)
    return mark.line if mark.column == 0 else mark.line + 1


# ---------------------------------------------------------------------------- log and undo


def audit_log(project, coder: str | None = None, limit: int | None = None) -> list[dict]:
    """The audit trail, newest first: id, at, coder, action, target, summary, undone."""
    q = select(t.audit_log).order_by(t.audit_log.c.id.desc())
    if coder:
        q = q.where(t.audit_log.c.coder == coder)
    if limit:
        q = q.limit(limit)
    out = []
    with project.store.read() as conn:
        for r in conn.execute(q).mappings():
            detail = json.loads(r["detail"] or "{}")
            out.append({"id": r["id"], "at": r["at"], "coder": r["coder"], "action": r["action"],
                        "target": r["target"] or "", "summary": detail.get("summary", ""),
                        "undone": r["undone_at"] or ""})
    return out


UNDOABLE = ("code-add", "code-remove", "code-new", "accept", "reject", "recode", "memo-add", "sheet-import", "merge")


def undo(project, n: int = 1, coder: str | None = None) -> list[dict]:
    """Revert this coder's last ``n`` actions (newest first); returns the log rows undone."""
    coder = coder_name(project, coder)
    if n < 1:
        raise ConfigError("undo needs a positive number of actions")
    with project.store.read() as conn:
        entries = [dict(r) for r in conn.execute(
            select(t.audit_log).where(t.audit_log.c.coder == coder, t.audit_log.c.undone_at.is_(None),
                                      t.audit_log.c.action.in_(UNDOABLE))
            .order_by(t.audit_log.c.id.desc()).limit(n)).mappings()]
    if not entries:
        raise QualcodeError(f"nothing to undo for {coder}", hint="'qualcode log' shows the audit trail")
    done: list[dict] = []
    for entry in entries:
        try:
            with project.store.transaction() as conn:
                _invert(project, conn, json.loads(entry["detail"] or "{}"))
                now = utcnow()
                conn.execute(update(t.audit_log).where(t.audit_log.c.id == entry["id"]).values(undone_at=now))
                _log(conn, coder, "undo", f"action {entry['id']}", {"undid": entry["id"],
                     "summary": f"{entry['action']} {entry['target'] or ''}".strip()})
        except UndoError as exc:
            if done:
                exc.message = f"undid {len(done)} action(s), then stopped: {exc.message}"
            raise
        done.append({"id": entry["id"], "action": entry["action"], "target": entry["target"] or "",
                     "summary": json.loads(entry["detail"] or "{}").get("summary", "")})
    return done


_KEY_FIELDS = ("document_id", "start", "end", "code", "coder", "status", "created_at")


def _invert(project, conn, detail: dict) -> None:
    label = detail.get("summary", "")
    # 1. inserted rows go (only if they are still exactly what was inserted)
    ins = detail.get("inserted") or {}
    for m in ins.get("memos", []):
        cur = conn.execute(select(t.memos).where(t.memos.c.id == m["id"])).mappings().first()
        if cur is None or cur["text"] != m["text"]:
            raise UndoError(f"memo {m['id']} ({label}) was changed or deleted since")
        conn.execute(delete(t.memos).where(t.memos.c.id == m["id"]))
    for c in ins.get("codings", []):
        cur = conn.execute(select(t.codings).where(t.codings.c.id == c["id"])).mappings().first()
        if cur is None or any(cur[k] != c[k] for k in _KEY_FIELDS):
            raise UndoError(f"coding {c['id']} ({label}) was changed or removed since",
                            hint="'qualcode log' shows who changed it")
        conn.execute(delete(t.memos).where(t.memos.c.target_type == "coding", t.memos.c.target == str(c["id"])))
        conn.execute(delete(t.codings).where(t.codings.c.id == c["id"]))
    # 2. updated rows get their old values back
    for u in (detail.get("updated") or {}).get("codings", []):
        cur = conn.execute(select(t.codings).where(t.codings.c.id == u["id"])).mappings().first()
        if cur is None or any(cur[k] != v for k, v in u["after"].items()):
            raise UndoError(f"coding {u['id']} ({label}) was changed again since",
                            hint="undo the later change first ('qualcode log' shows it)")
        conn.execute(update(t.codings).where(t.codings.c.id == u["id"]).values(**u["before"]))
    # 3. deleted rows come back with their ids
    dele = detail.get("deleted") or {}
    for c in dele.get("codings", []):
        if conn.execute(select(t.codings.c.id).where(t.codings.c.id == c["id"])).first() is not None:
            raise UndoError(f"cannot restore coding {c['id']} ({label}): its id is in use again")
        conn.execute(insert(t.codings).values(**{k: c.get(k) for k in _CODING_COLS}))
    for m in dele.get("memos", []):
        conn.execute(insert(t.memos).values(**{k: m.get(k) for k in _MEMO_COLS}))
    # 4. the codebook file
    cb = detail.get("codebook")
    if cb:
        path = project.root / cb["path"]
        if not path.is_file() or path.read_text(encoding="utf-8") != cb["after"]:
            raise UndoError(f"{cb['path']} was edited since ({label})", hint="remove the code by hand")
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(cb["before"], encoding="utf-8")
        tmp.replace(path)


def coders(project) -> list[str]:
    """Every coder who has coded, decided or written a memo."""
    with project.store.read() as conn:
        names = {c for (c,) in conn.execute(select(t.codings.c.coder).distinct())}
        names |= {c for (c,) in conn.execute(select(t.memos.c.coder).distinct())}
        names |= {c for (c,) in conn.execute(select(t.codings.c.decided_by).distinct()) if c}
    return sorted(names)


__all__ = [
    "Span", "DecisionReport", "UndoError", "coder_name", "resolve_code", "resolve_coding", "find_span",
    "add_coding", "remove_coding", "list_codings", "decide", "change_code", "add_memo", "list_memos",
    "resolve_memo_target", "new_code", "audit_log", "undo", "coders",
]
