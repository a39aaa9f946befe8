"""The project store: one object owning the engine, transactions and schema version."""
from __future__ import annotations

import datetime as _dt
from contextlib import contextmanager
from typing import Iterator

from ..errors import QualcodeError
from . import schema as t

# Ordered migrations: (version, name, function(connection)). Never edit an applied entry;
# append a new one. Version 1 creates every table in ``schema`` as it is now, so later steps
# must be idempotent: use ``create_table_if_missing`` / ``add_column_if_missing``.


def _create_initial(conn) -> None:
    t.metadata.create_all(conn)


def create_table_if_missing(conn, table) -> None:
    table.create(conn, checkfirst=True)


def add_column_if_missing(conn, table, column_name: str) -> None:
    """ALTER TABLE ADD COLUMN for a column declared in ``schema`` but absent from the database."""
    from sqlalchemy import inspect, text
    from sqlalchemy.schema import CreateColumn

    present = {c["name"] for c in inspect(conn).get_columns(table.name)}
    if column_name in present:
        return
    ddl = CreateColumn(table.c[column_name]).compile(dialect=conn.dialect)
    conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN {ddl}'))


MIGRATIONS = [(1, "initial schema", _create_initial)]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def utcnow() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class SchemaTooNew(QualcodeError):
    pass


class Store:
    """Owns the database connection. ``with store.transaction() as conn:`` is all-or-nothing."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine, event

        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs = {"future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        self.engine = create_engine(url, **kwargs)
        if self.is_sqlite:

            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

    @contextmanager
    def transaction(self) -> Iterator:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator:
        with self.engine.connect() as conn:
            yield conn

    def schema_version(self) -> int:
        from sqlalchemy import inspect, select, func

        if not inspect(self.engine).has_table("schema_migrations"):
            return 0
        with self.read() as conn:
            return conn.execute(select(func.max(t.schema_migrations.c.version))).scalar() or 0

    def migrate(self) -> list[str]:
        """Bring the schema up to date; returns the names of the migrations applied."""
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"this project uses schema version {current}, newer than this qualcode ({SCHEMA_VERSION})",
                hint="upgrade qualcode to open it",
            )
        applied = []
        for version, name, step in sorted(MIGRATIONS, key=lambda m: m[0]):
            if version <= current:
                continue
            with self.transaction() as conn:
                if version == 1:
                    t.schema_migrations.create(conn, checkfirst=True)
                step(conn)
                conn.execute(
                    t.schema_migrations.insert().values(version=version, name=name, applied_at=utcnow())
                )
            applied.append(name)
        return applied

    def dispose(self) -> None:
        self.engine.dispose()
