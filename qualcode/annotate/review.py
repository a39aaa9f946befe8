"""Reviewing proposals one at a time: the queue and its saved state.

:class:`ReviewSession` holds everything but the terminal (which proposal is next, what a key
does, where the coder stopped), so it is tested directly and any front end (the terminal in
``qualcode.cli.review``, a browser page) drives the same session. Every key's effect is
committed before the next item is shown, and the position is saved in ``review_state`` per
coder and queue, so quitting and running the same command again resumes where the coder
stopped.

Orders: ``document`` (reading order), ``confidence`` (most likely first), ``uncertainty``
(closest to a coin toss first). Both use a probability per proposal: the score itself for
model proposals (issue 7: a probability in [0, 1]); for rule proposals, whose score is the
summed weight of the counted occurrences, ``1 - 0.5 ** score``: one plain term (score 1)
is a coin toss (0.5), each further unit of evidence halves the remaining doubt. A proposal
without a score counts as 0.5. A proposal with a ``confidence`` (written by ``autocode`` when
the project uses the combined scorer, ``[autocode] scorer = "combined"``) is ordered by it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from qualcode import annotate
from qualcode.annotate.decisions import PROPOSAL_ORIGINS, open_proposals
from qualcode.errors import ConfigError, QualcodeError
from qualcode.store import queries, schema as t, utcnow

if TYPE_CHECKING:
    from qualcode.project import Project

ORDERS = ("document", "confidence", "uncertainty")
KEYS = {
    "a": "accept", "r": "reject", "b": "mark absent (the passage says it is missing)", "c": "change code",
    "n": "add another code", "m": "memo",
    "s": "skip", "u": "undo", "q": "quit", "?": "help",
}


def probability(origin: str | None, score, confidence: float | None = None) -> float:
    """A proposal's probability of being right, comparable across origins (see module doc)."""
    if confidence is not None:
        return min(max(float(confidence), 0.0), 1.0)
    try:
        s = float(score)
    except (TypeError, ValueError):
        return 0.5
    if origin == "rule":
        return 1.0 - 0.5 ** max(s, 0.0)
    return min(max(s, 0.0), 1.0)


@dataclass
class Item:
    """One proposal as the reviewer sees it."""

    coding: dict
    passage: dict  # passage, document, speaker, role, start, end, text
    before: list[dict]  # surrounding turns (passage rows)
    after: list[dict]
    evidence: list[tuple[str, int, int]]  # (term, start, end) in document offsets
    code_label: str
    definition: str
    probability: float
    position: int  # 1-based among the proposals left
    total: int


