"""Adjudication: settling the coders' disagreements into one agreed set of codings.

Coders code the same documents independently (``qualcode assign --blind``); agreement is
measured on what they did (``qualcode agreement``); then the disagreements are discussed
and settled. :class:`AdjudicationSession` holds everything but the front end, so the
terminal (``qualcode adjudicate``), a browser page and the spreadsheet round trip
(``qualcode disagreements --output review.xlsx`` → ``qualcode sheet import``) drive the
same library:

* **Items** are (unit, code) pairs of the codable units (``store.queries.coder_units``:
  interviewee and unknown-role turns, no headers, by default) in documents at least two of
  the coders saw. A coder's vote is 1 when they applied exactly that code to a span
  overlapping the unit, 0 when they saw the document and did not, None when they never saw
  it. Where two or more coders voted and all said 1, the coders agree: the session carries
  that into the consensus by itself (``carry_agreements``). Where they differ, it is a
  disagreement for the adjudicator, who settles it as coded or not coded with a reason.
* **The consensus** is a coder of its own (``[team] consensus_coder`` in qualcode.toml,
  default ``consensus``): a coded result becomes a manual coding of that coder on the union
  of the spans the coders who coded it used, clipped to the unit; ``decided_by`` names the
  person who adjudicated. Reports count the consensus coder once it exists.
* **The record**: every carried agreement and settled disagreement is a row of the
  ``adjudications`` table (unit, code, each coder's vote, result, reason, who, when), so
  the reasons are kept and a settled item is not shown again. Each settlement (and each
  carrying of agreements) is one undoable action in the audit log.

Adjudication refuses to start while one of the coders still has an open blind assignment on
the documents (``qualcode assign --close``): their independent work is not finished.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from qualcode import files
from qualcode.annotate.audit import Event, audit_log, record, undo as undo_actions
from qualcode.annotate.coders import coder_name
from qualcode.annotate.resolve import resolve_code
from qualcode.errors import ConfigError, InputFileError, QualcodeError, not_found
from qualcode.exchange.tables import write_rows, write_workbook
from qualcode.store import queries, schema as t, utcnow
from qualcode.vocabulary import Origin, Status

AGREED, SETTLED = "agreed", "settled"
SHEET, META_SHEET, KIND = "disagreements", "_qualcode", "qualcode-disagreements"
ITEM_COLUMNS = ["unit", "document", "start", "end", "code"]  # then one column per coder, text, decision, note
ADJUDICATION_COLUMNS = ["unit", "document", "code", "votes", "result", "kind", "reason", "coding", "decided_by",
                        "decided_at"]


@dataclass
class CoderView:
    """One coder's side of an item: their vote and the codings behind it (with their evidence)."""

    coder: str
    vote: int | None  # 1 coded, 0 not coded, None: never saw the document
    codings: list[dict] = field(default_factory=list)  # id, start, end, text, origin, rule, score, evidence, memos


@dataclass
class Item:
    """A (unit, code) the coders disagree on, as the adjudicator sees it."""

    document_id: int
    document: str
    unit: str  # 3:12 (passage), 3:12.2 (sentence), 3 (document)
    start: int
    end: int
    role: str
    text: str
    code: str
    code_label: str
    definition: str
    coders: list[CoderView]
    position: int = 0  # 1-based among the open disagreements
    total: int = 0

    @property
    def votes(self) -> dict[str, int | None]:
        return {v.coder: v.vote for v in self.coders}


@dataclass
class Summary:
    """Where an adjudication stands."""

    coders: list[str]
    consensus: str
    agreed: int  # agreements carried into the consensus
    settled: int  # disagreements settled
    open: int  # disagreements still to settle
    coded: int  # consensus codings made by this adjudication

    def line(self) -> str:
        return (f"{self.settled} disagreements settled, {self.open} open; {self.agreed} agreements carried into "
                f"{self.consensus} ({self.coded} consensus codings)")


