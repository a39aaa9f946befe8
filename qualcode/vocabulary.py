"""The domain vocabulary, declared once: what a coding's status and origin can be, the roles
a speaker plays, and the units text is counted in. The store's columns, the codebook's
``scope``, the command line's choices and the docs all take their values from here
(``tests/test_vocabulary.py`` checks that the docs mention every value).

Members are ``StrEnum``s, so they compare equal to, and are stored and serialised as,
their plain string values.
"""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a coding stands in review. Manual codings are created accepted."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Origin(StrEnum):
    """Who or what made a coding."""

    RULE = "rule"  # the codebook's rules (autocode)
    MANUAL = "manual"  # a person (code add, review, sheets, the browser)
    MODEL = "model"  # the learned suggestion model (suggest apply)
    IMPORT = "import"  # another program's project (REFI-QDA)


class Role(StrEnum):
    """The part a speaker plays in an interview; ``unknown`` where no label or inference says."""

    INTERVIEWER = "interviewer"
    INTERVIEWEE = "interviewee"
    OTHER = "other"
    UNKNOWN = "unknown"


class Unit(StrEnum):
    """The units text is coded, compared and counted in."""

    PASSAGE = "passage"  # one speaker turn (or paragraph) of a document
    SENTENCE = "sentence"
    DOCUMENT = "document"
    CHAR = "char"  # characters: agreement on exact spans (Krippendorff's unitizing alpha)
    PROXIMITY = "proximity"  # co-occurrence within a window of passages
    SPAN = "span"  # a coding made by hand on any stretch of text


class SegmenterKind(StrEnum):
    """The word segmenter a project tokenises with (``segmenter`` in qualcode.toml)."""

    JIEBA = "jieba"  # jieba in Python: projects made before the setting existed keep it
    JIEBA_RS = "jieba-rs"  # the same algorithm and dictionary in Rust (rjieba), about 20x faster


class MemoTarget(StrEnum):
    """What a memo is attached to."""

    CODE = "code"
    DOC = "doc"
    PASSAGE = "passage"
    CODING = "coding"


def values(*members) -> tuple[str, ...]:
    """Plain string values, for click choices and messages: ``values(*Status)``."""
    return tuple(str(m) for m in members)


STATUSES = values(*Status)
ORIGINS = values(*Origin)
SPEAKER_ROLES = values(Role.INTERVIEWER, Role.INTERVIEWEE, Role.OTHER)  # stored on speakers; None = unknown
SCOPE_ROLES = values(*Role)  # a codebook scope may also ask for speakers of unknown role
CODING_UNITS = values(Unit.PASSAGE, Unit.SENTENCE)  # what autocode, a codebook scope and export spacy code
AGREEMENT_UNITS = values(Unit.PASSAGE, Unit.SENTENCE, Unit.DOCUMENT, Unit.CHAR)
COOCCURRENCE_UNITS = values(Unit.PASSAGE, Unit.SENTENCE, Unit.DOCUMENT, Unit.PROXIMITY)
MEMO_TARGETS = values(*MemoTarget)
SEGMENTERS = values(*SegmenterKind)
