"""The audit log: every change a person makes, as a named event, and undo.

Each event type is declared once in ``EVENTS`` (its action name and whether ``undo`` can
revert it) and built by one constructor on ``Event`` (``Event.code_add(...)``,
``Event.decision(...)`` …), so the log's vocabulary and what undo reads come from one list.
An event's ``detail`` JSON is enough to invert it:

* ``inserted``: {"codings": [row, ...], "memos": [row, ...]}  → undo deletes them
* ``deleted``:  {"codings": [row, ...], "memos": [row, ...]}  → undo puts them back (same ids)
* ``updated``:  {"codings": [{"id", "before", "after"}, ...]}  → undo restores ``before``
* ``codebook``: {"path", "before", "after"} (file text)        → undo restores the file

Undo checks that what it is about to revert is still as the action left it; if someone
changed it since, it refuses (naming the action) rather than guess.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update

from qualcode.annotate import document_rows as documents
from qualcode.annotate.coders import coder_name
from qualcode.errors import ConfigError, QualcodeError
from qualcode.store import schema as t, utcnow

LOG_COLUMNS = ["id", "at", "coder", "action", "target", "summary", "undone"]

# action → can undo revert it
EVENTS: dict[str, bool] = {
    "code-add": True, "code-remove": True, "code-new": True, "accept": True, "reject": True, "recode": True,
    "memo-add": True, "sheet-import": True, "merge": True, "adjudicate": True, "quote-pin": True, "quote-unpin": True,
    "docs-remove": True, "docs-set": True, "undo": False,
}
UNDOABLE = tuple(action for action, undoable in EVENTS.items() if undoable)


class UndoError(QualcodeError):
    """An action that can no longer be undone because its target changed since."""


def _rows(codings: list[dict] | None = None, memos: list[dict] | None = None) -> dict[str, list[dict]]:
    return {"codings": list(codings or []), "memos": list(memos or [])}


@dataclass(frozen=True)
class Event:
    """One entry of the audit log, before it is written (``record``)."""

    action: str
    target: str | None
    detail: dict[str, Any]

    def __post_init__(self):
        if self.action not in EVENTS:
            raise ValueError(f"unknown audit event {self.action!r}")

    @classmethod
    def code_add(cls, coding: dict, memos: list[dict], summary: str) -> Event:
        return cls("code-add", f"coding {coding['id']}", {"inserted": _rows([coding], memos), "summary": summary})

    @classmethod
    def code_remove(cls, coding: dict, memos: list[dict], summary: str) -> Event:
        return cls("code-remove", f"coding {coding['id']}", {"deleted": _rows([coding], memos), "summary": summary})

    @classmethod
    def decision(cls, action: str, target: str, updates: list[dict], summary: str,
                 inserted: list[dict] | None = None) -> Event:
        """``accept`` or ``reject`` of one or more codings (``updates``: id, before, after;
        ``inserted``: the coder's own copies of proposals another coder had decided)."""
        detail: dict[str, Any] = {"updated": {"codings": updates}, "summary": summary}
        if inserted:
            detail["inserted"] = _rows(inserted)
        return cls(action, target, detail)

    @classmethod
    def recode(cls, coding: dict, updates: list[dict], new: dict | None, deleted: dict, summary: str,
               copies: list[dict] | None = None) -> Event:
        """``new``: the coding made instead, None when an open proposal was accepted (in ``updates``);
        ``copies``: the coder's own rejection of a proposal another coder had decided."""
        return cls("recode", f"coding {coding['id']}", {
            "updated": {"codings": updates}, "inserted": _rows(list(copies or []) + ([new] if new else [])),
            "deleted": deleted, "summary": summary})

    @classmethod
    def memo_add(cls, target: str, memo: dict, summary: str) -> Event:
        return cls("memo-add", target, {"inserted": _rows(memos=[memo]), "summary": summary})

    @classmethod
    def code_new(cls, code_path: str, codebook_path: str, before: str, after: str, summary: str) -> Event:
        return cls("code-new", code_path, {
            "codebook": {"path": codebook_path, "before": before, "after": after}, "summary": summary})

    @classmethod
    def merge(cls, source: str, codings: list[dict], memos: list[dict], summary: str) -> Event:
        return cls("merge", source, {"inserted": _rows(codings, memos), "summary": summary})

    @classmethod
    def sheet_import(cls, sheet: str, inserted: list[dict], updated: list[dict], deleted: dict,
                     summary: str) -> Event:
        return cls("sheet-import", sheet, {
            "inserted": _rows(inserted), "updated": {"codings": updated}, "deleted": deleted, "summary": summary})

    @classmethod
    def quote_pin(cls, action: str, coding: dict, update: dict, summary: str) -> Event:
        """``quote-pin`` or ``quote-unpin`` of one coding (``update``: id, before, after)."""
        return cls(action, f"coding {coding['id']}", {"updated": {"codings": [update]}, "summary": summary})

    @classmethod
    def adjudicate(cls, target: str, codings: list[dict], adjudications: list[dict], summary: str) -> Event:
        """Consensus codings made and the adjudication rows recording why (``annotate.adjudicate``)."""
        inserted = _rows(codings)
        inserted["adjudications"] = list(adjudications)
        return cls("adjudicate", target, {"inserted": inserted, "summary": summary})

    @classmethod
    def docs_remove(cls, doc_id: int, rows: dict[str, list[dict]], summary: str) -> Event:
        """A removed document: every row it had (``annotate.documents``), put back by undo."""
        return cls("docs-remove", f"document {doc_id}", {"document_rows": rows, "summary": summary})

    @classmethod
    def docs_set(cls, doc_id: int, before: dict, after: dict, summary: str) -> Event:
        """A document's name, case and attributes before and after (``annotate.documents``)."""
        return cls("docs-set", f"document {doc_id}", {"document_state": {"id": doc_id, "before": before,
                                                                         "after": after}, "summary": summary})

    @classmethod
    def undo(cls, entry_id: int, summary: str) -> Event:
        return cls("undo", f"action {entry_id}", {"undid": entry_id, "summary": summary})


def record(conn, coder: str, event: Event) -> int:
    """Write ``event`` to the audit log in the caller's transaction; returns its id."""
    return conn.execute(insert(t.audit_log).values(
        at=utcnow(), coder=coder, action=event.action, target=event.target,
        detail=json.dumps(event.detail, ensure_ascii=False, sort_keys=True),
    )).inserted_primary_key[0]


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


def undo(project, n: int = 1, coder: str | None = None) -> list[dict]:
    """Revert this coder's last ``n`` actions (newest first), counting another coder's removal
    of one of this coder's codings as theirs to undo; returns the log rows undone."""
    coder = coder_name(project, coder)
    if n < 1:
        raise ConfigError("undo needs a positive number of actions")
    with project.store.read() as conn:
        entries = [dict(r) for r in conn.execute(
            select(t.audit_log).where(t.audit_log.c.coder == coder, t.audit_log.c.undone_at.is_(None),
                                      t.audit_log.c.action.in_(UNDOABLE))
            .order_by(t.audit_log.c.id.desc()).limit(n)).mappings()]
        entries = sorted(entries + _removals_of(conn, coder, n), key=lambda e: -e["id"])[:n]
    if not entries:
        raise QualcodeError(f"nothing to undo for {coder}", hint="'qualcode log' shows the audit trail")
    done: list[dict] = []
    for entry in entries:
        try:
            with project.store.transaction() as conn:
                _invert(project, conn, json.loads(entry["detail"] or "{}"))
                now = utcnow()
                conn.execute(update(t.audit_log).where(t.audit_log.c.id == entry["id"]).values(undone_at=now))
                record(conn, coder, Event.undo(entry["id"], f"{entry['action']} {entry['target'] or ''}".strip()))
        except UndoError as exc:
            if done:
                exc.message = f"undid {len(done)} action(s), then stopped: {exc.message}"
            raise
        done.append({"id": entry["id"], "action": entry["action"], "target": entry["target"] or "",
                     "summary": json.loads(entry["detail"] or "{}").get("summary", "")})
    return done


# actions by which an adjudicator may take away another coder's coding
REMOVALS = ("code-remove", "recode")


def _removals_of(conn, coder: str, n: int) -> list[dict]:
    """The newest ``n`` removals (or recodes) of ``coder``'s codings by someone else, not undone:
    every removal is undoable by the coding's owner."""
    out = []
    for r in conn.execute(select(t.audit_log).where(
            t.audit_log.c.coder != coder, t.audit_log.c.undone_at.is_(None), t.audit_log.c.action.in_(REMOVALS))
            .order_by(t.audit_log.c.id.desc())).mappings():
        gone = (json.loads(r["detail"] or "{}").get("deleted") or {}).get("codings", [])
        if any(c.get("coder") == coder for c in gone):
            out.append(dict(r))
            if len(out) >= n:
                break
    return out


_KEY_FIELDS = ("document_id", "start", "end", "code", "coder", "status", "created_at")


def _invert(project, conn, detail: dict) -> None:
    label = detail.get("summary", "")
    # 1. inserted rows go (only if they are still exactly what was inserted)
    ins = detail.get("inserted") or {}
    for a in ins.get("adjudications", []):  # the record of a settlement goes with its codings
        conn.execute(delete(t.adjudications).where(t.adjudications.c.id == a["id"]))
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
        # rows logged before a column existed leave it to its default (e.g. absent = 0)
        conn.execute(insert(t.codings).values(**{k: c[k] for k in t.CODING_FIELDS if k in c}))
    for m in dele.get("memos", []):
        conn.execute(insert(t.memos).values(**{k: m.get(k) for k in t.MEMO_FIELDS}))
    # 4. a document's metadata, a removed document
    state = detail.get("document_state")
    if state:
        if documents.state_of(conn, state["id"]) != state["after"]:
            raise UndoError(f"document {state['id']} ({label}) was changed again since",
                            hint="undo the later change first ('qualcode log' shows it)")
        documents.apply_state(conn, state["id"], state["before"])
    if detail.get("document_rows"):
        documents.restore_rows(conn, detail["document_rows"])
    # 5. the codebook file
    cb = detail.get("codebook")
    if cb:
        path = project.root / cb["path"]
        if not path.is_file() or path.read_text(encoding="utf-8") != cb["after"]:
            raise UndoError(f"{cb['path']} was edited since ({label})", hint="remove the code by hand")
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(cb["before"], encoding="utf-8")
        tmp.replace(path)
