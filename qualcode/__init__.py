"""qualcode: code Chinese field-interview transcripts reproducibly.

Public API: ``Project``, ``QualcodeError`` (heavy modules are imported lazily so that the
command line starts fast).
"""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import QualcodeError  # noqa: E402  (cheap)


def __getattr__(name):
    if name == "Project":
        from .project import Project

        return Project
    if name == "load_codebook":
        from .codebook import load_codebook

        return load_codebook
    raise AttributeError(name)
