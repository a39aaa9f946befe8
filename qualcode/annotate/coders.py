"""Who is coding: the coder name of an action, and every coder a project has seen."""
from __future__ import annotations

from sqlalchemy import select

from qualcode.errors import ConfigError
from qualcode.store import schema as t


def coder_name(project, coder: str | None = None) -> str:
    """The coder: ``coder`` if given, else QUALCODE_CODER, else the project's default coder."""
    name = (coder or "").strip() or project.default_coder
    if not name:
        raise ConfigError("no coder name", hint="pass --coder NAME or set QUALCODE_CODER")
    return name


def coders(project) -> list[str]:
    """Every coder who has coded, decided or written a memo."""
    with project.store.read() as conn:
        names = {c for (c,) in conn.execute(select(t.codings.c.coder).distinct())}
        names |= {c for (c,) in conn.execute(select(t.memos.c.coder).distinct())}
        names |= {c for (c,) in conn.execute(select(t.codings.c.decided_by).distinct()) if c}
    return sorted(names)
