"""Shared set-up for the annotation tests: a small coded project, copied per test (cheap)."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from qualcode.cli import cli
from qualcode.project import Project
from tests.helpers import QA_TRANSCRIPT, write_text

# A second interview: different content hash, so merge tests can tell documents apart.
SECOND = (
    "问：小区里的事情怎么商量？\n"
    "答：楼组长先收集大家的意见，然后在议事会上大家商量着办。\n"
    "问：党员起什么作用？\n"
    "答：退休的老党员带头，有事找站长，站长是党员。\n"
)
_TEMPLATES: dict[str, Path] = {}
CODEBOOK = Path(__file__).parents[1] / "fixtures" / "annotate" / "codebook.yaml"


def _template(kind: str, base: Path) -> Path:
    """Build once per session: init, import, autocode (the slow part is jieba)."""
    if kind in _TEMPLATES:
        return _TEMPLATES[kind]
    from qualcode.autocode.run import autocode
    from qualcode.ingest import pipeline

    root = base / f"template-{kind}"
    p = Project.init(root)
    p.use_codebook(CODEBOOK)
    src = base / f"src-{kind}"
    if kind == "theirs":  # the same interviews imported in the other order under other names, plus one more
        files = [write_text(src / "b-议事会.txt", SECOND), write_text(src / "a-互助站.txt", QA_TRANSCRIPT),
                 write_text(src / "c-仅此一份.txt", QA_TRANSCRIPT + "问：还有吗？\n答：没有了。\n")]
    else:
        files = [write_text(src / "互助站访谈.txt", QA_TRANSCRIPT)]
    if kind == "two":
        files.append(write_text(src / "议事会访谈.txt", SECOND))
    pipeline.import_paths(p, files, pipeline.ImportOptions(case=None if kind == "theirs" else "N街道"))
    autocode(p, p.codebook())
    p.close()
    _TEMPLATES[kind] = root
    return root


def coded_project(tmp_path_factory, dest: Path, kind: str = "one") -> Project:
    """A fresh copy of the template project at ``dest`` (documents imported, rules applied)."""
    src = _template(kind, tmp_path_factory.getbasetemp() / "annotate-templates")
    shutil.copytree(src, dest)
    return Project(dest)


def run(runner, project, *args, env=None, input=None):
    return runner.invoke(cli, ["--project", str(project.root), *args], env=env, input=input, catch_exceptions=False)


def db(project):
    return sqlite3.connect(project.root / "qualcode.db")


def codings(project, where: str = "1=1"):
    return db(project).execute(
        f"select id, start, end, code, coder, origin, status from codings where {where} order by id").fetchall()
