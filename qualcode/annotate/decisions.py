"""Decisions per coder, and what a coder is shown of the others' work (blind coding).

A proposal (a coding of origin ``rule`` or ``model``) is the same proposal wherever its
document, span, code and unit are the same (``proposal_key``). Every coder has their own
decision on it: the first coder to decide takes the proposal's row (its ``coder``,
``status`` and ``decided_by`` become theirs, as before), and every later coder gets a copy
of the row (same origin, rule, evidence and score) carrying their own decision. A proposal
decided by A is therefore still open for B, and two coders deciding it at the same moment
both keep their decisions: the rows are locked (``FOR UPDATE`` on PostgreSQL, ``BEGIN
IMMEDIATE`` on SQLite), so the second waits, then finds the proposal taken and makes its
copy.

A coder's own earlier decision is changed only when they ask for it by id (``qualcode
reject 12`` after accepting it). A review session decides what it showed as open
(``open_only``): when the same coder decided it meanwhile in another session, that is a
conflict and the first decision is kept, as between two coders before.

Blind coding: an open blind assignment (``qualcode assign --blind``) hides, on its
documents, the other coders' decisions and manual codings from the coder. Proposals they
decided are shown to the coder as open proposals (status ``proposed``, by the program that
proposed them) until the coder decides them.
"""
from __future__ import annotations

from sqlalchemy import and_, insert, select, update

from qualcode.store import queries, schema as t
from qualcode.store.queries import AUTOCODER, SUGGESTER
from qualcode.vocabulary import Origin, Status

PROPOSAL_ORIGINS = (Origin.RULE.value, Origin.MODEL.value)
PROPOSER = {Origin.RULE.value: AUTOCODER, Origin.MODEL.value: SUGGESTER}
# the columns a coder's copy of a proposal takes from its own decision, not from the row copied
_DECISION_FIELDS = ("coder", "status", "decided_by", "decided_at", "updated_at")
_NOT_COPIED = ("id", "pinned_at", "pinned_by", "pin_note")


def proposal_key(row) -> tuple:
    """What makes two rows the same proposal: document, span, code and unit."""
    return (row["document_id"], row["start"], row["end"], row["code"], row["unit"] or "")


def is_proposal(row) -> bool:
    return row["origin"] in PROPOSAL_ORIGINS


def _same_proposal(row):
    k = t.codings
    unit = (k.c.unit == row["unit"]) if row["unit"] else (k.c.unit.is_(None) | (k.c.unit == ""))
    return and_(k.c.document_id == row["document_id"], k.c.start == row["start"], k.c.end == row["end"],
                k.c.code == row["code"], unit, k.c.origin.in_(PROPOSAL_ORIGINS))


def own_decision(conn, row: dict, coder: str, lock: bool = True) -> dict | None:
    """``coder``'s decision (their row, accepted or rejected) on the proposal ``row`` is, if any."""
    if row["coder"] == coder and row["status"] != Status.PROPOSED:
        return row
    k = t.codings
    q = select(k).where(_same_proposal(row), k.c.coder == coder, k.c.status != Status.PROPOSED.value).order_by(k.c.id)
    if lock:
        q = q.with_for_update()
    found = conn.execute(q).mappings().first()
    return dict(found) if found is not None else None


def apply_decision(conn, row: dict, decision: str, coder: str, now: str,
                   own: dict | None = None) -> tuple[dict | None, dict | None]:
    """Record ``coder``'s ``decision`` on the proposal ``row`` (locked by the caller).

    Returns ``(update, inserted)`` for the audit log: ``update`` = {id, before, after} when a
    row changed (the undecided proposal taken, or the coder's own decision changed),
    ``inserted`` = the coder's new copy when another coder had taken the proposal already.
    ``own``: the coder's decision found by the caller (``own_decision``), if any.
    """
    after = dict(status=decision, coder=coder, decided_by=coder, decided_at=now, updated_at=now)
    target = own if own is not None else (row if row["status"] == Status.PROPOSED else None)
    if target is not None:
        conn.execute(update(t.codings).where(t.codings.c.id == target["id"]).values(**after))
        return {"id": target["id"], "before": {k: target[k] for k in after}, "after": after}, None
    values = {c: row[c] for c in t.CODING_FIELDS if c not in _NOT_COPIED and c in row}
    values.update(after, created_at=now)
    new_id = conn.execute(insert(t.codings).values(**values)).inserted_primary_key[0]
    return None, queries.coding_row(conn, new_id)


def proposal_view(row: dict) -> dict:
    """A proposal as a coder who has not decided it sees it: open, by the program that proposed it."""
    return dict(row, status=Status.PROPOSED.value, coder=PROPOSER.get(row["origin"], row["coder"]),
                decided_by=None, decided_at=None)


def open_proposals(rows: list[dict], coder: str) -> list[dict]:
    """One row per proposal among ``rows`` that ``coder`` has not decided (``rows`` must hold
    every row of those proposals). The undecided row itself where there is one, else the
    oldest row of the proposal, shown as open (``proposal_view``)."""
    decided = {proposal_key(r) for r in rows if is_proposal(r) and r["coder"] == coder
               and r["status"] != Status.PROPOSED}
    chosen: dict[tuple, dict] = {}
    for r in sorted(rows, key=lambda r: r["id"]):
        if not is_proposal(r):
            continue
        key = proposal_key(r)
        if key in decided:
            continue
        have = chosen.get(key)
        if have is None or (have["status"] != Status.PROPOSED and r["status"] == Status.PROPOSED):
            chosen[key] = r
    return [r if r["status"] == Status.PROPOSED else proposal_view(r) for r in chosen.values()]


# ---------------------------------------------------------------------------- blind coding


def blind_documents(conn, coder: str) -> set[int]:
    """Documents on which ``coder`` has an open blind assignment."""
    a = t.assignments
    return {d for (d,) in conn.execute(select(a.c.document_id).where(
        a.c.coder == coder, a.c.blind == 1, a.c.closed_at.is_(None)))}


def visible_rows(rows: list[dict], viewer: str, blind_docs: set[int], doc_of=lambda r: r["document_id"]) -> list[dict]:
    """``rows`` as ``viewer`` may see them: on the documents of their open blind assignments,
    their own codings and the proposals they have not decided (shown as open); other
    coders' decisions and manual codings are left out. Elsewhere every row, as stored."""
    if not blind_docs:
        return rows
    hidden = [r for r in rows if doc_of(r) in blind_docs]
    if not hidden:
        return rows
    keep_ids: dict[int, dict] = {}
    for r in hidden:
        if r["coder"] == viewer:
            keep_ids[r["id"]] = r
    with_keys = [dict(r, document_id=doc_of(r)) for r in hidden]
    by_id = {r["id"]: r for r in hidden}
    for view in open_proposals(with_keys, viewer):
        keep_ids.setdefault(view["id"], dict(by_id[view["id"]], status=view["status"], coder=view["coder"]))
    out = []
    for r in rows:
        if doc_of(r) not in blind_docs:
            out.append(r)
        elif r["id"] in keep_ids:
            out.append(keep_ids[r["id"]])
    return out


__all__ = [
    "PROPOSAL_ORIGINS", "apply_decision", "blind_documents", "is_proposal", "open_proposals", "own_decision",
    "proposal_key", "proposal_view", "visible_rows",
]
