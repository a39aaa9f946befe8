"""PostgreSQL for tests: one fresh database per test, made on the server named by QUALCODE_TEST_PG.

``QUALCODE_TEST_PG`` is a URL of a database on a server where its role may create databases
(``scripts/pg-test-server start`` prints one). Without it, tests that need PostgreSQL are
skipped with the reason, except in CI (``CI=true``), where they fail: CI must exercise both
backends. Import the fixtures into a test module:
"""
from __future__ import annotations

import os
import uuid

import pytest

ENV = "QUALCODE_TEST_PG"
BACKENDS = ["sqlite", "postgresql"]


def _admin_url() -> str:
    url = os.environ.get(ENV, "").strip()
    if not url:
        reason = (f"{ENV} is not set: no PostgreSQL server to test against "
                  f"(run: eval \"$(scripts/pg-test-server start)\")")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI must run the PostgreSQL tests (.ci/run starts a server)", pytrace=False)
        pytest.skip(reason)
    return url


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def pg_url():
    """URL (postgresql://…) of a new, empty database, dropped after the test."""
    import psycopg

    admin = _admin_url()
    name = f"qc_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\' LC_COLLATE \'C\' LC_CTYPE \'C\'')
    url = _with_database(_libpq(admin), name)
    try:
        yield url
    finally:
        with psycopg.connect(_libpq(admin), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def backend(request):
    """``(name, db)``: the ``--db`` for a new project on each backend (None = the default SQLite file)."""
    if request.param == "sqlite":
        return "sqlite", None
    return "postgresql", request.getfixturevalue("pg_url")
