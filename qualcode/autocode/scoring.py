"""Which scorer gives rule proposals their confidence: ``[autocode] scorer`` in qualcode.toml.

``rules`` (the default) keeps the rules' own score: ``review`` reads it as ``1 - 0.5 **
score``. ``combined`` has ``autocode`` write the combined scorer's probability in each open
rule proposal's ``confidence`` (``qualcode.autocode.suggest.attach_confidence``), which
``review --order confidence|uncertainty`` and the browser workspace then use. This module
is light (no scikit-learn), so a rules-only ``autocode`` never loads the scorer.
"""
from __future__ import annotations

from sqlalchemy import delete, select, update

from qualcode.errors import ConfigError
from qualcode.store import schema as t
from qualcode.store.queries import AUTOCODER

SCORERS = ("rules", "combined")


def scorer_setting(project) -> str:
    """``[autocode] scorer`` in qualcode.toml: ``rules`` (default) or ``combined``."""
    section = project.settings.get("autocode", {})
    value = section.get("scorer", "rules") if isinstance(section, dict) else section
    if value not in SCORERS:
        raise ConfigError(f"qualcode.toml: [autocode] scorer = {value!r:.40} is not one of {', '.join(SCORERS)}",
                          hint='e.g. scorer = "combined" (or remove the line for rules only)')
    return value


def clear_confidence(store) -> int:
    """Back to rules only: forget every stored confidence and remove the combined scorer's open
    proposals (origin ``model``, coder ``autocode``, with their memos); decisions on them stay.
    How many proposals were removed."""
    k = t.codings
    ours = (k.c.origin == "model", k.c.coder == AUTOCODER, k.c.status == "proposed")
    with store.transaction() as conn:
        stale = [i for (i,) in conn.execute(select(k.c.id).where(*ours))]
        if stale:
            conn.execute(delete(k).where(k.c.id.in_(stale)))
            conn.execute(delete(t.memos).where(t.memos.c.target_type == "coding",
                                               t.memos.c.target.in_([str(i) for i in stale])))
        conn.execute(update(k).where(k.c.confidence.is_not(None)).values(confidence=None))
    return len(stale)
