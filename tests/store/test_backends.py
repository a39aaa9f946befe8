"""Every command works the same on SQLite and PostgreSQL (``backend`` runs each test on both)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, insert, select

from qualcode.cli import cli
from qualcode.project import Project
from qualcode.store import MIGRATIONS, SCHEMA_VERSION, Store, normalize_url, schema as t
from tests.helpers import QA_TRANSCRIPT, write_text


def _run(runner, *args):
    result = runner.invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def _workflow(runner, tmp_path, db, name="study") -> dict:
    root = tmp_path / name
    _run(runner, "init", root, *(["--db", db] if db else []))
    write_text(tmp_path / "in" / "访谈1.txt", QA_TRANSCRIPT)
    write_text(tmp_path / "in" / "访谈2.txt", QA_TRANSCRIPT.replace("互助站", "议事会"))
    _run(runner, "--project", root, "import", tmp_path / "in", "--case", "N街道")
    _run(runner, "--project", root, "autocode")
    out = tmp_path / f"{name}-codings.json"
    _run(runner, "--project", root, "export", "codings", "--format", "json", "-o", out)
    codings = json.loads(out.read_text(encoding="utf-8"))
    for row in codings:
        row.pop("created_at"), row.pop("updated_at")
    return {
        "docs": json.loads(_run(runner, "--project", root, "docs", "list", "--format", "json")),
        "show": {k: v for k, v in json.loads(_run(runner, "--project", root, "docs", "show", "1", "--format", "json")).items()
                 if k not in ("imported_at", "source_path")},
        "codings": codings,
        "info": _run(runner, "--project", root, "db", "info"),
    }


def test_the_same_workflow_on_each_backend(backend, runner, tmp_path):  # noqa: F811
    name, db = backend
    result = _workflow(runner, tmp_path, db)
    assert [d["name"] for d in result["docs"]] == ["访谈1", "访谈2"]
    assert result["show"]["passages"][1]["text"].startswith("我们互助站")
    assert f"backend: {name}" in result["info"]
    assert f"schema version: {SCHEMA_VERSION}" in result["info"]
    assert "password" not in result["info"]


def test_sqlite_and_postgresql_give_identical_exports(runner, tmp_path, pg_url):  # noqa: F811
    lite = _workflow(runner, tmp_path / "a", None)
    pg = _workflow(runner, tmp_path / "b", pg_url)
    assert lite["docs"] == pg["docs"]
    assert lite["show"] == pg["show"]
    assert lite["codings"] == pg["codings"]
    assert lite["codings"], "the workflow should produce codings to compare"


def test_postgresql_from_qualcode_db_or_the_toml(tmp_path, monkeypatch, pg_url):  # noqa: F811
    project = Project.init(tmp_path / "p", db=pg_url)
    assert 'db = "postgresql://' in (project.root / "qualcode.toml").read_text(encoding="utf-8")
    assert project.store.is_postgresql and project.store.url.startswith("postgresql+psycopg://")
    assert not (project.root / "qualcode.db").exists()
    project.close()
    plain = Project.init(tmp_path / "q")  # a SQLite project pointed elsewhere by QUALCODE_DB
    plain.close()
    monkeypatch.setenv("QUALCODE_DB", pg_url)
    again = Project(tmp_path / "q")
    assert again.store.is_postgresql and again.store.schema_version() == SCHEMA_VERSION
    again.close()


def test_url_normalisation():
    assert normalize_url("postgresql://u@h:5/db") == "postgresql+psycopg://u@h:5/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_a_transaction_is_all_or_nothing(backend, tmp_path):  # noqa: F811
    _, db = backend
    project = Project.init(tmp_path / "p", db=db)
    with pytest.raises(RuntimeError):
        with project.store.transaction() as conn:
            conn.execute(insert(t.cases).values(name="N街道"))
            raise RuntimeError("crash mid-way")
    with project.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.cases)).scalar_one() == 0
    project.close()


def test_reopening_applies_no_migration_twice(backend, tmp_path):  # noqa: F811
    _, db = backend
    Project.init(tmp_path / "p", db=db).close()
    project = Project(tmp_path / "p")
    assert project.store.migrate() == []
    with project.store.read() as conn:
        versions = [v for (v,) in conn.execute(select(t.schema_migrations.c.version).order_by(t.schema_migrations.c.version))]
    assert versions == sorted(v for v, _, _ in MIGRATIONS)
    project.close()


def test_unreachable_server_is_one_clear_error(tmp_path, runner):
    root = tmp_path / "p"
    result = runner.invoke(cli, ["init", str(root), "--db", "postgresql://nobody:secret@127.0.0.1:1/nothing"])
    assert result.exit_code == 1
    assert "cannot open the database postgresql+psycopg://nobody:***@127.0.0.1:1/nothing" in result.output
    assert "secret" not in result.output
    assert "Traceback" not in result.output


def test_store_url_hides_nothing_it_needs(pg_url):  # noqa: F811
    store = Store(pg_url)
    store.migrate()
    assert store.schema_version() == SCHEMA_VERSION
    store.dispose()
