"""Tables of a qualcode project (SQLAlchemy Core; portable to SQLite and PostgreSQL).

Offsets (``start``/``end``) are code points, half-open, over ``documents.text``.
"""
from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", String(40), nullable=False),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(400), nullable=False, unique=True),
)

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(400), nullable=False, unique=True),
    Column("file_name", String(400), nullable=False),  # base name of the imported file
    Column("source_path", Text, nullable=False),
    Column("content_hash", String(64), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("n_chars", Integer, nullable=False),
    Column("encoding", String(40), nullable=False),
    Column("style", String(20), nullable=False),
    Column("script", String(20), nullable=False),  # simplified | traditional (as stored)
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=True),
    Column("dict_version", String(64), nullable=False),  # user dictionary the tokens came from
    Column("warnings", Text, nullable=False, default="[]"),  # JSON list of strings
    Column("notes", Text, nullable=False, default="[]"),  # JSON list: how speaker roles were inferred
    Column("imported_at", String(40), nullable=False),
    # the identity of a re-import: the path relative to the imported folder, so that
    # H街道/访谈记录.txt and N街道/访谈记录.txt are two documents (schema 7; NULL before)
    Column("rel_path", Text, nullable=True),
)

attributes = Table(
    "attributes",
    metadata,
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
)

speakers = Table(
    "speakers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(200), nullable=False),
    Column("role", String(20), nullable=True),  # interviewer | interviewee | other
    UniqueConstraint("document_id", "label"),
)

passages = Table(
    "passages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),  # 1-based within the document; shown as DOC:SEQ
    Column("speaker_id", Integer, ForeignKey("speakers.id", ondelete="CASCADE"), nullable=True),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("timestamp", String(20), nullable=True),
    Column("line", Integer, nullable=True),  # where the turn starts in the source file
    Column("tokens", LargeBinary, nullable=False),  # jieba token lengths, array('I') bytes
    UniqueConstraint("document_id", "seq"),
)

sentences = Table(
    "sentences",
    metadata,
    Column("passage_id", Integer, ForeignKey("passages.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
)

codes = Table(
    "codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("path", String(400), nullable=False, unique=True),
    Column("parent", String(400), nullable=True),
    Column("label", String(400), nullable=False),
    Column("label_en", String(400), nullable=True),
    Column("definition", Text, nullable=True),
    Column("color", String(20), nullable=True),
    Column("sort", Integer, nullable=False, default=0),
    Column("codebook_version", String(64), nullable=True),
)

codings = Table(
    "codings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("passage_id", Integer, ForeignKey("passages.id", ondelete="SET NULL"), nullable=True),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("code", String(400), nullable=False),  # code path, e.g. governance/legitimacy
    Column("coder", String(200), nullable=False),
    Column("origin", String(10), nullable=False),  # rule | manual | model | import
    Column("status", String(10), nullable=False),  # proposed | accepted | rejected
    Column("unit", String(10), nullable=True),  # passage | sentence | span
    Column("rule", String(400), nullable=True),  # which rule proposed it (origin=rule)
    Column("evidence", Text, nullable=True),  # JSON
    Column("score", String(40), nullable=True),
    Column("codebook_version", String(64), nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("decided_by", String(200), nullable=True),  # who accepted/rejected it (or created it by hand)
    Column("decided_at", String(40), nullable=True),
    # 1: negative evidence, the passage says the mechanism is missing or only on paper (schema 5)
    Column("absent", Integer, nullable=False, server_default="0"),
    # a pinned exemplar quote: reports quote it first for its code (``qualcode quote pin``)
    Column("pinned_at", String(40), nullable=True),
    Column("pinned_by", String(200), nullable=True),
    Column("pin_note", Text, nullable=True),
    # the combined scorer's probability that the proposal is right (schema 8; empty: rules only)
    Column("confidence", Float, nullable=True),
)
Index("ix_documents_file", documents.c.file_name, documents.c.case_id)  # re-import identity
Index("ix_codings_doc", codings.c.document_id, codings.c.start)
Index("ix_codings_code", codings.c.code)

memos = Table(
    "memos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("target_type", String(20), nullable=False),  # code | doc | coding | project
    Column("target", String(400), nullable=False),
    Column("coder", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", String(40), nullable=False),
    Column("coder", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(400), nullable=True),
    Column("detail", Text, nullable=True),  # JSON
    Column("undone_at", String(40), nullable=True),  # set when 'qualcode undo' reverted it
)

# Where a coder's review queue stands (``qualcode review``): skipped ids and the current one.
review_state = Table(
    "review_state",
    metadata,
    Column("coder", String(200), primary_key=True),
    Column("queue", String(400), primary_key=True),  # the filters and order that define the queue
    Column("state", Text, nullable=False),  # JSON
    Column("updated_at", String(40), nullable=False),
)

# Which coder was given which document to code (``qualcode assign``). Inter-coder agreement
# treats a document as seen by a coder when it is assigned to them or they coded or decided
# anything in it; units of documents a coder never saw are missing, not disagreement.
assignments = Table(
    "assignments",
    metadata,
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("coder", String(200), primary_key=True),
    Column("assigned_at", String(40), nullable=False),
    # 1: blind (independent) coding: while the assignment is open (closed_at empty) the coder
    # is shown neither the other coders' decisions nor their manual codings here (schema 6)
    Column("blind", Integer, nullable=False, default=0, server_default="0"),
    Column("closed_at", String(40), nullable=True),
)

# Adjudication (``qualcode adjudicate``): one row per settled disagreement, or agreement
# carried into the consensus, with the result and the reason (schema 6).
adjudications = Table(
    "adjudications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("unit", String(40), nullable=False),  # the unit id as agreement names it (3:12, 3:12.2, 3)
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("code", String(400), nullable=False),
    Column("coders", String(400), nullable=False),  # the compared coders, comma-separated, sorted
    Column("consensus", String(200), nullable=False),  # the consensus coder name
    Column("votes", Text, nullable=False),  # JSON: coder -> 1 coded / 0 not coded
    Column("result", Integer, nullable=False),  # 1 coded in the consensus, 0 not coded
    Column("kind", String(20), nullable=False),  # agreed (carried automatically) | settled (adjudicated)
    Column("reason", Text, nullable=True),
    Column("coding_id", Integer, nullable=True),  # the consensus coding made for result 1
    Column("decided_by", String(200), nullable=False),  # who adjudicated (a person, not the consensus name)
    Column("decided_at", String(40), nullable=False),
    UniqueConstraint("document_id", "unit", "code", "coders", "consensus"),
)


# Every column of a coding / memo row, in table order (copying rows: merge, undo).
CODING_FIELDS = [c.name for c in codings.columns]
MEMO_FIELDS = [c.name for c in memos.columns]
