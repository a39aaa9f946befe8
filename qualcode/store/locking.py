"""Row-level locking for concurrent coders (SQLite and PostgreSQL alike).

Every write goes through ``Store.transaction()``: on SQLite it starts with BEGIN IMMEDIATE
(writers queue for the file's write lock), on PostgreSQL rows are locked with
``SELECT … FOR UPDATE`` before they are checked and changed. On top of that,
``annotate.decide`` refuses to overwrite a decision another coder made and reports it as a
conflict instead: two coders reviewing at the same time never lose each other's decisions.
"""
from __future__ import annotations

from sqlalchemy import select


def lock_rows(conn, table, *where):
    """The rows matching ``where``, locked until the transaction ends (FOR UPDATE on PostgreSQL)."""
    return conn.execute(select(table).where(*where).with_for_update()).mappings().all()
