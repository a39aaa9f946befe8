"""Reviewing proposals one at a time: the queue and its saved state, and the terminal loop.

:class:`ReviewSession` holds everything but the terminal (which proposal is next, what a key
does, where the coder stopped) so it is tested directly; :func:`run_review` draws an item
with rich and reads single keys (cbreak mode on a tty, one line per key otherwise), which
works over SSH in any terminal. Every key's effect is committed before the next item is
drawn, and the position is saved in ``review_state`` per coder and queue, so quitting and
running the same command again resumes where the coder stopped.

Orders: ``document`` (reading order), ``confidence`` (most likely first), ``uncertainty``
(closest to a coin toss first). Both use a probability per proposal: the score itself for
model proposals (issue 7: a probability in [0, 1]); for rule proposals, whose score is the
summed weight of the counted occurrences, ``1 - 0.5 ** score``: one plain term (score 1)
is a coin toss (0.5), each further unit of evidence halves the remaining doubt. A proposal
without a score counts as 0.5.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from qualcode.annotate import codings as annotate
from qualcode.errors import ConfigError, QualcodeError
from qualcode.store import schema as t, utcnow

if TYPE_CHECKING:
    from qualcode.project import Project

ORDERS = ("document", "confidence", "uncertainty")
KEYS = {
    "a": "accept", "r": "reject", "c": "change code", "n": "add another code", "m": "memo",
    "s": "skip", "u": "undo", "q": "quit", "?": "help",
}


def probability(origin: str | None, score) -> float:
    """A proposal's probability of being right, comparable across origins (see module doc)."""
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
        q = select(k).where(k.c.status == "proposed")
        if self.code_path:
            q = q.where((k.c.code == self.code_path) | k.c.code.startswith(self.code_path + "/"))
        if self.doc_id:
            q = q.where(k.c.document_id == self.doc_id)
        with self.project.store.read() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
            # a proposal this coder already decided in another copy (brought in by merge) is done
            decided = {(r.document_id, r.start, r.end, r.code, r.unit) for r in conn.execute(
                select(k.c.document_id, k.c.start, k.c.end, k.c.code, k.c.unit)
                .where(k.c.coder == self.coder, k.c.status != "proposed", k.c.origin.in_(("rule", "model"))))}
        rows = [r for r in rows if (r["document_id"], r["start"], r["end"], r["code"], r["unit"]) not in decided]
        for r in rows:
            r["_p"] = probability(r["origin"], r["score"])
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
        from qualcode.store import queries
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
        annotate.decide(self.project, decision, [cid], coder=self.coder)
        self.state["current"] = nxt
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
            ref = annotate.passage_ref_of(conn, span.passage_id)
        return annotate.add_coding(project, path, passage=ref, coder=coder)
    return annotate.add_coding(project, path, doc=str(span.document_id), start=span.start, end=span.end, coder=coder)


# ---------------------------------------------------------------------------- terminal


class KeyReader:
    """Single keys from a terminal (cbreak mode only while waiting), or one line per key from a pipe."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdin
        self.buffer: list[str] = []
        try:
            self.fd = self.stream.fileno()
            self.tty = os.isatty(self.fd)
        except (AttributeError, ValueError, OSError):
            self.fd, self.tty = None, False

    def __enter__(self):
        """Single-key (cbreak) mode for the whole review; typed-ahead keys are kept, not echoed."""
        if self.tty:
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc):
        if self.tty:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def key(self) -> str:
        if self.buffer:
            return self.buffer.pop(0)
        if not self.tty:
            line = self.stream.readline()
            if not line:
                raise EOFError
            return line.strip()[:1] or "\n"
        data = os.read(self.fd, 64)
        if not data:
            raise EOFError
        text = data.decode("utf-8", "ignore")
        if text.startswith("\x1b"):  # arrow and function keys: ignored
            return ""
        if text[:1] == "\x04":
            raise EOFError
        self.buffer.extend(text[1:])
        return text[:1]

    def line(self, prompt: str) -> str:
        """One line of text (a memo, a code), typed with the terminal's own line editing."""
        sys.stdout.write(prompt)
        sys.stdout.flush()
        head = "".join(self.buffer)
        self.buffer.clear()
        if "\n" in head or "\r" in head:
            first, _, rest = head.replace("\r", "\n").partition("\n")
            self.buffer.extend(rest)
            return first.strip()
        if self.tty:
            import termios

            cbreak = termios.tcgetattr(self.fd)
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            try:
                line = os.read(self.fd, 4096).decode("utf-8", "ignore")  # canonical mode: one line
            finally:
                termios.tcsetattr(self.fd, termios.TCSADRAIN, cbreak)
        else:
            line = self.stream.readline()
        if not line and not head:
            raise EOFError
        return (head + line).strip()


