"""Manual codings and review decisions (accept, reject, recode), and in-vivo codes.

Every change goes through ``annotate.audit`` in the same transaction. A decision on a
proposal (accept/reject) makes the coding the decider's: ``coder`` and ``decided_by``
become the deciding coder and ``decided_at``/``updated_at`` the time, while ``origin``,
``rule``, ``evidence`` and ``score`` keep recording where the proposal came from. Manual
codings are created accepted with ``decided_by`` = their coder.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, update

from qualcode.annotate.audit import Event, record
from qualcode.annotate.coders import coder_name
from qualcode.annotate.decisions import (
    PROPOSAL_ORIGINS,
    apply_decision,
    blind_documents,
    is_proposal,
    open_proposals,
    own_decision,
    visible_rows,
)
from qualcode.annotate.memos import insert_memo
from qualcode.annotate.resolve import canonical_passage, resolve_code, resolve_coding
from qualcode.codebook.dump import dumps
from qualcode.codebook.edit import insert_code_text
from qualcode.codebook.load import parse_codebook
from qualcode.codebook.model import Code, CodebookError
from qualcode.errors import EXIT_PARTIAL, ConfigError, NotFound, QualcodeError
from qualcode.store import queries, schema as t, utcnow
from qualcode.store.locking import lock_rows
from qualcode.store.queries import sync_codes
from qualcode.text.script import fold
from qualcode.vocabulary import ORIGINS, STATUSES

LIST_COLUMNS = ["id", "passage", "document", "speaker", "start", "end", "code", "coder", "origin", "status", "text"]


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
        text = queries.document_text(conn, doc_id)
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
        p = queries.passage_at(conn, doc_id, s)
        unit = "passage" if p is not None and (p.start, p.end) == (s, e) else "span"
        return Span(doc_id, p.id if p is not None else None, s, e, unit)


def _occurrences(text: str, needle: str, lo: int, hi: int) -> list[int]:
    out, i = [], text.find(needle, lo, hi)
    while i != -1:
        out.append(i)
        i = text.find(needle, i + 1, hi)
    return out


def _where(conn, doc_id: int, offset: int) -> str:
    p = queries.passage_at(conn, doc_id, offset)
    return f"{doc_id}:{p.seq}" if p is not None else f"offset {offset}"


# ---------------------------------------------------------------------------- codings


def existing_coding(conn, span: Span, code: str, coder: str) -> dict | None:
    """This coder's accepted coding of ``code`` on exactly ``span`` (present or absent), if any."""
    row = conn.execute(select(t.codings).where(
        t.codings.c.document_id == span.document_id, t.codings.c.start == span.start, t.codings.c.end == span.end,
        t.codings.c.code == code, t.codings.c.coder == coder, t.codings.c.status == "accepted",
    ).order_by(t.codings.c.id)).mappings().first()
    return dict(row) if row is not None else None


def refuse_duplicate(conn, span: Span, code: str, coder: str, absent: bool = False) -> None:
    """A coder codes a code on a span once: a second coding of it (present or absent) is refused."""
    dup = existing_coding(conn, span, code, coder)
    if dup is None:
        return
    if bool(dup["absent"]) == bool(absent):
        raise QualcodeError(f"{coder} already coded this span as {code}{' (absent)' if absent else ''} "
                            f"(coding {dup['id']}); a duplicate would be counted twice")
    was, now = ("absent", "present") if dup["absent"] else ("present", "absent")
    raise QualcodeError(f"{coder} already coded this span as {code} {was} (coding {dup['id']}); it cannot also be {now}",
                        hint=f"remove coding {dup['id']} first ('qualcode code remove {dup['id']}')")


def insert_manual(conn, span: Span, code: str, coder: str, now: str, codebook_version: str | None,
                   origin: str = "manual", absent: bool = False) -> dict:
    refuse_duplicate(conn, span, code, coder, absent)
    new_id = conn.execute(insert(t.codings).values(
        document_id=span.document_id, passage_id=span.passage_id, start=span.start, end=span.end, code=code,
        coder=coder, origin=origin, status="accepted", unit=span.unit, codebook_version=codebook_version,
        created_at=now, updated_at=now, decided_by=coder, decided_at=now, absent=int(bool(absent)),
    )).inserted_primary_key[0]
    return queries.coding_row(conn, new_id)