class AdjudicationSession:
    """Walk the disagreements of ``coders`` and record the consensus (module docstring).

    ``project``; ``coders`` (two or more); ``docs`` (names or ids; default every document);
    ``unit`` passage | sentence | document; ``codes`` (paths; default every code the coders
    used); ``consensus`` (default the project's consensus coder); ``adjudicator`` (the person;
    default QUALCODE_CODER / the project's default coder); ``roles`` (the speakers' roles whose
    turns are units; None: every turn). Methods: ``carry_agreements()``, ``items()``,
    ``current()``, ``settle(coded, reason)``, ``take(coder, reason)``, ``skip()``, ``undo()``,
    ``summary()``, ``settled()``.
    """

    def __init__(self, project, coders: list[str], *, docs: list[str] | None = None, unit: str = "passage",
                 codes: list[str] | None = None, consensus: str | None = None, adjudicator: str | None = None,
                 roles: tuple[str, ...] | None = queries.CODABLE_ROLES):
        self.project = project
        self.coders = list(dict.fromkeys(c.strip() for c in coders if c and c.strip()))
        if len(self.coders) < 2:
            raise ConfigError("adjudication needs at least two coders", hint="e.g. --coders 王,李")
        if unit not in ("passage", "sentence", "document"):
            raise ConfigError(f"adjudication works on passage, sentence or document units, not {unit!r}")
        self.unit = unit
        self.consensus = (consensus or "").strip() or project.consensus_coder
        if self.consensus in self.coders:
            raise ConfigError(f"{self.consensus} is one of the coders compared; the consensus needs a name of its own",
                              hint="choose it with --consensus NAME or [team] consensus_coder in qualcode.toml")
        self.adjudicator = coder_name(project, adjudicator)
        self.roles = roles
        self.coders_key = ",".join(sorted(self.coders))
        self.doc_ids = [project.document_id(d) for d in docs] if docs else None
        try:
            self.codebook = project.codebook()
        except QualcodeError:
            self.codebook = None
        self.codes = [resolve_code(self.codebook, c) if self.codebook is not None else c for c in codes] if codes else None
        self.skipped: list[tuple[str, str]] = []
        self.history: list[int] = []  # audit ids of this session's settlements, newest last
        with project.store.read() as conn:
            known = {c for (c,) in conn.execute(select(t.codings.c.coder).distinct())}
            known |= {c for (c,) in conn.execute(select(t.assignments.c.coder).distinct())}
            for c in self.coders:
                if c not in known:
                    raise not_found("coder", c, sorted(known))
            self.seen = queries.seen_documents(conn, self.coders)
            scope = set().union(*self.seen.values())
            if self.doc_ids is not None:
                scope &= set(self.doc_ids)
            # documents at least two of the coders saw
            self.scope = sorted(d for d in scope if sum(d in s for s in self.seen.values()) >= 2)
            still = queries.open_blind_assignments(conn, self.coders, self.scope)
        if still:
            names = ", ".join(f"{c} (document {d})" for d, c in still[:5]) + (" …" if len(still) > 5 else "")
            raise QualcodeError(f"still coding blind: {names}; adjudicate when their independent coding is done",
                                hint=f"close their assignments first: qualcode assign --close --coder {still[0][1]}")

    # -- the items
    def _compare(self) -> tuple[list[Item], list[Item]]:
        """(agreements, disagreements) over the scope, each an Item, in document order."""
        store = self.project.store
        with store.read() as conn:
            units = queries.coder_units(conn, self.unit, self.scope, self.roles)
            spans = queries.coder_spans(conn, self.coders, self.scope)
            docs = {i: (n, txt) for i, n, txt in conn.execute(
                select(t.documents.c.id, t.documents.c.name, t.documents.c.text)
                .where(t.documents.c.id.in_(self.scope)))} if self.scope else {}
        codes = self.codes or _codes_in_order(self.codebook, spans)
        wanted = set(codes)
        agreed: list[Item] = []
        disagreed: list[Item] = []
        for doc, label, a, b, role in units:
            per_coder: dict[str, dict[str, list[tuple]]] = {}
            for c in self.coders:
                here: dict[str, list[tuple]] = {}
                for s, e, code, cid in spans[c].get(doc, ()):
                    if s < b and e > a and code in wanted:
                        here.setdefault(code, []).append((s, e, cid))
                per_coder[c] = here
            for code in codes:
                votes = {c: (None if doc not in self.seen[c] else int(bool(per_coder[c].get(code))))
                         for c in self.coders}
                given = [v for v in votes.values() if v is not None]
                if len(given) < 2 or not any(given):
                    continue
                item = Item(doc, docs[doc][0], label, a, b, role, docs[doc][1][a:b], code, *self._label(code),
                            [CoderView(c, votes[c], [{"id": cid, "start": s, "end": e} for s, e, cid in
                                                     per_coder[c].get(code, [])]) for c in self.coders])
                (agreed if all(given) else disagreed).append(item)
        return agreed, disagreed

    def _label(self, code: str) -> tuple[str, str]:
        if self.codebook is not None and code in self.codebook:
            c = self.codebook.get(code)
            return (c.label_zh or c.id) + (f" / {c.label_en}" if c.label_en else ""), (c.definition or "").strip()
        return "(not in the codebook)", ""

    def _done(self) -> dict[tuple[int, str, str], dict]:
        a = t.adjudications
        with self.project.store.read() as conn:
            return {(r["document_id"], r["unit"], r["code"]): dict(r) for r in conn.execute(
                select(a).where(a.c.coders == self.coders_key, a.c.consensus == self.consensus)).mappings()}

    def items(self) -> list[Item]:
        """The disagreements not settled yet, skipped ones included, with each coder's evidence."""
        done = self._done()
        rows = [i for i in self._compare()[1] if (i.document_id, i.unit, i.code) not in done]
        for n, item in enumerate(rows, start=1):
            item.position, item.total = n, len(rows)
        return rows

    def current(self) -> Item | None:
        """The next disagreement to settle (skipped ones come again once the others are settled)."""
        rows = self.items()
        if not rows:
            return None
        skipped = set(self.skipped)
        fresh = [i for i in rows if (i.unit, i.code) not in skipped]
        item = fresh[0] if fresh else rows[0]
        if not fresh:
            self.skipped.clear()
        self._evidence(item)
        return item

    def _evidence(self, item: Item) -> None:
        """Each coder's codings behind their vote: text, origin, rule, score, evidence terms, memos."""
        ids = [c["id"] for v in item.coders for c in v.codings]
        if not ids:
            return
        k, m = t.codings, t.memos
        with self.project.store.read() as conn:
            rows = {r["id"]: dict(r) for r in conn.execute(select(k).where(k.c.id.in_(ids))).mappings()}
            memos: dict[str, list[str]] = {}
            for target, coder, text in conn.execute(select(m.c.target, m.c.coder, m.c.text).where(
                    m.c.target_type == "coding", m.c.target.in_([str(i) for i in ids])).order_by(m.c.id)):
                memos.setdefault(target, []).append(f"{coder}: {text}")
            doc_text = queries.document_text(conn, item.document_id)
        for view in item.coders:
            for c in view.codings:
                r = rows[c["id"]]
                try:
                    terms = [x[0] for x in json.loads(r["evidence"] or "{}").get("terms", [])]
                except (ValueError, TypeError, AttributeError, IndexError):
                    terms = []
                c.update(text=doc_text[r["start"]:r["end"]], origin=r["origin"], rule=r["rule"] or "",
                         score=r["score"] or "", evidence=terms, memos=memos.get(str(r["id"]), []))

    # -- recording the consensus
    def carry_agreements(self) -> int:
        """Carry every agreement (all coders who saw the unit coded the code) into the consensus
        not carried yet; one undoable action. Returns how many were carried."""
        done = self._done()
        todo = [i for i in self._compare()[0] if (i.document_id, i.unit, i.code) not in done]
        if not todo:
            return 0
        now = utcnow()
        try:
            with self.project.store.transaction() as conn:
                codings, rows = [], []
                for item in todo:
                    made, coding_id = self._consensus_codings(conn, item, [v.coder for v in item.coders if v.vote],
                                                              now)
                    codings += made
                    rows.append(self._record_row(conn, item, 1, AGREED, None, coding_id, now))
                audit_id = record(conn, self.adjudicator, Event.adjudicate(
                    f"{self.consensus} of {self.coders_key}", codings, rows,
                    f"{len(rows)} agreements of {self.coders_key} carried into {self.consensus}"))
        except IntegrityError:
            raise QualcodeError("another adjudicator carried these agreements at the same time",
                                hint="run the command again") from None
        self.history.append(audit_id)
        return len(todo)

    def settle(self, coded: bool, reason: str) -> str:
        """Settle the current disagreement: coded (on the spans of the coders who coded it) or
        not, with the reason (required). Returns a one-line message."""
        item = self._require()
        return self._settle(item, bool(coded), reason)

    def take(self, coder: str, reason: str) -> str:
        """Settle the current disagreement as ``coder`` had it."""
        item = self._require()
        votes = item.votes
        if coder not in votes:
            raise ConfigError(f"{coder} is not one of the coders compared ({', '.join(self.coders)})")
        if votes[coder] is None:
            raise QualcodeError(f"{coder} never saw document {item.document}")
        return self._settle(item, bool(votes[coder]), reason)

    def _settle(self, item: Item, coded: bool, reason: str) -> str:
        reason = (reason or "").strip()
        if not reason:
            raise ConfigError("give the reason for the settlement", hint="it is kept with the consensus")
        now = utcnow()
        try:
            with self.project.store.transaction() as conn:
                a = t.adjudications
                taken = conn.execute(select(a.c.decided_by, a.c.result).where(
                    a.c.document_id == item.document_id, a.c.unit == item.unit, a.c.code == item.code,
                    a.c.coders == self.coders_key, a.c.consensus == self.consensus)).first()
                if taken is not None:
                    raise QualcodeError(f"{item.unit} {item.code} was settled meanwhile by {taken.decided_by}")
                made: list[dict] = []
                coding_id: int | None = None
                if coded:
                    made, coding_id = self._consensus_codings(
                        conn, item, [v.coder for v in item.coders if v.vote], now)
                row = self._record_row(conn, item, int(coded), SETTLED, reason, coding_id, now)
                audit_id = record(conn, self.adjudicator, Event.adjudicate(
                    f"{item.unit} {item.code}", made, [row],
                    f"{item.code} on {item.unit}: {'coded' if coded else 'not coded'} ({reason[:40]})"))
        except IntegrityError:
            raise QualcodeError(f"{item.unit} {item.code} was settled meanwhile by another adjudicator") from None
        self.history.append(audit_id)
        self.skipped = [s for s in self.skipped if s != (item.unit, item.code)]
        return f"{item.code} on {item.unit}: {'coded' if coded else 'not coded'} in {self.consensus}"

    def _consensus_codings(self, conn, item: Item, coded_by: list[str], now: str) -> tuple[list[dict], int | None]:
        """The consensus codings for a coded item: the union of the coding coders' spans of the
        code, clipped to the unit. Returns (codings made, the first coding's id)."""
        spans: list[tuple[int, int]] = []
        for view in item.coders:
            if view.coder in coded_by:
                spans += [(max(c["start"], item.start), min(c["end"], item.end)) for c in view.codings]
        made: list[dict] = []
        first = None
        k = t.codings
        for s, e in _union(spans):
            have = conn.execute(select(k.c.id).where(
                k.c.document_id == item.document_id, k.c.start == s, k.c.end == e, k.c.code == item.code,
                k.c.coder == self.consensus, k.c.status == Status.ACCEPTED.value)).scalar()
            if have is None:
                p = queries.passage_at(conn, item.document_id, s)
                unit = "passage" if p is not None and (p.start, p.end) == (s, e) else "span"
                have = conn.execute(insert(k).values(
                    document_id=item.document_id, passage_id=p.id if p is not None else None, start=s, end=e,
                    code=item.code, coder=self.consensus, origin=Origin.MANUAL.value, status=Status.ACCEPTED.value,
                    unit=unit, codebook_version=self.codebook.version if self.codebook is not None else None,
                    created_at=now, updated_at=now, decided_by=self.adjudicator, decided_at=now,
                )).inserted_primary_key[0]
                made.append(queries.coding_row(conn, have))
            first = first if first is not None else have
        return made, first

    def _record_row(self, conn, item: Item, result: int, kind: str, reason: str | None, coding_id, now) -> dict:
        a = t.adjudications
        values = dict(document_id=item.document_id, unit=item.unit, start=item.start, end=item.end, code=item.code,
                      coders=self.coders_key, consensus=self.consensus,
                      votes=json.dumps(item.votes, ensure_ascii=False, sort_keys=True), result=result, kind=kind,
                      reason=reason, coding_id=coding_id, decided_by=self.adjudicator, decided_at=now)
        new_id = conn.execute(insert(a).values(**values)).inserted_primary_key[0]
        return dict(values, id=new_id)

    def skip(self) -> str:
        item = self._require()
        self.skipped.append((item.unit, item.code))
        return f"skipped {item.code} on {item.unit}"

    def undo(self) -> str:
        """Undo this session's last settlement (or carrying of agreements)."""
        if not self.history:
            return "nothing to undo in this adjudication"
        newest = [e for e in _log(self.project, self.adjudicator) if e["action"] == "adjudicate"]
        if not newest or newest[0]["id"] != self.history[-1]:
            self.history.pop()
            raise QualcodeError("the last change was made outside this adjudication; use 'qualcode undo'")
        done = undo_actions(self.project, 1, coder=self.adjudicator)
        self.history.pop()
        return f"undid: {done[0]['summary']}"

    def _require(self) -> Item:
        item = self.current()
        if item is None:
            raise QualcodeError("no disagreement left to settle")
        return item

    # -- where it stands
    def settled(self) -> list[dict]:
        """The adjudication record (ADJUDICATION_COLUMNS), in document order."""
        names = {}
        with self.project.store.read() as conn:
            names = dict(conn.execute(select(t.documents.c.id, t.documents.c.name)).all())
        rows = sorted(self._done().values(), key=lambda r: (r["document_id"], r["start"], r["end"], r["code"]))
        return [{"unit": r["unit"], "document": names.get(r["document_id"], ""), "code": r["code"],
                 "votes": r["votes"], "result": r["result"], "kind": r["kind"], "reason": r["reason"] or "",
                 "coding": r["coding_id"] or "", "decided_by": r["decided_by"], "decided_at": r["decided_at"]}
                for r in rows]

    def summary(self) -> Summary:
        done = self._done().values()
        return Summary(self.coders, self.consensus, agreed=sum(r["kind"] == AGREED for r in done),
                       settled=sum(r["kind"] == SETTLED for r in done), open=len(self.items()),
                       coded=sum(1 for r in done if r["coding_id"]))


