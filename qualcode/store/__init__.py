"""The project store: one object owning the engine, transactions and schema version."""
from __future__ import annotations

import datetime as _dt
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, func, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.schema import CreateColumn

from qualcode.errors import QualcodeError
from qualcode.store import failures, schema as t

# Ordered migrations: (version, name, function(connection)). Never edit an applied entry;
# append a new one. Version 1 creates every table in ``schema`` as it is now, so later steps
# must be idempotent: use ``create_table_if_missing`` / ``add_column_if_missing``.


def _create_initial(conn) -> None:
    t.metadata.create_all(conn)


def create_table_if_missing(conn, table) -> None:
    table.create(conn, checkfirst=True)


def add_column_if_missing(conn, table, column_name: str) -> None:
    """ALTER TABLE ADD COLUMN for a column declared in ``schema`` but absent from the database."""
    present = {c["name"] for c in inspect(conn).get_columns(table.name)}
    if column_name in present:
        return
    ddl = CreateColumn(table.c[column_name]).compile(dialect=conn.dialect)
    conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN {ddl}'))


def _add_assignments(conn) -> None:
    create_table_if_missing(conn, t.assignments)


def _annotation_state(conn) -> None:
    add_column_if_missing(conn, t.codings, "decided_by")
    add_column_if_missing(conn, t.codings, "decided_at")
    add_column_if_missing(conn, t.audit_log, "undone_at")
    create_table_if_missing(conn, t.review_state)


def _lookup_indexes(conn) -> None:
    for index in t.documents.indexes:
        index.create(conn, checkfirst=True)


def _absence_and_pins(conn) -> None:
    for column in ("absent", "pinned_at", "pinned_by", "pin_note"):
        add_column_if_missing(conn, t.codings, column)


def _team_coding(conn) -> None:
    add_column_if_missing(conn, t.assignments, "blind")
    add_column_if_missing(conn, t.assignments, "closed_at")
    create_table_if_missing(conn, t.adjudications)
    # every decision is its coder's own: a decided proposal belongs to whoever decided it
    k = t.codings
    conn.execute(k.update().where(
        k.c.origin.in_(("rule", "model")), k.c.status != "proposed", k.c.decided_by.is_not(None),
        k.c.decided_by != "", k.c.coder != k.c.decided_by).values(coder=k.c.decided_by))


MIGRATIONS = [(1, "initial schema", _create_initial)]
MIGRATIONS.append((2, "decisions, undo marks and review state for annotation", _annotation_state))
MIGRATIONS.append((3, "document assignments for inter-coder agreement", _add_assignments))
MIGRATIONS.append((4, "index for re-import lookups", _lookup_indexes))
MIGRATIONS.append((5, "negative evidence (absent) and pinned exemplar quotes on codings", _absence_and_pins))
MIGRATIONS.append((6, "decisions per coder, blind assignments and adjudication", _team_coding))


def _document_paths(conn) -> None:
    add_column_if_missing(conn, t.documents, "rel_path")


MIGRATIONS.append((7, "documents are identified by their relative path on re-import", _document_paths))


def _confidence(conn) -> None:
    add_column_if_missing(conn, t.codings, "confidence")


MIGRATIONS.append((8, "the combined scorer's confidence on codings", _confidence))
SCHEMA_VERSION = max(v for v, _, _ in MIGRATIONS)


