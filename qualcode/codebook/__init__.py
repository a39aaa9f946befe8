"""The codebook: a tree of codes with definitions and auto-coding rules, kept in YAML.

One job per module: ``model`` (the typed codebook), ``load`` (file or text to a codebook),
``validate`` (YAML tree to a codebook or every problem), ``dump`` (codebook to YAML) and
``graph`` (references between codes). The public API is re-exported here.
"""
from __future__ import annotations

from qualcode.codebook.dump import CodebookDumper, dump, dumps
from qualcode.codebook.graph import dependency_order, find_cycles
from qualcode.codebook.load import load_codebook, parse_codebook
from qualcode.codebook.model import (
    COLOR_RE,
    DEFAULT_NEGATION_WINDOW,
    DEFAULT_NEGATORS,
    FORMAT,
    ID_RE,
    ROLE_VALUES,
    UNIT_KINDS,
    Code,
    Codebook,
    CodebookError,
    Example,
    Near,
    Negation,
    Rule,
    Scope,
    Term,
)
from qualcode.codebook.validate import validate_tree

__all__ = [
    "COLOR_RE", "DEFAULT_NEGATION_WINDOW", "DEFAULT_NEGATORS", "FORMAT", "ID_RE", "ROLE_VALUES", "UNIT_KINDS",
    "Code", "Codebook", "CodebookDumper", "CodebookError", "Example", "Near", "Negation", "Rule", "Scope", "Term",
    "dependency_order", "dump", "dumps", "find_cycles", "load_codebook", "parse_codebook", "validate_tree",
]