def render_item(console, item: Item, session: ReviewSession) -> None:
    from rich.text import Text

    c, p = item.coding, item.passage
    plain = console.no_color or console.color_system is None
    console.rule(f"[{item.position}/{item.total}]  {p['passage']}  {p['document']}")
    for turn in item.before:
        console.print(Text(f"  {turn['passage']} {turn['speaker'] or '-'}: {turn['text']}", style="dim"))
    who = f"{p['speaker'] or '-'} ({p['role'] or 'role unknown'})"
    text = Text(f"▶ {p['passage']} {who}: ")
    body = Text(p["text"])
    base = p["start"]
    if c["unit"] != "passage" and (c["start"], c["end"]) != (p["start"], p["end"]):
        body.stylize("underline", c["start"] - base, c["end"] - base)
    marks = sorted({(s - base, e - base) for _, s, e in item.evidence if base <= s < e <= base + len(p["text"])})
    for s, e in marks:
        body.stylize("bold black on yellow", s, e)
    if plain and marks:  # no colours: bracket the evidence instead
        raw, out, pos = p["text"], [], 0
        for s, e in marks:
            if s < pos:
                continue
            out += [raw[pos:s], "【", raw[s:e], "】"]
            pos = e
        body = Text("".join(out) + raw[pos:])
    text.append_text(body)
    console.print(text)
    for turn in item.after:
        console.print(Text(f"  {turn['passage']} {turn['speaker'] or '-'}: {turn['text']}", style="dim"))
    console.print()
    score = f"score {c['score']} (p≈{item.probability:.2f})" if c["score"] not in (None, "") else "no score"
    console.print(Text(f"proposal {c['id']}: {c['code']}  {item.code_label}", style="bold"))
    console.print(Text(f"  {c['origin']}{' ' + c['rule'] if c['rule'] else ''} · {score}"))
    if item.evidence:
        shown = []
        for term, s, e in item.evidence:
            found = p["text"][s - base:e - base] if base <= s < e <= base + len(p["text"]) else term
            shown.append(found if found == term else f"{found} ({term})")
        console.print(Text("  evidence: " + ", ".join(dict.fromkeys(shown))))
    if item.definition:
        for line in item.definition.splitlines()[:4]:
            console.print(Text(f"  {line}", style="italic"))
    console.print(Text("[a]ccept [r]eject [c]hange code [n] add code [m]emo [s]kip [u]ndo [q]uit [?]", style="cyan"))


def run_review(session: ReviewSession, console=None, reader: KeyReader | None = None) -> str:
    """The interactive loop; returns the closing message."""
    from rich.console import Console

    console = console or Console(highlight=False)
    with reader or KeyReader() as keys:
        return _loop(session, console, keys)


def _loop(session: ReviewSession, console, reader: KeyReader) -> str:
    message = ""
    shown = None
    while True:
        item = session.current()
        if item is None:
            left = session.remaining_skipped()
            end = "No proposals left to review."
            if left:
                end += f" {left} skipped (run with --reset to see them again)."
            return end
        if shown != (item.coding["id"], item.total):
            render_item(console, item, session)
            shown = (item.coding["id"], item.total)
        if message:
            console.print(message)
            message = ""
        console.file.write("> ")
        console.file.flush()
        try:
            key = reader.key()
        except (EOFError, KeyboardInterrupt):
            key = "q"
        console.print(key if key.strip() else "")
        try:
            if key == "a":
                message = session.accept()
            elif key == "r":
                message = session.reject()
            elif key in ("c", "n"):
                what = "code instead" if key == "c" else "another code"
                ref = reader.line(f"{what} (path, id or label; empty cancels): ")
                if ref:
                    message = session.change_code(ref) if key == "c" else session.add_code(ref)
                    shown = None
            elif key == "m":
                text = reader.line("memo (one line; empty cancels): ")
                if text:
                    message = session.memo(text)
            elif key == "s":
                message = session.skip()
            elif key == "u":
                message = session.undo()
                shown = None
            elif key == "q":
                n = len(session.pending())
                return f"Saved. {n} proposals left; run the same command to resume."
            elif key == "?":
                message = "  ".join(f"{k} {v}" for k, v in KEYS.items())
            elif key:
                message = f"unknown key {key!r}; press ? for help"
        except (EOFError, KeyboardInterrupt):
            return f"Saved. {len(session.pending())} proposals left; run the same command to resume."
        except QualcodeError as exc:
            message = f"Error: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")