@dataclass
class ReviewSession:
    project: Project
    coder: str | None = None
    code: str | None = None
    doc: str | None = None
    order: str = "document"
    context: int = 1
    state: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.order not in ORDERS:
            raise ConfigError(f"unknown order {self.order!r}; use {', '.join(ORDERS)}")
        self.coder = annotate.coder_name(self.project, self.coder)
        self.codebook = self.project.codebook()
        self.code_path = annotate.resolve_code(self.codebook, self.code) if self.code else None
        self.doc_id = self.project.document_id(self.doc) if self.doc else None
        self.queue_key = f"code={self.code_path or '*'};doc={self.doc_id or '*'};order={self.order}"
        self.state = self._load()

    # -- saved state
    def _load(self) -> dict:
        with self.project.store.read() as conn:
            raw = conn.execute(select(t.review_state.c.state).where(
                t.review_state.c.coder == self.coder, t.review_state.c.queue == self.queue_key)).scalar()
        state = json.loads(raw) if raw else {}
        state.setdefault("skipped", [])
        state.setdefault("history", [])  # [["skip", coding id] | ["audit", audit id, coding id]]
        state.setdefault("current", None)
        return state

    def save(self) -> None:
        rs = t.review_state
        blob = json.dumps(self.state, sort_keys=True)
        with self.project.store.transaction() as conn:
            where = (rs.c.coder == self.coder) & (rs.c.queue == self.queue_key)
            if conn.execute(select(rs.c.coder).where(where)).first() is None:
                conn.execute(rs.insert().values(coder=self.coder, queue=self.queue_key, state=blob, updated_at=utcnow()))
            else:
                conn.execute(rs.update().where(where).values(state=blob, updated_at=utcnow()))

    def reset(self) -> None:
        """Forget skips and position: the queue starts again from its first proposal."""
        self.state = {"skipped": [], "history": [], "current": None}
        self.save()

    # -- the queue
    def proposals(self) -> list[dict]:
        """Undecided proposals in review order, skipped ones included."""
        k = t.codings
        q = select(k).where(k.c.origin.in_(PROPOSAL_ORIGINS))
        if self.code_path:
            q = q.where((k.c.code == self.code_path) | k.c.code.startswith(self.code_path + "/"))
        if self.doc_id:
            q = q.where(k.c.document_id == self.doc_id)
        with self.project.store.read() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
        # decisions are per coder: a proposal is open until this coder decided it (another
        # coder's decision, or this coder's in a merged copy, changes nothing for them); one
        # that others decided is shown as the open proposal it is for this coder
        rows = open_proposals(rows, self.coder or "")
        for r in rows:
            r["_p"] = probability(r["origin"], r["score"], r.get("confidence"))
        place = lambda r: (r["document_id"], r["start"], r["end"], r["code"], r["id"])  # noqa: E731
        if self.order == "confidence":
            rows.sort(key=lambda r: (-r["_p"], *place(r)))
        elif self.order == "uncertainty":
            rows.sort(key=lambda r: (abs(r["_p"] - 0.5), *place(r)))
        else:
            rows.sort(key=place)
        return rows

    def pending(self) -> list[dict]:
        skipped = set(self.state["skipped"])
        return [r for r in self.proposals() if r["id"] not in skipped]

    def current(self) -> Item | None:
        rows = self.pending()
        if not rows:
            return None
        ids = [r["id"] for r in rows]
        at = ids.index(self.state["current"]) if self.state["current"] in ids else 0
        if self.state["current"] != ids[at]:
            self.state["current"] = ids[at]
            self.save()
        return self._item(rows[at], at + 1, len(rows))

    def remaining_skipped(self) -> int:
        ids = {r["id"] for r in self.proposals()}
        return len(ids & set(self.state["skipped"]))

    def _item(self, row: dict, position: int, total: int) -> Item:
        passages = queries.passages(self.project.store, doc_ids=[row["document_id"]])
        idx = next((i for i, p in enumerate(passages) if p["start"] <= row["start"] < p["end"]), None)
        if idx is None:
            here = {"passage": "", "document": "", "speaker": "", "role": "", "start": row["start"], "end": row["end"],
                    "text": ""}
            before = after = []
        else:
            here = passages[idx]
            before = passages[max(0, idx - self.context):idx]
            after = passages[idx + 1:idx + 1 + self.context]
        evidence = []
        try:
            evidence = [(str(a), int(b), int(c)) for a, b, c in json.loads(row["evidence"] or "{}").get("terms", [])]
        except (ValueError, TypeError, AttributeError):
            pass
        code = self.codebook.get(row["code"]) if row["code"] in self.codebook else None
        return Item(
            coding=row, passage=here, before=before, after=after, evidence=evidence,
            code_label=(code.label_zh or "") + (f" / {code.label_en}" if code and code.label_en else "") if code else "(not in the codebook)",
            definition=(code.definition or "").strip() if code else "",
            probability=row["_p"], position=position, total=total,
        )

    # -- what the keys do; each returns a one-line message
    def _next(self, coding_id: int) -> int | None:
        """The proposal shown after ``coding_id`` once it is dealt with."""
        ids = [r["id"] for r in self.pending()]
        if coding_id in ids:
            i = ids.index(coding_id)
            return ids[i + 1] if i + 1 < len(ids) else None
        return self.state["current"] if self.state["current"] in ids else (ids[0] if ids else None)

    def _record(self, coding_id: int) -> None:
        with self.project.store.read() as conn:
            audit_id = conn.execute(select(t.audit_log.c.id).where(t.audit_log.c.coder == self.coder)
                                    .order_by(t.audit_log.c.id.desc()).limit(1)).scalar()
        self.state["history"] = (self.state["history"] + [["audit", audit_id, coding_id]])[-200:]

    def accept(self) -> str:
        return self._decide("accepted")

    def reject(self) -> str:
        return self._decide("rejected")

    def _decide(self, decision: str) -> str:
        item = self._require()
        cid = item.coding["id"]
        nxt = self._next(cid)
        report = annotate.decide(self.project, decision, [cid], coder=self.coder, open_only=True)
        self.state["current"] = nxt
        if report.conflicts:  # decided meanwhile in another session of this coder: that decision stands
            self.save()
            c = report.conflicts[0]
            return f"already {c['status']} by {c['coder']} at {c['at']} (another session); kept"
        self._record(cid)
        self.save()
        return f"{decision} {item.coding['code']} on {item.passage['passage']}"

    def change_code(self, new_code: str) -> str:
        item = self._require()
        cid = item.coding["id"]
        path = annotate.resolve_code(self.codebook, new_code)
        nxt = self._next(cid)
        _, new = annotate.change_code(self.project, cid, path, coder=self.coder)
        self.state["current"] = nxt
        self._record(cid)
        self.save()
        return f"rejected {item.coding['code']}; coded {path} instead (coding {new['id']})"

    def mark_absent(self) -> str:
        """The passage says the proposal's mechanism is missing or only on paper: an absence
        proposal is accepted as it is; a presence proposal is rejected and its span coded
        absent with the same code (one undoable action)."""
        item = self._require()
        c = item.coding
        if c["absent"]:
            return self._decide("accepted")
        nxt = self._next(c["id"])
        _, new = annotate.change_code(self.project, c["id"], c["code"], coder=self.coder, absent=True)
        self.state["current"] = nxt
        self._record(c["id"])
        self.save()
        return f"coded {c['code']} as absent on {item.passage['passage']} (coding {new['id']})"

    def add_code(self, other: str) -> str:
        item = self._require()
        path = annotate.resolve_code(self.codebook, other)
        c = item.coding
        span = annotate.Span(c["document_id"], c["passage_id"], c["start"], c["end"], c["unit"] or "span")
        row = _add_span(self.project, span, path, self.coder)
        self._record(c["id"])
        self.save()
        return f"also coded {path} (coding {row['id']}); still to decide: {c['code']}"

    def memo(self, text: str) -> str:
        item = self._require()
        annotate.add_memo(self.project, "coding", str(item.coding["id"]), text, coder=self.coder)
        self._record(item.coding["id"])
        self.save()
        return f"memo saved on coding {item.coding['id']}"

    def skip(self) -> str:
        item = self._require()
        cid = item.coding["id"]
        self.state["current"] = self._next(cid)
        self.state["skipped"].append(cid)
        self.state["history"] = (self.state["history"] + [["skip", cid]])[-200:]
        self.save()
        return f"skipped {item.coding['code']} on {item.passage['passage']}"

    def undo(self) -> str:
        if not self.state["history"]:
            return "nothing to undo in this review"
        last = self.state["history"][-1]
        if last[0] == "skip":
            self.state["history"].pop()
            if last[1] in self.state["skipped"]:
                self.state["skipped"].remove(last[1])
            self.state["current"] = last[1]
            self.save()
            return f"back to proposal {last[1]}"
        _, audit_id, cid = last
        newest = annotate.audit_log(self.project, coder=self.coder, limit=50)
        newest = [e for e in newest if e["action"] != "undo" and not e["undone"]]
        if not newest or newest[0]["id"] != audit_id:
            self.state["history"].pop()
            self.save()
            raise QualcodeError("the last change was made outside this review; use 'qualcode undo'")
        done = annotate.undo(self.project, 1, coder=self.coder)
        self.state["history"].pop()
        self.state["current"] = cid
        self.save()
        return f"undid {done[0]['action']}: {done[0]['summary']}"

    def _require(self) -> Item:
        item = self.current()
        if item is None:
            raise QualcodeError("no proposal to review")
        return item


def _add_span(project, span, path: str, coder: str | None) -> dict:
    """A manual coding on exactly ``span`` (the library call, audited)."""
    if span.passage_id is not None and span.unit == "passage":
        with project.store.read() as conn:
            ref = queries.passage_ref_of(conn, span.passage_id)
        return annotate.add_coding(project, path, passage=ref, coder=coder)
    return annotate.add_coding(project, path, doc=str(span.document_id), start=span.start, end=span.end, coder=coder)