def normalize_url(url: str) -> str:
    """PostgreSQL URLs use the psycopg 3 driver: postgresql:// and postgres:// become postgresql+psycopg://."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def display_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: show it as given
        return url


# (dialect name, statement key, parameters) -> (SQL, row converter or None)
_DRIVER_STATEMENTS: dict[tuple, tuple] = {}


def driver_statement(dialect, key, build, params: tuple[str, ...]):
    """(SQL, convert) for running a Core statement straight on the DB-API cursor.

    Through ``conn.execute`` SQLAlchemy spends more time per statement than SQLite takes to
    run it (building, caching, processing every row's parameters). Here ``build()`` is
    compiled once per dialect and ``key``, so quoting and paramstyle stay the backend's own
    (``?`` for SQLite, ``%(name)s`` for psycopg), and the driver gets the values as they are:
    only for values that need no bind processing (integers, floats, strings, bytes, None).
    Callers give each row as a tuple in ``params`` order; ``convert(row)`` (when not None)
    turns it into what the driver takes: reordered for ``?``, a dict for named parameters.
    """
    cache_key = (dialect.name, key, params)
    if cache_key not in _DRIVER_STATEMENTS:
        # for_executemany: no implicit RETURNING of the primary key (PostgreSQL adds one).
        compiled = build().compile(dialect=dialect, column_keys=list(params), for_executemany=True)
        names = tuple(compiled.positiontup if compiled.positional else compiled.params)
        # exactly these parameters: a column with a Python-side default, or an expanding IN,
        # would need SQLAlchemy's parameter processing
        if sorted(names) != sorted(params):
            raise AssertionError(f"unexpected parameters {list(names)} for statement {key}")
        if not compiled.positional:
            convert = lambda row: dict(zip(params, row))  # noqa: E731
        elif names != params:
            convert = itemgetter(*(params.index(n) for n in names))  # two or more names, so a tuple
        else:
            convert = None
        _DRIVER_STATEMENTS[cache_key] = (compiled.string, convert)
    return _DRIVER_STATEMENTS[cache_key]


def insert_rows(conn, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT ``rows`` (plain tuples in ``columns`` order) with one DB-API executemany
    (see ``driver_statement``; ``conn.execute(insert(table), dicts)`` spent half of
    autocode's writing time on 47 k proposals processing parameters)."""
    if not rows:
        return

    sql, convert = driver_statement(conn.dialect, ("insert", table.name), lambda: insert(table), columns)
    conn.exec_driver_sql(sql, rows if convert is None else list(map(convert, rows)))


def utcnow() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


class SchemaTooNew(QualcodeError):
    pass


class StoreUnavailable(QualcodeError):
    """The database cannot be reached or its driver is missing."""


class Store:
    """Owns the database connection. ``with store.transaction() as conn:`` is all-or-nothing."""

    def __init__(self, url: str):
        self.url = url = normalize_url(url)
        self.is_sqlite = url.startswith("sqlite")
        self.is_postgresql = url.startswith("postgresql")
        self.read_only = False
        self._checked = False  # the integrity check before the first write (SQLite)
        self._stamp: failures.CheckStamp | None = None  # when the file last passed it (SQLite file)
        kwargs: dict[str, Any] = {"future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
            url = self._sqlite_url(url)
        try:
            self.engine = create_engine(url, **kwargs)
        except ImportError as exc:
            raise StoreUnavailable(f"no database driver for {display_url(url)}: {exc}",
                                   hint="install it: pip install 'psycopg[binary]'") from None
        if self._stamp is not None:
            # closing the last connection checkpoints the WAL into the database file: record
            # the state it leaves, also when the process simply exits (the CLI never closes)
            weakref.finalize(self, _close_engine, self.engine, self._stamp)
        if self.is_sqlite:
            read_only = self.read_only  # not self: the finalizer above keeps the engine alive

            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
                # Autocommit at the driver level: the "begin" hook below issues BEGIN itself,
                # so a write transaction can take SQLite's write lock up front.
                dbapi_conn.isolation_level = None
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                if not read_only:  # a read-only project is read as it is
                    cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

            @event.listens_for(self.engine, "begin")
            def _sqlite_begin(conn):  # pragma: no cover - trivial
                # BEGIN IMMEDIATE for writes: two processes that read then write would otherwise
                # both hold read snapshots and one would fail with "database is locked" instead
                # of waiting its turn (the busy timeout does not apply to a lock upgrade).
                # Reads stay in autocommit (each statement sees the latest commit, as on
                # PostgreSQL's READ COMMITTED), as they were under pysqlite's default.
                if conn.get_execution_options().get("qualcode_write"):
                    conn.exec_driver_sql("BEGIN IMMEDIATE")

    def _sqlite_url(self, url: str) -> str:
        """Check the database file (a 0-byte or foreign file is an error, not a new project);
        a project that cannot be written (read-only folder or file system) is opened read-only,
        so that read commands still work."""
        database = make_url(url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            return url
        failures.check_sqlite_file(Path(database))
        if Path(database).exists() and not failures.writable_dir(Path(database)):
            self.read_only = True
            # immutable: nobody can change a file in a folder we cannot write to from here,
            # and SQLite could not create its -shm file there
            return f"sqlite:///file:{quote(database)}?mode=ro&immutable=1&uri=true"
        self._stamp = failures.CheckStamp(Path(database).resolve())
        return url

    @contextmanager
    def transaction(self) -> Iterator:
        """All-or-nothing; writers are serialised (SQLite) or row-locked as needed (PostgreSQL)."""
        if self.read_only:
            raise failures.DatabaseUnwritable(
                f"the project is read-only ({display_url(self.url)} cannot be written); nothing was changed",
                hint="read commands still work; to change it, copy the project to a folder you can write")
        with self.engine.connect() as conn:
            conn.execution_options(qualcode_write=True)
            trusted = False  # the file is as checked, or as qualcode's own commits left it
            with conn.begin():
                if self.is_sqlite:
                    # under the write lock: no other writer can change the files meanwhile
                    trusted = self._stamp is not None and self._stamp.matches()
                    if not trusted and not self._checked:
                        # at most once per process, before a change: never write into a damaged file
                        problem = failures.integrity_problem(conn)
                        if problem is not None:
                            raise failures.DatabaseDamaged(
                                f"the project database fails its integrity check ({problem}); nothing was changed",
                                hint=failures.RECOVER_HINT)
                        trusted = True
                    self._checked = True
                yield conn
            if trusted and self._stamp is not None:
                self._stamp.record()  # the state our own commit left

    @contextmanager
    def read(self) -> Iterator:
        with self.engine.connect() as conn:
            yield conn

    def schema_version(self) -> int:
        try:
            if not inspect(self.engine).has_table("schema_migrations"):
                return 0
        except Exception as exc:
            explained = failures.explain(exc) if self.is_sqlite else None
            if explained is not None:
                raise explained from None
            if isinstance(exc, OperationalError):
                raise StoreUnavailable(f"cannot open the database {display_url(self.url)}: {exc.orig}",
                                       hint="check the server, the database name and your role (docs/team.md)") from None
            raise
        with self.read() as conn:
            return conn.execute(select(func.max(t.schema_migrations.c.version))).scalar() or 0

    def _applied_versions(self, conn) -> set[int]:
        if not inspect(conn).has_table("schema_migrations"):
            return set()
        return {v for (v,) in conn.execute(select(t.schema_migrations.c.version))}

    def migrate(self) -> list[str]:
        """Bring the schema up to date; returns the names of the migrations applied."""
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"this project uses schema version {current}, newer than this qualcode ({SCHEMA_VERSION})",
                hint="upgrade qualcode to open it",
            )
        applied = []
        with self.read() as conn:
            done = self._applied_versions(conn)  # not just the maximum: versions may land out of order
        for version, name, step in sorted(MIGRATIONS, key=lambda m: m[0]):
            if version in done:
                continue
            with self.transaction() as conn:
                if self.is_postgresql:  # two processes opening a new project: one migrates
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7262001)")
                if version in self._applied_versions(conn):
                    continue
                if version == 1:
                    t.schema_migrations.create(conn, checkfirst=True)
                step(conn)
                conn.execute(
                    t.schema_migrations.insert().values(version=version, name=name, applied_at=utcnow())
                )
            applied.append(name)
        return applied

    def dispose(self) -> None:
        _close_engine(self.engine, self._stamp)


def _close_engine(engine, stamp: failures.CheckStamp | None) -> None:
    """Close the pooled connections; if the files were as qualcode recorded them, record the
    state the closing checkpoint leaves, so that the next command need not check again."""
    trusted = stamp is not None and stamp.matches()
    engine.dispose()
    if trusted and stamp is not None:
        stamp.record()