def add_coding(project, code: str, *, passage: str | None = None, doc: str | None = None, quote: str | None = None,
               start: int | None = None, end: int | None = None, coder: str | None = None,
               memo: str | None = None, absent: bool = False) -> dict:
    """Code a passage, a quote or an exact span by hand; returns the new coding row.

    ``absent``: negative evidence, the text says the mechanism is missing or exists only on
    paper (「有些支部就是挂个牌子」); reports count it apart from presence."""
    coder = coder_name(project, coder)
    codebook = project.codebook()
    path = resolve_code(codebook, code)
    span = find_span(project, passage=passage, doc=doc, quote=quote, start=start, end=end)
    now = utcnow()
    with project.store.transaction() as conn:
        row = insert_manual(conn, span, path, coder, now, codebook.version, absent=absent)
        memos = [insert_memo(conn, "coding", str(row["id"]), coder, memo, now)] if memo else []
        where = queries.passage_ref_of(conn, span.passage_id) or span.document_id
        mark = " (absent)" if absent else ""
        record(conn, coder, Event.code_add(row, memos, f"{path}{mark} on {where} [{span.start}, {span.end})"))
    return row


class OwnershipConflict(QualcodeError):
    """Removing or recoding another coder's coding (exit 4): only an adjudicator may."""

    exit_code = EXIT_PARTIAL


def refuse_others_coding(project, row: dict, coder: str, verb: str) -> None:
    """A coder's manual (or imported) coding is theirs: others may not remove or recode it,
    unless the project names them an adjudicator (``[team] adjudicators`` in qualcode.toml)."""
    if row["coder"] == coder or coder in project.adjudicators:
        return
    raise OwnershipConflict(
        f"coding {row['id']} ({row['code']}) is {row['coder']}'s; {coder} cannot {verb} it",
        hint=f"ask {row['coder']}, or name an adjudicator in qualcode.toml: [team] adjudicators = [\"{coder}\"]")


def remove_coding(project, coding: str | int, coder: str | None = None) -> dict:
    """Delete a manual or imported coding (and its memos); proposals are rejected instead.
    Only its coder, or an adjudicator, may; the coder can undo an adjudicator's removal."""
    coder = coder_name(project, coder)
    with project.store.transaction() as conn:
        row = resolve_coding(conn, coding)
        if row["origin"] in ("rule", "model"):
            verb = "reject" if row["status"] != "rejected" else "leave"
            raise QualcodeError(
                f"coding {row['id']} is a {row['origin']} proposal ({row['status']}); removing it would let it be proposed again",
                hint=f"{verb} it instead: qualcode reject {row['id']}" if verb == "reject" else "it is already rejected")
        if row["coder"] != coder:
            refuse_others_coding(project, row, coder, "remove")
        memos = [dict(m) for m in conn.execute(select(t.memos).where(
            t.memos.c.target_type == "coding", t.memos.c.target == str(row["id"]))).mappings()]
        conn.execute(delete(t.memos).where(t.memos.c.id.in_([m["id"] for m in memos])))
        conn.execute(delete(t.codings).where(t.codings.c.id == row["id"]))
        record(conn, coder, Event.code_remove(row, memos, f"{row['code']} by {row['coder']} [{row['start']}, {row['end']})"))
    return row


