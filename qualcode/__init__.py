"""qualcode: code Chinese field-interview transcripts reproducibly.

Public API: ``Project``, ``QualcodeError``, ``load_codebook``, ``to_spacy`` (heavy modules are
imported lazily so that the command line starts fast).
"""
from __future__ import annotations

__version__ = "0.2.0"

from qualcode.errors import QualcodeError  # noqa: E402  (cheap)

__all__ = ["Project", "QualcodeError", "load_codebook", "to_spacy", "__version__"]


def __getattr__(name):
    if name == "Project":
        from qualcode.project import Project

        return Project
    if name == "load_codebook":
        from qualcode.codebook.load import load_codebook

        return load_codebook
    if name == "to_spacy":
        from qualcode.exchange.spacy_docs import to_spacy

        return to_spacy
    raise AttributeError(name)
