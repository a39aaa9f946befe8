import sqlite3

import pytest

from qualcode.errors import ProjectNotFound, QualcodeError
from qualcode.project import CONFIG_NAME, Project, find_root
from qualcode.store import SCHEMA_VERSION, SchemaTooNew, Store


def test_init_creates_the_layout(tmp_path):
    p = Project.init(tmp_path / "study")
    root = tmp_path / "study"
    for name in (CONFIG_NAME, "qualcode.db", "dictionary.txt"):
        assert (root / name).is_file(), name
    for name in ("codebooks", "outputs"):
        assert (root / name).is_dir(), name
    assert p.store.schema_version() == SCHEMA_VERSION
    p.close()


def test_init_refuses_an_existing_project(project):
    with pytest.raises(QualcodeError, match="already a qualcode project"):
        Project.init(project.root)


def test_found_from_a_subdirectory_like_git(project):
    sub = project.root / "outputs" / "deep"
    sub.mkdir(parents=True)
    assert find_root(sub) == project.root


def test_env_variable_names_the_project(project, monkeypatch, tmp_path):
    monkeypatch.setenv("QUALCODE_PROJECT", str(project.root))
    assert find_root() == project.root
    monkeypatch.setenv("QUALCODE_PROJECT", str(tmp_path))
    with pytest.raises(ProjectNotFound, match="QUALCODE_PROJECT="):
        find_root()


def test_no_project_is_a_clear_error(tmp_path):
    with pytest.raises(ProjectNotFound, match="no qualcode project in"):
        find_root(tmp_path)


def test_reopening_does_not_reapply_migrations(project):
    assert project.store.migrate() == []
    con = sqlite3.connect(project.root / "qualcode.db")
    assert con.execute("select count(*) from schema_migrations").fetchone()[0] == SCHEMA_VERSION


def test_a_project_from_a_newer_qualcode_is_refused(project):
    con = sqlite3.connect(project.root / "qualcode.db")
    con.execute("insert into schema_migrations values (99, 'future', '2030-01-01')")
    con.commit()
    with pytest.raises(SchemaTooNew, match="newer than this qualcode"):
        Store(f"sqlite:///{project.root / 'qualcode.db'}").migrate()


def test_coder_comes_from_env_then_settings(project, monkeypatch):
    monkeypatch.setenv("QUALCODE_CODER", "李老师")
    assert project.default_coder == "李老师"