def list_codings(project, *, doc: str | None = None, code: str | None = None, coder: str | None = None,
                 status: list[str] | None = None, origin: list[str] | None = None,
                 passage: str | None = None, viewer: str | None = None) -> list[dict]:
    """Coding rows (queries.CODING_COLUMNS) filtered; ``code`` includes its descendants.

    ``viewer``: the coder looking. On the documents of their open blind assignments they see
    their own codings and the proposals they have not decided, shown as open, and nothing
    of the other coders' (``annotate.decisions.visible_rows``)."""
    doc_ids = [project.document_id(doc)] if doc else None
    if code:
        code = resolve_code(project.codebook(), code) if project.codebook_path else code
    blind: set[int] = set()
    if viewer:
        with project.store.read() as conn:
            blind = blind_documents(conn, viewer)
            names = {name: i for i, name in conn.execute(select(t.documents.c.id, t.documents.c.name))}
    if blind:  # filter after hiding: an open proposal's coder and status are those shown
        rows = queries.codings(project.store, doc_ids=doc_ids, code=code, origin=list(origin or []))
        rows = visible_rows(rows, viewer or "", blind, doc_of=lambda r: names[r["document"]])
        rows = [r for r in rows if (not coder or r["coder"] == coder) and (not status or r["status"] in status)]
    else:
        rows = queries.codings(project.store, doc_ids=doc_ids, code=code, coder=coder,
                               status=list(status or []), origin=list(origin or []))
    if passage:
        ref = canonical_passage(project, passage)  # "name:3" → "1:3"; a clear error for a bad id
        rows = [r for r in rows if r["passage"] == ref]
    return rows


# ---------------------------------------------------------------------------- decisions


@dataclass
class DecisionReport:
    decision: str
    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)  # not this coder's, or decided meanwhile: kept as they are
    audit_id: int | None = None
    copies: dict[int, int] = field(default_factory=dict)  # proposal id -> this coder's own copy (taken by another)

    def summary(self) -> str:
        verb = {"accepted": "accepted", "rejected": "rejected"}[self.decision]
        text = f"{len(self.changed)} {verb}, {len(self.unchanged)} already {verb}"
        return text + (f", {len(self.conflicts)} conflicts" if self.conflicts else "")


def decide(project, decision: str, codings: list | None = None, *, code: str | None = None,
           origin: list[str] | None = None, doc: str | None = None, status: list[str] | None = None,
           coder: str | None = None, action: str | None = None, open_only: bool = False) -> DecisionReport:
    """Accept or reject codings by id, or every coding matching the filters (default: the
    proposals this coder has not decided yet).

    Decisions are per coder (``annotate.decisions``): a proposal another coder decided is
    still open for this one, who gets their own decision on it. With ``open_only`` (a review
    session, which showed the proposal as open) a proposal this coder decided meanwhile,
    e.g. in another session, is a conflict and the earlier decision is kept; without it a
    coder naming their own decided coding changes their mind. Another coder's manual or
    imported coding is never changed: a conflict.
    """
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
            named = [resolve_coding(conn, c) for c in codings]
            ids = [r["id"] for r in named]
            # re-read under a row lock (FOR UPDATE on PostgreSQL, in id order), with every row
            # of the same proposals, so that all deciders of a proposal queue on the same rows:
            # another session may have decided meanwhile
            k = t.codings
            same = (k.c.document_id.in_({r["document_id"] for r in named}) & k.c.origin.in_(PROPOSAL_ORIGINS)
                    & k.c.code.in_({r["code"] for r in named if is_proposal(r)}))
            locked = {r["id"]: dict(r) for r in lock_rows(conn, k, k.c.id.in_(ids) | same)}
            rows = [locked[i] for i in dict.fromkeys(ids)]
        else:
            rows = _filtered_rows(project, conn, coder, code, origin, doc, list(status or ["proposed"]))
        updates, inserted = [], []
        for row in rows:
            own: dict | None
            if row["origin"] == "manual" and decision == "rejected":
                raise QualcodeError(f"coding {row['id']} was coded by hand; it cannot be rejected",
                                    hint=f"remove it instead: qualcode code remove {row['id']}")
            if not is_proposal(row):  # a manual or imported coding: its coder's alone
                if row["coder"] != coder:
                    report.conflicts.append({"id": row["id"], "status": row["status"], "coder": row["coder"],
                                             "code": row["code"], "at": row["updated_at"]})
                    continue
                own = row
            elif row.pop("_open", False):  # found open for this coder under the locks just taken
                own = None
            else:
                own = own_decision(conn, row, coder, lock=False)  # its rows are locked above
            if own is not None and own["status"] == decision:
                report.unchanged.append(row["id"])
                continue
            if own is not None and open_only:  # decided meanwhile in another session: kept
                report.conflicts.append({"id": row["id"], "status": own["status"], "coder": coder,
                                         "code": row["code"], "at": own["updated_at"]})
                continue
            change, copy = apply_decision(conn, row, decision, coder, now, own=own)
            if change is not None:
                updates.append(change)
            if copy is not None:
                inserted.append(copy)
                report.copies[row["id"]] = copy["id"]
            report.changed.append(row["id"])
        if updates or inserted:
            verb = "accept" if decision == "accepted" else "reject"
            target = f"coding {report.changed[0]}" if len(report.changed) == 1 else f"{len(report.changed)} codings"
            report.audit_id = record(conn, coder, Event.decision(action or verb, target, updates,
                                                                  _codes_summary(rows, report.changed),
                                                                  inserted=inserted))
    return report


