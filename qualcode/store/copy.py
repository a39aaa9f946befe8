"""Copy a whole project database between backends (SQLite ⇄ PostgreSQL) without loss.

Every table declared in ``schema`` is copied row by row with its ids, in foreign-key order,
inside one transaction on the target; the schema version rows are copied as they are, and
PostgreSQL id sequences are moved past the copied ids so new rows do not collide. The copy
is checked table by table (row counts and content) before it is reported done.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, insert, inspect, select

from qualcode.errors import QualcodeError
from qualcode.store import SCHEMA_VERSION, Store, display_url, schema as t

BATCH = 2000


class CopyError(QualcodeError):
    pass


@dataclass
class CopyReport:
    source: str
    target: str
    schema_version: int
    rows: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        total = sum(self.rows.values())
        return (f"Copied {total} rows in {len(self.rows)} tables (schema version {self.schema_version}) "
                f"from {self.source} to {self.target}")


def _order(table):
    return [c for c in table.primary_key.columns] or list(table.columns)


def table_rows(conn, table) -> list[dict]:
    """All rows of ``table`` as dicts, in primary-key order."""
    return [dict(r._mapping) for r in conn.execute(select(table).order_by(*_order(table)))]


def dump(store: Store) -> dict[str, list[dict]]:
    """Every table's rows in primary-key order (bytes as hex): a backend-neutral snapshot."""
    out = {}
    with store.read() as conn:
        for table in t.metadata.sorted_tables:
            rows = table_rows(conn, table)
            for row in rows:
                for k, v in row.items():
                    if isinstance(v, (bytes, memoryview)):
                        row[k] = bytes(v).hex()
            out[table.name] = rows
    return out


def _check_target_empty(target: Store) -> None:
    with target.read() as conn:
        insp = inspect(conn)
        for name in insp.get_table_names():
            if conn.exec_driver_sql(f'SELECT 1 FROM "{name}" LIMIT 1').first() is not None:
                raise CopyError(
                    f"the target database {display_url(target.url)} is not empty (table {name} has rows)",
                    hint="copy into a new, empty database (one database per project, see docs/team.md)",
                )


def _unknown_tables(source: Store) -> list[str]:
    with source.read() as conn:
        present = set(inspect(conn).get_table_names())
    return sorted(present - set(t.metadata.tables))


def _reset_sequences(conn) -> None:
    """PostgreSQL: serial sequences continue after the largest copied id."""
    for table in t.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, t.Integer) or pk[0].autoincrement is False:
            continue
        seq = conn.exec_driver_sql(f"SELECT pg_get_serial_sequence('{table.name}', '{pk[0].name}')").scalar()
        if seq:
            conn.exec_driver_sql(
                f'SELECT setval(\'{seq}\', COALESCE((SELECT MAX("{pk[0].name}") FROM "{table.name}"), 0) + 1, false)'
            )


def copy_database(source: Store, target_url: str) -> CopyReport:
    """Copy every table of ``source`` into the empty database at ``target_url``."""
    version = source.schema_version()
    if version != SCHEMA_VERSION:
        raise CopyError(f"the source database is at schema version {version}, not {SCHEMA_VERSION}",
                        hint="open the project with this qualcode first so it is migrated")
    unknown = _unknown_tables(source)
    if unknown:
        raise CopyError(f"the source database has tables this qualcode does not know: {', '.join(unknown)}",
                        hint="copy with the qualcode version that created them")
    target = Store(target_url)
    try:
        if target.url == source.url:
            raise CopyError("the target is the project's own database", hint="give another database URL or file")
        _check_target_empty(target)
        report = CopyReport(display_url(source.url), display_url(target.url), version)
        with source.read() as src, target.transaction() as dst:
            t.metadata.create_all(dst)
            for table in t.metadata.sorted_tables:
                n = 0
                result = src.execution_options(yield_per=BATCH).execute(select(table).order_by(*_order(table)))
                for chunk in result.partitions(BATCH):
                    dst.execute(insert(table), [dict(r._mapping) for r in chunk])
                    n += len(chunk)
                report.rows[table.name] = n
            if target.is_postgresql:
                _reset_sequences(dst)
            for table in t.metadata.sorted_tables:
                copied = dst.execute(select(func.count()).select_from(table)).scalar_one()
                if copied != report.rows[table.name]:  # pragma: no cover - a driver bug
                    raise CopyError(f"table {table.name}: {copied} rows arrived, {report.rows[table.name]} sent")
        if dump(source) != dump(target):
            raise CopyError("the copy differs from the source", hint="the target was left as written; drop it and retry")
        return report
    finally:
        target.dispose()
