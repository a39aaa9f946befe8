"""SQLite's integrity check before a change runs again only when something other than qualcode
may have changed the database file since qualcode last checked it (docs/safety.md)."""
from __future__ import annotations

import gc
import sqlite3

import pytest

from qualcode.cli import cli
from qualcode.ingest.pipeline import ImportOptions, import_paths
from qualcode.store import failures
from tests.helpers import write_text

TRANSCRIPT = "访谈员：社区怎么组织居民？\n受访者：我们社区有党员带头，大家一起商量。\n访谈员：还有呢？\n受访者：每周开会。\n"


@pytest.fixture
def checks(monkeypatch) -> list[str | None]:
    """Every integrity check run, with its result."""
    seen: list[str | None] = []
    real = failures.integrity_problem

    def counted(conn):
        seen.append(real(conn))
        return seen[-1]

    monkeypatch.setattr(failures, "integrity_problem", counted)
    return seen


@pytest.fixture
def imported(project, tmp_path):
    import_paths(project, [write_text(tmp_path / "in" / "访谈.txt", TRANSCRIPT)], ImportOptions())
    project.close()
    return project


def code_add(runner, project, passage):
    result = runner.invoke(cli, ["--project", str(project.root), "code", "add", passage, "governance"])
    gc.collect()  # the command's store closes, as when its process exits
    return result


def test_commands_after_qualcodes_own_changes_skip_the_check(imported, runner, checks):
    assert (imported.root / "qualcode.db-checked").exists()
    for passage in ("1:2", "1:4"):
        result = code_add(runner, imported, passage)
        assert result.exit_code == 0, result.output
    assert checks == []


def test_a_change_made_by_another_program_is_checked_again(imported, runner, checks):
    con = sqlite3.connect(imported.root / "qualcode.db")
    with con:
        con.execute("update documents set name = name")  # any write, not qualcode's
    con.close()
    assert code_add(runner, imported, "1:2").exit_code == 0
    assert code_add(runner, imported, "1:4").exit_code == 0
    assert checks == [None]  # checked (and sound) once, then the stamp holds again


def test_damage_between_commands_is_still_detected(imported, runner, checks):
    assert code_add(runner, imported, "1:2").exit_code == 0
    db = imported.root / "qualcode.db"
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("select rootpage from sqlite_master where name = 'sentences'").fetchone()[0]
    con.close()
    with open(db, "r+b") as damaged:  # same size, same file: only the content changes
        damaged.seek((root - 1) * page_size)
        damaged.write(b"\xff" * 12)
    result = code_add(runner, imported, "1:4")
    assert result.exit_code != 0
    assert "integrity check" in result.output
    assert len(checks) == 1
    con = sqlite3.connect(db)
    assert con.execute("select count(*) from codings").fetchone()[0] == 1  # nothing added


def test_an_unreadable_stamp_only_means_the_check_runs(imported, runner, checks):
    (imported.root / "qualcode.db-checked").write_text("not json", encoding="utf-8")
    assert code_add(runner, imported, "1:2").exit_code == 0
    assert len(checks) == 1
