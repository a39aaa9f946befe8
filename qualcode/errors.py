"""Exception types and the exit codes the CLI maps them to.

Library code raises these; only ``qualcode.cli`` turns them into a message and an exit
code. Messages name the file, line or passage at fault; hints say what to do.
"""
from __future__ import annotations

import difflib

EXIT_OK = 0
EXIT_ERROR = 1  # a command failed on bad input or bad data
EXIT_USAGE = 2  # click's own code for bad options
EXIT_NO_PROJECT = 3
EXIT_PARTIAL = 4  # a batch finished but some items failed
EXIT_INTERNAL = 70  # a bug in qualcode (EX_SOFTWARE); QUALCODE_DEBUG=1 shows the traceback
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of our output went away (head, less, grep -m)


class QualcodeError(Exception):
    """Base class: a problem the user can fix, reported in one line plus a hint."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ProjectNotFound(QualcodeError):
    exit_code = EXIT_NO_PROJECT


class InputFileError(QualcodeError):
    """A file that cannot be read as a transcript (junk, undecodable, empty)."""


class NotFound(QualcodeError):
    """An unknown document, passage, code or coding id."""


class ExchangeError(QualcodeError):
    """A .qdc/.qdpx file that is broken, hostile or not REFI-QDA; the project is left untouched."""


class ConfigError(QualcodeError):
    """A bad qualcode.toml, manifest or option value."""


def closest(name: str, candidates: list[str]) -> str | None:
    """The candidate most like ``name`` (for "did you mean …?"), if any is close."""
    match = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
    return match[0] if match else None


_LISTING = {
    "doc": "qualcode docs list",
    "code": "qualcode codebook show",
    "coding": "qualcode code list",
    "speaker": "qualcode docs show DOC",
    "coder": "qualcode code list",
}


def not_found(kind: str, ref: str, candidates: list[str]) -> NotFound:
    """A NotFound for an unknown ``kind`` (doc, code, coding …) that suggests the closest match."""
    guess = closest(ref, candidates)
    listing = _LISTING.get(kind)
    hint = f"did you mean {guess}?" if guess else (f"list them with '{listing}'" if listing else None)
    return NotFound(f"no {kind} {ref!r} in this project", hint=hint)
