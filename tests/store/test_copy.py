"""`qualcode db copy`: SQLite → PostgreSQL → SQLite without loss (tables, ids, schema version)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import insert

from qualcode.cli import cli
from qualcode.project import Project
from qualcode.store import SCHEMA_VERSION, Store, schema as t, utcnow
from qualcode.store.copy import CopyError, copy_database, dump
from tests.helpers import QA_TRANSCRIPT, write_text


def _exports(runner, root, tmp_path, tag) -> dict:
    out = tmp_path / f"{tag}.json"
    result = runner.invoke(cli, ["--project", str(root), "export", "codings", "--format", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    show = runner.invoke(cli, ["--project", str(root), "docs", "show", "1", "--format", "json"])
    return {"codings": json.loads(out.read_text(encoding="utf-8")), "show": json.loads(show.output)}


@pytest.fixture
def study(tmp_path, runner):
    root = tmp_path / "study"
    assert runner.invoke(cli, ["init", str(root)]).exit_code == 0
    write_text(tmp_path / "in" / "访谈𠮷.txt", QA_TRANSCRIPT + "答：表情😀也要保留。\n")
    assert runner.invoke(cli, ["--project", str(root), "import", str(tmp_path / "in")]).exit_code == 0
    project = Project(root)  # codings of every kind, with non-BMP text in the document
    now = utcnow()
    with project.store.transaction() as conn:
        for i, (status, origin) in enumerate([("proposed", "rule"), ("accepted", "manual"), ("rejected", "rule")]):
            conn.execute(insert(t.codings).values(
                document_id=1, start=20 + i, end=40 + i, code=f"code{i}", coder="王", origin=origin, status=status,
                evidence=json.dumps({"terms": [["互助站", 22, 25]]}, ensure_ascii=False), created_at=now, updated_at=now))
    project.close()
    assert runner.invoke(cli, ["--project", str(root), "assign", "1", "--coder", "王"]).exit_code == 0
    return root


def test_sqlite_to_postgresql_and_back(study, runner, tmp_path, pg_url):  # noqa: F811
    before = _exports(runner, study, tmp_path, "before")
    result = runner.invoke(cli, ["--project", str(study), "db", "copy", "--to", pg_url, "--use"])
    assert result.exit_code == 0, result.output
    assert f"(schema version {SCHEMA_VERSION})" in result.output
    on_pg = Project(study)
    assert on_pg.store.is_postgresql
    assert dump(on_pg.store) == dump(Store(f"sqlite:///{study / 'qualcode.db'}"))  # every table, every id
    assert _exports(runner, study, tmp_path, "pg") == before
    # new rows get ids after the copied ones (PostgreSQL sequences were moved on)
    last_coding = max(r["id"] for r in before["codings"])
    now = utcnow()
    with on_pg.store.transaction() as conn:
        new_id = conn.execute(insert(t.codings).values(
            document_id=1, start=0, end=1, code="x", coder="王", origin="manual", status="accepted",
            created_at=now, updated_at=now).returning(t.codings.c.id)).scalar_one()
    assert new_id > last_coding
    back = tmp_path / "back.db"
    result = runner.invoke(cli, ["--project", str(study), "db", "copy", "--to", str(back), "--use"])
    assert result.exit_code == 0, result.output
    assert dump(Store(f"sqlite:///{back}")) == dump(on_pg.store)
    assert Project(study).store.url == f"sqlite:///{back}"
    on_pg.close()


def test_the_target_must_be_empty(study, tmp_path):
    project = Project(study)
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    report = copy_database(project.store, target)
    assert report.rows["documents"] == 1 and report.rows["assignments"] == 1
    assert report.rows["schema_migrations"] == len(dump(project.store)["schema_migrations"])
    with pytest.raises(CopyError, match="is not empty"):
        copy_database(project.store, target)
    with pytest.raises(CopyError, match="own database"):
        copy_database(project.store, project.store.url)
    project.close()


def test_copy_into_postgresql_keeps_sequences_usable(study, pg_url):  # noqa: F811
    project = Project(study)
    copy_database(project.store, pg_url)
    target = Store(pg_url)
    n_codings = len(dump(project.store)["codings"])
    now = utcnow()
    with target.transaction() as conn:
        new = conn.execute(insert(t.codings).values(
            document_id=1, start=0, end=1, code="x", coder="王", origin="manual", status="accepted",
            created_at=now, updated_at=now).returning(t.codings.c.id)).scalar_one()
    assert new > max([0] + [r["id"] for r in dump(project.store)["codings"]])
    assert len(dump(target)["codings"]) == n_codings + 1
    target.dispose()
    project.close()
