"""Row-level locking for concurrent coders (SQLite and PostgreSQL alike).

Every write goes through ``Store.transaction()``: on SQLite it starts with BEGIN IMMEDIATE
(writers queue for the file's write lock), on PostgreSQL rows are locked with
``SELECT … FOR UPDATE`` before they are checked and changed. On top of that,
``annotate.decide`` gives every coder their own decision on a proposal (the second coder
gets a copy of a proposal the first took) and never changes another coder's coding: two
coders reviewing at the same time both keep their decisions.
"""
from __future__ import annotations

from sqlalchemy import select


def lock_rows(conn, table, *where):
    """The rows matching ``where``, locked until the transaction ends (FOR UPDATE on PostgreSQL)."""
    # in key order, so that two transactions locking overlapping sets cannot deadlock
    return conn.execute(select(table).where(*where).order_by(*table.primary_key.columns)
                        .with_for_update()).mappings().all()