def _codes_in_order(codebook, spans) -> list[str]:
    used = {code for per in spans.values() for rows in per.values() for (_, _, code, _) in rows}
    order = [c.path for c in codebook.codes] if codebook is not None else []
    return [c for c in order if c in used] + sorted(used - set(order))


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for s, e in sorted(x for x in spans if x[1] > x[0]):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _log(project, coder: str) -> list[dict]:
    return [e for e in audit_log(project, coder=coder, limit=50) if e["action"] != "undo" and not e["undone"]]


# ---------------------------------------------------------------------------- the spreadsheet round trip


def disagreement_rows(session: AdjudicationSession) -> tuple[list[dict], list[str]]:
    """The open disagreements as sheet rows: unit, document, start, end, code, a 1/0 column per
    coder ("" = did not see it), text, and empty decision and note columns."""
    rows = []
    for item in session.items():
        row = {"unit": item.unit, "document": item.document, "start": item.start, "end": item.end, "code": item.code}
        row.update({c: ("" if v is None else v) for c, v in item.votes.items()})
        row.update(text=item.text, decision="", note="")
        rows.append(row)
    return rows, ITEM_COLUMNS + session.coders + ["text", "decision", "note"]


def export_disagreements(session: AdjudicationSession, output: Path) -> int:
    """Write the open disagreements to ``output`` (.xlsx, to fill in ``decision`` and ``note`` and
    import with ``qualcode sheet import``; .csv for reading only). Returns the number of rows."""
    rows, columns = disagreement_rows(session)
    output = Path(output)
    if output.suffix.lower() == ".csv":
        write_rows(rows, columns, "csv", output)
        return len(rows)
    from openpyxl import load_workbook

    write_workbook(output, [(SHEET, rows, columns)])
    wb = load_workbook(output)
    meta = wb.create_sheet(META_SHEET)
    meta.sheet_state = "hidden"
    for pair in ([KIND, 1], ["coders", ",".join(session.coders)], ["consensus", session.consensus],
                 ["unit", session.unit], ["roles", ",".join(session.roles) if session.roles is not None else "*"],
                 ["project", session.project.name], ["exported_at", utcnow()]):
        meta.append(pair)
    files.write_with(output, wb.save, suffix=".xlsx")
    return len(rows)


