"""Turning what a person types into rows: a code path from an id or label, a coding id, a passage id."""
from __future__ import annotations

from sqlalchemy import select

from qualcode.errors import NotFound, not_found
from qualcode.store import queries, schema as t


def resolve_code(codebook, ref: str) -> str:
    """A code path from a path, a unique id (last path segment) or a unique Chinese/English label."""
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


def canonical_passage(project, ref: str) -> str:
    pid = queries.resolve_passage(project.store, ref)
    with project.store.read() as conn:
        return queries.passage_ref_of(conn, pid)