def _filtered_rows(project, conn, coder: str, code, origin, doc, status: list[str]) -> list[dict]:
    """Rows a filtered decision applies to, locked: for ``proposed``, one row per proposal this
    coder has not decided; for ``accepted``/``rejected``, this coder's own codings with that status."""
    k = t.codings
    q = select(k)
    if code:
        path = resolve_code(project.codebook(), code)
        q = q.where((k.c.code == path) | k.c.code.startswith(path + "/"))
    if origin:
        q = q.where(k.c.origin.in_(list(origin)))
    if doc:
        q = q.where(k.c.document_id == project.document_id(doc))
    rows: list[dict] = []
    if "proposed" in status:
        candidates = [dict(r) for r in conn.execute(
            q.where(k.c.origin.in_(PROPOSAL_ORIGINS)).order_by(k.c.id).with_for_update()).mappings()]
        by_id = {c["id"]: c for c in candidates}
        rows += [dict(by_id[r["id"]], _open=True) for r in open_proposals(candidates, coder)]
    decided = [s for s in status if s != "proposed"]
    if decided:
        rows += [dict(r) for r in conn.execute(
            q.where(k.c.coder == coder, k.c.status.in_(decided)).order_by(k.c.id).with_for_update()).mappings()]
    return sorted({r["id"]: r for r in rows}.values(), key=lambda r: r["id"])


def _codes_summary(rows: list[dict], ids: list[int]) -> str:
    chosen = [r for r in rows if r["id"] in set(ids)]
    codes = sorted({r["code"] for r in chosen})
    head = ", ".join(codes[:3]) + (f" and {len(codes) - 3} more" if len(codes) > 3 else "")
    return f"{len(chosen)} × {head}" if len(chosen) > 1 else f"{head} [{chosen[0]['start']}, {chosen[0]['end']})"