def is_disagreement_sheet(wb) -> bool:
    if META_SHEET not in wb.sheetnames:
        return False
    first = list(next(wb[META_SHEET].iter_rows(max_row=1, values_only=True), ()))
    return bool(first) and first[0] == KIND


_CODED = {"1", "✓", "√", "✔", "y", "yes", "true", "是", "对", "有", "coded", "code", "编码"}
_NOT_CODED = {"0", "✗", "×", "✘", "n", "no", "false", "否", "无", "not coded", "not", "不编码"}


@dataclass
class AdjudicationImport:
    """What importing a filled-in disagreements sheet did (the shape of ``sheets.SheetImport``'s report)."""

    adjudicator: str
    settled: int = 0
    unchanged: int = 0  # already settled the same way, or left empty
    conflicts: list[dict] = field(default_factory=list)  # row, passage, code, sheet, project, reason
    refused: list[dict] = field(default_factory=list)  # row, passage, reason
    unknown_columns: list[str] = field(default_factory=list)
    audit_id: int | None = None

    def summary(self) -> str:
        return (f"{self.settled} disagreements settled, {self.unchanged} unchanged, {len(self.conflicts)} conflicts, "
                f"{len(self.refused)} rows refused")


def import_disagreements(project, wb, adjudicator: str | None = None, dry_run: bool = False) -> AdjudicationImport:
    """Settle the disagreements whose ``decision`` is filled in (1/✓/是 coded, 0/✗/否 not coded,
    or a coder's name: as that coder had it), with ``note`` as the reason (required)."""
    info = {str(r[0]): r[1] for r in wb[META_SHEET].iter_rows(values_only=True) if r and r[0]}
    roles_cell = str(info.get("roles") or "")
    roles = None if roles_cell == "*" else tuple(x for x in roles_cell.split(",") if x) or queries.CODABLE_ROLES
    session = AdjudicationSession(project, str(info.get("coders") or "").split(","), unit=str(info.get("unit") or "passage"),
                                  consensus=str(info.get("consensus") or "") or None, adjudicator=adjudicator,
                                  roles=roles)
    report = AdjudicationImport(session.adjudicator)
    if SHEET not in wb.sheetnames:
        raise InputFileError(f"no worksheet {SHEET!r}", hint="import a workbook made by 'qualcode disagreements'")
    table = list(wb[SHEET].iter_rows(values_only=True))
    header = [str(h).strip() if h is not None else "" for h in (table[0] if table else [])]
    for need in ("unit", "code", "decision", "note"):
        if need not in header:
            raise InputFileError(f"the {SHEET!r} sheet has no {need!r} column",
                                 hint="import a workbook made by 'qualcode disagreements'")
    col = {h: i for i, h in enumerate(header)}
    done = session._done()
    open_items = {(i.unit, i.code): i for i in session._compare()[1]}
    for n, row in enumerate(table[1:], start=2):
        def cell(name, row=row):
            v = row[col[name]] if col[name] < len(row) else None
            return "" if v is None else str(v).strip()
        unit, code, decision, note = cell("unit"), cell("code"), cell("decision"), cell("note")
        if not unit:
            continue
        if not decision:
            report.unchanged += 1
            continue
        item = open_items.get((unit, code))
        if item is None:
            report.conflicts.append({"row": n, "passage": unit, "code": code, "sheet": decision, "project": "",
                                     "reason": "no longer a disagreement of these coders"})
            continue
        value = decision.lower()
        if decision in session.coders:
            vote = item.votes[decision]
            if vote is None:
                report.refused.append({"row": n, "passage": unit, "reason": f"{decision} never saw this document"})
                continue
            coded = bool(vote)
        elif value in _CODED:
            coded = True
        elif value in _NOT_CODED:
            coded = False
        else:
            report.refused.append({"row": n, "passage": unit,
                                   "reason": f"cannot read decision {decision!r} (1 coded, 0 not coded, or a coder's name)"})
            continue
        was = done.get((item.document_id, unit, code))
        if was is not None:
            if bool(was["result"]) == coded:
                report.unchanged += 1
            else:
                report.conflicts.append({"row": n, "passage": unit, "code": code, "sheet": "coded" if coded else "not coded",
                                         "project": "coded" if was["result"] else "not coded",
                                         "reason": f"settled already by {was['decided_by']}"})
            continue
        if not note:
            report.refused.append({"row": n, "passage": unit, "reason": "no reason in 'note': every settlement keeps its reason"})
            continue
        if dry_run:
            report.settled += 1
            continue
        session._settle(item, coded, note)
        report.settled += 1
        report.audit_id = session.history[-1]
    return report


__all__ = [
    "ADJUDICATION_COLUMNS", "AGREED", "SETTLED", "AdjudicationImport", "AdjudicationSession", "CoderView", "Item",
    "Summary", "disagreement_rows", "export_disagreements", "import_disagreements", "is_disagreement_sheet",
]
