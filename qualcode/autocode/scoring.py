"""Which scorer gives rule proposals their confidence: ``[autocode] scorer`` in qualcode.toml.

``rules`` (the default) keeps the rules' own score: ``review`` reads it as ``1 - 0.5 **
score``. ``combined`` has ``autocode`` write the combined scorer's probability in each open
rule proposal's ``confidence`` (``qualcode.autocode.suggest.attach_confidence``), which
``review --order confidence|uncertainty`` and the browser workspace then use. This module
is light (no scikit-learn), so a rules-only ``autocode`` never loads the scorer.
"""
from __future__ import annotations

from sqlalchemy import update

from qualcode.errors import ConfigError
from qualcode.store import schema as t

SCORERS = ("rules", "combined")


def scorer_setting(project) -> str:
    """``[autocode] scorer`` in qualcode.toml: ``rules`` (default) or ``combined``."""
    section = project.settings.get("autocode", {})
    value = section.get("scorer", "rules") if isinstance(section, dict) else section
    if value not in SCORERS:
        raise ConfigError(f"qualcode.toml: [autocode] scorer = {value!r:.40} is not one of {', '.join(SCORERS)}",
                          hint='e.g. scorer = "combined" (or remove the line for rules only)')
    return value


def clear_confidence(store) -> None:
    """Forget every stored confidence (back to rules only)."""
    k = t.codings
    with store.transaction() as conn:
        conn.execute(update(k).where(k.c.confidence.is_not(None)).values(confidence=None))
