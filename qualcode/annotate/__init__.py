"""Human coding: manual codings and decisions, memos, the audit log and undo, the review
queue, spreadsheets for coding in Excel/WPS, and merging another coder's project.

The public operations are re-exported here (``from qualcode import annotate``;
``annotate.add_coding(project, …)``).
"""
from __future__ import annotations

from qualcode.annotate.audit import LOG_COLUMNS, UNDOABLE, Event, UndoError, audit_log, record, undo
from qualcode.annotate.coders import coder_name, coders
from qualcode.annotate.codings import (
    LIST_COLUMNS,
    ORIGINS,
    STATUSES,
    DecisionReport,
    Span,
    add_coding,
    change_code,
    decide,
    find_span,
    list_codings,
    new_code,
    remove_coding,
)
from qualcode.annotate.memos import MEMO_COLUMNS, MEMO_TARGETS, add_memo, list_memos, resolve_memo_target
from qualcode.annotate.quotes import PIN_COLUMNS, pin_quote, pinned_quotes, unpin_quote
from qualcode.annotate.resolve import resolve_code, resolve_coding

__all__ = [
    "LIST_COLUMNS", "LOG_COLUMNS", "MEMO_COLUMNS", "MEMO_TARGETS", "ORIGINS", "PIN_COLUMNS", "STATUSES", "UNDOABLE",
    "DecisionReport", "Event", "Span", "UndoError", "add_coding", "add_memo", "audit_log", "change_code",
    "coder_name", "coders", "decide", "find_span", "list_codings", "list_memos", "new_code", "record",
    "pin_quote", "pinned_quotes", "remove_coding", "resolve_code", "resolve_coding", "resolve_memo_target", "undo",
    "unpin_quote",
]