def change_code(project, coding: int, new_code: str, coder: str | None = None,
                absent: bool | None = None) -> tuple[dict, dict]:
    """Reject a proposal and code its span with ``new_code`` instead (one undoable action).

    ``absent`` (default: as the old coding) marks the new coding as negative evidence, so
    ``change_code(p, id, same code, absent=True)`` turns a presence proposal into an absence.
    When the span already carries an open proposal of ``new_code`` (same mark), that proposal
    is accepted rather than a second coding made; when the coder already has the code
    there, the change is refused as a duplicate."""
    coder = coder_name(project, coder)
    codebook = project.codebook()
    path = resolve_code(codebook, new_code)
    now = utcnow()
    with project.store.transaction() as conn:
        row = resolve_coding(conn, coding)
        absent = bool(row["absent"]) if absent is None else bool(absent)
        if row["code"] == path and bool(row["absent"]) == absent:
            raise QualcodeError(f"coding {row['id']} is already {path}" + (" (absent)" if absent else ""))
        if not is_proposal(row) and row["coder"] != coder:
            refuse_others_coding(project, row, coder, "recode")
        after = dict(status="rejected", coder=coder, decided_by=coder, decided_at=now, updated_at=now)
        updates, copies = [], []
        if is_proposal(row):  # this coder's own rejection of the proposal (their copy if another took it)
            own = own_decision(conn, row, coder)
            if own is None or own["status"] != "rejected":
                change, copy = apply_decision(conn, row, "rejected", coder, now, own=own)
                updates += [change] if change is not None else []
                copies += [copy] if copy is not None else []
        elif row["origin"] != "manual":
            conn.execute(update(t.codings).where(t.codings.c.id == row["id"]).values(**after))
            updates.append({"id": row["id"], "before": {k: row[k] for k in after}, "after": after})
        span = Span(row["document_id"], row["passage_id"], row["start"], row["end"], row["unit"] or "span")
        if row["origin"] == "manual" and row["coder"] == coder and row["code"] == path:
            pass  # flipping one's own mark: the old coding goes below, so it is no duplicate
        else:
            refuse_duplicate(conn, span, path, coder, absent)
        pending = conn.execute(select(t.codings).where(
            t.codings.c.document_id == span.document_id, t.codings.c.start == span.start,
            t.codings.c.end == span.end, t.codings.c.code == path, t.codings.c.status == "proposed",
            t.codings.c.absent == int(absent), t.codings.c.id != row["id"]).order_by(t.codings.c.id)).mappings().first()
        inserted: dict | None
        if pending is not None:  # accept the open proposal instead of coding the span twice
            pending = dict(pending)
            change, copy = apply_decision(conn, pending, "accepted", coder, now,
                                          own=own_decision(conn, pending, coder))
            updates += [change] if change is not None else []
            copies += [copy] if copy is not None else []
            new = copy if copy is not None else queries.coding_row(conn, change["id"] if change else pending["id"])
            inserted = None
        else:
            new = inserted = _insert_recoded(conn, span, path, coder, now, codebook.version, absent, row)
        deleted = {}
        if row["origin"] == "manual":  # a hand coding is simply recoded
            conn.execute(delete(t.codings).where(t.codings.c.id == row["id"]))
            deleted = {"codings": [row], "memos": []}
        mark = " (absent)" if absent else ""
        record(conn, coder, Event.recode(row, updates, inserted, deleted,
                                         f"{row['code']} → {path}{mark} [{row['start']}, {row['end']})",
                                         copies=copies))
    return row, new


def _insert_recoded(conn, span, path, coder, now, version, absent, old) -> dict:
    """The new manual coding of a recode; a manual coding being replaced by its own coder is
    moved out of the duplicate check's way by deleting it after (the caller does)."""
    if old["origin"] == "manual" and old["coder"] == coder and old["code"] == path:
        new_id = conn.execute(insert(t.codings).values(
            document_id=span.document_id, passage_id=span.passage_id, start=span.start, end=span.end, code=path,
            coder=coder, origin="manual", status="accepted", unit=span.unit, codebook_version=version,
            created_at=now, updated_at=now, decided_by=coder, decided_at=now, absent=int(bool(absent)),
        )).inserted_primary_key[0]
        return queries.coding_row(conn, new_id)
    return insert_manual(conn, span, path, coder, now, version, absent=absent)


# ---------------------------------------------------------------------------- in-vivo codes


def new_code(project, code_id: str, parent: str | None, label: str, *, label_en: str | None = None,
             definition: str | None = None, coder: str | None = None):
    """Add an emergent (in-vivo) code to the project's codebook file; returns the Code."""
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
    after = insert_code_text(before, codebook, code)
    try:
        ok = parse_codebook(after, source=str(path), name=codebook.name).to_dict() == codebook.to_dict()
    except QualcodeError:
        ok = False
    if not ok:  # layout we cannot edit in place: write the canonical form (comments are lost)
        after = dumps(codebook)
    with project.store.transaction() as conn:
        sync_codes(conn, codebook, codebook.version)
        record(conn, coder, Event.code_new(code.path, path.relative_to(project.root).as_posix(), before, after,
                                           f"{code.path} {code.label_zh or ''} in {path.name}"))
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(after, encoding="utf-8")
        tmp.replace(path)
    return code


__all__ = [
    "DecisionReport", "LIST_COLUMNS", "ORIGINS", "STATUSES", "Span", "add_coding", "change_code", "decide",
    "existing_coding", "find_span", "insert_manual", "list_codings", "new_code", "refuse_duplicate", "remove_coding",
]
